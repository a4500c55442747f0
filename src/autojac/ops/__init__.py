"""The primitive table, one module per op family (Tensor's methods are assigned in ``_tensor_methods``)."""

from . import creation, elementwise, trig, operators, index, matmul, reduce, shape  # noqa: F401
from . import complex  # noqa: F401,E402  (after elementwise and shape: their rules import it lazily)
