"""``autojac.executors``: Jacobians too big for one pass, one machine's memory, or one machine.

The chunked path behind the ``chunk_size``, ``max_memory``, ``out``, ``progress``,
``executor`` and ``retries`` options of ``func.jacrev``/``jacfwd``/``hessian`` and
``autograd.functional.jacobian``/``hessian``:

* ``max_memory`` (bytes, or ``"2GB"``): the chunk is chosen from the recorded graph (the
  arrays it saves are paid once, its intermediates once per basis vector in the chunk);
* ``out``: a preallocated array or ``numpy.memmap`` the chunks are written into;
* ``progress``: a tqdm bar for long Jacobians;
* ``executor``: any ``concurrent.futures.Executor`` (process pool, Dask, Ray); see
  docs/DISTRIBUTED.md.

It sits beside the transforms: it depends on the core (graph, engine, dual levels) only.

>>> import autojac
>>> from autojac.func import jacrev
>>> x = autojac.linspace(0., 1., 5, dtype=autojac.float64)
>>> J = jacrev(lambda x: x.sin() * x.sum(), max_memory="1MB", chunk_size=2)(x)
>>> bool(autojac.allclose(J, jacrev(lambda x: x.sin() * x.sum())(x)))
True
"""

from ._blocks import ForwardTask, ReverseTask, basis_rows, forward_cols, reverse_rows
from ._jacobian import check_out, jacobian_2d, split_2d, wants_chunking
from ._memory import check_chunk_size, choose_chunk, graph_footprint, parse_memory
from ._progress import progress_bar
from ._remote import run_chunk

__all__ = ["parse_memory", "graph_footprint", "choose_chunk", "jacobian_2d", "split_2d"]
