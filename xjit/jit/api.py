"""`xjit.jit.trace`, `xjit.jit.trace_module` and the traced functions and modules they return.

A traced function is a `CompiledFunction` (`TracedFunction`) that also knows the structure of
its inputs (nested tuples/lists/dicts of tensors are flattened into graph arguments), its
guards (values the trace froze, see frontends/trace.py), and how to record itself when it is
called inside another trace (a `func.call` of its graph, never a constant).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from xjit import _dispatch, _tensor
from xjit._tensor import Tensor
from xjit.errors import TraceGuardError, TracerWarning  # noqa: F401  (re-exported)
from xjit.frontends.signature import GraphSource, OutputSpec
from xjit.jit.compiled import ArgumentError, CompiledFunction
from xjit.jit.display import mimebundle
from xjit.jit.fastcall import _rebuild_src, make_call
from xjit.jit.variants import retype_module
from xjit.nn.module import Module

GUARD_FALLBACKS = ("error", "eager")


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:n]
    return names + [f"argument_{i}" for i in range(len(names), n)]


class GuardedOutputs:
    """The output structure of a graph with guards: the user's results, then the hidden guard
    values (one per post-call guard). Not an OutputSpec: an archive refuses to save it."""

    kind = "tuple"

    def __init__(self, user: Any, n_hidden: int) -> None:
        self.user = user
        self.children = (user, OutputSpec("tuple", (OutputSpec("tensor"),) * n_hidden))

    def rebuild(self, flat: Any, pos: int = 0) -> tuple[Any, int]:
        out, pos = self.user.rebuild(flat, pos)
        return (out, list(flat[pos:])), len(flat)


class StructuredTrace:
    """The output structure of a trace with dict outputs (strict=False) or nested inputs. Not an
    OutputSpec: archives, whose format has neither dict keys nor input structures, refuse to
    save it rather than lose them."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.children = spec.children

    def rebuild(self, flat: Any, pos: int = 0) -> tuple[Any, int]:
        return self.spec.rebuild(flat, pos)  # type: ignore[no-any-return]


def _flatten_args(args: Sequence[Any]) -> tuple[list[Tensor], list[Any]]:
    # lazy: the tracing frontend (and xDSL) loads on the first trace, not with xjit.jit
    from xjit.frontends.trace import flatten_outputs

    flat: list[Tensor] = []
    specs = []
    for a in args:
        f, s = flatten_outputs(a, strict=False)
        flat.extend(f)
        specs.append(s)
    return flat, specs


