"""The compiler of one function, assembled from its halves, and the entry points that script a
module's `forward` or a plain function into a verified ModuleOp."""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xdsl.builder import InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr
from xdsl.ir import Attribute, Block, Region, SSAValue

from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.errors import FrontendError, SourceLoc
from xjit.frontends.builder import TorchBuilder
from xjit.frontends.script.builtin_folds import BuiltinFolds
from xjit.frontends.script.calls import (
    UNSCRIPTED_NN,
    Calls,
    rnn_refusal,
    scripted_rnn_forward,
    scripted_transformer_method,
)
from xjit.frontends.script.dicts import Dicts
from xjit.frontends.script.expressions import Expressions
from xjit.frontends.script.lists import PARAMETER_DEPTH, Lists
from xjit.frontends.script.module_compilation import ModuleCompilation
from xjit.frontends.script.module_values import ModuleValues
from xjit.frontends.script.optional_calls import OptionalCalls
from xjit.frontends.script.optionals import Optionals
from xjit.frontends.script.raising import Raising
from xjit.frontends.script.registry_ops import NeedsArgTypes, NeedsCallTypes, RegistryOps
from xjit.frontends.script.scalar_math import ScalarMath
from xjit.frontends.script.statements import Env, Frame, Raised, Statements, ssa_hint
from xjit.frontends.script.values import (
    TENSOR,
    ModRef,
    PyDict,
    PyList,
    PyObj,
    PyTuple,
    annotation_name,
    annotation_type,
    has_container,
    resolve_annotation,
    type_name,
)
from xjit.frontends.signature import OutputSpec
from xjit.nn.module import Module
from xjit.ops.types import float32


