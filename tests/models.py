"""Models the tests share: the PyTorch tutorial's first MyCell (`tanh(linear(x) + h)`, also in
examples/mycell.py) and the oracle for it, and the tutorial's scripted models (decision gate,
gated cell, RNN loop), so each test file does not keep its own copy."""

from __future__ import annotations

import numpy as np

import xjit as torch


class MyCell(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def mycell_numpy(cell: MyCell, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The oracle, written independently of xjit's ops."""
    w = cell.linear.weight.numpy().astype(np.float64)
    b = cell.linear.bias.numpy().astype(np.float64)
    return np.tanh(x.astype(np.float64) @ w.T + b + h)


# The tutorial's scripted models (examples/intro_tutorial.py): a data-dependent gate, the cell
# that calls it, and a loop over a cell.
class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyGatedCell(torch.nn.Module):
    """The tutorial's second MyCell: `tanh(dg(linear(x)) + h)` with a decision gate `dg`."""

    def __init__(self, dg):
        super().__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


class MyRNNLoop(torch.nn.Module):
    """The tutorial's loop over a cell (given, rather than traced in `__init__`)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class WrapRNN(torch.nn.Module):
    """The tutorial's wrapper: `relu` of the loop's output."""

    def __init__(self, loop):
        super().__init__()
        self.loop = loop

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


class RebindNet(torch.nn.Module):
    """A linear layer, an activation submodule and a registered buffer: what tests rebind after
    compiling (tests/test_rebinding.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.act = torch.nn.LeakyReLU(0.1)
        self.register_buffer("b", torch.ones(4))

    def forward(self, x):
        return self.act(self.fc(x)) + self.b