class TracedFunction(CompiledFunction, GraphSource):
    """A traced function: called like the Python function it was traced from (and from
    scripted code, as a call of its graph)."""

    guards: list[Any] = []  # noqa: RUF012  (set per instance)

    def _setup(
        self,
        in_specs: list[Any],
        user_spec: Any,
        guards: list[Any],
        eager: Callable[..., Any],
        guard_fallback: str,
        flat_names: list[str],
    ) -> None:
        self.in_specs = in_specs
        self.user_spec = user_spec
        self.guards = guards
        self._eager = eager
        self.guard_fallback = guard_fallback
        self._flat_inputs = all(s.kind == "tensor" for s in in_specs)
        self._post = [g for g in guards if g.expr is None]
        self._pre = _pre_checker([g for g in guards if g.expr is not None], len(flat_names))
        self.plain = self._flat_inputs and not guards
        self._n_user = user_spec.leaves()
        self._gcall: Callable[..., Any] | None = None
        if not self.plain and self._flat_inputs and not _has_dict(user_spec) and self._n_user <= 6:
            self._gcall = _make_guarded_call(self)  # the per-call path with guards inlined

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = self.bind_keywords(args, kwargs)
        if _dispatch._recorders:  # called inside a trace: record a call, not its result
            return self._traced_call(args)
        if self.plain:
            return CompiledFunction.__call__(self, *args)
        if self._gcall is not None:
            return self._gcall(*args)
        return self._guarded_call(args)

    def bind_keywords(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if not self._flat_inputs:  # arg_names name the flattened tensors, not the parameters
            raise ArgumentError(
                f"{self.name}() was traced with nested (tuple/list/dict) arguments: pass them "
                f"positionally, not as keyword arguments ({', '.join(map(repr, kwargs))})"
            )
        return super().bind_keywords(args, kwargs)

    def _flat(self, args: tuple[Any, ...]) -> list[Any]:
        if self._flat_inputs:
            return list(args)
        if len(args) != len(self.in_specs):
            raise ArgumentError(
                f"{self.name}() expected {len(self.in_specs)} arguments, got {len(args)}"
            )
        try:
            flat, specs = _flatten_args(args)
        except Exception as e:
            raise ArgumentError(f"{self.name}(): {e}") from None
        for i, (s, want) in enumerate(zip(specs, self.in_specs, strict=True)):
            if s != want:
                raise ArgumentError(
                    f"{self.name}() argument {i} has structure {s.describe()}, "
                    f"traced with {want.describe()}"
                )
        return flat

    def _guarded_call(self, args: tuple[Any, ...]) -> Any:
        flat = self._flat(args)
        if self._pre is not None:
            try:
                failed = self._pre(*[a._a for a in flat])
            except Exception:  # not tensors, a wrong rank, ...: diagnosed by the call below
                failed = None
            if failed is not None:
                g, got = failed
                return self._guard_failed(g, got, args)
        res = CompiledFunction.__call__(self, *flat)
        if not self._post:
            return res
        out, hidden = res
        for g, v in zip(self._post, hidden, strict=True):
            got = g.read(v)
            if not g.holds(got):
                return self._guard_failed(g, got, args)
        return out

    def _guard_failed(self, g: Any, got: Any, args: tuple[Any, ...]) -> Any:
        if self.guard_fallback == "eager":
            return self._eager(*args)
        line = g.source_line()
        raise TraceGuardError(
            f"{g.where}: trace guard failed: the trace froze {g.what} as {_short(g.expected)} "
            f"for its example inputs, but this call gives {_short(got)}"
            + (f"\n    {line}" if line else "")
            + "\nThe traced graph would not compute what the Python code does for these "
            "inputs. Use xjit.jit.script for code that depends on input values or sizes, or "
            "trace(..., guard_fallback='eager') to run such calls eagerly.",
            g.file,
            g.line,
        )

    def _traced_call(self, args: tuple[Any, ...]) -> Any:
        rec = _dispatch.current_recorder()
        if rec is None or not hasattr(rec, "record_call"):
            return self._run_untraced(args)
        _dispatch.pop_recorder()
        try:
            result = self._run_untraced(args)
        finally:
            _dispatch.push_recorder(rec)
        rec.record_call(self, self._flat(args), result)
        return result

    def _run_untraced(self, args: tuple[Any, ...]) -> Any:
        saved = _tensor._size_hook
        _tensor._size_hook = None
        try:
            return self(*args)
        finally:
            _tensor._size_hook = saved

    def graph_source(self, guarded: bool = False) -> dict[str, Any]:
        """What a scripted or traced caller needs to call this graph (see frontends/script/calls.py).
        Only a trace (`guarded`) can call a graph with guards: it adopts them."""
        if self.guards and not guarded:
            g = self.guards[0]
            raise TypeError(
                f"{self.name} was traced with guards ({g.where}: {g.what}); only a trace can "
                "call it (and check them). Script the function instead, or trace the caller."
            )
        return {
            "ir": self.torch_ir,
            "params": self.params,
            "spec": self.output_spec,
            "arg_names": list(self.arg_names),
            "defaults": {},
            "entry": self.name,
        }


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 120 else r[:117] + "..."


def _pre_checker(guards: list[Any], n_args: int) -> Callable[..., Any] | None:
    """One generated function checking every guard on input sizes: None if they all hold, else
    (the guard, the value this call gives)."""
    if not guards:
        return None
    params = ", ".join(f"a{i}" for i in range(n_args))
    lines = [f"def pre({params}):"]
    for k, g in enumerate(guards):
        lines.append(f"    v = {g.expr}")
        lines.append(f"    if v != E{k}: return G{k}, v")
    lines.append("    return None")
    ns: dict[str, Any] = {}
    for k, g in enumerate(guards):
        ns[f"E{k}"], ns[f"G{k}"] = g.expected, g
    exec(compile("\n".join(lines) + "\n", "<xjit-trace-guards>", "exec"), ns)  # noqa: S102
    return ns["pre"]  # type: ignore[no-any-return]


def _as_args(example_inputs: Any) -> tuple[Any, ...]:
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, dict):
        return (example_inputs,)
    return tuple(example_inputs)


