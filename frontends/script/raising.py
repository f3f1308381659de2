"""`raise` and `assert` as TorchScript has them: `torch.prim.RaiseException` in the branch of a
`torch.prim.If` that raises, the other branch compiled after it (when control gets past the
`prim.If`, the raising branch was not taken).

    if x.dim() != 2:
        raise ValueError(f"expected 2D input (got {x.dim()}D input)")

is `prim.If %ne { prim.RaiseException %msg, %cls, %dim ; yield } else { yield }`: `%msg` is the
template `"expected 2D input (got {}D input)"`, `%cls` is `"builtins.ValueError"` and the
f-string's values are trailing operands (TorchScript's `aten::format`). `assert c, "m"` raises
`"AssertionError: m"` with a `None` class, as TorchScript does. A compile-time condition (`x is
None`, a folded constant) keeps only the branch taken."""

from __future__ import annotations

import ast
import string
from collections.abc import Callable
from typing import Any

from xdsl.ir import Block, Region, SSAValue

from xjit.dialects import torch as td
from xjit.errors import script_str
from xjit.frontends.script.statements import Raised, contains_any
from xjit.frontends.script.values import PyObj, describe


class Raising:
    """FunctionCompiler's `raise` / `assert` (compiler.py holds the state)."""

    def raise_stmt(self, st: ast.Raise) -> None:
        """Emit the raise; every statement after it is dead, so compiling stops (Raised)."""
        if st.exc is None:
            raise self.error(
                st,
                "unsupported: a bare `raise` (re-raising needs try/except, which script does "
                "not have; TorchScript refuses it too); raise an exception: `raise "
                "RuntimeError(...)`",
            )
        if st.cause is not None and not _is_exception_like(st.cause):
            raise self.error(
                st.cause,
                "unsupported: `raise ... from` something other than None or an exception "
                "(there is no try/except in script)",
            )
        # (`from None` / `from Error(...)` only sets __cause__, which TorchScript drops too)
        exc, args = st.exc, []
        if isinstance(exc, ast.Call):
            if exc.keywords:
                raise self.error(exc, "unsupported: keyword arguments to an exception")
            exc, args = exc.func, exc.args
        cls = self.expr(exc)
        obj = cls.obj if isinstance(cls, PyObj) else None
        if not (isinstance(obj, type) and issubclass(obj, BaseException)):
            raise self.error(
                exc, f"unsupported: raising a {describe(cls)} (raise an exception class)"
            )
        mod = "builtins" if obj.__module__ == "builtins" else obj.__module__
        if len(args) > 1:  # TorchScript formats several arguments as a tuple: (a, b)
            parts = [self.message(a) for a in args]
            template = "(" + ", ".join(p[0] for p in parts) + ")"
            values = [v for p in parts for v in p[1]]
        else:
            template, values = self.message(args[0]) if args else ("", [])
        # `raise ValueError` (the class, not called): TorchScript drops the class, as here
        cls_name = f"{mod}.{obj.__qualname__}" if isinstance(st.exc, ast.Call) else None
        self.emit_raise(template, cls_name, values)
        raise Raised(self.loc(st))

    def assert_stmt(self, st: ast.Assert) -> None:
        """`assert c, msg`: raises "AssertionError: msg" when `c` is false (`x is not None`
        refines nothing here: it is decided while compiling)."""
        c = self.cond(st.test)
        if c is True:
            return

        def fail() -> None:
            template, values = self.message(st.msg) if st.msg is not None else ("", [])
            self.emit_raise("AssertionError: " + template, None, values)

        if c is False:
            fail()
            raise Raised(self.loc(st))
        self.at(st)
        blk, _, _ = self.region(fail)
        self.raise_guard(c, blk, raise_if=False)
        self.apply_refinement(self.refinement(c, True))  # past the guard, c holds

    def message(self, node: ast.expr) -> tuple[str, list[SSAValue]]:
        """An exception message as a `str.format` template and its run-time values."""
        if isinstance(node, ast.JoinedStr):
            template, values = "", []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    template += str(part.value).replace("{", "{{").replace("}", "}}")
                    continue
                assert isinstance(part, ast.FormattedValue)
                if part.conversion != -1 or part.format_spec is not None:
                    raise self.error(part, "unsupported: f-string conversions and format specs")
                t, vs = self.message(part.value)
                template += t
                values += vs
            return template, values
        if _is_str_concat(node):  # "too big " + str(n): the pieces, concatenated
            assert isinstance(node, ast.BinOp)
            (lt, lv), (rt, rv) = self.message(node.left), self.message(node.right)
            return lt + rt, lv + rv
        if _is_format_call(node):  # "too big: {}".format(n): its `{}` fields, in order
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            fmt = node.func.value.value  # type: ignore[attr-defined]
            fields = list(string.Formatter().parse(fmt))
            if any(f[1] not in ("", None) or f[2] or f[3] for f in fields) or sum(
                f[1] is not None for f in fields
            ) != len(node.args):
                raise self.error(node, "unsupported: str.format fields other than `{}`")
            template, values, args = "", [], iter(node.args)
            for literal, field, _, _ in fields:
                template += literal.replace("{", "{{").replace("}", "}}")
                if field is not None:
                    t, vs = self.message(next(args))
                    template, values = template + t, values + vs
            return template, values
        if _is_str_call(node):  # str(n): the value, formatted as TorchScript's str() does
            assert isinstance(node, ast.Call)
            return self.message(node.args[0])
        v = self.expr(node)
        if isinstance(v, PyObj) and isinstance(v.obj, (str, bool, int, float)):
            return script_str(v.obj).replace("{", "{{").replace("}", "}}"), []
        if isinstance(v, SSAValue) and isinstance(
            v.type, (td.IntType, td.FloatType, td.BoolType, td.StrType, td.ValueTensorType)
        ):
            return "{}", [v]
        raise self.error(node, f"unsupported: a {describe(v)} in an exception message")

    def emit_raise(self, template: str, cls: str | None, values: list[SSAValue]) -> None:
        msg = self.b.constant(template) if template else self.b.constant("")
        self.b.insert(td.PrimRaiseExceptionOp(msg, self.b.constant(cls), values))

    def raise_guard(self, c: SSAValue, raising: Block, raise_if: bool) -> None:
        """`prim.If c` with `raising` as its then (raise_if) or else branch, no results."""
        other = Block()
        for blk in (raising, other):
            y = td.PrimIfYieldOp()
            y.location = self.b.loc  # type: ignore[assignment]
            blk.add_op(y)
        then, orelse = (raising, other) if raise_if else (other, raising)
        self.b.insert(td.PrimIfOp(c, [], Region(then), Region(orelse)))

    def try_region(self, fn: Callable[[], Any]) -> tuple[Block, Any, bool]:
        """`region(fn)`, and whether every path through it raised."""
        raised: list[bool] = []

        def run() -> Any:
            try:
                return fn()
            except Raised:
                raised.append(True)
                return None

        blk, out, _ = self.region(run)
        return blk, out, bool(raised)

    def if_raising(self, st: ast.If, rest: list[ast.stmt]) -> list[SSAValue] | None:
        """An `if` with a `raise`/`assert` inside, then the rest of the block. A branch that
        always raises becomes a guard and the other branch (then the rest) is compiled after
        it; otherwise the `if` compiles as any other (its raises guarded inside)."""
        c = self.cond(st.test)
        if isinstance(c, bool):
            return self.block((st.body if c else st.orelse) + rest)
        exits = contains_any(st, (ast.Return, ast.Break, ast.Continue), True)
        if exits and self.frame.kind == "unrolled":
            return self.if_exits(st, rest, c)
        tail = rest if exits else []
        for branch, other, in_then in ((st.body, st.orelse, True), (st.orelse, st.body, False)):
            if not branch + tail:
                continue
            blk, _, raised = self.try_region(
                self.refined(
                    self.refinement(c, in_then),
                    lambda b=branch: self.block_to_exit(b + tail, st) if exits else self.block(b),
                )
            )
            if raised:
                self.at(st)
                self.raise_guard(c, blk, raise_if=in_then)
                self.apply_refinement(self.refinement(c, not in_then))  # the branch not raising
                return self.block(other + rest)
        if exits:
            return self.if_exits(st, rest, c)
        self.if_stmt(st, c)
        return self.block(rest)


def _is_str_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "str"
        and len(node.args) == 1
        and not node.keywords
    )


def _is_format_call(node: ast.expr) -> bool:
    """`"...".format(a, b)` with positional arguments."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def _is_str_concat(node: ast.expr) -> bool:
    """`a + b` where one side is visibly a str (a literal, an f-string, `str(...)`, or such a
    concatenation): a message built by concatenation. (`n + 1` stays an int expression.)"""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return False

    def stringy(x: ast.expr) -> bool:
        return (
            (isinstance(x, ast.Constant) and isinstance(x.value, str))
            or isinstance(x, ast.JoinedStr)
            or _is_str_call(x)
            or _is_format_call(x)
            or _is_str_concat(x)
        )

    return stringy(node.left) or stringy(node.right)


def _is_exception_like(node: ast.expr) -> bool:
    """A `raise ... from` cause script accepts (and drops): None, or an exception class or
    its construction."""
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    f = node.func if isinstance(node, ast.Call) else node
    return isinstance(f, (ast.Name, ast.Attribute)) and (
        (f.id if isinstance(f, ast.Name) else f.attr).endswith(("Error", "Exception"))
    )
