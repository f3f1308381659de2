"""Module containers as compile-time values: `ModuleList`, `Sequential` (and their subclasses,
`for m in self:`) and `ModuleDict` are iterated, indexed and measured while compiling, as
TorchScript unrolls them; a loop over one is unrolled, an index must be a constant."""

from __future__ import annotations

import ast
from typing import Any

from xjit.frontends.script.values import ModRef, PyList, PyObj, PyTuple, describe
from xjit.nn.containers import ModuleDict
from xjit.nn.layers import ModuleList, Sequential

_DICT_VIEWS = ("keys", "values", "items")


def is_module_sequence(m: Any) -> bool:
    return isinstance(m, (ModuleList, Sequential))


class ModuleValues:
    """FunctionCompiler's module containers (compiler.py holds the state)."""

    def module_children(self, ref: ModRef) -> list[tuple[str, ModRef]]:
        """A container's children in order, with their keys ("0", "1", ... or the dict's)."""
        return [
            (n, ModRef(m, f"{ref.path}.{n}" if ref.path else n))
            for n, m in ref.module._modules.items()
            if m is not None
        ]

    def module_sequence(self, v: Any) -> Any:
        """What iterating `v` gives, as a tuple: a ModuleList's / Sequential's modules, a
        ModuleDict's keys (as Python iterates them). Anything else is returned as it is."""
        if not isinstance(v, ModRef):
            return v
        if is_module_sequence(v.module):
            return PyTuple([r for _, r in self.module_children(v)])
        if isinstance(v.module, ModuleDict):
            return PyTuple([PyObj(k) for k, _ in self.module_children(v)])
        return v

    def module_subscript(self, ref: ModRef, e: ast.Subscript) -> Any:
        """`self.layers[0]`, `self.layers[-1]`, `self.layers[1:]`, `self.d["key"]`: resolved
        while compiling (the index or key must be a constant)."""
        if is_module_sequence(ref.module):
            return self.sequence_subscript(self.module_sequence(ref), e)  # type: ignore[attr-defined]
        if isinstance(ref.module, ModuleDict):
            key = self.expr(e.slice)  # type: ignore[attr-defined]
            if not (isinstance(key, PyObj) and isinstance(key.obj, str)):
                raise self.error(  # type: ignore[attr-defined]
                    e.slice,
                    f"a ModuleDict is indexed by a constant string key here, got a {describe(key)}",
                )
            for k, child in self.module_children(ref):
                if k == key.obj:
                    return child
            raise self.error(  # type: ignore[attr-defined]
                e.slice,
                f"ModuleDict has no key {key.obj!r} (keys: {', '.join(ref.module._modules)})",
            )
        raise self.error(e, f"unsupported: subscripting a {describe(ref)}")  # type: ignore[attr-defined]

    def module_dict_view(self, ref: ModRef, name: str, args: list[Any], e: ast.AST) -> Any:
        """`d.keys()`, `d.values()`, `d.items()` of a ModuleDict: a compile-time list; None if
        `name` is not one of them (or `ref` no ModuleDict)."""
        if not isinstance(ref.module, ModuleDict) or name not in _DICT_VIEWS:
            return None
        if args:
            raise self.error(e, f"ModuleDict.{name}() takes no arguments")  # type: ignore[attr-defined]
        children = self.module_children(ref)
        if name == "keys":
            return PyList([PyObj(k) for k, _ in children], depth=-1)
        if name == "values":
            return PyList([r for _, r in children], depth=-1)
        return PyList([PyTuple([PyObj(k), r]) for k, r in children], depth=-1)
