"""Training loops: 100 Adam steps of a seeded MLP and of a small CNN, autojac vs PyTorch eager.

Both libraries start from the same float32 parameters (plain leaf tensors, no nn.Module) and
see the same minibatches; one call is 100 steps of ``zero_grad``, forward, ``cross_entropy``,
``backward`` and ``Adam.step``. The table gives the time per step (median over repeats); the
final losses of both are printed and must agree. A third row times ``Adam.step`` alone on the
MLP's parameters.

    MLP  784-256-10, ReLU, batch 64
    CNN  conv 1->8 3x3, ReLU, conv 8->16 3x3 stride 2, ReLU, flatten, linear -> 10; input 64x1x28x28
"""

from __future__ import annotations

from functools import partial

from _timing import autojac, compare, np, parse_args, table, torch

STEPS = 100
BATCH = 64


def _uniform(rng, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def mlp_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [_uniform(rng, (256, 784), 784), _uniform(rng, 256, 784), _uniform(rng, (10, 256), 256),
              _uniform(rng, 10, 256)]
    x = rng.standard_normal((4 * BATCH, 784)).astype(np.float32)
    y = rng.integers(0, 10, 4 * BATCH)
    return params, x, y


def cnn_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [_uniform(rng, (8, 1, 3, 3), 9), _uniform(rng, 8, 9), _uniform(rng, (16, 8, 3, 3), 72),
              _uniform(rng, 16, 72), _uniform(rng, (10, 16 * 12 * 12), 16 * 12 * 12), _uniform(rng, 10, 16 * 12 * 12)]
    x = rng.standard_normal((4 * BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4 * BATCH)
    return params, x, y


def mlp_forward(F, p, x):
    return F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3])


def cnn_forward(F, p, x):
    h = F.relu(F.conv2d(x, p[0], p[1]))
    h = F.relu(F.conv2d(h, p[2], p[3], stride=2))
    return F.linear(h.flatten(1), p[4], p[5])


def train(lib, forward, problem, steps: int = STEPS) -> float:
    """``steps`` Adam steps from the problem's initial parameters; returns the last loss."""
    params0, x, y = problem
    F = lib.nn.functional
    params = [lib.tensor(p, requires_grad=True) for p in params0]
    xs = [lib.tensor(x[i:i + BATCH]) for i in range(0, len(x), BATCH)]
    ys = [lib.tensor(y[i:i + BATCH]) for i in range(0, len(y), BATCH)]
    opt = lib.optim.Adam(params, lr=1e-3)
    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(forward(F, params, xs[step % len(xs)]), ys[step % len(ys)])
        loss.backward()
        opt.step()
    return loss.item()


def adam_step_only(lib, params0):
    params = [lib.tensor(p, requires_grad=True) for p in params0]
    for p in params:
        p.grad = lib.ones_like(p) * 1e-3
    opt = lib.optim.Adam(params, lr=1e-3)
    return opt.step


def main() -> None:
    args = parse_args(__doc__)
    rows, losses = [], []
    for name, forward, problem in [("MLP 784-256-10 ReLU, batch 64", mlp_forward, mlp_problem()),
                                   ("CNN conv8-conv16/2-linear, 64x1x28x28", cnn_forward, cnn_problem())]:
        la, lt = train(autojac, forward, problem), train(torch, forward, problem)
        if not np.isclose(la, lt, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"{name}: final losses disagree: autojac {la} vs PyTorch {lt}")
        losses.append(f"{name}: final loss autojac {la:.6f}, PyTorch {lt:.6f}")
        times = compare({"autojac": partial(train, autojac, forward, problem),
                         "PyTorch": partial(train, torch, forward, problem)}, args.repeats, args.target)
        rows.append({"workload": f"{name}, per Adam step", **{k: v / STEPS for k, v in times.items()}})
    params0 = mlp_problem()[0]
    rows.append({"workload": "Adam.step alone, MLP parameters (203k floats)",
                 **compare({"autojac": adam_step_only(autojac, params0), "PyTorch": adam_step_only(torch, params0)},
                           args.repeats, args.target)})
    table(f"Training, {STEPS} Adam steps (float32)", rows, note="\n".join(losses))


if __name__ == "__main__":
    main()
