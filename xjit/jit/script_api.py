"""`xjit.jit.script`: compile a Module's `forward` or a function from its Python source, keeping
control flow (frontends/script/), and run it compiled.

A scripted graph is generic: unannotated tensors are `!torch.vtensor` (shape and dtype unknown).
Each call specialises it on the call's signature: the shapes and dtypes of the tensor arguments
and the values of the scalar (int/float/bool) arguments. The specialisation sets the argument
types, inlines every call (`inline`), propagates static types (`torch-shape-refinement`) and
compiles the result with `CompiledFunction`; compiled variants are cached by signature, so a new
sequence length compiles once more and is then as cheap as any other call.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from xjit import _dispatch
from xjit._tensor import Tensor
from xjit.errors import FrontendError, ScriptError
from xjit.frontends.signature import GraphSource, meta_of
from xjit.jit import variants as V
from xjit.jit.api import TracedModule, save_archive
from xjit.jit.compiled import ArgumentError, RebindError, resolve_params
from xjit.jit.display import mimebundle
from xjit.jit.variants import MAX_SIGNATURES, is_dynamic
from xjit.nn.module import Module


def _structure_of(v: Any) -> Any:
    """A tuple value's nesting: nested tuples, a scalar's type name or None (a tensor) at the
    leaves (as the script frontend's `_structure_of` in calls.py)."""
    if isinstance(v, tuple):
        return tuple(_structure_of(x) for x in v)
    return type(v).__name__ if type(v) in (bool, int, float) else None


def _holds_container(v: Any) -> bool:
    """A list or dict argument, or a tuple holding one (compiled per its structure)."""
    if isinstance(v, (list, dict)):
        return True
    return isinstance(v, tuple) and any(_holds_container(x) for x in v)


def _signature(args: Sequence[Any], tk: dict[str, Any] | None = None) -> tuple[Any, ...]:
    sig: list[Any] = [("tuples", str(sorted(tk.items())))] if tk else []
    for a in args:
        if isinstance(a, Tensor):
            sig.append(("T", tuple(a.shape), a._a.dtype.str))
        elif a is None or isinstance(a, (bool, int, float, str)):  # compiled per value
            sig.append(("S", type(a).__name__, a))
        else:
            raise ArgumentError(f"unsupported argument of type {type(a).__name__}")
    return tuple(sig)


# What a scripted call can take (the leaves of a tuple/list/dict are checked where it is bound).
_ARGUMENT_TYPES = (Tensor, bool, int, float, str, type(None), tuple, list, dict)


class _Scripted(GraphSource):
    """What ScriptModule and ScriptFunction share: the generic graph and compiled variants."""

    _name: str

    def _init_scripted(
        self, compile_ir: Callable[[dict[str, Any] | None], Any], entry: str
    ) -> None:
        object.__setattr__(self, "_compile_ir", compile_ir)
        object.__setattr__(self, "_entry", entry)
        object.__setattr__(self, "_variants", {})  # exact call signature -> CompiledFunction
        object.__setattr__(self, "_compiled", [])  # (scalar args, CompiledFunction) in order
        object.__setattr__(self, "_by_kinds", {})
        # graphs taking tuples passed to Optional[Tuple] / unannotated parameters (not saved)
        object.__setattr__(self, "_by_tuples", {})
        object.__setattr__(self, "_generic", compile_ir(None))
        object.__setattr__(self, "_training_key", self._current_training_key())
        object.__setattr__(self, "_by_training", {})  # training key -> the state above

    # -- `training` (a module attribute read at run time in TorchScript) -------------------------
    def _current_training_key(self) -> tuple[bool, ...] | None:
        """The training flags the compiled code depends on (None: it reads none)."""
        return None

    def _g(self) -> Any:
        """The generic graph for the current training flags: `.train()`/`.eval()` switch to the
        graphs (and compiled variants) compiled for those flags, compiling them on first use."""
        key = self._current_training_key()
        d = self.__dict__
        if key != d["_training_key"]:
            state = ("_generic", "_variants", "_compiled", "_by_kinds", "_by_tuples")
            d["_by_training"][d["_training_key"]] = {k: d[k] for k in state}
            saved = d["_by_training"].get(key)
            if saved is None:
                saved = {"_variants": {}, "_compiled": [], "_by_kinds": {}, "_by_tuples": {}}
                saved["_generic"] = d["_compile_ir"](None)
            d.update(saved)
            d["_training_key"] = key
        return d["_generic"]

    # -- the generic graph -------------------------------------------------------------------------
    @property
    def graph_ir(self) -> Any:
        g = self._g()
        if g.module is None:
            raise FrontendError(
                f"{self._name}: no generic graph: it uses the rank of an unannotated tensor "
                "(e.g. x.shape), takes a str parameter (compiled per value) or a List/Dict parameter "
                "(compiled per length / key set), so it is compiled per call; see specialized_ir(*args)"
                + (f"\nwhy: {g.deferred_by}" if g.deferred_by else "")
            )
        return g.module

    @property
    def graph(self) -> str:
        return str(self.graph_ir)

    @property
    def code(self) -> str:
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.frontends.python_printer import render_python

        return render_python(self.graph_ir)

    def graph_dot(self) -> str:
        """The generic graph as Graphviz dot (`dot -Tsvg`); Jupyter shows it as a picture."""
        # lazy: the scripting frontend and the compiler load on first use
        from xjit.passes.view_op_graph import op_graph_dot

        return op_graph_dot(self.graph_ir)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self.graph_dot(), repr(self))

    @property
    def arg_names(self) -> list[str]:
        return self._g().arg_names

    @property
    def defaults(self) -> dict[str, Any]:
        return self._g().defaults

    @property
    def output_spec(self) -> Any:
        return self._g().output_spec

    def save(self, path: Any, _extra_files: Any = None) -> None:
        """Save as an `.xjit` archive (docs/archive.md): the generic graph, specialised per call
        signature after `xjit.jit.load` as here (the writer refuses what it cannot hold)."""
        save_archive(self, path, _extra_files)

    def graph_source(self) -> dict[str, Any]:
        g = self._g()
        return {
            "ir": g.module,
            "params": g.params,
            "spec": g.output_spec,
            "arg_names": g.arg_names,
            "defaults": g.defaults,
            "entry": self.__dict__["_entry"],
            "tuple_params": getattr(g, "tuple_params", None) or {},
        }

    # -- calls -------------------------------------------------------------------------------------
    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        names, defaults = self.arg_names, self.defaults
        if len(args) > len(names):
            raise ArgumentError(
                f"{self._name}() expected at most {len(names)} arguments "
                f"({', '.join(names)}), got {len(args)}"
            )
        for k in kwargs:  # a misspelt or repeated name first: it explains a missing one
            if k not in names:
                raise ArgumentError(
                    f"{self._name}() got an unexpected keyword argument '{k}' "
                    f"(its arguments: {', '.join(names)})"
                )
            if names.index(k) < len(args):
                raise ArgumentError(f"{self._name}() got multiple values for argument '{k}'")
        vals = list(args)
        for n in names[len(args) :]:
            if n in kwargs:
                vals.append(kwargs.pop(n))
            elif n in defaults:
                vals.append(defaults[n])
            else:
                raise ArgumentError(f"{self._name}() missing argument '{n}'")
        for n, v in zip(names, vals, strict=True):
            if not isinstance(v, _ARGUMENT_TYPES):
                raise ArgumentError(
                    f"{self._name}() argument '{n}' must be an xjit Tensor, a Python scalar or "
                    f"str, None, or a tuple/list/dict of them; got {type(v).__module__}."
                    f"{type(v).__qualname__}"
                )
        return vals

    def _tuple_kinds(self, vals: list[Any]) -> dict[str, Any]:
        """`("tuple", structure)` for each tuple passed to a parameter the generic graph does
        not take as a tuple (an `Optional[Tuple[...]]` or unannotated one): compiled per kind."""
        g = self._g()
        tuple_params = getattr(g, "tuple_params", None) or {}
        containers = getattr(g, "container_params", None) or {}
        kinds: dict[str, Any] = {}
        for n, v in zip(g.arg_names, vals, strict=False):
            if _holds_container(v):
                # a List/Dict: a graph per length / key set (the structure is the guard: a call
                # with another length never runs a graph compiled for this one)
                # lazy: the scripting frontend loads when something is scripted
                from xjit.frontends.script.values import value_structure

                kinds[n] = ("container", value_structure(v))
            elif n in containers and not (v is None and containers[n].startswith("Optional")):
                raise ArgumentError(
                    f"{self._name}() argument '{n}' must be a {containers[n]}, "
                    f"got {type(v).__name__}"
                )
            elif isinstance(v, tuple) and n not in tuple_params:
                kinds[n] = ("tuple", _structure_of(v))
        return kinds

    def _tuple_graph(self, tk: dict[str, Any]) -> Any:
        """The graph taking the tuples of `tk` (the generic graph when there are none)."""
        if not tk:
            return self._g()
        key = tuple(sorted((k, str(v)) for k, v in tk.items()))
        cache = self.__dict__["_by_tuples"]
        if key not in cache:
            cache[key] = self.__dict__["_compile_ir"](tk)
        return cache[key]

    def _flatten(self, vals: list[Any], tk: dict[str, Any] | None = None) -> list[Any]:
        """A `Tuple[...]` parameter's value as its leaves (the entry's block arguments)."""
        g = self._tuple_graph(tk or {})
        tuple_params = getattr(g, "tuple_params", None)
        if not tuple_params:
            return vals
        # lazy: the scripting frontend loads when something is scripted, not with an archive
        from xjit.frontends.script.values import flatten_tuple_args

        out = flatten_tuple_args(g.arg_names, tuple_params, vals)
        if isinstance(out, str):
            raise ArgumentError(f"{self._name}() argument {out}")
        return out

    def _graph_for_kinds(self, vals: Sequence[Any], tk: dict[str, Any] | None = None) -> Any:
        """The generic graph for this combination of None / non-None optional arguments (and
        the tuples `tk` passed to parameters the generic graph does not take as tuples)."""
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.dialects import torch as td

        tk = tk or {}
        g = self._tuple_graph(tk)
        if g.module is None:  # deferred: compiled per argument types from the start
            arg_types = g.arg_types
        else:
            fop = next(
                o
                for o in g.module.ops
                if getattr(o, "sym_name", None) is not None
                and o.sym_name.data == self.__dict__["_entry"]
                and o.name == "func.func"
            )
            arg_types = [a.type for a in fop.body.block.args]
        kinds: dict[str, Any] = {}
        values: dict[str, Any] = {}  # per_value bools (xjit/nn/script_marks.py): not saved
        names = getattr(g, "flat_names", None)
        names = g.arg_names if names is None else names  # ([]: an empty list's no leaves)
        for n, at, v in zip(names, arg_types, vals, strict=True):
            if isinstance(v, Tensor) and getattr(g, "needs_arg_types", False):
                # the frontend guessed a type it would know from the arguments' ranks/dtypes
                # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
                from xjit.frontends.builder import vtensor_type

                kinds[n] = vtensor_type(meta_of(v))
            elif isinstance(v, bool) and n in getattr(g, "per_value", ()):
                if v != g.defaults.get(n):  # the generic graph has the default
                    values[n] = ("value", v)
            elif isinstance(v, str):  # a str parameter: compiled per value
                if not isinstance(at, td.StrType):
                    raise ArgumentError(f"{self._name}() argument '{n}' must be {at}, got str")
                kinds[n] = ("str", v)
            elif type(v) is int and getattr(g, "needs_int_values", False):
                kinds[n] = ("int", v)  # a list slice's bound: a constant while compiling
            elif v is None and not isinstance(at, td.NoneType):
                kinds[n] = td.NoneType()
            elif v is not None and isinstance(at, td.NoneType):
                kinds[n] = (
                    td.ValueTensorType.of(None, None)
                    if isinstance(v, Tensor)
                    else {bool: td.BoolType(), int: td.IntType(), float: td.FloatType()}[type(v)]
                )
        if not kinds and not values:
            return g
        cache = self.__dict__["_by_tuples" if tk or values else "_by_kinds"]
        kinds = {**tk, **kinds, **values}
        key = tuple(sorted((k, str(v)) for k, v in kinds.items()))
        per_dtype = self.__dict__.setdefault("_per_dtype", set())
        if key in per_dtype:  # (its graph needs the tensors' dtypes: a mask's, bool or float)
            return self._graph_for_dtypes(cache, kinds, names, vals)
        if key not in cache:
            try:
                cache[key] = self.__dict__["_compile_ir"](kinds)
            except (FrontendError, ArgumentError):
                typed = self._graph_for_dtypes(cache, kinds, names, vals, retry=True)
                if typed is None:
                    raise
                per_dtype.add(key)
                return typed
        return cache[key]

    def _graph_for_dtypes(
        self,
        cache: dict[Any, Any],
        kinds: dict[str, Any],
        names: Sequence[str],
        vals: Sequence[Any],
        retry: bool = False,
    ) -> Any:
        """The graph for `kinds` with the dtypes of the tensors passed for parameters the
        generic graph takes as None (`attn_mask: Optional[Tensor]` read as `.dtype`), when
        their graph with unknown dtypes does not compile; None if it does not compile either
        (`retry`: the caller raises the first error)."""
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.dialects import torch as td

        typed = dict(kinds)
        for n, v in zip(names, vals, strict=True):
            k = kinds.get(n)
            if isinstance(v, Tensor) and isinstance(k, td.ValueTensorType) and k.meta.dtype is None:
                typed[n] = td.ValueTensorType.of(k.sizes, meta_of(v).dtype)
        key = tuple(sorted((k, str(v)) for k, v in typed.items()))
        if key not in cache:
            if typed == kinds and retry:
                return None
            try:
                cache[key] = self.__dict__["_compile_ir"](typed)
            except (FrontendError, ArgumentError):
                if retry:
                    return None
                raise
        return cache[key]

    def compiled_for(self, *args: Any, **kwargs: Any) -> Any:
        """The `CompiledFunction` this call signature runs (compiled on first use, then cached)."""
        self._g()  # switch to the current training flags' variants
        bound = self._bind(args, dict(kwargs))
        tk = self._tuple_kinds(bound)
        vals = self._flatten(bound, tk)
        sig = _signature(vals, tk)
        variants = self.__dict__["_variants"]
        cf = variants.get(sig)
        if cf is None:
            cf = self._variant_for(sig, vals, tk=tk)
            if len(variants) >= MAX_SIGNATURES:
                variants.clear()  # only the memo: compiled variants stay in _compiled
            variants[sig] = cf
        return cf, vals

    def _variant_for(
        self,
        sig: tuple[Any, ...],
        vals: Sequence[Any],
        exact: bool = False,
        tk: dict[str, Any] | None = None,
    ) -> Any:
        """A compiled variant whose shape pattern fits this call, or a new one: the dims that
        differ from the closest compiled variant (same scalars, ranks, dtypes) become `?`
        unless they are 0 or 1 (docs/shapes.md)."""
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.jit.specialize import compile_specialized

        skey = tuple(s for s in sig if s[0] != "T")
        arrays = [v._a for v in vals if isinstance(v, Tensor)]
        family = [cf for k, cf in self.__dict__["_compiled"] if k == skey]
        if not exact:
            for cf in reversed(family):
                if V.matches(cf.pattern, arrays):
                    return cf
        g = self._graph_for_kinds(vals, tk)
        owner = self._param_owner()
        if owner is not None and g.params:  # rebound since scripted: the current ones, or a
            g = dataclasses.replace(g, params=resolve_params(owner, g.params, self._name))  # raise
            _check_slots(self._name, g.module, g.params)  # (`m.double()`: same tensors)
        entry = self.__dict__["_entry"]
        pat = V.pattern_of(arrays)
        if getattr(self._g(), "needs_arg_types", False):
            exact = True  # `g` was compiled for these exact argument types: no `?` dims
        base = None if exact else V.pick_base([cf.pattern for cf in family], arrays)
        if base is not None and V.is_dynamic(gen := V.generalize(base, arrays)):
            try:
                cf = compile_specialized(_flat_view(g), entry, vals, [d for d, _ in gen])
                pat = gen
            except Exception as e:  # a lowering that cannot handle `?`: the exact signature
                V.note_fallback(self, gen, e)
                cf = None
        else:
            cf = None
        if cf is None:
            cf = compile_specialized(_flat_view(g), entry, vals)
        cf.pattern = pat
        if owner is not None:  # parameter names resolve there once something is rebound
            cf.bind_owner(owner, self.__dict__["_original"])  # (compiled from the original)
        self.__dict__["_compiled"].append((skey, cf))
        return cf

    def _param_owner(self) -> Module | None:
        """The module whose parameters and buffers the compiled code reads (by name)."""
        return None

    @property
    def variants(self) -> list[Any]:
        """The compiled variants (CompiledFunctions, each with its shape `pattern`)."""
        return [cf for _, cf in self.__dict__["_compiled"]]

    def specialized_ir(self, *args: Any) -> Any:
        """The torch IR after specialisation, inlining and shape refinement (for inspection)."""
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.jit.specialize import specialize

        bound = self._bind(args, {})
        tk = self._tuple_kinds(bound)
        vals = self._flatten(bound, tk)
        g = _flat_view(self._graph_for_kinds(vals, tk))
        return specialize(g, self.__dict__["_entry"], vals)[0]

    def run_reference(self, *args: Any, **kwargs: Any) -> Any:
        """Run the generic torch IR with the torch-level reference interpreter (no lowering)."""
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.frontends.torch_interpreter import run_torch

        bound = self._bind(args, dict(kwargs))
        tk = self._tuple_kinds(bound)
        vals = self._flatten(bound, tk)
        g = self._graph_for_kinds(vals, tk)
        fop = next(
            o
            for o in g.module.ops
            if o.name == "func.func" and o.sym_name.data == self.__dict__["_entry"]
        )
        # lazy: the compiler loads on first use; importing xjit.jit (an archive) stays light
        from xjit.dialects import torch as td

        call_args = [v for v, a in zip(vals, fop.body.block.args, strict=True)]
        del td
        outs = run_torch(g.module, self.__dict__["_entry"], call_args, g.params)
        import numpy as np

        result, _ = g.output_spec.rebuild(
            [Tensor(o) if isinstance(o, np.ndarray) else o for o in outs]
        )
        return result

    def _raise_first(self, args: tuple[Any, ...], kwargs: dict[str, Any], err: Exception) -> None:
        """A call whose specialised graph is refused (`batch_norm` of a 1-D input) may never
        get there: TorchScript first runs the `raise` that checks the input. When the graph
        raises, run it with the reference interpreter and raise what it raises."""
        g = self._g()
        if g.module is None or not any(
            op.name == "torch.prim.RaiseException" for op in g.module.walk()
        ):
            return
        try:
            self.run_reference(*args, **kwargs)
        except ScriptError as raised:
            raise raised from None
        except Exception:  # noqa: BLE001  (the compile error is the one to report)
            return

    def _call(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], eager: Callable[..., Any]
    ) -> Any:
        rec = _dispatch.current_recorder()
        if rec is not None and hasattr(rec, "record_call"):
            # Being traced: keep this graph (with its control flow) as a call in the trace.
            _dispatch.pop_recorder()
            try:
                result = eager(*args, **kwargs)
            finally:
                _dispatch.push_recorder(rec)
            rec.record_call(self, self._bind(args, dict(kwargs)), result)
            return result
        try:
            cf, vals = self.compiled_for(*args, **kwargs)
        except (ArgumentError, FrontendError) as e:
            self._raise_first(args, kwargs, e)
            raise
        tensors = [v for v in vals if isinstance(v, Tensor)]
        try:
            return cf(*tensors)
        except (TypeError, ValueError) as e:
            if isinstance(e, ArgumentError) or not is_dynamic(cf.pattern):
                raise
            # A generalised variant failed at run time (the graph depends on a dim in a way
            # refinement could not see): this signature gets an exact variant from now on.
            tk = self._tuple_kinds(self._bind(args, dict(kwargs)))
            sig = _signature(vals, tk)
            cf = self.__dict__["_variants"][sig] = self._variant_for(sig, vals, True, tk)
            return cf(*tensors)


