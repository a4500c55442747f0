"""``autojac.func``: composable derivative transforms with ``torch.func``'s signatures and errors.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev`` run reverse mode on the shared tape; ``jvp``,
``jacfwd``, ``linearize`` run forward mode at a fresh internal dual level; ``hessian`` is
``jacfwd(jacrev(f))``. Jacobians are never built row by row: ``jacrev`` pushes the whole
identity basis of cotangents through ONE batched backward pass (``is_grads_batched``) and
``jacfwd`` pushes the identity basis of tangents through ONE forward pass (DESIGN.md
decision 3); ``jacrev(chunk_size=c)`` takes ``ceil(m / c)`` passes.

How transforms compose without functorch's per-level wrappers:

* inputs are replaced by fresh *aliases* (same storage, identity rules), never detached: an
  alias keeps its source's graph and tangents, so an enclosing transform still sees through
  it, and differentiating w.r.t. the alias (not the source) keeps nested transforms apart
  (no perturbation confusion: ``x * grad(lambda y: x * y)(c)`` has derivative ``2x``);
* a reverse transform records its backward pass (``create_graph``) only when grad mode was on
  where it was called and the computation is connected to something outside it: an input
  that already requires grad, or a closure over a tensor requiring grad (an outer
  transform's variable, a model parameter), found by a walk of the graph. Otherwise its
  results are returned cut from the graph, as ``torch.func`` returns them;
* forward transforms need no such care: each opens its own dual level, tangents flow
  through backward passes, and JVP rules are recorded under grad mode like any op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._core import forward
from .._core.grad_mode import STATE, enable_grad, is_grad_enabled, set_grad_enabled
from .._jacobian import basis_rows as _basis_rows
from .._jacobian import check_chunk_size, choose_chunk, jacobian_2d, parse_memory, split_2d, wants_chunking
from .._random import vmap_randomness
from .._tensor import Tensor, _wrap
from ..autograd.api import grad as _autograd_grad
from ..autograd.forward_ad import make_dual, make_dual_batched, unpack_batched
from ..ops.shape import alias, cat
from ._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian"]

ArgNums = int | tuple[int, ...]

_JVP = "jvp(f, primals, tangents)"


# ---------------------------------------------------------------------------- argnums


def _wrap_argnum(argnum, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _check_argnums(argnums, num_args: int) -> ArgNums:
    """Validate ``argnums`` against ``num_args`` positional arguments; negative ones wrap."""
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    wrapped = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if not wrapped:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {wrapped}")
    return wrapped


def _slice(args: tuple, argnums: ArgNums, as_tuple: bool) -> Any:
    if isinstance(argnums, int):
        return (args[argnums],) if as_tuple else args[argnums]
    return tuple(args[i] for i in argnums)


def _replace(args: tuple, new: Any, argnums: ArgNums) -> tuple:
    """``args`` with the entries at ``argnums`` replaced by ``new`` (one value, or a tuple)."""
    if isinstance(argnums, int):
        return tuple(new if i == argnums else a for i, a in enumerate(args))
    pos = {k: j for j, k in enumerate(argnums)}
    return tuple(new[pos[i]] if i in pos else a for i, a in enumerate(args))


# ---------------------------------------------------------------------------- checks


def _check_aux(out, api: str):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    for x in tree_flatten(out[1])[0]:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return out


def _check_tensor_outputs(flat: list, api: str) -> None:
    if not flat or (len(flat) == 1 and flat[0] is None):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {flat})")
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _check_tensor_list(flat: list, api: str, argname: str) -> None:
    if not flat:
        raise RuntimeError(f"{api}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: Expected {argname} to only contain Tensors, got {type(x)}")


def _error_if_complex(api: str, tree, is_input: bool) -> None:
    for idx, x in enumerate(tree_flatten(tree)[0]):
        if isinstance(x, Tensor) and x._data.dtype.kind == "c":
            which = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{api}: Expected all {which} to be real but received complex tensor at "
                               f"flattened input idx: {idx}")


# ---------------------------------------------------------------------------- reverse mode


def _differentiable(x) -> Tensor:
    """A fresh handle on ``x`` to differentiate against: an alias, so ``x``'s graph and
    tangents stay attached (a detach would cut enclosing transforms off)."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x._data.dtype.kind not in "fc":
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    a = alias(x)
    if not a._requires_grad:
        a.requires_grad_()  # a leaf of this transform only
    return a


