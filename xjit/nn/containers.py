"""`ModuleDict`, `ParameterList`, `ParameterDict`: containers that register what they hold,
under torch's names (the key, or "0", "1", ...), so state_dict keys match torch's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from xjit import _versions
from xjit._tensor import Tensor
from xjit.nn.module import Module, Parameter


def _pairs(items: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(items, Mapping):
        return items.items()
    return ((k, v) for k, v in items)


class ModuleDict(Module):
    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]
        _versions.rebound()  # compiled code bound to it re-checks

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        _versions.rebound()  # compiled code bound to it re-checks
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()
        _versions.rebound()

    def update(self, modules: Any) -> None:
        for k, m in _pairs(modules):
            if not isinstance(m, Module):
                raise TypeError(f"ModuleDict values must be Modules, got {type(m).__name__}")
            self.add_module(str(k), m)


def _as_parameter(v: Any) -> Any:
    # torch wraps plain tensors in Parameters; other values (ints, None) are stored as they are.
    if isinstance(v, Tensor) and not isinstance(v, Parameter):
        return Parameter(v)
    return v


class ParameterList(Module):
    def __init__(self, values: Any = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, idx: int) -> Any:
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range")
        return getattr(self, str(idx % self._size))

    def __setitem__(self, idx: int, value: Any) -> None:
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range")
        self._set(str(idx % self._size), value)

    def _set(self, name: str, value: Any) -> None:
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        else:
            object.__setattr__(self, name, value)

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self._set(str(self._size - 1), value)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(
            f"({i}): Parameter containing: [{type(p).__name__} of size {'x'.join(map(str, p.shape))}]"
            for i, p in enumerate(self)
        )


class ParameterDict(Module):
    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            object.__setattr__(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        self._parameters.pop(key, None)
        _versions.rebound()  # compiled code bound to it re-checks

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def keys(self) -> Iterable[str]:
        return list(self._keys)

    def values(self) -> Iterable[Any]:
        return [self[k] for k in self._keys]

    def items(self) -> Iterable[tuple[str, Any]]:
        return [(k, self[k]) for k in self._keys]

    def update(self, parameters: Any) -> None:
        for k, v in _pairs(parameters):
            self[str(k)] = v
