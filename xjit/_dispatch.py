"""Eager dispatch: resolve a Python call to a registry op, run its numpy semantics, and let an
active tracer record it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from xjit.ops.eager_kernels import ERRSTATE, IGNORE, silence, unsilence
from xjit.ops.registry import OpDef, overloads
from xjit.ops.schema import Arg, Schema
from xjit.ops.types import DType, ShapeError


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


def static_int(v: Any, how: str) -> int:
    """`v` as a Python int. A traced size is frozen once here (one TracerWarning saying `how`
    it was used, and a guard), rather than at each comparison library code makes with it."""
    if traced_int is not None and type(v) is traced_int:
        return v._freeze(how)  # type: ignore[no-any-return]
    return int(v)


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
    return _result(v if isinstance(v, np.ndarray) else np.asarray(v))


def _result(a: np.ndarray) -> Any:
    """The Tensor of a kernel's result array. Not `Tensor(a)`, which takes a numpy user's array
    (and marks its memory exposed, xjit/_versions.py): a result is xjit's own, or a view of a
    tensor's memory."""
    t = object.__new__(Tensor)
    t._a = a
    return t


def broadcast_error(exc: ValueError, values: list[Any]) -> Exception:
    """A kernel's ValueError as torch raises it: numpy's broadcast failure becomes torch's
    RuntimeError naming the mismatched dimension; any other ValueError stays as it is."""
    if isinstance(exc, ShapeError) or "broadcast" not in str(exc):
        return exc
    shapes = [v.shape for v in values if isinstance(v, np.ndarray)]
    for i, a in enumerate(shapes):
        for b in shapes[i + 1 :]:
            for d in range(1, min(len(a), len(b)) + 1):
                if a[-d] != b[-d] and 1 not in (a[-d], b[-d]):
                    return ShapeError(
                        f"The size of tensor a ({a[-d]}) must match the size of tensor b "
                        f"({b[-d]}) at non-singleton dimension {max(len(a), len(b)) - d}"
                    )
    return ShapeError(str(exc))


def _slow_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    op, bound = resolve(name, args, kwargs)
    assert op.eager is not None, f"{op.name} has no eager implementation"
    values = [_unwrap(v) for v in bound]
    try:
        result = _wrap(op.eager(*values))
    except ValueError as exc:
        raise broadcast_error(exc, values) from None
    if _recorders:
        _recorders[-1].record(op, bound, result)
    return result


# -- the per-call fast path ----------------------------------------------------------------------
# Which overload a call resolves to, and how its arguments bind, depend only on the arguments'
# types when none is a list or tuple (bind's checks are isinstance tests; only containers need
# their contents looked at). So the resolution is done once per (name, argument types, keyword
# names) and the call compiled into a *runner*: a small generated function that unwraps exactly
# the tensor arguments, fills the defaults as constants, calls the eager kernel and wraps the
# result, and records the call (with the bound arguments, as `_slow_call`) while tracing.
# Containers and traced ints take the general path. Overloads are only ever appended to the
# registry, and a call that resolved keeps resolving to the same (first fitting) overload, so a
# runner stays valid.
#
# Elementwise ops go one step further (xjit/ops/eager_kernels.py): their kernel is looked up by
# the arrays' (dtype, 0-d?) pairs, so the dtype rule, the casts and -- for a body that is a
# single ufunc -- the body itself are resolved once per signature.

_Runner = Callable[..., Any]
_runners: dict[tuple[Any, ...], _Runner] = {}
_UNCACHED = frozenset({list, tuple})
_NUMBERS = (bool, int, float)


class _Default:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    if kwargs:
        key: tuple[Any, ...] = (name, *map(type, args), *((k, type(v)) for k, v in kwargs.items()))
        run = _runners.get(key)
        if run is None:
            run = _new_runner(key, name, args, kwargs)
            if run is None:
                return _slow_call(name, args, kwargs)
        return run(*args, **kwargs)
    run = _runners.get((name, *map(type, args)))
    if run is None:
        run = _new_runner((name, *map(type, args)), name, args, {})
        if run is None:
            return _slow_call(name, args, {})
    return run(*args)


