"""`torch.nn.functional`'s convolutional-net functions (conv, pooling, batch_norm, pad) as calls of
the registry ops of xjit/ops/conv_ops.py; re-exported by `xjit.nn.functional`."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call


def _tuple(v: Any, n: int) -> list[int]:
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else [int(v)] * n


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


def pad(input: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
    if mode != "constant":
        raise NotImplementedError(f"pad(mode={mode!r}): only mode='constant' is supported")
    return call("constant_pad_nd", input, [int(p) for p in pad], 0.0 if value is None else value)
