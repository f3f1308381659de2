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


def _scripted_einsum_op(equation: str, operands: Any) -> tuple[str, list[Any]]:
    """The script frontend's call: `operands` is the varargs as one compiled tuple, holding
    either the tensors or one list of them (a list literal or a list-typed value)."""
    items = operands.items
    one = items[0] if len(items) == 1 else None
    if hasattr(one, "items") or type(getattr(one, "type", None)).__name__ == "ListType":
        return "einsum", [equation, one]
    return "einsum", [equation, operands]


@script_as(_scripted_einsum_op)
def einsum(equation: str, *operands: Any) -> Any:
    name, args = _einsum_op(equation, *operands)
    return call(name, *args)


def _dims(dim: Any) -> Any:
    # an int (or a scripted int) binds to `int[]?` as a one-element list; tuples become lists
    return list(dim) if isinstance(dim, tuple) else dim


def _norm_op(input: Any, p: Any, dim: Any, keepdim: bool) -> tuple[str, list[Any]]:
    """'fro' (and None) is the 2-norm over at most two dims; a number is that vector norm
    over `dim` (all dims by default), as torch.norm."""
    dims = _dims(dim)
    if p is None or p == "fro":
        if isinstance(dims, list) and len(dims) > 2:
            raise RuntimeError(f"norm: p='fro' takes at most two dims, got {dims}")
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(p={p!r}) is not supported (vector and 'fro' norms only)")
    return "linalg_vector_norm", [input, p, dims, keepdim]


def _scripted_norm_op(
    input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    if dtype is not None:  # (a keyword-only argument of the op: one positional list here)
        raise NotImplementedError("norm(dtype=...) in scripted code")
    return _norm_op(input, p, dim, keepdim)


@script_as(_scripted_norm_op)
def norm(
    input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Any:
    name, args = _norm_op(input, p, dim, keepdim)
    return call(name, *args, dtype=dtype)
