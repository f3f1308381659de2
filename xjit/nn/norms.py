"""GroupNorm, InstanceNorm1d/2d and RMSNorm (modules and functionals), as torch computes them:
statistics over the listed dims with the biased variance, then the per-channel (or per-element)
affine. Written over registry ops, so tracing records their ops."""

from __future__ import annotations

from typing import Any, List, Optional  # noqa: UP035  (as TorchScript reads annotations)

import numpy as np

from xjit._tensor import Tensor
from xjit.nn.module import Module, Parameter, affine_parameters, running_stats
from xjit.nn.module import factory_kwargs as _factory_kwargs
from xjit.nn.script_marks import is_scripting
from xjit.ops.types import float64


def _normalized_groups(
    x: Tensor,
    groups: int,
    weight: Optional[Tensor],  # noqa: UP045  (annotations as TorchScript reads them)
    bias: Optional[Tensor],  # noqa: UP045
    eps: float,
) -> Tensor:
    """`x` (N, C, *) normalised per sample over each of `groups` channel groups (the biased
    variance), then the per-channel affine. Written with sizes only (no rank), so scripted code
    compiles it once for every input."""
    n, c = x.size(0), x.size(1)
    g = x.reshape([n, groups, -1])
    centred = g - g.mean(-1, keepdim=True)
    var = (centred * centred).mean(-1, keepdim=True)
    y = (centred * (var + eps).rsqrt()).reshape([n, c, -1])
    if weight is not None:
        y = y * weight.reshape([-1, 1])
    if bias is not None:
        y = y + bias.reshape([-1, 1])
    return y.reshape(x.size())


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Optional[Tensor] = None,  # noqa: UP045
    bias: Optional[Tensor] = None,  # noqa: UP045
    eps: float = 1e-5,
) -> Tensor:
    if input.dim() < 2:
        raise RuntimeError("group_norm: expected an input with at least 2 dimensions")
    if input.size(1) % num_groups != 0:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got "
            f"{input.size(1)} channels and num_groups={num_groups}"
        )
    return _normalized_groups(input, num_groups, weight, bias, eps)


def instance_norm(
    input: Tensor,
    running_mean: Optional[Tensor] = None,  # noqa: UP045
    running_var: Optional[Tensor] = None,  # noqa: UP045
    weight: Optional[Tensor] = None,  # noqa: UP045
    bias: Optional[Tensor] = None,  # noqa: UP045
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Each (sample, channel) normalised over its spatial dims; with `use_input_stats=False`,
    by the running statistics instead (batch norm in eval mode)."""
    if use_input_stats:
        return _normalized_groups(input, input.size(1), weight, bias, eps)
    if running_mean is None or running_var is None:
        raise RuntimeError("instance_norm: use_input_stats=False needs running statistics")
    n, c = input.size(0), input.size(1)
    y = (input.reshape([n, c, -1]) - running_mean.reshape([-1, 1])) * (
        running_var.reshape([-1, 1]) + eps
    ).rsqrt()
    if weight is not None:
        y = y * weight.reshape([-1, 1])
    if bias is not None:
        y = y + bias.reshape([-1, 1])
    return y.reshape(input.size())


def rms_norm(input: Any, normalized_shape: Any, weight: Any = None, eps: Any = None) -> Any:
    """x / sqrt(mean(x²) + eps) over the trailing `normalized_shape` dims (eps defaults to the
    dtype's machine epsilon, as torch)."""
    dims = [-(i + 1) for i in range(len(normalized_shape))]
    return _rms_norm(input, dims, weight, eps)


def _rms_norm(
    input: Tensor,
    dims: List[int],  # noqa: UP006
    weight: Optional[Tensor] = None,  # noqa: UP045  (as TorchScript reads annotations)
    eps: Optional[float] = None,  # noqa: UP045
) -> Tensor:
    # the input dtype's epsilon by default, as torch; scripted code takes float32's (its dtype
    # test is not compiled yet): for float64 inputs that adds 1.2e-7 instead of 2.2e-16
    e = _FLOAT32_EPS
    if eps is not None:
        e = eps
    elif not is_scripting() and input.dtype == float64:
        e = _FLOAT64_EPS
    y = input * ((input * input).mean(dims, keepdim=True) + e).rsqrt()
    return y if weight is None else y * weight


_FLOAT32_EPS = float(np.finfo(np.float32).eps)
_FLOAT64_EPS = float(np.finfo(np.float64).eps)


class GroupNorm(Module):
    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        affine_parameters(self, num_channels, affine, bias)
        _factory_kwargs(self, device, dtype)

    def forward(self, input: Any) -> Any:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _InstanceNorm(Module):
    _rank = 0  # the unbatched input's rank; a batch dim adds one

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        affine_parameters(self, num_features, affine, bias)
        running_stats(self, num_features, track_running_stats)
        _factory_kwargs(self, device, dtype)

    def forward(self, input: Any) -> Any:
        if input.dim() not in (self._rank, self._rank + 1):
            raise ValueError(
                f"expected {self._rank}D or {self._rank + 1}D input (got {input.dim()}D input)"
            )
        unbatched = input.dim() == self._rank
        x = input.unsqueeze(0) if unbatched else input
        use_input_stats = self.training or not self.track_running_stats
        y = instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats,
            0.1 if self.momentum is None else self.momentum,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    _rank = 2


class InstanceNorm2d(_InstanceNorm):
    _rank = 3


class RMSNorm(Module):
    def __init__(
        self,
        normalized_shape: Any,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, np.float32))
        else:
            self.register_parameter("weight", None)
        _factory_kwargs(self, device, dtype)

    def forward(self, input: Any) -> Any:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
