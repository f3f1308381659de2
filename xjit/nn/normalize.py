"""`F.normalize` (x / max(‖x‖_p, eps) along `dim`) and `F.softmin` (softmax of −x), written as
torch writes them (Python functions over registry ops, so tracing records their ops and
`xjit.jit.script` compiles their bodies as called functions, as TorchScript does). `out=` is not
taken."""

from __future__ import annotations

from typing import Any, Optional

from xjit._tensor import Tensor


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Any:
    denom = input.norm(p, dim, True).clamp_min(eps)  # torch's own spelling
    return input / denom


def softmin(input: Tensor, dim: int, dtype: Optional[int] = None) -> Tensor:  # noqa: UP045
    # annotated as TorchScript reads it: an unannotated parameter would be a Tensor
    if dtype is None:
        return (-input).softmax(dim)
    return (-input).softmax(dim, dtype)