def method(name: str) -> Callable[[Any, Any], Any]:
    """A binary Tensor operator (`__add__ = method("add")`): `call(name, self, other)`, with the
    runner looked up by `type(other)` alone (self is a Tensor, so it binds alike whatever its
    class). Once called with a plain Tensor `other`, the operator replaces itself on the class by
    that runner behind a type guard (one frame less for the most common call; any other `other`
    goes through this function)."""
    by_other: dict[type, _Runner] = {}

    def op(self: Any, other: Any) -> Any:
        run = by_other.get(type(other))
        if run is None:
            key = (name, type(self), type(other))
            run = _runners.get(key) or _new_runner(key, name, (self, other), {})
            if run is None:
                return _slow_call(name, (self, other), {})
            by_other[type(other)] = run
            if type(other) is Tensor:
                _install_guarded(op, name, (self, other))
        return run(self, other)

    op.__name__ = op.__qualname__ = f"__{name}__"
    return op


def _install_guarded(op: Callable[..., Any], name: str, args: tuple[Any, Any]) -> None:
    """Put the (Tensor, Tensor) runner of `op` on the Tensor class in `op`'s place(s)."""
    resolved, _ = resolve(name, args, {})
    steps = _steps(resolved, tuple(map(type, args)), args, {})
    fused = _compile_runner(resolved, steps, 2, {}, guard=op)
    for attr, value in list(vars(Tensor).items()):
        if value is op:
            setattr(Tensor, attr, fused)


