"""The README's calculator session prints what the README says, and docs/make_pictures.py draws its pictures."""

from __future__ import annotations

import re
import runpy
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

from ._run import autojac_in_process

ROOT = Path(__file__).resolve().parents[2]


def test_readme_calculator_session_is_what_the_command_prints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [session] = re.findall(r"```console\n(.*?)```", readme, flags=re.S)
    runs = re.split(r"^\$ ", session, flags=re.M)[1:]
    assert len(runs) == 3
    for run in runs:
        command, _, expected = run.partition("\n")
        argv = shlex.split(command)
        assert argv[0] == "autojac"
        p = autojac_in_process(*argv[1:])
        assert p.returncode == 0, p.stderr
        assert p.stdout.rstrip("\n") == expected.rstrip("\n"), command


def test_make_pictures_draws_the_readme_pictures(tmp_path: Path) -> None:
    import matplotlib.image

    make = runpy.run_path(str(ROOT / "docs" / "make_pictures.py"))["make"]
    svg, png = make(tmp_path)
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert "detach()" in svg.read_text()
    assert matplotlib.image.imread(png).shape[0] > 100
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for p in (svg, png):
        assert f"docs/img/{p.name}" in readme and (ROOT / "docs" / "img" / p.name).stat().st_size > 1000