def _compile_trace(
    fn: Callable[..., Any],
    example_inputs: Sequence[Any],
    named_tensors: dict[str, Tensor],
    name: str = "forward",
    modules: dict[int, str] | None = None,
    strict: bool = True,
    guard_fallback: str = "error",
    eager: Callable[..., Any] | None = None,
) -> TracedFunction:
    # lazy: the tracing frontend (and the torch dialect) loads on the first trace, not with xjit.jit
    from xjit.frontends.trace import OutputSpec, TraceError, trace_function

    if guard_fallback not in GUARD_FALLBACKS:
        raise ValueError(f"guard_fallback must be one of {GUARD_FALLBACKS}, got {guard_fallback!r}")
    args = tuple(example_inputs)
    try:
        flat, in_specs = _flatten_args(args)
    except TraceError as e:
        raise TraceError(f"example inputs: {e}") from None
    top = _arg_names(fn, len(args))
    names: list[str] = []
    for n, s in zip(top, in_specs, strict=True):
        k = s.leaves()
        names += [n] if s.kind == "tensor" else [f"{n}_{j}" for j in range(k)]

    def call(inputs: list[Tensor]) -> Any:
        pos, rebuilt = 0, []
        for s in in_specs:
            v, pos = s.rebuild(inputs, pos)
            rebuilt.append(v)
        return fn(*rebuilt)

    result = trace_function(fn, flat, named_tensors, name, modules, names, call=call, strict=strict)
    fop = next(iter(o for o in result.module.ops if o.name == "func.func"))
    for arg, n in zip(fop.body.block.args, names, strict=True):  # type: ignore[attr-defined]
        arg.name_hint = n
    n_hidden = sum(1 for g in result.guards if g.expr is None)
    spec: Any = result.output_spec
    if n_hidden:
        spec = GuardedOutputs(spec, n_hidden)
    elif _has_dict(spec) or any(s.kind != "tensor" for s in in_specs):
        spec = StructuredTrace(spec)
    assert isinstance(result.output_spec, OutputSpec)
    cf = TracedFunction(_folded(result), result.params, result.input_metas, names, spec, name)
    cf.torch_ir = result.module  # the graph (with its size ops) that other shapes derive from
    cf._setup(in_specs, result.output_spec, result.guards, eager or fn, guard_fallback, names)
    cf.enable_dynamic_shapes()  # other shapes compile (and cache) variants: docs/shapes.md
    return cf


def _folded(result: Any) -> Any:
    """The module to compile for the example shapes: with traced sizes (`aten.size.int`), the
    sizes folded first (as for any other shape's variant), so that decompositions and lowerings
    that need constant sizes (`layer_norm(x, x.shape[-1:])`) see them."""
    # lazy: the torch dialect (and xDSL) loads with the first trace, not with xjit.jit
    from xjit.dialects import torch as td

    if not any(
        isinstance(o, td.AtenOp) and o.OPDEF.attrs.get("scalar") for o in result.module.walk()
    ):
        return result.module
    pattern = tuple((m.shape, m.dtype.np) for m in result.input_metas)
    fop = next(o for o in result.module.ops if o.name == "func.func")
    return retype_module(result.module, fop.sym_name.data, pattern)


