"""The seed tutorials' examples as a guided tour: each step's code, what it prints, the formula it checks.

``autojac tour`` prints it (``--lang zh`` in the seeds' own words); ``examples/seeds_walk.py``
runs the same steps' code, so the two never drift apart. Every step's code runs unchanged under
``import autojac as torch``; where a seed drew random numbers without a seed, the values it
printed are used instead. Each ``check`` is the step's formula evaluated on its numbers.

>>> steps = [s for sec in SECTIONS for s in sec.steps]
>>> all(s.formula_en and s.formula_zh for s in steps)
True
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import autojac


@dataclass(frozen=True)
class Step:
    """One example: ``code`` prints what the seed printed; ``check`` is its formula as a True/False expression."""

    code: str
    formula_en: str
    formula_zh: str
    check: str = ""
    try_it: str = ""  # the same derivative with the calculator


@dataclass(frozen=True)
class Section:
    seed: str
    title_en: str
    title_zh: str
    steps: tuple[Step, ...]

    def title(self, lang: str = "en") -> str:
        return f"{self.seed}: {self.title_zh if lang == 'zh' else self.title_en} (seed {self.seed})"


SEED_000 = Section("000", "vector and matrix derivatives, Jacobians", "向量微分、矩阵微分与雅可比矩阵", (
    Step("""from autojac.autograd.functional import jacobian
def func(x):
    return x.exp().sum(dim=1)
x = torch.tensor([[-1.1897,  0.1149, -0.7102],[ 2.3557, -0.0798, -1.4557]])
print(x); y = func(x); print(y); print(jacobian(func, x))""",
         "y_i = sum_j exp(x_ij), so dy_i/dx_kj = exp(x_ij) if k == i, else 0: J has shape (2, 2, 3)",
         "向量对向量: y_i = Σ_j exp(x_ij), 故 ∂y_i/∂x_kj = exp(x_ij) (k = i), 否则为 0; J 的形状为 (2, 2, 3)",
         "torch.allclose(jacobian(func, x)[0, 0], x[0].exp()) and jacobian(func, x)[0, 1].abs().sum() == 0",
         'autojac jacobian "exp(x).sum(1)" --at x="[[-1.1897,0.1149,-0.7102],[2.3557,-0.0798,-1.4557]]"'),
    Step("""a = torch.tensor([-0.9941,  0.0499, -0.8455])
def func(x):
    return a+x
print(a)
x = torch.tensor([ 0.1459,  0.0730, -1.1449])
print(x)
print(jacobian(func, x))""",
         "f(x) = a + x, so J = I (the identity)",
         "f(x) = a + x, 故雅可比矩阵 J = I (单位矩阵)",
         "torch.equal(jacobian(func, x), torch.eye(3))"),
    Step("""# the seed's x = torch.randn(3, requires_grad=True) was not printed: the printed y minus the printed a
x = torch.tensor([-0.1856, -1.3303, -1.8820], requires_grad=True)
y = func(x); print(y)
y.backward(torch.ones_like(y)); print(x.grad)
print(torch.ones_like(y) @ jacobian(func, x))""",
         "y.backward(v) computes v^T J: with v = ones and J = I that is ones",
         "y.backward(v) 计算 v^T J: v 全为 1, J = I, 结果全为 1 (@ 矩阵相乘)",
         "torch.equal(x.grad, torch.ones_like(y) @ jacobian(func, x))"),
    Step("""a = torch.tensor([[ 0.7477, -1.0058, -2.2361],[-0.2903, -0.3600, -0.5330]], requires_grad=True)
b = torch.tensor([[-2.1878,  0.5005],[ 0.2652, -1.4495],[-0.5458,  0.8088]], requires_grad=True)
print(a); print(b)
y = a @ b; print(y)
y.backward(torch.ones_like(y)); print(a.grad); print(b.grad)""",
         "y = a @ b with cotangent V = ones: a.grad = V b^T, b.grad = a^T V",
         "矩阵对矩阵, 退化成向量梯度算: y = a @ b, V 全为 1: a.grad = V b^T, b.grad = a^T V",
         "torch.allclose(a.grad, torch.ones(2, 2) @ b.T) and torch.allclose(b.grad, a.T @ torch.ones(2, 2))",
         'autojac vjp "a @ b" --at a="randn(2,3)" --at b="randn(3,2)" --v "ones(2,2)" --seed 0'),
    Step("""def func(a):
    return a @ b
