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

The machinery lives in ``autojac._jacobian`` (the transforms layer, below ``func`` and
``autograd.functional``, which call it); this package is its public face.

>>> import autojac
>>> from autojac.func import jacrev
>>> x = autojac.linspace(0., 1., 5, dtype=autojac.float64)
>>> J = jacrev(lambda x: x.sin() * x.sum(), max_memory="1MB", chunk_size=2)(x)
>>> bool(autojac.allclose(J, jacrev(lambda x: x.sin() * x.sum())(x)))
True
"""

from .._jacobian import (
    ForwardTask,
    ReverseTask,
    basis_rows,
    choose_chunk,
    forward_cols,
    graph_footprint,
    jacobian_2d,
    parse_memory,
    reverse_rows,
    run_chunk,
    split_2d,
)

__all__ = ["parse_memory", "graph_footprint", "choose_chunk", "jacobian_2d", "split_2d"]