class FunctionCompiler(
    Statements,
    Raising,
    Expressions,
    Optionals,
    OptionalCalls,
    ScalarMath,
    Lists,
    Dicts,
    Calls,
    BuiltinFolds,
    ModuleValues,
    RegistryOps,
):
    """Compiles one Python function to a `func.func`. This class holds the state (builder `b`,
    `env`, `frame`, source position); its statement, expression, call and op-emission methods
    live in the mixins so each module stays short."""

    def callee_ir(
        self, fn: Callable[..., Any], kinds: dict[str, Any] | None = None
    ) -> ScriptResult:
        """The graph of a plain function this code calls (compiled once, see `function_ir`;
        `kinds`: the tuples passed to its Optional[Tuple] / unannotated parameters)."""
        return function_ir(fn, kinds)

    def __init__(
        self,
        mc: ModuleCompilation,
        fn: Callable[..., Any],
        func_name: str,
        self_ref: ModRef | None,
        arg_kinds: dict[str, Any] | None = None,
    ) -> None:
        self.mc = mc
        self.fn = fn
        self.func_name = func_name
        self.self_ref = self_ref
        self.arg_kinds = dict(arg_kinds or {})
        # str parameters' values for this compile ("name" -> ("str", value) in arg_kinds)
        self.str_values = {
            n: k[1] for n, k in self.arg_kinds.items() if isinstance(k, tuple) and k[0] == "str"
        }
        for n in self.str_values:
            self.arg_kinds[n] = td.StrType()
        # int parameters' values for this compile (("int", value): a list slice needs them)
        self.int_values = {
            n: k[1] for n, k in self.arg_kinds.items() if isinstance(k, tuple) and k[0] == "int"
        }
        for n in self.int_values:
            self.arg_kinds[n] = td.IntType()
        # bool parameters compiled as constants (`("value", v)` in arg_kinds: the call's)
        self.per_value: tuple[str, ...] = getattr(fn, "__xjit_per_value__", ())
        try:
            lines, start = inspect.getsourcelines(fn)
            self.file = inspect.getsourcefile(fn) or "<unknown>"
        except (OSError, TypeError):
            raise FrontendError(
                f"cannot get the source code of {getattr(fn, '__qualname__', fn)!r}; "
                "script needs functions defined in files"
            ) from None
        src = "".join(lines)
        dedented = textwrap.dedent(src)
        self.indent = len(lines[0]) - len(lines[0].lstrip())
        self.line0 = start - 1
        tree = ast.parse(dedented, type_comments=True)
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
        self.depth = 0  # control-flow regions entered (lists may change only at their own)
        # run-time Optionals (optionals.py): a condition -> the names it refines (true, false)
        self.refinements: dict[SSAValue, tuple[dict[str, SSAValue], dict[str, SSAValue]]] = {}
        self.opt_return: Attribute | None = None  # T of a `-> Optional[T]` annotation
        self.opt_return_seen: Attribute | None = None  # the payload type of the values returned
        self.opt_return_hint: Attribute | None = None  # ... learnt by an earlier compile
        self.opt_pending = False  # a `return None` did not know its placeholder's type
        self.optional_vars: set[str] = set()  # variables annotated Optional[...]

    # -- diagnostics -------------------------------------------------------------------------
    def loc(self, node: ast.AST) -> SourceLoc:
        return SourceLoc(
            self.file,
            self.line0 + getattr(node, "lineno", 1),
            self.indent + getattr(node, "col_offset", 0) + 1,
        )

    def error(self, node: ast.AST, message: str) -> FrontendError:
        return FrontendError(message, self.loc(node))

    def at(self, node: ast.AST) -> None:
        loc = self.loc(node)
        self.b.loc = FileLineColLoc(StringAttr(loc.file), IntAttr(loc.line), IntAttr(loc.col))

    # -- entry ----------------------------------------------------------------------------------
    def tuple_leaves(self, name: str, t: Any) -> list[tuple[str, Attribute]]:
        """A `Tuple[...]` parameter's leaves, named `t.0`, `t.1.0`, ... with their types."""
        if isinstance(t, tuple) and t[0] == "tuple":
            out: list[tuple[str, Attribute]] = []
            for k, x in enumerate(t[1]):
                out += self.tuple_leaves(f"{name}.{k}", x)
            return out
        if isinstance(t, tuple):
            raise self.error(self.fdef, f"'{name}': Optional inside a tuple is not supported")
        kind = self.arg_kinds.get(name)
        return [(name, kind if kind is not None else TENSOR if t is None else t)]

    def passed_tuple(self, name: str, t: Any) -> Any:
        """A parameter's type given the call's `("tuple", structure)` kind: an `Optional[Tuple
        [...]]` parameter passed a tuple (compiled per None / not None, as `Optional[T]`), or an
        unannotated one (compiled per tuple structure, its leaves tensors)."""
        kind = self.arg_kinds.get(name)
        passed = isinstance(kind, tuple) and kind[0] == "tuple"
        opt_tuple = isinstance(t, tuple) and t[0] == "optional" and isinstance(t[1], tuple)
        if opt_tuple and t[1][0] == "tuple":
            # (a typed call gives the leaves' kinds, `name.0`, ...: the tuple was passed too)
            if passed and len(kind) > 2:  # a list: its own length (torch's Optional[List[int]])
                return _tuple_annotation(kind[1])
            if passed or any(k.startswith(name + ".") for k in self.arg_kinds):
                return t[1]
            return t
        if not passed:
            return t
        if t is None:
            return _tuple_annotation(kind[1])
        if not (isinstance(t, tuple) and t[0] == "tuple"):
            raise self.error(
                self.fdef, f"parameter '{name}' is not a tuple, but a tuple was passed"
            )
        return t

    def container_param(self, name: str, t: Any) -> Any:
        """A parameter whose annotation holds a `List[T]` / `Dict[K, V]`: compiled per call on
        the passed value's structure (`("container", structure)` in arg_kinds: a list's length,
        a dict's keys), its leaves block arguments (element values stay run-time values).
        Returns (structure, leaves), a plain type (an Optional one passed None), or None when
        no call has given the structure yet."""
        if t is not None:
            self.container_params[name] = annotation_name(t)
        kind = self.arg_kinds.get(name)
        s = _container_kind(kind)
        if isinstance(t, tuple) and t[0] == "optional":
            if s is None and (kind is None or isinstance(kind, td.NoneType)):
                return td.NoneType()  # None (a call passing a list compiles again)
            t = t[1]
        if s is None:
            if kind is None:
                return None
            raise self.error(
                self.fdef,
                f"parameter '{name}' is a {annotation_name(t)}, but a "
                f"{type_name(kind) if isinstance(kind, Attribute) else 'tuple'} was passed",
            )
        if t is None:
            raise self.error(
                self.fdef,
                f"parameter '{name}' is unannotated (a Tensor, as in TorchScript), but "
                f"{_structure_name(s)} was passed: annotate it (List[T], Dict[str, T], ...)",
            )
        leaves: list[tuple[str, Attribute]] = []
        return self.container_leaves(name, t, s, leaves), leaves

    def container_leaves(
        self, where: str, t: Any, s: Any, leaves: list[tuple[str, Attribute]]
    ) -> Any:
        """The structure of `s` (the passed value's) checked against the annotation `t`, its
        leaves (named `xs.0`, `d.key`, ... as a tuple's) appended to `leaves`."""

        def clash() -> FrontendError:
            return self.error(
                self.fdef,
                f"parameter '{where.split('.')[0]}': {where} is a {annotation_name(t)}, "
                f"but {_structure_name(s)} was passed",
            )

        if isinstance(t, tuple) and t[0] == "list":
            if not isinstance(s, list):
                raise clash()
            return [self.container_leaves(f"{where}.{k}", t[1], x, leaves) for k, x in enumerate(s)]
        if isinstance(t, tuple) and t[0] == "dict":
            if not isinstance(s, dict) or any(type(k) is not t[1] for k in s):
                raise clash()
            return {k: self.container_leaves(f"{where}.{k}", t[2], x, leaves) for k, x in s.items()}
        if isinstance(t, tuple) and t[0] == "tuple":
            if not isinstance(s, tuple) or len(s) != len(t[1]):
                raise clash()
            return tuple(
                self.container_leaves(f"{where}.{k}", tk, x, leaves)
                for k, (tk, x) in enumerate(zip(t[1], s, strict=True))
            )
        if isinstance(t, tuple):  # Optional[T] inside a container
            raise self.error(
                self.fdef,
                f"parameter '{where}': Optional inside a List/Dict/Tuple is not supported",
            )
        if isinstance(t, td.StrType):
            raise self.error(
                self.fdef,
                f"unsupported: parameter '{where}' of type str inside a List/Dict/Tuple "
                "(a str is compiled per value; pass it as its own parameter)",
            )
        leaf = {None: TENSOR, "int": td.IntType(), "float": td.FloatType(), "bool": td.BoolType()}
        passed = leaf.get(s) if not isinstance(s, (list, dict, tuple)) else None
        fits = passed == t or (
            isinstance(t, td.FloatType) and isinstance(passed, td.IntType)
        )  # an int where a float is expected converts, as for a float parameter
        if t is None or passed is None or not fits:
            raise clash()
        kind = self.arg_kinds.get(where)  # the leaf's type, given by a call compiling per type
        leaves.append((where, kind if isinstance(kind, Attribute) else t))
        return None

    def value_argument(self, name: str, arg: SSAValue) -> SSAValue:
        """A bool parameter compiled per value (xjit/nn/script_marks.py `per_value`): the
        value the call passes (`("value", v)` in arg_kinds) or the default, checked at run
        time against the argument."""
        kind = self.arg_kinds.get(name)
        value = kind[1] if isinstance(kind, tuple) and kind[0] == "value" else None
        if value is None:
            value = self.defaults.get(name)
        if not isinstance(value, bool) or not isinstance(arg.type, td.BoolType):
            raise self.error(self.fdef, f"parameter '{name}' compiled per value must be a bool")
        c = self.b.constant(value)
        ok = self.scalar_op("aten.eq.bool", [arg, c], self.fdef)
        self.guard(
            ok, f"{self.fdef.name}() was compiled for {name}={value}, got {{}}", [arg], self.fdef
        )
        return c

    def str_argument(self, name: str) -> PyObj:
        """A `str` parameter: compiled per value (a constant while compiling, as a str module
        attribute is), so the generic graph waits for the call (NeedsArgTypes)."""
        value = self.str_values.get(name)
        if value is None:
            if self.mc.deferrable:
                raise NeedsArgTypes(f"'{name}' is a str: compiled per value", self.loc(self.fdef))
            raise self.error(
                self.fdef, f"unsupported: str parameter '{name}' of a function called here"
            )
        return PyObj(value)

    def signature_comment(self, n_params: int) -> list[str] | None:
        """The parameter types of a `# type: (Tensor, int) -> Tensor` signature comment."""
        tc = self.fdef.type_comment
        if not tc:
            return None
        try:
            ft = ast.parse(tc, mode="func_type")
        except SyntaxError:
            raise self.error(
                self.fdef, f"cannot parse the signature comment '# type: {tc}'"
            ) from None
        types = [ast.unparse(a) for a in ft.argtypes]
        if len(types) != n_params:
            raise self.error(
                self.fdef,
                f"the signature comment gives {len(types)} parameter types for {n_params} "
                "parameters",
            )
        return types

    def compile(self) -> tuple[func.FuncOp, list[str], OutputSpec]:
        self.opt_return = self.optional_return_type()
        result = self.compile_once()
        if not self.opt_pending:
            return result
        # a `return None` came before any return of a value: compile again, its placeholder
        # typed as the values returned (a float32 vector if only None is ever returned)
        self.opt_return_hint = self.opt_return_seen or _F32_VECTOR
        self.opt_pending, self.env, self.depth, self.refinements = False, Env(), 0, {}
        return self.compile_once()

    def optional_return_type(self) -> Attribute | None:
        """T of the function's `-> Optional[T]` annotation (T a tensor or scalar), or None."""
        ann = self.fdef.returns
        if ann is None:
            return None
        try:
            t = resolve_annotation(ast.unparse(ann), self.globals)
        except Exception:  # noqa: BLE001  (other return annotations are not checked here)
            return None
        if isinstance(t, tuple) and t[0] == "optional" and isinstance(t[1], Attribute):
            return t[1]
        return None

    def compile_once(self) -> tuple[func.FuncOp, list[str], OutputSpec]:
        sig = inspect.signature(self.fn)
        params = list(sig.parameters.values())
        if self.self_ref is not None:
            params = params[1:]
        a = self.fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs:
            raise self.error(self.fdef, "unsupported: *args, **kwargs and keyword-only parameters")
        arg_types: list[Attribute] = []
        names: list[str] = []  # one per parameter
        flat_names: list[str] = []  # one per block argument: a tuple parameter's leaves `t.0`
        self.tuple_params: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        ns = {
            "Optional": typing.Optional,
            "Tuple": tuple,
            "List": list,
            "Any": typing.Any,
            "Tensor": Tensor,
            **self.globals,
        }
        comment = self.signature_comment(len(params))
        missing: list[str] = []  # List/Dict parameters whose structure the call gives
        self.container_params: dict[str, str] = {}
        for k, p in enumerate(params):
            ann = p.annotation
            if comment is not None and ann is inspect.Parameter.empty:
                ann = comment[k]
            if isinstance(ann, str):
                try:
                    ann = eval(ann, ns)  # noqa: S307  (an annotation of the user's own code)
                except Exception:
                    raise self.error(
                        self.fdef, f"parameter '{p.name}': cannot resolve annotation {ann!r}"
                    ) from None
            try:
                t = annotation_type(ann)
            except TypeError as e:
                raise self.error(self.fdef, f"parameter '{p.name}': {e}") from None
            if p.default is not inspect.Parameter.empty:
                self.defaults[p.name] = p.default
            names.append(p.name)
            if has_container(t) or _container_kind(self.arg_kinds.get(p.name)) is not None:
                got = self.container_param(p.name, t)
                if isinstance(got, tuple):  # one block argument per leaf, as a tuple's
                    self.tuple_params[p.name] = got[0]
                    for leaf_name, leaf_t in got[1]:
                        flat_names.append(leaf_name)
                        arg_types.append(leaf_t)
                    continue
                if got is None:  # not passed yet: a call passing one compiles per structure
                    missing.append(p.name)
                    got = td.NoneType()
                arg_types.append(got)
                flat_names.append(p.name)
                continue
            t = self.passed_tuple(p.name, t)
            if isinstance(t, tuple) and t[0] == "tuple":  # one block argument per leaf
                self.tuple_params[p.name] = _structure(t)
                for leaf_name, leaf_t in self.tuple_leaves(p.name, t):
                    flat_names.append(leaf_name)
                    arg_types.append(leaf_t)
                continue
            kind = self.arg_kinds.get(p.name)
            if isinstance(kind, tuple) and kind[0] == "value":  # per_value: still a bool
                kind = td.BoolType()
            if kind is not None:
                t = kind
            elif isinstance(t, tuple) and t[0] == "optional":
                # Optional[Tuple[...]] is None here: a call passing a tuple compiles again
                tuple_inner = isinstance(t[1], tuple) and t[1][0] == "tuple"
                t = td.NoneType() if p.default is None or tuple_inner else t[1]
            elif t is None:
                t = TENSOR
            if isinstance(t, tuple):
                raise self.error(self.fdef, f"parameter '{p.name}': unsupported annotation")
            arg_types.append(t)
            flat_names.append(p.name)
        self.arg_names, self.arg_types, self.flat_names = names, arg_types, flat_names
        if missing:
            if self.mc.deferrable:
                raise NeedsArgTypes(
                    f"'{missing[0]}' is a List/Dict: compiled per length / key set",
                    self.loc(self.fdef),
                )
            raise self.error(
                self.fdef,
                f"parameter '{missing[0]}' is a {self.container_params[missing[0]]}: "
                "pass a list/dict (it is compiled per length / key set)",
            )
        block = self.entry_block = Block(arg_types=arg_types)
        self.b = TorchBuilder(InsertPoint.at_end(block))
        self.at(self.fdef)
        args = iter(block.args)
        for n in names:
            if n in self.tuple_params:
                self.env[n] = _rebuild(self.tuple_params[n], args)
                continue
            arg = next(args)
            arg.name_hint = ssa_hint(n)
            self.env[n] = arg
            if isinstance(arg.type, td.StrType):
                self.env[n] = self.str_argument(n)
            elif n in self.int_values:  # a constant here (the call's value)
                self.env[n] = self.b.constant(self.int_values[n])
            if n in self.per_value:
                self.env[n] = self.value_argument(n, arg)
        if self.self_ref is not None:
            self.env[self.fdef.args.args[0].arg] = self.self_ref
        self.frame = Frame("function")
        try:
            payload = self.block(self.fdef.body)
        except Raised as r:
            raise FrontendError(
                f"unsupported: every path through '{self.fdef.name}' raises (for these "
                "argument types); a function must return a value on some path",
                r.loc,
            ) from None
        if payload is None:
            raise self.error(
                self.fdef,
                f"'{self.fdef.name}' must return a value on every path "
                "(None only by an explicit `return None` in a function annotated -> Optional[T])",
            )
        self.b.insert(func.ReturnOp(*payload))
        fop = func.FuncOp(self.func_name, (arg_types, [v.type for v in payload]), Region(block))
        spec = self.frame.return_spec[0]
        return fop, names, spec


