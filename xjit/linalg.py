"""`torch.linalg`: what model code calls of it (`vector_norm`), over the registry's norm op
(xjit/ops/norm_ops.py)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _vector_norm_op(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    dims = [dim] if isinstance(dim, int) else None if dim is None else list(dim)
    return "linalg_vector_norm", [x, ord, dims, keepdim, dtype]


@script_as(_vector_norm_op)
def vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    name, args = _vector_norm_op(x, ord, dim, keepdim, dtype)
    return call(name, *args[:4], dtype=args[4])