class _ScriptMeta(type):
    """The legacy spelling `class M(torch.jit.ScriptModule)` with `@torch.jit.script_method`
    methods: once the most derived class's `__init__` has run, the instance scripts itself
    (its own Python methods are the source), as torch's ScriptMeta does."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__call__(*args, **kwargs)
        if cls is not ScriptModule and "_generic" not in obj.__dict__:
            obj._setup(obj)
        return obj


class ScriptModule(Module, _Scripted, metaclass=_ScriptMeta):
    """A Module whose `forward` was compiled from its source. Shares submodules and parameters
    with the original; `graph`/`code` show the generic graph, calls run compiled code.

    Subclassed (the legacy spelling), `ScriptModule.__init__()` takes no original: the
    subclass's `forward` and `@script_method`s are compiled when its `__init__` returns."""

    def __init__(self, original: Module | None = None) -> None:
        super().__init__()
        if original is not None:
            self._setup(original)

    def _setup(self, original: Module) -> None:
        # lazy: the scripting frontend loads when something is scripted, not with an archive
        from xjit.frontends.script import script_module_ir

        legacy = original is self
        if legacy and not inspect.isfunction(getattr(type(self), "forward", None)):
            raise TypeError(
                f"{type(self).__name__}: a ScriptModule subclass needs a forward method"
            )
        object.__setattr__(self, "_original", original)
        object.__setattr__(self, "_original_name", type(original).__name__)
        object.__setattr__(self, "_name", "forward")
        if not legacy:
            self._share_state_of(original)
        self._init_scripted(
            lambda kinds: script_module_ir(original, kinds, training=self.training, root_view=self),
            "forward",
        )
        for name in _exported_methods(type(original)):
            object.__setattr__(self, name, _ScriptMethod(self, original, name))
        if legacy:  # `m.forward(x)` runs the compiled code too
            object.__setattr__(self, "forward", self.__call__)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            original = self.__dict__.get("_original")
            if original is not None and name in original.__dict__:  # plain attributes
                return original.__dict__[name]
            if original is not None:  # class attributes (`k: Final[int] = 2`, `scale = 0.5`)
                v = inspect.getattr_static(type(original), name, None)
                if isinstance(v, _CLASS_DATA):
                    return v
            raise

    def _current_training_key(self) -> tuple[Any, ...] | None:
        return _state_key(self, self.__dict__.get("_generic"))

    def _param_owner(self) -> Module | None:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(args, kwargs, self.__dict__["_original"])

    @property
    def forward(self) -> Any:  # type: ignore[override]
        return self.__call__

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def __repr__(self) -> str:
        return _script_repr(self)


