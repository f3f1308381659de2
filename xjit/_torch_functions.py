"""torch-level Python functions of issue 12 that are not one registry op: `finfo`/`iinfo`,
`numel`, `is_floating_point`, `allclose`/`equal` (Python bools), and the list-taking
`meshgrid`, `broadcast_tensors`, `concat`/`concatenate`,
`unique` (picks `_unique2`'s results by its flags). Each is written over registry ops
(`_dispatch.call`), so tracing records the ops they run."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit._dispatch import call
from xjit.nn.script_marks import script_as
from xjit.ops.types import DEFAULT_FLOAT, DType, broadcast_shapes


class finfo:  # noqa: N801  (torch.finfo)
    """torch.finfo(dtype): the limits of a floating-point dtype (float32 when not given)."""

    def __init__(self, dtype: DType | None = None) -> None:
        d = DEFAULT_FLOAT if dtype is None else dtype
        if not isinstance(d, DType) or not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type, got {d!r}")
        f = np.finfo(d.np)
        self.bits = int(f.bits)
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = 10.0 ** -int(f.precision)  # torch's: a Python float power of 10
        self.dtype = d.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801  (torch.iinfo)
    """torch.iinfo(dtype): the limits of an integer dtype."""

    def __init__(self, dtype: DType) -> None:
        if not isinstance(dtype, DType) or dtype.kind != 1:
            raise TypeError(f"torch.iinfo() requires an integer input type, got {dtype!r}")
        i = np.iinfo(dtype.np)
        self.bits = int(i.bits)
        self.max = int(i.max)
        self.min = int(i.min)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def numel(input: Any) -> Any:
    return input.numel()


def is_floating_point(input: Any) -> bool:
    return bool(input.dtype.is_floating_point)


def allclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    return bool(call("all", call("isclose", input, other, rtol, atol, equal_nan)))


def equal(input: Any, other: Any) -> bool:
    """Same shape and the same values (NaN is unequal), as torch.equal; dtypes may differ."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(call("all", call("eq", input, other)))


def _tensors(tensors: Any) -> list[Any]:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def broadcast_tensors(*tensors: Any) -> tuple[Any, ...]:
    ts = _tensors(tensors)
    shape = broadcast_shapes(*(tuple(t.shape) for t in ts))
    return tuple(call("expand", t, list(shape)) for t in ts)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Any, ...]:
    """torch.meshgrid: 'ij' (torch's default; it warns when not given) or 'xy' (the first two
    dims swapped)."""
    ts = _tensors(tensors)
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(
            f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}"
        )
    for t in ts:
        if t.dim() > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{t.dim()}D tensor"
            )
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0, *range(2, len(ts))] if swap else list(range(len(ts)))
    sizes = [ts[i].numel() for i in order]
    out = []
    for k, t in enumerate(ts):
        pos = order.index(k)
        shape = [1] * len(ts)
        shape[pos] = sizes[pos]
        out.append(call("expand", call("reshape", t, shape), sizes))
    return tuple(out)


@script_as(lambda tensors, dim=0: ("cat", [tensors, dim]))
def concat(tensors: Any, dim: int = 0) -> Any:
    return call("cat", list(tensors), dim)


concatenate = script_as(lambda tensors, axis=0: ("cat", [tensors, axis]))(
    lambda tensors, axis=0: call("cat", list(tensors), axis)
)


@script_as(  # scripted: the op, which refuses to compile (a data-dependent size), located
    lambda input, sorted=True, return_inverse=False, return_counts=False, dim=None: (
        "_unique2",
        [input, sorted, return_inverse, return_counts],
    )
)
def unique(
    input: Any,
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: Any = None,
) -> Any:
    """torch.unique (eager only: its size depends on the data); `dim` is not supported."""
    if dim is not None:
        raise NotImplementedError("torch.unique(dim=...) is not supported by xjit")
    values, inverse, counts = call("_unique2", input, sorted, return_inverse, return_counts)
    if not return_inverse and not return_counts:
        return values
    return (values, *([inverse] if return_inverse else []), *([counts] if return_counts else []))