def _reaches_outside(roots: Sequence, own: set) -> bool:
    """Whether the graph behind ``roots`` reaches a tensor requiring grad other than the leaves
    ``own`` (ids) made by this transform: then an enclosing computation may differentiate
    through the result, and the backward pass must be recorded."""
    stack, seen = [], set()
    for t in roots:
        if isinstance(t, Tensor) and t._requires_grad:
            if t._grad_fn is None:
                if id(t) not in own:
                    return True
            elif t._grad_fn not in seen:
                seen.add(t._grad_fn)
                stack.append(t._grad_fn)
    while stack:
        for e in stack.pop().next:
            if e is None:
                continue
            if isinstance(e, Tensor):
                if id(e) not in own:
                    return True
            elif e not in seen:
                seen.add(e)
                stack.append(e)
    return False


def _cut(x):
    """``x`` without its graph but with its tangents (an enclosing forward transform reads them)."""
    if not isinstance(x, Tensor) or not x._requires_grad:
        return x
    r = _wrap(x._data)  # not detach: a batched value keeps its physical tensor's graph (an enclosing transform's)
    r._vc = x._vc
    r._fw = x._fw
    return r


class _Trace:
    """``func`` run once on differentiable handles of the inputs at ``argnums`` (all inputs
    when None), with the checks and messages of ``torch.func``'s vjp."""

    def __init__(self, func: Callable, args: tuple, kwargs: dict, argnums: ArgNums | None,
                 has_aux: bool, api: str) -> None:
        self.outer = STATE.enabled  # grad mode where the transform was called
        with enable_grad():
            if argnums is None:
                diff = args
            else:
                argnums = _check_argnums(argnums, len(args))
                diff = _slice(args, argnums, as_tuple=False)
            flat, self.in_spec = tree_flatten(diff)
            self.inputs = [_differentiable(x) for x in flat]
            new = tree_unflatten(self.inputs, self.in_spec)
            out = func(*(new if argnums is None else _replace(args, new, argnums)), **kwargs)
            self.aux = None
            if has_aux:
                out, self.aux = _check_aux(out, api)
            self.output = out
            self.flat_out, self.out_spec = tree_flatten(out)
            self._given = flat

    @functools.cached_property
    def connected(self) -> bool:
        """Whether the computation depends on a tensor requiring grad from outside this transform."""
        return any(isinstance(x, Tensor) and x._requires_grad for x in self._given) or _reaches_outside(
            self.flat_out + tree_flatten(self.aux)[0], {id(x) for x in self.inputs})

    @property
    def keep(self) -> bool:
        """Whether results stay in the graph (``create_graph`` for the backward pass)."""
        return self.outer and self.connected

    def cut(self, tree):
        return tree if self.keep else tree_map(_cut, tree)


def _zeros(shape: tuple, like: Tensor) -> Tensor:
    return _wrap(np.zeros(shape, like._data.dtype))


def _pullback(outputs: Sequence[Tensor], cotangents: Sequence, inputs: Sequence[Tensor], *,
              retain_graph: bool, create_graph: bool, batch: tuple = ()) -> list[Tensor]:
    """VJPs of ``outputs`` w.r.t. ``inputs``; zeros where an input is unused. With ``batch``,
    cotangents carry that leading batch dimension (one pass for all of them)."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o._requires_grad]
    grads = [None] * len(inputs)
    if pairs:
        outs, cots = zip(*pairs)
        grads = _autograd_grad(outs, inputs, cots if cots[0] is not None else None, retain_graph=retain_graph,
                               create_graph=create_graph, allow_unused=True, is_grads_batched=bool(batch))
    return [_zeros(batch + x._data.shape, x) if g is None else g for g, x in zip(grads, inputs)]


def grad_and_value(func: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """``func`` -> a function returning ``(gradient, value)`` of a scalar ``func`` w.r.t. the
    argument(s) at ``argnums`` (pytrees of tensors allowed); with ``has_aux``,
    ``(gradient, (value, aux))``.

    >>> import autojac
    >>> from autojac.func import grad_and_value
    >>> grad_and_value(lambda x: (x ** 2).sum())(autojac.tensor([1., 2.]))
    (tensor([2., 4.]), tensor(5.))
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def _grad_and_value(func: Callable, argnums: ArgNums, has_aux: bool, args: tuple, kwargs: dict):
    api = "grad_and_value(f)(*args)"
    tr = _Trace(func, args, kwargs, argnums, has_aux, api)
    out = tr.output
    if not isinstance(out, Tensor):
        raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")
    if out.dim() != 0:
        raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with {out.dim()} dims. "
                           "Maybe you wanted to use the vjp or jacrev APIs instead?")
    keep = tr.keep
    grads = _pullback([out], [None], tr.inputs, retain_graph=keep, create_graph=keep)
    g = tree_unflatten(grads, tr.in_spec)
    value = tr.cut(out)
    return (g, (value, tr.cut(tr.aux))) if has_aux else (g, value)