def _has_dict(spec: Any) -> bool:
    return spec.kind == "dict" or any(_has_dict(c) for c in spec.children)


def _fast_call(f: TracedFunction) -> Callable[..., Any]:
    if f.plain and not _has_dict(f.output_spec):
        return make_call(f)  # the per-call path (fastcall.py)
    return f._gcall or f.__call__


_READ = {"bool": "bool({v})", "int": "int({v})", "float": "float({v})"}


def _make_guarded_call(f: TracedFunction) -> Callable[..., Any]:
    """Like fastcall.make_call, with the guards inlined: the size checks before the numpy
    function, a comparison per hidden result after it. Anything unusual (a failed guard, another
    shape, a bad argument) is redone by `f.__call__`, which raises or falls back."""
    n_args, n_user, n_hidden = len(f.input_metas), f._n_user, len(f._post)
    xs = [f"x{i}" for i in range(n_args)]
    outs = [f"o{j}" for j in range(n_user)] + [f"h{k}" for k in range(n_hidden)]
    lines = [
        "def call(*args):",
        "    if EP[0] != B: return slow(*args)  # something was rebound: CompiledFunction._rebind",
        "    try:",
        f"        {', '.join(f'a{i}' for i in range(n_args))}{',' if n_args == 1 else ''} = args"
        if n_args
        else "        if args: raise TypeError",
    ]
    lines += [f"        x{i} = a{i}._a" for i in range(n_args)]
    if f._pre is not None:
        lines.append(f"        if pre({', '.join(xs)}) is not None: return slow(*args)")
    lines.append(f"        {', '.join(outs)}{',' if len(outs) == 1 else ''} = fn({', '.join(xs)})")
    lines += ["    except Exception:", "        return slow(*args)  # diagnosis, variants, guards"]
    for k, g in enumerate(f._post):
        if g.kind in _READ:
            lines.append(f"    if {_READ[g.kind].format(v=f'h{k}')} != E{k}: return slow(*args)")
        else:
            lines.append(f"    if not G{k}.holds(G{k}.read(h{k})): return slow(*args)")
    for j in range(n_user):
        same = [f"o{j} is o{i}" for i in range(j)]
        if not same:
            lines.append(f"    t{j} = new(T); t{j}._a = o{j}")
            continue
        for i in range(j):
            lines.append(f"    {'if' if i == 0 else 'elif'} o{j} is o{i}: t{j} = t{i}")
        lines.append(f"    else: t{j} = new(T); t{j}._a = o{j}")
    named: dict[str, Any] = {}
    lines.append(f"    return {_rebuild_src(f.user_spec, [0], named)}")
    ns: dict[str, Any] = {
        **named,
        "fn": f._fn,
        "slow": lambda *args: f._guarded_call(args),
        "pre": f._pre,
        "new": object.__new__,
        "T": Tensor,
    }
    for k, g in enumerate(f._post):
        ns[f"E{k}"], ns[f"G{k}"] = g.expected, g
    f.register_fast_path(ns)  # EP, B; `fn` is replaced when parameters are rebound
    exec(compile("\n".join(lines) + "\n", f"<xjit-guarded-call {f.name}>", "exec"), ns)  # noqa: S102
    fast = ns["call"]
    fast.__xjit_source__ = "\n".join(lines)
    return fast  # type: ignore[no-any-return]


