"""Layers: `Linear` and the activation modules."""

from __future__ import annotations

import math
from typing import Any

from xjit import _creation
from xjit.nn import functional as F
from xjit.nn.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b, initialised as torch does: W, b ~ U(-1/√in, 1/√in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        rng = _creation.generator()
        self.weight = Parameter(
            rng.uniform(-bound, bound, (out_features, in_features)).astype("float32")
        )
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (out_features,)).astype("float32"))
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Any) -> Any:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def forward(self, input: Any) -> Any:
        return F.relu(input)


class Tanh(Module):
    def forward(self, input: Any) -> Any:
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input: Any) -> Any:
        return F.sigmoid(input)