_F32_VECTOR = td.ValueTensorType.of((0,), float32)

# -- entry points -------------------------------------------------------------------------------


@dataclass
class ScriptResult:
    module: ModuleOp
    params: dict[str, Tensor]
    arg_names: list[str]
    defaults: dict[str, Any]
    output_spec: OutputSpec
    reads_training: bool = False  # some `<module>.training` was read: the graph depends on it
    needs_arg_types: bool = False  # compile again per argument ranks/dtypes (script_api.py)
    attr_reads: tuple[tuple[str, str], ...] = ()  # (module path, attribute) values it depends on
    tuple_params: dict[str, Any] = field(default_factory=dict)  # name -> nesting (flat args)
    flat_names: list[str] | None = None  # one per entry block argument, if not arg_names
    # List/Dict parameters (name -> their type, for messages): compiled per passed structure
    container_params: dict[str, str] = field(default_factory=dict)
    needs_int_values: bool = False  # compile per int argument values (a run-time list slice)
    per_value: tuple[str, ...] = ()  # bool parameters compiled as constants (script_marks.py)
    deferred_by: str = ""  # why there is no generic graph: the located first need (messages)

    def source(self, entry: str) -> dict[str, Any]:
        """This graph as `GraphSource.graph_source()` gives it, calling `entry`."""
        if self.module is None:
            raise FrontendError(
                f"{entry}: no generic graph: it uses the rank of an unannotated tensor "
                "(e.g. x.shape), takes a str parameter (compiled per value) or a List/Dict parameter "
                "(compiled per length / key set), so it is compiled per call signature"
            )
        return {
            "ir": self.module,
            "params": self.params,
            "spec": self.output_spec,
            "arg_names": self.arg_names,
            "defaults": self.defaults,
            "entry": entry,
            "tuple_params": self.tuple_params,
        }


