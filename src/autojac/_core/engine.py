"""The backward engine: iterative, in dependency order, with one unbroadcast for all rules.

Cotangents may carry ``nb`` extra leading (batch) dimensions; every rule passes them
through, and the engine sums each gradient to ``batch + input.shape`` and casts it to
the input's dtype (DESIGN.md decisions 3-5).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from .._tensor import Tensor, _wrap
from .anomaly import MODE as ANOMALY
from .anomaly import nan_error, warn_backward_error
from .broadcast import cast_grad, sum_to
from .grad_mode import STATE
from .node import NODE_TYPES, Node, OutputMeta
from .saved_hooks import EVER_PACKED, PACKED, unpack_entry, unpack_output

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _modified_error(node: Node, t: Tensor, expected: int, which: str) -> RuntimeError:
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {list(t._data.shape)}], which is {which} of {node.op.grad_name}, "
        f"is at version {t._vc[0]}; expected version {expected} instead. Hint: the operation that "
        "failed was its backward; clone the tensor before modifying it in place."
    )


def _saved(node: Node, create_graph: bool):
    """Unpack the saved inputs and output of ``node``, checking their versions."""
    inputs = node.inputs
    if inputs is None:
        raise RuntimeError(FREED_MSG)
    if EVER_PACKED and node in PACKED:  # saved through saved_tensors_hooks
        return _saved_through_hooks(node, inputs, create_graph)
    if node.versions is not None:
        for x, v in zip(inputs, node.versions):
            if v is not None and x._vc[0] != v:
                raise _modified_error(node, x, v, "an input")
    if not node.op.saves_ans:
        ans = OutputMeta(node.ans)
    else:
        if node.op.n_out == 1:
            ans = _unpack_output(node, node.ans, node.ans_vc, 0, create_graph)
        else:
            ans = tuple(_unpack_output(node, a, vc, i, create_graph)
                        for i, (a, vc) in enumerate(zip(node.ans, node.ans_vc)))
        fw = getattr(node, "ans_fw", None)  # set only when the output had forward-mode tangents
        if fw is not None:
            if node.op.n_out == 1:
                ans._fw = fw
            else:
                for a, f in zip(ans, fw):
                    a._fw = f
    return inputs, ans


def _saved_through_hooks(node: Node, inputs: tuple, create_graph: bool):
    unpack, packed_inputs, packed_outputs = PACKED[node]
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        v = node.versions[i] if node.versions is not None else None
        if i in packed_inputs:
            inputs[i] = unpack_entry(unpack, packed_inputs[i], x._vc, v,
                                     lambda t, x=x, v=v: _modified_error(node, x, v, "an input"))
        elif v is not None and x._vc[0] != v:
            raise _modified_error(node, x, v, "an input")
    if packed_outputs is None:
        return tuple(inputs), OutputMeta(node.ans)
    vcs = (node.ans_vc,) if node.op.n_out == 1 else node.ans_vc
    outs = []
    for nr, (p, vc) in enumerate(zip(packed_outputs, vcs)):
        vc, expected = vc if type(vc) is tuple else (vc, 0)
        outs.append(unpack_output(unpack, p, vc, expected, node, nr, create_graph,
                                  lambda t, e=expected, nr=nr: _modified_error(node, t, e, f"output {nr}")))
    return tuple(inputs), (outs[0] if node.op.n_out == 1 else tuple(outs))


def _unpack_output(node: Node, data, vc, nr: int, create_graph: bool) -> Tensor:
    expected = 0
    if type(vc) is tuple:  # the output of an in-place op: the written tensor's counter, at its version then
        vc, expected = vc
    if vc[0] != expected:
        t = _wrap(data)
        t._vc = vc
        raise _modified_error(node, t, expected, f"output {nr}")
    t = _wrap(data)
    t._vc = vc
    if create_graph:
        t._requires_grad = True
        t._grad_fn = node
        t._output_nr = nr
    return t


def _fit(g: Tensor, x, nb: int, node: Node, i: int) -> Tensor:
    """Sum ``g`` to ``batch + x.shape`` and cast it to ``x``'s dtype."""
    shape = x._data.shape
    gs = g._data.shape
    if gs[nb:] != shape or len(gs) != nb + len(shape):
        try:
            g = sum_to(g, shape, nb)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"Function {node.op.grad_name} returned an invalid gradient at index {i} - got "
                f"{list(gs[nb:])} but expected shape compatible with {list(shape)}"
            ) from None
    if g._data.dtype is not x._data.dtype and x._data.dtype.kind in "fc":
        g = cast_grad(g, x)
    return g


