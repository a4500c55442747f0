"""``autojac tour`` (en, zh), the console script in pyproject.toml, ``python -m autojac`` and dev.py's walk."""

from __future__ import annotations

import io
import re
import runpy
import shlex
from pathlib import Path

from autojac.cli import build_parser
from autojac.cli.tour import SECTIONS, run_tour

from ._run import autojac, autojac_in_process, autojac_many

ROOT = Path(__file__).resolve().parents[2]


def test_tour_shows_code_results_formulas_and_checks_in_english_and_chinese() -> None:
    en, zh = autojac_many([("tour", "--no-color"), ("tour", "--lang", "zh", "--no-color")])
    assert en.returncode == 0 and zh.returncode == 0, (en.stderr, zh.stderr)
    n = sum(len(s.steps) for s in SECTIONS)
    assert f"{n} steps, {n} formulas checked numerically." in en.stdout
    assert f"共 {n} 步, {n} 个公式已数值验证。" in zh.stdout
    for text in (en.stdout, zh.stdout):
        assert "\x1b[" not in text  # --no-color (and not a terminal)
        assert ">>> u = y.detach()" in text  # the code
        assert "tensor([0., 1., 4., 9.]) tensor([0., 1., 4., 9.])" in text  # seed 004 In[46]/In[47]
        assert "tensor([ 0.,  3., 12., 27.])" in text  # seed 004 In[44]
        assert "tensor([[4., 0.],\n        [3., 2.],\n        [0., 6.]])" in text  # seed 004 In[22]
        assert "grad of x:  tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])" in text  # seed 003
        assert "CHECK FAILED" not in text and "验证失败" not in text
    assert "formula: detaching the computation graph: u = y.detach() is a constant" in en.stdout
    assert "J = diag(2x)" in en.stdout
    assert "变量之间没有交叉耦合关系，因此 jacobian 是对角矩阵" in zh.stdout  # the seed's own words
    assert "求a的第一行梯度" in zh.stdout
    assert "calculator: autojac graph" in en.stdout and "计算器: autojac graph" in zh.stdout
    assert "    |   `-. detach() of y\n" in en.stdout  # the graph of seed 004's detach example, drawn


def test_every_tour_check_holds_and_every_calculator_hint_runs() -> None:
    out = io.StringIO()
    assert run_tour("en", color=False, out=out) == 0
    hints = [s.try_it for sec in SECTIONS for s in sec.steps if s.try_it]
    assert len(hints) >= 8
    parser = build_parser()
    for hint in hints:
        argv = shlex.split(hint)[1:]
        parser.parse_args(argv)
        p = autojac_in_process(*argv)
        assert p.returncode == 0, (hint, p.stderr)


def _console_scripts(text: str) -> dict[str, str]:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # 3.10: read the one table by hand
        table = re.search(r"^\[project\.scripts\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S).group(1)
        return dict(re.findall(r'^(\S+)\s*=\s*"([^"]+)"', table, flags=re.M))
    return tomllib.loads(text)["project"]["scripts"]


def test_console_script_is_declared_and_resolves() -> None:
    scripts = _console_scripts((ROOT / "pyproject.toml").read_text())
    assert scripts["autojac"] == "autojac.cli:main"
    module, _, attr = scripts["autojac"].partition(":")
    main = getattr(__import__(module, fromlist=[attr]), attr)
    assert callable(main)
    assert main(["tour", "--no-color"]) == 0


def test_python_dash_m_autojac_usage_and_help() -> None:
    p = autojac("--help")
    assert p.returncode == 0 and "grad" in p.stdout and "tour" in p.stdout and "graph" in p.stdout
    p = autojac()
    assert p.returncode == 2 and "usage: autojac" in p.stderr


def test_dev_walk_runs_the_tour_and_calculator_examples(monkeypatch) -> None:
    dev = runpy.run_path(str(ROOT / "dev.py"))
    walk = dev["WALK"]
    assert walk[0] == ("tour",) and len(walk) >= 2
    for args in walk[1:]:
        p = autojac_in_process(*args)
        assert p.returncode == 0, (args, p.stderr)
    assert "MulBackward0" in autojac_in_process(*walk[2]).stdout
    ran = []
    monkeypatch.setitem(dev["main"].__globals__, "ensure_env", lambda extra: None)
    monkeypatch.setitem(dev["main"].__globals__, "_run", lambda *cmd: ran.append(cmd))
    assert dev["main"](["walk"]) == 0
    assert [c[1:3] for c in ran] == [("-m", "autojac")] * len(walk)
    assert [c[3:] for c in ran] == [tuple(a) for a in walk]
    ran.clear()
    dev["main"](["walk", "tour", "--lang", "zh"])
    assert ran[0][3:] == ("tour", "--lang", "zh")
