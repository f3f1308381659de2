"""Compiling generated source once into callables: `compile_module` and `NumpyProgram`."""

from __future__ import annotations

import itertools
import linecache
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp

from xjit import _versions
from xjit.backends.numpy import runtime
from xjit.backends.numpy.diagnostics import XjitPerformanceWarning
from xjit.backends.numpy.dtypes import memref_shape, np_dtype

_counter = itertools.count()


class NumpyProgram:
    """The compiled functions of one module; `source` is the generated Python."""

    def __init__(self, source: str, functions: Mapping[str, Callable[..., tuple[np.ndarray, ...]]]):
        self.source = source
        self._functions = dict(functions)
        self.artifact: ProgramArtifact | None = None  # set by load_artifact

    def __getitem__(self, func_name: str) -> Callable[..., tuple[np.ndarray, ...]]:
        return self._functions[func_name]

    def __contains__(self, func_name: object) -> bool:
        return func_name in self._functions

    @property
    def function_names(self) -> list[str]:
        return list(self._functions)

    def __repr__(self) -> str:
        return f"NumpyProgram({', '.join(self._functions)})"


def _initial_values(module: ModuleOp) -> dict[str, np.ndarray]:
    """Values of `memref.global`s that carry a dense initialiser."""
    out: dict[str, np.ndarray] = {}
    for op in module.ops:
        # By name, not isinstance(op, memref.GlobalOp): loading a cached program (compile cache,
        # archives) then needs no memref dialect import (issue 14, warm start).
        if op.name == "memref.global" and isinstance(
            getattr(op, "initial_value", None), DenseIntOrFPElementsAttr
        ):
            t = op.type
            values = op.initial_value.get_values()
            shape = tuple(d for d in memref_shape(t))  # globals are statically shaped
            arr = np.array(values, dtype=np_dtype(t.element_type))
            out[op.sym_name.data] = (
                arr.reshape(shape) if arr.size == np.prod(shape) else np.broadcast_to(arr, shape)
            )  # type: ignore[arg-type]
    return out


def _read_only(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False  # generated code must never write a parameter
    return view


@dataclass
class ProgramArtifact:
    """Everything needed to load a program without its IR: what the persistent compile cache
    (xjit/jit/compile_cache.py) stores. `global_specs` maps a global's symbol to its numpy dtype
    name and shape (None for dynamic dims); `constants` holds the dense initial values."""

    source: str
    functions: dict[str, str]  # func.func symbol -> generated function name
    globals: dict[str, str]  # generated global name -> memref.global symbol
    global_specs: dict[str, tuple[str, tuple[int | None, ...]]]
    constants: dict[str, np.ndarray]
    warnings: list[str] = field(default_factory=list)


def artifact_of(module: ModuleOp) -> ProgramArtifact:
    """Generate numpy code for a loops-stage `module`."""
    # lazy: a compile-cache hit loads a program without importing the code generator
    from xjit.backends.numpy.codegen import generate

    gen = generate(module)
    specs = {
        s: (np_dtype(t.element_type).name, memref_shape(t)) for s, t in gen.global_types.items()
    }
    return ProgramArtifact(
        gen.source,
        dict(gen.functions),
        dict(gen.globals),
        specs,
        _initial_values(module),
        list(gen.warnings),
    )


def compile_module(
    module: ModuleOp, globals: Mapping[str, np.ndarray] | None = None, tracked: bool = False
) -> NumpyProgram:
    """Generate numpy code for a loops-stage `module` and compile it once.

    `globals` binds `memref.get_global @name` to arrays (read-only for the program). Nests that
    cannot be vectorized run as scalar loops and raise an `XjitPerformanceWarning` here.
    `tracked`: the globals are tensors' arrays, whose writes xjit sees (xjit/_versions.py);
    otherwise they are the caller's numpy arrays, which the program never caches from.
    """
    art = artifact_of(module)
    for msg in art.warnings:
        warnings.warn(msg, XjitPerformanceWarning, stacklevel=2)
    return load_artifact(art, globals, tracked)


def load_artifact(
    art: ProgramArtifact, globals: Mapping[str, np.ndarray] | None = None, tracked: bool = False
) -> NumpyProgram:
    """Compile generated source once, binding its globals (warnings are the caller's;
    `tracked` as for `compile_module`)."""
    if not tracked:
        for arr in (globals or {}).values():
            _versions.expose(arr)  # the caller can write it unseen: no cached copies of it
    bound = {**art.constants, **(globals or {})}
    namespace: dict[str, object] = {
        "__name__": "xjit_generated",
        "np": np,
        "rt": runtime,
        "_fp_set": runtime.fp_set,
        "_fp_reset": runtime.fp_reset,
        "_FP_IGNORE": runtime.FP_IGNORE,
    }
    for py_name, symbol in art.globals.items():
        if symbol not in bound:
            raise KeyError(f"memref.get_global @{symbol}: no array bound to this global")
        arr = np.asarray(bound[symbol])
        dtype_name, shape = art.global_specs[symbol]
        want = np.dtype(dtype_name)
        if (
            arr.dtype != want
            or arr.ndim != len(shape)
            or any(d is not None and d != s for d, s in zip(shape, arr.shape, strict=True))
        ):
            raise ValueError(
                f"global @{symbol}: expected {want} of shape {shape}, got {arr.dtype} {arr.shape}"
            )
        namespace[py_name] = _read_only(arr)
    # A unique file name registered with linecache: tracebacks show the generated lines.
    filename = f"<xjit-numpy-{next(_counter)}>"
    linecache.cache[filename] = (len(art.source), None, art.source.splitlines(True), filename)
    exec(compile(art.source, filename, "exec"), namespace)  # noqa: S102 - our generated code
    functions = {sym: namespace[py] for sym, py in art.functions.items()}
    program = NumpyProgram(art.source, functions)  # type: ignore[arg-type]
    program.artifact = art
    return program
