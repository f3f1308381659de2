"""`F.normalize`: x / max(‖x‖_p, eps) along `dim`, written as torch writes it (a Python
function over registry ops, so tracing records its ops and `xjit.jit.script` compiles its body
as a called function, as TorchScript does). `out=` is not taken."""

from __future__ import annotations

from typing import Any


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Any:
    denom = input.norm(p, dim, True).clamp_min(eps)  # torch's own spelling
    return input / denom
