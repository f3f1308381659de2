"""Convolutional-net modules: `Conv1d/2d/3d`, `ConvTranspose1d/2d/3d`, `MaxPool1d/2d/3d`,
`AvgPool2d/3d`, `AdaptiveAvgPool2d/3d`, `BatchNorm1d/2d/3d` (eval), `Flatten/Unflatten`, with PyTorch's parameter names, shapes and
initialisation rule, so `state_dict`s load both ways."""

from __future__ import annotations

import math
from typing import Any

from xjit import _creation
from xjit.nn import conv_functional as CF
from xjit.nn.layers import _factory_kwargs
from xjit.nn.module import Module, Parameter, affine_parameters, running_stats
from xjit.nn.script_marks import is_scripting


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else (int(v),) * n


class _ConvNd(Module):
    _n = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        n = self._n
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode={padding_mode!r}: only 'zeros' is supported")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation = _tuple(dilation, n)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.padding_mode = padding_mode
        # What forward passes: explicit padding, and for 'same' with an even dilated kernel the
        # odd extra column/row (right side, as torch) as an F.pad, so scripting sees no string.
        self._conv_padding: tuple[int, ...] = (0,) * n
        self._extra_pad: list[int] = []
        if padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation, strict=True)]
            self._conv_padding = tuple(t // 2 for t in totals)
            self._extra_pad = [q for t in reversed(totals) for q in (0, t % 2)]
        elif padding != "valid":
            self._conv_padding = self.padding  # type: ignore[assignment]
        self._pads_input = any(self._extra_pad)
        # torch's default init: kaiming_uniform(a=√5) = U(-1/√fan_in, 1/√fan_in), bias likewise
        fan_in = in_channels // groups * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        rng = _creation.generator()
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype("float32"))
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (out_channels,)).astype("float32"))
        else:
            self.register_parameter("bias", None)
        if dtype is not None or device is not None:
            _factory_kwargs(self, device, dtype)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"  # torch prints 'same' unquoted
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    _n = 1

    def forward(self, input: Any) -> Any:
        if self._pads_input:
            input = CF.pad(input, self._extra_pad)
        return CF.conv1d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self._conv_padding,
            self.dilation,
            self.groups,
        )


class Conv2d(_ConvNd):
    _n = 2

    def forward(self, input: Any) -> Any:
        if self._pads_input:
            input = CF.pad(input, self._extra_pad)
        return CF.conv2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self._conv_padding,
            self.dilation,
            self.groups,
        )


class Conv3d(_ConvNd):
    _n = 3

    def forward(self, input: Any) -> Any:
        if self._pads_input:
            input = CF.pad(input, self._extra_pad)
        return CF.conv3d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self._conv_padding,
            self.dilation,
            self.groups,
        )


class _ConvTransposeNd(Module):
    """torch's ConvTranspose: weight [in, out/groups, *kernel], output size
    (n-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1; `forward(input,
    output_size)` picks the output_padding that gives `output_size`, as torch does."""

    _n = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        n = self._n
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be ints, not {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.padding, self.dilation = _tuple(padding, n), _tuple(dilation, n)
        self.output_padding = _tuple(output_padding, n)
        self.padding_mode = padding_mode
        # torch's init: kaiming_uniform(a=√5) with fan_in from dim 1 (out/groups * kernel)
        fan_in = out_channels // groups * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        rng = _creation.generator()
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype("float32"))
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, (out_channels,)).astype("float32"))
        else:
            self.register_parameter("bias", None)
        if dtype is not None or device is not None:
            _factory_kwargs(self, device, dtype)

    def _output_padding(self, input: Any, output_size: Any) -> list[int]:
        """torch's rule: the output_padding (each below the stride) that makes the output
        `output_size` (its last n entries). Written in the script language: `forward` with an
        `output_size` is scripted too."""
        n = len(self.kernel_size)
        if len(output_size) < n:
            raise ValueError("ConvTranspose: output_size has fewer entries than spatial dims")
        result: list[int] = []
        for i in range(n):
            want = output_size[len(output_size) - n + i]
            low = (
                (input.size(input.dim() - n + i) - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            if want < low or want >= low + self.stride[i]:
                raise ValueError("ConvTranspose: requested output_size is not reachable")
            result.append(want - low)
        return result

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class ConvTranspose1d(_ConvTransposeNd):
    _n = 1

    def forward(self, input: Any, output_size: tuple[int] | None = None) -> Any:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return CF.conv_transpose1d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTransposeNd):
    _n = 2

    def forward(self, input: Any, output_size: tuple[int, int] | None = None) -> Any:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return CF.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose3d(_ConvTransposeNd):
    _n = 3

    def forward(self, input: Any, output_size: tuple[int, int, int] | None = None) -> Any:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return CF.conv_transpose3d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class _MaxPoolNd(Module):
    _n = 0

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError(f"MaxPool{self._n}d(return_indices=True) is not supported")
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    _n = 1

    def forward(self, input: Any) -> Any:
        return CF.max_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )


class MaxPool2d(_MaxPoolNd):
    _n = 2

    def forward(self, input: Any) -> Any:
        return CF.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )


class MaxPool3d(_MaxPoolNd):
    _n = 3

    def forward(self, input: Any) -> Any:
        return CF.max_pool3d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )


class AvgPool2d(Module):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: Any = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Any) -> Any:
        return CF.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(AvgPool2d):
    def forward(self, input: Any) -> Any:
        return CF.avg_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return CF.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    def forward(self, input: Any) -> Any:
        return CF.adaptive_avg_pool3d(input, self.output_size)


class _BatchNorm(Module):
    """Eval-mode batch norm with torch's parameters and buffers (`weight`, `bias`,
    `running_mean`, `running_var`, `num_batches_tracked`). Training mode is refused when run."""

    _ranks: tuple[int, ...] = ()
    _expected = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        affine_parameters(self, num_features, affine, bias)
        running_stats(self, num_features, track_running_stats)
        if dtype is not None or device is not None:
            _factory_kwargs(self, device, dtype)

    def _check_input_dim(self, input: Any) -> None:
        if input.dim() not in self._ranks:
            raise ValueError(f"expected {self._expected} input (got {input.dim()}D input)")

    def forward(self, input: Any) -> Any:
        # batch_norm's shape rule refuses training mode (and missing running stats) in every mode
        # (eager, traced, scripted); the rank check per class is eager and traced (scripted code
        # has no `raise`: xjit's script frontend drops this branch)
        if not is_scripting():
            self._check_input_dim(input)
        return CF.batch_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training,
            0.1,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    _ranks, _expected = (2, 3), "2D or 3D"


class BatchNorm2d(_BatchNorm):
    _ranks, _expected = (4,), "4D"


class BatchNorm3d(_BatchNorm):
    _ranks, _expected = (5,), "5D"


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Any) -> Any:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Any) -> Any:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
