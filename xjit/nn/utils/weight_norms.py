"""`torch.nn.utils.weight_norm` / `spectral_norm` (and their `remove_*`), eager semantics.

torch recomputes the weight in a forward pre-hook; xjit's Module has no hooks, so the module's
class is swapped for a subclass of it (same name, so reprs and isinstance checks hold) whose
`forward` first runs the module's recompute steps, then the original forward. The weight is
a plain attribute, as in torch, and the state_dict holds torch's names: `weight_g`/`weight_v`
(weight norm), `weight_orig` with buffers `weight_u`/`weight_v` (spectral norm), so torch's
checkpoints load. A trace records the recomputation; spectral norm's power iteration (training
mode) updates buffers in place, which a trace refuses."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit import _creation
from xjit._dispatch import current_recorder
from xjit._tensor import Tensor
from xjit.nn.module import Module, Parameter

_STEPS = "_xjit_recompute"  # instance attribute: {name: step} run before forward


def _norm_except_dim(v: Any, dim: int) -> Any:
    """torch's norm_except_dim(v, 2, dim): the 2-norm over every dim but `dim`, keeping dims;
    dim=-1 is the whole tensor's norm (torch's convention for weight_norm(dim=None))."""
    if dim == -1:
        return v.norm()
    others = [d for d in range(v.dim()) if d != dim]
    return (v * v).sum(others, keepdim=True).sqrt() if others else v.abs()


def _install(module: Module, name: str, step: Any) -> None:
    steps = module.__dict__.get(_STEPS)
    if steps is None:
        base = type(module)

        def forward(self: Module, *args: Any, **kwargs: Any) -> Any:
            for s in self.__dict__[_STEPS].values():
                s(self)
            return base.forward(self, *args, **kwargs)

        cls = type(base.__name__, (base,), {"forward": forward, "__module__": base.__module__})
        cls.__qualname__ = base.__qualname__
        cls._xjit_reparam_base = base  # type: ignore[attr-defined]
        module.__class__ = cls
        steps = {}
        object.__setattr__(module, _STEPS, steps)
    if name in steps:
        raise RuntimeError(
            f"Cannot register two weight_norm/spectral_norm on the same parameter {name}"
        )
    steps[name] = step


def _uninstall(module: Module, name: str) -> None:
    steps = module.__dict__.get(_STEPS, {})
    steps.pop(name)
    if not steps:
        object.__delattr__(module, _STEPS)
        module.__class__ = type(module)._xjit_reparam_base  # type: ignore[attr-defined]


def _set_plain(module: Module, name: str, value: Any) -> None:
    object.__setattr__(module, name, value)  # not a parameter: recomputed each forward


def _take_parameter(module: Module, name: str) -> Parameter:
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{type(module).__name__} has no parameter {name!r} to reparametrise")
    del module._parameters[name]
    return weight


# -- weight norm -----------------------------------------------------------------------------------


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """w = g · v / ‖v‖ (the norm over every dim but `dim`; dim=None: the whole tensor), with
    parameters `name_g` and `name_v` in place of `name`."""
    dim = -1 if dim is None else dim
    weight = _take_parameter(module, name)
    module.register_parameter(f"{name}_g", Parameter(_norm_except_dim(weight, dim).numpy()))
    module.register_parameter(f"{name}_v", Parameter(weight.numpy()))

    def compute(m: Module) -> Any:
        v, g = getattr(m, f"{name}_v"), getattr(m, f"{name}_g")
        return v * (g / _norm_except_dim(v, dim))

    _install(module, name, lambda m: _set_plain(m, name, compute(m)))
    _set_plain(module, name, compute(module))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    if name not in module.__dict__.get(_STEPS, {}) or f"{name}_g" not in module._parameters:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    module.__dict__[_STEPS][name](module)
    weight = module.__dict__[name]
    _uninstall(module, name)
    object.__delattr__(module, name)
    del module._parameters[f"{name}_g"], module._parameters[f"{name}_v"]
    module.register_parameter(name, Parameter(weight.numpy()))
    return module


# -- spectral norm ---------------------------------------------------------------------------------


def _as_matrix(weight: Any, dim: int) -> Any:
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.dim()) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), eps)


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """w = w_orig / σ, σ estimated by power iteration on the matrix of w_orig (its `dim`
    first: 0, or 1 for ConvTranspose) with buffers `name_u`, `name_v`; the iteration runs in
    training mode only, as torch's."""
    if n_power_iterations <= 0:
        raise ValueError(
            f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
        )
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    weight = _take_parameter(module, name)
    mat = _as_matrix(weight, dim).numpy()
    rng = _creation.generator()
    u = _normalize(rng.standard_normal(mat.shape[0]).astype(mat.dtype), eps)
    v = _normalize(rng.standard_normal(mat.shape[1]).astype(mat.dtype), eps)
    module.register_parameter(f"{name}_orig", weight)
    module.register_buffer(f"{name}_u", Tensor(u))
    module.register_buffer(f"{name}_v", Tensor(v))

    def compute(m: Module) -> Any:
        w = getattr(m, f"{name}_orig")
        u, v = getattr(m, f"{name}_u"), getattr(m, f"{name}_v")
        wm = _as_matrix(w, dim)
        if m.training:
            if current_recorder() is not None:
                raise NotImplementedError(
                    "spectral_norm's power iteration (training mode) updates buffers in place: "
                    "not traceable; call .eval() before tracing"
                )
            a, un, vn = wm.numpy(), u.numpy(), v.numpy()
            for _ in range(n_power_iterations):  # in place, as torch's (buffers are shared)
                vn[...] = _normalize(a.T @ un, eps)
                un[...] = _normalize(a @ vn, eps)
            u, v = Tensor(un.copy()), Tensor(vn.copy())
        sigma = (u * wm.matmul(v)).sum()
        return w / sigma

    _install(module, name, lambda m: _set_plain(m, name, compute(m)))
    _set_plain(module, name, weight * 1.0)  # torch: weight.data until the first forward
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    if name not in module.__dict__.get(_STEPS, {}) or f"{name}_orig" not in module._parameters:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    was = module.training
    module.training = False  # torch's remove computes the weight without an iteration
    module.__dict__[_STEPS][name](module)
    module.training = was
    weight = module.__dict__[name]
    _uninstall(module, name)
    object.__delattr__(module, name)
    del module._parameters[f"{name}_orig"]
    del module._buffers[f"{name}_u"], module._buffers[f"{name}_v"]
    module.register_parameter(name, Parameter(weight.numpy()))
    return module
