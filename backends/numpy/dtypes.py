"""Mapping from builtin MLIR types to numpy dtypes and typed literals in generated source."""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import (
    BFloat16Type,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
)
from xdsl.ir import Attribute

from xjit.backends.numpy.diagnostics import UnsupportedIRError

# Spelling of each dtype in generated source (all reachable through the `np` module name).
_FLOATS: dict[type, str] = {
    Float16Type: "np.float16",
    Float32Type: "np.float32",
    Float64Type: "np.float64",
}
_INTS = {8: "np.int8", 16: "np.int16", 32: "np.int32", 64: "np.int64"}
_UINTS = {8: "np.uint8", 16: "np.uint16", 32: "np.uint32", 64: "np.uint64"}
INDEX_DTYPE = "np.intp"


def dtype_src(t: Attribute) -> str:
    """The generated-source spelling of the numpy dtype holding values of type `t`."""
    if isinstance(t, IndexType):
        return INDEX_DTYPE
    if isinstance(t, IntegerType):
        width = t.width.data
        if width == 1:
            return "np.bool_"
        if width in _INTS:
            return _INTS[width]
    for cls, name in _FLOATS.items():
        if isinstance(t, cls):
            return name
    if isinstance(t, BFloat16Type):
        raise UnsupportedIRError("bf16 has no numpy dtype")
    raise UnsupportedIRError(f"no numpy dtype for type {t}")


def np_dtype(t: Attribute) -> np.dtype:
    """The numpy dtype object for type `t` (for checks done at compile time)."""
    return np.dtype(getattr(np, dtype_src(t).removeprefix("np.")))


def unsigned_src(t: Attribute) -> str:
    """The unsigned dtype of the same width, to give `ui` ops their reinterpretation."""
    assert isinstance(t, IntegerType)
    width = t.width.data
    if width == 1:
        return "np.bool_"
    return _UINTS[width]


def is_float(t: Attribute) -> bool:
    return isinstance(t, Float16Type | Float32Type | Float64Type | BFloat16Type)


def is_bool(t: Attribute) -> bool:
    return isinstance(t, IntegerType) and t.width.data == 1


def is_index(t: Attribute) -> bool:
    return isinstance(t, IndexType)


def int_width(t: Attribute) -> int:
    return 64 if isinstance(t, IndexType) else t.width.data  # type: ignore[union-attr]


def signed_value(value: int, width: int) -> int:
    """Signless integer payloads may be stored either way: normalise to two's complement."""
    value &= (1 << width) - 1
    return value - (1 << width) if value >= 1 << (width - 1) else value


def literal_src(value: int | float, t: Attribute) -> str:
    """A typed numpy scalar literal, so f32 constants never promote f32 arrays to f64."""
    if isinstance(t, IndexType):
        return repr(int(value))
    if isinstance(t, IntegerType):
        width = t.width.data
        if width == 1:
            return "np.True_" if int(value) & 1 else "np.False_"
        return f"{dtype_src(t)}({signed_value(int(value), width)})"
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return f'{dtype_src(t)}("{value}")'  # "nan", "inf", "-inf": fixed spellings
    return f"{dtype_src(t)}({value!r})"


def constant_src(attr: Attribute) -> str:
    """Literal for an `arith.constant` value attribute (scalars only at the loops stage)."""
    if isinstance(attr, IntegerAttr):
        return literal_src(attr.value.data, attr.type)
    if isinstance(attr, FloatAttr):
        return literal_src(attr.value.data, attr.type)
    raise UnsupportedIRError(f"arith.constant of {type(attr).__name__} is not supported")


def identity_value(combiner: str, t: Attribute) -> float | int | None:
    """The neutral element of a reduction combiner for type `t`, or None if it has none."""
    if combiner in ("arith.addf", "arith.addi", "arith.ori", "arith.xori"):
        return 0
    if combiner in ("arith.mulf", "arith.muli"):
        return 1
    if combiner == "arith.andi":
        return -1
    if combiner in ("arith.maximumf", "arith.maxnumf"):
        return -math.inf
    if combiner in ("arith.minimumf", "arith.minnumf"):
        return math.inf
    if combiner in ("arith.maxsi", "arith.minsi") and isinstance(t, IntegerType | IndexType):
        w = int_width(t)
        return -(1 << (w - 1)) if combiner == "arith.maxsi" else (1 << (w - 1)) - 1
    return None


def memref_shape(t: MemRefType) -> tuple[int | None, ...]:
    """Static shape with None for dynamic dims."""
    return tuple(None if d < 0 else d for d in t.get_shape())
