"""The chunk loop shared by ``func.jacrev``/``jacfwd``/``hessian`` and ``autograd.functional``.

A front end traces the function once, then calls ``jacobian_2d`` with the flat outputs and
inputs; it gets the flattened Jacobian ``(total output numel, total input numel)`` as one
NumPy array (``out`` itself when given), filled chunk by chunk: locally from the recorded
graph (reverse mode) or by re-running the function on duals (forward mode), or on an
executor's workers, which rebuild the graph for their chunk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .._tensor import Tensor
from ._blocks import ForwardTask, ReverseTask, forward_cols, reverse_rows
from ._plan import check_chunk_size, choose_chunk, parse_memory
from ._progress import progress_bar
from ._remote import check_executor, check_retries, run_remote

REMOTE_CHUNKS = 16  # chunks per job on an executor when neither chunk_size nor max_memory says


def wants_chunking(chunk_size, max_memory, out, executor) -> bool:
    """Whether any option of the chunked path was given (else a front end keeps its one-pass path)."""
    return chunk_size is not None or max_memory is not None or out is not None or executor is not None


def check_out(out, api: str, shape: tuple, rows: int, cols: int) -> np.ndarray:
    """``out`` as a writable 2-D ``(rows, cols)`` view; it must be shaped ``shape`` or ``(rows, cols)``."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{api}: out must be a numpy.ndarray or numpy.memmap, got {type(out).__name__}")
    if tuple(out.shape) not in (tuple(shape), (rows, cols)):
        raise ValueError(f"{api}: out has shape {tuple(out.shape)}, expected the Jacobian's shape {tuple(shape)} "
                         f"or its flattened shape {(rows, cols)}")
    if out.dtype.kind not in "fc":
        raise TypeError(f"{api}: out must have a floating point dtype, got {out.dtype}")
    if not out.flags.writeable or not out.flags.c_contiguous:
        raise ValueError(f"{api}: out must be a writable C-contiguous array (a numpy.memmap opened with mode 'w+' "
                         "or 'r+' is)")
    return out.reshape(rows, cols)


def jacobian_2d(api: str, mode: str, fn: Callable, primals: Sequence[Tensor], outs: Sequence[Tensor],
                ins: Sequence[Tensor] | None, *, chunk_size=None, max_memory=None, out=None,
                progress=None, executor=None, retries: int = 1) -> np.ndarray:
    """The flattened Jacobian of ``fn`` (flat input tensors -> list of output tensors) at ``primals``.

    ``outs`` are ``fn``'s outputs from a trace whose graph starts at ``ins`` (tensors requiring
    grad, aliases of ``primals``): reverse mode pulls its rows back through that graph, and
    both modes size the chunk from it under ``max_memory``. Forward mode fills columns.
    Returns ``out`` (reshaped to 2-D when given the Jacobian's full shape, as a view) or a new
    array.
    """
    check_chunk_size(chunk_size, api)
    budget = parse_memory(max_memory)
    retries = check_retries(retries, api)
    reverse = mode == "reverse"
    if executor is not None:
        check_executor(executor, api, forward_mode=not reverse)
    rows = sum(o._data.size for o in outs)
    cols = sum(p._data.size for p in primals)
    total, width = (rows, cols) if reverse else (cols, rows)
    dtype = np.result_type(*[t._data.dtype for t in (ins if reverse else outs)]) if total * width else np.float64
    out2d = None
    if out is not None:
        if len(outs) != 1 or len(primals) != 1:
            raise ValueError(f"{api}: out= holds the Jacobian of one output w.r.t. one input; got {len(outs)} "
                             f"output(s) and {len(primals)} input(s)")
        out2d = check_out(out, api, tuple(outs[0]._data.shape) + tuple(primals[0]._data.shape), rows, cols)
    if chunk_size is None and budget is None and executor is not None:
        chunk_size = max(1, math.ceil(total / REMOTE_CHUNKS))
    plan = (api, total, chunk_size, budget, outs, rows + 2 * cols, np.dtype(dtype).itemsize)
    chunk = passes = choose_chunk(*plan)
    if executor is not None and chunk_size is None:
        # a task costs a forward pass and a round trip: give it many rows (as many as the budget allows,
        # at most total / REMOTE_CHUNKS), computed on the worker in passes of the cache-sized chunk
        chunk = max(passes, min(choose_chunk(*plan, prefer_cache=False), math.ceil(total / REMOTE_CHUNKS)))
    if out2d is None:
        out2d = np.empty((rows, cols), dtype)
    ranges = [(s, min(s + chunk, total)) for s in range(0, total, chunk)]
    unit = "row" if reverse else "column"

    def put(s: int, e: int, block: np.ndarray) -> None:
        if reverse:
            out2d[s:e] = block
        else:
            out2d[:, s:e] = block.T

    bar = progress_bar(progress, total, len(ranges), api, unit)
    try:
        if executor is None:
            for s, e in ranges:
                put(s, e, reverse_rows(outs, ins, s, e) if reverse else forward_cols(fn, primals, s, e, dtype))
                bar.update(e - s)
        else:
            task = (ReverseTask if reverse else ForwardTask)(fn, [p._data for p in primals], passes)

            def put_and_count(s: int, e: int, block: np.ndarray) -> None:
                put(s, e, block)
                bar.update(e - s)

            run_remote(api, executor, task, ranges, retries, put_and_count, width, unit)
    finally:
        bar.close()
    if isinstance(out, np.memmap):
        out.flush()
    return out2d


def split_2d(jac: np.ndarray, outs: Sequence[Tensor], ins: Sequence[Tensor], mode: str) -> list[list[np.ndarray]]:
    """``jac`` (flattened, outputs x inputs) -> ``blocks[i][j]`` shaped ``outs[i].shape + ins[j].shape``.
    A single block is a view; several are copies in the dtype each would have had alone (the
    input's in reverse mode, the output's in forward mode)."""
    out_shapes = [o._data.shape for o in outs]
    in_shapes = [x._data.shape for x in ins]
    ro = np.cumsum([0] + [math.prod(s) for s in out_shapes])
    ci = np.cumsum([0] + [math.prod(s) for s in in_shapes])
    blocks = []
    for i, os_ in enumerate(out_shapes):
        row = []
        for j, is_ in enumerate(in_shapes):
            b = jac[ro[i]:ro[i + 1], ci[j]:ci[j + 1]]
            if len(out_shapes) * len(in_shapes) > 1:
                b = np.array(b, dtype=(ins[j] if mode == "reverse" else outs[i])._data.dtype)
            row.append(b.reshape(tuple(os_) + tuple(is_)))
        blocks.append(row)
    return blocks
