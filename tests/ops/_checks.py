"""The checks every op-table row gets (``test_table.py`` runs each on every row it applies to).

- ``value``: dtype, shape, ``requires_grad``, ``grad_fn`` name and value against torch (float64, float32);
- ``grad``: the VJP against ``torch.autograd.grad``, gradient dtypes included (float64, float32);
- ``second_derivative``: a double backward through a ``create_graph=True`` gradient, w.r.t. the inputs and the
  cotangent, against torch;
- ``finite_differences``: the VJP against float64 central differences (eps 1e-6);
- ``batched``: DESIGN.md decision 3, a batched cotangent (``is_grads_batched=True``) equals the stacked
  single VJPs, for the op (``vjp``) and for its create_graph gradient (``vjp_of_grad``);
- ``batched_create_graph``: a batched create_graph VJP differentiates like the loop (the Hessian path);
- ``jvp``: the JVP rules run forward op by op: ``<v, J t> = <J^T v, t>``, batched tangents equal the
  loop of single ones, and (real rows) ``autojac.func.jacfwd``, one pass of batched tangents through the
  forward engine, equals the rules driven on the same basis;
- ``jvp_finite_differences``: the JVP rules against central differences;
- ``forward_mode``: ``autojac.func.jvp`` against ``torch.func.jvp``;
- ``real_loss``: complex rows, ``backward()`` of the real losses ``sum |f|^2``, ``sum Re f`` and ``sum |f|``
  into ``.grad`` of complex and real leaves, against torch.

A row with complex inputs runs in complex128/complex64 (its real inputs in float64/float32), with complex
cotangents and tangents; a VJP then is the gradient of ``Re(sum(conj(v) * f))`` (PyTorch's convention).
Tolerances come from the row (``_case.Case``) and are floored by dtype in ``_tol``.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import _vmap_oracle as vm
from ._case import Case
from ._oracle import (
    B,
    assert_all_close,
    assert_close,
    autojac,
    batched_then_differentiated,
    batched_vs_loop,
    fd_jvp,
    fd_vjp,
    floating,
    func_jacfwd,
    func_jvp,
    inner,
    jvp_rules,
    lib_tensors,
    normal_like,
    out_arrays,
    outputs,
    rng_for,
    second,
    to_np,
    torch,
    vjp,
)

LOSSES = {  # real losses of a complex function (for ``real_loss``)
    "abs2": lambda y: (y.abs() ** 2).sum(),
    "real": lambda y: y.real.sum(),
    "abs": lambda y: y.abs().sum(),
}


def _high(dtype: str) -> bool:
    return dtype in ("float64", "complex128")


def _cotangents(case: Case, rng: np.random.Generator, xs: list) -> list:
    return [normal_like(rng, o.shape, o.dtype) for o in out_arrays(torch, case.fn, xs)]


def _tangents(rng: np.random.Generator, xs: list, batch: tuple = ()) -> list:
    return [normal_like(rng, batch + x.shape, x.dtype) for x in xs]


def _grad_tol(case: Case, dtype: str) -> tuple:
    """The tolerance of a VJP or JVP against torch's at ``dtype``."""
    return (max(1e-9, case.rtol), case.gatol) if _high(dtype) else (max(case.g32[0], case.rtol), case.g32[1])


def _grad_fn_name(t) -> str | None:
    if t.grad_fn is None:
        return None
    return type(t.grad_fn).__name__ if isinstance(t, torch.Tensor) else t.grad_fn.name()


def value(case: Case, dtype: str) -> None:
    rtol, atol = (case.vtol, case.vtol / 100) if _high(dtype) else case.f32
    xs = case.inputs()
    got = outputs(case.fn(autojac, *lib_tensors(autojac, xs, dtype)))
    want = outputs(case.fn(torch, *lib_tensors(torch, xs, dtype)))
    assert len(got) == len(want), "number of outputs"
    for i, (g, w) in enumerate(zip(got, want)):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], f"output {i} dtype"
        assert tuple(g.shape) == tuple(w.shape), f"output {i} shape"
        assert g.requires_grad == w.requires_grad, f"output {i} requires_grad"
        if case.names:
            assert _grad_fn_name(g) == _grad_fn_name(w), f"output {i} grad_fn"
        assert_close(to_np(g), to_np(w), f"output {i}", rtol, atol)


def grad(case: Case, dtype: str) -> None:
    rtol, atol = _grad_tol(case, dtype)
    xs = case.inputs()
    vs = _cotangents(case, rng_for("v" + case.id), xs)
    got = vjp(autojac, case.fn, xs, vs, dtype)
    want = vjp(torch, case.fn, xs, vs, dtype)
    assert [g.dtype for g in got] == [w.dtype for w in want], "gradient dtypes"
    assert_all_close(got, want, "vjp", rtol, atol)