# The class attributes a scripted module reads as values (TorchScript's attribute types).
_CLASS_DATA = (bool, int, float, str, tuple, list)


def _script_repr(m: Module) -> str:
    """TorchScript's hierarchy: `RecursiveScriptModule(original_name=MyCell ...)`, for every
    module below a scripted one too (`(linear): RecursiveScriptModule(original_name=Linear)`)."""
    name = m.__dict__.get("_original_name") or m._get_name()
    lines = [
        f"({n}): {_script_repr(c)}".replace("\n", "\n  ")
        for n, c in m._modules.items()
        if c is not None
    ]
    if not lines:
        return f"RecursiveScriptModule(original_name={name})"
    return f"RecursiveScriptModule(\n  original_name={name}\n  " + "\n  ".join(lines) + "\n)"


def _check_slots(what: str, module: Any, params: dict[str, Tensor]) -> None:
    """A RebindError if a parameter's array no longer has the dtype or shape its graph was
    scripted with (`torch.global_slot` types; `m.double()` converts the same tensors)."""
    for op in module.ops if module is not None else ():
        meta = getattr(getattr(op, "type", None), "meta", None)
        t = params.get(op.sym_name.data) if op.name == "torch.global_slot" else None
        if t is None or meta is None or meta.dtype is None or meta.shape is None:
            continue
        a = t._a
        dims = tuple(meta.shape)
        if (
            a.dtype != meta.dtype.np
            or len(a.shape) != len(dims)
            or any(d is not None and d != n for d, n in zip(dims, a.shape, strict=True))
        ):
            raise RebindError(
                f"{what}(): '{op.sym_name.data}' was scripted as {meta.dtype.np} "
                f"{list(meta.shape)}, but is now {a.dtype} {list(a.shape)} (replaced after "
                "scripting); script the module again"
            )


