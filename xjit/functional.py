"""torch/functional.py's Python functions that model code calls as `torch.X`: `einsum` (the
varargs and the list form) and `norm` (p='fro' and numbers), each one registry op call, and
marked so that `xjit.jit.script` compiles a call as that op."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _einsum_op(equation: str, *operands: Any) -> tuple[str, list[Any]]:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return "einsum", [equation, list(operands)]


@script_as(_einsum_op)
def einsum(equation: str, *operands: Any) -> Any:
    name, args = _einsum_op(equation, *operands)
    return call(name, *args)


def _dims(dim: Any) -> Any:
    return [dim] if isinstance(dim, int) else None if dim is None else list(dim)


def _norm_op(
    input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    """'fro' (and None) is the 2-norm over at most two dims; a number is that vector norm
    over `dim` (all dims by default), as torch.norm."""
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
