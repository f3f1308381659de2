"""`torch.nn.functional`'s convolutional-net functions (conv, pooling, batch_norm, pad) as calls of
the registry ops of xjit/ops/conv_ops.py; re-exported by `xjit.nn.functional`."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.pad_modes import pad_nonconstant
from xjit.nn.script_marks import script_as as _script_as


def _refuse(why: str) -> Any:
    """For a script mark's conditional: the scripted call is refused with `why`."""
    raise NotImplementedError(why)


def _tuple(v: Any, n: int) -> list[int]:
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [int(v)] * n


def _listed(v: Any) -> Any:
    """A scripted `int[]` argument, as the script binder takes it (an int, compiled or not, binds
    as a one-element list; one int stands for every dim: the shape rule expands it)."""
    return v


def _conv_op(n: int) -> Any:
    def op_args(
        input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any
    ) -> tuple[str, list[Any]]:
        if isinstance(padding, str):
            if padding != "valid":
                raise ValueError(
                    f"conv{n}d(padding={padding!r}) in scripted code: only 'valid' and explicit "
                    f"padding (nn.Conv{n}d supports 'same')"
                )
            padding = 0
        args = [_listed(stride), _listed(padding), _listed(dilation)]
        return f"conv{n}d", [input, weight, bias, *args, groups]

    return op_args


