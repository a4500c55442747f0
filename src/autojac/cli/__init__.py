"""``autojac.cli``: the ``autojac`` command (derivative calculator, graph pictures, the seeds' tour).

``main(argv)`` is the console script; ``python -m autojac`` runs it too.
"""

from .main import build_parser, main

__all__ = ["main", "build_parser"]
