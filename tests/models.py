"""Models the tests share: the PyTorch tutorial's first MyCell (`tanh(linear(x) + h)`, also in
examples/mycell.py) and the oracle for it, so each test file does not keep its own copy."""

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
