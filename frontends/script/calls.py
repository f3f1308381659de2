"""Calls: submodules (compiled into private functions or imported), scripted functions, tensor
methods and the Python builtins the subset understands."""

from __future__ import annotations

import ast
import inspect
import math
from collections.abc import Sequence
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Attribute, SSAValue

from xjit import _splitting
from xjit._device import device
from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.errors import FrontendError, script_str
from xjit.frontends.script import aliasing, str_choice
from xjit.frontends.script.builtin_folds import is_str_method
from xjit.frontends.script.lists import Unrollable, const_of
from xjit.frontends.script.optional_calls import has_optional_argument
from xjit.frontends.script.optionals import rebuild_results
from xjit.frontends.script.registry_ops import NeedsArgTypes, NeedsCallTypes
from xjit.frontends.script.scalar_math import is_math_function
from xjit.frontends.script.values import (
    EnumeratedTensor,
    ModRef,
    PyDict,
    PyList,
    PyObj,
    PyTuple,
    describe,
    flatten_tuple_args,
    has_container,
    holds_container,
    resolve_annotation,
    to_compile_time,
    type_name,
    value_structure,
)
from xjit.frontends.signature import GraphSource, annotate, is_scripting, is_tracing
from xjit.nn import transformer_scripted
from xjit.nn.module import Module
from xjit.nn.rnn_scripted import SCRIPTED_FORWARD
from xjit.ops import types
from xjit.ops.registry import OVERLOADS, UNKNOWN, ensure_loaded


def _optional_kind(fn: Any, p: inspect.Parameter, v: Any) -> Attribute | None:
    """The type an `Optional[T]` parameter (T a tensor or scalar) is compiled with for this
    call when that differs from its generic compile (None if its default is None, else T):
    T for a value passed to a parameter defaulting to None, None for a None passed to one
    that does not."""
    if not isinstance(v, SSAValue) and v is not None:
        return None
    try:
        t = resolve_annotation(p.annotation, getattr(fn, "__globals__", {}))
    except Exception:  # noqa: BLE001  (the callee's compile reports it, located)
        return None
    if not (isinstance(t, tuple) and t[0] == "optional" and isinstance(t[1], Attribute)):
        return None
    is_none = v is None or isinstance(v.type, td.NoneType)
    if is_none == (p.default is None):
        return None
    return td.NoneType() if is_none else t[1]


def _is_tensor(v: Any) -> bool:
    return isinstance(v, SSAValue) and isinstance(v.type, td.ValueTensorType)


# x.new_zeros(size) is torch.zeros(size, dtype=x.dtype), ...
_NEW_FACTORIES = {"new_zeros": "zeros", "new_ones": "ones", "new_full": "full"}

# Ops returning a list of tensors (xjit/_splitting.py): a compile-time `PyList` of slices, the
# number of pieces fixed by the static size of the split dim and constant arguments.
_LIST_RESULTS = ("split", "chunk", "unbind", "tensor_split")
_LIST_PARAMS = {
    "split": ("split_size_or_sections", "dim"),
    "chunk": ("chunks", "dim"),
    "unbind": ("dim",),
    "tensor_split": ("indices_or_sections", "dim"),
}
_LIST_KW_ALIASES = {"split_size": "split_size_or_sections", "sections": "indices_or_sections"}


# In-place fills: the out-of-place op of the same values (x.fill_(v) is x.add_(y)'s kind of update)
_FILLS = {"fill_": "full_like", "zero_": "zeros_like"}
_TOLIST_MAX = 4096  # elements of x.tolist(): one .item() each


class _Piece:
    """What xjit/_splitting.py reads of a tensor: its rank and static shape."""

    def __init__(self, v: SSAValue) -> None:
        self.v = v
        self.shape = v.type.meta.shape  # type: ignore[attr-defined]

    def dim(self) -> int:
        return len(self.shape)


class _SplitEmitter:
    """The torch-like namespace xjit/_splitting.py's decompositions call (`T.slice`,
    `T.select`), emitting the ops into the function being compiled."""

    def __init__(self, fc: Any, e: ast.AST) -> None:
        self.fc, self.e = fc, e

    def slice(self, x: _Piece, d: int, start: int, end: int, step: int) -> SSAValue:
        args = [x.v, *(PyObj(v) for v in (d, start, end, step))]
        return self.fc.registry_call("slice", args, {}, self.e)

    def select(self, x: _Piece, d: int, i: int) -> SSAValue:
        return self.fc.registry_call("select", [x.v, PyObj(d), PyObj(i)], {}, self.e)


_DTYPE_METHODS = {
    "float": types.float32,
    "double": types.float64,
    "long": types.int64,
    "int": types.int32,
    "bool": types.bool_,
}


