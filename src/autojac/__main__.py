"""``python -m autojac``: the ``autojac`` command (see ``autojac.cli``)."""

import sys

from autojac.cli import main

if __name__ == "__main__":
    sys.exit(main())