def grad(func: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """``func`` -> its gradient function (w.r.t. the argument(s) at ``argnums``); nests:
    ``grad(grad(f))`` is the second derivative. With ``has_aux``, returns ``(gradient, aux)``.

    >>> import autojac
    >>> from autojac.func import grad
    >>> grad(grad(lambda x: x ** 3))(autojac.tensor(2.))
    tensor(12.)
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` returns one VJP per primal (a tuple).
    With ``has_aux``, ``(output, vjp_fn, aux)``.

    >>> import autojac
    >>> from autojac.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, autojac.tensor([1., 3.]))
    >>> vjp_fn(autojac.ones(2))
    (tensor([2., 6.]),)
    """
    tr = _trace_vjp(func, primals, None, has_aux)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        flat, spec = tree_flatten(cotangents)
        if spec != tr.out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {spec}, primal output: {tr.out_spec}")
        if create_graph is None:
            create_graph = is_grad_enabled() and (tr.connected or any(
                isinstance(c, Tensor) and c._requires_grad for c in flat))
        grads = _pullback(tr.flat_out, flat, tr.inputs, retain_graph=retain_graph, create_graph=create_graph)
        return tree_unflatten(grads, tr.in_spec)

    out = tr.cut(tr.output)
    return (out, vjp_fn, tr.cut(tr.aux)) if has_aux else (out, vjp_fn)


def _trace_vjp(func: Callable, args: tuple, argnums: ArgNums | None, has_aux: bool) -> _Trace:
    tr = _Trace(func, args, {}, argnums, has_aux, "vjp(f, *primals)")
    _check_tensor_outputs(tr.flat_out, "vjp(f, *primals)")
    for o in tr.flat_out:
        if o._data.dtype.kind not in "fc":
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor "
                               f"with dtype {o.dtype}")
    return tr


def _split_rows(g: Tensor, sizes: Sequence[int], shapes: Sequence[tuple], tail: tuple) -> list[Tensor]:
    """Split ``g`` (leading dimension ``sum(sizes)``) into blocks shaped ``shape + tail``."""
    if len(sizes) == 1:
        return [g.reshape(shapes[0] + tail)]
    out, off = [], 0
    for m, shape in zip(sizes, shapes):
        out.append(g[off:off + m].reshape(shape + tail))
        off += m
    return out


