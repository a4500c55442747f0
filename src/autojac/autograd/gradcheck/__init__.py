"""``gradcheck`` and ``gradgradcheck``: derivatives checked against finite differences.

Same arguments, checks and messages as ``torch.autograd.gradcheck``; underneath:

- the numerical Jacobian is a central difference, accumulated in float64, perturbing one
  input element at a time (``fast_mode``: the whole input along a random direction ``u``);
- the analytical Jacobian is one backward pass per output with the identity as a batch of
  cotangents (``is_grads_batched``), and with ``check_forward_ad`` one forward pass per input
  with the identity as a batch of tangents, instead of a Python loop over rows. Should the
  batched pass disagree with the numerical Jacobian, the rows are recomputed one by one
  (PyTorch's method): a rule that is right row by row but wrong under batching passes, as in
  PyTorch without ``check_batched_grad``, with a warning (``autograd.functional.jacobian``
  relies on batching);
- ``fast_mode`` compares the scalars ``v^T J u`` for random unit vectors ``u``, ``v`` drawn
  exactly as PyTorch draws them (its default-seeded generator), so verdicts agree.

Complex inputs and outputs are not supported.

>>> import autojac
>>> from autojac.autograd import gradcheck
>>> x = autojac.tensor([0.5, -1.0, 2.0], dtype=autojac.float64, requires_grad=True)
>>> gradcheck(lambda t: (t.sin() * t).sum(), (x,))
True
"""

from ._common import GradcheckError
from ._check import gradcheck, gradgradcheck

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