print(torch.ones_like(func(a[0])) @ jacobian(func, a[0]))
print(torch.ones_like(func(a[1])) @ jacobian(func, a[1]))""",
         "row i of a.grad is ones^T J of a[i] -> a[i] @ b (the gradient of a's first and second rows)",
         "求a的第一行梯度, 求a的第二行梯度: 每一行都是 ones^T J",
         "torch.allclose(torch.ones(2) @ jacobian(func, a[0]), a.grad[0])"),
    Step("""def func(b):
    return a @ b
print(torch.ones_like(func(b[:, 0])) @ jacobian(func, b[:, 0]))
print(torch.ones_like(func(b[:, 1])) @ jacobian(func, b[:, 1]))""",
         "column j of b.grad is ones^T J of b[:, j] -> a @ b[:, j]",
         "求b的第一列梯度, 求b的第二列梯度",
         "torch.allclose(torch.ones(2) @ jacobian(func, b[:, 0]), b.grad[:, 0])"),
))

SEED_002 = Section("002", "a Jacobian row by row with autograd.grad", "使用PyTorch的自动求导功能 计算雅可比矩阵", (
    Step("""def calculate_jacobian(x, y):
    J = torch.zeros(y.size()[0], x.size()[0])
    grad_y = torch.zeros(y.size())
    for i in range(y.size()[0]):
        grad_y.zero_()
        grad_y[i] = 1
        x_grads = torch.autograd.grad(y, x, grad_outputs=grad_y, retain_graph=True, create_graph=True)[0]
        J[i] = x_grads
    return J
