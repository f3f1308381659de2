"""`nn.Module` and `nn.Parameter`, with torch's registration-by-assignment semantics."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from xjit import _versions
from xjit._device import check_device, is_device
from xjit._tensor import Tensor, alias
from xjit.ops.types import DType, float32, float64


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned to an attribute."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), np.float32)
        if isinstance(data, Tensor):
            self._a = data._a  # the tensor's memory, with its write/exposure state
        elif isinstance(data, np.ndarray) and _from_xjit(sys._getframe(1)):
            self._a = data  # a fresh array of an xjit module (torch's takes tensors only)
        else:
            super().__init__(data)  # a numpy user's array: shared and marked exposed

    def __repr__(self) -> str:
        return f"Parameter containing:\n{super().__repr__()}"

    @property
    def requires_grad(self) -> bool:
        return True  # what torch reports; xjit computes no gradients

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        pass


def _from_xjit(frame: Any) -> bool:
    return str(frame.f_globals.get("__name__", "")).startswith("xjit.")


def _typename(v: Any) -> str:
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _replaces(params: Any, buffers: Any, modules: Any, name: str, value: Any) -> bool:
    """Whether setting `name` to `value` replaces a registered parameter, buffer or submodule
    (what compiled code may have bound), not a first registration or the same object again."""
    for reg in (params, buffers, modules):
        if reg is not None and name in reg:
            return reg[name] is not value
    return False


class Module:
    """Base class of models: assign Parameters and Modules as attributes, define `forward`."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- registration ---------------------------------------------------------------------------
    def _registries(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        try:
            return (
                self.__dict__["_parameters"],
                self.__dict__["_buffers"],
                self.__dict__["_modules"],
            )
        except KeyError:
            raise AttributeError(
                f"cannot assign attributes to {type(self).__name__} before Module.__init__() call"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # torch's rules: a Parameter/Module registers (replacing any other use of the name); a
        # name already registered as a parameter/submodule/buffer only takes a value of that kind
        # or None, anything else is a TypeError (not a silent un-registration).
        d = self.__dict__
        params, buffers, modules = d.get("_parameters"), d.get("_buffers"), d.get("_modules")
        if _replaces(params, buffers, modules, name, value):
            _versions.rebound()  # compiled code bound to the old value re-resolves
        if isinstance(value, Parameter):
            params, buffers, modules = self._registries()
            for reg in (d, buffers, modules):
                reg.pop(name, None)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(xjit.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            params, buffers, modules = self._registries()
            for reg in (d, params, buffers):
                reg.pop(name, None)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    "(xjit.nn.Module or None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(xjit.Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, {}):
                del self.__dict__[key][name]
                _versions.rebound()
                return
        object.__delattr__(self, name)

    def _share_state_of(self, other: Module) -> None:
        """Register `other`'s own parameters, buffers and submodules (the same objects) and its
        training flag: how compiled modules wrap the module they were compiled from."""
        for name, p in other._parameters.items():
            self.register_parameter(name, p)
        skip = other.__dict__.get("_non_persistent_buffers", set())
        for name, b in other._buffers.items():
            self.register_buffer(name, b, persistent=name not in skip)
        for name, m in other._modules.items():
            self.add_module(name, m)
        self.training = other.training

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        regs = self._registries()
        if _replaces(*regs, name, param):
            _versions.rebound()
        regs[0][name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A buffer; a non-persistent one is part of the module but not of its state_dict."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                "(xjit.Tensor or None required)"
            )
        d = self.__dict__
        if name in d and name not in d.get("_buffers", {}):
            raise KeyError(f"attribute '{name}' already exists")
        regs = self._registries()
        if _replaces(*regs, name, tensor):
            _versions.rebound()
        regs[1][name] = tensor
        non_persistent = d.setdefault("_non_persistent_buffers", set())
        if persistent:
            non_persistent.discard(name)
        else:
            non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        regs = self._registries()
        if _replaces(*regs, name, module):
            _versions.rebound()
        regs[2][name] = module

    register_module = add_module

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Each module once (a module reached by two paths is yielded at the first), as torch."""
        if isinstance(memo, str):  # named_modules("prefix") in older xjit code
            memo, prefix = None, memo
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from m.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for mprefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None and id(b) not in seen:
                    seen.add(id(b))
                    yield (f"{mprefix}.{name}" if mprefix else name), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def _persistent_state(self) -> Iterator[tuple[str, Module, str, dict[str, Any]]]:
        """(key, module, name, registry) of every state_dict entry. A tensor shared by two
        modules (weight tying) has one key per module, as in torch."""
        for mprefix, m in self.named_modules(remove_duplicate=False):
            skip = m.__dict__.get("_non_persistent_buffers", set())
            for reg in (m._parameters, m._buffers):
                for name, t in reg.items():
                    if t is not None and not (reg is m._buffers and name in skip):
                        yield (f"{mprefix}.{name}" if mprefix else name), m, name, reg

    def state_dict(self, *args: Any, **kwargs: Any) -> OrderedDict[str, Tensor]:
        prefix = kwargs.pop("prefix", "")
        out: OrderedDict[str, Tensor] = OrderedDict()
        for key, _, name, reg in self._persistent_state():
            out[prefix + key] = alias(reg[name]._a)  # shares memory, as torch's
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        own = {key: (m, name, reg) for key, m, name, reg in self._persistent_state()}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for key, value in state_dict.items():
            if key not in own:
                continue
            _, name, reg = own[key]
            new = np.asarray(value._a if isinstance(value, Tensor) else value)
            cur = reg[name]
            if new.shape != cur._a.shape:
                raise RuntimeError(
                    f"size mismatch for {key}: copying a param with shape {list(new.shape)}, "
                    f"the shape in current model is {list(cur.shape)}"
                )
            # In place, as torch does: compiled modules that share the parameter see the update.
            _versions.wrote(cur._a)
            np.copyto(cur._a, new.astype(cur._a.dtype))

    # -- devices, dtypes, initialisation (what model files call after construction) -----------
    def apply(self, fn: Any) -> Module:
        """`fn(m)` on every submodule, children first, then on self (torch's order)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _convert(self, fn: Any) -> Module:
        # In place (the Tensor objects stay the same): tied weights stay tied and compiled
        # modules that share these parameters see the conversion.
        for m in self.modules():
            for reg in (m._parameters, m._buffers):
                for t in reg.values():
                    if t is not None:
                        t._a = fn(t._a)
        _versions.rebound()  # compiled code bound to the old arrays re-resolves
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """`.to(device)`, `.to(dtype)`, `.to(device, dtype)`: dtypes apply to floating tensors."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None))
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, DType):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif is_device(a) or isinstance(a, int):
                check_device(a)
            elif not isinstance(a, bool):
                raise TypeError(f"Module.to() received an invalid argument {a!r}")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
            )
        return self._convert(lambda a: a.astype(dtype.np) if a.dtype.kind == "f" else a)

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    def half(self) -> Module:
        raise TypeError("half(): float16 is not supported by xjit (use float32)")

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        check_device("cuda" if device is None else device, "cuda()")
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        return self  # no autograd

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass  # no gradients

    def get_submodule(self, target: str) -> Module:
        m: Module = self
        for part in target.split(".") if target else []:
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError(f"{type(m).__name__} has no attribute `{part}`")
            m = m._modules[part]
        return m

    def get_parameter(self, target: str) -> Parameter:
        mod, _, name = target.rpartition(".")
        p = self.get_submodule(mod)._parameters.get(name)
        if p is None:
            raise AttributeError(f"no parameter `{target}`")
        return p

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


def factory_kwargs(m: Module, device: Any, dtype: Any) -> None:
    """torch's `device=`/`dtype=` layer arguments: the CPU only; floating dtypes convert."""
    check_device(device)
    if dtype is not None:
        m.to(dtype)


def affine_parameters(m: Module, shape: Any, affine: bool, bias: bool = True) -> None:
    """A norm layer's `weight` (ones) and `bias` (zeros) of `shape`, registered as None where
    `affine`/`bias` leave them out, as torch's norm layers do."""
    if affine:
        m.weight = Parameter(np.ones(shape, np.float32))
        if bias:
            m.bias = Parameter(np.zeros(shape, np.float32))
        else:
            m.register_parameter("bias", None)
    else:
        m.register_parameter("weight", None)
        m.register_parameter("bias", None)


def running_stats(m: Module, num_features: int, track: bool) -> None:
    """torch's `running_mean`/`running_var`/`num_batches_tracked` buffers (None unless
    `track`)."""
    for name, value in (
        ("running_mean", np.zeros(num_features, np.float32)),
        ("running_var", np.ones(num_features, np.float32)),
        ("num_batches_tracked", np.array(0, np.int64)),
    ):
        m.register_buffer(name, Tensor(value) if track else None)
