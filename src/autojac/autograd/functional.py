"""``autograd.functional``: vjp, jvp, jacobian, hessian, hvp and vhp with PyTorch's signatures.

Signatures, return structures (a Tensor, a tuple, or a tuple of tuples following whether
the inputs and outputs are tuples), ``create_graph``, ``strict`` and the errors follow
``torch.autograd.functional``. Underneath, nothing loops over rows (DESIGN.md decision 3):

- reverse-mode ``jacobian``: one backward pass per output, its cotangent the identity
  with a leading batch dimension;
- forward-mode ``jacobian``: one forward pass whose input tangents are the identity
  basis with a leading batch dimension (moved to the end afterwards);
- ``jvp`` is forward mode (dual tensors), not PyTorch's double-backward trick;
- ``hvp`` is forward-over-reverse (one backward inside a dual level), ``vhp``
  reverse-over-reverse, ``hessian`` a Jacobian of a Jacobian either way.

``vectorize`` is accepted for compatibility and changes nothing: every path is vectorized.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core import forward
from .._core.engine import run_backward
from .._core.grad_mode import STATE, enable_grad
from .._jacobian import basis_rows, check_chunk_size, jacobian_2d, parse_memory, split_2d, wants_chunking
from .._tensor import Tensor, _wrap
from .api import grad as _grad
from .forward_ad import make_dual_batched

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_FWD_CREATE_GRAPH = ('torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are '
                     'not supported together (yet). Please either set `create_graph=False` or '
                     '`strategy="reverse-mode"`.')
_FWD_STRICT = ('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
               'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')


# ----------------------------------------------------------------------------- helpers


def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple]:
    """``(was it a tuple, the tuple of Tensors)``; as in PyTorch, a list is not a tuple."""
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg}"
            raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                            f"{where} has type {type(el)}.")
    return is_tuple, xs


def _unpack(res, is_tuple: bool):
    return res if is_tuple else res[0]


def _unpack2(res, outer: bool, inner: bool):
    """Undo the tupling of outputs (``outer``) and inputs (``inner``) of a nested result."""
    if not inner:
        res = tuple(r[0] for r in res)
    return res if outer else res[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> list:
    """Fresh tensor objects for the inputs, so that tensors the function captures by closure are
    told apart from its arguments; they keep their history only under ``create_graph``."""
    out = []
    for x in inputs:
        if create_graph and x._requires_grad:
            out.append(x.view_as(x))
        else:
            d = x.detach()
            if need_graph:
                if x._data.dtype.kind in "fc":
                    d._requires_grad = True  # requires_grad_, inlined
                else:
                    d.requires_grad_(True)  # raises PyTorch's error
            out.append(d)
    return out


def _finish(ts: tuple, create_graph: bool) -> tuple:
    """Results cut from the graph unless ``create_graph``."""
    return ts if create_graph else tuple(t.detach() for t in ts)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a._data.shape != b._data.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


def _prepare_v(v, other: tuple, is_other_tuple: bool, fn: str, create_graph: bool, none_msg: str) -> tuple:
    """Check ``v`` against ``other`` (the inputs or the outputs); ``None`` means ones for one element."""
    if v is None:
        if len(other) != 1 or other[0]._data.size != 1:
            raise RuntimeError(none_msg)
        return (_wrap(np.ones(other[0]._data.shape, other[0]._data.dtype)),)
    _, v = _as_tuple(v, "v", fn)
    v = _prepare(v, create_graph, need_graph=False)
    _validate_v(v, other, is_other_tuple)
    return tuple(v)


_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor "
                 "with a single element.")


def _check_requires_grad(ts, kind: str, strict: bool) -> None:
    """PyTorch's strict-mode checks on outputs, gradients and Jacobians."""
    if not strict:
        return
    for i, t in enumerate(ts):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if t._requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is independent of the "
                "input. This is not allowed in strict mode. You should ensure that your function is thrice "
                "differentiable and that the hessian depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided function with "
                f"respect to input {i} is independent of the input. This is not allowed in strict mode. You "
                "should ensure that your function is twice differentiable and that the jacobian depends on "
                "the inputs (this would be violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the user-provided "
                "function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs must be "
            "computed in a differentiable manner from the input when running in strict mode.")