def script_module_ir(
    m: Module,
    arg_kinds: dict[str, Any] | None = None,
    training: bool | None = None,
    method: str = "forward",
    root_view: Module | None = None,
    typed_calls: bool = False,
) -> ScriptResult:
    """`training` overrides the root's flag and `root_view` holds the root's attributes (a
    ScriptModule's own, not its original's); `method` is the entry (forward or an export);
    `typed_calls` compiles submodule methods per argument types (see NeedsCallTypes)."""
    mc = ModuleCompilation(m)
    mc.deferrable = _only_tuple_kinds(arg_kinds)
    mc.typed_calls = typed_calls
    mc.root_view = root_view
    if training is not None:
        mc.training_override[id(m)] = training
    fn = getattr(type(m), method)
    if fn.__module__ in UNSCRIPTED_NN:  # a method of an xjit.nn.transformer class
        scripted = scripted_transformer_method(m, method)
        if scripted is None:
            raise FrontendError(rnn_refusal(m), _def_location(fn))
        fn = scripted
    if type(m).__module__ == "xjit.nn.rnn":
        fn = scripted_rnn_forward(m) if method == "forward" else None
        if fn is None:
            raise FrontendError(rnn_refusal(m), _def_location(getattr(type(m), method)))
    fc = FunctionCompiler(mc, fn, method, ModRef(m, ""), arg_kinds)
    mc.in_progress.add(method)
    try:
        fop, names, spec = fc.compile()
    except NeedsArgTypes as e:
        return _deferred(fc, mc, e)
    except NeedsCallTypes:
        return script_module_ir(m, arg_kinds, training, method, root_view, typed_calls=True)
    mc.funcs[method] = fop
    module = mc.module_op(method)
    _finish(module)
    return ScriptResult(
        module,
        mc.params,
        names,
        fc.defaults,
        spec,
        mc.reads_training,
        mc.needs_arg_types,
        tuple(mc.attr_reads),
        fc.tuple_params,
        fc.flat_names,
        fc.container_params,
        per_value=fc.per_value,
    )


