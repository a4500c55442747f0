"""Two public PyTorch tutorial programs that use torch.nn, run unchanged under ``import autojac as torch``.

Each program is kept as the tutorial's text (with smaller sizes where noted, so the suite stays fast),
run once with ``torch`` and once with its imports pointed at ``autojac``; the printed numbers must agree.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import torch

import autojac

# pytorch/tutorials, beginner_source/examples_nn/polynomial_nn.py (2000 steps, as published)
POLYNOMIAL_NN = '''
import torch
import math

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)

loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-6
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
      f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
'''

# pytorch/tutorials, intermediate_source/per_sample_grads.py (CPU; batch 8 and 8/16 channels instead of
# 64 and 32/64, so that the loop over samples stays fast; the program is otherwise the tutorial's)
PER_SAMPLE_GRADS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)

class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.fc1 = nn.Linear(16 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output

def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)

device = 'cpu'

num_models = 10
batch_size = 8
data = torch.randn(batch_size, 1, 28, 28, device=device)

targets = torch.randint(10, (batch_size,), device=device)

model = SimpleCNN().to(device=device)
predictions = model(data)  # move the entire mini-batch through the model

loss = loss_fn(predictions, targets)
loss.backward()  # back propagate the 'average' gradient of this mini-batch
print(loss.item())

def compute_grad(sample, target):
    sample = sample.unsqueeze(0)  # prepend batch dimension for processing
    target = target.unsqueeze(0)

    prediction = model(sample)
    loss = loss_fn(prediction, target)

    return torch.autograd.grad(loss, list(model.parameters()))


def compute_sample_grads(data, targets):
    """ manually process each sample with per sample gradient """
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    sample_grads = [torch.stack(shards) for shards in sample_grads]
    return sample_grads

per_sample_grads = compute_sample_grads(data, targets)
print(per_sample_grads[0].shape)

from torch.func import functional_call, vmap, grad

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}

def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)

    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss

ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)

for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
    print(per_sample_grad.abs().sum().item(), ft_per_sample_grad.norm().item())
'''


def as_autojac(program: str) -> str:
    """The program with its ``torch`` imports pointed at autojac (names in the code stay ``torch``)."""
    program = re.sub(r"^import torch$", "import autojac as torch", program, flags=re.M)
    program = re.sub(r"^import torch\.(\S+) as (\w+)$", r"import autojac.\1 as \2", program, flags=re.M)
    return re.sub(r"^from torch\.(\S+) import", r"from autojac.\1 import", program, flags=re.M)


def run(program: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(program, "<tutorial>", "exec"), {"__name__": "__tutorial__"})
    return out.getvalue()


def numbers(text: str) -> np.ndarray:
    return np.array([float(s) for s in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+", text)])


def compare(program: str, rtol: float) -> None:
    theirs = run(program)
    ours = run(as_autojac(program))
    assert "autojac" not in theirs
    assert re.sub(r"[-\d.e+]+", "#", ours).replace("autojac", "torch") == re.sub(r"[-\d.e+]+", "#", theirs)
    np.testing.assert_allclose(numbers(ours), numbers(theirs), rtol=rtol, atol=1e-6)


def test_polynomial_nn_tutorial():
    # the tutorial does not seed: Linear's init draws from the default generator, seeded here for both
    autojac.manual_seed(0)
    torch.manual_seed(0)
    compare(POLYNOMIAL_NN, rtol=2e-5)  # float32 sums over 2000 points, 2000 steps


def test_per_sample_grads_tutorial():
    compare(PER_SAMPLE_GRADS, rtol=5e-5)  # float32 norms of 2304x128 per-sample gradients
