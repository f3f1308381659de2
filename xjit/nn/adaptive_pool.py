"""Adaptive pooling of any output size (`AdaptiveMaxPool1d/2d`, `AdaptiveAvgPool1d` and their
functionals): output i pools inputs [floor(i·n/m), ceil((i+1)·n/m)), torch's windows, which
overlap when m does not divide n. Each spatial dim is pooled in turn (a max or mean over a
rectangle is the max or mean over rows of those over columns), as a masked reduction over a
(m, n) window mask computed by ops.

Written in the TorchScript language, so that `xjit.jit.script` compiles these very functions."""

from __future__ import annotations

from typing import Any

from xjit import _creation
from xjit._tensor import Tensor
from xjit.nn.module import Module


def _windows(n_in: int, n_out: int) -> Tensor:
    """(n_out, n_in) bool: row i marks the inputs output i pools."""
    i = _creation.arange(n_out).unsqueeze(1)
    j = _creation.arange(n_in).unsqueeze(0)
    start = (i * n_in) // n_out
    end = ((i + 1) * n_in + n_out - 1) // n_out
    return (j >= start) & (j < end)


def _pool_last(x: Tensor, n_out: int, op: str) -> Tensor:
    """The last dim pooled to `n_out` windows: their max, or their mean."""
    w = _windows(x.size(-1), n_out)
    if op == "max":
        return x.unsqueeze(-2).where(w, float("-inf")).amax(-1)
    return (x.unsqueeze(-2) * w.to(x.dtype)).sum(-1) / w.sum(-1).to(x.dtype)


def _check(name: str, input: Tensor, n_spatial: int, return_indices: bool) -> bool:
    if input.dim() != n_spatial + 1 and input.dim() != n_spatial + 2:
        raise ValueError(
            f"{name}: expected {n_spatial + 1}D or {n_spatial + 2}D input "
            f"(got {input.dim()}D input)"
        )
    if return_indices:
        raise NotImplementedError(f"{name}(return_indices=True) is not supported")
    return True


def _adaptive1d(name: str, op: str, input: Tensor, output_size: Any) -> Tensor:
    _check(name, input, 1, False)
    out = output_size if isinstance(output_size, int) else output_size[0]
    if out is None:
        return input
    return _pool_last(input, out, op)


def _adaptive2d(name: str, op: str, input: Tensor, output_size: Any) -> Tensor:
    _check(name, input, 2, False)
    if isinstance(output_size, int):
        oh, ow = output_size, output_size
    else:
        oh, ow = output_size[0], output_size[1]
    x = input
    if ow is not None:
        x = _pool_last(x, ow, op)
    if oh is not None:
        x = _pool_last(x.transpose(-1, -2), oh, op).transpose(-1, -2)
    return x


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    return _adaptive1d("adaptive_avg_pool1d", "mean", input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Tensor:
    _check("adaptive_max_pool1d", input, 1, return_indices)
    return _adaptive1d("adaptive_max_pool1d", "max", input, output_size)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Tensor:
    _check("adaptive_max_pool2d", input, 2, return_indices)
    return _adaptive2d("adaptive_max_pool2d", "max", input, output_size)


class AdaptiveAvgPool1d(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError(
                f"{type(self).__name__}(return_indices=True) is not supported"
            )
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    def forward(self, input: Any) -> Any:
        return adaptive_max_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    def forward(self, input: Any) -> Any:
        return adaptive_max_pool2d(input, self.output_size)
