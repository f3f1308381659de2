"""`torch.linalg`: what model code calls of it (`vector_norm`), over the registry's norm op
(xjit/ops/norm_ops.py)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _vector_norm_op(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    if dtype is not None:  # a keyword-only argument of the op (one positional list here)
        raise NotImplementedError("vector_norm(dtype=...) in scripted code")
    # an int (or a scripted int) binds to `int[]?` as a one-element list; tuples become lists
    return "linalg_vector_norm", [x, ord, list(dim) if isinstance(dim, tuple) else dim, keepdim]


@script_as(_vector_norm_op)
def vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    name, args = _vector_norm_op(x, ord, dim, keepdim)
    return call(name, *args, dtype=dtype)