def _flat_view(g: Any) -> Any:
    """`g` with one argument name per entry block argument (tuple parameters' leaves)."""
    flat = getattr(g, "flat_names", None)
    if flat is None or flat == g.arg_names:
        return g
    return dataclasses.replace(g, arg_names=list(flat))


def _state_key(root: Module, g: Any) -> tuple[Any, ...] | None:
    """What a module's compiled graph `g` depends on besides its arguments, read when it runs
    in TorchScript: the training flags (if it reads any) and the module attributes it read
    (`self.k`, not Final). None if nothing."""
    if g is None:
        return None
    key: list[Any] = []
    if getattr(g, "reads_training", False):
        key.append(tuple(bool(m.training) for m in root.modules()))
    for path, name in getattr(g, "attr_reads", ()):
        m = root
        for part in path.split(".") if path else []:
            m = m._modules[part]
        key.append(_hashable(getattr(m, name, None)))
    return tuple(key) if key else None


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, *(_hashable(x) for x in v))
    if isinstance(v, dict):
        return ("dict", *((k, _hashable(x)) for k, x in v.items()))
    return (type(v).__name__, v)


def _exported_methods(cls: type) -> list[str]:
    return [
        n
        for n in dir(cls)
        if n != "forward" and getattr(getattr(cls, n, None), "_xjit_export", False)
    ]


