"""Jacobians in chunks: the machinery behind the ``chunk_size``, ``max_memory``, ``out``,
``progress``, ``executor`` and ``retries`` options of ``func.jacrev``/``jacfwd``/``hessian``
and ``autograd.functional.jacobian``/``hessian``.

It sits in the transforms layer, below both front ends (they call it) and above the core and
the ops (it calls them): the identity basis (``_basis``), blocks of rows or columns
(``_blocks``), the chunk planner that sizes chunks under a memory budget (``_plan``), the
chunk loop (``_chunked``), chunks on an executor's workers (``_remote``) and progress bars
(``_progress``). ``autojac.executors`` is its public face.
"""

from ._basis import basis_rows
from ._blocks import ForwardTask, ReverseTask, forward_cols, reverse_rows
from ._chunked import check_out, jacobian_2d, split_2d, wants_chunking
from ._plan import check_chunk_size, choose_chunk, graph_footprint, parse_memory
from ._progress import progress_bar
from ._remote import run_chunk