def _accumulate(buf: dict, key, g: Tensor) -> None:
    old = buf.get(key)
    buf[key] = g if old is None else old + g


def _run_hooks(hooks: list, g: Tensor) -> Tensor:
    for h in hooks:
        r = h(g)
        if r is not None:
            if not isinstance(r, Tensor):
                raise TypeError(f"hook '{_name(h)}' must return a Tensor or None, got {type(r).__name__}")
            if r._data.shape != g._data.shape:
                raise RuntimeError(f"hook '{_name(h)}' has changed the size of value: it returned shape "
                                   f"{list(r._data.shape)} for a gradient of shape {list(g._data.shape)}")
            g = r
    return g


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _graph(roots: Sequence) -> dict:
    """Count, for each node reachable from ``roots``, how many edges point at it."""
    deps: dict = {}
    stack = []
    for fn in roots:
        if type(fn) in NODE_TYPES and fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    get = deps.get
    while stack:
        fn = stack.pop()
        for e in fn.next:
            if type(e) is Node or type(e) in NODE_TYPES:
                c = get(e)
                if c is None:
                    deps[e] = 1
                    stack.append(e)
                else:
                    deps[e] = c + 1
    return deps


def _needed(deps: dict, roots: list, leaf_targets: set, node_targets: set) -> set:
    """Nodes with a target strictly beyond them: only those need their rules run."""
    order = []
    counts = dict(deps)
    ready = [fn for fn in roots if type(fn) in NODE_TYPES and counts[fn] == 0]
    ready = list(dict.fromkeys(ready))
    while ready:
        fn = ready.pop()
        order.append(fn)
        for e in fn.next:
            if type(e) in NODE_TYPES:
                counts[e] -= 1
                if counts[e] == 0:
                    ready.append(e)
    needed = set()
    for fn in reversed(order):
        for e in fn.next:
            if e is None:
                continue
            if type(e) in NODE_TYPES:
                if e in needed or e in node_targets:
                    needed.add(fn)
                    break
            elif id(e) in leaf_targets:
                needed.add(fn)
                break
    return needed


class _Pass:
    """The state of one backward pass, shared by ``run_backward``'s loop and ``_execute``.

    ``buf`` holds the cotangents gathered for each node (a list per multi-output node),
    ``leaf_buf`` those for leaves (``id -> (leaf, grad)``); ``deps`` counts the edges still
    to arrive at each node and ``ready`` the nodes whose count reached zero. With targets,
    ``needed`` are the nodes whose rules must run, ``node_targets`` the non-leaf targets by
    node and ``leaf_ids`` the leaf targets' ids (all ``None`` without targets).
    """

    __slots__ = ("buf", "leaf_buf", "deps", "ready", "nb", "create_graph", "needed", "node_targets", "leaf_ids")

    def __init__(self, nb: int, create_graph: bool) -> None:
        self.buf: dict = {}
        self.leaf_buf: dict = {}
        self.deps: dict = {}
        self.ready: list = []
        self.nb = nb
        self.create_graph = create_graph
        self.needed: set | None = None
        self.node_targets: dict = {}
        self.leaf_ids: set | None = None