def second_derivative(case: Case, dtype: str = "float64") -> None:
    rtol, atol = (case.rtol, case.rtol / 10) if _high(dtype) else (10 * case.g32[0], 10 * case.g32[1])
    xs = case.inputs()
    rng = rng_for("w" + case.id)
    vs = _cotangents(case, rng, xs)
    ws = _tangents(rng, xs)
    got = second(autojac, case.fn, xs, vs, ws, dtype)
    want = second(torch, case.oracle or case.fn, xs, vs, ws, dtype)
    assert_all_close(got, want, "d(grad.w)/d(inputs, cotangent)", rtol, atol)


def finite_differences(case: Case) -> None:
    xs = case.inputs()
    vs = _cotangents(case, rng_for("fd" + case.id), xs)
    assert_all_close(vjp(autojac, case.fn, xs, vs), fd_vjp(case.fn, xs, vs), "vjp vs central differences",
                     case.fdtol, case.fdtol / 10)


def batched(case: Case, order: int) -> None:
    got, stacked = batched_vs_loop(case.fn, case.inputs(), rng_for(f"b{order}" + case.id), order)
    if order == 1:
        assert got, "nothing was differentiated"
    assert_all_close(got, stacked, f"is_grads_batched order {order}", *case.btol)


def batched_create_graph(case: Case) -> None:
    got, loop = batched_then_differentiated(case.fn, case.inputs(), rng_for("bc" + case.id))
    assert_all_close(got, loop, "d/dx of a batched create_graph VJP", max(case.rtol, 1e-10), case.atol2)


def jvp(case: Case) -> None:
    xs = case.inputs()
    rng = rng_for("jvp" + case.id)
    ts = _tangents(rng, xs)
    vs = _cotangents(case, rng, xs)
    if case.adjoint:
        jt = jvp_rules(case.fn, xs, ts, 0)
        vj = vjp(autojac, case.fn, xs, vs)
        ys = out_arrays(autojac, case.fn, xs)  # where a value is nan (logdet < 0) its tangent may be too
        lhs = sum(inner(v, np.where(np.isnan(y), 0.0, j)) for y, v, j in zip(ys, vs, jt))
        rhs = sum(inner(g, t) for g, t in zip(vj, ts))
        assert_close(np.array(lhs), np.array(rhs), "<v, J t> vs <J^T v, t>", max(case.rtol, 1e-10),
                     max(case.rtol / 10, 1e-10))
    big = _tangents(rng, xs, (B,))
    got = jvp_rules(case.fn, xs, big, 1)
    loop = [jvp_rules(case.fn, xs, [t[b] for t in big], 0) for b in range(B)]
    assert_all_close(got, [np.stack([lp[i] for lp in loop]) for i in range(len(got))], "batched JVP", *case.btol)
    if not case.is_complex:  # (func.jacfwd takes no complex inputs)
        _jacfwd_is_the_rules_on_a_basis(case, xs)


def _jacfwd_is_the_rules_on_a_basis(case: Case, xs: list) -> None:
    """``func.jacfwd`` (one pass of batched tangents through the forward engine) == the rules driven on a basis."""
    sizes = [x.size for x in xs]
    basis = np.eye(sum(sizes))  # every input direction at once: tangents with a leading batch dim
    offsets = np.cumsum([0] + sizes)
    tangents = [basis[:, a:b].reshape((-1,) + x.shape) for a, b, x in zip(offsets, offsets[1:], xs)]
    want = []
    for jt in jvp_rules(case.fn, xs, tangents, 1):  # per output: (directions,) + output shape
        for a, b, x in zip(offsets, offsets[1:], xs):  # -> output shape + input shape, as jacfwd
            block = jt[a:b].reshape(x.shape + jt.shape[1:])
            want.append(np.moveaxis(block, list(range(x.ndim)), list(range(block.ndim - x.ndim, block.ndim))))
    assert_all_close(func_jacfwd(autojac, case.fn, xs), want, "func.jacfwd vs the JVP rules on a basis", *case.btol)


def jvp_finite_differences(case: Case) -> None:
    xs = case.inputs()
    ts = _tangents(rng_for("jfd" + case.id), xs)
    assert_all_close(jvp_rules(case.fn, xs, ts, 0), fd_jvp(case.fn, xs, ts), "JVP vs central differences",
                     case.fdtol, case.fdtol / 10)


def forward_mode(case: Case, dtype: str = "float64") -> None:
    xs = case.inputs()
    ts = _tangents(rng_for("fwd" + case.id), xs)
    assert_all_close(func_jvp(autojac, case.fn, xs, ts, dtype), func_jvp(torch, case.oracle or case.fn, xs, ts, dtype),
                     "func.jvp vs torch.func.jvp", *_grad_tol(case, dtype))


