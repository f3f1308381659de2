"""Statements and control flow: blocks, assignments, `if` as `torch.prim.If`, `for`/`while` as
`torch.prim.Loop`, and what `return`/`break`/`continue` yield (see the package docstring)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from xdsl.builder import InsertPoint
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import Rewriter

from xjit.dialects import torch as td
from xjit.errors import FrontendError
from xjit.frontends.script import aliasing, item_assign, str_choice
from xjit.frontends.script.lists import MAX_UNROLL, Unrollable, const_of, known_per_call
from xjit.frontends.script.optionals import WidenOptional
from xjit.frontends.script.registry_ops import NeedsArgTypes, NeedsCallTypes
from xjit.frontends.script.str_choice import StrChoice
from xjit.frontends.script.unrolled_loops import Unrolled, UnrolledLoops
from xjit.frontends.script.values import (
    EnumeratedTensor,
    OptVal,
    PyDict,
    PyList,
    PyObj,
    PyTuple,
    describe,
    join_types,
    type_name,
)
from xjit.frontends.signature import OutputSpec

INT64_MAX = 9223372036854775807


def ssa_hint(name: str) -> str | None:
    """A variable's name as an SSA name hint, or None when xDSL cannot keep it: it drops a
    `_<digits>` suffix, so `_0` (as `.code` names temporaries) would become an invalid ''."""
    return None if re.fullmatch(r"_\d+", name) else name


@dataclass
class Frame:
    """What `return` / `break` / `continue` mean where they occur."""

    kind: str  # "function" | "loop"
    carried: list[str] = field(default_factory=list)
    next_cond: Callable[[], SSAValue] | None = None  # loops: the condition after an iteration
    # functions, once known: [OutputSpec, (the first return's SourceLoc, its leaf types)]
    return_spec: list[Any] = field(default_factory=list)
    templates: dict[str, Any] = field(default_factory=dict)  # loops: each carried var's structure
    fixed: dict[str, Any] = field(default_factory=dict)  # loops: values that may not change
    # loops with a `return` inside: the function's return values are carried in slots after
    # a "returned" flag; their structure and types are learnt from the first return compiled
    has_ret: bool = False
    ret_spec: Any = None
    ret_types: list[Attribute] | None = None
    ret_args: list[SSAValue] = field(default_factory=list)  # the slots' incoming block args
    alive: str | None = None  # an unrolled loop's hidden flag that a `break` clears


class _ReturnTypes(Exception):
    """The first `return` compiled inside a loop whose return slots are not typed yet."""

    def __init__(self, spec: OutputSpec, types: list[Attribute]) -> None:
        self.spec, self.types = spec, types


class Raised(Exception):
    """Compiling reached a `raise` (or an `assert` false at compile time) that every path
    through the statements being compiled runs: the enclosing `if` makes its branch a guard
    (`prim.If` whose branch raises) and compiles the other branch after it."""

    def __init__(self, loc: Any) -> None:
        self.loc = loc


class Env(dict):  # name -> value
    pass


def leaves_of(v: Any) -> list[SSAValue] | None:
    """The SSA values of a value built of (nested) tuples/lists of SSA values, in order; None if
    it holds anything else (modules, Python objects), which cannot flow through control flow."""
    if isinstance(v, SSAValue):
        return [v]
    if isinstance(v, OptVal):  # a run-time Optional: its flag, then its payload
        return [v.present, v.payload]
    if isinstance(v, StrChoice):  # a run-time str: its index (str_choice.py)
        return [v.index]
    if isinstance(v, (PyTuple, PyList, PyDict)):
        out: list[SSAValue] = []
        for x in v.items.values() if isinstance(v, PyDict) else v.items:
            sub = leaves_of(x)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return None


def _clash(first: OutputSpec, spec: OutputSpec) -> str:
    """Why a return's structure clashes with an earlier return's."""
    if _has_const(first) or _has_const(spec):
        return (
            "unsupported: returns giving different str values (a str result must be known "
            f"while compiling): {spec.describe()} here, {first.describe()} before"
        )
    return "type clash: this return's structure differs from an earlier return"


def _has_const(spec: OutputSpec) -> bool:
    return spec.kind == "const" or any(_has_const(c) for c in spec.children)


def same_structure(a: Any, b: Any) -> bool:
    """Whether two values have the same tuple/list nesting (leaves are SSA values)."""
    if isinstance(a, SSAValue) or isinstance(b, SSAValue):
        return isinstance(a, SSAValue) and isinstance(b, SSAValue)
    if isinstance(a, OptVal) or isinstance(b, OptVal):
        return isinstance(a, OptVal) and isinstance(b, OptVal)
    if isinstance(a, StrChoice) or isinstance(b, StrChoice):
        return isinstance(a, StrChoice) and isinstance(b, StrChoice) and a.options == b.options
    if isinstance(a, PyDict) and isinstance(b, PyDict):  # the same keys, in the same order
        return list(a.items) == list(b.items) and all(
            same_structure(a.items[k], b.items[k]) for k in a.items
        )
    if type(a) is not type(b) or not isinstance(a, (PyTuple, PyList)):
        return False
    return len(a.items) == len(b.items) and all(
        same_structure(x, y) for x, y in zip(a.items, b.items, strict=True)
    )


def rebuild_like(template: Any, vals: Iterator[SSAValue]) -> Any:
    """`template`'s tuple/list structure with its leaves taken from `vals` in order."""
    if isinstance(template, SSAValue):
        return next(vals)
    if isinstance(template, OptVal):
        return OptVal(next(vals), next(vals))
    if isinstance(template, StrChoice):
        return StrChoice(next(vals), template.options)
    if isinstance(template, PyDict):
        return PyDict({k: rebuild_like(x, vals) for k, x in template.items.items()})
    items = [rebuild_like(x, vals) for x in template.items]
    if isinstance(template, PyTuple):  # (a named tuple keeps its fields)
        return PyTuple(items, template.names, template.named_class)
    return PyList(items)