class TracedModule(Module, GraphSource):
    """A Module whose `forward` (and, with `trace_module`, other methods) are compiled. Shares
    submodules and parameters with the original."""

    def __init__(
        self,
        original: Module,
        forward: TracedFunction | None,
        methods: dict[str, TracedFunction] | None = None,
    ) -> None:
        super().__init__()
        object.__setattr__(self, "_original_name", type(original).__name__)
        object.__setattr__(self, "_compiled_forward", forward)
        object.__setattr__(self, "_call", _fast_call(forward) if forward is not None else None)
        object.__setattr__(self, "_methods", dict(methods or {}))
        for n, m in (methods or {}).items():
            object.__setattr__(self, n, m)
        self._share_state_of(original)
        for f in self._compiled_methods().values():
            f.bind_owner(self)  # parameter names resolve here once something is rebound

    @property
    def forward(self) -> TracedFunction:  # type: ignore[override]
        f = self.__dict__["_compiled_forward"]
        if f is None:
            raise AttributeError(
                f"forward of this {self._get_name()} was not traced (trace_module was given "
                f"{sorted(self.__dict__['_methods'])})"
            )
        return f  # type: ignore[no-any-return]

    def _compiled_methods(self) -> dict[str, CompiledFunction]:
        out: dict[str, CompiledFunction] = {}
        if self.__dict__["_compiled_forward"] is not None:
            out["forward"] = self.forward
        out.update(self.__dict__["_methods"])
        return out

    @property
    def guards(self) -> list[Any]:
        return self.forward.guards

    @property
    def graph(self) -> str:
        return self.forward.graph

    def graph_source(self, guarded: bool = False) -> dict[str, Any]:
        """What a scripted or traced caller needs to call this graph (see frontends/script/calls.py)."""
        return self.forward.graph_source(guarded)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # by name, as torch binds them; then the positional path
            args = self.forward.bind_keywords(args, kwargs)
        if not _dispatch._recorders:  # not being traced: straight to the compiled code
            call = self.__dict__["_call"]
            if call is None:
                raise TypeError(
                    f"forward of this {self._get_name()} was not traced (trace_module was "
                    f"given {sorted(self.__dict__['_methods'])})"
                )
            return call(*args)
        rec = _dispatch.current_recorder()
        f = self.forward
        if rec is not None and hasattr(rec, "record_call"):
            # Traced inside another trace: keep it a call (of this already compiled graph).
            _dispatch.pop_recorder()
            try:
                result = f._run_untraced(args)
            finally:
                _dispatch.push_recorder(rec)
            rec.record_call(self, f._flat(args), result)
            return result
        return f._run_untraced(args)

    @property
    def code(self) -> str:
        return self.forward.code

    def graph_dot(self) -> str:
        """The graph as Graphviz dot (`dot -Tsvg`); Jupyter shows it as a picture."""
        return self.forward.graph_dot()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self.graph_dot(), repr(self))

    def _get_name(self) -> str:
        return self.__dict__["_original_name"]

    def save(self, path: Any, _extra_files: Any = None) -> None:
        """Save as an `.xjit` archive (docs/archive.md); `xjit.jit.load` reads it back."""
        save_archive(self, path, _extra_files)


# `save()` of compiled modules writes with xjit/jit/archive_write.py, which is built on this
# module's classes and script_api's: it installs its writer here when imported (importing
# xjit.jit imports it), so this module does not import it back.
_archive_writer: Callable[[Any, Any, Any], None] | None = None


def set_archive_writer(write: Callable[[Any, Any, Any], None]) -> None:
    global _archive_writer
    _archive_writer = write


def save_archive(module: Any, path: Any, extra_files: Any = None) -> None:
    if _archive_writer is None:
        raise RuntimeError("the archive writer is not loaded (import xjit.jit)")
    _archive_writer(module, path, extra_files)


def _module_tensors(m: Module) -> tuple[dict[str, Tensor], dict[int, str]]:
    named = dict(m.named_parameters())
    named.update(dict(m.named_buffers()))
    modules = {id(s): n for n, s in m.named_modules() if n}
    return named, modules


