"""GroupNorm, InstanceNorm1d/2d and RMSNorm (modules and functionals), as torch computes them:
statistics over the listed dims with the biased variance, then the per-channel (or per-element)
affine. Written over registry ops, so tracing records their ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit import _creation
from xjit.nn.module import Module, Parameter
from xjit.nn.module import factory_kwargs as _factory_kwargs


def _normalize(x: Any, dims: list[int], eps: float) -> Any:
    mean = x.mean(dims, keepdim=True)
    centred = x - mean
    var = (centred * centred).mean(dims, keepdim=True)
    return centred * (var + eps).rsqrt()


def _channel_affine(y: Any, weight: Any, bias: Any) -> Any:
    """y · weight + bias with one value per channel (dim 1)."""
    shape = [1] * y.dim()
    shape[1] = -1
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def group_norm(
    input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}"
        )
    n, c = input.shape[0], input.shape[1]
    if c % num_groups != 0:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    grouped = input.reshape([n, num_groups, -1])
    y = _normalize(grouped, [2], eps).reshape(list(input.shape))
    return _channel_affine(y, weight, bias)


def instance_norm(
    input: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Each (sample, channel) normalised over its spatial dims; with `use_input_stats=False`,
    by the running statistics instead (batch norm in eval mode)."""
    if use_input_stats:
        y = _normalize(input, [d for d in range(2, input.dim())], eps)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: use_input_stats=False needs running statistics")
        y = _channel_affine(input, None, -running_mean)
        y = _channel_affine(y, (running_var + eps).rsqrt(), None)
    return _channel_affine(y, weight, bias)


def rms_norm(
    input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None
) -> Any:
    """x / sqrt(mean(x²) + eps) over the trailing `normalized_shape` dims (eps defaults to the
    dtype's machine epsilon, as torch)."""
    shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    if list(input.shape[input.dim() - len(shape) :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={shape}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    if eps is None:
        eps = float(np.finfo(input.dtype.np).eps)
    dims = list(range(input.dim() - len(shape), input.dim()))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


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
        self.has_bias = affine and bias
        if affine:
            self.weight = Parameter(np.ones(num_channels, np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_channels, np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        _factory_kwargs(self, device, dtype)

    def forward(self, input: Any) -> Any:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.has_bias}"
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
        self.has_bias = affine and bias
        if affine:
            self.weight = Parameter(np.ones(num_features, np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_features, np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer(
                "running_mean", _creation.tensor(np.zeros(num_features, np.float32))
            )
            self.register_buffer("running_var", _creation.tensor(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", _creation.tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
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
            f"bias={self.has_bias}, track_running_stats={self.track_running_stats}"
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
