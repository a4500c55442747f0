"""vmap: six public workloads, torch.func against autojac's vmap and against a Python loop (issue 10).

Each workload is written once against a namespace ``T`` (``torch`` or ``autojac``) and a ``vmap``
(the library's ``T.func.vmap``, or ``loop_vmap``: the mapped function called on each slice and the
results stacked, the code one writes without vmap), so the three columns run the same program:

    HIPS tanh       vmap(grad(grad(grad(grad(tanh))))) over 700 points (HIPS autograd's README example)
    vmap(jacrev)    predict(w, b, x) = linear(x, w, b).tanh(), D=16, Jacobian in x, batch 64
                    (torch.func jacobians_hessians tutorial)
    NTK vps         empirical neural tangent kernel, vector-product method (torch.func NTK tutorial):
                    vmap(vmap(get_ntk)) of vmap(jvp-of-vjp) over the output basis, small CNN via functional_call
    Lennard-Jones   one training step of functorch's Lennard-Jones example: forces = -vmap(jacrev(model))
                    over 1000 distances, MSE on energies and forces, gradient in the model's parameters
    MAML            one meta step of functorch's MAML sine regression: vmap over tasks of an inner grad step
    vmap(hessian)   hessian(predict) in x, D=16, batch 64 (jacobians_hessians tutorial)
    per-sample MLP  per-sample gradients vmap(grad(loss), in_dims=(None, 0, 0)) of an MLP 64-256-256-10,
                    batch 64 (torch.func per-sample-grads tutorial; DESIGN.md's figure)

Every value is checked against torch.func (allclose, float32 tolerances) once before timing; a
mismatch or an exception prints a warning line and the row goes on. Figures are medians of
interleaved repeats (``_timing.compare``, one thread); a variant whose first call takes over
``SLOW_S`` seconds is reported from that single call. ``--quick`` takes fewer repeats,
``--only NAME`` runs one row (a substring of its name).
"""

from __future__ import annotations

import argparse
import math
import time

from _timing import autojac, compare, fmt_time, np, torch

SLOW_S = 30.0  # a variant slower than this on its first (checked) call is not repeated
ROWS = ("HIPS tanh", "vmap(jacrev)", "NTK vps", "Lennard-Jones", "MAML", "vmap(hessian)", "per-sample MLP")


def loop_vmap(T):
    """A ``vmap(func, in_dims, out_dims)`` stand-in for ``T`` that loops over the batch in Python.

    ``in_dims`` is an int or None per positional argument (tensors only); outputs are tensors or
    tuples of tensors, stacked along ``out_dims``.
    """

    def vmap(func, in_dims=0, out_dims=0, randomness="error"):
        def wrapped(*args):
            dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
            n = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
            outs = [func(*(a if d is None else a.select(d, i) for a, d in zip(args, dims))) for i in range(n)]
            if isinstance(outs[0], tuple):
                return tuple(T.stack(list(col), dim=out_dims) for col in zip(*outs))
            return T.stack(outs, dim=out_dims)

        return wrapped

    return vmap


def _uniform(rng, shape, fan_in):
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


# --- the workloads: build(T, vmap) -> a callable returning the result to check -------------------------

def hips_tanh(T, vmap):
    g = T.func.grad
    d4 = vmap(g(g(g(g(T.tanh)))))
    x = T.tensor(np.linspace(-7.0, 7.0, 700, dtype=np.float32))
    return lambda: d4(x)


def _predict(T):
    F = T.nn.functional
    return lambda weight, bias, x: F.linear(x, weight, bias).tanh()


def _predict_problem(T, batch=64, d=16):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((d, d)).astype(np.float32)
    b = rng.standard_normal(d).astype(np.float32)
    x = rng.standard_normal((batch, d)).astype(np.float32)
    return T.tensor(w), T.tensor(b), T.tensor(x)


def vmap_jacrev(T, vmap):
    w, b, x = _predict_problem(T)
    f = vmap(T.func.jacrev(_predict(T), argnums=2), in_dims=(None, None, 0))
    return lambda: f(w, b, x)


def vmap_hessian(T, vmap):
    w, b, x = _predict_problem(T)
    f = vmap(T.func.hessian(_predict(T), argnums=2), in_dims=(None, None, 0))
    return lambda: f(w, b, x)


def _cnn(T):
    nn = T.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, (3, 3))
            self.conv2 = nn.Conv2d(8, 8, (3, 3))
            self.fc = nn.Linear(8 * 8 * 8, 10)

        def forward(self, x):
            x = self.conv1(x).relu()
            x = self.conv2(x).relu()
            return self.fc(x.flatten(1))

    return CNN()