def script_function_ir(
    fn: Callable[..., Any], arg_kinds: dict[str, Any] | None = None, callee: bool = False
) -> ScriptResult:
    mc = ModuleCompilation(None)
    name = fn.__name__
    mc.deferrable = _only_tuple_kinds(arg_kinds, optional_generic=callee)
    fc = FunctionCompiler(mc, fn, name, None, arg_kinds)
    try:
        fop, names, spec = fc.compile()
    except NeedsArgTypes as e:
        return _deferred(fc, mc, e)
    mc.funcs[name] = fop
    module = mc.module_op(name)
    _finish(module)
    return ScriptResult(
        module,
        mc.params,
        names,
        fc.defaults,
        spec,
        needs_arg_types=mc.needs_arg_types,
        tuple_params=fc.tuple_params,
        flat_names=fc.flat_names,
        container_params=fc.container_params,
        per_value=fc.per_value,
    )


def _container_kind(kind: Any) -> Any:
    """The structure of a `("container", structure)` kind (a List/Dict passed), or None."""
    if isinstance(kind, tuple) and len(kind) == 2 and kind[0] == "container":
        return kind[1]
    return None


def _structure_name(s: Any) -> str:
    """What a passed value's structure (`value_structure`) is, for messages."""
    if isinstance(s, list):
        return f"a list of {len(s)} items"
    if isinstance(s, dict):
        return f"a dict with the keys {list(s)!r}"
    if isinstance(s, tuple):
        return f"a tuple of {len(s)} items"
    return {None: "a Tensor", "int": "an int"}.get(s, f"a {s}")


