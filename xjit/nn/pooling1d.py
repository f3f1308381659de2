"""1-D average pooling (`AvgPool1d` and its functional) as the 2-D op on a unit height, so they
share the 2-D lowering (adaptive pooling: xjit/nn/adaptive_pool.py)."""

from __future__ import annotations

from typing import Any

from xjit.nn.conv_functional import avg_pool2d
from xjit.nn.module import Module


def _one(v: Any) -> int:
    return int(v[0]) if isinstance(v, (list, tuple)) else int(v)


def avg_pool1d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
    if input.dim() not in (2, 3):
        raise ValueError(f"avg_pool1d: expected 2D or 3D input (got {input.dim()}D input)")
    k = _one(kernel_size)
    s = k if stride is None else _one(stride)
    out = avg_pool2d(
        input.unsqueeze(-2), [1, k], [1, s], [0, _one(padding)], ceil_mode, count_include_pad
    )
    return out.squeeze(-2)


class AvgPool1d(Module):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = (_one(kernel_size),)
        self.stride = (_one(kernel_size if stride is None else stride),)
        self.padding = (_one(padding),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Any) -> Any:
        return avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