def run_backward(roots: Sequence[Tensor], grads: Sequence[Tensor], *, retain_graph: bool,
                 create_graph: bool, targets: Sequence[Tensor] | None = None,
                 accumulate: bool = True, nb: int = 0) -> dict:
    """Propagate ``grads`` from ``roots`` back through the graph.

    With ``accumulate`` the leaves' ``.grad`` (or only ``targets``' when given) are
    updated; otherwise the gradients reaching ``targets`` are returned, keyed by ``id``.
    """
    p = _Pass(nb, create_graph)
    root_fns = []
    buf, leaf_buf = p.buf, p.leaf_buf
    for r, g in zip(roots, grads):
        fn = r._grad_fn
        if fn is None:
            if r._requires_grad:
                _add_leaf(leaf_buf, r, g)
            continue
        root_fns.append(fn)
        _add_output(buf, fn, r._output_nr, g)

    deps = p.deps = _graph(root_fns)

    captured: dict = {}
    node_targets = p.node_targets  # node -> the target tensors it outputs
    needed = leaf_ids = None
    if targets is not None:
        leaf_ids = p.leaf_ids = set()
        for t in targets:
            if t._grad_fn is None:
                leaf_ids.add(id(t))
            else:
                node_targets.setdefault(t._grad_fn, []).append(t)
        needed = p.needed = _needed(deps, root_fns, leaf_ids, set(node_targets))

    prev = STATE.enabled
    STATE.enabled = create_graph
    try:
        ready = p.ready
        ready.extend(fn for fn in dict.fromkeys(root_fns) if deps[fn] == 0)
        while ready:
            node = ready.pop()
            g = buf.pop(node, None)
            if g is not None and (node.hooks or node.retains):
                g = _node_hooks(node, g, accumulate)
            if node_targets and node in node_targets:
                for t in node_targets[node]:
                    gt = g[t._output_nr] if type(g) is list else g
                    if gt is not None:
                        captured[id(t)] = gt
            if g is not None and (needed is None or node in needed):
                try:  # free in Python 3.11 when nothing is raised
                    _execute(node, g, p)
                except BaseException:
                    if ANOMALY.enabled:
                        warn_backward_error(node)
                    raise
                if not retain_graph and (node.versions is not None or node.op.saves_ans):
                    node.release()  # ops that save nothing keep only what their rules read: shapes
                continue
            for e in node.next:
                if type(e) in NODE_TYPES:
                    c = deps[e] - 1
                    deps[e] = c
                    if not c:
                        ready.append(e)

        for leaf, g in leaf_buf.values():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if accumulate:
                if leaf_ids is None or id(leaf) in leaf_ids:
                    _accumulate_grad(leaf, g, create_graph)
            elif id(leaf) in leaf_ids:
                captured[id(leaf)] = g
    finally:
        STATE.enabled = prev
    return captured


def _add_output(buf: dict, fn: Node, nr: int, g: Tensor) -> None:
    n_out = fn.op.n_out
    if n_out == 1:
        _accumulate(buf, fn, g)
        return
    lst = buf.get(fn)
    if lst is None:
        lst = buf[fn] = [None] * n_out
    lst[nr] = g if lst[nr] is None else lst[nr] + g


def _add_leaf(leaf_buf: dict, leaf: Tensor, g: Tensor) -> None:
    k = id(leaf)
    old = leaf_buf.get(k)
    leaf_buf[k] = (leaf, g if old is None else old[1] + g)


def _node_hooks(node: Node, g, accumulate: bool):
    single = type(g) is not list
    gs = [g] if single else g
    for nr in range(len(gs)):
        if gs[nr] is None:
            continue
        if node.hooks and nr in node.hooks:
            gs[nr] = _run_hooks(node.hooks[nr], gs[nr])
        if accumulate and node.retains and nr in node.retains:
            t = node.retains[nr]()
            if t is not None:
                gd = gs[nr].detach() if not STATE.enabled else gs[nr]
                with _GRAD_LOCK:
                    t._grad = _wrap(gd._data.copy()) if t._grad is None and not STATE.enabled else (
                        gd if t._grad is None else t._grad + gd)
    return gs[0] if single else gs