class _ScriptMethod(_Scripted):
    """An `@torch.jit.export` method of a ScriptModule, compiled like its forward."""

    def __init__(self, owner: ScriptModule, original: Module, name: str) -> None:
        # lazy: the scripting frontend loads when something is scripted, not with an archive
        from xjit.frontends.script import script_module_ir

        self.__dict__["_owner"] = owner
        self.__dict__["_original"] = original
        self.__dict__["_name"] = name
        self._init_scripted(
            lambda kinds: script_module_ir(
                original, kinds, training=owner.training, method=name, root_view=owner
            ),
            name,
        )

    def _current_training_key(self) -> tuple[Any, ...] | None:
        return _state_key(self.__dict__["_owner"], self.__dict__.get("_generic"))

    def _param_owner(self) -> Module | None:
        return self.__dict__["_owner"]  # type: ignore[no-any-return]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        original = self.__dict__["_original"]
        fn = getattr(type(original), self.__dict__["_name"])  # (the instance's is this)
        return self._call(args, kwargs, types.MethodType(fn, original))

    def __repr__(self) -> str:
        return f"<xjit.jit.ScriptMethod {self.__dict__['_name']}>"


class ScriptFunction(_Scripted):
    """A function compiled from its source; call it like the function."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        # lazy: the scripting frontend loads when something is scripted, not with an archive
        from xjit.frontends.script import function_ir, script_function_ir

        self.__dict__["_fn"] = fn
        self.__dict__["_name"] = fn.__name__
        self.__dict__["name"] = fn.__name__
        self.__wrapped__ = fn
        self._init_scripted(
            lambda kinds: function_ir(fn) if kinds is None else script_function_ir(fn, kinds),
            fn.__name__,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(args, kwargs, self.__dict__["_fn"])

    def __repr__(self) -> str:
        return f"<xjit.jit.ScriptFunction {self.__dict__['_name']}>"


def export(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`@torch.jit.export`: script this method too (callable on the ScriptModule)."""
    fn._xjit_export = True  # type: ignore[attr-defined]
    return fn


