"""Compile-time values of the script frontend (tuples, lists, submodules, Python objects) and
the script types they carry: type names for messages, the join of two types, annotations as
torch types."""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from xdsl.ir import Attribute, SSAValue

from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.nn.module import Module

TENSOR = td.ValueTensorType.of(None, None)


# -- compile-time values ------------------------------------------------------------------------


@dataclass
class PyTuple:
    items: list[Any]
    # the field names of a named tuple (torch.return_types.sort: `.values`, `.indices`)
    names: tuple[str, ...] | None = field(default=None, compare=False)
    named_class: Any = field(default=None, compare=False)  # a user NamedTuple's class


@dataclass
class PyList:
    items: list[Any]
    depth: int = 0  # the control-flow region depth it was created at (lists.py)


@dataclass
class PyDict:
    """`Dict[str, T]` / `Dict[int, T]` with keys known while compiling (dicts.py)."""

    items: dict[Any, Any]  # compile-time key -> value, in insertion order
    depth: int = 0  # the control-flow region depth it was created at (as PyList's)


@dataclass
class OptVal:
    """An `Optional[T]` whose None-ness is decided at run time (optionals.py): `present` (a
    `!torch.bool`) says whether it holds a value, `payload` is the value when it does and a
    placeholder of the same type (never read) when it does not."""

    present: SSAValue
    payload: SSAValue


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
    return {
        td.IntType: "int",
        td.FloatType: "float",
        td.BoolType: "bool",
        td.NoneType: "None",
        td.StrType: "str",
    }.get(type(t), str(t))


@dataclass(frozen=True)
class EnumeratedTensor:
    """enumerate(x) of a tensor: a `for` over it loops over x's first dim, with the index."""

    tensor: SSAValue
    start: int


def describe(v: Any) -> str:
    if isinstance(v, SSAValue):
        return type_name(v.type)
    if isinstance(v, PyTuple):
        return "Tuple[" + ", ".join(describe(x) for x in v.items) + "]"
    if isinstance(v, PyList):
        return "List[" + ", ".join(describe(x) for x in v.items) + "]"
    if isinstance(v, PyDict):
        keys = {type(k).__name__ for k in v.items} or {"str"}
        vals = {describe(x) for x in v.items.values()} or {"Tensor"}
        return f"Dict[{' | '.join(sorted(keys))}, {' | '.join(sorted(vals))}]"
    if isinstance(v, OptVal):
        return f"Optional[{type_name(v.payload.type)}]"
    if isinstance(v, ModRef):
        return f"module {type(v.module).__name__}"
    if isinstance(v, PyObj) and isinstance(v.obj, tuple) and v.obj[:1] == ("method",):
        return f"method '{v.obj[2]}' (not called)"  # `x.attr` of an attribute script lacks
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
        ann = {"Tensor": Tensor, "int": int, "float": float, "bool": bool, "str": str}.get(ann, ann)
    if ann is Tensor:
        return TENSOR
    if ann is int:
        return td.IntType()
    if ann is float:
        return td.FloatType()
    if ann is bool:
        return td.BoolType()
    if ann is str:  # a constant once a call specialises it (script_api compiles per value)
        return td.StrType()
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        return ("optional", annotation_type(inner))
    if origin is tuple:
        return ("tuple", [annotation_type(a) for a in args])
    # containers: compiled per call on their length / key set (see container_leaves)
    if origin is list and len(args) == 1:
        return ("list", annotation_type(args[0]))
    if origin is dict and len(args) == 2 and args[0] in (str, int):
        return ("dict", args[0], annotation_type(args[1]))
    if origin is dict or ann is dict:
        raise TypeError(f"unsupported annotation {ann!r}: Dict keys must be str or int")
    raise TypeError(f"unsupported annotation {ann!r}")


def annotation_name(t: Any) -> str:
    """An annotation (as `annotation_type` gives it) spelled as in the source, for messages."""
    if t is None:
        return "Tensor"
    if isinstance(t, tuple):
        if t[0] == "list":
            return f"List[{annotation_name(t[1])}]"
        if t[0] == "dict":
            return f"Dict[{t[1].__name__}, {annotation_name(t[2])}]"
        if t[0] == "optional":
            return f"Optional[{annotation_name(t[1])}]"
        return "Tuple[" + ", ".join(annotation_name(x) for x in t[1]) + "]"
    return type_name(t)