def ntk_vps(T, vmap):
    """The NTK tutorial's ``empirical_ntk_ntk_vps(fnet_single, params, x_test, x_train)``, compute='full'."""
    fc = T.func
    net = _cnn(T)
    rng = np.random.default_rng(2)
    params = {k: T.tensor(_uniform(rng, tuple(v.shape), max(1, v[0].numel()))) for k, v in net.named_parameters()}
    x_train = T.tensor(rng.standard_normal((20, 3, 12, 12)).astype(np.float32))
    x_test = T.tensor(rng.standard_normal((5, 3, 12, 12)).astype(np.float32))

    def fnet_single(params, x):
        return fc.functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def get_ntk(x1, x2):
        output, vjp_fn = fc.vjp(lambda p: fnet_single(p, x1), params)

        def get_ntk_slice(vec):
            (vjps,) = vjp_fn(vec)  # vec @ J(x1)
            return fc.jvp(lambda p: fnet_single(p, x2), (params,), (vjps,))[1]  # J(x2) @ that

        basis = T.eye(output.numel(), dtype=output.dtype).view(output.numel(), -1)
        return vmap(get_ntk_slice)(basis)

    f = vmap(vmap(get_ntk, (None, 0)), (0, None))
    return lambda: f(x_test, x_train)


def lennard_jones(T, vmap):
    """One step of functorch's examples/lennard_jones: energies and -vmap(jacrev(model)) forces, their
    MSE against the analytic Lennard-Jones values, and the gradient in the model's parameters."""
    nn, F = T.nn, T.nn.functional
    sigma, epsilon = 0.5, 4.0
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16),
                          nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    rng = np.random.default_rng(3)
    with T.no_grad():
        for p in model.parameters():
            p.copy_(T.tensor(_uniform(rng, tuple(p.shape), p.shape[-1])))
    params = list(model.parameters())
    r = T.tensor(np.linspace(0.5, 2 * sigma, 1000, dtype=np.float32))
    drs = T.outer(r, T.tensor([1.0, 0.0, 0.0]))
    norms = T.norm(drs, dim=1).reshape(-1, 1)
    energies = epsilon * ((sigma / norms) ** 12 - (sigma / norms) ** 6)
    forces = -epsilon * ((-12 * sigma ** 12 / norms ** 13) + (6 * sigma ** 6 / norms ** 7)) * drs
    per_point_jacobian = vmap(T.func.jacrev(model))

    def step():
        n = T.norm(drs, dim=1).reshape(-1, 1)
        predicted_energies = model(n)
        predicted_forces = -per_point_jacobian(n).squeeze(-1) * drs / n
        loss = F.mse_loss(energies, predicted_energies) + 0.01 * F.mse_loss(forces, predicted_forces) / 3
        return (loss, *T.autograd.grad(loss, params))

    return step


def maml(T, vmap, tasks=12, k=20, alpha=0.1):
    """One meta step of functorch's examples/maml_regression (sine waves, a 1-40-40-1 ReLU MLP): per task
    one inner gradient step on (x1, y1), the loss of the adapted net on (x2, y2); mean over tasks
    vmapped, then the gradient in the meta parameters."""
    F = T.nn.functional
    rng = np.random.default_rng(4)
    params = tuple(T.tensor(a, requires_grad=True) for a in (
        rng.uniform(-1, 1, (40, 1)).astype(np.float32), np.zeros(40, np.float32),
        _uniform(rng, (40, 40), 40), np.zeros(40, np.float32), _uniform(rng, (1, 40), 40), np.zeros(1, np.float32)))
    amp, phase = rng.uniform(0.1, 0.5, (tasks, 1, 1)), rng.uniform(0, math.pi, (tasks, 1, 1))
    x1, x2 = (rng.uniform(-5, 5, (tasks, k, 1)) for _ in range(2))
    task = [T.tensor(a.astype(np.float32)) for a in (x1, amp * np.sin(x1 + phase), x2, amp * np.sin(x2 + phase))]

    def net(p, x):
        x = F.relu(F.linear(x, p[0], p[1]))
        x = F.relu(F.linear(x, p[2], p[3]))
        return F.linear(x, p[4], p[5])

    def mse(a, b):
        return ((a - b) ** 2).mean()

    def loss_for_task(x1, y1, x2, y2):
        grads = T.func.grad(lambda p, x, y: mse(net(p, x), y))(params, x1, y1)
        adapted = [p - alpha * g for p, g in zip(params, grads)]
        return mse(net(adapted, x2), y2)

    per_task = vmap(loss_for_task)

    def step():
        loss = per_task(*task).mean()
        return (loss, *T.autograd.grad(loss, params))

    return step


