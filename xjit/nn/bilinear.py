"""`nn.Bilinear` / `F.bilinear`, over matmul and a reduction (traced like any other code)."""

from __future__ import annotations

import math
from typing import Any

from xjit import _creation
from xjit.nn.module import Module, Parameter, factory_kwargs


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
    """`F.bilinear`: y[..., o] = x1[..., i] W[o, i, j] x2[..., j] + b[o]."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            "bilinear(): input batch dimensions do not match: got "
            f"{input1.dim() - 1} leading dims of sizes other than the second input's"
        )
    if (
        weight.dim() != 3
        or input1.shape[-1] != weight.shape[1]
        or input2.shape[-1] != weight.shape[2]
    ):
        raise RuntimeError(
            f"bilinear(): input sizes {input1.shape[-1]}, {input2.shape[-1]} do not match the "
            f"weight's in1 and in2 sizes, {weight.shape[1]} and {weight.shape[2]} "
            "(weight: [out, in1, in2])"
        )
    lead = list(input1.shape[:-1])
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    # (x1 W_o) · x2 per output o: [B, in1] @ [in1, O*in2] -> [B, O, in2], times x2, summed
    o, i1, i2 = weight.shape[0], weight.shape[1], weight.shape[2]
    t = x1.matmul(weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + [o])


class Bilinear(Module):
    """y = x1ᵀ A x2 + b, weight [out, in1, in2] ~ U(-1/√in1, 1/√in1), bias likewise (torch)."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        bound = 1 / math.sqrt(in1_features) if in1_features > 0 else 0.0
        rng = _creation.generator()
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype("float32"))
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (out_features,)).astype("float32"))
        else:
            self.register_parameter("bias", None)
        factory_kwargs(self, device, dtype)

    def forward(self, input1: Any, input2: Any) -> Any:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