def has_container(t: Any) -> bool:
    """An annotation (as `annotation_type` gives it) holding a List or Dict somewhere."""
    if isinstance(t, tuple):
        if t[0] in ("list", "dict"):
            return True
        inner = t[1] if t[0] in ("tuple", "optional") else []
        return any(has_container(x) for x in (inner if t[0] == "tuple" else [inner]))
    return False


def value_structure(v: Any) -> Any:
    """A container argument's nesting, as its own container types: lists, tuples and dicts
    (insertion order) of structures, with None (a tensor or other value) or a scalar's type
    name at the leaves. A call compiles once per structure: a list's length and a dict's keys
    are part of it, the element values are not."""
    if isinstance(v, (list, PyList)):
        return [value_structure(x) for x in (v.items if isinstance(v, PyList) else v)]
    if isinstance(v, (tuple, PyTuple)):
        return tuple(value_structure(x) for x in (v.items if isinstance(v, PyTuple) else v))
    if isinstance(v, (dict, PyDict)):
        items = v.items if isinstance(v, PyDict) else v
        return {k: value_structure(x) for k, x in items.items()}
    if isinstance(v, SSAValue):
        return _SCALAR_NAMES.get(type(v.type))
    if isinstance(v, PyObj):
        v = v.obj
    if type(v) in (bool, int, float, str):
        return type(v).__name__
    return None


_SCALAR_NAMES = {td.IntType: "int", td.FloatType: "float", td.BoolType: "bool"}


def holds_container(v: Any) -> bool:
    """A list or dict, or a tuple holding one (compiled per `value_structure`)."""
    if isinstance(v, (list, dict, PyList, PyDict)):
        return True
    if isinstance(v, (tuple, PyTuple)):
        return any(holds_container(x) for x in (v.items if isinstance(v, PyTuple) else v))
    return False


def resolve_annotation(ann: Any, globals_: dict[str, Any]) -> Any:
    """`annotation_type` of an annotation that may be a string (`from __future__ import
    annotations`), resolved as the compiler resolves a parameter's."""
    if isinstance(ann, str):
        ns = {
            "Optional": typing.Optional,
            "Tuple": tuple,
            "List": list,
            "Any": typing.Any,
            "Tensor": Tensor,
            **globals_,
        }
        ann = eval(ann, ns)  # noqa: S307  (an annotation of the user's own code)
    return annotation_type(ann)


def to_compile_time(v: Any) -> Any:
    if isinstance(v, tuple):
        return PyTuple([to_compile_time(x) for x in v])
    if isinstance(v, list):
        return PyList([to_compile_time(x) for x in v])
    if isinstance(v, dict):
        return PyDict({k: to_compile_time(x) for k, x in v.items()})
    return v


def flatten_tuple_args(
    names: list[str], tuple_params: dict[str, Any], vals: list[Any]
) -> list[Any] | str:
    """Per-parameter values to per-block-argument values (a tuple parameter's leaves in
    order); a message naming the parameter when a tuple does not have its structure."""
    out: list[Any] = []

    def leaves(s: Any, v: Any, where: str) -> str | None:
        if s is None or isinstance(s, str):
            out.append(v)
            return None
        if isinstance(s, dict):  # a Dict[...] parameter: compiled for this key set
            d = v.items if isinstance(v, PyDict) else v if isinstance(v, dict) else None
            if d is None or list(d) != list(s):
                return f"'{where}' must be a dict with the keys {list(s)!r}"
            for k in s:
                err = leaves(s[k], d[k], f"{where}[{k!r}]")
                if err:
                    return err
            return None
        if isinstance(s, list):  # a List[...] parameter: compiled for this length
            items = v.items if isinstance(v, PyList) else v if isinstance(v, list) else None
            if items is None or len(items) != len(s):
                return f"'{where}' must be a list of {len(s)} items"
            for k, (si, vi) in enumerate(zip(s, items, strict=True)):
                err = leaves(si, vi, f"{where}[{k}]")
                if err:
                    return err
            return None
        items = v.items if isinstance(v, PyTuple) else v if isinstance(v, tuple) else None
        if items is None or len(items) != len(s):
            return f"'{where}' must be a tuple of {len(s)} items"
        for k, (si, vi) in enumerate(zip(s, items, strict=True)):
            err = leaves(si, vi, f"{where}[{k}]")
            if err:
                return err
        return None

    for n, v in zip(names, vals, strict=True):
        err = leaves(tuple_params.get(n), v, n)
        if err:
            return err
    return out
