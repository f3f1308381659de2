"""`List[T]` as TorchScript has it, for lists whose length is known at compile time: a list is a
`PyList` of values (a reference: `b = a; b.append(x)` changes `a` too); `append`, `extend`,
`insert`, `pop`, `clear`, `+=`, `+`, `*`, `len`, indexing and slicing with constant indices, `in`,
and comprehensions over lists and constant `range`s are evaluated while compiling.

A list may only be mutated in the control-flow region it was created in: mutating it inside an
`if` branch or a compiled loop body would change its length on one path only. A `for` over a
constant `range` whose body mutates (or re-types) an outer list is unrolled instead."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from xdsl.ir import BlockArgument, OpResult, SSAValue

from xjit.dialects import torch as td
from xjit.errors import FrontendError
from xjit.frontends.script.registry_ops import NeedsArgTypes
from xjit.frontends.script.values import PyDict, PyList, PyObj, PyTuple, describe
from xjit.ops import types
from xjit.ops.registry import UNKNOWN

MAX_UNROLL = 256
PARAMETER_DEPTH = -2  # the `depth` of a List/Dict parameter: read only (check_mutable)  # iterations of a constant range() loop unrolled at compile time


class Unrollable(FrontendError):
    """A loop body that cannot be a `prim.Loop` (it changes a list's length); a `for` over a
    constant range catches it and unrolls the loop instead."""


def const_of(v: Any) -> Any:
    """The compile-time Python value of `v` (an int/float/bool/None constant), or UNKNOWN."""
    if isinstance(v, SSAValue):
        return td._meta_or_const(v) if not isinstance(v.type, td.ValueTensorType) else UNKNOWN
    if isinstance(v, PyObj) and isinstance(v.obj, (bool, int, float, str)):
        return v.obj
    return UNKNOWN


# scalar ops whose result is a constant once their operands are (canonicalize folds them)
_PURE_SCALAR_PREFIXES = ("torch.aten.", "torch.prim.", "torch.constant.")
_SIZE_OPS = ("torch.aten.size.int", "torch.aten.dim", "torch.aten.len.t")


def known_per_call(v: SSAValue, entry: Any, depth: int = 0) -> bool:
    """Whether `v` is a constant in a compile for the call's argument types and int values:
    built by scalar ops from an int parameter of the function (an entry block argument) and
    the sizes of tensors. False for values from tensor data (`int(x.sum())`) or a loop."""
    if depth > 64:
        return False
    if isinstance(v, BlockArgument):
        return v.block is entry and isinstance(v.type, td.IntType)
    if not isinstance(v, OpResult):
        return False
    op = v.op
    if op.name in _SIZE_OPS:
        return all(
            isinstance(o.type, td.ValueTensorType) or known_per_call(o, entry, depth + 1)
            for o in op.operands
        )
    if not op.name.startswith(_PURE_SCALAR_PREFIXES) or op.regions:
        return False
    if any(isinstance(o.type, td.ValueTensorType) for o in op.operands):
        return False
    return all(known_per_call(o, entry, depth + 1) for o in op.operands)


class Lists:
    """FunctionCompiler's list operations (compiler.py holds the state)."""

    depth: int  # how many control-flow regions deep the compiler is (statements.region)

    def new_list(self, items: list[Any]) -> PyList:
        return PyList(items, depth=self.depth)

    def const_index(self, v: Any, node: ast.AST, what: str = "index") -> int:
        i = const_of(v)
        if not isinstance(i, int) or isinstance(i, bool):
            raise self.error(
                node,
                f"unsupported: a list {what} that is not a compile-time constant "
                "(lists have a compile-time length here)",
            )
        return i

    def defer_to_int_values(self, v: Any, node: ast.AST, why: str) -> None:
        """Where `v` must be known while compiling but is an int computed at run time from int
        parameters and tensor sizes: ask for a compile per argument types and int values
        (NeedsArgTypes), where it is a constant. Returns when that cannot help."""
        if const_of(v) is UNKNOWN and isinstance(v, SSAValue):
            entry = self.entry_block  # type: ignore[attr-defined]
            if self.mc.deferrable and known_per_call(v, entry):  # type: ignore[attr-defined]
                self.mc.needs_int_values = True  # type: ignore[attr-defined]
                raise NeedsArgTypes(f"{why}: compiled per int argument values", self.loc(node))  # type: ignore[attr-defined]

    def slice_bound(self, v: Any, node: ast.AST) -> int:
        """A list slice's bound: its length is the result's, so it must be known while
        compiling. A bound computed at run time asks for a compile per argument types and int
        argument values (NeedsArgTypes: scalars are constants in every compiled variant
        anyway), which makes bounds from int parameters and tensor sizes constants."""
        if const_of(v) is UNKNOWN and isinstance(v, SSAValue):
            self.defer_to_int_values(v, node, "a list slice bound known at run time")
            raise self.error(
                node,
                "unsupported: a list slice whose bound is known only at run time (a list's "
                "length is known while compiling here, and this bound is neither a constant, "
                "an int parameter nor a tensor size: it depends on tensor values or a loop)",
            )
        return self.const_index(v, node, "slice")

    def check_mutable(self, lst: PyList, node: ast.AST, what: str = "list") -> None:
        if lst.depth == PARAMETER_DEPTH:
            raise self.error(
                node,
                f"unsupported: changing a {what} passed as a parameter (TorchScript changes the "
                f"caller's {what}; compiled code gets its values); copy it first: "
                f"`{what}(...)`",
            )
        if lst.depth < 0:
            raise self.error(
                node,
                "unsupported: changing a list held by a module attribute or a global "
                "(scripted code reads a copy of it)",
            )
        if lst.depth != self.depth:
            raise Unrollable(
                f"unsupported: changing a {what} inside an if branch or a loop body when it "
                "was created outside (its length must be known at compile time); build it "
                "where it is changed, or loop over a constant range()",
                self.loc(node),
            )

    def list_setitem(self, lst: PyList, target: ast.Subscript, v: Any) -> None:
        """`xs[i] = v` with `i` known while compiling (a list's length is too)."""
        if isinstance(target.slice, ast.Slice):
            raise self.error(target, "unsupported: assigning to a slice of a list")
        i = self.const_index(self.expr(target.slice), target.slice)  # type: ignore[attr-defined]
        self.check_mutable(lst, target)
        if not -len(lst.items) <= i < len(lst.items):
            raise self.error(
                target, f"list assignment index {i} out of range for a {describe(lst)}"
            )
        lst.items[i] = v

    def delete_item(self, target: ast.expr) -> None:
        """`del xs[i]` / `del d[k]` (index and key known while compiling)."""
        base = self.expr(target.value) if isinstance(target, ast.Subscript) else None  # type: ignore[attr-defined]
        if isinstance(base, PyDict) and isinstance(target, ast.Subscript):
            self.check_mutable(base, target, "dict")  # type: ignore[arg-type]
            k = self.dict_key(self.expr(target.slice), target.slice)  # type: ignore[attr-defined]
            if k not in base.items:
                raise self.error(target, f"KeyError: {k!r} is not a key of this {describe(base)}")
            del base.items[k]
            return
        if not isinstance(base, PyList) or isinstance(target.slice, ast.Slice):  # type: ignore[union-attr]
            raise self.error(target, "unsupported: del of anything but a list item or a dict entry")
        i = self.const_index(self.expr(target.slice), target.slice)  # type: ignore[union-attr, attr-defined]
        self.check_mutable(base, target)
        if not -len(base.items) <= i < len(base.items):
            raise self.error(target, f"list index {i} out of range for a {describe(base)}")
        del base.items[i]

    def constant_position(self, lst: PyList, v: Any, e: ast.AST, name: str) -> int:
        """Where `v` first is in `lst`, for list.index/remove: the items and `v` must be
        known while compiling (a run-time position would need a run-time list length)."""
        want = const_of(v)
        items = [const_of(x) for x in lst.items]
        if want is UNKNOWN or UNKNOWN in items:
            raise self.error(
                e,
                f"unsupported: list.{name} of run-time values (supported when the items and "
                "the value are known while compiling)",
            )
        try:
            return items.index(want)
        except ValueError:
            raise self.error(e, f"list.{name}(x): {want!r} is not in list") from None

    def list_method(
        self, lst: PyList, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> Any:
        if name == "sort" and not args:
            reverse = self.sort_reverse(kwargs, e)  # type: ignore[attr-defined]
            self.check_mutable(lst, e)
            lst.items[:] = self.sorted_items(lst.items, reverse, e)  # type: ignore[attr-defined]
            return self.b.constant(None)  # type: ignore[attr-defined]
        if kwargs:
            raise self.error(e, f"unsupported: keyword arguments to list.{name}")
        n = len(args)
        if name == "count" and n == 1:
            return self.count_in(lst.items, args[0], e)  # type: ignore[attr-defined]
        if name in ("index", "remove") and n == 1:
            i = self.constant_position(lst, args[0], e, name)
            if name == "index":
                return self.b.constant(i)  # type: ignore[attr-defined]
            self.check_mutable(lst, e)
            del lst.items[i]
            return self.b.constant(None)  # type: ignore[attr-defined]
        if name == "copy" and n == 0:
            return self.new_list(list(lst.items))
        self.check_mutable(lst, e)
        if name == "append" and n == 1:
            lst.items.append(args[0])
        elif name == "extend" and n == 1 and isinstance(args[0], (PyList, PyTuple)):
            lst.items.extend(args[0].items)
        elif name == "insert" and n == 2:
            lst.items.insert(self.const_index(args[0], e), args[1])
        elif name == "pop" and n <= 1:
            i = self.const_index(args[0], e) if args else -1
            try:
                return lst.items.pop(i)
            except IndexError:
                raise self.error(e, f"pop index {i} out of range for a {describe(lst)}") from None
        elif name == "clear" and n == 0:
            lst.items.clear()
        elif name == "reverse" and n == 0:
            lst.items.reverse()
        else:
            raise self.error(e, f"unsupported: list.{name} with {n} argument(s)")
        return self.b.constant(None)

    def list_binop(self, name: str, a: Any, b: Any, node: ast.AST) -> Any:
        """`+` of two lists (or tuples), `*` by a constant int; None if not a list operation."""
        seqs = (PyList, PyTuple)
        if name == "add" and isinstance(a, seqs) and isinstance(b, seqs):
            if type(a) is not type(b):
                raise self.error(node, f"unsupported: {describe(a)} + {describe(b)}")
            items = [*a.items, *b.items]
            return self.new_list(items) if isinstance(a, PyList) else PyTuple(items)
        if name in ("eq", "ne") and isinstance(a, seqs) and isinstance(b, seqs):
            return self.sequence_eq(a, b, name == "eq", node)
        if name == "mul" and (isinstance(a, seqs) or isinstance(b, seqs)):
            seq, k = (a, b) if isinstance(a, seqs) else (b, a)
            times = self.const_index(k, node, "repetition count")
            items = list(seq.items) * max(times, 0)
            return self.new_list(items) if isinstance(seq, PyList) else PyTuple(items)
        return None

    def sequence_eq(self, a: Any, b: Any, eq: bool, node: ast.AST) -> Any:
        """`a == b` / `!=` of lists (tuples): same length and equal items, in order."""
        if type(a) is not type(b) or len(a.items) != len(b.items):
            return PyObj(not eq)
        result: Any = PyObj(True)
        for x, y in zip(a.items, b.items, strict=True):
            cx, cy = const_of(x), const_of(y)
            if cx is not UNKNOWN and cy is not UNKNOWN:
                item: Any = PyObj(cx == cy)
            else:
                item = self.arith("eq", x, y, node)
                if isinstance(item, SSAValue) and isinstance(item.type, td.ValueTensorType):
                    raise self.error(node, "unsupported: == of lists of tensors")
            result = self.bool_and(result, lambda item=item: item, node)
        if eq:
            return result
        if isinstance(result, PyObj):
            return PyObj(not result.obj)
        return self.scalar_op("aten.__not__", [result], node)

    def sequence_subscript(self, base: PyList | PyTuple, e: ast.Subscript) -> Any:
        if isinstance(e.slice, ast.Slice):
            parts = []
            for p in (e.slice.lower, e.slice.upper, e.slice.step):
                parts.append(None if p is None else self.slice_bound(self.expr(p), p))
            items = base.items[slice(*parts)]
            return self.new_list(items) if isinstance(base, PyList) else PyTuple(items)
        iv = self.expr(e.slice)
        if (
            const_of(iv) is UNKNOWN
            and isinstance(iv, SSAValue)
            and isinstance(iv.type, td.IntType)
            and isinstance(base, PyList)
        ):
            return self.run_time_index(base, iv, e)  # expressions.py
        i = self.const_index(iv, e.slice)
        try:
            return base.items[i]
        except IndexError:
            raise self.error(e, f"index {i} out of range for a {describe(base)}") from None

    def contains(self, item: Any, seq: Any, node: ast.AST) -> Any:
        """`item in seq` for a list or tuple: constant-folded, or an `or` of comparisons."""
        seq = self.module_sequence(seq)  # type: ignore[attr-defined]  (a ModuleDict's keys)
        if not isinstance(seq, (PyList, PyTuple)):
            raise self.error(node, f"unsupported: 'in' on a {describe(seq)}")
        result: Any = PyObj(False)
        for x in seq.items:
            a, b = const_of(item), const_of(x)
            if a is not UNKNOWN and b is not UNKNOWN:
                eq: Any = PyObj(a == b)
            elif isinstance(item, SSAValue) and isinstance(x, SSAValue):
                eq = self.arith("eq", item, x, node)
                if isinstance(eq, SSAValue) and isinstance(eq.type, td.ValueTensorType):
                    raise self.error(node, "unsupported: 'in' on a list of tensors")
            else:
                raise self.error(node, f"unsupported: {describe(item)} in {describe(seq)}")
            result = self.bool_or(result, lambda eq=eq: eq, node)
        return result

    def e_ListComp(self, e: ast.ListComp) -> PyList:
        """A comprehension over lists, tuples or a constant range, unrolled while compiling."""
        return self.new_list(self.unrolled_comprehension(e, lambda: self.expr(e.elt)))

    def unrolled_comprehension(
        self, e: ast.ListComp | ast.DictComp, each: Callable[[], Any]
    ) -> list[Any]:
        """`each()` for every item of a comprehension's one `for` clause that its (constant)
        filters keep, with the target bound; the names it binds do not leak (as in Python 3)."""
        if len(e.generators) != 1 or e.generators[0].is_async:
            raise self.error(e, "unsupported: comprehensions with several 'for' clauses")
        gen = e.generators[0]
        items = self.iteration_items(gen.iter)
        saved = dict(self.env)
        out = []
        try:
            for item in items:
                self.assign(gen.target, item)
                keep = True
                for cond in gen.ifs:
                    c = self.cond(cond)
                    if not isinstance(c, bool):
                        raise self.error(
                            cond, "unsupported: a comprehension filter that is not a constant"
                        )
                    keep = keep and c
                if keep:
                    out.append(each())
        finally:
            self.env.clear()
            self.env.update(saved)
        return out

    def iteration_items(self, it: ast.expr) -> list[Any]:
        """What a comprehension iterates: a list's or tuple's items, or a constant range."""
        if (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "range"
            and it.func.id not in self.env
        ):
            bounds = [self.const_index(self.expr(a), a, "range bound") for a in it.args]
            r = range(*bounds)
            if len(r) > MAX_UNROLL:
                raise self.error(it, f"unsupported: a comprehension of more than {MAX_UNROLL}")
            return [self.b.constant(i) for i in r]
        seq = self.module_sequence(self.expr(it))  # type: ignore[attr-defined]
        if isinstance(seq, PyDict):  # its keys
            seq = self.dict_keys_list(seq)  # type: ignore[attr-defined]
        if isinstance(seq, (PyList, PyTuple)):
            return list(seq.items)
        raise self.error(it, f"unsupported: a comprehension over a {describe(seq)}")

    def tensor_literal(self, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> SSAValue:
        """`torch.tensor(data, dtype=...)` of a scalar or (nested) list of scalars, constants or
        run-time values: each scalar a 0-d `aten.full`, `aten.stack`ed per list level (registry
        ops, so constants fold). The dtype is torch's inference unless given: float32 if any
        element is a float, else int64 if any is an int, else bool."""
        kwargs = dict(kwargs)
        dtype = kwargs.pop("dtype", None)
        for k in ("device", "requires_grad"):
            v = kwargs.pop(k, None)
            if v is not None and not (isinstance(v, PyObj) and v.obj in (None, False, "cpu")):
                raise self.error(e, f"unsupported: torch.tensor(..., {k}=...) here")
        if len(args) != 1 or kwargs:
            raise self.error(e, "unsupported: torch.tensor() takes one data argument and dtype=")
        kinds: set[str] = set()

        def leaf_kind(v: Any) -> str:
            c = const_of(v)
            if isinstance(v, SSAValue) and isinstance(v.type, td.BoolType) or type(c) is bool:
                return "bool"
            if isinstance(v, SSAValue) and isinstance(v.type, td.IntType) or type(c) is int:
                return "int"
            if isinstance(v, SSAValue) and isinstance(v.type, td.FloatType) or type(c) is float:
                return "float"
            raise self.error(
                e,
                f"unsupported: torch.tensor() of a {describe(v)} (expected int/float/bool "
                "scalars or lists of them)",
            )

        def shape(v: Any) -> tuple[int, ...]:
            if not isinstance(v, (PyList, PyTuple)):
                kinds.add(leaf_kind(v))
                return ()
            subs = [shape(x) for x in v.items]
            if any(s != subs[0] for s in subs):
                raise self.error(e, "torch.tensor(): the nested lists have different lengths")
            return (len(subs), *(subs[0] if subs else ()))

        dims = shape(args[0])
        if isinstance(dtype, PyObj):
            dtype = dtype.obj
        if dtype is None:
            dtype = (
                types.float32
                if "float" in kinds or not kinds
                else types.int64
                if "int" in kinds
                else types.bool_
            )
        if not isinstance(dtype, types.DType):
            raise self.error(e, f"unsupported: torch.tensor(dtype={describe(dtype)})")
        if 0 in dims:  # an empty list: no element to stack
            zero = self.b.constant(False if dtype is types.bool_ else 0)
            sizes = PyList([self.b.constant(d) for d in dims])
            return self.registry_call("full", [sizes, zero], {"dtype": PyObj(dtype)}, e)  # type: ignore[attr-defined, no-any-return]

        def build(v: Any) -> SSAValue:
            if isinstance(v, (PyList, PyTuple)):
                items = PyList([build(x) for x in v.items])
                return self.registry_call("stack", [items, self.b.constant(0)], {}, e)  # type: ignore[attr-defined, no-any-return]
            if isinstance(v, PyObj):
                v = self.b.constant(v.obj)
            return self.registry_call("full", [PyList([]), v], {"dtype": PyObj(dtype)}, e)  # type: ignore[attr-defined, no-any-return]

        return build(args[0])