x = torch.tensor([2.0, 3.0], requires_grad=True)
y = x**2
J = calculate_jacobian(x, y)
print(J)""",
         "row i of J is e_i^T J (one autograd.grad with grad_outputs = e_i); y = x^2 gives J = diag(2x)",
         "对于一个具有m个输入和n个输出的函数,雅可比矩阵的大小为n×m; 将计算得到的梯度存储到雅可比矩阵的第i行: "
         "J = diag(2x)",
         "torch.equal(J.detach(), torch.diag(2 * x.detach()))",
         'autojac jacobian "x**2" --at x=[2.,3.]'),
))

SEED_003 = Section("003", "derivatives and gradients", "Pytorch中的导数与梯度", (
    Step("""x = torch.ones(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
print("grad of x: ", x.grad)""",
         "out = (1/4) sum_i 3(x_i + 2)^2, so d out/dx_i = (6 x_i + 12)/4 = 4.5 at x = 1",
         "out = (1/4) Σ z_i, z_i = 3(x_i+2)^2, 故 ∂out/∂x_i = (6x_i+12)/4 = 4.5 (标量out关于矩阵x的梯度)",
         "torch.allclose(x.grad, (6 * x.detach() + 12) / 4)",
         'autojac grad "(3*(x+2)**2).mean()" --at x="ones(2,2)"'),
    Step("""x = torch.ones(3, requires_grad=True)
y = x * 2
v = torch.tensor([0.1, 1.0, 10], dtype=torch.float)
y.backward(v)
print(x.grad)""",
         "y is a vector: y.backward(v) gives J^T v; here J = 2I, so x.grad = 2v",
         "y 是向量, 不能直接 backward; 传入向量 v 得到 J^T · v; J = 2I, 故 x.grad = 2v",
         "torch.allclose(x.grad, 2 * v)",
         'autojac vjp "x*2" --at x="ones(3)" --v "[0.1, 1.0, 10]"'),
))

SEED_004 = Section("004", "backward, grad, jacobian and hessian",
                   "tensor.backward, autograd.grad, jacobian 与 hessian", (
    Step("""print(torch.manual_seed(42))
x = torch.arange(3., requires_grad=True)
y = x*x
try:  # In [4] keeps `# y.backward()` commented out: y is not a scalar
    y.backward()
except RuntimeError as e:
    print('y.backward():', e)""",
         "backward() needs a scalar: a vector y needs the vector v of J^T v",
         "tensor.backward 对非标量输出 (for non-scalar outputs) 需要给出 v, 计算 J^T·v",
         "y.shape == (3,)"),
    Step("""y.backward(gradient=torch.ones_like(x), retain_graph=True)
print(x.grad)
y.backward(gradient=torch.tensor([1., 2., 3.]), retain_graph=True)
print(x.grad)""",
         "J = diag(2x) (no coupling between the variables); J^T v = 2x * v, and .grad accumulates: "
         "[0,2,4] + [0,4,12]",
         "变量之间没有交叉耦合关系，因此 jacobian 是对角矩阵 J = diag(2x); J^T v = 2x·v, 梯度累加: [0,2,4] + [0,4,12]",
         "torch.equal(x.grad, 2 * x.detach() * torch.tensor([2., 3., 4.]))",
         'autojac jacobian "x*x" --at x="arange(3.)"'),
    Step("""a = torch.tensor([1., 2.], requires_grad=True)
b = torch.tensor([2., 3.], requires_grad=True)
Q = 3*a**3 - b**2
Q.backward(gradient=torch.ones(2, dtype=torch.float32), retain_graph=True)
print(a.grad)
print(b.grad)
a.grad.zero_()
print(b.grad.zero_())""",
         "Q = 3a^3 - b^2: J_Q^T v with v = ones gives dQ/da = 9a^2, dQ/db = -2b",
         "multi input tensors: Q = 3a^3 - b^2, J_Q^T v = [9a_1^2, -2b_1, 9a_2^2, -2b_2]",
         "torch.equal(torch.autograd.grad(Q.sum(), a, retain_graph=True)[0], 9 * a.detach()**2)",
         'autojac jacobian "3*a**3 - b**2" --at a=[1.,2.] --at b=[2.,3.]'),
    Step("""x = torch.arange(4., requires_grad=True)
y = x*x
u = y
z = u*x
z.sum().backward()
print(x.grad)""",
         "z = u*x = y*x = x^3 (x --> y --> u --> z, and x --> z), so dz/dx = 3x^2",
         "z = u·x = y·x = (x·x)·x = x^3, 故 dz/dx = 3x^2",
         "torch.equal(x.grad, 3 * x.detach()**2)",
         'autojac grad "(x*x*x).sum()" --at x="arange(4.)"'),
    Step("""x = torch.arange(4., requires_grad=True)
y = x*x
u = y.detach()
z = u*x
z.sum().backward()
print(x.grad, u)""",
         "detaching the computation graph: u = y.detach() is a constant, so z = u*x gives dz/dx = u = x^2",
         "detaching computation graph: u = y.detach() 是常量, z = u·x, ∂z/∂x = u",
         "torch.equal(x.grad, u)",
         'autojac graph "y = x*x; u = y.detach(); z = u*x" --at x="arange(4.)"'),
    Step("""x = torch.rand(3, 4)
print(x.requires_grad_())
print(torch.autograd.grad(x.sum(), x))""",
         "d(sum x)/dx = ones (rand(3, 4) after manual_seed(42) draws PyTorch's numbers)",
         "case1: torch.autograd.grad(x.sum(), x) 全为 1 (x = torch.rand(3, 4), in_place requires_grad_)",
         "torch.equal(torch.autograd.grad(x.sum(), x)[0], torch.ones(3, 4))"),
    Step("""x = torch.tensor([2.0, 3.0], requires_grad=True)
y = x ** 2
print(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))[0])
print(torch.autograd.functional.jacobian(lambda x: x**2, x))
print(x)""",
         "grad_outputs v makes autograd.grad a vector-Jacobian product: ones^T diag(2x) = 2x",
         "case2: 当 output 非标量时，需要指定 grad_outputs 参数 (VJP: vector-jacobian product): ones^T diag(2x) = 2x",
         "torch.equal(torch.autograd.functional.jacobian(lambda x: x**2, x), torch.diag(2 * x.detach()))"),
    Step("""y = torch.stack([x[0]**2, x[0]*x[1], x[1]**2])
print(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), retain_graph=True))
print(torch.autograd.grad(y, x, grad_outputs=torch.tensor([1., 2., 3.])))
# the commented-out variant: torch.tensor([...]) makes a new leaf cut from x, so its Jacobian is zero
print(torch.autograd.functional.jacobian(
    lambda x: torch.tensor([x[0]**2, x[0]*x[1], x[1]**2], requires_grad=True), x))