def real_loss(case: Case, loss: str, dtype: str) -> None:
    xs = case.inputs()
    grads = []
    for T in (autojac, torch):
        ts = lib_tensors(T, xs, dtype)
        for out in floating(outputs(case.fn(T, *ts))):
            LOSSES[loss](out).backward(retain_graph=True)
        grads.append([None if t.grad is None else to_np(t.grad) for t in ts])
    for i, (g, w) in enumerate(zip(*grads)):
        if w is None:  # an input torch leaves without a gradient: ours has none or zeros
            assert g is None or not g.any(), f"input {i}: a gradient where torch has none"
            continue
        assert g is not None and g.dtype == w.dtype, f"input {i}: gradient dtype"
        assert_close(g, w, f"grad of {loss}, input {i}", *_grad_tol(case, dtype))


# --------------------------------------------------------------------------- vmap (issue 10)
def vmap(case: Case, in_dims: tuple) -> None:
    """The row vmapped over a batch of its inputs (``in_dims``: 0 batched, None shared) against torch's loop:
    values, and the gradient of a random contraction of the outputs w.r.t. the batched inputs."""
    xs = case.inputs()
    arrays = [b if d == 0 else x for b, x, d in zip(vm.batch_of(xs, case.id), xs, in_dims)]
    try:
        tx, ty = vm.run(torch, case.fn, arrays, in_dims, vm.torch_loop)
    except RuntimeError as e:  # a random op under randomness="error": autojac refuses the same way
        assert "randomness" in str(e)
        with pytest.raises(RuntimeError, match="randomness error mode"):
            vm.run(autojac, case.fn, arrays, in_dims, autojac.func.vmap)
        return
    ax, ay = vm.strict(lambda: vm.run(autojac, case.fn, arrays, in_dims, autojac.func.vmap))
    assert len(ay) == len(ty), "number of outputs"
    for i, (a, t) in enumerate(zip(ay, ty)):
        assert tuple(a.shape) == tuple(t.shape), f"output {i} shape"
        assert_close(to_np(a.detach()), to_np(t.detach()), f"output {i}", *vm.tols(ty, 1e-9, 1e-11, case))
    tf = floating(ty)
    wanted = [i for i, x in enumerate(tx) if x.requires_grad]
    if not wanted or not any(t.requires_grad for t in tf):
        return
    pairs = [(a, t) for a, t in zip(floating(ay), tf) if t.requires_grad]
    ws = [normal_like(rng_for("vmapw" + case.id), tuple(t.shape), _np_dtype(t)) for _, t in pairs]
    tg = vm.contraction_grads(torch, [t for _, t in pairs], [tx[i] for i in wanted], ws)
    ag = vm.contraction_grads(autojac, [a for a, _ in pairs], [ax[i] for i in wanted], ws)
    for i, a, t in zip(wanted, ag, tg):
        if t is None:
            assert a is None or not np.any(to_np(a)), f"gradient of input {i}: torch has none"
            continue
        assert a is not None, f"gradient of input {i} missing"
        assert_close(to_np(a), to_np(t), f"gradient of input {i}", *vm.tols(ty, 1e-8, 1e-10, case))


def vmap_of_vjp(case: Case) -> None:
    """Per-element VJPs under vmap (``vmap(grad)``, per-sample gradients): the rules run on batched values."""
    xs = case.inputs()
    outs0 = floating(outputs(case.fn(torch, *[torch.tensor(x) for x in xs])))
    if not outs0 or not all(x.dtype.kind in "fc" for x in xs):
        return
    big = vm.batch_of(xs, case.id)
    rng = rng_for("vmapv" + case.id)
    cots = [np.stack([normal_like(rng, tuple(o.shape), _np_dtype(o)) for _ in range(vm.B)]) for o in outs0]
    f = vm.per_element_vjp(autojac, case, len(xs))
    got = vm.strict(lambda: autojac.func.vmap(f)(*[autojac.tensor(b) for b in big], *[autojac.tensor(c) for c in cots]))
    tf = vm.per_element_vjp(torch, case, len(xs))
    want = [tf(*[torch.tensor(b[i]) for b in big], *[torch.tensor(c[i]) for c in cots]) for i in range(vm.B)]
    for k in range(len(xs)):
        w = torch.stack([r[k] for r in want])
        assert_close(to_np(got[k]), to_np(w), f"vjp of input {k}", *vm.tols([w], 1e-8, 1e-10, case))


def _np_dtype(t) -> type:
    return np.complex128 if t.dtype.is_complex else np.float64