def _structure(t: Any) -> Any:
    """A tuple annotation's nesting: nested tuples with None leaves."""
    if isinstance(t, tuple) and t[0] == "tuple":
        return tuple(_structure(x) for x in t[1])
    return None


def _only_tuple_kinds(arg_kinds: dict[str, Any] | None, optional_generic: bool = False) -> bool:
    """No argument types yet (only which parameters take tuples): the graph may still ask to be
    compiled per argument types (NeedsArgTypes), as the generic graph does. For a function
    another scripted function calls (`optional_generic`), an Optional parameter's choice (None,
    or a tensor of unknown rank) gives no types either: the caller compiles it per types."""
    return not arg_kinds or all(_generic_kind(k, optional_generic) for k in arg_kinds.values())


def _generic_kind(k: Any, optional_generic: bool) -> bool:
    if isinstance(k, tuple):  # (a called function's str: its value, no types either)
        return k[0] in ("tuple", "container") or (optional_generic and k[0] == "str")
    if not optional_generic:
        return False
    if isinstance(k, (td.NoneType, td.IntType, td.FloatType, td.BoolType)):
        return True
    return isinstance(k, td.ValueTensorType) and k.meta.shape is None


def _tuple_annotation(structure: Any) -> Any:
    """A tuple value's nesting (None or a scalar type's name at the leaves) as an annotation."""
    if structure is None:
        return None
    if isinstance(structure, str):
        return {"int": td.IntType(), "float": td.FloatType(), "bool": td.BoolType()}[structure]
    return ("tuple", [_tuple_annotation(s) for s in structure])