print(torch.autograd.functional.jacobian(lambda x: torch.stack([x[0]**2, x[0]*x[1], x[1]**2]), x))""",
         "f = [x^2, xy, y^2]: J_f = [[2x, 0], [y, x], [0, 2y]] = [[4, 0], [3, 2], [0, 6]]; "
         "vjp = [1 2 3] J_f = [10, 22]",
         "f(x) = [x^2, xy, y^2]: J_f = [[2x, 0], [y, x], [0, 2y]] = [[4, 0], [3, 2], [0, 6]]; vjp = [1 2 3] J_f",
         "torch.equal(torch.autograd.functional.jacobian(lambda x: torch.stack([x[0]**2, x[0]*x[1], x[1]**2]), x), "
         "torch.tensor([[4., 0.], [3., 2.], [0., 6.]]))",
         'autojac jacobian "stack([x[0]**2, x[0]*x[1], x[1]**2])" --at x=[2.,3.] --latex'),
    Step("""def flat_grad(y, x, retain_graph=False, create_graph=False):
    if create_graph:
        retain_graph = True
    g = torch.autograd.grad(y, x, retain_graph=retain_graph, create_graph=create_graph)
    g = torch.cat([t.view(-1) for t in g])
    return g
def f(x):
    return (x**2).sum()
x = torch.arange(4, dtype=torch.float32, requires_grad=True)
print(x)
print(flat_grad(f(x), x))
f(x).backward()
print(x.grad)""",
         "flat_grad: the gradient of f(x) = sum x^2 is 2x, flattened; backward() gives the same",
         "flat_grad: f(x) = Σ x^2 的梯度为 2x; f(x).backward() 结果相同",
         "torch.equal(flat_grad(f(x), x), x.grad)",
         'autojac grad "(x**2).sum()" --at x="arange(4.)"'),
    Step("""def f(x):
    return x * x * torch.arange(4, dtype=torch.float)
def jacobian(y, x, create_graph=False):
    jac = []
    flat_y = y.reshape(-1)
    grad_y = torch.zeros_like(flat_y)
    for i in range(len(flat_y)):
        grad_y[i] = 1.
        grad_x, = torch.autograd.grad(flat_y, x, grad_y, retain_graph=True, create_graph=create_graph)
        jac.append(grad_x.reshape(x.shape))
        grad_y[i] = 0.
    return torch.stack(jac).reshape(y.shape + x.shape)
x = torch.ones(4, requires_grad=True)
print(x, f(x), f(x).reshape(-1).shape)
J = torch.autograd.functional.jacobian(f, x)
print(J)
print(jacobian(f(x), x))""",
         "f = [0, x_2^2, 2x_3^2, 3x_4^2]: J = diag(0, 2x_2, 4x_3, 6x_4) = diag(0, 2, 4, 6) at x = 1",
         "f(x) = [0, x_2^2, 2x_3^2, 3x_4^2]: J = diag(0, 2x_2, 4x_3, 6x_4)",
         "torch.equal(J, torch.diag(torch.tensor([0., 2., 4., 6.])))",
         'autojac jacobian "x*x*arange(4.)" --at x="ones(4)"'),
    Step("""def hessian(y, x):
    return jacobian(jacobian(y, x, create_graph=True), x)
print(hessian(f(x), x))""",
         "the Hessian of the vector f is a (4, 4, 4) stack: H_i = d^2 f_i/dx^2 has one entry 2i at (i, i)",
         "hessian: (H_f)_{i,j} = ∂^2 f/∂x_i∂x_j; 向量 f 的 hessian 形状为 (4, 4, 4)",
         "torch.equal(hessian(f(x), x)[3], torch.diag(torch.tensor([0., 0., 0., 6.])))"),
    Step("""def f_0(x):
    return (x * x * torch.arange(4, dtype=torch.float32))[0]
def f_1(x):
    return (x * x * torch.arange(4, dtype=torch.float32))[1]
def f_2(x):
    return (x * x * torch.arange(4, dtype=torch.float32))[2]
def f_3(x):
    return (x * x * torch.arange(4, dtype=torch.float32))[3]
print(torch.autograd.functional.hessian(f_0, x))
print(torch.autograd.functional.hessian(f_1, x))
print(torch.autograd.functional.hessian(f_2, x))
print(torch.autograd.functional.hessian(f_3, x))""",
         "f_i = i x_i^2 is scalar: its Hessian is 2i at (i, i), zero elsewhere",
         "f: R^n -> R 的 hessian: f_i = i·x_i^2, 只有 (i, i) 处为 2i",
         "torch.equal(torch.autograd.functional.hessian(f_2, x), torch.diag(torch.tensor([0., 0., 4., 0.])))",
         'autojac hessian "(x*x*arange(4.))[3]" --at x="ones(4)"'),
    Step("""from functools import partial
def f_i(x, i):
    return (x*x*torch.arange(4, dtype=torch.float))[i]
