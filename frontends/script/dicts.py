"""`Dict[str, T]` / `Dict[int, T]` as TorchScript has them, for dicts whose keys are known while
compiling: a dict is a `PyDict` of values (a reference, like a list) keyed by Python constants,
in insertion order. Literals, `d[k]`, `d[k] = v`, `get`, `in`, `keys/values/items`, iteration,
`len`, `pop`, `update`, `clear`, `copy`, comprehensions over lists and constant ranges, and
returning a dict are evaluated while compiling; the values are SSA values (or tuples/lists).

A key computed at run time (`d[names[i]]` in a compiled loop) cannot be resolved: a located
error. A dict may only be changed in the control-flow region it was created in (as a list: see
lists.py); a `for` over a constant `range` that changes it is unrolled."""

from __future__ import annotations

import ast
from typing import Any

from xjit.frontends.script.lists import Unrollable, const_of
from xjit.frontends.script.values import PyDict, PyList, PyObj, PyTuple, describe
from xjit.ops.registry import UNKNOWN


class Dicts:
    """FunctionCompiler's dict operations (compiler.py holds the state)."""

    depth: int

    def new_dict(self, items: dict[Any, Any]) -> PyDict:
        return PyDict(items, depth=self.depth)

    def dict_key(self, v: Any, node: ast.AST) -> Any:
        """A key as the Python constant it is while compiling (str, int, float or bool)."""
        k = const_of(v)
        if k is UNKNOWN or k is None:
            # (a `for` over a constant range catches this and unrolls, making the key known)
            raise Unrollable(
                f"unsupported: a dict key that is not known while compiling (a {describe(v)} "
                "computed at run time); dicts here have compile-time keys",
                self.loc(node),
            )
        return k

    def e_Dict(self, e: ast.Dict) -> PyDict:
        items: dict[Any, Any] = {}
        for k, v in zip(e.keys, e.values, strict=True):
            if k is None:
                other = self.expr(v)
                if not isinstance(other, PyDict):
                    raise self.error(v, f"unsupported: ** of a {describe(other)}")
                items.update(other.items)
                continue
            items[self.dict_key(self.expr(k), k)] = self.expr(v)
        return self.new_dict(items)

    def e_DictComp(self, e: ast.DictComp) -> PyDict:
        """`{k: v for x in xs}` over lists, tuples or a constant range, unrolled."""
        pairs = self.unrolled_comprehension(  # type: ignore[attr-defined]
            e, lambda: (self.dict_key(self.expr(e.key), e.key), self.expr(e.value))
        )
        return self.new_dict(dict(pairs))

    def dict_get(self, d: PyDict, key: Any, node: ast.AST) -> Any:
        k = self.dict_key(key, node)
        if k not in d.items:
            raise self.error(node, f"KeyError: {k!r} is not a key of this {describe(d)}")
        return d.items[k]

    def dict_setitem(self, target: ast.Subscript, v: Any) -> bool:
        """`d[k] = v` (or a list's `xs[i] = v`); False when `target` is neither."""
        base = self.expr(target.value)
        if isinstance(base, PyList):  # `xs[i] = v`, i known while compiling (lists.py)
            self.list_setitem(base, target, v)  # type: ignore[attr-defined]
            return True
        if not isinstance(base, PyDict):
            return False
        self.check_mutable(base, target, "dict")  # type: ignore[arg-type]
        base.items[self.dict_key(self.expr(target.slice), target.slice)] = v
        return True

    def dict_method(
        self, d: PyDict, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> Any:
        if kwargs:
            raise self.error(e, f"unsupported: keyword arguments to dict.{name}")
        n = len(args)
        if name == "keys" and n == 0:
            return self.new_list([self.key_value(k) for k in d.items])
        if name == "values" and n == 0:
            return self.new_list(list(d.items.values()))
        if name == "items" and n == 0:
            return self.new_list([PyTuple([self.key_value(k), v]) for k, v in d.items.items()])
        if name == "get" and n in (1, 2):
            k = self.dict_key(args[0], e)
            if k in d.items:
                return d.items[k]
            return args[1] if n == 2 else self.b.constant(None)
        if name == "copy" and n == 0:
            return self.new_dict(dict(d.items))
        self.check_mutable(d, e, "dict")  # type: ignore[arg-type]
        if name == "pop" and n in (1, 2):
            k = self.dict_key(args[0], e)
            if k in d.items:
                return d.items.pop(k)
            if n == 2:
                return args[1]
            raise self.error(e, f"KeyError: {k!r} is not a key of this {describe(d)}")
        if name == "update" and n == 1 and isinstance(args[0], PyDict):
            d.items.update(args[0].items)
        elif name == "clear" and n == 0:
            d.items.clear()
        elif name == "setdefault" and n == 2:
            return d.items.setdefault(self.dict_key(args[0], e), args[1])
        else:
            raise self.error(e, f"unsupported: dict.{name} with {n} argument(s)")
        return self.b.constant(None)

    def key_value(self, k: Any) -> Any:
        """A key as a compiled value: a str stays a compile-time constant."""
        return PyObj(k) if isinstance(k, str) else self.b.constant(k)

    def dict_keys_list(self, d: PyDict) -> PyList:
        """What iterating a dict gives: its keys, in insertion order."""
        return PyList([self.key_value(k) for k in d.items], depth=self.depth)