def _rebuild(structure: Any, leaves: Any) -> Any:
    if structure is None:
        arg = next(leaves)
        return arg
    if isinstance(structure, list):  # a List parameter: its own copy, mutable here
        return PyList([_rebuild(s, leaves) for s in structure], depth=PARAMETER_DEPTH)
    if isinstance(structure, dict):
        items = {k: _rebuild(s, leaves) for k, s in structure.items()}
        return PyDict(items, depth=PARAMETER_DEPTH)
    return PyTuple([_rebuild(s, leaves) for s in structure])


def _deferred(fc: FunctionCompiler, mc: ModuleCompilation, why: NeedsArgTypes) -> ScriptResult:
    """No generic graph (it needs argument ranks): each call compiles for its argument types;
    `arg_types` tells script_api which parameters are tensors, scalars or None, `deferred_by`
    (the op and its source line) tells save's refusal why."""
    r = ScriptResult(
        None,  # type: ignore[arg-type]
        {},
        fc.arg_names,
        fc.defaults,
        None,
        mc.reads_training,
        True,
        tuple(mc.attr_reads),
        fc.tuple_params,
        fc.flat_names,
        fc.container_params,
        per_value=fc.per_value,
    )
    r.arg_types = fc.arg_types  # type: ignore[attr-defined]
    r.needs_int_values = mc.needs_int_values
    r.deferred_by = str(why)
    return r


_FUNCTION_IR: dict[Any, ScriptResult] = {}


def function_ir(fn: Callable[..., Any], kinds: dict[str, Any] | None = None) -> ScriptResult:
    """The generic graph of a plain function (or its variant for `kinds`), compiled once:
    scripted code calling it and `xjit.jit.script(fn)` share it."""
    key = (fn, str(sorted(kinds.items()))) if kinds else fn
    result = _FUNCTION_IR.get(key)
    if result is None:
        result = _FUNCTION_IR[key] = script_function_ir(fn, kinds or None, callee=True)
    return result


def _finish(module: ModuleOp) -> None:
    try:
        module.verify()
    except Exception as err:  # a frontend bug, not a user error: say so
        raise RuntimeError(
            f"internal error: the scripted IR does not verify: {err}\n{module}"
        ) from err


def _def_location(fn: Callable[..., Any]) -> SourceLoc | None:
    """Where `fn` is defined (for an error about the whole function)."""
    try:
        return SourceLoc(inspect.getsourcefile(fn) or "<unknown>", inspect.getsourcelines(fn)[1], 5)
    except (OSError, TypeError):
        return None
