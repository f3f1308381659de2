"""A LeNet-style MNIST CNN as users write it (conv -> relu -> max_pool twice, BatchNorm2d,
Dropout, `torch.flatten(x, 1)`, linear head, `log_softmax`): eager, traced, scripted (against
TorchScript) and imported with `xjit.from_torch`, on torch's random weights."""

from __future__ import annotations

import numpy as np
import torch
from model_oracle import assert_close, compare, twins

import xjit


def build(torch):
    nn = torch.nn
    F = torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
            self.bn1 = nn.BatchNorm2d(6)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.dropout = nn.Dropout(0.25)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, num_classes)

        def forward(self, x):
            x = self.pool(F.relu(self.bn1(self.conv1(x))))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = self.dropout(torch.flatten(x, 1))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return F.log_softmax(self.fc3(x), dim=1)

    return LeNet


def _models():
    t, x = twins(build)
    with torch.no_grad():  # running statistics that matter
        t.bn1.running_mean.normal_()
        t.bn1.running_var.uniform_(0.5, 2.0)
        t.bn1.weight.normal_()
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    return t, x


def _images(seed: int, n: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(np.float32)


def test_lenet_eager_and_traced() -> None:
    t, x = _models()
    traced = compare(t, x, _images(0))
    want = t(torch.from_numpy(_images(1)))
    assert_close(traced(xjit.from_numpy(_images(1))), want, "traced, second input")


def test_lenet_scripted() -> None:
    t, x = _models()
    a = _images(2)
    want = torch.jit.script(t)(torch.from_numpy(a))
    assert_close(xjit.jit.script(x)(xjit.from_numpy(a)), want, "scripted")


def test_lenet_from_torch() -> None:
    t, _ = _models()
    m = xjit.from_torch(t, (torch.from_numpy(_images(3)),))
    for seed in (3, 4):
        a = _images(seed)
        with torch.no_grad():
            assert_close(m(xjit.from_numpy(a)), t(torch.from_numpy(a)), f"imported, seed {seed}")