class Calls:
    """FunctionCompiler's calls (compiler.py holds the state)."""

    def e_Call(self, e: ast.Call) -> Any:
        callee = self.expr(e.func)
        if isinstance(callee, PyObj) and callee.obj is is_scripting:
            return PyObj(True)  # decided while compiling: the eager-only branch is dropped
        if isinstance(callee, PyObj) and callee.obj is is_tracing:
            return PyObj(False)  # scripted code is not being traced (TorchScript's answer)
        if isinstance(callee, PyObj) and callee.obj is annotate:
            if len(e.args) != 2 or e.keywords:
                raise self.error(e, "torch.jit.annotate takes (type, value)")
            return self.expr(e.args[1])  # the type is only a hint here
        if any(isinstance(a, ast.Starred) for a in e.args) or any(
            k.arg is None for k in e.keywords
        ):
            raise self.error(e, "unsupported: *args / **kwargs in calls")
        args = [self.expr(a) for a in e.args]
        kwargs = {k.arg: self.expr(k.value) for k in e.keywords}
        self.at(e)
        return self.call_parts(callee, args, kwargs, e)

    def call_parts(self, callee: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        """The call of an evaluated callee with evaluated arguments."""
        if has_optional_argument(args, kwargs):
            return self.split_optional_call(callee, args, kwargs, e)  # optional_calls.py
        if isinstance(callee, ModRef):
            result = self.call_module(callee, args, kwargs, e)
            return self.inplace_module_update(callee, args, result, e)
        if isinstance(callee, PyObj):
            obj = callee.obj
            if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "listmethod":
                return self.list_method(obj[1], obj[2], args, kwargs, e)
            if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "dictmethod":
                return self.dict_method(obj[1], obj[2], args, kwargs, e)
            if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "method":
                _, base, name = obj
                if isinstance(base, ModRef):
                    return self.call_module(base, args, kwargs, e, name)
                return self.tensor_method(base, name, args, kwargs, e)
            return self.call_python(obj, args, kwargs, e)
        raise self.error(e, f"a {describe(callee)} is not callable")

    def tensor_method(
        self, t: SSAValue, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> Any:
        if name == "size":
            if not args and not kwargs:
                meta = t.type.meta  # type: ignore[attr-defined]
                if meta.shape is None:
                    self.need_rank(t, e, "x.size()")
                return self.new_list(
                    [
                        self.scalar_op("aten.size.int", [t, self.b.constant(d)], e)
                        for d in range(len(meta.shape))
                    ]
                )
            dim = args[0] if args else kwargs.get("dim")
            return self.scalar_op("aten.size.int", [t, self.as_int(dim, e)], e)
        if name in ("T", "mT"):  # the attributes (expressions.py)
            rank = len(t.type.meta.shape or ())  # type: ignore[attr-defined]
            c = self.b.constant
            if name == "mT":
                return self.registry_call("transpose", [t, c(-2), c(-1)], {}, e)
            dims = self.new_list([c(d) for d in reversed(range(rank))])
            return self.registry_call("permute", [t, dims], {}, e)
        if name == "to" and len(args) == 1 and not kwargs and _is_tensor(args[0]):
            name = "type_as"  # x.to(other): other's dtype (xjit has one device)
        if name in ("type_as", "expand_as", *_NEW_FACTORIES):
            return self.tensor_like_method(t, name, args, kwargs, e)
        if name in ("dim", "numel") and not args:
            return self.scalar_op(f"aten.{name}", [t], e)
        if name == "item" and not args and not kwargs:
            # TorchScript's Scalar: a float for floating dtypes, an int (bool) otherwise
            dt = t.type.meta.dtype  # type: ignore[attr-defined]
            if dt is None and self.mc.deferrable:  # compile per argument types (dtypes known)
                raise NeedsArgTypes(".item() needs the dtype of its tensor", self.loc(e))
            if dt is None:
                raise self.error(
                    e, "unsupported: .item() of a tensor of unknown dtype (use int(x) or float(x))"
                )
            kind = float if dt.kind == 2 else bool if dt.kind == 0 else int
            return self.call_python(kind, [t], {}, e)
        if name == "tolist" and not args and not kwargs:
            return self.tensor_tolist(t, e)
        if name == "is_floating_point" and not args and not kwargs:  # known per dtype
            if t.type.meta.dtype is None:  # type: ignore[attr-defined]
                self.need_rank(t, e, "x.is_floating_point()")  # (per argument types)
            return PyObj(t.type.meta.dtype.is_floating_point)  # type: ignore[attr-defined]
        if name in _LIST_RESULTS:
            return self.tensor_list(name, t, args, kwargs, e)
        if name in _DTYPE_METHODS and not args and not kwargs:  # x.float() is x.to(float32)
            return self.registry_call("to", [t, PyObj(_DTYPE_METHODS[name])], {}, e)
        if name == "where" and args:  # x.where(cond, y) is torch.where(cond, x, y)
            return self.registry_call(name, [args[0], t, *args[1:]], kwargs, e)
        ensure_loaded()
        fill = _FILLS.get(name)  # `torch.empty(b, 1, dtype=torch.long).fill_(SOS_token)`
        if fill is not None or (
            name not in OVERLOADS and aliasing.is_update_method(name) and name[:-1] in OVERLOADS
        ):
            # `x.add_(y)`: the out-of-place op, with x rebound where no alias could tell
            result = self.registry_call(fill or name[:-1], [t, *args], kwargs, e)
            root = aliasing.updated_root(e)
            names = {root.id} if root is not None and self.env.get(root.id) is t else set()
            return aliasing.rebind_update(self, names, t, result, f"{name}()", e)
        return self.registry_call(name, [t, *args], kwargs, e)

    def tensor_tolist(self, t: SSAValue, e: ast.AST) -> Any:
        """`x.tolist()`: nested lists of `.item()`s, one per element (a list's length is known
        while compiling: per argument types, where the shape is static)."""
        shape = t.type.meta.shape  # type: ignore[attr-defined]
        if shape is None or None in shape or t.type.meta.dtype is None:  # type: ignore[attr-defined]
            self.need_rank(t, e, "x.tolist()")  # (per argument types: shapes known)
            raise self.error(e, "unsupported: x.tolist() of a tensor of unknown shape or dtype")
        if math.prod(shape) > _TOLIST_MAX:
            raise self.error(e, f"unsupported: x.tolist() of more than {_TOLIST_MAX} elements")
        if not shape:
            return self.tensor_method(t, "item", [], {}, e)
        rows = [
            self.registry_call("select", [t, PyObj(0), PyObj(i)], {}, e) for i in range(shape[0])
        ]
        return self.new_list([self.tensor_tolist(r, e) for r in rows])

    def tensor_like_method(
        self, t: SSAValue, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> Any:
        """x.type_as(y), x.expand_as(y), x.new_zeros(size): another op, given y's dtype or
        size (x's dtype, for new_*)."""
        like = t if name in _NEW_FACTORIES else args[0] if len(args) == 1 else None
        if not _is_tensor(like):
            raise self.error(e, f"unsupported: {name}() of a {describe(like)}")
        if name == "expand_as":
            return self.registry_call(
                "expand", [t, self.tensor_method(like, "size", [], {}, e)], {}, e
            )
        dt = like.type.meta.dtype
        if dt is None and self.mc.deferrable:  # compile per argument types (dtypes known)
            raise NeedsArgTypes(f"{name}() needs the dtype of a tensor", self.loc(e))
        if dt is None:
            raise self.error(e, f"unsupported: {name}() with a tensor of unknown dtype")
        if name == "type_as":
            return self.registry_call("to", [t, PyObj(dt)], {}, e)
        kwargs = {"dtype": PyObj(dt), **kwargs}
        return self.registry_call(_NEW_FACTORIES[name], args, kwargs, e)

    def static_isinstance(self, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> PyObj:
        """isinstance(v, T), decided while compiling as TorchScript does (its types are
        static): a bool is not an int, a None matches only NoneType."""
        if len(args) != 2 or kwargs or not isinstance(args[1], (PyObj, PyTuple)):
            raise self.error(e, "unsupported: isinstance() needs a value and a type (or tuple)")
        v, ts = args
        items = ts.items if isinstance(ts, PyTuple) else [ts]
        want = tuple(x.obj if isinstance(x, PyObj) else x for x in items)
        if isinstance(v, SSAValue):
            kind = {
                td.IntType: int,
                td.FloatType: float,
                td.BoolType: bool,
                td.NoneType: type(None),
                td.StrType: str,
                td.ValueTensorType: Tensor,
            }.get(type(v.type))
        else:
            kind = {PyTuple: tuple, PyList: list, PyDict: dict}.get(type(v))
            if isinstance(v, PyObj) and isinstance(v.obj, (bool, int, float, str)):
                kind = type(v.obj)
            if isinstance(v, ModRef):
                kind = type(v.module)
        if kind is None:
            raise self.error(e, f"unsupported: isinstance() of a {describe(v)}")
        ok = all(isinstance(w, type) for w in want)
        if not ok:
            raise self.error(
                e, "unsupported: isinstance() with a type argument that is not a class"
            )
        return PyObj(any(issubclass(kind, w) and not (kind is bool and w is int) for w in want))

    def tensor_list(
        self, name: str, t: SSAValue, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> PyList:
        """`x.split/chunk/unbind/tensor_split(...)`: TorchScript's List[Tensor], here a
        compile-time list of slices (xjit/_splitting.py decides the bounds)."""
        params = _LIST_PARAMS[name]
        if len(args) > len(params):
            raise self.error(e, f"{name}() takes at most {len(params)} arguments after the tensor")
        bound = dict(zip(params, args, strict=False))
        for k, v in kwargs.items():
            k = _LIST_KW_ALIASES.get(k, k)
            if k not in params or k in bound:
                raise self.error(e, f"{name}() got an unexpected or repeated argument '{k}'")
            bound[k] = v
        consts: dict[str, Any] = {}
        for k, v in bound.items():
            items = v.items if isinstance(v, (PyList, PyTuple)) else None
            c = [const_of(x) for x in items] if items is not None else const_of(v)
            if c is UNKNOWN or (isinstance(c, list) and UNKNOWN in c):
                raise self.error(
                    e,
                    f"unsupported: {name}() with a run-time '{k}' (the number of pieces must "
                    "be known at compile time)",
                )
            consts[k] = c
        if not isinstance(t.type, td.ValueTensorType):
            raise self.error(e, f"{name}() expects a tensor, got {describe(t)}")
        shape = t.type.meta.shape
        dim = consts.get("dim", 0)
        d = dim + len(shape) if shape and isinstance(dim, int) and dim < 0 else dim
        if shape is None or (isinstance(d, int) and 0 <= d < len(shape) and shape[d] is None):
            if not self.mc.deferrable and not self.mc.typed_calls and self.mc.root is not None:
                # compiled per argument types, but the size comes out of a submodule call
                # compiled generically: compile again with calls specialised too
                raise NeedsCallTypes(f"{name}() needs a static size", self.loc(e))
            if shape is None:
                self.need_rank(t, e, f"{name}() along a dim of unknown size")
            if self.mc.deferrable:  # the size may be static for the call's argument types
                raise NeedsArgTypes(f"{name}() needs a static size", self.loc(e))
            raise self.error(
                e,
                f"unsupported: {name}() along dim {dim}, whose size is known only at run time "
                "(the number of pieces must be known while compiling)",
            )
        try:
            pieces = getattr(_splitting, f"_{name}")(_SplitEmitter(self, e), _Piece(t), **consts)
        except (RuntimeError, IndexError, ValueError, TypeError, NotImplementedError) as err:
            raise self.error(e, f"{name}(): {err}") from None
        return self.new_list(list(pieces))

    def where_columns(self, c: Any, e: ast.AST) -> PyList:
        """`torch.where(cond)`: TorchScript's List[Tensor], one column of `nonzero(cond)` per
        dim (their length the data's; a 0-d cond is read as one element)."""
        if not _is_tensor(c):
            raise self.error(e, f"where() expects a tensor, got {describe(c)}")
        rank = self.rank_of(c, e)
        if rank == 0:
            c = self.registry_call("reshape", [c, self.new_list([self.b.constant(1)])], {}, e)
        nz = self.registry_call("nonzero", [c], {}, e)
        cols = [
            self.registry_call("select", [nz, PyObj(1), PyObj(d)], {}, e)
            for d in range(max(rank, 1))
        ]
        return self.new_list(cols)  # type: ignore[no-any-return]

    def functional_inplace_keyword(
        self, obj: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> tuple[list[Any], dict[str, Any]]:
        """F.elu(x, 0.5, False): the wrapper's positional `inplace` is no argument of its op
        (aten::elu's third is `scale`): pass it by keyword; too many arguments are an error,
        as in torch."""
        params = list(inspect.signature(obj).parameters)
        try:
            inspect.signature(obj).bind(*args, **kwargs)
        except TypeError as err:
            raise self.error(e, f"{obj.__name__}(): {err}") from None
        if "inplace" in params and len(args) > params.index("inplace"):
            i = params.index("inplace")
            return list(args[:i]), {**kwargs, "inplace": args[i]}
        return args, kwargs

    def call_python(self, obj: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        if is_str_method(obj):  # builtin_folds.py: a str is a constant
            return self.str_method(obj, args, kwargs, e)  # type: ignore[attr-defined]
        if obj in (sum, any, all) or (obj in (min, max) and len(args) == 1 and not kwargs):
            if len(args) != 1 or kwargs:
                raise self.error(e, f"unsupported: {obj.__name__}() with these arguments")
            return self.reduce_sequence(obj, args[0], e)  # type: ignore[attr-defined]
        if obj is sorted:
            return self.sorted_call(args, kwargs, e)  # type: ignore[attr-defined]
        if obj in (ord, chr) and len(args) == 1 and not kwargs:
            c = const_of(args[0])
            if c is UNKNOWN:
                raise self.error(e, f"unsupported: {obj.__name__}() of a run-time value")
            return self.from_python(obj(c))  # type: ignore[attr-defined]
        if obj in (int, float) and len(args) == 1 and isinstance(const_of(args[0]), str):
            try:  # int("12"), float("-inf"): constants, as the str is
                return self.b.constant(obj(const_of(args[0])))
            except ValueError as err:
                raise self.error(e, f"{obj.__name__}(): {err}") from None
        if obj in (int, float, bool):
            if len(args) != 1 or kwargs:
                raise self.error(e, f"{obj.__name__}() takes one argument here")
            v = args[0]
            if obj is float and isinstance(v, PyObj) and isinstance(v.obj, str):
                try:  # float("-inf"), float("nan"): constants, as in TorchScript
                    return self.b.constant(float(v.obj))
                except ValueError:
                    raise self.error(e, f"could not convert string to float: {v.obj!r}") from None
            if isinstance(v, SSAValue):
                t = v.type
                src = "Tensor" if isinstance(t, td.ValueTensorType) else type_name(t)
                if src == obj.__name__:
                    return v
                if obj is int and src == "float":  # int(inf) raises in TorchScript
                    self.finite_guard(v, e)
                if obj is float and src == "bool":  # (no aten::Float.bool: through int)
                    v, src = self.scalar_op("aten.Int.bool", [v], e), "int"
                try:
                    return self.scalar_op(
                        f"aten.{obj.__name__.capitalize()}.{src if src != 'Tensor' else 'Tensor'}",
                        [v],
                        e,
                    )
                except KeyError:
                    pass
            if obj is bool and (isinstance(v, (PyList, PyDict)) or str_choice.is_str(v)):  # known
                return self.to_bool(v, e)  # type: ignore[attr-defined]
            raise self.error(e, f"unsupported: {obj.__name__}() of a {describe(v)}")
        if obj in (enumerate, zip):
            return self.enumerate_zip(obj, args, kwargs, e)
        if obj is len:
            v = self.module_sequence(args[0]) if len(args) == 1 else None  # type: ignore[attr-defined]
            if isinstance(v, (PyTuple, PyList, PyDict)):
                return self.b.constant(len(v.items))
            if isinstance(v, SSAValue) and isinstance(v.type, td.ValueTensorType):
                return self.scalar_op("aten.size.int", [v, self.b.constant(0)], e)
            if isinstance(v, PyObj) and isinstance(v.obj, str):
                return self.b.constant(len(v.obj))
            raise self.error(e, f"unsupported: len() of a {describe(v)}")
        if obj is range:
            raise self.error(e, "unsupported: range() outside a for loop")
        if obj is getattr and len(args) == 2 and isinstance(args[0], ModRef) and not kwargs:
            name = args[1].obj if isinstance(args[1], PyObj) else None
            if not isinstance(name, str):
                raise self.error(e, "unsupported: getattr() with a name not known while compiling")
            return self.module_attr(args[0], name, e)
        if obj is str and len(args) == 1 and not kwargs:  # of a value known while compiling
            self.defer_to_int_values(args[0], e, "str() of a run-time int")  # type: ignore[attr-defined]
            c = const_of(args[0])
            if c is UNKNOWN:  # (a `for` over a constant range unrolls, making it known)
                raise Unrollable(
                    f"unsupported: str() of a run-time {describe(args[0])}", self.loc(e)
                )
            return PyObj(script_str(c))
        if obj in (list, dict) and len(args) <= 1 and not kwargs:  # copies, as in Python
            v = args[0] if args else (PyList([]) if obj is list else PyDict({}))
            if isinstance(v, PyDict):
                v = self.dict_keys_list(v) if obj is list else self.new_dict(dict(v.items))
                return v
            if obj is list and isinstance(v, (PyList, PyTuple)):
                return self.new_list(list(v.items))
            raise self.error(e, f"unsupported: {obj.__name__}() of a {describe(v)}")
        if obj in (min, max, abs, divmod):
            return self.scalar_builtin(obj, args, kwargs, e)
        if obj is sum and len(args) == 1 and not kwargs:
            return self.sum_builtin(args[0], e)
        if is_math_function(obj):
            return self.math_call(obj, args, kwargs, e)
        if obj is isinstance:
            return self.static_isinstance(args, kwargs, e)
        if obj in (print,):
            return self.b.constant(None)  # dropped, as tracing would
        if isinstance(obj, GraphSource) and not isinstance(obj, Module):  # xjit.jit.ScriptFunction
            try:
                src = obj.graph_source()
            except FrontendError as err:  # compiled per call signature: no graph to import
                raise err.called_from(getattr(obj, "name", "function"), self.loc(e)) from None
            except TypeError as err:  # a trace with guards: only a trace can call it
                raise self.error(e, f"unsupported: {err}") from None
            return self.call_compiled_function(src, args, kwargs, e)
        mod = getattr(obj, "__module__", "") or ""
        name = getattr(obj, "__name__", "")
        if mod == "xjit._splitting" and name in _LIST_RESULTS:
            if not args or not isinstance(args[0], SSAValue):
                raise self.error(e, f"{name}() expects a tensor as its first argument")
            return self.tensor_list(name, args[0], args[1:], kwargs, e)
        if getattr(obj, "__xjit_op__", None) is not None:
            # A functional wrapper whose signature is not its op's (F.embedding(input, weight)
            # is aten::embedding(weight, indices)): it maps its own arguments to the op's.
            try:
                bound = inspect.signature(obj).bind(*args, **kwargs)
            except TypeError as err:
                raise self.error(e, f"{name}(): {err}") from None
            bound.apply_defaults()
            # a wrapper's *args (torch.einsum(eq, a, b)) reach its mark as one compiled tuple
            star = {k for k, p in bound.signature.parameters.items() if p.kind is p.VAR_POSITIONAL}
            try:
                op_name, op_args = obj.__xjit_op__(
                    **{
                        k: PyTuple(list(v)) if k in star else _python_str(v)
                        for k, v in bound.arguments.items()
                    }
                )
            except (NotImplementedError, ValueError) as err:
                raise self.error(e, f"unsupported: {err}") from None
            return self.registry_call(op_name, op_args, {}, e)
        if mod in ("xjit", "xjit._creation", "xjit.nn.functional") or mod.startswith("xjit.ops"):
            ensure_loaded()
            if mod == "xjit.nn.functional":
                args, kwargs = self.functional_inplace_keyword(obj, args, kwargs, e)
            if mod == "xjit.nn.functional" and "inplace" in kwargs:
                # F.relu(x, inplace=False) is F.relu(x); inplace=True would update x's memory.
                # xjit's own activation modules pass their `inplace`: their callers rebind the
                # name instead, checked for aliases (inplace_module_update).
                inplace = const_of(kwargs.pop("inplace"))
                own = (getattr(self.fn, "__module__", "") or "").startswith("xjit.nn.")
                if inplace is not False and not (own and inplace is True):
                    raise self.error(
                        e,
                        f"unsupported: {name}(..., inplace=True) in scripted code (scripted "
                        f"values are not updated in place): write x = F.{name}(x)",
                    )
            # uninitialised memory: zeros are one of its values (eager xjit's empty is zeros too)
            name = {"empty": "zeros", "empty_like": "zeros_like"}.get(name, name)
            if name == "where" and len(args) == 1 and not kwargs:  # List[Tensor], per dim
                return self.where_columns(args[0], e)
            if name in OVERLOADS:
                return self.registry_call(name, args, kwargs, e)
            if mod == "xjit._creation" and name == "tensor":  # lists.py
                return self.tensor_literal(args, kwargs, e)
            raise self.error(
                e, f"unsupported: {mod}.{name} has no compilable op (not in the op registry)"
            )
        if inspect.isfunction(obj):
            passed = self.passed_tuples(obj, args, kwargs, method=False)
            strs = passed_scalars(obj, args, kwargs)  # F.mse_loss(x, y, reduction=self.reduction)
            if strs:
                passed = dict(sorted({**(passed or {}), **strs}.items()))
            try:
                ir = self.callee_ir(obj, passed)  # type: ignore[attr-defined]
                if ir.module is None and ir.needs_arg_types:
                    # the callee needs its arguments' ranks/dtypes (`x.shape`): compile the
                    # caller per call signature too, then the callee for the types passed
                    if self.mc.deferrable:
                        raise NeedsArgTypes(f"{obj.__name__}() needs argument types", self.loc(e))
                    typed = {
                        **(self.call_kinds(obj, args, method=False) or {}),
                        **self.constant_ints(obj, args),
                    }
                    unranked = any(
                        isinstance(a, SSAValue)
                        and isinstance(a.type, td.ValueTensorType)
                        and a.type.meta.shape is None
                        for a in args
                    )
                    if unranked and not self.mc.typed_calls and self.mc.root is not None:
                        # a tensor from a submodule compiled generically: specialise calls too
                        raise NeedsCallTypes(f"{obj.__name__}() needs argument types", self.loc(e))
                    if typed:
                        passed = dict(sorted({**(passed or {}), **typed}.items()))  # (ranks win)
                        ir = self.callee_ir(obj, passed)  # type: ignore[attr-defined]
                elif self.mc.typed_calls and not self.mc.deferrable:
                    # calls specialised per argument types (NeedsCallTypes): functions too, so
                    # that their results have ranks (a later call may need them); int
                    # arguments known here are constants in the variant (`channel_shuffle(x,
                    # 2)`: its `view(b, groups, c // groups, ...)` gets static sizes)
                    typed = {
                        **(self.call_kinds(obj, args, method=False) or {}),
                        **self.constant_ints(obj, args),
                    }
                    if typed:
                        passed = dict(sorted({**(passed or {}), **typed}.items()))  # (ranks win)
                        ir = self.callee_ir(obj, passed)  # type: ignore[attr-defined]
                src = ir.source(obj.__name__)
            except (NeedsArgTypes, NeedsCallTypes):
                raise
            except FrontendError as err:  # compiled per call signature: no graph to import
                raise err.called_from(obj.__name__, self.loc(e)) from None
            tag = ""
            if passed:  # a variant for these tuples/types, numbered as method variants are
                names = self.mc.typed_call_names
                tag = f"#{names.setdefault((obj.__qualname__, str(passed)), len(names) + 1)}"
            return self.call_compiled_function(src, args, kwargs, e, tag)
        if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields"):
            return self.named_tuple(obj, args, kwargs, e)
        if isinstance(obj, type) and issubclass(obj, Module):
            raise self.error(e, "unsupported: creating modules inside forward")
        if obj is device and all(isinstance(a, PyObj) for a in args) and not kwargs:
            try:  # torch.device("cpu"): a constant, as TorchScript's Device
                return PyObj(device(*(a.obj for a in args)))
            except (TypeError, RuntimeError) as err:
                raise self.error(e, str(err)) from None
        raise self.error(e, f"unsupported: calling {getattr(obj, '__qualname__', repr(obj))}")

    def named_tuple(self, cls: type, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        """`Point(x, y=...)` of a `typing.NamedTuple` class: a tuple with field names (`p.x`),
        defaults filled in, returned to Python as `cls`."""
        fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
        defaults = cls._field_defaults  # type: ignore[attr-defined]
        if len(args) > len(fields) or any(k not in fields for k in kwargs):
            raise self.error(e, f"{cls.__name__}() takes the fields {', '.join(fields)}")
        values = dict(zip(fields, args, strict=False)) | kwargs
        missing = [f for f in fields if f not in values and f not in defaults]
        if missing:
            raise self.error(e, f"{cls.__name__}() is missing {', '.join(missing)}")
        items = [values[f] if f in values else self.from_python(defaults[f]) for f in fields]  # type: ignore[attr-defined]
        return PyTuple(items, fields, cls)

    def enumerate_zip(self, fn: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        """enumerate()/zip() of lists, tuples and ModuleLists: a list of tuples, made while
        compiling (a `for` over it is unrolled)."""
        if fn is enumerate and len(args) == 2 and "start" not in kwargs:
            args, kwargs = args[:1], {**kwargs, "start": args[1]}  # enumerate(xs, 1)
        if fn is enumerate and len(args) == 1 and _is_tensor(args[0]):
            start = kwargs.pop("start", None) if kwargs else None
            if kwargs:
                raise self.error(e, "enumerate() takes one sequence (and start=) here")
            first = 0 if start is None else self.const_index(start, e, "enumerate start")
            return EnumeratedTensor(args[0], first)  # a `for` over it is a loop (statements.py)
        seqs = []
        for a in args:
            a = self.module_sequence(a)  # type: ignore[attr-defined]
            if isinstance(a, PyDict):
                a = self.dict_keys_list(a)
            if not isinstance(a, (PyList, PyTuple)):
                raise self.error(
                    e,
                    f"unsupported: {fn.__name__}() of a {describe(a)} (supported: lists, "
                    "tuples, ModuleLists, ModuleDicts)",
                )
            seqs.append(a.items)
        if fn is enumerate:
            start = kwargs.pop("start", None) if kwargs else None
            if len(seqs) != 1 or kwargs:
                raise self.error(e, "enumerate() takes one sequence (and start=) here")
            first = 0 if start is None else self.const_index(start, e, "enumerate start")
            return PyList([PyTuple([self.b.constant(first + i), x]) for i, x in enumerate(seqs[0])])
        if kwargs:
            raise self.error(e, "unsupported: keyword arguments to zip()")
        return PyList([PyTuple(list(t)) for t in zip(*seqs, strict=False)])

    def scalar_builtin(self, fn: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        """min/max of two scalars, abs of one, divmod of two ints (TorchScript's types: an int
        and a float give a float)."""
        scalar = (td.IntType, td.FloatType)
        if kwargs or not all(isinstance(a, SSAValue) and isinstance(a.type, scalar) for a in args):
            raise self.error(
                e,
                f"unsupported: {fn.__name__}() of "
                f"({', '.join(describe(a) for a in args)}) (supported: int and float scalars)",
            )
        if fn is abs and len(args) == 1:
            (a,) = args
            neg = self.arith("lt", a, self.b.constant(0), e)
            return self.select_scalar(neg, self.e_neg(a, e), a, e)
        if fn in (min, max) and len(args) > 2:
            return self.reduce_scalars(fn, args, e)  # type: ignore[attr-defined]
        if len(args) != 2:
            raise self.error(e, f"unsupported: {fn.__name__}() of {len(args)} arguments")
        a, b = args
        if fn is divmod:
            if isinstance(a.type, td.FloatType) or isinstance(b.type, td.FloatType):
                return self.float_divmod(self.to_float(a, e), self.to_float(b, e), e)
            return PyTuple([self.arith("floordiv", a, b, e), self.arith("remainder", a, b, e)])
        if not (isinstance(a.type, td.IntType) and isinstance(b.type, td.IntType)):
            a, b = self.to_float(a, e), self.to_float(b, e)
        c = self.arith("lt" if fn is min else "gt", a, b, e)
        return self.select_scalar(c, a, b, e)

    def sum_builtin(self, v: Any, e: ast.AST) -> Any:
        """sum() of a list or tuple of ints or floats (known length: TorchScript's aten::sum.int
        and sum.float; an int and a float give a float)."""
        scalar = (td.IntType, td.FloatType)
        items = v.items if isinstance(v, (PyList, PyTuple)) else None
        if not items or not all(
            isinstance(x, SSAValue) and isinstance(x.type, scalar) for x in items
        ):
            # (an empty list: its element type, so sum's, is not known here)
            raise self.error(
                e, f"unsupported: sum() of a {describe(v)} (supported: a non-empty list of numbers)"
            )
        if any(isinstance(x.type, td.FloatType) for x in items):
            items = [self.to_float(x, e) for x in items]
        acc = items[0]
        for x in items[1:]:
            acc = self.arith("add", acc, x, e)
        return acc

    def e_neg(self, a: SSAValue, e: ast.AST) -> SSAValue:
        kind = "int" if isinstance(a.type, td.IntType) else "float"
        return self.scalar_op(f"aten.neg.{kind}", [a], e)

    def call_compiled_function(
        self,
        src: dict[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
        e: ast.AST,
        tag: str = "",
    ) -> Any:
        """A call of a compiled function, given as `GraphSource.graph_source()` gives it (`tag`
        names a variant of the function compiled for some argument kinds)."""
        entry = src["entry"]
        prefix = f"fn.{entry}{tag}"
        name = self.mc.import_graph(src["ir"], prefix, {}, src["spec"], entry=entry)
        tuple_params = src.get("tuple_params", {})
        return self.emit_call(
            name, src["arg_names"], src["defaults"], args, kwargs, e, tuple_params
        )

    def inplace_module_update(self, ref: ModRef, args: list[Any], result: Any, e: ast.AST) -> Any:
        """`self.relu(out)` with `nn.ReLU(inplace=True)`: torch updates `out` itself, so it is
        compiled as rebinding `out` to the result where no alias could see the difference, and
        refused (located) where one could. The module's own forward computes out of place."""
        m = ref.module
        if getattr(m, "inplace", False) is not True or not args or not isinstance(e, ast.Call):
            return result
        if not type(m).__module__.startswith("xjit.nn.") or "Dropout" in type(m).__name__:
            return result  # (dropout in eval returns its input: nothing to update)
        how = f"{type(m).__name__}(inplace=True)"
        arg = e.args[0] if e.args else None
        if isinstance(arg, ast.Name) and isinstance(args[0], SSAValue):
            return aliasing.rebind_update(self, {arg.id}, args[0], result, how, e)
        if isinstance(args[0], SSAValue):
            aliasing.update_refusal(self, args[0], set(), how, e)
        return result

    def call_module(
        self,
        ref: ModRef,
        args: list[Any],
        kwargs: dict[str, Any],
        e: ast.AST,
        method: str = "forward",
    ) -> Any:
        """A submodule's forward or a module's method (`self.helper(x)`): a private function
        compiled once per module path and method, called with `func.call`."""
        m = ref.module
        prefix = ref.path
        view = self.module_dict_view(ref, method, args, e)  # type: ignore[attr-defined]
        if view is not None:  # d.keys() / values() / items() of a ModuleDict
            return view
        compiled = isinstance(m, GraphSource) and m is not self.mc.root
        if compiled:
            # A legacy `ScriptModule` subclass has its source: without a generic graph
            # (compiled per call signature, e.g. for List parameters), or where calls are
            # compiled per argument types, it is compiled from its source like any submodule.
            own = getattr(type(m), method, None)
            legacy = inspect.isfunction(own) and not own.__module__.startswith("xjit.")
            generic = m.graph_source()["ir"] is not None
            if not generic and not legacy:
                raise self.error(
                    e,
                    f"unsupported: calling {type(m).__name__}, which has no generic graph (it is "
                    "compiled per call signature): script the parent module as a whole",
                )
            if legacy and (not generic or self.mc.typed_calls):
                compiled = False
        if compiled:  # ScriptModule, TracedModule
            # (the root is compiled from its source: a legacy `ScriptModule` subclass)
            if method != "forward":
                raise self.error(
                    e, f"unsupported: calling method '{method}' of an already compiled module"
                )
            cf = m.graph_source()
            g = m.__dict__.get("_generic")
            if getattr(g, "reads_training", False):
                self.mc.reads_training = True
            for p, a in getattr(g, "attr_reads", ()):
                self.mc.attr_reads.append((f"{prefix}.{p}" if p and prefix else p or prefix, a))
            name = self.mc.import_graph(cf["ir"], prefix, cf["params"], cf["spec"])
            arg_names, defaults = cf["arg_names"], cf["defaults"]
            tuple_params = cf.get("tuple_params", {})
        else:
            fn = getattr(type(m), method, None)
            if _defining_class(m, method).__module__ in UNSCRIPTED_NN:
                fn = scripted_transformer_method(m, method)
                if fn is None:
                    raise self.error(e, rnn_refusal(m))
            if type(m).__module__ == "xjit.nn.rnn":
                fn = scripted_rnn_forward(m) if method == "forward" else None
                if fn is None:
                    raise self.error(e, rnn_refusal(m))
            if fn is None or not inspect.isfunction(fn):
                raise self.error(e, f"module {type(m).__name__} has no method '{method}'")
            for flag, what in (("_xjit_ignore", "ignore"), ("_xjit_unused", "unused")):
                if getattr(fn, flag, False):
                    raise self.error(
                        e,
                        f"unsupported: calling {type(m).__name__}.{method}, marked "
                        f"@torch.jit.{what} (it stays Python, which compiled code cannot call; "
                        "keep the call under `if not torch.jit.is_scripting():`)",
                    )
            name = f"{prefix}.{method}" if prefix else method
            kinds = self.call_kinds(fn, args) if self.mc.typed_calls else None
            passed = self.passed_tuples(fn, args, kwargs)
            values = self.passed_values(fn, args, kwargs)
            if passed or values:  # tuples for Optional[Tuple[...]] / unannotated parameters
                # (a typed call's precise tensor types win over an Optional's plain Tensor)
                kinds = dict(sorted({**(passed or {}), **values, **(kinds or {})}.items()))
            if kinds:  # a variant of the method for these argument types
                variants = self.mc.typed_call_names
                name = f"{name}#{variants.setdefault((name, str(kinds)), len(variants) + 1)}"
            if name not in self.mc.funcs:
                if name in self.mc.in_progress:
                    raise self.error(e, "unsupported: recursive module calls")
                self.mc.in_progress.add(name)
                sub = type(self)(self.mc, fn, name, ref, kinds)
                try:
                    fop, arg_names, spec = sub.compile()
                except (NeedsArgTypes, NeedsCallTypes):
                    raise  # the root compiles again (compiler.py), for types or typed calls
                except FrontendError as err:
                    raise err.called_from(f"{type(m).__name__}.{method}", self.loc(e)) from None
                finally:
                    self.mc.in_progress.discard(name)
                fop.sym_visibility = StringAttr("private")
                fop.properties["sym_visibility"] = StringAttr("private")
                for a, n in zip(
                    fop.body.block.args,
                    arg_names if sub.flat_names is None else sub.flat_names,
                    strict=True,
                ):
                    a.name_hint = n
                self.mc.funcs[name] = fop
                self.mc.specs[name] = spec
                self.mc.arg_info = getattr(self.mc, "arg_info", {})
                self.mc.arg_info[name] = (arg_names, sub.defaults, sub.tuple_params)
            arg_names, defaults, tuple_params = self.mc.arg_info[name]  # type: ignore[attr-defined]
        return self.emit_call(name, arg_names, defaults, args, kwargs, e, tuple_params)

    def constant_ints(self, fn: Any, args: list[Any]) -> dict[str, Any]:
        """`("int", v)` kinds for the int constants passed positionally to `fn`'s int-annotated
        parameters: the callee variant has them as constants (compiler.py `int_values`)."""
        params = inspect.signature(fn).parameters
        out: dict[str, Any] = {}
        for (name, p), a in zip(params.items(), args, strict=False):
            if p.annotation not in (int, "int") or not isinstance(a, SSAValue):
                continue
            v = td._meta_or_const(a)
            if type(v) is int:
                out[name] = ("int", v)
        return out

    def call_kinds(self, fn: Any, args: list[Any], method: bool = True) -> dict[str, Any] | None:
        """The types of the ranked tensors passed positionally to `fn` (after `self` for a
        method), by parameter name: the callee is compiled for them, so its results have static
        types."""
        params = list(inspect.signature(fn).parameters)[1 if method else 0 :]
        kinds: dict[str, Any] = {}

        def add(name: str, a: Any) -> None:
            if isinstance(a, PyTuple):  # a Tuple[...] parameter's leaves: `state.0`, ...
                for k, x in enumerate(a.items):
                    add(f"{name}.{k}", x)
            elif (
                isinstance(a, SSAValue)
                and isinstance(a.type, td.ValueTensorType)
                and a.type.meta.shape is not None
            ):
                kinds[name] = a.type

        for p, a in zip(params, args, strict=False):
            add(p, a)
        return dict(sorted(kinds.items())) or None

    def passed_values(self, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The kinds a call gives a method of xjit/nn/transformer_scripted.py: `("value", v)`
        for the bool arguments known while compiling of its `per_value` parameters
        (xjit/nn/script_marks.py), compiled as constants, and the types of the tensors passed
        for its `Optional[Tensor] = None` parameters (a mask: its dtype decides how it
        applies), as the root's kinds give them."""
        per_value = getattr(fn, "__xjit_per_value__", ())
        ours = getattr(fn, "__module__", "") == transformer_scripted.__name__
        if not per_value and not ours:
            return {}
        params = inspect.signature(fn).parameters
        names = list(params)[1:]
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        out: dict[str, Any] = {}
        for n in per_value:
            v = const_of(given[n]) if n in given else UNKNOWN
            if isinstance(v, bool):
                out[n] = ("value", v)
        for n, v in given.items():
            if (
                ours
                and n in params
                and params[n].default is None
                and isinstance(v, SSAValue)
                and isinstance(v.type, td.ValueTensorType)
            ):
                out[n] = v.type
        return out

    def passed_tuples(
        self, fn: Any, args: list[Any], kwargs: dict[str, Any], method: bool = True
    ) -> dict[str, Any] | None:
        """`("tuple", structure)` by parameter name for each tuple passed to an `Optional[Tuple
        [...]]` or unannotated parameter of `fn` (a method: after `self`): the callee is
        compiled taking it as a tuple. A list passed to an `Optional[Tuple[...]]` parameter
        (`output_size=[h, w]`, torch's `Optional[List[int]]`) becomes a tuple in `args`/`kwargs`
        of its own length (the kind's third item says so)."""
        params = list(inspect.signature(fn).parameters.values())[1 if method else 0 :]
        out: dict[str, Any] = {}
        for k, p in enumerate(params):
            where: Any = args if k < len(args) else kwargs
            key: Any = k if k < len(args) else p.name
            v = where.get(key) if where is kwargs else where[key]
            if not isinstance(v, (PyTuple, PyList, PyDict)):
                passed = where is args or key in kwargs
                kind = _optional_kind(fn, p, v) if passed else None
                if kind is not None:
                    out[p.name] = kind
                continue
            try:
                t = resolve_annotation(p.annotation, getattr(fn, "__globals__", {}))
            except Exception:  # noqa: BLE001  (the callee's compile reports it, located)
                continue
            optional = isinstance(t, tuple) and t[0] == "optional"
            if has_container(t) and holds_container(v):  # a List/Dict parameter (compiler.py)
                out[p.name] = ("container", value_structure(v))
            elif isinstance(v, PyList) and optional and isinstance(t[1], tuple):
                v = where[key] = PyTuple(list(v.items))
                out[p.name] = ("tuple", _structure_of(v), "list")
            elif isinstance(v, PyTuple) and (t is None or optional):
                out[p.name] = ("tuple", _structure_of(v))
        return out or None

    def emit_call(
        self,
        name: str,
        arg_names: Sequence[str],
        defaults: dict[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
        e: ast.AST,
        tuple_params: dict[str, Any] | None = None,
    ) -> Any:
        callee = self.mc.funcs[name]
        ptypes = list(callee.function_type.inputs.data)
        if len(args) > len(arg_names):
            raise self.error(e, f"{name} takes {len(arg_names)} arguments, got {len(args)}")
        vals: list[Any] = list(args)
        for n in arg_names[len(args) :]:
            if n in kwargs:
                vals.append(kwargs.pop(n))
            elif n in defaults:
                vals.append(self.python_value(defaults[n], e))
            else:
                raise self.error(e, f"{name}: missing argument '{n}'")
        if kwargs:
            raise self.error(e, f"{name}: unexpected keyword argument '{next(iter(kwargs))}'")
        if tuple_params:  # a Tuple[...] parameter takes its leaves
            flat = flatten_tuple_args(list(arg_names), tuple_params, vals)
            if isinstance(flat, str):
                raise self.error(e, f"{name}: argument {flat}")
            flat_names = [
                f"{n}[{k}]" if n in tuple_params else n
                for n in arg_names
                for k in range(_n_leaves(tuple_params.get(n)))
            ]
            arg_names, vals = flat_names, flat
        operands = []
        for n, v, t in zip(arg_names, vals, ptypes, strict=True):
            if isinstance(v, PyObj) and isinstance(v.obj, str) and isinstance(t, td.StrType):
                v = self.b.constant(v.obj)  # (the callee was compiled for this value)
            if not isinstance(v, SSAValue):
                raise self.error(
                    e,
                    f"argument '{n}' of {name}: a {describe(v)} cannot be passed "
                    f"(expected {type_name(t)})",
                )
            if v.type != t:
                if (
                    isinstance(v.type, td.ValueTensorType)
                    and isinstance(t, td.ValueTensorType)
                    and td.types_compatible(v.type, t)
                ):
                    v = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
                else:
                    raise self.error(
                        e, f"type clash: argument '{n}' of {name} expects {t}, got {v.type}"
                    )
            operands.append(v)
        rtypes = list(callee.function_type.outputs.data)
        call = self.b.insert(func.CallOp(name, operands, rtypes))
        spec = self.mc.specs[name]
        # an Optional as an OptVal, a str chosen at run time as a StrChoice
        result, _ = rebuild_results(spec, list(call.results), str_choice.rebuild_call)
        return self.none_leaves(to_compile_time(result))

    def none_leaves(self, v: Any) -> Any:
        """A returned structure's None leaves (an Optional result) as None constants."""
        if v is None:
            return self.b.constant(None)
        if isinstance(v, (PyTuple, PyList)):
            v.items = [self.none_leaves(x) for x in v.items]
        return v


def _structure_of(v: Any) -> Any:
    """A compile-time tuple's nesting: nested tuples whose leaves are None (a tensor, or
    unknown) or the name of a scalar leaf's type ("int", "float", "bool")."""
    if isinstance(v, PyTuple):
        return tuple(_structure_of(x) for x in v.items)
    if isinstance(v, SSAValue):
        return _SCALAR_NAMES.get(type(v.type))
    if isinstance(v, PyObj) and type(v.obj) in (bool, int, float):
        return type(v.obj).__name__
    return None


_SCALAR_NAMES = {td.IntType: "int", td.FloatType: "float", td.BoolType: "bool"}


def _n_leaves(structure: Any) -> int:
    if structure is None:
        return 1
    items = structure.values() if isinstance(structure, dict) else structure
    return sum(_n_leaves(s) for s in items)


# xjit.nn modules whose eager methods are not in the scriptable subset (argument checks
# with `raise`, torch's fused fast paths): their forward scripts as
# xjit/nn/transformer_scripted.py (as the recurrent layers' do as xjit/nn/rnn_scripted.py),
# any other method is refused by name
UNSCRIPTED_NN = ("xjit.nn.transformer",)


def _defining_class(m: Module, method: str) -> type:
    """The class whose body defines `method` for `m` (a subclass that does not override
    forward runs its base's)."""
    return next((c for c in type(m).__mro__ if method in c.__dict__), type(m))


def scripted_transformer_method(m: Module, method: str) -> Any:
    """The function scripted for `method` of an xjit.nn.transformer module (or of a subclass
    that does not override it), or None."""
    owner = _defining_class(m, method)
    if method != "forward" or owner.__module__ not in UNSCRIPTED_NN:
        return None
    return transformer_scripted.SCRIPTED_FORWARD.get(owner.__name__)


def scripted_rnn_forward(m: Module) -> Any:
    """The forward scripted for an xjit.nn recurrent layer (xjit/nn/rnn_scripted.py), or None."""
    return SCRIPTED_FORWARD.get(type(m).__name__)


def rnn_refusal(m: Module) -> str:
    """Why this xjit.nn recurrent or attention layer does not script, and what to do instead."""
    name = type(m).__name__
    if any(c.__module__ in UNSCRIPTED_NN for c in type(m).__mro__):  # (or a subclass)
        return (
            f"unsupported: scripting nn.{name} methods other than forward (forward scripts as "
            "xjit/nn/transformer_scripted.py); trace it instead (xjit.jit.trace(model, example))"
        )
    return (
        f"unsupported: scripting nn.{name} methods other than forward (forward scripts as "
        "xjit/nn/rnn_scripted.py); trace it instead (xjit.jit.trace(model, example))"
    )


def passed_scalars(fn: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """By parameter name, for a call of the plain function `fn`: `("str", value)` for each str
    known while compiling that it passes (or leaves at a str default), as a str parameter is
    compiled per value (compiler.py `str_argument`); and the type of an int/float/bool/None
    passed to (or defaulted at) an `Any` parameter, which TorchScript's `Any` accepts."""
    out: dict[str, Any] = {}
    for k, p in enumerate(inspect.signature(fn).parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        given = k < len(args) or p.name in kwargs
        v = (args[k] if k < len(args) else kwargs[p.name]) if given else p.default
        c = const_of(v) if given else v
        if isinstance(c, str) and c is not inspect.Parameter.empty:
            out[p.name] = ("str", c)
        elif p.annotation in (Any, "Any"):
            if c is None:
                out[p.name] = td.NoneType()
            elif isinstance(v, SSAValue) and type(v.type) in _SCALAR_NAMES:
                out[p.name] = v.type
    return out


def _python_str(v: Any) -> Any:
    """A string literal (`approximate='tanh'`) as the Python string an op wrapper checks."""
    return v.obj if isinstance(v, PyObj) and isinstance(v.obj, str) else v