def contains_any(node: ast.AST, kinds: tuple[type, ...], stop_at_loops: bool) -> bool:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, kinds):
            return True
        if isinstance(child, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if stop_at_loops and isinstance(child, (ast.For, ast.While)):
            # break/continue inside a nested loop belong to it; return does not
            if (
                contains_any(child, tuple(k for k in kinds if k is ast.Return), False)
                if ast.Return in kinds
                else False
            ):
                return True
            continue
        if contains_any(child, kinds, stop_at_loops):
            return True
    return False


def _trailing_break_test(st: ast.For | ast.While, assigned: list[str]) -> ast.expr | None:
    """`c` when the loop is `while t: ...; if not c: break` with `t` a constant or a variable the
    body does not assign (so still true after an iteration) and no `continue` (which would skip
    the test): then the loop simply continues while `c`, a prim.Loop condition like the one
    `.code` prints this way (no break flag, no prim.If)."""
    if not isinstance(st, ast.While) or contains_any(st, (ast.Continue,), True):
        return None
    t, last = st.test, st.body[-1]
    if not (
        isinstance(t, ast.Constant)
        and t.value is True
        or isinstance(t, ast.Name)
        and t.id not in assigned
    ):
        return None
    if not (
        isinstance(last, ast.If)
        and not last.orelse
        and len(last.body) == 1
        and isinstance(last.body[0], ast.Break)
        and isinstance(last.test, ast.UnaryOp)
        and isinstance(last.test.op, ast.Not)
    ):
        return None
    return last.test.operand


def _may_raise(st: ast.If, rest: Sequence[ast.stmt]) -> bool:
    """Whether an `if` (or, when it exits, the rest of its block that follows its branches)
    holds a `raise`/`assert` (raising.py compiles it)."""
    if contains_any(st, (ast.Raise, ast.Assert), False):
        return True
    exits = contains_any(st, (ast.Return, ast.Break, ast.Continue), True)
    return exits and any(isinstance(n, (ast.Raise, ast.Assert)) for s in rest for n in ast.walk(s))


def _assigned_names(stmts: Sequence[ast.stmt]) -> list[str]:
    names: list[str] = []
    for s in stmts:
        for node in ast.walk(s):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            elif isinstance(node, ast.For):
                targets = [node.target]
            elif isinstance(node, ast.Call):  # `x.add_(y)`, `x.mul_(2).add_(1)` rebind x
                root = aliasing.updated_root(node)
                targets = [root] if root is not None else []
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.append(n.id)
    return names


class Statements(UnrolledLoops):
    """FunctionCompiler's statement half (compiler.py holds the state: `b`, `env`, `frame`)."""

    def block(self, stmts: Sequence[ast.stmt]) -> list[SSAValue] | None:
        """Compile statements; the exit payload if every path ended in return/break/continue."""
        stmts = self.without_grad_modes(stmts)
        for i, st in enumerate(stmts):
            self.at(st)
            if isinstance(st, ast.Return):
                return self.ret(st)
            if isinstance(st, (ast.Break, ast.Continue)):
                if self.frame.kind == "unrolled":  # decided while compiling (see unroll)
                    return [type(st).__name__]  # type: ignore[list-item]
                if self.frame.kind != "loop":
                    raise self.error(st, f"'{type(st).__name__.lower()}' outside a loop")
                if isinstance(st, ast.Break) and self.frame.alive is not None:
                    self.env[self.frame.alive] = self.b.constant(False)  # see unrolled_loops.py
                cond = (
                    self.b.constant(False) if isinstance(st, ast.Break) else self.frame.next_cond()
                )  # type: ignore[misc]
                return self.loop_exit(cond, st)
            if isinstance(st, ast.Raise):
                self.raise_stmt(st)
            if isinstance(st, ast.Assert):
                self.assert_stmt(st)
                continue
            if isinstance(st, ast.If) and _may_raise(st, stmts[i + 1 :]):
                return self.if_raising(st, list(stmts[i + 1 :]))
            if isinstance(st, (ast.For, ast.While)) and contains_any(st, (ast.Return,), False):
                return self.loop_with_return(st, list(stmts[i + 1 :]))
            if isinstance(st, ast.If) and contains_any(
                st, (ast.Return, ast.Break, ast.Continue), True
            ):
                return self.if_exits(st, list(stmts[i + 1 :]))
            self.stmt(st)
        return None

    def without_grad_modes(self, stmts: Sequence[ast.stmt]) -> list[ast.stmt]:
        """`with torch.no_grad():` (or `enable_grad()`/`inference_mode()`) blocks as their
        bodies: compiled code keeps no autograd state, so the grad mode changes nothing (as
        in TorchScript). Any other `with` is a located error."""
        out: list[ast.stmt] = []
        for st in stmts:
            if not isinstance(st, ast.With):
                out.append(st)
                continue
            for item in st.items:
                ctx = item.context_expr
                try:
                    callee = self.expr(ctx.func) if isinstance(ctx, ast.Call) else None
                except FrontendError:
                    callee = None  # not a grad mode: the error below says what is supported
                obj = getattr(callee, "obj", None)
                if (
                    item.optional_vars is not None
                    or getattr(obj, "__module__", None) != "xjit._device"
                    or getattr(obj, "__name__", None) not in _GRAD_MODES
                ):
                    raise self.error(
                        st,
                        "unsupported statement: With (with-statements): only "
                        "`with torch.no_grad():`, `enable_grad()` or `inference_mode()` "
                        "blocks, without `as`",
                    )
            out.extend(self.without_grad_modes(st.body))
        return out

    def block_to_exit(self, stmts: Sequence[ast.stmt], node: ast.AST) -> list[SSAValue]:
        """Statements that end in an exit on every path: falling off the end of a loop body
        continues the loop; falling off the end of a function is an error."""
        return self.finish_exit(self.block(stmts), node)

    def finish_exit(self, payload: list[SSAValue] | None, node: ast.AST) -> list[SSAValue]:
        """The exit payload of compiled statements, falling off their end as block_to_exit."""
        if payload is not None:
            return payload
        if self.frame.kind == "loop":
            return self.loop_exit(self.frame.next_cond(), node)  # type: ignore[misc]
        raise self.error(
            node,
            f"'{self.fdef.name}' must return a value on every path "
            "(None only by an explicit `return None` in a function annotated -> Optional[T])",
        )

    def loop_exit(self, cond: SSAValue, node: ast.AST) -> list[SSAValue]:
        """What a loop body yields when it continues or breaks (not returns)."""
        out = [cond, *self.carried_values(node)]
        if self.frame.has_ret and self.frame.ret_types is not None:
            out += [self.b.constant(False), *self.frame.ret_args]
        return out

    def loop_with_return(self, st: ast.For | ast.While, rest: list[ast.stmt]) -> list[SSAValue]:
        """A loop with a `return` inside, then the statements after it: the loop carries a
        "returned" flag and the return values; after it, the flag chooses between returning
        them and running the rest (which must end in an exit on every path)."""
        got = self.for_stmt(st, rest) if isinstance(st, ast.For) else self.while_stmt(st)
        if isinstance(got, Unrolled):  # compiled with the rest (unrolled_loops.py)
            return got.payload  # type: ignore[return-value]
        if got is None:  # no return was reached at compile time
            return self.block(rest)  # type: ignore[return-value]
        flag, slots, spec = got
        self.at(st)
        tb, tp, _ = self.region(lambda: self.return_values(slots, spec, st))
        eb, ep, _ = self.region(lambda: self.block_to_exit(rest, st))
        if len(tp) != len(ep):
            raise self.error(st, "type clash: the paths return different numbers of values")
        types = self.yield_joined(
            [(tb, tp), (eb, ep)],
            st,
            lambda i: f"exit value {i}",
            lambda vs: td.PrimIfYieldOp(*vs),
        )
        return list(self.b.insert(td.PrimIfOp(flag, types, Region(tb), Region(eb))).results)

    def carried_values(self, node: ast.AST) -> list[SSAValue]:
        """The leaves of the loop-carried variables at an exit of the loop body."""
        for n, v in self.frame.fixed.items():
            if self.env.get(n) is not v:
                raise self.error(
                    node, f"unsupported: '{n}' (a {describe(v)}) is reassigned inside a loop"
                )
        out = []
        for n in self.frame.carried:
            v = self.env.get(n)
            t = self.frame.templates[n]
            if isinstance(t, StrChoice) and str_choice.fits(v, t.options):  # a str set here
                v = self.env[n] = str_choice.as_choice(self, v, t.options)
            v = self.carried_optional(n, v, t, node)
            if not same_structure(v, self.frame.templates[n]):
                raise Unrollable(
                    f"type clash: loop-carried variable '{n}' is "
                    f"{describe(self.frame.templates[n])} before the loop and "
                    f"{describe(v)} after an iteration",
                    self.loc(node),
                )
            out.extend(leaves_of(v) or [])
        return out

    def ret(self, st: ast.Return) -> list[SSAValue]:
        if st.value is None and self.opt_return is not None:
            return self.return_none(st)
        if st.value is None:
            raise self.error(st, "unsupported: returning None")
        v = self.expr(st.value)
        if self.opt_return is not None:  # `-> Optional[T]`: every return gives (present, T)
            v = self.optional_result(v, st.value)
        flat, spec = self.flatten(v, st.value)
        return self.return_values(flat, spec, st)

    def return_values(self, flat: list[SSAValue], spec: OutputSpec, st: ast.AST) -> list[SSAValue]:
        """The exit payload of returning `flat`: the function's results, or inside a loop the
        loop's next condition (false), carried values, the returned flag and the values."""
        fr = self.frame
        if fr.kind == "function":
            if fr.return_spec and fr.return_spec[0] != spec:
                raise self.error(st, _clash(fr.return_spec[0], spec))
            if not fr.return_spec:
                fr.return_spec.append(spec)
                fr.return_spec.append((self.loc(st), [v.type for v in flat]))
            else:  # a clash between returns points at the later return, as TorchScript does
                first_loc, first_types = fr.return_spec[1]
                for k, (t, v) in enumerate(zip(first_types, flat, strict=True)):
                    if join_types(t, v.type) is None and not self.pending_placeholder(t, v):
                        raise self.error(
                            st,
                            f"type clash: this return's value {k} is {type_name(v.type)}, "
                            f"the return at line {first_loc.line} gives {type_name(t)}",
                        )
            return flat
        if fr.ret_types is None:
            raise _ReturnTypes(spec, [v.type for v in flat])
        if fr.ret_spec != spec or len(flat) != len(fr.ret_types):
            raise self.error(st, _clash(fr.ret_spec, spec))
        return [self.b.constant(False), *self.carried_values(st), self.b.constant(True), *flat]

    @property
    def str_returns(self) -> list[str] | None:
        """The str values the function returns, numbered as they are compiled, when it may
        return different ones (`-> str`, or two str literals returned): every returned str is
        then a run-time choice among them (str_choice.py); None otherwise."""
        if not hasattr(self, "_str_returns"):
            self._str_returns = [] if _several_str_returns(self.fdef) else None
        return self._str_returns

    def returned_choice(self, v: Any, node: ast.AST) -> StrChoice:
        """A returned str as a choice among all the function returns (`str_returns`)."""
        opts = self.str_returns
        assert opts is not None
        for o in str_choice.options_of(v):
            if o not in opts:
                opts.append(o)
        if not isinstance(v, StrChoice):
            return StrChoice(self.b.constant(opts.index(v.obj)), opts)  # type: ignore[arg-type]
        first = opts.index(v.options[0])
        if [opts.index(o) for o in v.options] != list(range(first, first + len(v.options))):
            raise self.error(
                node,
                "unsupported: returning a run-time str whose possible values are numbered "
                "differently by other returns; return literals or one variable",
            )
        at = (
            v.index
            if first == 0
            else self.scalar_op("aten.add.int", [v.index, self.b.constant(first)], node)
        )
        return StrChoice(at, opts)  # type: ignore[arg-type]

    def flatten(self, v: Any, node: ast.AST) -> tuple[list[SSAValue], OutputSpec]:
        if isinstance(v, PyObj) and isinstance(v.obj, bool):  # a condition decided while compiling
            v = self.b.constant(v.obj)
        if isinstance(v, PyObj) and isinstance(v.obj, str):  # str values are compile-time here
            if self.str_returns is not None:  # the function returns several strs
                return self.flatten(self.returned_choice(v, node), node)
            return [], OutputSpec("const", (), (v.obj,))
        if isinstance(v, OptVal):  # its flag, then its payload (optionals.py)
            return [v.present, v.payload], OutputSpec("optional", (OutputSpec("tensor"),))
        if isinstance(v, StrChoice):  # a run-time str: its index, the options in the spec
            if self.str_returns is not None:
                v = self.returned_choice(v, node)
            return [v.index], OutputSpec("choice", (), v.options)
        if isinstance(v, SSAValue):
            if not isinstance(v.type, (td.ValueTensorType, td.IntType, td.FloatType, td.BoolType)):
                raise self.error(node, f"unsupported: returning a {type_name(v.type)}")
            return [v], OutputSpec("tensor")  # a leaf: tensor or scalar
        if isinstance(v, (PyTuple, PyList)):
            flat: list[SSAValue] = []
            specs = []
            for x in v.items:
                if isinstance(x, SSAValue) and isinstance(x.type, td.NoneType):
                    specs.append(OutputSpec("none"))  # (out, None): an Optional result
                    continue
                f, s = self.flatten(x, node)
                flat.extend(f)
                specs.append(s)
            if isinstance(v, PyTuple):  # a user NamedTuple comes back as its class
                return flat, OutputSpec("tuple", tuple(specs), named=v.named_class)
            return flat, OutputSpec("list", tuple(specs))
        if isinstance(v, PyDict):
            flat, specs = [], []
            for x in v.items.values():
                f, sp = self.flatten(x, node)
                flat.extend(f)
                specs.append(sp)
            return flat, OutputSpec("dict", tuple(specs), tuple(v.items))
        raise self.error(node, f"unsupported: returning a {describe(v)}")

    def stmt(self, st: ast.stmt) -> None:
        if isinstance(st, ast.Assign):
            v = self.expr(st.value)
            for t in st.targets:
                self.assign(t, v)
        elif isinstance(st, ast.AnnAssign):
            if st.value is None:
                raise self.error(st, "unsupported: a declaration without a value")
            if isinstance(st.target, ast.Name) and self.is_optional_annotation(st.annotation):
                self.optional_vars.add(st.target.id)  # it may be assigned None later
            self.assign(st.target, self.expr(st.value))
        elif isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Subscript):
            base = self.expr(st.target.value)
            if isinstance(base, (PyDict, PyList)):  # d[k] += v, xs[i] += v (dicts.py)
                cur = (
                    self.dict_get(base, self.expr(st.target.slice), st.target)
                    if isinstance(base, PyDict)
                    else self.sequence_subscript(base, st.target)
                )
                if isinstance(base, PyList) and _is_tensor_value(cur):
                    raise self.error(  # (torch updates the tensor itself: aliases see it)
                        st, "unsupported: an augmented assignment to a tensor held by a list"
                    )
                self.dict_setitem(st.target, self.binop(st.op, cur, self.expr(st.value), st))
                return
            load = ast.Subscript(st.target.value, st.target.slice, ast.Load())
            cur = self.expr(ast.copy_location(load, st.target))
            new = self.binop(st.op, cur, self.expr(st.value), st)
            how = f"{ast.unparse(st.target)} {_AUG_SYMBOLS.get(type(st.op), '?')}= ..."
            item_assign.assign_item(self, st.target, new, how, st)
        elif isinstance(st, ast.AugAssign):
            cur = (
                self.expr(
                    ast.Name(st.target.id, ast.Load(), lineno=st.lineno, col_offset=st.col_offset)
                )
                if isinstance(st.target, ast.Name)
                else None
            )
            if cur is None:
                raise self.error(st, "unsupported: augmented assignment to anything but a variable")
            rhs = self.expr(st.value)
            if isinstance(cur, PyList) and isinstance(st.op, ast.Add):
                self.list_method(cur, "extend", [rhs], {}, st)  # `+=` extends in place
                return
            new = self.binop(st.op, cur, rhs, st)
            if isinstance(cur, SSAValue) and isinstance(cur.type, td.ValueTensorType):
                how = f"{ast.unparse(st.target)} {_AUG_SYMBOLS.get(type(st.op), '?')}= ..."
                aliasing.rebind_update(self, {st.target.id}, cur, new, how, st)
                return
            self.assign(st.target, new)
        elif isinstance(st, ast.If):
            self.if_stmt(st)
        elif isinstance(st, ast.For):
            self.for_stmt(st)
        elif isinstance(st, ast.While):
            self.while_stmt(st)
        elif isinstance(st, ast.Expr):
            if isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
                return  # docstring
            self.expr(st.value)
        elif isinstance(st, ast.Pass):
            return
        elif isinstance(st, ast.Delete):
            for t in st.targets:
                self.delete_item(t)  # lists.py
        else:
            raise self.error(
                st,
                f"unsupported statement: {type(st).__name__} "
                f"({_STMT_NAMES.get(type(st).__name__, 'not in the scriptable subset')})",
            )

    def assign(self, target: ast.expr, v: Any) -> None:
        if isinstance(target, ast.Name):
            old = self.env.get(target.id)
            if (
                isinstance(old, SSAValue)
                and isinstance(v, SSAValue)
                and not isinstance(old.type, td.NoneType)  # an Optional given its value
                and not (target.id in self.optional_vars and isinstance(v.type, td.NoneType))
                and join_types(old.type, v.type) is None
            ):
                raise self.error(
                    target,
                    f"type clash: variable '{target.id}' was {type_name(old.type)} "
                    f"and is now assigned a {type_name(v.type)}",
                )
            if isinstance(v, SSAValue) and target.id not in ("_",):
                if v.name_hint is None or v.name_hint.startswith(
                    ("int", "float", "true", "false", "none")
                ):
                    if not isinstance(v.owner, Block) and not isinstance(
                        v.owner,
                        (
                            td.ConstantIntOp,
                            td.ConstantFloatOp,
                            td.ConstantBoolOp,
                            td.ConstantNoneOp,
                            td.ConstantStrOp,
                        ),
                    ):
                        v.name_hint = ssa_hint(target.id)
            self.env[target.id] = v
        elif isinstance(target, ast.Subscript):
            if not self.dict_setitem(target, v):  # d[k] = v (dicts.py), else a tensor's item
                item_assign.assign_item(self, target, v, f"{ast.unparse(target)} = ...", target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(v, len(target.elts), target)
            for t, x in zip(target.elts, items, strict=True):
                self.assign(t, x)
        else:
            raise self.error(
                target,
                f"unsupported assignment target: {type(target).__name__} "
                "(tensors are immutable values here; use out-of-place ops)",
            )

    def unpack(self, v: Any, n: int, node: ast.AST) -> list[Any]:
        if isinstance(v, (PyTuple, PyList)):
            if len(v.items) != n:
                raise self.error(node, f"cannot unpack {len(v.items)} values into {n} names")
            return list(v.items)
        if isinstance(v, SSAValue) and isinstance(v.type, td.TupleType):
            op = self.b.insert(td.PrimTupleUnpackOp(v))
            if len(op.results) != n:
                raise self.error(node, f"cannot unpack {len(op.results)} values into {n} names")
            return list(op.results)
        raise self.error(node, f"cannot unpack a {describe(v)}")

    # -- if -------------------------------------------------------------------------------------
    def cond(self, node: ast.expr) -> SSAValue | bool:
        """A condition: a compile-time bool (`x is None`, constants) or a `!torch.bool` value."""
        v = self.expr(node)
        if isinstance(v, PyObj) and isinstance(v.obj, bool):
            return v.obj
        c = self.to_bool(v, node)
        k = td._meta_or_const(c)
        return k if isinstance(k, bool) else c  # a folded constant decides while compiling

    def to_bool(self, v: Any, node: ast.AST) -> SSAValue:
        if isinstance(v, SSAValue):
            t = v.type
            if isinstance(t, td.BoolType):
                return v
            if isinstance(t, td.ValueTensorType):
                return self.scalar_op("aten.Bool.Tensor", [v], node)
            if isinstance(t, td.IntType):
                return self.scalar_op("aten.Bool.int", [v], node)
            if isinstance(t, td.FloatType):
                return self.scalar_op("aten.Bool.float", [v], node)
        if isinstance(v, (PyList, PyDict)):  # non-empty: its length is known while compiling
            return self.b.constant(bool(v.items))
        if isinstance(v, PyObj) and isinstance(v.obj, str):
            return self.b.constant(bool(v.obj))
        raise self.error(node, f"a {describe(v)} cannot be used as a condition")

    def region(
        self, fn: Callable[[], Any], arg_types: Sequence[Attribute] = ()
    ) -> tuple[Block, Any, Env]:
        """Run `fn` with the builder inside a fresh block; env changes are local to it."""
        block = Block(arg_types=arg_types)
        saved_b, saved_env = self.b.builder.insertion_point, self.env
        self.env = Env(saved_env)
        self.b.builder.insertion_point = InsertPoint.at_end(block)
        self.depth += 1
        try:
            out = fn()
            env = self.env
        finally:
            self.depth -= 1
            self.b.builder.insertion_point = saved_b
            self.env = saved_env
        return block, out, env

    def yield_joined(
        self,
        blocks_vals: list[tuple[Block, list[SSAValue]]],
        node: ast.AST,
        what: Callable[[int], str],
        terminator: Callable[[list[SSAValue]], Operation],
        fixed: Sequence[Attribute] | None = None,
    ) -> list[Attribute]:
        """Terminate each block with its values, cast to the types joined over all blocks."""
        n = len(blocks_vals[0][1])
        types: list[Attribute] = list(fixed) if fixed is not None else []
        if fixed is None:
            for i in range(n):
                t = blocks_vals[0][1][i].type
                for _, vals in blocks_vals[1:]:
                    if self.pending_placeholder(t, vals[i]):  # learnt in the next compile
                        t = vals[i].type if isinstance(t, td.NoneType) else t
                        continue
                    j = join_types(t, vals[i].type)
                    if j is None:
                        raise self.error(
                            node,
                            f"type clash: {what(i)} is {type_name(t)} on one path "
                            f"and {type_name(vals[i].type)} on another",
                        )
                    t = j
                types.append(t)
        for block, vals in blocks_vals:
            ip = InsertPoint.at_end(block)
            out = []
            for v, t in zip(vals, types, strict=True):
                if v.type != t and not self.pending_placeholder(t, v):
                    cast = td.TensorStaticInfoCastOp(v, t)
                    cast.location = self.b.loc  # type: ignore[assignment]
                    Rewriter.insert_op(cast, ip)
                    v = cast.result
                out.append(v)
            term = terminator(out)
            term.location = self.b.loc  # type: ignore[assignment]
            Rewriter.insert_op(term, ip)
        return types

    def if_stmt(self, st: ast.If, c: SSAValue | bool | None = None) -> None:
        c = self.cond(st.test) if c is None else c
        if isinstance(c, bool):  # decided at compile time (e.g. `x is None`): only one branch
            payload = self.block(st.body if c else st.orelse)
            assert payload is None
            return
        before = dict(self.env)
        ref_t, ref_e = self.refinement(c, True), self.refinement(c, False)
        tb, _, tenv = self.region(self.refined(ref_t, lambda: self.block(st.body)))
        eb, _, eenv = self.region(self.refined(ref_e, lambda: self.block(st.orelse)))
        self.undo_refinements(before, [(tenv, ref_t), (eenv, ref_e)])
        names = []
        for n in list(tenv) + [k for k in eenv if k not in tenv]:
            if (
                n in tenv
                and n in eenv
                and (tenv[n] is not before.get(n) or eenv[n] is not before.get(n))
            ):
                names.append(n)
        vals_t, vals_e, joined = [], [], []
        for n in names:
            a, b = tenv[n], eenv[n]
            if a is b or a == b and isinstance(a, PyObj):
                continue
            if self.needs_optional_join(a, b):  # None on one path: a run-time Optional
                a, b = tenv[n], eenv[n] = self.optional_join(a, b, (tb, eb), st)
            elif str_choice.is_str(a) and str_choice.is_str(b):  # a str set in a branch
                a, b = tenv[n], eenv[n] = str_choice.join(
                    self, a, b, st, f"'{n}'", self.frame.templates.get(n)
                )
            la, lb = leaves_of(a), leaves_of(b)
            if la is None or lb is None:
                raise self.error(st, f"unsupported: '{n}' is a {describe(a)} changed inside an if")
            if not same_structure(a, b):
                raise self.error(
                    st,
                    f"type clash: '{n}' is {describe(a)} in one branch and {describe(b)} "
                    "in the other",
                )
            joined.append(n)
            vals_t.extend(la)
            vals_e.extend(lb)
        leaf_names = [n for n in joined for _ in leaves_of(tenv[n]) or []]
        self.at(st)
        types = self.yield_joined(
            [(tb, vals_t), (eb, vals_e)],
            st,
            lambda i: f"'{leaf_names[i]}'",
            lambda vs: td.PrimIfYieldOp(*vs),
        )
        op = self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb)))
        results = iter(op.results)
        for n in joined:
            self.env[n] = rebuild_like(tenv[n], results)
            if isinstance(self.env[n], SSAValue):
                self.env[n].name_hint = ssa_hint(n)
        for n in list(self.env):  # defined in one branch only: undefined after the if
            if n not in before and n not in joined:
                del self.env[n]

    def if_exits(
        self, st: ast.If, rest: list[ast.stmt], c: SSAValue | bool | None = None
    ) -> list[SSAValue]:
        """An `if` with return/break/continue inside: the rest of the block follows each branch."""
        c = self.cond(st.test) if c is None else c
        if isinstance(c, bool):
            return self.block((st.body if c else st.orelse) + rest)  # type: ignore[return-value]
        if self.frame.kind == "unrolled":
            raise self.error(
                st,
                "unsupported: break/continue under a run-time condition in a loop that is "
                "unrolled because it changes a list",
            )
        frame_spec = list(self.frame.return_spec)
        ref_t, ref_e = self.refinement(c, True), self.refinement(c, False)
        tb, tp, _ = self.region(self.refined(ref_t, lambda: self.block_to_exit(st.body + rest, st)))
        eb, ep, _ = self.region(
            self.refined(ref_e, lambda: self.block_to_exit(st.orelse + rest, st))
        )
        del frame_spec
        if len(tp) != len(ep):
            raise self.error(st, "type clash: the branches return different numbers of values")
        self.at(st)

        def what(i: int) -> str:
            if self.frame.kind == "function":
                return f"return value {i}"
            return "the loop condition" if i == 0 else f"'{self.frame.carried[i - 1]}'"

        types = self.yield_joined([(tb, tp), (eb, ep)], st, what, lambda vs: td.PrimIfYieldOp(*vs))
        op = self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb)))
        return list(op.results)

    # -- loops ----------------------------------------------------------------------------------
    def for_stmt(self, st: ast.For, rest: list[ast.stmt] | None = None) -> Any:
        if st.orelse:
            raise self.error(st, "unsupported: for ... else")
        it = st.iter
        if (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "range"
            and it.func.id not in self.env
        ):
            if it.keywords or not 1 <= len(it.args) <= 3:
                raise self.error(it, "range() takes 1 to 3 positional arguments here")
            args = [self.as_int(self.expr(a), a) for a in it.args]
            self.at(st)
            if len(args) == 1:
                start, stop, step = None, args[0], 1
            else:
                start, stop = args[0], args[1]
                step = 1
                if len(args) == 3:
                    sv = td._meta_or_const(args[2])
                    if not isinstance(sv, int) or sv == 0:
                        raise self.error(
                            it.args[2],
                            "unsupported: range() step must be a non-zero integer constant",
                        )
                    step = sv
            if start is None:
                trip = stop
            elif step > 0:
                span = self.scalar_op("aten.sub.int", [stop, start], st)
                trip = self.scalar_op(
                    "aten.floordiv.int",
                    [
                        self.scalar_op("aten.add.int", [span, self.b.constant(step - 1)], st),
                        self.b.constant(step),
                    ],
                    st,
                )
            else:
                span = self.scalar_op("aten.sub.int", [start, stop], st)
                trip = self.scalar_op(
                    "aten.floordiv.int",
                    [
                        self.scalar_op("aten.add.int", [span, self.b.constant(-step - 1)], st),
                        self.b.constant(-step),
                    ],
                    st,
                )

            def target(idx: SSAValue) -> Any:
                if start is None:
                    return idx
                off = (
                    idx
                    if step == 1
                    else self.scalar_op("aten.mul.int", [idx, self.b.constant(step)], st)
                )
                return self.scalar_op("aten.add.int", [start, off], st)

            try:
                return self.loop(st, trip, self.b.constant(True), st.target, target, None)
            except (NeedsArgTypes, NeedsCallTypes):
                raise
            except FrontendError as err:
                # A body that cannot be a prim.Loop (it changes a list, or needs a value known
                # while compiling: a split of a carried tensor, a dict key): over a constant
                # range, unrolled instead (exact: one copy of the body per iteration).
                bounds = [const_of(a) for a in args]
                if self.mc.deferrable and all(
                    isinstance(x, int) or known_per_call(a, self.entry_block)
                    for a, x in zip(args, bounds, strict=True)
                ):
                    # `range(x.size(0))`, `range(n)`: constants per argument types and int
                    # argument values, where the loop unrolls (as a list slice's bound)
                    self.mc.needs_int_values = True
                    raise NeedsArgTypes(
                        f"a loop that cannot be a prim.Loop: {err}", self.loc(st)
                    ) from None
                if (
                    any(not isinstance(x, int) for x in bounds)
                    or contains_any(st, (ast.Return,), False)
                    or (not isinstance(err, Unrollable) and len(range(*bounds)) > MAX_UNROLL)
                ):
                    raise
                return self.unroll(st, range(*bounds))
        seq = self.module_sequence(self.expr(it))  # a ModuleList's modules, a ModuleDict's keys
        if isinstance(seq, PyDict):  # its keys
            seq = self.dict_keys_list(seq)
        if isinstance(seq, PyObj) and isinstance(seq.obj, str):  # a str constant's chars
            seq = PyTuple([PyObj(c) for c in seq.obj])
        if isinstance(seq, (PyTuple, PyList)):
            if contains_any(st, (ast.Return,), False):  # called by loop_with_return, with rest
                return Unrolled(self.unrolled_for(st, seq.items, rest, _breaks(st)))
            if contains_any(st, (ast.Break, ast.Continue), True):
                return self.unrolled_for(st, seq.items, None, _breaks(st))
            for item in seq.items:
                self.assign(st.target, item)
                payload = self.block(st.body)
                assert payload is None
            return None
        if isinstance(seq, EnumeratedTensor):
            t, first = seq.tensor, seq.start
            trip = self.scalar_op("aten.size.int", [t, self.b.constant(0)], st)

            def numbered(idx: SSAValue) -> PyTuple:
                i = idx if first == 0 else self.scalar_op("aten.add.int", [idx, first], st)
                return PyTuple([i, self.registry_call("select", [t, 0, idx], {}, st)])

            return self.loop(st, trip, self.b.constant(True), st.target, numbered, None)
        if isinstance(seq, SSAValue) and isinstance(seq.type, td.ValueTensorType):
            trip = self.scalar_op("aten.size.int", [seq, self.b.constant(0)], st)
            return self.loop(
                st,
                trip,
                self.b.constant(True),
                st.target,
                lambda idx: self.registry_call("select", [seq, 0, idx], {}, st),
                None,
            )
        raise self.error(
            it,
            f"unsupported: iterating over a {describe(seq)} (supported: range(), "
            "lists, tuples, a tensor's first dimension, ModuleList, ModuleDict)",
        )

    def unroll(self, st: ast.For, r: range) -> None:
        """A `for` over a constant range whose body changes a list's length: one copy of the
        body per iteration, compiled in this region."""
        if len(r) > MAX_UNROLL:
            raise self.error(
                st, f"unsupported: unrolling a loop of more than {MAX_UNROLL} iterations"
            )
        outer = self.frame
        self.frame = Frame("unrolled")
        try:
            for i in r:
                self.assign(st.target, self.b.constant(i))
                exit_ = self.block(st.body)
                if exit_ == ["Break"]:
                    break
        finally:
            self.frame = outer

    def while_stmt(self, st: ast.While) -> Any:
        if st.orelse:
            raise self.error(st, "unsupported: while ... else")
        c0 = self.cond(st.test)
        if isinstance(c0, bool):
            if not c0:
                return
            c0 = self.b.constant(True)
        self.at(st)
        return self.loop(st, self.b.constant(INT64_MAX), c0, None, None, st.test)

    def loop(
        self,
        st: ast.For | ast.While,
        trip: SSAValue,
        init_cond: SSAValue,
        target: ast.expr | None,
        target_value: Callable[[SSAValue], Any] | None,
        test: ast.expr | None,
        alive: str | None = None,
    ) -> tuple[SSAValue, list[SSAValue], OutputSpec] | None:
        """Compile a loop; with a `return` inside: its returned flag, values and structure.
        `alive`: a flag in env that a `break` clears, carried (see unrolled_loops.py)."""
        assigned = _assigned_names(st.body)
        if target is not None:
            tnames = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            assigned = [n for n in assigned if n not in tnames]
        if alive is not None:
            assigned.append(alive)
        strs = {
            n: self.env[n] for n in assigned if n in self.env and str_choice.is_str(self.env[n])
        }
        try:
            return self.loop_carrying(
                st, trip, init_cond, target, target_value, test, alive, assigned
            )
        except FrontendError:
            for n, v in strs.items():  # (a constant range unrolls next: with the constants)
                self.env[n] = v
            raise

    def loop_carrying(
        self,
        st: ast.For | ast.While,
        trip: SSAValue,
        init_cond: SSAValue,
        target: ast.expr | None,
        target_value: Callable[[SSAValue], Any] | None,
        test: ast.expr | None,
        alive: str | None,
        assigned: list[str],
    ) -> tuple[SSAValue, list[SSAValue], OutputSpec] | None:
        """loop() once the names the body assigns are known."""
        for n in assigned:  # a str the body may change: a run-time choice (str_choice.py)
            if n in self.env and str_choice.is_str(self.env[n]):
                self.env[n] = str_choice.loop_choice(self, self.env[n], n, st.body)
        # Tuples (nested too) are carried leaf by leaf; what is not made of SSA values (modules,
        # Python objects) cannot change inside the loop (checked at every exit of the body).
        loop_vars = [n for n in assigned if n in self.env and leaves_of(self.env[n]) is not None]
        templates = {n: self.env[n] for n in loop_vars}
        fixed = {n: self.env[n] for n in assigned if n in self.env and n not in templates}
        types = [v.type for n in loop_vars for v in leaves_of(self.env[n]) or []]
        n_vars = len(types)
        has_ret = contains_any(st, (ast.Return,), False)
        ret_spec: Any = None
        outer_frame = self.frame
        # `while t: ...; if not c: break` is a loop whose condition is c (see the function)
        last = _trailing_break_test(st, assigned)
        stmts = st.body[:-1] if last is not None else st.body
        for _ in range(8):  # widen carried types until the body's results fit them
            frame = Frame("loop", list(loop_vars), templates=templates, fixed=fixed)
            frame.has_ret = has_ret
            frame.alive = alive
            frame.ret_spec = ret_spec
            frame.ret_types = None if ret_spec is None else types[n_vars + 1 :]

            def next_cond() -> SSAValue:
                return self.b.constant(True) if test is None else self.cond_value(test)

            frame.next_cond = next_cond
            if last is not None:
                frame.next_cond = lambda c=last: self.cond_value(c)

            def body(n_vars: int = n_vars) -> list[SSAValue]:
                blk = self.b.builder.insertion_point.block
                idx = blk.args[0]
                idx.name_hint = "i" if target is None else None
                args = iter(blk.args[1:])
                self.frame.ret_args = list(blk.args[n_vars + 2 :])
                aliasing.register_loop_body(
                    self, blk, [x for n in loop_vars for x in leaves_of(templates[n]) or []]
                )
                for n in loop_vars:
                    self.env[n] = rebuild_like(templates[n], args)
                    if isinstance(self.env[n], SSAValue):
                        self.env[n].name_hint = ssa_hint(n)
                if target is not None and target_value is not None:
                    self.assign(target, target_value(idx))
                try:
                    return self.block_to_exit(stmts, st)
                except Raised:
                    # every path through the body raises, but the loop may run no iteration:
                    # not an exit of the code around it. The body stops the loop (after the
                    # raise), yielding the carried values as they came in.
                    args = iter(blk.args[1:])
                    for n in loop_vars:
                        self.env[n] = rebuild_like(templates[n], args)
                    return self.loop_exit(self.b.constant(False), st)

            self.frame = frame
            try:
                blk, payload, _ = self.region(body, [td.IntType(), *types])
            except _ReturnTypes as r:  # now the return slots' types are known: compile again
                ret_spec = r.spec
                types = [*types, td.BoolType(), *r.types]
                continue
            except WidenOptional as w:  # None before the loop, a value after an iteration
                self.frame = outer_frame
                self.at(st)
                self.env[w.name] = templates[w.name] = self.as_optional(
                    self.env[w.name], w.payload_type, st
                )
                carried = [v.type for n in loop_vars for v in leaves_of(self.env[n]) or []]
                types, n_vars = [*carried, *types[n_vars:]], len(carried)
                continue
            finally:
                self.frame = outer_frame
            names = [n for n in loop_vars for _ in leaves_of(templates[n]) or []]
            aliasing.check_loop_yields(self, blk, payload[1 : 1 + n_vars], self.env, names, st)
            if ret_spec is not None:
                n_ret = len(types) - n_vars - 1
                names += ["the returned flag"] + [f"return value {k}" for k in range(n_ret)]
            new_types = []
            for n, t, v in zip(names, types, payload[1:], strict=True):
                j = join_types(t, v.type)
                if self.pending_placeholder(t, v):  # a None returned (optionals.py)
                    j = t if isinstance(v.type, td.NoneType) else v.type
                if j is None:
                    raise self.error(
                        st,
                        f"type clash: loop-carried variable '{n}' is {type_name(t)} "
                        f"before the loop and {type_name(v.type)} after an iteration",
                    )
                ranks = [len(x.sizes) for x in (t, v.type) if _ranked(x)]
                if len(ranks) == 2 and ranks[0] != ranks[1]:  # no type for it to lower to
                    raise self.error(
                        st,
                        f"unsupported: loop-carried variable '{n}' has rank {ranks[0]} before "
                        f"the loop and rank {ranks[1]} after an iteration (xjit needs one rank)",
                    )
                new_types.append(j)
            if new_types == types:
                break
            types = new_types
        else:  # pragma: no cover - the join lattice is shallow
            raise self.error(st, "loop-carried types do not converge")
        self.at(st)
        self.yield_joined(
            [(blk, payload[1:])],
            st,
            lambda i: names[i],
            lambda vs: td.PrimLoopConditionOp(payload[0], *vs),
            fixed=types,
        )
        inits = [x for n in loop_vars for x in leaves_of(self.env[n]) or []]
        if ret_spec is not None:
            inits.append(self.b.constant(False))
            inits += [self.placeholder(t, st) for t in types[n_vars + 1 :]]
        for k, (v, t) in enumerate(zip(inits, types, strict=True)):
            if v.type != t and not self.pending_placeholder(t, v):
                inits[k] = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
        op = self.b.insert(td.PrimLoopOp(trip, init_cond, inits, Region(blk)))
        results = iter(op.results)
        for n in loop_vars:
            self.env[n] = rebuild_like(templates[n], results)
            if isinstance(self.env[n], SSAValue):
                self.env[n].name_hint = ssa_hint(n)
        if ret_spec is None:
            return None
        flag = next(results)
        flag.name_hint = "returned"
        return flag, list(results), ret_spec

    def cond_value(self, test: ast.expr) -> SSAValue:
        c = self.cond(test)
        return self.b.constant(c) if isinstance(c, bool) else c

    def placeholder(self, t: Attribute, node: ast.AST) -> SSAValue:
        """A value of type `t` for a return slot before anything was returned (never read:
        the returned flag guards it). Tensors reuse a tensor in scope, the closest type first."""
        if isinstance(t, (td.IntType, td.FloatType, td.BoolType)):
            return self.b.constant({td.IntType: 0, td.FloatType: 0.0, td.BoolType: False}[type(t)])
        if isinstance(t, td.NoneType) and self.opt_pending:  # compiled again (optionals.py)
            return self.b.constant(None)
        if isinstance(t, td.ValueTensorType):
            cands = [
                v
                for x in self.env.values()
                for v in leaves_of(x) or []
                if isinstance(v.type, td.ValueTensorType) and td.types_compatible(v.type, t)
            ]
            cands.sort(key=lambda v: (v.type != t, v.type.element_dtype != t.element_dtype))
            if cands and cands[0].type == t and t.sizes is not None:
                return cands[0]
            meta = t.meta
            if meta.shape is not None and None not in meta.shape and meta.dtype is not None:
                sizes = PyList([self.b.constant(d) for d in meta.shape])
                return self.registry_call("zeros", [sizes], {"dtype": PyObj(meta.dtype)}, node)
            if cands:
                # its shape may differ from the returned one's once specialised: the call
                # compiles this function again for its argument types, where t is exact
                self.mc.needs_arg_types = True
                return cands[0]
        raise self.error(
            node,
            f"unsupported: returning a {type_name(t)} from inside this loop (no value of its "
            "type is in scope before the loop to stand for it)",
        )


