"""`torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`. xjit computes no gradients, so every
parameter's `.grad` is None: as torch does for parameters without gradients, there is nothing
to clip, and the total norm of no gradients is 0."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xjit import _creation
from xjit._tensor import Tensor


def _grads(parameters: Any) -> list[Any]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Iterable[Any] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The total `norm_type`-norm of the parameters' gradients (none exist in xjit: 0.0)."""
    if _grads(parameters):  # unreachable while Tensor.grad is always None; fail loudly if not
        raise NotImplementedError("clip_grad_norm_: xjit has no autograd to clip gradients of")
    return _creation.tensor(0.0)


def clip_grad_value_(
    parameters: Iterable[Any] | Tensor, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamps the parameters' gradients to ±clip_value in place (none exist in xjit)."""
    if _grads(parameters):
        raise NotImplementedError("clip_grad_value_: xjit has no autograd to clip gradients of")
