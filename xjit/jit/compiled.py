"""`CompiledFunction`: a torch-dialect function lowered once to numpy code, then called cheaply."""

from __future__ import annotations

import functools
import gc
import io
import os
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from xjit import _versions
from xjit._tensor import Tensor, alias
from xjit.jit import variants as V
from xjit.jit.display import mimebundle
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype


def _type_name(v: Any) -> str:
    """`float`, `numpy.ndarray`, `torch.Tensor`: qualified unless built in, so that another
    library's Tensor is not reported as a "Tensor"."""
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class ArgumentError(TypeError):
    """A compiled function was called with arguments that do not match its signature."""


class RebindError(RuntimeError):
    """A parameter, buffer or submodule that compiled code was bound to was replaced by one
    the compiled code cannot run with (another shape or dtype, a different module)."""


_REBINDS = _versions.REBINDS  # the rebind epoch's cell (xjit/_versions.py)


def _shape_str(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while compiling.

    Lowering allocates hundreds of thousands of IR objects; each collection generation rescans
    all live ones (measured: ~30% of a 1,000-op compile in a process holding many objects, e.g.
    with torch imported). The IR is freed by reference counting when compilation ends, and the
    collector's previous state is restored even if compilation fails.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class CompiledFunction:
    """One compiled method. `graph` is its torch IR, `code` a Python rendering of it; calling it
    runs the numpy code generated from the loop-level IR."""

    def __init__(
        self,
        torch_ir: ModuleOp,
        params: dict[str, Tensor],
        input_metas: Sequence[TensorMeta],
        arg_names: Sequence[str],
        output_spec: Any,
        name: str = "forward",
    ) -> None:
        self.name = name
        self.torch_ir = torch_ir
        self.params = params
        self.input_metas = tuple(input_metas)
        self.arg_names = tuple(arg_names)
        self.output_spec = output_spec
        self._loop_ir: ModuleOp | None = None
        # Parameters are bound by reference: in-place updates (load_state_dict) are seen. A
        # replaced array (a rebound parameter, `.data =` another shape) bumps the rebind epoch,
        # checked per call: `_rebind` then binds the program to the current arrays.
        self._epoch = _REBINDS[0]
        arrays = {k: t._a for k, t in params.items()}
        self._arrays = arrays
        self._owner: Any = None  # weakref to the Module the parameter names resolve in
        self._owned: frozenset[str] = frozenset()
        self._modules_seen: dict[str, tuple[Any, type, dict[str, Any]]] = {}
        self._fast_ns: list[dict[str, Any]] = []  # generated call paths' globals (fastcall.py)
        key = _cache_key(torch_ir, name, arrays)  # None when the cache is off
        self.program = (_cached_program(key, arrays) if key else None) or self._lower(arrays, key)
        self._fn = self.program[name]
        self._scalars = _scalar_results(torch_ir, name)
        self._expected = [
            (m.shape, m.dtype.np if m.dtype is not None else None) for m in self.input_metas
        ]

    def _lower(self, arrays: dict[str, np.ndarray], key: str | None) -> Any:
        """Run the pass pipeline (keeping the loop IR and fusion log) and load the program."""
        # lazy: the compiler loads on the first compile; importing xjit.jit stays light
        from xjit.backends.numpy.program import compile_module

        self._run_pipeline()
        program = compile_module(self._loop_ir, arrays, tracked=True)
        if key is not None and program.artifact is not None:
            # lazy: the cache module is only needed when compiling
            from xjit.jit import compile_cache

            compile_cache.store(key, program.artifact)
        return program

    def _run_pipeline(self) -> None:
        # lazy: the compiler loads on the first compile; importing xjit.jit stays light
        from xjit.dialects import make_context
        from xjit.passes.linalg_fuse_elementwise import collect_fusion_log
        from xjit.passes.pipelines import TorchToLoops

        with _cyclic_gc_paused():
            lowered = self.torch_ir.clone()
            with collect_fusion_log() as log:  # what was fused and why not: fusion_report()
                TorchToLoops(verify_each=_verify_each_pass()).apply(make_context(), lowered)
        self._fusion_log = log
        self._loop_ir = lowered

    @property
    def loop_ir(self) -> ModuleOp:
        """The loop-level IR; after a compile-cache hit, lowered again on first use."""
        if self._loop_ir is None:
            self._run_pipeline()
        assert self._loop_ir is not None
        return self._loop_ir

    @property
    def graph(self) -> str:
        return str(self.torch_ir)

    @property
    def code(self) -> str:
        # lazy: the compiler loads on the first compile; importing xjit.jit stays light
        from xjit.frontends.python_printer import render_python

        return render_python(self.torch_ir)

    @property
    def source(self) -> str:
        """The generated numpy source (like TorchInductor's output code)."""
        return self.program.source

    def stages(self) -> dict[str, str]:
        """The IR after each stage of the pipeline, for inspection."""
        # lazy: the compiler loads on the first compile; importing xjit.jit stays light
        from xjit.dialects import make_context
        from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes

        ctx = make_context()
        m = self.torch_ir.clone()
        out = {"torch": str(m)}
        for stage, names in TORCH_TO_LOOPS_STAGES:
            run_passes(ctx, m, names)
            out[stage] = str(m)
        return out

    def fusion_report(self) -> str:
        """Which torch ops (and source lines) each loop nest computes, and why the other
        producer→consumer edges were not fused (see passes/fusion_report.py)."""
        # lazy: the compiler loads on the first compile; importing xjit.jit stays light
        from xjit.passes.fusion_report import fusion_report

        loop_ir = self.loop_ir  # sets _fusion_log too
        return fusion_report(loop_ir, self._fusion_log)

    def graph_dot(self) -> str:
        """The torch IR's op graph as Graphviz dot (as `xjit-opt -p view-op-graph`)."""
        # lazy: the compiler loads on the first compile
        from xjit.passes.view_op_graph import op_graph_dot

        return op_graph_dot(self.torch_ir)

    def fusion_dot(self) -> str:
        """The loop nests as Graphviz dot: the torch ops each computes, data flow between them."""
        # lazy: the compiler loads on the first compile
        from xjit.passes.fusion_report import fusion_dot

        return fusion_dot(self.loop_ir)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self.graph_dot(), repr(self))

    def _check(self, args: tuple[Any, ...]) -> list[np.ndarray]:
        if len(args) != len(self._expected):
            missing = ", ".join(f"'{n}'" for n in self.arg_names[len(args) :])
            raise ArgumentError(
                f"{self.name}() expected {len(self._expected)} arguments "
                f"({', '.join(self.arg_names)}), got {len(args)}"
                + (f": missing {missing}" if missing else "")
            )
        arrays = []
        for i, (a, (shape, dtype)) in enumerate(zip(args, self._expected, strict=True)):
            if not isinstance(a, Tensor):
                raise ArgumentError(
                    f"{self.name}() argument '{self.arg_names[i]}' (position {i}) must be a "
                    f"Tensor, got {_type_name(a)}"
                )
            arr = a._a
            if arr.dtype != dtype:
                raise ArgumentError(
                    f"{self.name}() argument '{self.arg_names[i]}' (position {i}) has dtype "
                    f"{arr.dtype}, expected {dtype}"
                )
            if arr.shape != shape and (
                len(arr.shape) != len(shape)
                or any(e is not None and e != s for s, e in zip(arr.shape, shape, strict=True))
            ):
                raise ArgumentError(
                    f"{self.name}() argument '{self.arg_names[i]}' (position {i}) has shape "
                    f"{list(arr.shape)}, expected {_shape_str(shape)}"
                )
            arrays.append(arr)
        return arrays

    # -- rebinding (a replaced parameter, buffer, submodule or array) -----------------------------
    def bind_owner(self, owner: Any, compiled_from: Any = None, same: bool = False) -> None:
        """Resolve the parameter names (`fc.weight`) in `owner` (a Module) when something was
        rebound: `owner.fc = Linear(...)` is then seen, as torch's compiled modules see it.
        `compiled_from` (default `owner`): the module whose submodules the code computes.
        `same`: only the names that resolve to the very tensors bound now (else: any that do)."""
        self._owner = weakref.ref(owner)
        self._owned = frozenset(
            n
            for n, t in self.params.items()
            if ((_resolve(owner, n) is t) if same else (_resolve(owner, n) is not _MISSING))
        )
        src = owner if compiled_from is None else compiled_from
        self._modules_seen = {
            p: (m, type(m), _plain_attrs(m)) for p, m in _named_modules(src, "", set()) if p
        }  # (the root is the compiled module itself: not replaceable)
        self._epoch = -1  # resolve on the next call (the names may be bound elsewhere now)

    def register_fast_path(self, ns: dict[str, Any]) -> None:
        """A generated call path (globals `ns`) calling `fn` while `EP[0] == B`; `_rebind`
        updates both."""
        ns["EP"], ns["B"], ns["fn"] = _REBINDS, self._epoch, self._fn
        self._fast_ns.append(ns)

    def _rebind(self) -> None:
        """After a rebind anywhere: bind the program to the current arrays of its parameters
        (one reload of the generated program if any changed), or raise a RebindError."""
        epoch = _REBINDS[0]
        params = self._current_params()
        arrays = {k: t._a for k, t in params.items()}
        old = self._arrays
        if any(arrays[k] is not old[k] for k in arrays):
            for k, a in arrays.items():
                b = old[k]
                if a.shape != b.shape or a.dtype != b.dtype:
                    raise RebindError(
                        f"{self.name}(): '{k}' was compiled for {b.dtype} {list(b.shape)}, "
                        f"but is now {a.dtype} {list(a.shape)} (replaced after compiling); "
                        "compile the module again (xjit.jit.trace / xjit.jit.script)"
                    )
            # lazy: the program loader belongs to the backend, loaded with the first compile
            from xjit.backends.numpy.program import load_artifact

            assert self.program.artifact is not None
            self.program = load_artifact(self.program.artifact, arrays, tracked=True)
            self._fn = self.program[self.name]
            self._arrays = arrays
        self.params = params
        self._epoch = epoch
        for ns in self._fast_ns:
            ns["fn"], ns["B"] = self._fn, epoch

    def bound_params(self) -> dict[str, Tensor]:
        """The parameters the compiled code runs with now (what an archive saves): re-resolved
        first if something was rebound since the last call."""
        if _REBINDS[0] != self._epoch:
            self._rebind()
        return dict(self.params)

    def _current_params(self) -> dict[str, Tensor]:
        """The parameters by name: resolved in the owner (if it still lives) for the names it
        held when bound, else the Tensor objects bound (whose arrays may have been replaced)."""
        owner = self._owner() if self._owner is not None else None
        if owner is None:
            return dict(self.params)
        self._check_modules(owner)
        out: dict[str, Tensor] = {}
        for k, t in self.params.items():
            if k not in self._owned:
                out[k] = t
                continue
            r = _resolve(owner, k)
            if not isinstance(r, Tensor):
                raise RebindError(
                    f"{self.name}(): '{k}' was a {list(t.shape)} {t._a.dtype} tensor when "
                    f"compiled, but the module now has "
                    f"{'no such parameter or buffer' if r is _MISSING else repr(r)}; compile "
                    "the module again (xjit.jit.trace / xjit.jit.script)"
                )
            out[k] = r
        return out

    def _check_modules(self, owner: Any) -> None:
        """A replaced submodule runs as compiled only if it is configured as the one compiled
        (same type and plain attributes: its computation is baked into the program)."""
        for path, (m, typ, attrs) in self._modules_seen.items():
            now = _module_at(owner, path)
            if now is m:
                continue
            what = None
            if now is None:
                what = "was removed"
            elif type(now) is not typ:
                what = f"is now a {type(now).__name__}"
            elif not _same_attrs(_plain_attrs(now), attrs):
                what = f"was replaced by a {typ.__name__} configured differently"
            if what is not None:
                raise RebindError(
                    f"{self.name}(): submodule '{path}' (a {typ.__name__} when compiled) {what}; "
                    "the compiled code runs the module it was compiled with: compile the "
                    "module again (xjit.jit.trace / xjit.jit.script)"
                )
            self._modules_seen[path] = (now, typ, attrs)

    # -- dynamic shapes (docs/shapes.md) ---------------------------------------------------------
    # A traced function owns a family of variants compiled from its torch IR: `self` (the exact
    # example shapes) first, then variants whose changed dims are `?`. Calls that `self`'s
    # generated guard rejects are dispatched by their exact signature (one dict lookup once seen).
    _dispatch: dict[Any, CompiledFunction] | None = None
    pattern: Any = None  # this variant's (dims, dtype) per argument; None dims are `?`

    def enable_dynamic_shapes(self) -> None:
        """Let calls with other shapes (same ranks and dtypes) compile and cache variants."""
        shapes = [tuple(m.shape) if m.shape is not None else None for m in self.input_metas]
        if any(s is None for s in shapes):
            return
        self._dispatch = {}
        self.pattern = tuple((s, dt) for s, (_, dt) in zip(shapes, self._expected, strict=True))
        self._family: list[CompiledFunction] = [self]

    @property
    def variants(self) -> list[CompiledFunction]:
        """The compiled variants of a traced function (this one first), see docs/shapes.md."""
        return list(getattr(self, "_family", [self]))

    def _kind_check(self, args: tuple[Any, ...]) -> list[np.ndarray]:
        """Count, Tensor-ness, dtype and rank of each argument (any shape of that rank is fine)."""
        if len(args) != len(self._expected):
            self._check(args)
        arrays = []
        for i, (a, (shape, dtype)) in enumerate(zip(args, self._expected, strict=True)):
            if not isinstance(a, Tensor):
                self._check(args)
            arr = a._a
            if arr.dtype != dtype or arr.ndim != len(shape):
                what = (
                    f"dtype {arr.dtype}, expected {dtype}"
                    if arr.dtype != dtype
                    else f"rank {arr.ndim} (shape {list(arr.shape)}), expected rank {len(shape)} "
                    f"(traced as {_shape_str(shape)})"
                )
                raise ArgumentError(
                    f"{self.name}() argument '{self.arg_names[i]}' (position {i}) has {what}"
                )
            arrays.append(arr)
        return arrays

    def _variant_call(self, args: tuple[Any, ...], err: BaseException) -> Any:
        arrays = self._kind_check(args)
        key = tuple((a.shape, a.dtype) for a in arrays)
        v = self._dispatch.get(key)  # type: ignore[union-attr]
        if v is None:
            v = self._variant_for(arrays)
            if len(self._dispatch) >= V.MAX_SIGNATURES:  # type: ignore[arg-type]
                self._dispatch.clear()  # type: ignore[union-attr]
            self._dispatch[key] = v  # type: ignore[index]
        if v is self:
            raise err
        try:
            return v(*args)
        except (TypeError, ValueError) as e:
            if not V.is_dynamic(v.pattern) or isinstance(e, ArgumentError):
                raise
            # A generalised variant failed at run time: the graph depends on a dim in a way
            # refinement could not see. Use an exact variant for this signature from now on.
            exact = self._compile_variant(V.pattern_of(arrays), arrays)
            self._dispatch[key] = exact  # type: ignore[index]
            return exact(*args)

    def _variant_for(self, arrays: list[np.ndarray]) -> CompiledFunction:
        family = self._family
        for v in reversed(family):
            if V.matches(v.pattern, arrays):
                return v
        exact = V.pattern_of(arrays)
        base = V.pick_base([v.pattern for v in family], arrays)
        pat = V.generalize(base, arrays) if base is not None else exact
        if V.is_dynamic(pat):
            try:
                return self._compile_variant(pat, arrays)
            except ArgumentError:
                raise
            except Exception as e:  # the graph pins a generalised dim (ShapeError), or a lowering
                V.note_fallback(self, pat, e)  # cannot handle `?`: use the exact signature
        return self._compile_variant(exact, arrays)

    def _compile_variant(self, pat: Any, arrays: list[np.ndarray]) -> CompiledFunction:
        try:
            if V.is_dynamic(pat):
                # Both the generalised pattern and the call's own shapes must agree with the graph.
                V.retype_module(self.torch_ir, self.name, V.pattern_of(arrays))
            module = V.retype_module(self.torch_ir, self.name, pat)
        except ShapeError as e:
            changed = [
                f"argument '{n}' (position {i}) has shape {list(a.shape)}, expected {_shape_str(s)}"
                for i, (n, a, (s, _)) in enumerate(
                    zip(self.arg_names, arrays, self._expected, strict=True)
                )
                if a.shape != tuple(s)
            ]
            raise ArgumentError(
                f"{self.name}() {'; '.join(changed)}: the graph does not accept this shape "
                f"({e}). Dims the graph does not fix compile a dynamic variant; a trace fixes "
                f"shapes it computed in Python, e.g. torch.zeros(x.size(0), 4)."
            ) from None
        metas = [TensorMeta(dims, from_numpy_dtype(dt)) for dims, dt in pat]
        cf = CompiledFunction(
            module, self.params, metas, self.arg_names, self.output_spec, self.name
        )
        cf.pattern = pat
        if self._owner is not None:  # (its parameters were just resolved by this call)
            cf._owner, cf._owned, cf._modules_seen = self._owner, self._owned, self._modules_seen
        self._family.append(cf)
        return cf

    def bind_keywords(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """`args` and `kwargs` as positional arguments, bound by name as torch binds a traced
        method's keyword arguments; an unknown, repeated or missing name is an ArgumentError."""
        names = list(self.arg_names)
        if len(args) > len(names):
            raise ArgumentError(
                f"{self.name}() expected {len(names)} arguments ({', '.join(names)}), "
                f"got {len(args) + len(kwargs)}"
            )
        for k in kwargs:
            if k not in names:
                raise ArgumentError(
                    f"{self.name}() got an unexpected keyword argument '{k}' "
                    f"(its arguments: {', '.join(names)})"
                )
            if names.index(k) < len(args):
                raise ArgumentError(f"{self.name}() got multiple values for argument '{k}'")
        missing = [n for n in names[len(args) :] if n not in kwargs]
        if missing:
            raise ArgumentError(
                f"{self.name}() missing argument{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"'{n}'" for n in missing)
            )
        return (*args, *(kwargs[n] for n in names[len(args) :]))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = self.bind_keywords(args, kwargs)
        if _REBINDS[0] != self._epoch:  # something was rebound since this was bound
            self._rebind()
        # One cheap check per call: the generated function guards dtypes and shapes itself;
        # the detailed diagnosis (_check) runs only when something is wrong.
        try:
            outs = self._fn(*[a._a for a in args])
        except (AttributeError, TypeError, ValueError) as e:  # runtime.BadArgument: ValueError
            if self._dispatch is not None and not isinstance(e, ArgumentError):
                return self._variant_call(args, e)  # other shapes: dispatch to a variant
            self._check(args)  # raises an ArgumentError naming the argument
            raise
        spec = self.output_spec
        scalars = self._scalars
        if spec.kind == "tensor":  # the common shapes, without the generic rebuild
            return alias(outs[0]) if not scalars or scalars[0] is None else scalars[0](outs[0])
        wrapped: list[Any] = []
        for i, o in enumerate(outs):
            conv = scalars[i] if scalars else None
            if conv is not None:  # a script's int/float/bool result: a Python scalar
                wrapped.append(conv(o))
                continue
            # one Tensor per distinct buffer: `return y, y` gives one object twice
            for t in wrapped:
                if isinstance(t, Tensor) and t._a is o:
                    wrapped.append(t)
                    break
            else:
                wrapped.append(alias(o))
        if self._flat_tuple:
            return tuple(wrapped)
        result, _ = spec.rebuild(wrapped)
        return result

    @functools.cached_property
    def _flat_tuple(self) -> bool:
        spec = self.output_spec
        return (
            spec.kind == "tuple"
            and getattr(spec, "named", None) is None
            and all(c.kind == "tensor" for c in spec.children)
        )


_MISSING = object()


def _module_at(owner: Any, path: str) -> Any:
    """The submodule at dotted `path` of `owner` (\"\" is `owner`), or None."""
    m = owner
    for part in path.split(".") if path else ():
        m = m.__dict__.get("_modules", {}).get(part)
        if m is None:
            return None
    return m


def _resolve(owner: Any, name: str) -> Any:
    """The parameter or buffer registered as dotted `name` in `owner` (None if registered as
    None), or _MISSING."""
    path, _, leaf = name.rpartition(".")
    m = _module_at(owner, path)
    if m is None:
        return _MISSING
    for reg in ("_parameters", "_buffers"):
        d = m.__dict__.get(reg, {})
        if leaf in d:
            return d[leaf]
    return _MISSING


def resolve_params(owner: Any, params: dict[str, Tensor], what: str) -> dict[str, Tensor]:
    """`params` with each name that `owner` registers resolved there (a rebound parameter is
    the owner's now); a RebindError if one now has another shape or dtype, or is gone."""
    out = dict(params)
    for k, t in params.items():
        r = _resolve(owner, k)
        if r is _MISSING or r is t:
            continue
        if not isinstance(r, Tensor) or r._a.shape != t._a.shape or r._a.dtype != t._a.dtype:
            now = f"{r._a.dtype} {list(r._a.shape)}" if isinstance(r, Tensor) else repr(r)
            raise RebindError(
                f"{what}: '{k}' was compiled for {t._a.dtype} {list(t._a.shape)}, but is now "
                f"{now} (replaced after compiling); compile the module again"
            )
        out[k] = r
    return out


def _named_modules(m: Any, prefix: str, seen: set[int]) -> Iterator[tuple[str, Any]]:
    if id(m) in seen:
        return
    seen.add(id(m))
    yield prefix, m
    for n, c in m.__dict__.get("_modules", {}).items():
        if c is not None:
            yield from _named_modules(c, f"{prefix}.{n}" if prefix else n, seen)


_REGISTRIES = ("_parameters", "_buffers", "_modules", "_non_persistent_buffers")


def _plain_attrs(m: Any) -> dict[str, Any]:
    """A module's own attributes besides its registries: its configuration (`eps`, `p`,
    `training`, ...), which compiled code has baked in."""
    return {k: v for k, v in m.__dict__.items() if k not in _REGISTRIES}


def _same_attrs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for k, v in a.items():
        w = b[k]
        if v is w:
            continue
        try:
            if type(v) is not type(w) or not bool(v == w):
                return False
        except Exception:  # an array-like attribute, or one without a plain `==`
            return False
    return True


def _verify_each_pass() -> bool:
    """Verify the IR after every pass of a compile (the test suite does, tests/conftest.py), or
    only once after the pipeline (the default: about half the compile time of a small model)."""
    return os.environ.get("XJIT_VERIFY_EACH_PASS", "0") == "1"


def _pipeline_key() -> str:
    # lazy: the compiler loads on the first compile; importing xjit.jit stays light
    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES

    return repr(("torch-to-loops", TORCH_TO_LOOPS_STAGES))


def _cache_key(torch_ir: ModuleOp, name: str, arrays: dict[str, np.ndarray]) -> str | None:
    """The persistent compile cache's key (compile_cache.py), or None when it is off."""
    # lazy: the cache module is only needed when compiling
    from xdsl.printer import Printer

    from xjit.jit import compile_cache

    if not compile_cache.enabled():
        return None
    # With locations: the generated code's comments name the user's source lines.
    out = io.StringIO()
    Printer(stream=out, print_debuginfo=True).print_op(torch_ir)
    return compile_cache.make_key(out.getvalue(), name, _pipeline_key(), arrays)


def _cached_program(key: str, arrays: dict[str, np.ndarray]) -> Any:
    """The program from the persistent compile cache, or None on a miss."""
    # lazy: the compiler loads on the first compile; importing xjit.jit stays light
    from xjit.backends.numpy.diagnostics import XjitPerformanceWarning
    from xjit.backends.numpy.program import load_artifact
    from xjit.jit import compile_cache

    art = compile_cache.load(key)
    if art is None:
        return None
    for msg in art.warnings:  # as the compile that produced it warned
        warnings.warn(msg, XjitPerformanceWarning, stacklevel=4)
    return load_artifact(art, arrays, tracked=True)


def _scalar_results(torch_ir: ModuleOp, name: str) -> list[Any]:
    """Per flat result of `@name`: the Python type a `!torch.int/float/bool` result converts to
    (TorchScript returns Python scalars, not 0-d tensors), None for tensors."""
    # lazy: the torch dialect loads on the first compile; importing xjit.jit stays light
    from xdsl.dialects import func

    from xjit.dialects import torch as td

    fop = next(
        (o for o in torch_ir.ops if isinstance(o, func.FuncOp) and o.sym_name.data == name), None
    )
    if fop is None or len(fop.function_type.outputs.data) == 0:
        return []
    kinds = {td.IntType: int, td.FloatType: float, td.BoolType: bool}
    return [kinds.get(type(t)) for t in fop.function_type.outputs.data]