def script_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`@torch.jit.script_method` (legacy, in a `ScriptModule` subclass): compiled when the
    instance is created, and callable on it as compiled code."""
    fn._xjit_export = True  # type: ignore[attr-defined]
    return fn


def ignore(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`@torch.jit.ignore`: leave this method Python; scripted code may not call it (xjit has
    no calls back into Python: a located error)."""
    fn._xjit_ignore = True  # type: ignore[attr-defined]
    return fn


def unused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`@torch.jit.unused`: do not compile this method; calling it from scripted code is a
    located error (TorchScript raises when the call runs)."""
    fn._xjit_unused = True  # type: ignore[attr-defined]
    return fn


Final = typing.Final  # `k: torch.jit.Final[int]`: a constant attribute, frozen when scripted


_SCRIPT_FUNCTIONS: dict[Callable[..., Any], ScriptFunction] = {}  # script(f) is script(f)


def script(obj: Any) -> Any:
    """Compile a Module (its `forward`, and the submodules it calls) or a function from source.

    Already traced or scripted modules are returned as they are. Usable as a decorator.
    """
    if isinstance(obj, (ScriptModule, TracedModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return ScriptModule(obj)
    if callable(obj):
        sf = _SCRIPT_FUNCTIONS.get(obj)
        if sf is None:
            sf = _SCRIPT_FUNCTIONS[obj] = ScriptFunction(obj)
        return sf
    raise TypeError(f"script expects a Module or a function, got {type(obj).__name__}")