def _autograd_grad(outputs: tuple, inputs, grad_outputs=None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` that skips outputs which are None or need no gradient (allow_unused)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o is not None and o._requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return _grad(outs, inputs, gos, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


_STAGE_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in "
            "strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros (shaped like ``refs``) for missing results; PyTorch's strict-mode errors per ``stage``."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_MSG[stage].format(i=i))
            r = refs[i]._data
            g = _wrap(np.zeros(r.shape, r.dtype))
        elif strict and create_graph and not g._requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


class _DualLevel:
    """A fresh internal dual level (independent of ``forward_ad``'s public one), so that these
    functions nest inside each other and inside a user's ``dual_level``."""

    def __enter__(self) -> int:
        self.level = forward.enter_level()
        return self.level

    def __exit__(self, *exc) -> None:
        forward.exit_level(self.level)


def _tangents(ts, level: int) -> list:
    """The tangents of ``ts`` at ``level`` (None where absent), dropped from the tensors since
    the level is closing."""
    res = [None if t is None or t._fw is None else t._fw.get(level) for t in ts]
    for t, tan in zip(ts, res):
        if tan is not None and t._fw is not None and level in t._fw:
            t._fw = {k: v for k, v in t._fw.items() if k != level} or None
    return res


# ----------------------------------------------------------------------------- vjp / jvp


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, shaped like the inputs.

    >>> import autojac
    >>> from autojac.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, autojac.tensor([1., 2.]), autojac.tensor([1., 1.]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, "vjp", create_graph,
                       "The vector v can only be None if the user-provided function returns a single Tensor "
                       "with a single element.")
    grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
    res = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return _unpack(_finish(outputs, create_graph), is_outputs_tuple), _unpack(_finish(res, create_graph),
                                                                              is_inputs_tuple)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, shaped like the outputs.

    Computed in forward mode: one pass of ``func`` on dual tensors carrying ``v``.

    >>> import autojac
    >>> from autojac.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, autojac.tensor([1., 2.]), autojac.tensor([1., 0.]))
    (tensor([1., 4.]), tensor([2., 0.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "jvp", create_graph, _V_NONE_INPUT)
        with _DualLevel() as level:
            duals = tuple(make_dual_batched(x, t, level) for x, t in zip(inputs, v))
            outputs = func(*duals)
            is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
            tangents = _tangents(outputs, level)
        _check_requires_grad(outputs, "outputs", strict)
        if strict:  # PyTorch's checks: each input must reach an output (a zero-cotangent backward tells)
            zeros = tuple(_wrap(np.zeros(o._data.shape, o._data.dtype)).requires_grad_(True) for o in outputs)
            grad_inputs = _autograd_grad(outputs, duals, zeros, create_graph=True)
            _check_requires_grad(grad_inputs, "grad_inputs", strict)
    res = _fill_in_zeros(tangents, outputs, strict, create_graph, "back_trick")
    return _unpack(_finish(outputs, create_graph), is_outputs_tuple), _unpack(_finish(res, create_graph),
                                                                              is_outputs_tuple)


# ----------------------------------------------------------------------------- jacobian


def _own(t: Tensor) -> Tensor:
    """``t`` with writable data of its own if its data is read-only: (a view of) a cached
    identity that ``func`` passed through unchanged, or a broadcast view. ``t`` is a tensor
    made during this call, never the cache itself."""
    d = t._data
    if not d.flags.writeable:
        t._data = d.copy()
    return t


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode", *, chunk_size: int | None = None,
             max_memory: int | str | None = None, out=None, progress: bool | None = None, executor=None,
             retries: int = 1):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    A single Tensor for one input and one output, a tuple if either is a tuple, a tuple of
    tuples if both are. ``strategy="forward-mode"`` pushes the identity basis through one
    forward pass (cheaper for functions with more outputs than inputs).

    For big Jacobians (``autojac.executors``, docs/DISTRIBUTED.md): ``chunk_size`` basis
    vectors per pass, ``max_memory`` (bytes or ``"2GB"``) to size the chunks from the recorded
    graph, ``out`` (a NumPy array or ``numpy.memmap``, one input and one output; returned
    itself), ``progress`` (a tqdm bar; None: when long), ``executor`` (any
    ``concurrent.futures.Executor``) and ``retries``. These need ``create_graph=False`` and
    ``strict=False``.

    >>> import autojac
    >>> from autojac.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, autojac.tensor([2., 3.]))
    tensor([[4., 0.],
            [0., 6.]])
    """
    check_chunk_size(chunk_size, "jacobian")
    budget = parse_memory(max_memory)
    if strategy not in ("reverse-mode", "forward-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if wants_chunking(chunk_size, budget, out, executor):
        if create_graph or strict or forward.active():
            raise NotImplementedError("jacobian: chunk_size, max_memory, out and executor need create_graph=False, "
                                      "strict=False and no enclosing forward-mode level")
        big = dict(chunk_size=chunk_size, max_memory=budget, out=out, progress=progress, executor=executor,
                   retries=retries)
        return _jac_chunked(func, inputs, strategy == "reverse-mode", big)
    if strategy == "reverse-mode":
        return _jacrev(func, inputs, create_graph, strict)
    if create_graph:
        raise NotImplementedError(_FWD_CREATE_GRAPH)
    if strict:
        raise RuntimeError(_FWD_STRICT)
    if not vectorize:  # PyTorch's rule (and its wording, missing space included): autojac could, it won't differ
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    return _jacfwd(func, inputs)


class _FlatOutputs:
    """``func`` returning a list of tensors (what ``autojac.executors`` differentiates)."""

    def __init__(self, func: Callable) -> None:
        self.func = func

    def __call__(self, *inputs) -> list:
        out = self.func(*inputs)
        return list(out) if isinstance(out, tuple) else [out]


def _jac_chunked(func: Callable, inputs, reverse: bool, big: dict):
    """The Jacobian by ``autojac.executors``: traced once (the graph sizes the chunks and, in
    reverse mode, gives the rows), then filled chunk by chunk; ``out`` itself when given."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not reverse:
        for x in inputs:
            if x._data.dtype.kind not in "fc":
                raise ValueError(f"Expected primal to be floating point or complex, but got: {x.dtype}")
    with enable_grad():
        ins = _prepare(inputs, False, need_graph=True)
        outputs = func(*ins)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
    jac = jacobian_2d("jacobian", "reverse" if reverse else "forward", _FlatOutputs(func), inputs, outputs, ins,
                      **big)
    if big["out"] is not None:
        return big["out"]
    parts = split_2d(jac, outputs, ins, "reverse" if reverse else "forward")
    if reverse:
        rows = tuple(tuple(_wrap(b) for b in row) for row in parts)
    else:  # as _jacfwd: lists where reverse mode gives tuples
        rows = [[_wrap(b) for b in row] for row in parts]
    return _unpack2(rows, is_outputs_tuple, is_inputs_tuple)


def _jacrev(func: Callable, inputs, create_graph: bool, strict: bool):
    """Reverse mode: one backward pass per output, batched over the rows of its Jacobian.

    Kept lean (seed 000's 2x3 Jacobian is mostly overhead): the engine is called directly
    with the cotangent basis, which is built well-formed here.
    """
    if type(inputs) is Tensor:
        is_inputs_tuple, inputs = False, (inputs,)
    else:
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    prev = STATE.enabled
    STATE.enabled = True
    try:
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        if type(outputs) is Tensor:
            is_outputs_tuple, outputs = False, (outputs,)
        else:
            is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        rows = [_jac_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs)]
    finally:
        STATE.enabled = prev
    return _unpack2(tuple(rows), is_outputs_tuple, is_inputs_tuple)


def _jac_rows(i: int, out: Tensor, inputs: list, create_graph: bool, strict: bool) -> tuple:
    """The Jacobians of output ``i`` with respect to every input."""
    od = out._data
    oshape = od.shape
    m = od.size
    if out._requires_grad and m:
        (basis,) = basis_rows([out], 0, m, shared=True)
        captured = run_backward((out,), (basis,), retain_graph=True, create_graph=create_graph, targets=inputs,
                                accumulate=False, nb=1)
        grads = [captured.get(id(x)) for x in inputs]
    else:
        grads = (None,) * len(inputs)
    row = []
    for j, (x, g) in enumerate(zip(inputs, grads)):
        shape = oshape + x._data.shape
        if g is None:
            if strict and m:
                raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. This is "
                                   "not allowed in strict mode.")
            g = _wrap(np.zeros(shape, x._data.dtype))
        elif create_graph:
            if strict and not g._requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. This "
                                   "is not allowed in strict mode when create_graph=True.")
            g = _own(g if g._data.shape == shape else g.reshape(shape))
        else:  # the pass recorded nothing: reshape the array, skip the op
            gd = g._data
            if gd.shape != shape:
                gd = gd.reshape(shape)
            g = _wrap(gd if gd.flags.writeable else gd.copy())  # never hand out the cached basis
        row.append(g)
    return tuple(row)


def _jacfwd(func: Callable, inputs):
    """Forward mode: one pass of ``func`` on dual inputs whose tangents are the identity basis
    (split across the inputs) with a leading batch dimension."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    for x in inputs:
        if x._data.dtype.kind not in "fc":
            raise ValueError(f"Expected primal to be floating point or complex, but got: {x.dtype}")
    numels = tuple(x._data.size for x in inputs)
    total = sum(numels)
    with _DualLevel() as level:
        basis = basis_rows(inputs, 0, total, shared=True)
        duals = tuple(make_dual_batched(x, b, level) for x, b in zip(inputs, basis))
        outputs = func(*duals)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        tangents = _tangents(outputs, level)
    rows = []
    for out, t in zip(outputs, tangents):
        oshape = out._data.shape
        if t is None:
            rows.append([_wrap(np.zeros(oshape + x._data.shape, out._data.dtype)) for x in inputs])
            continue
        # (total,) + out.shape -> out.shape + (total,), then one block of columns per input
        t = t.movedim(0, -1) if t._data.ndim > 1 else t
        row = []
        start = 0
        for x, n in zip(inputs, numels):
            block = t if n == total else t[..., start:start + n]
            row.append(_own(block.reshape(oshape + x._data.shape)))
            start += n
        rows.append(row)
    # as PyTorch's forward mode: lists where its reverse mode gives tuples (single output, tuple inputs)
    return _unpack2(rows, is_outputs_tuple, is_inputs_tuple)


# ----------------------------------------------------------------------------- second order


def _single_output(func: Callable, inputs: tuple, fn: str, strict: bool) -> Tensor:
    """``func(*inputs)``, checked to be a single Tensor with one element (hessian, hvp, vhp)."""
    out = func(*inputs)
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn)
    _check_requires_grad(outs, "outputs", strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if out._data.size != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")
    return out


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode", *,
            chunk_size: int | None = None, max_memory: int | str | None = None, out=None,
            progress: bool | None = None, executor=None, retries: int = 1):
    """The Hessian of a scalar function: ``H[i][j]`` has shape ``inputs[i].shape + inputs[j].shape``.

    The Jacobian of the (reverse-mode) gradient, taken in reverse mode or, with
    ``outer_jacobian_strategy="forward-mode"``, forward-over-reverse. The options for big
    Hessians are ``jacobian``'s, applied to that outer Jacobian.

    >>> import autojac
    >>> from autojac.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), autojac.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    fwd = outer_jacobian_strategy == "forward-mode"

    def scalar_func(*inp):
        return _single_output(func, inp, "hessian", strict).squeeze()

    def jac_func(*inp):
        if fwd:  # the duals must require grad for the inner (reverse) Jacobian to keep its graph
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = _jacrev(scalar_func, inp, create_graph=True, strict=False)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy, chunk_size=chunk_size, max_memory=max_memory, out=out,
                   progress=progress, executor=executor, retries=retries)
    return res if out is not None else _unpack2(res, is_inputs_tuple, is_inputs_tuple)


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for a scalar function, by reverse-over-reverse.

    >>> import autojac
    >>> from autojac.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), autojac.tensor([1., 2.]), autojac.tensor([1., 1.]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "vhp", create_graph, _V_NONE_INPUT)
        out = _single_output(func, inputs, "vhp", strict)
        jac = _autograd_grad((out,), inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
    res = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return _finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), is_inputs_tuple)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar function, by forward-over-reverse: one backward pass
    on dual inputs carrying ``v``; the tangent of the gradient is ``H v``.

    >>> import autojac
    >>> from autojac.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), autojac.tensor([1., 2.]), autojac.tensor([1., 1.]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "hvp", create_graph, _V_NONE_INPUT)
        with _DualLevel() as level:
            duals = tuple(make_dual_batched(x, t, level) for x, t in zip(inputs, v))
            out = _single_output(func, duals, "hvp", strict)
            # strict needs the gradient's graph (does it depend on the inputs?); create_graph the tangent's
            jac = _autograd_grad((out,), duals, create_graph=create_graph or strict)
            _check_requires_grad(jac, "jacobian", strict)
            tangents = _tangents(jac, level)
            _tangents((out,), level)
    res = _fill_in_zeros(tangents, inputs, strict, create_graph, "double_back_trick")
    return _finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), is_inputs_tuple)