print(torch.autograd.functional.hessian(partial(f_i, i=3), x))""",
         "the same with functools.partial: f_3 = 3 x_4^2 has Hessian 6 at (3, 3)",
         "用 functools.partial 得到同样的 hessian: f_3 = 3x_4^2, (3, 3) 处为 6",
         "torch.equal(torch.autograd.functional.hessian(partial(f_i, i=3), x), "
         "torch.autograd.functional.hessian(f_3, x))"),
))

SECTIONS: tuple[Section, ...] = (SEED_000, SEED_002, SEED_003, SEED_004)


# ---------------------------------------------------------------------- running the steps
def new_namespace() -> dict[str, Any]:
    """The globals a section's steps share: ``torch`` is autojac."""
    return {"torch": autojac, "__name__": "__tour__"}


def run_step(step: Step, namespace: dict[str, Any]) -> bool | None:
    """Run a step's code (printing what it prints), then its check; returns the check's outcome.

    Checks read values only (they never backward through the step's graphs), so running them or
    not leaves the following steps unchanged.
    """
    exec(compile(step.code, "<tour>", "exec"), namespace)  # our own example code, not user input
    if not step.check:
        return None
    try:
        return bool(eval(step.check, namespace))
    except Exception as e:  # a failed check is reported, never a traceback in the middle of the tour
        print(f"check raised {type(e).__name__}: {e}")
        return False


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


_WORDS = {
    "en": {"intro": "A walk through the seed tutorials' examples, run with `import autojac as torch`.\n"
                    "Each step: the code, what it prints, the formula it checks, and the check.",
           "formula": "formula", "checked": "checked", "failed": "CHECK FAILED", "try": "calculator",
           "done": "{n} steps, {ok} formulas checked numerically."},
    "zh": {"intro": "种子教程中的例子 (以 `import autojac as torch` 运行)。\n"
                    "每一步: 代码、输出、它验证的公式, 以及数值验证。",
           "formula": "公式", "checked": "已验证", "failed": "验证失败", "try": "计算器",
           "done": "共 {n} 步, {ok} 个公式已数值验证。"},
}


def run_tour(lang: str = "en", color: bool = True, out: TextIO | None = None) -> int:
    """Print the tour; returns the number of failed checks (0 when every formula holds)."""
    out = out or sys.stdout
    if lang == "zh" and hasattr(out, "reconfigure") and (out.encoding or "").lower() not in ("utf-8", "utf8"):
        out.reconfigure(errors="replace")  # a terminal without UTF-8 still gets the numbers
    style = _Style(color and out.isatty() and "NO_COLOR" not in os.environ)
    words = _WORDS[lang]
    print(words["intro"], file=out)
    n = ok = failed = 0
    for section in SECTIONS:
        print("\n" + style("=" * 72, "2"), file=out)
        print(style(section.title(lang), "1"), file=out)
        print(style("=" * 72, "2"), file=out)
        namespace = new_namespace()
        for step in section.steps:
            n += 1
            print(file=out)
            for i, line in enumerate(step.code.splitlines()):
                print(style((">>> " if i == 0 or not line.startswith((" ", ")")) else "... ") + line, "36"),
                      file=out)
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                result = run_step(step, namespace)
            print(buffer.getvalue().rstrip("\n"), file=out)
            formula = step.formula_zh if lang == "zh" else step.formula_en
            print(style(f"{words['formula']}: {formula}", "33"), file=out)
            if result is not None:
                ok += result
                failed += not result
                mark = style(f"✓ {words['checked']}: {step.check}", "32") if result else style(
                    f"✗ {words['failed']}: {step.check}", "31")
                print(mark, file=out)
            if step.try_it:
                print(style(f"{words['try']}: {step.try_it}", "35"), file=out)
                if step.try_it.startswith("autojac graph"):  # the picture is the point: draw it here
                    print(_calculator(step.try_it), file=out)
    print("\n" + words["done"].format(n=n, ok=ok), file=out)
    return failed


def _calculator(command: str) -> str:
    """What an ``autojac ...`` command line prints (run in this process)."""
    import shlex

    from .main import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(shlex.split(command)[1:])
    return buffer.getvalue().rstrip("\n")


def walk() -> None:
    """What ``examples/seeds_walk.py`` prints: every section's code run in order, outputs only."""
    for section in SECTIONS:
        print()
        print("=" * 72)
        print(section.title())
        print("=" * 72)
        namespace = new_namespace()
        for step in section.steps:
            run_step(step, namespace)