def per_sample_mlp(T, vmap, batch=64):
    """The per-sample-grads tutorial: cross-entropy of one example, its gradient in every parameter, vmapped."""
    F = T.nn.functional
    rng = np.random.default_rng(5)
    sizes = (64, 256, 256, 10)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [T.tensor(_uniform(rng, (fan_out, fan_in), fan_in)), T.tensor(_uniform(rng, (fan_out,), fan_in))]
    x = T.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    y = T.tensor(rng.integers(0, sizes[-1], batch))

    def loss(p, xi, yi):
        h = F.relu(F.linear(xi, p[0], p[1]))
        h = F.relu(F.linear(h, p[2], p[3]))
        out = F.linear(h, p[4], p[5])
        return F.cross_entropy(out.unsqueeze(0), yi.unsqueeze(0))

    f = vmap(T.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: f(tuple(params), x, y)


WORKLOADS = dict(zip(ROWS, (hips_tanh, vmap_jacrev, ntk_vps, lennard_jones, maml, vmap_hessian, per_sample_mlp)))


# --- checking and timing ----------------------------------------------------------------------------------

def _numpy(x):
    return [np.asarray(t.detach().numpy(), dtype=np.float64) for t in (x if isinstance(x, (tuple, list)) else (x,))]


def agree(got, want, rtol=1e-4, atol=1e-5) -> str:
    """'' when every tensor of ``got`` matches ``want`` (float32 tolerances, atol scaled by the
    magnitude), else what differs."""
    g, w = _numpy(got), _numpy(want)
    if len(g) != len(w):
        return f"{len(g)} outputs vs {len(w)}"
    for i, (a, b) in enumerate(zip(g, w)):
        if a.shape != b.shape:
            return f"output {i}: shape {a.shape} vs {b.shape}"
        scale = max(1.0, float(np.abs(b).max())) if b.size else 1.0
        if not np.allclose(a, b, rtol=rtol, atol=atol * scale):
            return f"output {i}: max abs diff {np.abs(a - b).max():.3g} (max |value| {scale:.3g})"
    return ""


def _first_call(fn):
    """Run ``fn`` once: (result, seconds) or (the exception, seconds)."""
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - a failing variant is reported and the bench goes on
        out = e
    return out, time.perf_counter() - t0


def run_row(name: str, repeats: int, target: float) -> dict:
    build = WORKLOADS[name]
    fns = {"torch.func": build(torch, torch.func.vmap), "autojac vmap": build(autojac, autojac.func.vmap),
           "autojac loop": build(autojac, loop_vmap(autojac))}
    firsts = {k: _first_call(f) for k, f in fns.items()}
    want = firsts["torch.func"][0]
    if isinstance(want, Exception):
        raise want
    row: dict = {"workload": name}
    timed = {}
    for k in ("autojac vmap", "autojac loop"):
        got, seconds = firsts[k]
        if isinstance(got, Exception):
            print(f"WARNING {name}: {k} raised {type(got).__name__}: {str(got)[:200]}")
            row[k] = None
            continue
        diff = agree(got, want)
        if diff:
            print(f"WARNING {name}: {k} disagrees with torch.func: {diff}")
        if seconds > SLOW_S:
            row[k] = seconds
        else:
            timed[k] = fns[k]
    timed["torch.func"] = fns["torch.func"]
    row.update(compare(timed, repeats, target))
    return row


def print_table(rows: list[dict]) -> None:
    cols = ["workload", "torch.func", "autojac vmap", "ratio", "autojac loop", "vmap/loop speedup"]
    cells = []
    for r in rows:
        t, v, lp = r["torch.func"], r.get("autojac vmap"), r.get("autojac loop")
        cells.append([r["workload"], fmt_time(t), fmt_time(v), f"{v / t:.2f}x" if v else "-", fmt_time(lp),
                      f"{lp / v:.2f}x" if v and lp else "-"])
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print(f"\nvmap workloads (numpy {np.__version__}, torch {torch.__version__} x{torch.get_num_threads()} thread, "
          f"autojac {autojac.__version__}); ratio = autojac vmap / torch.func, speedup = loop / vmap")
    for row in (cols, *cells):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if row is cols:
            print("-+-".join("-" * w for w in widths))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 short repeats instead of 7")
    p.add_argument("--only", metavar="NAME", help="run only the rows whose name contains NAME (case-insensitive)")
    p.add_argument("--repeats", type=int, default=None, help="repeats; the median is reported")
    args = p.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    target = 0.05 if args.quick else 0.2
    names = [n for n in ROWS if args.only is None or args.only.lower() in n.lower()]
    if not names:
        raise SystemExit(f"--only {args.only!r} matches none of {', '.join(ROWS)}")
    rows = []
    for name in names:
        t0 = time.perf_counter()
        rows.append(run_row(name, repeats, target))
        print(f"{name}: done in {time.perf_counter() - t0:.1f} s", flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