def jacrev(func: Callable, argnums: ArgNums = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False, max_memory: int | str | None = None, out=None,
           progress: bool | None = None, executor=None, retries: int = 1) -> Callable:
    """``func`` -> its Jacobian function by reverse mode, shaped ``output.shape + input.shape``
    (nested tuples for tuple outputs / tuple ``argnums``; pytrees of inputs keep their structure).

    All rows come from one backward pass whose cotangents are the identity basis with a
    leading batch dimension; ``chunk_size`` bounds that dimension (``ceil(m / chunk_size)`` passes).
    ``_preallocate_and_copy`` (a PyTorch memory option) is accepted and changes nothing.

    Options for big Jacobians (``autojac.executors``, docs/DISTRIBUTED.md): ``max_memory``
    (bytes or ``"2GB"``) sizes the chunks from the recorded graph so the passes stay under it;
    ``out`` (a NumPy array or ``numpy.memmap`` shaped like the Jacobian or flattened to 2-D;
    one input and one output) receives the chunks as they finish and is returned itself;
    ``progress`` shows a tqdm bar (None: when long); ``executor`` (any
    ``concurrent.futures.Executor``) computes the chunks on workers, retrying a failed chunk
    ``retries`` times. ``out`` and ``executor`` need a result cut from the graph (not under an
    enclosing transform).

    >>> import autojac
    >>> from autojac.func import jacrev
    >>> jacrev(lambda x: x ** 2)(autojac.tensor([1., 3.]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    check_chunk_size(chunk_size, "jacrev")
    budget = parse_memory(max_memory)
    big = dict(chunk_size=chunk_size, max_memory=budget, out=out, progress=progress, executor=executor,
               retries=retries)

    @functools.wraps(func)
    def wrapper(*args):
        _error_if_complex("jacrev", args, is_input=True)
        tr = _trace_vjp(func, args, argnums, has_aux)
        _error_if_complex("jacrev", tr.flat_out, is_input=False)
        outs, ins, keep = tr.flat_out, tr.inputs, tr.keep
        if wants_chunking(chunk_size, budget, out, executor):
            if not keep and not forward.active():
                jac = _chunked("jacrev", "reverse", func, args, argnums, has_aux, tr, big)
                return (jac, tr.cut(tr.aux)) if has_aux else jac
            _no_out_or_executor("jacrev", out, executor)
        sizes = [o._data.size for o in outs]
        m = sum(sizes)
        step = choose_chunk("jacrev", m, chunk_size, budget, outs, m + 2 * sum(x._data.size for x in ins),
                            outs[0]._data.dtype.itemsize)
        per_input = [[] for _ in ins]
        for start in range(0, m, max(step, 1)):
            stop = min(start + step, m)
            cots = _basis_rows(outs, start, stop)
            grads = _pullback(outs, cots, ins, retain_graph=keep or stop < m, create_graph=keep, batch=(stop - start,))
            for acc, g in zip(per_input, grads):
                acc.append(g)
        with set_grad_enabled(keep):
            stacked = [(acc[0] if len(acc) == 1 else cat(acc, 0)) if acc else _zeros((0,) + x._data.shape, x)
                       for acc, x in zip(per_input, ins)]
            shapes = [tuple(o._data.shape) for o in outs]
            blocks = [_split_rows(g, sizes, shapes, tuple(x._data.shape)) for g, x in zip(stacked, ins)]
        jac = _assemble(blocks, len(outs), tr.in_spec, tr.out_spec)
        return (jac, tr.cut(tr.aux)) if has_aux else jac

    return wrapper


def _no_out_or_executor(api: str, out, executor) -> None:
    if out is not None or executor is not None:
        raise RuntimeError(f"{api}: out= and executor= need a Jacobian cut from the graph; here it must stay "
                           "differentiable (an enclosing transform, or a closure over a tensor requiring grad)")


def _chunked(api: str, mode: str, func: Callable, args: tuple, argnums: ArgNums, has_aux: bool, tr: _Trace,
             big: dict):
    """The Jacobian by ``autojac.executors`` (chunks, memory budget, out=, progress, executor):
    ``out`` itself when given, else the Jacobian pytree."""
    nums = _check_argnums(argnums, len(args))
    in_spec = tr.in_spec

    def flat_func(*flat):  # flat inputs -> flat outputs, what workers rebuild the graph from
        res = func(*_replace(args, tree_unflatten(list(flat), in_spec), nums))
        return tree_flatten(res[0] if has_aux else res)[0]

    jac = jacobian_2d(api, mode, flat_func, tr._given, tr.flat_out, tr.inputs, **big)
    if big["out"] is not None:
        return big["out"]
    ins = tr.inputs
    parts = split_2d(jac, tr.flat_out, ins, mode)
    blocks = [[_wrap(parts[j][i]) for j in range(len(tr.flat_out))] for i in range(len(ins))]
    return _assemble(blocks, len(tr.flat_out), in_spec, tr.out_spec)


def _assemble(blocks: list[list[Tensor]], n_out: int, in_spec, out_spec):
    """``blocks[i][j]`` (input i, output j) -> the Jacobian pytree: outputs outside, inputs inside."""
    return tree_unflatten([tree_unflatten([b[j] for b in blocks], in_spec) for j in range(n_out)], out_spec)


# ---------------------------------------------------------------------------- forward mode


def _unpack(t: Tensor, level: int, strict: bool, batch: tuple = ()) -> tuple[Tensor, Tensor]:
    """(primal, tangent at ``level``) of an output; a missing tangent is zero."""
    primal, tangent = unpack_batched(t, level)
    if tangent is None:
        if strict:
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                               "This is not allowed with strict=True.")
        tangent = _zeros(batch + primal._data.shape, primal)
    return primal, tangent


def _drop_level(tree, level: int):
    """Leaves of ``tree`` without their tangent at ``level`` (it closes with the transform)."""
    return tree_map(lambda a: unpack_batched(a, level).primal if isinstance(a, Tensor) else a, tree)


def _push_forward(func: Callable, duals_at: Callable, has_aux: bool, strict: bool, batch: tuple = ()):
    """Run ``func`` at a fresh dual level on ``duals_at(level)`` (the arguments with tangents);
    return the flat primal outputs, their tangents, the output spec and aux."""
    level = forward.enter_level()
    try:
        out = func(*duals_at(level))
        aux = None
        if has_aux:
            out, aux = _check_aux(out, _JVP)
            aux = _drop_level(aux, level)
        flat, spec = tree_flatten(out)
        _check_tensor_outputs(flat, _JVP)
        pairs = [_unpack(o, level, strict, batch) for o in flat]
    finally:
        forward.exit_level(level)
    return [p for p, _ in pairs], [t for _, t in pairs], spec, aux


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J @ tangents)`` by forward mode (dual tensors at a fresh level);
    with ``has_aux``, ``(output, jvp_out, aux)``.

    >>> import autojac
    >>> from autojac.func import jvp
    >>> jvp(lambda x: x ** 2, (autojac.tensor([1., 3.]),), (autojac.ones(2),))
    (tensor([1., 9.]), tensor([2., 6.]))
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    _check_tensor_list(flat_p, _JVP, "primals")
    _check_tensor_list(flat_t, _JVP, "tangents")

    def duals(level: int) -> tuple:
        return tree_unflatten([make_dual(p, t, level=level) for p, t in zip(flat_p, flat_t)], p_spec)

    outs, tans, spec, aux = _push_forward(func, duals, has_aux, strict)
    result = (tree_unflatten(outs, spec), tree_unflatten(tans, spec))
    return result + (aux,) if has_aux else result


def _check_float(x: Tensor) -> None:
    if x._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {x.dtype}")


_RANDOMNESS = ("error", "different", "same")


def _forward_passes(func: Callable, flat_p: list, duals_for: Callable, has_aux: bool, n: int, step: int,
                    randomness: str) -> list:
    """``func`` pushed forward over the basis, ``step`` columns a pass, under jacfwd's ``randomness`` flag."""
    passes = []
    flags = vmap_randomness()
    flags.append(randomness)
    try:
        for start in range(0, max(n, 1), max(step, 1)):
            stop = min(start + step, n)
            passes.append(_push_forward(func, duals_for(_basis_rows(flat_p, start, stop)), has_aux, False,
                                        batch=(stop - start,)))
    finally:
        flags.pop()
    return passes


