"""Dtypes, tensor metadata and torch's promotion rules: what shape rules compute with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DType:
    """A tensor element type: `xjit.float32`, ... (torch.dtype's counterpart)."""

    name: str
    np: np.dtype
    mlir: str  # spelling in !torch.vtensor<[..],f32> (torch-mlir uses si64 for int64)
    kind: int  # promotion category: 0 bool, 1 integer, 2 floating

    @property
    def is_floating_point(self) -> bool:
        return self.kind == 2

    def __repr__(self) -> str:
        return f"xjit.{self.name}"


float32 = DType("float32", np.dtype(np.float32), "f32", 2)
float64 = DType("float64", np.dtype(np.float64), "f64", 2)
int64 = DType("int64", np.dtype(np.int64), "si64", 1)
int32 = DType("int32", np.dtype(np.int32), "si32", 1)
bool_ = DType("bool", np.dtype(np.bool_), "i1", 0)

ALL_DTYPES = (float32, float64, int64, int32, bool_)


class UnsupportedDType(DType):
    """A torch dtype xjit names but cannot compute in (`torch.float16`, `torch.bfloat16`): model
    code may compare with it (`x.dtype == torch.float16`), and any use as a dtype -- a tensor of
    it, a cast, `finfo` -- raises, naming it (its numpy dtype and MLIR spelling are refused)."""

    def __getattribute__(self, name: str) -> object:
        if name in ("np", "mlir"):
            raise TypeError(
                f"{object.__getattribute__(self, 'name')} is not supported by xjit (it has no "
                "16-bit floats): use float32"
            )
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


float16 = UnsupportedDType("float16", np.dtype(np.float16), "f16", 2)
bfloat16 = UnsupportedDType("bfloat16", np.dtype(np.float16), "bf16", 2)
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_MLIR = {d.mlir: d for d in ALL_DTYPES}
DEFAULT_FLOAT = float32


def from_numpy_dtype(dt: np.dtype) -> DType:
    try:
        return _BY_NP[np.dtype(dt)]
    except KeyError:
        raise TypeError(
            f"unsupported dtype {np.dtype(dt)}; xjit supports "
            f"{', '.join(d.name for d in ALL_DTYPES)}"
        ) from None


def from_mlir(name: str) -> DType:
    return _BY_MLIR[name]


# torch's ScalarType enum codes: a `ScalarType? dtype` argument is a `!torch.int` in the IR.
SCALAR_TYPE_CODES = {int32: 3, int64: 4, float32: 6, float64: 7, bool_: 11}
_BY_CODE = {c: d for d, c in SCALAR_TYPE_CODES.items()}


def dtype_arg(v: object) -> DType | None:
    """A `ScalarType?` argument as a DType: given as a DType (eager) or its code (IR)."""
    if v is None or isinstance(v, DType):
        return v
    if isinstance(v, int) and v in _BY_CODE:
        return _BY_CODE[v]
    raise TypeError(f"unsupported dtype {v!r}")


def promote(a: DType, b: DType) -> DType:
    """torch.promote_types for the dtypes xjit has."""
    if a == b:
        return a
    if a.kind != b.kind:
        return a if a.kind > b.kind else b
    return a if a.np.itemsize >= b.np.itemsize else b


def scalar_kind(v: object) -> int:
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    return 2


def promote_with_scalar(t: DType, scalar: object) -> DType:
    """A Python scalar only changes a tensor's dtype when it is of a higher category."""
    k = scalar_kind(scalar)
    if k <= t.kind:
        return t
    return DEFAULT_FLOAT if k == 2 else int64


Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class TensorMeta:
    """What the compiler knows of a tensor: its shape (None = unranked, None dims dynamic) and dtype."""

    shape: Shape | None
    dtype: DType | None

    @property
    def rank(self) -> int:
        if self.shape is None:
            raise ValueError("rank of an unranked tensor")
        return len(self.shape)


class ShapeError(ValueError, RuntimeError):
    """Shapes that an op cannot accept. torch raises RuntimeError for these, so code written for
    torch (`except RuntimeError`, `assertRaises(RuntimeError)`) catches it too."""


def broadcast_shapes(*shapes: Shape | None) -> Shape | None:
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)  # type: ignore[arg-type]
    out: list[int | None] = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]  # type: ignore[arg-type]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ShapeError(
                f"shapes {' and '.join(str(list(s)) for s in shapes)} cannot broadcast"
            )
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_dim(dim: int, rank: int) -> int:
    if not -max(rank, 1) <= dim < max(rank, 1):  # a 0-d tensor takes 0 and -1, as in torch
        raise ShapeError(f"dimension {dim} out of range for a tensor of rank {rank}")
    return dim % rank if rank else 0