def _new_runner(
    key: tuple[Any, ...], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> _Runner | None:
    """Resolve once and compile the runner for this key; None for calls that need the general
    path (containers, traced ints). Raises for arguments no overload accepts."""
    types = set(map(type, args)).union(type(v) for v in kwargs.values())
    if types & _UNCACHED or (traced_int is not None and traced_int in types):
        return None
    op, _ = resolve(name, args, kwargs)
    assert op.eager is not None, f"{op.name} has no eager implementation"
    run = _compile_runner(op, _steps(op, tuple(map(type, args)), args, kwargs), len(args), kwargs)
    _runners[key] = run
    return run


def _steps(
    op: OpDef, kinds: tuple[type, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[Any, type, bool]]:
    """How `bind` placed these arguments: per schema argument (source, its type, int[]?) where
    source is a positional index, a keyword name or _Default(value)."""
    steps: list[tuple[Any, type, bool]] = []
    i = 0
    for a in op.schema.args:
        if not a.kwarg_only and i < len(args):
            steps.append((i, kinds[i], a.type.startswith("int[]")))
            i += 1
        elif a.name in kwargs:
            steps.append((a.name, type(kwargs[a.name]), a.type.startswith("int[]")))
        else:
            steps.append((_Default(a.default), type(a.default), False))
    return steps


def _compile_runner(
    op: OpDef,
    steps: list[tuple[Any, type, bool]],
    n_args: int,
    kwargs: dict[str, Any],
    guard: Callable[..., Any] | None = None,
) -> _Runner:
    """Generate the runner's source (one line per argument, no loops at call time). With a
    `guard`, a binary operator: calls whose second argument is not a plain Tensor go to it."""
    env: dict[str, Any] = {
        "guard": guard,
        "op": op,
        "eager": op.eager,
        "Tensor": Tensor,
        "ndarray": np.ndarray,
        "wrap": _wrap,
        "new": object.__new__,
        "recorders": _recorders,
    }
    params = [f"a{i}" for i in range(n_args)] + (["**kw"] if kwargs else [])
    lines = ["    if type(a1) is not Tensor:", "        return guard(a0, a1)"] if guard else []
    bound: list[str] = []
    values: list[str] = []  # what the kernel gets, per schema argument
    sig: list[tuple[Any, ...]] = []
    for j, (src, kind, int_list) in enumerate(steps):
        if type(src) is _Default:
            env[f"d{j}"] = src.value
            expr = f"d{j}"
            sig.append(("c", src.value))
        else:
            expr = f"a{src}" if type(src) is int else f"kw[{src!r}]"
            if int_list and issubclass(kind, int):
                lines.append(f"    l{j} = [{expr}]")  # a single int given for an int[]
                expr = f"l{j}"
                sig.append(("x",))
            elif issubclass(kind, Tensor):
                sig.append(("t",))
            elif kind in _NUMBERS:
                sig.append(("s", kind))
            elif kind is type(None):
                sig.append(("c", None))
            else:
                sig.append(("x",))
        bound.append(expr)
        values.append(f"{expr}._a" if issubclass(kind, Tensor) else expr)
    kernel = _elementwise_kernel(op, sig)
    env["broadcast_error"] = broadcast_error
    arrays = ", ".join(v for v, s in zip(values, sig) if s[0] == "t")
    # numpy's broadcast ValueError is torch's RuntimeError (a try costs nothing until it raises)
    body = (
        [f"    out = eager({', '.join(values)})"]
        if kernel is None
        else _kernel_lines(env, kernel, values, sig)
    )
    lines += ["    try:", *("    " + line for line in body), "    except ValueError as exc:"]
    lines.append(f"        raise broadcast_error(exc, [{arrays}]) from None")
    # A result is wrapped without Tensor.__init__ (which takes numpy users' arrays).
    if kernel is None:
        lines.append("    if type(out) is ndarray:")
        lines.append("        r = new(Tensor); r._a = out")
        lines.append("    else:")
        lines.append("        r = wrap(out)")
    else:  # the kernel's result is an ndarray of the result dtype
        lines.append("    r = new(Tensor); r._a = out")
    lines += [
        "    if recorders:",
        f"        recorders[-1].record(op, [{', '.join(bound)}], r)",
        "    return r",
    ]
    head = f"def run({', '.join(params)}):"
    src = "\n".join([head, *lines])
    # Named after this file: the tracer locates a recorded op at the first frame outside xjit.
    exec(compile(src, __file__, "exec"), env)  # noqa: S102 - our own generated source
    return env["run"]  # type: ignore[no-any-return]


def _kernel_lines(
    env: dict[str, Any], kernel: Any, values: list[str], sig: list[tuple[Any, ...]]
) -> list[str]:
    """The runner's lines that call an elementwise kernel: look it up by the arrays' dtypes and
    0-d-ness, call it with floating-point warnings off, convert to the result dtype."""
    env["kernels"], env["build"] = kernel.kernels, kernel.build
    env["asarray"], env["IGNORE"] = np.asarray, IGNORE
    env["silence"], env["unsilence"] = silence, unsilence
    if ERRSTATE is not None:
        env["errstate_set"], env["errstate_reset"] = ERRSTATE.set, ERRSTATE.reset
    names = {v: f"x{i}" for i, (v, s) in enumerate(zip(values, sig)) if s[0] == "t"}
    key = ", ".join(f"{n}.dtype, {n}.ndim == 0" for n in names.values())
    kargs = ", ".join(names.get(v, v) for v, s in zip(values, sig) if s[0] != "c")
    quiet = (
        ("errstate_set(IGNORE)", "errstate_reset(t)")
        if ERRSTATE is not None
        else ("silence()", "unsilence(t)")
    )
    return [
        *(f"    {n} = {v}" for v, n in names.items()),
        f"    e = kernels.get(({key},)) or build(({key},))",
        f"    t = {quiet[0]}",
        "    try:",
        f"        out = e[0]({kargs})",
        "    finally:",
        f"        {quiet[1]}",
        "    if type(out) is not ndarray or out.dtype is not e[1]:",
        "        out = asarray(out, e[1])",
    ]


def _elementwise_kernel(op: OpDef, sig: list[tuple[Any, ...]]) -> Any:
    """The op's per-signature kernel cache (xjit/ops/eager_kernels.py), if it has one and the
    call's non-tensor arguments are Python numbers or constants."""
    spec = op.attrs.get("eager_kernels")
    if spec is None or not any(s[0] == "t" for s in sig) or any(s[0] == "x" for s in sig):
        return None
    try:
        return spec(tuple(sig))
    except TypeError:  # an unhashable constant (a list default): the plain eager call
        return None
