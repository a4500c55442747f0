"""Memory budgets: parse ``max_memory``, measure a recorded graph, choose the chunk size.

A batched pass over ``c`` basis vectors multiplies every intermediate of the graph by ``c``
(each carries a cotangent or tangent with a leading dimension ``c``), while the values the
forward saved are paid once. So a chunk costs about ``saved + c * per_row`` bytes, with
``per_row`` the summed sizes of the graph's intermediates (plus the basis row and the result
row), and the largest ``c`` under the budget is ``(budget - saved) // per_row``.

The budget is an upper bound, not a target: a batched pass over small arrays is bound by
memory bandwidth, so without an explicit ``chunk_size`` the chunk is also kept small enough
for the largest intermediate to stay cache-sized (``CACHE_BYTES``), yet big enough that the
saved arrays, read again by every pass, cost less than the pass's own traffic.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence

import numpy as np

from .._tensor import Tensor

CACHE_BYTES = 2 * 2 ** 20  # the largest intermediate of a chunk, when the budget leaves the choice
_UNITS = {"": 1, "k": 10 ** 3, "m": 10 ** 6, "g": 10 ** 9, "t": 10 ** 12, "p": 10 ** 15}
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgtp])(i)?)?(b|bytes?)?\s*$", re.IGNORECASE)


def parse_memory(value, argname: str = "max_memory") -> int | None:
    """Bytes from an int or a string such as ``"2GB"``, ``"512MiB"`` or ``"1.5 GB"`` (None stays None).

    Decimal units (kB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) of 1024.

    >>> parse_memory("1.5 GB"), parse_memory("512MiB"), parse_memory(4096)
    (1500000000, 536870912, 4096)
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, np.integer, np.floating)):
        raise TypeError(f"{argname} must be an int number of bytes or a string like '2GB', got "
                        f"{type(value).__name__}")
    if isinstance(value, str):
        m = _MEMORY_RE.match(value)
        if m is None:
            raise ValueError(f"{argname}: could not parse {value!r}; expected a number of bytes or a string "
                             "like '2GB', '512MiB' or '1.5 GB'")
        number, prefix, binary, _ = m.groups()
        prefix = (prefix or "").lower()
        scale = 1024 ** list(_UNITS).index(prefix) if binary else _UNITS[prefix]
        nbytes = float(number) * scale
    else:
        nbytes = float(value)
    if not math.isfinite(nbytes) or nbytes < 1:
        raise ValueError(f"{argname} must be a positive number of bytes, got {value!r}")
    return int(nbytes)


def _numel(ans) -> int:
    """Elements of a node's output(s): an array, a tuple of arrays, or a shape."""
    if isinstance(ans, np.ndarray):
        return ans.size
    if isinstance(ans, tuple):
        if all(isinstance(a, (int, np.integer)) for a in ans):
            return math.prod(ans)
        return sum(_numel(a) for a in ans)
    return 0


def graph_footprint(roots: Sequence[Tensor]) -> tuple[int, int, int]:
    """``(saved_bytes, elements, largest)`` of the graph behind ``roots``: the bytes of the arrays
    its nodes keep (each counted once), the summed elements of all node outputs (what a batched
    pass multiplies by its batch size) and the largest single output (a rule's temporaries)."""
    stack, seen, arrays = [], set(), set()
    saved = elements = largest = 0

    def keep(arr) -> None:
        nonlocal saved
        if isinstance(arr, np.ndarray) and id(arr) not in arrays:
            arrays.add(id(arr))
            saved += arr.nbytes

    for t in roots:
        if isinstance(t, Tensor) and t.grad_fn is not None and t.grad_fn not in seen:
            seen.add(t.grad_fn)
            stack.append(t.grad_fn)
    while stack:
        node = stack.pop()
        ans = getattr(node, "ans", None)
        k = _numel(ans)
        elements += k
        largest = max(largest, k)
        for a in (ans if isinstance(ans, tuple) else (ans,)):
            keep(a)
        for x in getattr(node, "inputs", None) or ():
            if isinstance(x, Tensor):
                keep(x._data)
        for e in getattr(node, "next", None) or ():
            if e is not None and not isinstance(e, Tensor) and e not in seen:
                seen.add(e)
                stack.append(e)
    return saved, elements, largest


def choose_chunk(api: str, total: int, chunk_size: int | None, max_memory: int | None,
                 roots: Sequence[Tensor] = (), row_elements: int = 0, itemsize: int = 8,
                 prefer_cache: bool = True) -> int:
    """Basis vectors per batched pass: ``chunk_size`` if given, else all ``total``, capped by
    ``max_memory`` through the footprint of the graph behind ``roots``. ``row_elements`` are
    the elements each basis vector adds outside the graph (its basis row, its result row).
    With a budget and no ``chunk_size``, a cache-sized chunk is preferred (module docstring)
    unless ``prefer_cache`` is False (the most rows the budget allows)."""
    step = total if chunk_size is None else min(chunk_size, total)
    if max_memory is None or total == 0:
        return max(step, 1)
    saved, elements, largest = graph_footprint(roots)
    per_row = itemsize * (elements + 2 * largest + row_elements)
    fit = (max_memory - saved) // max(per_row, 1)
    if fit < 1:
        warnings.warn(f"{api}: max_memory={max_memory} bytes is below what one row needs ({saved} bytes saved by "
                      f"the forward + {per_row} bytes per row); computing row by row", stacklevel=3)
        fit = 1
    if chunk_size is None and prefer_cache:
        cache_rows = CACHE_BYTES // max(itemsize * largest, 1)
        reread_rows = -(-4 * saved // max(per_row, 1))  # passes re-read what the forward saved
        step = min(step, max(cache_rows, reread_rows, 1))
    return max(1, min(step, fit))


def check_chunk_size(chunk_size, api: str) -> None:
    """PyTorch's check of ``chunk_size`` (an int > 0, or None)."""
    if chunk_size is None:
        return
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
        raise TypeError(f"{api}: `chunk_size` should be an int, got {type(chunk_size).__name__}")
    if chunk_size <= 0:
        raise ValueError(f"{api}: `chunk_size` should be greater than 0.")
