"""Differential fuzzing: random programs run in autojac and in PyTorch 2.13 must agree.

Each example is a random program (``programs.generate``): 1-3 inputs of random shapes
(broadcasting, size-0 and size-1 dims, float32/float64), up to 20 ops from the op table
(elementwise math on safe domains, arithmetic with scalars and broadcasting, reductions,
shape and index ops, cat/stack, matmul, detach, in-place writes to intermediates and through
views) and 1-3 outputs. ``check.check_program`` compares errors, values, gradients,
``.grad`` after backward, and in float64 the Jacobian (reverse and forward mode), the Hessian
(both outer strategies) and a third derivative.

CI runs the "ci" Hypothesis profile: derandomized (the same programs on every run), a budget of
a couple of minutes. ``pytest tests/fuzz --fuzz-long`` runs the "long" profile: many more
programs, a fresh random draw each run. A failure prints the program (``note``) as source;
make it a regression test in ``test_regressions.py``. For hunting with every failure collected
and minimized, see ``hunt.py``.
"""

from __future__ import annotations

import warnings
from collections import Counter

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from .check import STATS, check_program
from .programs import DrawChooser, Program, generate

_COMMON = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz-ci", derandomize=True, max_examples=11_000, **_COMMON)
settings.register_profile("fuzz-long", derandomize=False, max_examples=100_000, **_COMMON)


@st.composite
def programs(draw, max_steps: int) -> Program:
    return generate(DrawChooser(draw), max_steps)


def _fuzz(request, max_steps: int, share: float) -> Counter:
    """Run ``share`` of the profile's budget of programs of up to ``max_steps`` ops; returns what
    was checked."""
    profile = settings.get_profile("fuzz-long" if request.config.getoption("--fuzz-long") else "fuzz-ci")
    before = Counter(STATS)

    @settings(profile, max_examples=int(profile.max_examples * share))
    @given(programs(max_steps))
    def run(prog: Program) -> None:
        note(prog.source())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's and NumPy's warnings on degenerate programs
            check_program(prog)

    run()
    return Counter(STATS) - before


def _assert_coverage(done: Counter) -> None:
    """The budget reached every stage of the comparison, not just the values."""
    n = done["programs"]
    assert n >= 100, dict(done)
    for stage in ("grads compared", "jacobians compared", "hessians compared", "third derivatives compared"):
        assert done[stage] > n // 5, (stage, dict(done))
    assert sum(v for k, v in done.items() if k.startswith("raised in both")) > n // 50, dict(done)


def test_short_programs(request):
    """Up to 5 ops: many small programs, where shapes and edge cases vary most per second."""
    _assert_coverage(_fuzz(request, max_steps=5, share=0.5))


def test_long_programs(request):
    """Up to 20 ops: compositions, in-place writes interleaved with views and detach."""
    _assert_coverage(_fuzz(request, max_steps=20, share=0.5))
