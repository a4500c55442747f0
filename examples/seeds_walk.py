"""A walk through the seed tutorials' examples, run unchanged under ``import autojac as torch``.

Where a seed drew random numbers without a seed, the values it printed are used instead.
"""

import autojac as torch


def section(title: str) -> None:
    print()
    print("=" * 72)
    print(title)
    print("=" * 72)



def seed_000() -> None:
    section('000: vector and matrix derivatives, Jacobians (seed 000)')
    from autojac.autograd.functional import jacobian
    def func(x):
        return x.exp().sum(dim=1)
    x = torch.tensor([[-1.1897,  0.1149, -0.7102],[ 2.3557, -0.0798, -1.4557]])
    print(x); y = func(x); print(y); print(jacobian(func, x))
    a = torch.tensor([-0.9941,  0.0499, -0.8455])
    def func(x):
        return a+x
    print(a)
    x = torch.tensor([ 0.1459,  0.0730, -1.1449])
    print(x)
    print(jacobian(func, x))
    # the seed's x = torch.randn(3, requires_grad=True) was not printed: the printed y minus the printed a
    x = torch.tensor([-0.1856, -1.3303, -1.8820], requires_grad=True)
    y = func(x); print(y)
    y.backward(torch.ones_like(y)); print(x.grad)
    print(torch.ones_like(y) @ jacobian(func, x))
    a = torch.tensor([[ 0.7477, -1.0058, -2.2361],[-0.2903, -0.3600, -0.5330]], requires_grad=True)
    b = torch.tensor([[-2.1878,  0.5005],[ 0.2652, -1.4495],[-0.5458,  0.8088]], requires_grad=True)
    print(a); print(b)
    y = a @ b; print(y)
    y.backward(torch.ones_like(y)); print(a.grad); print(b.grad)
    def func(a):
        return a @ b
    print(torch.ones_like(func(a[0])) @ jacobian(func, a[0]))
    print(torch.ones_like(func(a[1])) @ jacobian(func, a[1]))
    def func(b):
        return a @ b
    print(torch.ones_like(func(b[:, 0])) @ jacobian(func, b[:, 0]))
    print(torch.ones_like(func(b[:, 1])) @ jacobian(func, b[:, 1]))


def seed_002() -> None:
    section('002: a Jacobian row by row with autograd.grad (seed 002)')
    def calculate_jacobian(x, y):
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
    print(J)


def seed_003() -> None:
    section('003: derivatives and gradients (seed 003)')
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    print("grad of x: ", x.grad)
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    v = torch.tensor([0.1, 1.0, 10], dtype=torch.float)
    y.backward(v)
    print(x.grad)


def seed_004() -> None:
    section('004: backward, grad, jacobian and hessian (seed 004)')
    print(torch.manual_seed(42))
    x = torch.arange(3., requires_grad=True)
    y = x*x
    try:  # In [4] keeps `# y.backward()` commented out: y is not a scalar
        y.backward()
    except RuntimeError as e:
        print('y.backward():', e)
    y.backward(gradient=torch.ones_like(x), retain_graph=True)
    print(x.grad)
    y.backward(gradient=torch.tensor([1., 2., 3.]), retain_graph=True)
    print(x.grad)
    a = torch.tensor([1., 2.], requires_grad=True)
    b = torch.tensor([2., 3.], requires_grad=True)
    Q = 3*a**3 - b**2
    Q.backward(gradient=torch.ones(2, dtype=torch.float32), retain_graph=True)
    print(a.grad)
    print(b.grad)
    a.grad.zero_()
    print(b.grad.zero_())
    x = torch.arange(4., requires_grad=True)
    y = x*x
    u = y
    z = u*x
    z.sum().backward()
    print(x.grad)
    x = torch.arange(4., requires_grad=True)
    y = x*x
    u = y.detach()
    z = u*x
    z.sum().backward()
    print(x.grad, u)
    x = torch.rand(3, 4)
    print(x.requires_grad_())
    print(torch.autograd.grad(x.sum(), x))
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x ** 2
    print(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))[0])
    print(torch.autograd.functional.jacobian(lambda x: x**2, x))
    print(x)
    y = torch.stack([x[0]**2, x[0]*x[1], x[1]**2])
    print(torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), retain_graph=True))
    print(torch.autograd.grad(y, x, grad_outputs=torch.tensor([1., 2., 3.])))
    # the commented-out variant: torch.tensor([...]) makes a new leaf cut from x, so its Jacobian is zero
    print(torch.autograd.functional.jacobian(
        lambda x: torch.tensor([x[0]**2, x[0]*x[1], x[1]**2], requires_grad=True), x))
    print(torch.autograd.functional.jacobian(lambda x: torch.stack([x[0]**2, x[0]*x[1], x[1]**2]), x))
    def flat_grad(y, x, retain_graph=False, create_graph=False):
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
    print(x.grad)
    def f(x):
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
    print(jacobian(f(x), x))
    def hessian(y, x):
        return jacobian(jacobian(y, x, create_graph=True), x)
    print(hessian(f(x), x))
    def f_0(x):
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
    print(torch.autograd.functional.hessian(f_3, x))
    from functools import partial
    def f_i(x, i):
        return (x*x*torch.arange(4, dtype=torch.float))[i]
    print(torch.autograd.functional.hessian(partial(f_i, i=3), x))


if __name__ == '__main__':
    seed_000()
    seed_002()
    seed_003()
    seed_004()