_AUG_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}

_GRAD_MODES = ("no_grad", "enable_grad", "inference_mode")

_STMT_NAMES = {
    "With": "with-statements",
    "Try": "exceptions",
    "Raise": "exceptions",
    "Global": "globals",
    "Nonlocal": "closures",
    "FunctionDef": "nested functions",
    "ClassDef": "classes",
    "Delete": "del",
    "Import": "imports",
    "ImportFrom": "imports",
    "AsyncFunctionDef": "async",
}


def _several_str_returns(fdef: ast.FunctionDef) -> bool:
    """Whether a function may return different strs: annotated `-> str` (or a type holding
    str), or two different str literals in its returns."""
    if fdef.returns is not None and "str" in ast.unparse(fdef.returns):
        return True
    lits = {
        n.value
        for r in ast.walk(fdef)
        if isinstance(r, ast.Return) and r.value is not None
        for n in ast.walk(r.value)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return len(lits) > 1


def _breaks(st: ast.For) -> bool:
    """Whether a loop's body holds a `break` of its own (not of a nested loop)."""
    return contains_any(st, (ast.Break,), True)


def _ranked(t: Attribute) -> bool:
    return isinstance(t, td.ValueTensorType) and t.sizes is not None


def _is_tensor_value(v: Any) -> bool:
    return isinstance(v, SSAValue) and isinstance(v.type, td.ValueTensorType)
