"""The primitive table, one module per op family. Importing it attaches Tensor methods."""

from . import creation, elementwise, index, matmul, reduce, shape  # noqa: F401
