"""The scripting frontend: Python source (`inspect` + `ast`) to the torch dialect, keeping
control flow as `torch.prim.If` / `torch.prim.Loop` (see docs/frontends.md for the subset).

One `ScriptCompiler` builds one ModuleOp: the scripted function as `@forward` (or its name),
every submodule's `forward` it reaches as a private `func.func @<path>.forward` called with
`func.call`, and every parameter/buffer as a `torch.global_slot` named by its dotted path from the
root module. Already compiled submodules (traced or scripted) are imported, not recompiled.

Values during compilation are either SSA values (typed `!torch.*`) or compile-time Python
things: tuples/lists of values, submodules, functions, dtypes. Tensors without annotations are
`!torch.vtensor` (nothing known); `torch-shape-refinement` specialises them later.

Control flow: an `if` whose branches both fall through yields the variables it changes; an `if`
containing `return`/`break`/`continue` gets the statements after it appended to each branch
that falls through, so every path ends in an exit and the `prim.If` yields that exit's values
(the function's return values, or a loop body's next condition + carried values).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xdsl.builder import InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import Rewriter

from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.frontends.builder import IRValue, TorchBuilder, result_type, vtensor_type
from xjit.frontends.trace import OutputSpec
from xjit.jit.errors import FrontendError, SourceLoc
from xjit.nn.module import Module
from xjit.ops.registry import OVERLOADS, UNKNOWN, OpDef, _ensure_loaded, lookup
from xjit.ops.schema import Arg
from xjit.ops.types import DType, ShapeError, TensorMeta

INT64_MAX = 9223372036854775807
TENSOR = td.ValueTensorType.of(None, None)


# -- compile-time values ------------------------------------------------------------------------


@dataclass
class PyTuple:
    items: list[Any]


@dataclass
class PyList:
    items: list[Any]


@dataclass
class ModRef:
    module: Module
    path: str  # dotted path from the root module ("" for the root)


@dataclass
class PyObj:
    """A Python object known at compile time (a function, a Python module, a dtype, ...)."""

    obj: Any


def type_name(t: Attribute) -> str:
    if isinstance(t, td.ValueTensorType):
        return "Tensor"
    return {td.IntType: "int", td.FloatType: "float", td.BoolType: "bool", td.NoneType: "None",
            td.StrType: "str"}.get(type(t), str(t))


def describe(v: Any) -> str:
    if isinstance(v, SSAValue):
        return type_name(v.type)
    if isinstance(v, PyTuple):
        return "Tuple[" + ", ".join(describe(x) for x in v.items) + "]"
    if isinstance(v, PyList):
        return "List[" + ", ".join(describe(x) for x in v.items) + "]"
    if isinstance(v, ModRef):
        return f"module {type(v.module).__name__}"
    return type(v.obj).__name__ if isinstance(v, PyObj) else type(v).__name__


def join_types(a: Attribute, b: Attribute) -> Attribute | None:
    """The most precise type describing values of both types, or None if they clash."""
    if a == b:
        return a
    if isinstance(a, td.ValueTensorType) and isinstance(b, td.ValueTensorType):
        dt = a.element_dtype if a.element_dtype == b.element_dtype else None
        x, y = a.sizes, b.sizes
        if x is None or y is None or len(x) != len(y):
            shape = None
        else:
            shape = tuple(p if p == q else None for p, q in zip(x, y, strict=True))
        return td.ValueTensorType.of(shape, dt)
    return None


# -- annotations --------------------------------------------------------------------------------


def annotation_type(ann: Any) -> Any:
    """A parameter annotation as a torch type (`Optional[T]` as ("optional", T)), or None."""
    if ann is inspect.Parameter.empty or ann is None or ann is typing.Any or ann == "Any":
        return None
    if isinstance(ann, str):
        ann = {"Tensor": Tensor, "int": int, "float": float, "bool": bool}.get(ann, ann)
    if ann is Tensor:
        return TENSOR
    if ann is int:
        return td.IntType()
    if ann is float:
        return td.FloatType()
    if ann is bool:
        return td.BoolType()
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        return ("optional", annotation_type(inner))
    if origin is tuple:
        return ("tuple", [annotation_type(a) for a in args])
    raise TypeError(f"unsupported annotation {ann!r}")


# -- the compiler ---------------------------------------------------------------------------


@dataclass
class Frame:
    """What `return` / `break` / `continue` mean where they occur."""

    kind: str  # "function" | "loop"
    carried: list[str] = field(default_factory=list)
    next_cond: Callable[[], SSAValue] | None = None  # loops: the condition after an iteration
    return_spec: list[Any] = field(default_factory=list)  # functions: [OutputSpec] once known


class Env(dict):  # name -> value
    pass


def _contains(node: ast.AST, kinds: tuple[type, ...], stop_at_loops: bool) -> bool:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, kinds):
            return True
        if isinstance(child, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if stop_at_loops and isinstance(child, (ast.For, ast.While)):
            # break/continue inside a nested loop belong to it; return does not
            if _contains(child, tuple(k for k in kinds if k is ast.Return), False) if ast.Return in kinds else False:
                return True
            continue
        if _contains(child, kinds, stop_at_loops):
            return True
    return False


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
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.append(n.id)
    return names


class ModuleCompilation:
    """The ModuleOp being built for one root: functions, slots and what they were compiled from."""

    def __init__(self, root: Module | None, params: dict[str, Tensor] | None = None) -> None:
        self.root = root
        self.funcs: dict[str, func.FuncOp] = {}
        self.slots: dict[str, Attribute] = {}
        self.params: dict[str, Tensor] = dict(params or {})
        self.compiled_paths: dict[int, str] = {}  # id(function/module) -> func name
        self.specs: dict[str, OutputSpec] = {}
        self.in_progress: set[str] = set()

    def module_op(self, first: str) -> ModuleOp:
        slots = [td.GlobalSlotOp(n, t) for n, t in self.slots.items()]
        funcs = [self.funcs[first]] + [f for n, f in self.funcs.items() if n != first]
        return ModuleOp([*slots, *funcs])

    def import_graph(self, graph: ModuleOp, prefix: str, params: dict[str, Tensor],
                     spec: OutputSpec, entry: str = "forward") -> str:
        """Copy the functions and slots of an already compiled module under `prefix.`; returns the
        name its entry function gets here."""
        def rename(name: str) -> str:
            return f"{prefix}.{name}" if prefix else name

        entry_name = rename(entry)
        if entry_name in self.funcs:
            return entry_name
        g = graph.clone()
        for op in list(g.ops):
            if isinstance(op, td.GlobalSlotOp):
                self.slots[rename(op.sym_name.data)] = op.type
        for op in g.walk():
            if isinstance(op, td.GlobalSlotGetOp):
                op.slot = td.SymbolRefAttr(rename(op.slot.root_reference.data))
                op.properties["slot"] = op.slot
            elif isinstance(op, func.CallOp):
                op.properties["callee"] = td.SymbolRefAttr(rename(op.callee.root_reference.data))
        for op in list(g.ops):
            if isinstance(op, func.FuncOp):
                op.detach()
                new = rename(op.sym_name.data)
                op.sym_name = StringAttr(new)
                op.properties["sym_name"] = StringAttr(new)
                op.sym_visibility = StringAttr("private")
                op.properties["sym_visibility"] = StringAttr("private")
                self.funcs[new] = op
        for k, t in params.items():
            self.params[rename(k)] = t
        self.specs[entry_name] = spec
        return entry_name


class FunctionCompiler:
    def __init__(self, mc: ModuleCompilation, fn: Callable[..., Any], func_name: str,
                 self_ref: ModRef | None, arg_kinds: dict[str, Any] | None = None) -> None:
        self.mc = mc
        self.fn = fn
        self.func_name = func_name
        self.self_ref = self_ref
        self.arg_kinds = arg_kinds or {}
        try:
            lines, start = inspect.getsourcelines(fn)
            self.file = inspect.getsourcefile(fn) or "<unknown>"
        except (OSError, TypeError):
            raise FrontendError(f"cannot get the source code of {getattr(fn, '__qualname__', fn)!r}; "
                                "script needs functions defined in files") from None
        src = "".join(lines)
        dedented = textwrap.dedent(src)
        self.indent = len(lines[0]) - len(lines[0].lstrip())
        self.line0 = start - 1
        tree = ast.parse(dedented)
        fdef = tree.body[0]
        if not isinstance(fdef, ast.FunctionDef):
            raise FrontendError(f"{fn!r} is not a function definition", self.loc(fdef))
        self.fdef = fdef
        self.globals = dict(getattr(fn, "__globals__", {}))
        if getattr(fn, "__closure__", None):
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                try:
                    self.globals[name] = cell.cell_contents
                except ValueError:
                    pass
        self.b: TorchBuilder = None  # type: ignore[assignment]
        self.env = Env()

    # -- diagnostics -------------------------------------------------------------------------
    def loc(self, node: ast.AST) -> SourceLoc:
        return SourceLoc(self.file, self.line0 + getattr(node, "lineno", 1),
                         self.indent + getattr(node, "col_offset", 0) + 1)

    def error(self, node: ast.AST, message: str) -> FrontendError:
        return FrontendError(message, self.loc(node))

    def at(self, node: ast.AST) -> None:
        loc = self.loc(node)
        self.b.loc = FileLineColLoc(StringAttr(loc.file), IntAttr(loc.line), IntAttr(loc.col))

    # -- entry ----------------------------------------------------------------------------------
    def compile(self) -> tuple[func.FuncOp, list[str], OutputSpec]:
        sig = inspect.signature(self.fn)
        params = list(sig.parameters.values())
        if self.self_ref is not None:
            params = params[1:]
        a = self.fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs:
            raise self.error(self.fdef, "unsupported: *args, **kwargs and keyword-only parameters")
        arg_types: list[Attribute] = []
        names: list[str] = []
        self.defaults: dict[str, Any] = {}
        ns = {"Optional": typing.Optional, "Tuple": tuple, "List": list,
              "Any": typing.Any, "Tensor": Tensor, **self.globals}
        for p in params:
            ann = p.annotation
            if isinstance(ann, str):
                try:
                    ann = eval(ann, ns)  # noqa: S307  (an annotation of the user's own code)
                except Exception:
                    raise self.error(self.fdef, f"parameter '{p.name}': cannot resolve annotation {ann!r}") from None
            try:
                t = annotation_type(ann)
            except TypeError as e:
                raise self.error(self.fdef, f"parameter '{p.name}': {e}") from None
            if p.default is not inspect.Parameter.empty:
                self.defaults[p.name] = p.default
            kind = self.arg_kinds.get(p.name)
            if kind is not None:
                t = kind
            elif isinstance(t, tuple) and t[0] == "optional":
                t = td.NoneType() if p.default is None else t[1]
            elif t is None:
                t = TENSOR
            if isinstance(t, tuple):
                raise self.error(self.fdef, f"parameter '{p.name}': tuple parameters are not supported")
            arg_types.append(t)
            names.append(p.name)
        block = Block(arg_types=arg_types)
        self.b = TorchBuilder(InsertPoint.at_end(block))
        self.at(self.fdef)
        for arg, n in zip(block.args, names, strict=True):
            arg.name_hint = n
            self.env[n] = arg
        if self.self_ref is not None:
            self.env[self.fdef.args.args[0].arg] = self.self_ref
        self.frame = Frame("function")
        payload = self.block(self.fdef.body)
        if payload is None:
            raise self.error(self.fdef, f"'{self.fdef.name}' must return a value on every path "
                             "(returning None is not supported)")
        self.b.insert(func.ReturnOp(*payload))
        fop = func.FuncOp(self.func_name, (arg_types, [v.type for v in payload]), Region(block))
        spec = self.frame.return_spec[0]
        return fop, names, spec

    # -- statements -----------------------------------------------------------------------------
    def block(self, stmts: Sequence[ast.stmt]) -> list[SSAValue] | None:
        """Compile statements; the exit payload if every path ended in return/break/continue."""
        for i, st in enumerate(stmts):
            self.at(st)
            if isinstance(st, ast.Return):
                return self.ret(st)
            if isinstance(st, (ast.Break, ast.Continue)):
                if self.frame.kind != "loop":
                    raise self.error(st, f"'{type(st).__name__.lower()}' outside a loop")
                cond = self.b.constant(False) if isinstance(st, ast.Break) else self.frame.next_cond()  # type: ignore[misc]
                return [cond, *self.carried_values(st)]
            if isinstance(st, ast.If) and _contains(st, (ast.Return, ast.Break, ast.Continue), True):
                return self.if_exits(st, list(stmts[i + 1:]))
            self.stmt(st)
        return None

    def block_to_exit(self, stmts: Sequence[ast.stmt], node: ast.AST) -> list[SSAValue]:
        """Statements that end in an exit on every path: falling off the end of a loop body
        continues the loop; falling off the end of a function is an error."""
        payload = self.block(stmts)
        if payload is not None:
            return payload
        if self.frame.kind == "loop":
            return [self.frame.next_cond(), *self.carried_values(node)]  # type: ignore[misc]
        raise self.error(node, f"'{self.fdef.name}' must return a value on every path "
                         "(returning None is not supported)")

    def carried_values(self, node: ast.AST) -> list[SSAValue]:
        out = []
        for n in self.frame.carried:
            v = self.env.get(n)
            if not isinstance(v, SSAValue):
                raise self.error(node, f"'{n}' must keep one type across loop iterations")
            out.append(v)
        return out

    def ret(self, st: ast.Return) -> list[SSAValue]:
        if self.frame.kind != "function":
            raise self.error(st, "unsupported: 'return' inside a loop")
        if st.value is None:
            raise self.error(st, "unsupported: returning None")
        v = self.expr(st.value)
        flat, spec = self.flatten(v, st.value)
        if self.frame.return_spec and self.frame.return_spec[0] != spec:
            raise self.error(st, "type clash: this return's structure differs from an earlier return")
        if not self.frame.return_spec:
            self.frame.return_spec.append(spec)
        return flat

    def flatten(self, v: Any, node: ast.AST) -> tuple[list[SSAValue], OutputSpec]:
        if isinstance(v, SSAValue):
            if not isinstance(v.type, (td.ValueTensorType, td.IntType, td.FloatType, td.BoolType)):
                raise self.error(node, f"unsupported: returning a {type_name(v.type)}")
            return [v], OutputSpec("tensor")  # a leaf: tensor or scalar
        if isinstance(v, (PyTuple, PyList)):
            flat: list[SSAValue] = []
            specs = []
            for x in v.items:
                f, s = self.flatten(x, node)
                flat.extend(f)
                specs.append(s)
            return flat, OutputSpec("tuple" if isinstance(v, PyTuple) else "list", tuple(specs))
        raise self.error(node, f"unsupported: returning a {describe(v)}")

    def stmt(self, st: ast.stmt) -> None:
        if isinstance(st, ast.Assign):
            v = self.expr(st.value)
            for t in st.targets:
                self.assign(t, v)
        elif isinstance(st, ast.AnnAssign):
            if st.value is None:
                raise self.error(st, "unsupported: a declaration without a value")
            self.assign(st.target, self.expr(st.value))
        elif isinstance(st, ast.AugAssign):
            cur = self.expr(ast.Name(st.target.id, ast.Load(), lineno=st.lineno, col_offset=st.col_offset)) \
                if isinstance(st.target, ast.Name) else None
            if cur is None:
                raise self.error(st, "unsupported: augmented assignment to anything but a variable")
            self.assign(st.target, self.binop(st.op, cur, self.expr(st.value), st))
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
        elif isinstance(st, ast.Assert):
            return  # assertions are not compiled (TorchScript raises at run time; xjit drops them)
        else:
            raise self.error(st, f"unsupported statement: {type(st).__name__} "
                             f"({_STMT_NAMES.get(type(st).__name__, 'not in the scriptable subset')})")

    def assign(self, target: ast.expr, v: Any) -> None:
        if isinstance(target, ast.Name):
            old = self.env.get(target.id)
            if isinstance(old, SSAValue) and isinstance(v, SSAValue) and join_types(old.type, v.type) is None:
                raise self.error(target, f"type clash: variable '{target.id}' was {type_name(old.type)} "
                                 f"and is now assigned a {type_name(v.type)}")
            if isinstance(v, SSAValue) and target.id not in ("_",):
                if v.name_hint is None or v.name_hint.startswith(("int", "float", "true", "false", "none")):
                    if not isinstance(v.owner, Block) and not isinstance(
                        v.owner, (td.ConstantIntOp, td.ConstantFloatOp, td.ConstantBoolOp, td.ConstantNoneOp)
                    ):
                        v.name_hint = target.id
            self.env[target.id] = v
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(v, len(target.elts), target)
            for t, x in zip(target.elts, items, strict=True):
                self.assign(t, x)
        else:
            raise self.error(target, f"unsupported assignment target: {type(target).__name__} "
                             "(tensors are immutable values here; use out-of-place ops)")

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
        return self.to_bool(v, node)

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
        raise self.error(node, f"a {describe(v)} cannot be used as a condition")

    def region(self, fn: Callable[[], Any], arg_types: Sequence[Attribute] = ()) -> tuple[Block, Any, Env]:
        """Run `fn` with the builder inside a fresh block; env changes are local to it."""
        block = Block(arg_types=arg_types)
        saved_b, saved_env = self.b.builder.insertion_point, self.env
        self.env = Env(saved_env)
        self.b.builder.insertion_point = InsertPoint.at_end(block)
        try:
            out = fn()
            env = self.env
        finally:
            self.b.builder.insertion_point = saved_b
            self.env = saved_env
        return block, out, env

    def yield_joined(self, blocks_vals: list[tuple[Block, list[SSAValue]]], node: ast.AST,
                     what: Callable[[int], str], terminator: Callable[[list[SSAValue]], Operation],
                     fixed: Sequence[Attribute] | None = None) -> list[Attribute]:
        """Terminate each block with its values, cast to the types joined over all blocks."""
        n = len(blocks_vals[0][1])
        types: list[Attribute] = list(fixed) if fixed is not None else []
        if fixed is None:
            for i in range(n):
                t = blocks_vals[0][1][i].type
                for _, vals in blocks_vals[1:]:
                    j = join_types(t, vals[i].type)
                    if j is None:
                        raise self.error(node, f"type clash: {what(i)} is {type_name(t)} on one path "
                                         f"and {type_name(vals[i].type)} on another")
                    t = j
                types.append(t)
        for block, vals in blocks_vals:
            ip = InsertPoint.at_end(block)
            out = []
            for v, t in zip(vals, types, strict=True):
                if v.type != t:
                    cast = td.TensorStaticInfoCastOp(v, t)
                    cast.location = self.b.loc  # type: ignore[assignment]
                    Rewriter.insert_op(cast, ip)
                    v = cast.result
                out.append(v)
            term = terminator(out)
            term.location = self.b.loc  # type: ignore[assignment]
            Rewriter.insert_op(term, ip)
        return types

    def if_stmt(self, st: ast.If) -> None:
        c = self.cond(st.test)
        if isinstance(c, bool):  # decided at compile time (e.g. `x is None`): only one branch
            payload = self.block(st.body if c else st.orelse)
            assert payload is None
            return
        before = dict(self.env)
        tb, _, tenv = self.region(lambda: self.block(st.body))
        eb, _, eenv = self.region(lambda: self.block(st.orelse))
        names = []
        for n in list(tenv) + [k for k in eenv if k not in tenv]:
            if n in tenv and n in eenv and (tenv[n] is not before.get(n) or eenv[n] is not before.get(n)):
                names.append(n)
        vals_t, vals_e = [], []
        for n in names:
            a, b = tenv[n], eenv[n]
            if not (isinstance(a, SSAValue) and isinstance(b, SSAValue)):
                if a is b:
                    continue
                raise self.error(st, f"unsupported: '{n}' is a {describe(a)} changed inside an if")
            vals_t.append(a)
            vals_e.append(b)
        names = [n for n in names if isinstance(tenv[n], SSAValue)]
        self.at(st)
        types = self.yield_joined([(tb, vals_t), (eb, vals_e)], st, lambda i: f"'{names[i]}'",
                                  lambda vs: td.PrimIfYieldOp(*vs))
        op = self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb)))
        for n, r in zip(names, op.results, strict=True):
            r.name_hint = n
            self.env[n] = r
        for n in list(self.env):  # defined in one branch only: undefined after the if
            if n not in before and n not in names:
                del self.env[n]

    def if_exits(self, st: ast.If, rest: list[ast.stmt]) -> list[SSAValue]:
        """An `if` with return/break/continue inside: the rest of the block follows each branch."""
        c = self.cond(st.test)
        if isinstance(c, bool):
            return self.block((st.body if c else st.orelse) + rest)  # type: ignore[return-value]
        frame_spec = list(self.frame.return_spec)
        tb, tp, _ = self.region(lambda: self.block_to_exit(st.body + rest, st))
        eb, ep, _ = self.region(lambda: self.block_to_exit(st.orelse + rest, st))
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
    def for_stmt(self, st: ast.For) -> None:
        if st.orelse:
            raise self.error(st, "unsupported: for ... else")
        it = st.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
                and it.func.id not in self.env:
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
                        raise self.error(it.args[2], "unsupported: range() step must be a non-zero integer constant")
                    step = sv
            if start is None:
                trip = stop
            elif step > 0:
                span = self.scalar_op("aten.sub.int", [stop, start], st)
                trip = self.scalar_op("aten.floordiv.int", [
                    self.scalar_op("aten.add.int", [span, self.b.constant(step - 1)], st), self.b.constant(step)], st)
            else:
                span = self.scalar_op("aten.sub.int", [start, stop], st)
                trip = self.scalar_op("aten.floordiv.int", [
                    self.scalar_op("aten.add.int", [span, self.b.constant(-step - 1)], st), self.b.constant(-step)], st)

            def target(idx: SSAValue) -> Any:
                if start is None:
                    return idx
                off = idx if step == 1 else self.scalar_op("aten.mul.int", [idx, self.b.constant(step)], st)
                return self.scalar_op("aten.add.int", [start, off], st)

            self.loop(st, trip, self.b.constant(True), st.target, target, None)
            return
        seq = self.expr(it)
        if isinstance(seq, (PyTuple, PyList)):
            if _contains(st, (ast.Break, ast.Continue), True):
                raise self.error(st, "unsupported: break/continue in a loop over a list or tuple "
                                 "(it is unrolled at compile time)")
            for item in seq.items:
                self.assign(st.target, item)
                payload = self.block(st.body)
                assert payload is None
            return
        if isinstance(seq, ModRef) and hasattr(seq.module, "_modules") and type(seq.module).__name__ in (
                "ModuleList", "Sequential"):
            for name, m in seq.module._modules.items():
                self.assign(st.target, ModRef(m, f"{seq.path}.{name}" if seq.path else name))
                if self.block(st.body) is not None:
                    raise self.error(st, "unsupported: exits in a loop over modules")
            return
        if isinstance(seq, SSAValue) and isinstance(seq.type, td.ValueTensorType):
            trip = self.scalar_op("aten.size.int", [seq, self.b.constant(0)], st)
            self.loop(st, trip, self.b.constant(True), st.target,
                      lambda idx: self.registry_call("select", [seq, 0, idx], {}, st), None)
            return
        raise self.error(it, f"unsupported: iterating over a {describe(seq)} (supported: range(), "
                         "lists, tuples, a tensor's first dimension, ModuleList)")

    def while_stmt(self, st: ast.While) -> None:
        if st.orelse:
            raise self.error(st, "unsupported: while ... else")
        c0 = self.cond(st.test)
        if isinstance(c0, bool):
            if not c0:
                return
            c0 = self.b.constant(True)
        self.at(st)
        self.loop(st, self.b.constant(INT64_MAX), c0, None, None, st.test)

    def loop(self, st: ast.For | ast.While, trip: SSAValue, init_cond: SSAValue,
             target: ast.expr | None, target_value: Callable[[SSAValue], Any] | None,
             test: ast.expr | None) -> None:
        loop_vars = [n for n in _assigned_names(st.body) if n in self.env and isinstance(self.env[n], SSAValue)]
        if target is not None:
            tnames = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            loop_vars = [n for n in loop_vars if n not in tnames]
        types = [self.env[n].type for n in loop_vars]
        outer_frame = self.frame
        for _ in range(4):  # widen carried types until the body's results fit them
            frame = Frame("loop", list(loop_vars))

            def next_cond() -> SSAValue:
                if test is None:
                    return self.b.constant(True)
                c = self.cond(test)
                return self.b.constant(c) if isinstance(c, bool) else c

            frame.next_cond = next_cond

            def body() -> list[SSAValue]:
                blk = self.b.builder.insertion_point.block
                idx = blk.args[0]
                idx.name_hint = "i" if target is None else None
                for n, a in zip(loop_vars, blk.args[1:], strict=True):
                    a.name_hint = n
                    self.env[n] = a
                if target is not None and target_value is not None:
                    self.assign(target, target_value(idx))
                return self.block_to_exit(st.body, st)

            self.frame = frame
            try:
                blk, payload, _ = self.region(body, [td.IntType(), *types])
            finally:
                self.frame = outer_frame
            new_types = []
            for n, t, v in zip(loop_vars, types, payload[1:], strict=True):
                j = join_types(t, v.type)
                if j is None:
                    raise self.error(st, f"type clash: loop-carried variable '{n}' is {type_name(t)} "
                                     f"before the loop and {type_name(v.type)} after an iteration")
                new_types.append(j)
            if new_types == types:
                break
            types = new_types
        else:  # pragma: no cover - the join lattice is shallow
            raise self.error(st, "loop-carried types do not converge")
        self.at(st)
        self.yield_joined([(blk, payload[1:])], st, lambda i: loop_vars[i],
                          lambda vs: td.PrimLoopConditionOp(payload[0], *vs), fixed=types)
        inits = []
        for n, t in zip(loop_vars, types, strict=True):
            v = self.env[n]
            if v.type != t:
                v = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
            inits.append(v)
        op = self.b.insert(td.PrimLoopOp(trip, init_cond, inits, Region(blk)))
        for n, r in zip(loop_vars, op.results, strict=True):
            r.name_hint = n
            self.env[n] = r

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, e: ast.expr) -> Any:
        self.at(e)
        m = getattr(self, "e_" + type(e).__name__, None)
        if m is None:
            raise self.error(e, f"unsupported expression: {type(e).__name__} "
                             f"({_EXPR_NAMES.get(type(e).__name__, 'not in the scriptable subset')})")
        return m(e)

    def e_Constant(self, e: ast.Constant) -> Any:
        v = e.value
        if isinstance(v, (bool, int, float)) or v is None:
            return self.b.constant(v)
        if isinstance(v, str):
            return PyObj(v)
        raise self.error(e, f"unsupported constant {v!r}")

    def e_Name(self, e: ast.Name) -> Any:
        if e.id in self.env:
            return self.env[e.id]
        if e.id in self.globals:
            return self.python_value(self.globals[e.id], e)
        if hasattr(builtins, e.id):
            return PyObj(getattr(builtins, e.id))
        raise self.error(e, f"undefined name '{e.id}' (variables defined in only one branch of an "
                         "if, or only inside a loop, are undefined after it)")

    def python_value(self, v: Any, e: ast.AST) -> Any:
        if isinstance(v, bool) or isinstance(v, (int, float)):
            return self.b.constant(v)
        if v is None:
            return self.b.constant(None)
        if isinstance(v, Tensor):
            return self.tensor_constant(v)
        if isinstance(v, tuple):
            return PyTuple([self.python_value(x, e) for x in v])
        if isinstance(v, list):
            return PyList([self.python_value(x, e) for x in v])
        return PyObj(v)

    def tensor_constant(self, t: Tensor) -> SSAValue:
        import numpy as np
        from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, TensorType

        from xjit.dialects.torch_types import dtype_attr
        from xjit.frontends.trace import meta_of

        a = np.ascontiguousarray(t.numpy())
        meta = meta_of(t)
        ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
        attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
        return self.b.insert(td.ValueTensorLiteralOp(attr, vtensor_type(meta))).results[0]

    def e_Attribute(self, e: ast.Attribute) -> Any:
        base = self.expr(e.value)
        if isinstance(base, ModRef):
            return self.module_attr(base, e.attr, e)
        if isinstance(base, PyObj):
            try:
                return self.python_value(getattr(base.obj, e.attr), e)
            except AttributeError:
                raise self.error(e, f"{base.obj!r} has no attribute '{e.attr}'") from None
        if isinstance(base, SSAValue) and isinstance(base.type, td.ValueTensorType):
            if e.attr == "shape":
                meta = base.type.meta
                if meta.shape is None:
                    raise self.error(e, "unsupported: .shape of a tensor of unknown rank (use x.size(d))")
                return PyTuple([self.scalar_op("aten.size.int", [base, self.b.constant(d)], e)
                                for d in range(len(meta.shape))])
            return PyObj(("method", base, e.attr))
        raise self.error(e, f"unsupported: attribute '{e.attr}' of a {describe(base)}")

    def module_attr(self, ref: ModRef, name: str, e: ast.AST) -> Any:
        m = ref.module
        path = f"{ref.path}.{name}" if ref.path else name
        d = m.__dict__
        if name in d.get("_parameters", {}) or name in d.get("_buffers", {}):
            t = d["_parameters"].get(name) if name in d["_parameters"] else d["_buffers"].get(name)
            if t is None:
                return self.b.constant(None)
            from xjit.frontends.trace import meta_of

            typ = vtensor_type(meta_of(t))
            self.mc.slots[path] = typ
            self.mc.params[path] = t
            return self.b.insert(td.GlobalSlotGetOp(path, typ)).results[0]
        if name in d.get("_modules", {}):
            sub = d["_modules"][name]
            if sub is None:
                return self.b.constant(None)
            return ModRef(sub, path)
        if name == "forward":
            return PyObj(("method", ref, "forward"))
        try:
            v = getattr(m, name)
        except AttributeError:
            raise self.error(e, f"module {type(m).__name__} has no attribute '{name}'") from None
        if inspect.ismethod(v):
            return PyObj(("method", ref, name))
        if isinstance(v, (bool, int, float, Tensor, tuple, list)) or v is None:
            return self.python_value(v, e)
        raise self.error(e, f"unsupported: module attribute '{name}' of type {type(v).__name__}")

    def e_Tuple(self, e: ast.Tuple) -> PyTuple:
        return PyTuple([self.expr(x) for x in e.elts])

    def e_List(self, e: ast.List) -> PyList:
        return PyList([self.expr(x) for x in e.elts])

    def e_Subscript(self, e: ast.Subscript) -> Any:
        base = self.expr(e.value)
        if isinstance(base, (PyTuple, PyList)):
            idx = self.expr(e.slice)
            i = td._meta_or_const(idx) if isinstance(idx, SSAValue) else UNKNOWN
            if not isinstance(i, int) or isinstance(i, bool):
                raise self.error(e.slice, "unsupported: indexing a tuple or list with a non-constant index")
            try:
                return base.items[i]
            except IndexError:
                raise self.error(e, f"index {i} out of range for a {describe(base)}") from None
        if isinstance(base, SSAValue) and isinstance(base.type, td.ValueTensorType):
            idxs = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
            v = base
            dim = 0
            for ix in idxs:
                if isinstance(ix, ast.Slice):
                    args = [v, dim]
                    for part in (ix.lower, ix.upper):
                        args.append(None if part is None else self.as_int(self.expr(part), part))
                    args.append(1 if ix.step is None else self.as_int(self.expr(ix.step), ix.step))
                    v = self.registry_call("slice", args, {}, ix)
                    dim += 1
                else:
                    i = self.expr(ix)
                    if not (isinstance(i, SSAValue) and isinstance(i.type, td.IntType)):
                        raise self.error(ix, f"unsupported: indexing a tensor with a {describe(i)}")
                    v = self.registry_call("select", [v, dim, i], {}, ix)
            return v
        raise self.error(e, f"unsupported: subscripting a {describe(base)}")

    def as_int(self, v: Any, node: ast.AST) -> SSAValue:
        if isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
            return v
        raise self.error(node, f"expected an int, got a {describe(v)}")

    def e_UnaryOp(self, e: ast.UnaryOp) -> Any:
        v = self.expr(e.operand)
        if isinstance(e.op, ast.Not):
            if isinstance(v, PyObj) and isinstance(v.obj, bool):
                return PyObj(not v.obj)
            return self.scalar_op("aten.__not__", [self.to_bool(v, e)], e)
        if isinstance(e.op, ast.USub):
            if isinstance(v, SSAValue):
                if isinstance(v.type, td.ValueTensorType):
                    return self.registry_call("neg", [v], {}, e)
                if isinstance(v.type, td.IntType):
                    return self.scalar_op("aten.neg.int", [v], e)
                if isinstance(v.type, td.FloatType):
                    return self.scalar_op("aten.neg.float", [v], e)
        if isinstance(e.op, ast.UAdd):
            return v
        raise self.error(e, f"unsupported: unary {type(e.op).__name__} on a {describe(v)}")

    def e_BinOp(self, e: ast.BinOp) -> Any:
        return self.binop(e.op, self.expr(e.left), self.expr(e.right), e)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        name = _BINOPS.get(type(op))
        if name is None:
            raise self.error(node, f"unsupported operator {type(op).__name__}")
        return self.arith(name, a, b, node)

    def arith(self, name: str, a: Any, b: Any, node: ast.AST) -> Any:
        at = a.type if isinstance(a, SSAValue) else None
        bt = b.type if isinstance(b, SSAValue) else None
        if isinstance(at, td.ValueTensorType) or isinstance(bt, td.ValueTensorType):
            if not isinstance(at, td.ValueTensorType):  # scalar OP tensor
                flipped = {"add": "add", "mul": "mul", "lt": "gt", "gt": "lt", "le": "ge", "ge": "le",
                           "eq": "eq", "ne": "ne"}
                if name in flipped:
                    return self.registry_call(flipped[name], [b, a], {}, node)
                if name == "sub":
                    return self.registry_call("rsub", [b, a], {}, node)
                if name == "div":
                    return self.registry_call("mul", [self.registry_call("reciprocal", [b], {}, node), a], {}, node)
                raise self.error(node, f"unsupported: {describe(a)} {name} Tensor")
            return self.registry_call(name, [a, b], {}, node)
        if isinstance(at, (td.IntType, td.FloatType, td.BoolType)) and isinstance(bt, (td.IntType, td.FloatType, td.BoolType)):
            if isinstance(at, td.BoolType) and isinstance(bt, td.BoolType) and name in ("eq", "ne"):
                return self.scalar_op(f"aten.{name}.bool", [a, b], node)
            if isinstance(at, td.BoolType):
                a = self.scalar_op("aten.Int.bool", [a], node)
            if isinstance(bt, td.BoolType):
                b = self.scalar_op("aten.Int.bool", [b], node)
            if name in ("floordiv", "remainder", "pow", "matmul"):
                if isinstance(a.type, td.IntType) and isinstance(b.type, td.IntType) and name in ("floordiv", "remainder"):
                    return self.scalar_op(f"aten.{name}.int", [a, b], node)
                raise self.error(node, f"unsupported: {name} on {describe(a)} and {describe(b)}")
            if name == "div" or not (isinstance(a.type, td.IntType) and isinstance(b.type, td.IntType)):
                a, b = self.to_float(a, node), self.to_float(b, node)
                return self.scalar_op(f"aten.{name}.float", [a, b], node)
            return self.scalar_op(f"aten.{name}.int", [a, b], node)
        raise self.error(node, f"unsupported: operator '{_OP_SYMBOL.get(name, name)}' on {describe(a)} and {describe(b)}")

    def to_float(self, v: SSAValue, node: ast.AST) -> SSAValue:
        if isinstance(v.type, td.FloatType):
            return v
        return self.scalar_op("aten.Float.int", [v], node)

    def e_Compare(self, e: ast.Compare) -> Any:
        left = self.expr(e.left)
        result: Any = None
        for op, right_e in zip(e.ops, e.comparators, strict=True):
            right = self.expr(right_e)
            if isinstance(op, (ast.Is, ast.IsNot)):
                c = self.is_none(left, right, e)
                r: Any = PyObj(c if isinstance(op, ast.Is) else not c)
            elif isinstance(op, (ast.In, ast.NotIn)):
                raise self.error(e, "unsupported: 'in' comparisons")
            else:
                r = self.arith(_CMPOPS[type(op)], left, right, e)
            result = r if result is None else self.bool_and(result, lambda r=r: r, e)
            left = right
        return result

    def is_none(self, a: Any, b: Any, node: ast.AST) -> bool:
        def none(v: Any) -> bool | None:
            if isinstance(v, SSAValue):
                return isinstance(v.type, td.NoneType)
            return None if isinstance(v, PyObj) and v.obj is not None else v is None or (
                isinstance(v, PyObj) and v.obj is None)
        na, nb = none(a), none(b)
        if nb is True and na is not None:
            return na
        if na is True and nb is not None:
            return nb
        raise self.error(node, "unsupported: 'is' is only supported against None")

    def e_BoolOp(self, e: ast.BoolOp) -> Any:
        v = self.expr(e.values[0])
        for nxt in e.values[1:]:
            if isinstance(e.op, ast.And):
                v = self.bool_and(v, lambda n=nxt: self.expr(n), e)
            else:
                v = self.bool_or(v, lambda n=nxt: self.expr(n), e)
        return v

    def _short_circuit(self, a: Any, rhs: Callable[[], Any], node: ast.AST, is_and: bool) -> Any:
        if isinstance(a, PyObj) and isinstance(a.obj, bool):
            return rhs() if a.obj == is_and else a
        ca = self.to_bool(a, node)

        def right() -> SSAValue:
            r = rhs()
            if isinstance(r, PyObj) and isinstance(r.obj, bool):
                return self.b.constant(r.obj)
            return self.to_bool(r, node)

        tb, tv, _ = self.region(right if is_and else (lambda: self.b.constant(True)))
        eb, ev, _ = self.region((lambda: self.b.constant(False)) if is_and else right)
        types = self.yield_joined([(tb, [tv]), (eb, [ev])], node, lambda i: "the condition",
                                  lambda vs: td.PrimIfYieldOp(*vs))
        return self.b.insert(td.PrimIfOp(ca, types, Region(tb), Region(eb))).results[0]

    def bool_and(self, a: Any, rhs: Callable[[], Any], node: ast.AST) -> Any:
        return self._short_circuit(a, rhs, node, True)

    def bool_or(self, a: Any, rhs: Callable[[], Any], node: ast.AST) -> Any:
        return self._short_circuit(a, rhs, node, False)

    def e_IfExp(self, e: ast.IfExp) -> Any:
        c = self.cond(e.test)
        if isinstance(c, bool):
            return self.expr(e.body if c else e.orelse)
        tb, tv, _ = self.region(lambda: self.expr(e.body))
        eb, ev, _ = self.region(lambda: self.expr(e.orelse))
        if not (isinstance(tv, SSAValue) and isinstance(ev, SSAValue)):
            raise self.error(e, "unsupported: conditional expressions of tuples or lists")
        types = self.yield_joined([(tb, [tv]), (eb, [ev])], e, lambda i: "the value",
                                  lambda vs: td.PrimIfYieldOp(*vs))
        return self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb))).results[0]

    # -- calls ----------------------------------------------------------------------------------
    def e_Call(self, e: ast.Call) -> Any:
        callee = self.expr(e.func)
        if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
            raise self.error(e, "unsupported: *args / **kwargs in calls")
        args = [self.expr(a) for a in e.args]
        kwargs = {k.arg: self.expr(k.value) for k in e.keywords}
        self.at(e)
        if isinstance(callee, ModRef):
            return self.call_module(callee, args, kwargs, e)
        if isinstance(callee, PyObj):
            obj = callee.obj
            if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "method":
                _, base, name = obj
                if isinstance(base, ModRef):
                    if name == "forward":
                        return self.call_module(base, args, kwargs, e)
                    raise self.error(e, f"unsupported: calling method '{name}' of a module (only forward)")
                return self.tensor_method(base, name, args, kwargs, e)
            return self.call_python(obj, args, kwargs, e)
        raise self.error(e, f"a {describe(callee)} is not callable")

    def tensor_method(self, t: SSAValue, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        if name == "size":
            if not args and not kwargs:
                meta = t.type.meta  # type: ignore[attr-defined]
                if meta.shape is None:
                    raise self.error(e, "unsupported: x.size() of a tensor of unknown rank (use x.size(d))")
                return PyTuple([self.scalar_op("aten.size.int", [t, self.b.constant(d)], e)
                                for d in range(len(meta.shape))])
            dim = args[0] if args else kwargs.get("dim")
            return self.scalar_op("aten.size.int", [t, self.as_int(dim, e)], e)
        if name in ("dim", "numel") and not args:
            return self.scalar_op(f"aten.{name}", [t], e)
        if name == "item":
            raise self.error(e, "unsupported: .item() (use int(x) or float(x))")
        return self.registry_call(name, [t, *args], kwargs, e)

    def call_python(self, obj: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        if obj in (int, float, bool):
            if len(args) != 1 or kwargs:
                raise self.error(e, f"{obj.__name__}() takes one argument here")
            v = args[0]
            if isinstance(v, SSAValue):
                t = v.type
                src = "Tensor" if isinstance(t, td.ValueTensorType) else type_name(t)
                if src == obj.__name__:
                    return v
                try:
                    return self.scalar_op(f"aten.{obj.__name__.capitalize()}.{src if src != 'Tensor' else 'Tensor'}", [v], e)
                except KeyError:
                    pass
            raise self.error(e, f"unsupported: {obj.__name__}() of a {describe(v)}")
        if obj is len:
            v = args[0] if len(args) == 1 else None
            if isinstance(v, (PyTuple, PyList)):
                return self.b.constant(len(v.items))
            if isinstance(v, SSAValue) and isinstance(v.type, td.ValueTensorType):
                return self.scalar_op("aten.size.int", [v, self.b.constant(0)], e)
            raise self.error(e, f"unsupported: len() of a {describe(v)}")
        if obj is range:
            raise self.error(e, "unsupported: range() outside a for loop")
        if obj is isinstance:
            raise self.error(e, "unsupported: isinstance()")
        if obj in (print,):
            return self.b.constant(None)  # dropped, as tracing would
        from xjit.jit.script_api import ScriptFunction

        if isinstance(obj, ScriptFunction):
            return self.call_compiled_function(obj, args, kwargs, e)
        mod = getattr(obj, "__module__", "") or ""
        name = getattr(obj, "__name__", "")
        if getattr(obj, "__xjit_op__", None) is not None:
            # A functional wrapper whose signature is not its op's (F.embedding(input, weight)
            # is aten::embedding(weight, indices)): it maps its own arguments to the op's.
            try:
                bound = inspect.signature(obj).bind(*args, **kwargs)
            except TypeError as err:
                raise self.error(e, f"{name}(): {err}") from None
            bound.apply_defaults()
            try:
                op_name, op_args = obj.__xjit_op__(**bound.arguments)
            except (NotImplementedError, ValueError) as err:
                raise self.error(e, f"unsupported: {err}") from None
            return self.registry_call(op_name, op_args, {}, e)
        if mod in ("xjit", "xjit._creation", "xjit.nn.functional") or mod.startswith("xjit.ops"):
            _ensure_loaded()
            if name in OVERLOADS:
                return self.registry_call(name, args, kwargs, e)
            raise self.error(e, f"unsupported: {mod}.{name} has no compilable op (not in the op registry)")
        if inspect.isfunction(obj):
            return self.call_compiled_function(script_function_of(obj), args, kwargs, e)
        if isinstance(obj, type) and issubclass(obj, Module):
            raise self.error(e, "unsupported: creating modules inside forward")
        raise self.error(e, f"unsupported: calling {getattr(obj, '__qualname__', repr(obj))}")

    def call_compiled_function(self, sf: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        try:
            graph = sf.graph_ir
        except FrontendError as err:
            raise err.called_from(sf.name, self.loc(e)) from None
        name = self.mc.import_graph(graph, f"fn.{sf.name}", {}, sf.output_spec, entry=sf.name)
        return self.emit_call(name, sf.arg_names, sf.defaults, args, kwargs, e)

    def call_module(self, ref: ModRef, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        m = ref.module
        from xjit.jit.api import TracedModule
        from xjit.jit.script_api import ScriptModule

        prefix = ref.path
        if isinstance(m, (ScriptModule, TracedModule)):
            cf = m.graph_source()
            name = self.mc.import_graph(cf["ir"], prefix, cf["params"], cf["spec"])
            arg_names, defaults = cf["arg_names"], cf["defaults"]
        else:
            name = f"{prefix}.forward" if prefix else "forward"
            if name not in self.mc.funcs:
                if name in self.mc.in_progress:
                    raise self.error(e, "unsupported: recursive module calls")
                self.mc.in_progress.add(name)
                sub = FunctionCompiler(self.mc, type(m).forward, name, ref)
                try:
                    fop, arg_names, spec = sub.compile()
                except FrontendError as err:
                    raise err.called_from(f"{type(m).__name__}.forward", self.loc(e)) from None
                finally:
                    self.mc.in_progress.discard(name)
                fop.sym_visibility = StringAttr("private")
                fop.properties["sym_visibility"] = StringAttr("private")
                for a, n in zip(fop.body.block.args, arg_names, strict=True):
                    a.name_hint = n
                self.mc.funcs[name] = fop
                self.mc.specs[name] = spec
                self.mc.arg_info = getattr(self.mc, "arg_info", {})
                self.mc.arg_info[name] = (arg_names, sub.defaults)
            arg_names, defaults = self.mc.arg_info[name]  # type: ignore[attr-defined]
        return self.emit_call(name, arg_names, defaults, args, kwargs, e)

    def emit_call(self, name: str, arg_names: Sequence[str], defaults: dict[str, Any],
                  args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        callee = self.mc.funcs[name]
        ptypes = list(callee.function_type.inputs.data)
        if len(args) > len(arg_names):
            raise self.error(e, f"{name} takes {len(arg_names)} arguments, got {len(args)}")
        vals: list[Any] = list(args)
        for n in arg_names[len(args):]:
            if n in kwargs:
                vals.append(kwargs.pop(n))
            elif n in defaults:
                vals.append(self.python_value(defaults[n], e))
            else:
                raise self.error(e, f"{name}: missing argument '{n}'")
        if kwargs:
            raise self.error(e, f"{name}: unexpected keyword argument '{next(iter(kwargs))}'")
        operands = []
        for n, v, t in zip(arg_names, vals, ptypes, strict=True):
            if not isinstance(v, SSAValue):
                raise self.error(e, f"argument '{n}' of {name}: a {describe(v)} cannot be passed "
                                 f"(expected {type_name(t)})")
            if v.type != t:
                if isinstance(v.type, td.ValueTensorType) and isinstance(t, td.ValueTensorType) \
                        and td.types_compatible(v.type, t):
                    v = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
                else:
                    raise self.error(e, f"type clash: argument '{n}' of {name} expects {t}, got {v.type}")
            operands.append(v)
        rtypes = list(callee.function_type.outputs.data)
        call = self.b.insert(func.CallOp(name, operands, rtypes))
        spec = self.mc.specs[name]
        result, _ = spec.rebuild(list(call.results))
        return _to_compile_time(result)

    def registry_call(self, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        _ensure_loaded()
        if name not in OVERLOADS:
            raise self.error(e, f"unsupported: no op '{name}' in the registry")
        for opdef in OVERLOADS[name]:
            bound = bind_ir(opdef, args, kwargs)
            if bound is not None:
                res = self.emit(opdef, bound, e)
                return res[0] if len(res) == 1 else PyTuple(list(res))
        sigs = "\n  ".join(str(o.schema) for o in OVERLOADS[name] if not o.attrs.get("scalar"))
        got = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
        raise self.error(e, f"no overload of '{name}' accepts ({got}); expected one of:\n  {sigs}")

    def scalar_op(self, qualified: str, args: list[Any], e: ast.AST) -> SSAValue:
        return self.emit(lookup(qualified), args, e)[0]

    def emit(self, opdef: OpDef, args: Sequence[Any], e: ast.AST) -> tuple[SSAValue, ...]:
        b = self.b
        operands = []
        for a, v in zip(opdef.schema.args, args, strict=True):
            if isinstance(v, (PyTuple, PyList)):
                v = [x for x in v.items]
            if isinstance(v, PyObj):
                v = v.obj
            if isinstance(v, list) and a.type == "float":
                raise self.error(e, f"argument '{a.name}' must be a float")
            if a.type == "float" and isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
                v = self.to_float(v, e)
            operands.append(b.operand(a, v))
        metas = [td._meta_or_const(o) for o in operands]
        incomplete = any(isinstance(m, TensorMeta) and (m.shape is None or m.dtype is None) for m in metas)
        try:
            out = opdef.shape(*metas)
        except ShapeError as err:
            if incomplete:
                out = None
            else:
                raise self.error(e, f"{opdef.schema.name}: {err}") from None
        except Exception:
            out = None
        if out is None:
            out = tuple(TensorMeta(None, None) if r == "Tensor" else {"int": int, "float": float, "bool": bool}[r]
                        for r in opdef.schema.returns)
            out = out[0] if len(out) == 1 else out
        outs = out if isinstance(out, tuple) else (out,)
        op = td.aten_op_class(opdef.name).create(operands=operands, result_types=[result_type(m) for m in outs])
        b.insert(op)
        return tuple(op.results)


def _to_compile_time(v: Any) -> Any:
    if isinstance(v, tuple):
        return PyTuple([_to_compile_time(x) for x in v])
    if isinstance(v, list):
        return PyList([_to_compile_time(x) for x in v])
    return v


def _ir_accepts(arg: Arg, v: Any) -> bool:
    t = arg.type
    base = t.rstrip("?")
    if isinstance(v, (bool, int, float)) or v is None:
        v = PyObj(v)
    if isinstance(v, PyObj):
        v = v.obj
        if v is None:
            return arg.optional
        if isinstance(v, bool):
            return base in ("bool", "Scalar")
        if isinstance(v, int):
            return base in ("int", "Scalar", "float", "int[]")
        if isinstance(v, float):
            return base in ("float", "Scalar")
        if base == "ScalarType":
            return isinstance(v, DType)
        if base == "str":
            return isinstance(v, str)
        return False
    if isinstance(v, (PyTuple, PyList)):
        if base == "int[]":
            return all(isinstance(x, SSAValue) and isinstance(x.type, td.IntType) for x in v.items)
        if base == "Tensor[]":
            return all(isinstance(x, SSAValue) and isinstance(x.type, td.ValueTensorType) for x in v.items)
        return False
    if not isinstance(v, SSAValue):
        return False
    ty = v.type
    if isinstance(ty, td.NoneType):
        return arg.optional
    if base == "Tensor":
        return isinstance(ty, td.ValueTensorType)
    if base == "Scalar":
        return isinstance(ty, (td.IntType, td.FloatType, td.BoolType))
    if base == "int":
        return isinstance(ty, td.IntType)
    if base == "float":
        return isinstance(ty, (td.FloatType, td.IntType))
    if base == "bool":
        return isinstance(ty, td.BoolType)
    if base == "int[]":
        return isinstance(ty, td.IntType) or (isinstance(ty, td.ListType) and isinstance(ty.element_type, td.IntType))
    if base == "Tensor[]":
        return isinstance(ty, td.ListType)
    return False


def bind_ir(opdef: OpDef, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any] | None:
    """`_dispatch.bind` for compile-time values: schema order, defaults filled in."""
    schema = opdef.schema
    pos = list(args)
    # torch.zeros(3, 4): varargs sizes pack into the leading int[] argument
    if schema.args and schema.args[0].type.startswith("int[]") and len(pos) > 1 and all(
            isinstance(p, SSAValue) and isinstance(p.type, td.IntType) for p in pos):
        pos = [PyList(pos)]
    out: list[Any] = []
    used = 0
    for a in schema.args:
        if not a.kwarg_only and pos:
            v = pos.pop(0)
        elif a.name in kwargs:
            v = kwargs[a.name]
            used += 1
        elif a.has_default:
            v = PyObj(a.default) if not isinstance(a.default, list) else PyObj(a.default)
            out.append(a.default)
            continue
        else:
            return None
        if not _ir_accepts(a, v):
            return None
        if a.type.startswith("int[]") and isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
            v = PyList([v])
        out.append(v)
    if pos or used != len(kwargs):
        return None
    return out


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
           ast.Mod: "remainder", ast.Pow: "pow", ast.MatMult: "matmul"}
_CMPOPS = {ast.Lt: "lt", ast.Gt: "gt", ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}
_OP_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "remainder": "%",
              "pow": "**", "matmul": "@", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "ne": "!="}
_STMT_NAMES = {
    "With": "with-statements", "Try": "exceptions", "Raise": "exceptions", "Global": "globals",
    "Nonlocal": "closures", "FunctionDef": "nested functions", "ClassDef": "classes",
    "Delete": "del", "Import": "imports", "ImportFrom": "imports", "AsyncFunctionDef": "async",
}
_EXPR_NAMES = {
    "Lambda": "lambdas", "ListComp": "comprehensions", "DictComp": "comprehensions",
    "SetComp": "comprehensions", "GeneratorExp": "generators", "Dict": "dicts", "Set": "sets",
    "JoinedStr": "f-strings", "Yield": "generators", "Await": "async", "Starred": "starred expressions",
    "NamedExpr": "walrus assignments",
}


# -- entry points -------------------------------------------------------------------------------


@dataclass
class ScriptResult:
    module: ModuleOp
    params: dict[str, Tensor]
    arg_names: list[str]
    defaults: dict[str, Any]
    output_spec: OutputSpec


def script_module_ir(m: Module, arg_kinds: dict[str, Any] | None = None) -> ScriptResult:
    mc = ModuleCompilation(m)
    fc = FunctionCompiler(mc, type(m).forward, "forward", ModRef(m, ""), arg_kinds)
    fop, names, spec = fc.compile()
    mc.funcs["forward"] = fop
    module = mc.module_op("forward")
    _finish(module)
    return ScriptResult(module, mc.params, names, fc.defaults, spec)


def script_function_ir(fn: Callable[..., Any], arg_kinds: dict[str, Any] | None = None) -> ScriptResult:
    mc = ModuleCompilation(None)
    name = fn.__name__
    fc = FunctionCompiler(mc, fn, name, None, arg_kinds)
    fop, names, spec = fc.compile()
    mc.funcs[name] = fop
    module = mc.module_op(name)
    _finish(module)
    return ScriptResult(module, mc.params, names, fc.defaults, spec)


def _finish(module: ModuleOp) -> None:
    try:
        module.verify()
    except Exception as err:  # a frontend bug, not a user error: say so
        raise RuntimeError(f"internal error: the scripted IR does not verify: {err}\n{module}") from err


_SCRIPTED_FUNCTIONS: dict[Any, Any] = {}


def script_function_of(fn: Callable[..., Any]) -> Any:
    from xjit.jit.script_api import ScriptFunction

    sf = _SCRIPTED_FUNCTIONS.get(fn)
    if sf is None:
        sf = _SCRIPTED_FUNCTIONS[fn] = ScriptFunction(fn)
    return sf


_ = (IRValue,)
