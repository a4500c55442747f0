"""examples/seeds_walk.py, the walk through every seed example, runs and prints what the seeds printed."""

from __future__ import annotations

import contextlib
import io
import runpy
from pathlib import Path

WALK = Path(__file__).resolve().parents[2] / "examples" / "seeds_walk.py"


def test_walk_prints_the_seeds_outputs() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(WALK), run_name="__main__")
    text = out.getvalue()
    expected_in_order = [
        "tensor([-1.1797, -1.2804, -2.7275], grad_fn=<AddBackward0>)",  # seed 000 In[7]
        "grad_fn=<MmBackward0>",  # seed 000 In[13]
        "tensor([[4., 0.],\n        [0., 6.]], grad_fn=<CopySlices>)",  # seed 002
        "grad of x:  tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])",  # seed 003
        "tensor([ 0.2000,  2.0000, 20.0000])",
        "y.backward(): grad can be implicitly created only for scalar outputs",  # seed 004 In[4]
        "tensor([ 0.,  6., 16.])",
        "tensor([[0.8823, 0.9150, 0.3829, 0.9593],",  # seed 004 In[8], after manual_seed(42)
        "(tensor([10., 22.]),)",
        "tensor([[4., 0.],\n        [3., 2.],\n        [0., 6.]])",
        "tensor([0., 1., 2., 3.], grad_fn=<MulBackward0>)",
    ]
    pos = 0
    for piece in expected_in_order:
        found = text.find(piece, pos)
        assert found >= 0, piece
        pos = found + len(piece)
    assert text.count("[0., 0., 0., 6.]])") >= 3  # the hessians of f(x), f_3 and partial(f_i, i=3)