def _execute(node: Node, g, p: _Pass) -> None:
    """Run ``node``'s VJP rules for the edges that need a gradient, route the results into the
    pass ``p``, and count down the dependencies of the nodes it points at.

    This is the backward hot path: the common cases of ``_saved``, ``_fit`` and
    ``_add_output`` are inlined, and the edges are walked once.
    """
    op = node.op
    inputs = node.inputs
    if inputs is None:
        raise RuntimeError(FREED_MSG)
    if op.saves_ans or EVER_PACKED:
        inputs, ans = _saved(node, p.create_graph)
    else:
        versions = node.versions
        if versions is not None:
            for x, v in zip(inputs, versions):
                if v is not None and x._vc[0] != v:
                    raise _modified_error(node, x, v, "an input")
        ans = OutputMeta(node.ans)
    if type(g) is list and not getattr(op, "keeps_none", False):  # multi-output: absent cotangents are zeros
        # (custom Functions take the Nones and apply their own materialize_grads setting)
        batch = next(x for x in g if x is not None)._data.shape[:p.nb]
        g = tuple(gi if gi is not None else _wrap(np.zeros(batch + a._data.shape, a._data.dtype))
                  for gi, a in zip(g, ans))
    deps = p.deps
    params = node.params
    vjps = op.vjp
    check_nan = ANOMALY.enabled and ANOMALY.check_nan
    for i, e in enumerate(node.next):
        if e is None:
            continue
        te = type(e)
        is_node = te is Node or te in NODE_TYPES  # nodes are Node until shown to the user (then a subclass)
        if is_node:  # a node pushed here runs only after this one: its buffer is complete by then
            c = deps[e] - 1
            deps[e] = c
            if not c:
                p.ready.append(e)
        if p.needed is not None:
            if is_node:
                if e not in p.needed and e not in p.node_targets:
                    continue
            elif id(e) not in p.leaf_ids:
                continue
        rule = vjps[i]
        if rule is None:
            continue
        gi = rule(g, ans, *inputs, **params) if params else rule(g, ans, *inputs)
        if gi is None:
            continue
        if check_nan and not np.isfinite(gi._data).all():
            raise nan_error(op.grad_name, i, getattr(node, "trace", None), gi._data)
        xd = inputs[i]._data
        gd = gi._data
        nb = p.nb
        if gd.shape != xd.shape if not nb else gd.shape[nb:] != xd.shape or gd.ndim != nb + xd.ndim:
            gi = _fit(gi, inputs[i], nb, node, i)
        elif gd.dtype is not xd.dtype and xd.dtype.kind in "fc":
            gi = cast_grad(gi, inputs[i])
        if is_node:
            buf = p.buf
            if e.op.n_out == 1:
                old = buf.get(e)
                buf[e] = gi if old is None else old + gi
            else:
                _add_output(buf, e, node.next_nr[i] if node.next_nr else 0, gi)
        else:
            _add_leaf(p.leaf_buf, e, gi)


# One lock for every ``.grad`` update (as PyTorch's AccumulateGrad locks): ``+=`` on a large array
# releases the GIL, so two threads adding into one leaf would otherwise lose an update.
_GRAD_LOCK = threading.Lock()


def _accumulate_grad(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """PyTorch's AccumulateGrad: set ``.grad`` on first use, then add to it."""
    with _GRAD_LOCK:
        old = leaf._grad
        if old is None:
            leaf._grad = g if create_graph else _wrap(g._data.copy())
        elif create_graph or old._requires_grad:
            leaf._grad = old + g
        else:
            old._data += g._data
            old._vc[0] += 1
