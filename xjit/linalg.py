"""`torch.linalg` (what model code calls of it: `vector_norm`) and `torch.norm`, as Python over
the registry's norm ops (xjit/ops/norm_ops.py)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _dims(dim: Any) -> Any:
    return [dim] if isinstance(dim, int) else None if dim is None else list(dim)


def _vector_norm_op(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    return "linalg_vector_norm", [x, ord, _dims(dim), keepdim, dtype]


@script_as(_vector_norm_op)
def vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    name, args = _vector_norm_op(x, ord, dim, keepdim, dtype)
    return call(name, *args[:4], dtype=args[4])


def _norm_op(
    input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    """torch.norm (torch/functional.py): 'fro' (and None) is the 2-norm over at most two
    dims; a number is that vector norm over `dim` (all dims by default)."""
    dims = _dims(dim)
    if p is None or p == "fro":
        if dims is not None and len(dims) > 2:
            raise RuntimeError(f"norm: p='fro' takes at most two dims, got {dims}")
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(p={p!r}) is not supported (vector and 'fro' norms only)")
    return "linalg_vector_norm", [input, p, dims, keepdim, dtype]


@script_as(_norm_op)
def norm(
    input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Any:
    name, args = _norm_op(input, p, dim, keepdim, dtype)
    return call(name, *args[:4], dtype=args[4])