def _same_padding(weight: Any, dilation: list[int], n: int) -> tuple[list[int], list[int]]:
    """padding='same': the symmetric part as conv padding, the odd remainder (right side, as
    torch does) as an explicit `constant_pad_nd` (its `pad` list, last dim first)."""
    sym, extra = [], []
    for k, d in zip(list(weight.shape)[2:], dilation, strict=True):
        total = d * (k - 1)
        sym.append(total // 2)
        extra.append(total - 2 * (total // 2))
    pad = [q for e in reversed(extra) for q in (0, e)]
    return sym, pad


def _conv(
    n: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Any:
    s, d = _tuple(stride, n), _tuple(dilation, n)
    if isinstance(padding, str):
        if padding == "valid":
            p = [0] * n
        elif padding == "same":
            if any(v != 1 for v in s):
                raise ValueError("padding='same' is not supported for strided convolutions")
            p, extra = _same_padding(weight, d, n)
            if any(extra):
                input = call("constant_pad_nd", input, extra, 0.0)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    else:
        p = _tuple(padding, n)
    return call(f"conv{n}d", input, weight, bias, s, p, d, int(groups))


@_script_as(_conv_op(1))
def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


@_script_as(_conv_op(2))
def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


@_script_as(_conv_op(3))
def conv3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_op(n: int) -> Any:
    def op_args(
        input: Any,
        weight: Any,
        bias: Any,
        stride: Any,
        padding: Any,
        output_padding: Any,
        groups: Any,
        dilation: Any,
    ) -> tuple[str, list[Any]]:
        args = [_listed(stride), _listed(padding), _listed(output_padding)]
        return f"conv_transpose{n}d", [input, weight, bias, *args, groups, _listed(dilation)]

    return op_args


def _conv_transpose(
    n: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Any:
    if isinstance(padding, str):
        raise ValueError(f"conv_transpose{n}d: padding must be ints, not {padding!r}")
    s, p, op, d = (_tuple(v, n) for v in (stride, padding, output_padding, dilation))
    return call(f"conv_transpose{n}d", input, weight, bias, s, p, op, int(groups), d)


@_script_as(_conv_transpose_op(1))
def conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    return _conv_transpose(
        1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@_script_as(_conv_transpose_op(2))
def conv_transpose2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    return _conv_transpose(
        2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@_script_as(_conv_transpose_op(3))
def conv_transpose3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    return _conv_transpose(
        3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@_script_as(
    lambda input, pad, mode="constant", value=None: (
        (
            "constant_pad_nd",
            [input, pad, 0.0 if value is None else value],
        )
        if mode == "constant"
        else _refuse(
            f"pad(mode={mode!r}) in scripted code: only mode='constant' (trace it instead)"
        )
    )
)
def pad(input: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        return pad_nonconstant(input, [int(p) for p in pad], mode)
    return call("constant_pad_nd", input, [int(p) for p in pad], 0.0 if value is None else value)


def _pool_args(kernel_size: Any, stride: Any, n: int) -> tuple[list[int], list[int]]:
    k = _tuple(kernel_size, n)
    return k, (
        k
        if stride is None or (isinstance(stride, (list, tuple)) and not stride)
        else _tuple(stride, n)
    )


def _max_pool(
    n: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    if return_indices:
        raise NotImplementedError(f"max_pool{n}d(return_indices=True) is not supported")
    k, s = _pool_args(kernel_size, stride, n)
    return call(
        f"max_pool{n}d", input, k, s, _tuple(padding, n), _tuple(dilation, n), bool(ceil_mode)
    )


def _max_pool_op(n: int) -> Any:
    def op_args(
        input: Any,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        ceil_mode: Any,
        return_indices: Any,
    ) -> tuple[str, list[Any]]:
        if return_indices is True:
            raise ValueError(f"max_pool{n}d(return_indices=True)")
        k = _listed(kernel_size)
        s = k if stride is None else _listed(stride)
        return f"max_pool{n}d", [input, k, s, _listed(padding), _listed(dilation), ceil_mode]

    return op_args


@_script_as(_max_pool_op(1))
def max_pool1d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@_script_as(_max_pool_op(2))
def max_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@_script_as(_max_pool_op(3))
def max_pool3d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@_script_as(
    lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None: (
        "avg_pool2d",
        [
            input,
            _listed(kernel_size),
            _listed(kernel_size if stride is None else stride),
            _listed(padding),
            ceil_mode,
            count_include_pad,
            divisor_override,
        ],
    )
)
def avg_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    k, s = _pool_args(kernel_size, stride, 2)
    return call(
        "avg_pool2d",
        input,
        k,
        s,
        _tuple(padding, 2),
        bool(ceil_mode),
        bool(count_include_pad),
        divisor_override,
    )


@_script_as(
    lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None: (
        "avg_pool3d",
        [
            input,
            _listed(kernel_size),
            _listed(kernel_size if stride is None else stride),
            _listed(padding),
            ceil_mode,
            count_include_pad,
            divisor_override,
        ],
    )
)
def avg_pool3d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    k, s = _pool_args(kernel_size, stride, 3)
    return call(
        "avg_pool3d",
        input,
        k,
        s,
        _tuple(padding, 3),
        bool(ceil_mode),
        bool(count_include_pad),
        divisor_override,
    )


@_script_as(lambda input, output_size: ("adaptive_avg_pool3d", [input, _listed(output_size)]))
def adaptive_avg_pool3d(input: Any, output_size: Any) -> Any:
    out = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * 3
    # None keeps the input's size there (torch's rule)
    sizes = [input.shape[-3 + i] if o is None else int(o) for i, o in enumerate(out)]
    return call("adaptive_avg_pool3d", input, sizes)


@_script_as(lambda input, output_size: ("adaptive_avg_pool2d", [input, _listed(output_size)]))
def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    out = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * 2
    # None keeps the input's size there (torch's rule)
    sizes = [input.shape[-2 + i] if o is None else int(o) for i, o in enumerate(out)]
    return call("adaptive_avg_pool2d", input, sizes)


@_script_as(
    lambda input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5: (
        "batch_norm",
        [input, weight, bias, running_mean, running_var, training, momentum, eps, True],
    )
)
def batch_norm(
    input: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    return call(
        "batch_norm",
        input,
        weight,
        bias,
        running_mean,
        running_var,
        bool(training),
        float(momentum),
        float(eps),
        True,
    )