def trace(
    func: Module | Callable[..., Any],
    example_inputs: Any,
    check_trace: bool = True,
    check_inputs: Sequence[Any] | None = None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    guard_fallback: str = "error",
) -> Any:
    """Run `func` once on `example_inputs`, record the ops it runs, and compile them.

    `example_inputs` is one tensor or a tuple of arguments, each a tensor or a nested
    tuple/list/dict of tensors. Sizes (`x.shape`, `x.size(d)`) are traced; Python control flow
    on tensor values or sizes is frozen, with a `TracerWarning` and a guard that raises
    `TraceGuardError` on a call that would go the other way (`guard_fallback="eager"`: run that
    call eagerly instead). Tensors created outside and read by `func` become constants; the
    parameters and buffers of a traced Module stay live (bound by name).

    `check_trace` reruns the trace on `check_inputs` (default: the example) and compares with
    `func` run eagerly, warning (`TracerWarning`) where they differ. `strict=False` allows dict
    outputs.
    """
    inputs = _as_args(example_inputs)
    if isinstance(func, Module):
        named, modules = _module_tensors(func)
        compiled = _compile_trace(
            func.forward, inputs, named, "forward", modules, strict, guard_fallback, func.forward
        )
        traced: Any = TracedModule(func, compiled)
        eager: Callable[..., Any] = func
    elif callable(func):
        traced = compiled = _compile_trace(
            func, inputs, {}, getattr(func, "__name__", "forward"), None, strict, guard_fallback
        )
        eager = func
    else:
        raise TypeError(f"trace expects a Module or a function, got {type(func).__name__}")
    if check_trace:
        checks = [inputs] if check_inputs is None else [_as_args(c) for c in check_inputs]
        _check_trace(traced, eager, checks, check_tolerance)
    return traced


def trace_module(
    mod: Module,
    inputs: dict[str, Any],
    check_trace: bool = True,
    check_inputs: Sequence[dict[str, Any]] | None = None,
    check_tolerance: float = 1e-5,
    strict: bool = True,
    guard_fallback: str = "error",
) -> TracedModule:
    """Trace several methods of `mod`: `inputs` maps a method name to its example inputs.
    The result calls `forward` (if traced) and has the other methods as attributes."""
    if not isinstance(mod, Module):
        raise TypeError(f"trace_module expects a Module, got {type(mod).__name__}")
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("trace_module expects a dict of method name -> example inputs")
    named, modules = _module_tensors(mod)
    methods: dict[str, TracedFunction] = {}
    for name, ex in inputs.items():
        method = getattr(mod, name, None)
        if not callable(method):
            raise AttributeError(f"{type(mod).__name__} has no method {name!r} to trace")
        methods[name] = _compile_trace(
            method, _as_args(ex), named, name, modules, strict, guard_fallback, method
        )
    fwd = methods.pop("forward", None)
    traced = TracedModule(mod, fwd, methods)
    if check_trace:
        for per_method in check_inputs or [inputs]:
            for name, ex in per_method.items():
                f = traced.forward if name == "forward" else methods[name]
                _check_trace(f, getattr(mod, name), [_as_args(ex)], check_tolerance, name)
    return traced


def _check_trace(
    traced: Any,
    eager: Callable[..., Any],
    checks: list[tuple[Any, ...]],
    tol: float,
    what: str = "",
) -> None:
    """Run the trace and the Python function on each set of inputs; warn where they differ."""
    # lazy: the tracing frontend (and xDSL) loads on the first trace, not with xjit.jit
    from xjit.frontends.trace import flatten_outputs

    label = f" ({what})" if what else ""
    for args in checks:
        expect, _ = flatten_outputs(eager(*args), strict=False)
        try:
            got, _ = flatten_outputs(traced(*args), strict=False)
        except TraceGuardError as e:
            warnings.warn(f"Trace check{label} failed: {e}", TracerWarning, stacklevel=3)
            continue
        for i, (g, e) in enumerate(zip(got, expect, strict=True)):
            ga, ea = g.numpy(), e.numpy()
            if ga.shape != ea.shape or not np.allclose(ga, ea, rtol=tol, atol=tol, equal_nan=True):
                warnings.warn(
                    f"Output nr {i + 1}. of the traced function{label} does not match the "
                    "corresponding output of the Python function: the trace does not "
                    "generalise to these inputs"
                    + (
                        f" (shape {list(ga.shape)} vs {list(ea.shape)})"
                        if ga.shape != ea.shape
                        else ""
                    ),
                    TracerWarning,
                    stacklevel=3,
                )
                break
