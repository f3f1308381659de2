"""`nn.Module` and `nn.Parameter`, with torch's registration-by-assignment semantics."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from xjit._tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned to an attribute."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), np.float32)
        super().__init__(data.numpy() if isinstance(data, Tensor) else data)

    def __repr__(self) -> str:
        return f"Parameter containing:\n{super().__repr__()}"


def _typename(v: Any) -> str:
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


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
                return
        object.__delattr__(self, name)

    def _share_state_of(self, other: Module) -> None:
        """Register `other`'s own parameters, buffers and submodules (the same objects) and its
        training flag: how compiled modules wrap the module they were compiled from."""
        for name, p in other._parameters.items():
            self.register_parameter(name, p)
        for name, b in other._buffers.items():
            self.register_buffer(name, b)
        for name, m in other._modules.items():
            self.add_module(name, m)
        self.training = other.training

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._registries()[0][name] = param

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        self._registries()[1][name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        self._registries()[2][name] = module

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

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
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for mprefix, m in self.named_modules(prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mprefix}.{name}" if mprefix else name), b

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def state_dict(self) -> OrderedDict[str, Tensor]:
        out: OrderedDict[str, Tensor] = OrderedDict()
        for mprefix, m in self.named_modules():
            for name, t in list(m._parameters.items()) + list(m._buffers.items()):
                if t is not None:
                    out[f"{mprefix}.{name}" if mprefix else name] = Tensor(t.numpy())
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        own: dict[str, tuple[Module, str, dict[str, Any]]] = {}
        for mprefix, m in self.named_modules():
            for reg in (m._parameters, m._buffers):
                for name, t in reg.items():
                    if t is not None:
                        own[f"{mprefix}.{name}" if mprefix else name] = (m, name, reg)
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
            new = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
            cur = reg[name]
            if new.shape != cur.numpy().shape:
                raise RuntimeError(
                    f"size mismatch for {key}: copying a param with shape {list(new.shape)}, "
                    f"the shape in current model is {list(cur.shape)}"
                )
            # In place, as torch does: compiled modules that share the parameter see the update.
            np.copyto(cur.numpy(), new.astype(cur.numpy().dtype))

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
