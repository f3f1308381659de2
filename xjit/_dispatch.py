"""Eager dispatch: resolve a Python call to a registry op, run its numpy semantics, and let an
active tracer record it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from xjit.ops.registry import OpDef, overloads
from xjit.ops.schema import Arg, Schema
from xjit.ops.types import DType


class Recorder(Protocol):
    def record(self, op: OpDef, args: list[Any], result: Any) -> None: ...


# The innermost active tracer; None in plain eager mode (the only cost tracing adds to eager).
_recorders: list[Recorder] = []


def push_recorder(r: Recorder) -> None:
    _recorders.append(r)


def pop_recorder() -> None:
    _recorders.pop()


def current_recorder() -> Recorder | None:
    return _recorders[-1] if _recorders else None


_NO = object()


class _NoTensorClass:
    """Stands for the tensor class until it is registered: nothing is an instance of it."""


# The eager tensor class. xjit/_tensor.py builds Tensor's operators on `call` below, so it
# imports this module and registers the class here when it is defined (`set_tensor_class`):
# this module does not import it back (no import cycle).
Tensor: type = _NoTensorClass


def set_tensor_class(cls: type) -> None:
    global Tensor
    Tensor = cls


def _is_eager_tensor(v: Any) -> bool:
    return isinstance(v, Tensor)


def _accepts(arg: Arg, v: Any, is_tensor: Callable[[Any], bool]) -> bool:
    t = arg.type
    if v is None:
        return arg.optional
    base = t.rstrip("?")
    if base == "Tensor":
        return is_tensor(v)
    if base == "Scalar":
        return isinstance(v, (int, float, bool))
    if base == "int":
        return isinstance(v, int)
    if base == "float":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if base == "bool":
        return isinstance(v, bool)
    if base == "int[]":
        return isinstance(v, int) or (
            isinstance(v, (list, tuple)) and all(isinstance(x, int) for x in v)
        )
    if base == "ScalarType":
        return isinstance(v, DType)
    if base == "Tensor[]":
        return isinstance(v, (list, tuple)) and all(is_tensor(x) for x in v)
    return isinstance(v, str)


def _int_as_list(value: Any) -> Any:
    return [value] if isinstance(value, int) else value


def bind(
    schema: Schema,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    is_tensor: Callable[[Any], bool] = _is_eager_tensor,
    accepts: Callable[[Arg, Any], bool] | None = None,
    int_as_list: Callable[[Any], Any] = _int_as_list,
) -> list[Any] | None:
    """The arguments in schema order with defaults filled in, or None if they don't fit, as
    torch binds them. The one binder of xjit: eager dispatch binds Python values (tensors are
    what `is_tensor` accepts); the script frontend binds compile-time values with its own
    `accepts` (does a value fit an argument) and `int_as_list` (a single int given for an
    `int[]`, as a list). Defaults are taken as they are (they fit their arguments)."""
    fits = accepts or (lambda arg, value: _accepts(arg, value, is_tensor))
    out: list[Any] = []
    pos = list(args)
    used = 0
    for a in schema.args:
        if not a.kwarg_only and pos:
            v = pos.pop(0)
        elif a.name in kwargs:
            v = kwargs[a.name]
            used += 1
        elif a.has_default:
            out.append(a.default)
            continue
        else:
            return None
        if not fits(a, v):
            return None
        out.append(int_as_list(v) if a.type.startswith("int[]") else v)
    if pos or used != len(kwargs):
        return None
    return out


def resolve(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[OpDef, list[Any]]:
    for op in overloads(name):
        bound = bind(op.schema, args, kwargs)
        if bound is not None:
            return op, bound
    sigs = "\n  ".join(str(op.schema) for op in overloads(name))
    got = ", ".join(
        [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    )
    raise TypeError(
        f"{name}() received an invalid combination of arguments ({got}); expected one of:\n  {sigs}"
    )


# The tracer's traced int (frontends/trace.py TracedInt): eager ops get its value.
traced_int: type | None = None


def _unwrap(v: Any) -> Any:
    if isinstance(v, Tensor):
        return v._a
    if isinstance(v, (list, tuple)) and v:
        if isinstance(v[0], Tensor):
            return [x._a for x in v]
        if traced_int is not None and any(type(x) is traced_int for x in v):
            return [x.value if type(x) is traced_int else x for x in v]
    if type(v) is traced_int:
        return v.value
    return v


def _wrap(v: Any) -> Any:
    if isinstance(v, tuple):
        out = tuple(_wrap(x) for x in v)
        # named results (torch.return_types.sort: `.values`, `.indices`) keep their names
        return type(v)(*out) if hasattr(v, "_fields") else out
    return Tensor(v if isinstance(v, np.ndarray) else np.asarray(v))


def _slow_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    op, bound = resolve(name, args, kwargs)
    assert op.eager is not None, f"{op.name} has no eager implementation"
    result = _wrap(op.eager(*[_unwrap(v) for v in bound]))
    if _recorders:
        _recorders[-1].record(op, bound, result)
    return result


# -- the per-call fast path ----------------------------------------------------------------------
# Which overload a call resolves to, and how its arguments bind, depend only on the arguments'
# types when none is a list or tuple (bind's checks are isinstance tests; only containers need
# their contents looked at). So the resolution is cached per (name, argument types, keyword
# names): a plan that rebuilds `bound` by position and fills defaults, without binding again.
# Containers and traced ints take the general path.

# A plan: the op, the overload list and its length when cached (a later registration of an
# overload of the same name invalidates it), and per schema argument (source, tensor?, int[]?)
# where source is a positional index, a keyword name (str), or _Default(value).
_Plan = tuple[OpDef, list[OpDef], int, tuple[tuple[Any, bool, bool], ...]]
_plans: dict[tuple[Any, ...], _Plan] = {}
_UNCACHED = frozenset({list, tuple})


class _Default:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    kinds = tuple(map(type, args))
    key = (name, *kinds, *((k, type(v)) for k, v in kwargs.items())) if kwargs else (name, *kinds)
    plan = _plans.get(key)
    if plan is None or len(plan[1]) != plan[2]:
        types = set(kinds).union(type(v) for v in kwargs.values())
        if types & _UNCACHED or (traced_int is not None and traced_int in types):
            return _slow_call(name, args, kwargs)
        op, _ = resolve(name, args, kwargs)  # raises for arguments no overload accepts
        ol = overloads(name)
        plan = _plans[key] = (op, ol, len(ol), _steps(op, kinds, args, kwargs))
    op = plan[0]
    bound: list[Any] = []
    unwrapped: list[Any] = []
    for src, is_tensor, int_list in plan[3]:
        if type(src) is int:
            v = args[src]
        elif type(src) is str:
            v = kwargs[src]
        else:
            v = src.value
        if int_list and isinstance(v, int):
            v = [v]
        bound.append(v)
        unwrapped.append(v._a if is_tensor else v)
    assert op.eager is not None, f"{op.name} has no eager implementation"
    out = op.eager(*unwrapped)
    result = Tensor(out) if type(out) is np.ndarray else _wrap(out)
    if _recorders:
        _recorders[-1].record(op, bound, result)
    return result


def _steps(
    op: OpDef, kinds: tuple[type, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, bool, bool], ...]:
    """How `bind` placed these arguments (by position, keyword or default), once per key."""
    steps: list[tuple[Any, bool, bool]] = []
    i = 0
    for a in op.schema.args:
        if not a.kwarg_only and i < len(args):
            src: Any = i
            kind: type = kinds[i]
            i += 1
        elif a.name in kwargs:
            src, kind = a.name, type(kwargs[a.name])
        else:
            steps.append((_Default(a.default), False, False))
            continue
        steps.append((src, issubclass(kind, Tensor), a.type.startswith("int[]")))
    return tuple(steps)