def jacfwd(func: Callable, argnums: ArgNums = 0, has_aux: bool = False, *, randomness: str = "error",
           chunk_size: int | None = None, max_memory: int | str | None = None, out=None,
           progress: bool | None = None, executor=None, retries: int = 1) -> Callable:
    """``func`` -> its Jacobian function by forward mode, shaped ``output.shape + input.shape``.

    One forward pass whose tangents are the identity basis over all differentiated inputs,
    with a leading batch dimension. ``randomness`` is ``torch.func``'s: ``"error"`` refuses random
    ops in ``func``, ``"same"`` runs it once (one draw shared by every column) and ``"different"``
    runs it once per column (a draw of its own for each).

    ``chunk_size`` (columns per pass), ``max_memory``, ``out``, ``progress``, ``executor`` and
    ``retries`` are ``jacrev``'s options for big Jacobians; with any of them ``func`` is first
    traced once with a graph to size the chunks, then run once per chunk.

    >>> import autojac
    >>> from autojac.func import jacfwd
    >>> jacfwd(lambda x: x.sin().sum())(autojac.tensor([0., 0.]))
    tensor([1., 1.])
    """

    check_chunk_size(chunk_size, "jacfwd")
    budget = parse_memory(max_memory)
    big = dict(chunk_size=chunk_size, max_memory=budget, out=out, progress=progress, executor=executor,
               retries=retries)

    @functools.wraps(func)
    def wrapper(*args):
        if randomness not in _RANDOMNESS:
            raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                               f"Got {randomness}")
        _error_if_complex("jacfwd", args, is_input=True)
        nums = _check_argnums(argnums, len(args))
        flat_p, p_spec = tree_flatten(_slice(args, nums, as_tuple=True))
        _check_tensor_list(flat_p, _JVP, "primals")
        for p in flat_p:
            _check_float(p)
        sizes = [p._data.size for p in flat_p]
        n = sum(sizes)
        step = n
        if wants_chunking(chunk_size, budget, out, executor):
            tr = _Trace(func, args, {}, nums, has_aux, _JVP)  # the graph that sizes the chunks
            _check_tensor_outputs(tr.flat_out, _JVP)
            _error_if_complex("jacfwd", tr.flat_out, is_input=False)
            if not tr.keep and not forward.active():
                jac = _chunked("jacfwd", "forward", func, args, nums, has_aux, tr, big)
                return (jac, tr.cut(tr.aux)) if has_aux else jac
            _no_out_or_executor("jacfwd", out, executor)
            step = choose_chunk("jacfwd", n, chunk_size, budget, tr.flat_out,
                                n + 2 * sum(o._data.size for o in tr.flat_out), flat_p[0]._data.dtype.itemsize)
            del tr

        def duals_for(basis: list) -> Callable:
            def duals(level: int) -> tuple:
                ds = [make_dual_batched(p, b, level) for p, b in zip(flat_p, basis)]
                new = tree_unflatten(ds, p_spec)
                return _replace(args, new[0] if isinstance(nums, int) else new, nums)
            return duals

        passes = _forward_passes(func, flat_p, duals_for, has_aux, n, 1 if randomness == "different" else step,
                                 randomness)
        outs, tans, spec, aux = passes[0]
        if len(passes) > 1:
            tans = [cat([p[1][k] for p in passes], 0) for k in range(len(tans))]
        _error_if_complex("jacfwd", outs, is_input=False)
        blocks = [[] for _ in flat_p]
        for o, t in zip(outs, tans):
            cols = _split_rows(t, sizes, [(s,) for s in sizes], tuple(o._data.shape))
            for acc, c, p in zip(blocks, cols, flat_p):
                acc.append(c.movedim(0, -1).reshape(tuple(o._data.shape) + tuple(p._data.shape)))
        in_spec = p_spec.children[0] if isinstance(nums, int) else p_spec
        jac = _assemble(blocks, len(outs), in_spec, spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(func: Callable, argnums: ArgNums = 0, *, chunk_size: int | None = None,
            max_memory: int | str | None = None, out=None, progress: bool | None = None, executor=None,
            retries: int = 1) -> Callable:
    """``func`` -> its Hessian function, by forward-over-reverse: ``jacfwd(jacrev(func))``.
    The options for big Hessians (columns per pass, memory budget, ...) are ``jacfwd``'s.

    >>> import autojac
    >>> from autojac.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(autojac.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums, chunk_size=chunk_size, max_memory=max_memory, out=out,
                  progress=progress, executor=executor, retries=retries)


def linearize(func: Callable, *primals):
    """``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is the Jacobian-vector product at
    ``primals``.

    ``jvp_fn`` re-runs ``func`` in forward mode at the saved primals (PyTorch traces the tangent
    computation once instead): each call costs about one forward pass, values included, and a
    ``func`` with random ops draws again on every call.

    >>> import autojac
    >>> from autojac.func import linearize
    >>> out, jvp_fn = linearize(autojac.sin, autojac.zeros(2))
    >>> jvp_fn(autojac.ones(2))
    tensor([1., 1.])
    """
    output = func(*primals)
    flat_p, p_spec = tree_flatten(primals)
    meta = [(tuple(p._data.shape), p.dtype) for p in flat_p]

    def jvp_fn(*tangents):
        flat_t, t_spec = tree_flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError(f"Expected the tangents {t_spec} to have the same argspec as the primals {p_spec}")
        for idx, (t, (shape, dtype)) in enumerate(zip(flat_t, meta)):
            if tuple(t._data.shape) != shape:
                raise RuntimeError(f"tangent:{idx} with shape {t.shape} in flattened pytree doesn't match the shape "
                                   f"{type(t.shape)(shape)} of the corresponding primal.")
            if t.dtype != dtype:
                raise RuntimeError(f"tangent:{idx} with dtype {t.dtype} in flattened pytree doesn't match the dtype "
                                   f"{dtype} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn
