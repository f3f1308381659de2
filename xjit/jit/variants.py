"""Automatic dynamic shapes: compiled variants keyed by input signature (see docs/shapes.md).

A traced or scripted function is compiled once per *shape pattern*: a tuple, per tensor
argument, of (dims, dtype) where a dim is an int (static) or None (`?`, dynamic). The first call
(the trace's example, or a script's first call) compiles an exact pattern. A later call whose
shapes differ from every compiled pattern (same ranks and dtypes) compiles a pattern where the
dims that changed are `?`; further calls with other values of those dims reuse it.

Size 0 and size 1 are never generalised (broadcasting and empty tensors behave differently):
a dim observed as 0 or 1 stays static, and a `?` dim only accepts values >= 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xjit.ops.types import from_numpy_dtype

Dims = tuple[int | None, ...]
Pattern = tuple[tuple[Dims, np.dtype], ...]

SPECIAL_SIZES = (0, 1)
MAX_SIGNATURES = 512  # memoised exact signature -> variant entries per function


def pattern_of(arrays: Sequence[np.ndarray]) -> Pattern:
    return tuple((tuple(a.shape), a.dtype) for a in arrays)


def matches(pattern: Pattern, arrays: Sequence[np.ndarray]) -> bool:
    """Whether the arrays fit `pattern` (a `?` dim takes any size >= 2)."""
    if len(pattern) != len(arrays):
        return False
    for (dims, dt), a in zip(pattern, arrays, strict=True):
        if a.dtype != dt or len(a.shape) != len(dims):
            return False
        for p, s in zip(dims, a.shape, strict=True):
            if (s != p) if p is not None else (s < 2):
                return False
    return True


def same_kind(pattern: Pattern, arrays: Sequence[np.ndarray]) -> bool:
    """Same number of arguments, ranks and dtypes: a variant of it may be generalised."""
    return len(pattern) == len(arrays) and all(
        a.dtype == dt and a.ndim == len(dims) for (dims, dt), a in zip(pattern, arrays, strict=True)
    )


def generalize(base: Pattern, arrays: Sequence[np.ndarray]) -> Pattern:
    """`base` with every dim that differs in `arrays` made `?` (unless 0/1 on either side);
    a `?` dim of `base` that the call has as 0 or 1 becomes that static size."""
    out = []
    for (dims, dt), a in zip(base, arrays, strict=True):
        nd: list[int | None] = []
        for p, s in zip(dims, a.shape, strict=True):
            if s in SPECIAL_SIZES:
                nd.append(s)
            elif p is None or (p != s and p not in SPECIAL_SIZES):
                nd.append(None)
            else:
                nd.append(s)
        out.append((tuple(nd), dt))
    return tuple(out)


def is_dynamic(pattern: Pattern) -> bool:
    return any(d is None for dims, _ in pattern for d in dims)


def pattern_str(dims: Dims) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def pick_base(patterns: Sequence[Pattern], arrays: Sequence[np.ndarray]) -> Pattern | None:
    """The compiled pattern a new one generalises: same kind, fewest dims to change."""
    best, best_cost = None, None
    for p in patterns:
        if not same_kind(p, arrays):
            continue
        cost = sum(
            d is not None and d != s
            for (dims, _), a in zip(p, arrays, strict=True)
            for d, s in zip(dims, a.shape, strict=True)
        )
        if best_cost is None or cost < best_cost:
            best, best_cost = p, cost
    return best


def note_fallback(owner: Any, pattern: Pattern, err: BaseException) -> None:
    """Record why a generalised pattern was not used (`owner.dynamic_fallbacks`, for inspection)."""
    notes = owner.__dict__.setdefault("dynamic_fallbacks", [])
    if len(notes) < 32:
        notes.append((tuple(pattern_str(d) for d, _ in pattern), f"{type(err).__name__}: {err}"))


# -- IR ---------------------------------------------------------------------------------------------


def _rank_only(t: Any) -> Any:
    # lazy: the torch dialect and the passes load when a variant is compiled, not with xjit.jit
    from xjit.dialects import torch as td

    if isinstance(t, td.ValueTensorType) and t.sizes is not None:
        return td.ValueTensorType.of((None,) * len(t.sizes), t.element_dtype)
    return t


def erase_shapes(f: Any) -> None:
    """Forget the shapes that a trace (or a caller) wrote on every derived tensor of `f`: aten
    results, casts, prim.If/Loop results and loop-carried values keep rank and dtype only, so that
    `torch-shape-refinement` re-derives them from the argument types and constants."""
    # lazy: the torch dialect and the passes load when a variant is compiled, not with xjit.jit
    from xdsl.rewriter import Rewriter

    from xjit.dialects import torch as td

    for op in f.walk():
        if isinstance(op, (td.AtenOp, td.TensorStaticInfoCastOp, td.PrimIfOp, td.PrimLoopOp)):
            for r in list(op.results):
                _retype(Rewriter, r, _rank_only(r.type))
            if isinstance(op, td.PrimLoopOp):
                for a in list(op.body.block.args[1:]):
                    _retype(Rewriter, a, _rank_only(a.type))


def _retype(rewriter: Any, v: Any, t: Any) -> None:
    """Give `v` type `t` through xDSL's API (never by writing its private `_type`)."""
    if v.type != t:
        rewriter.replace_value_with_new_type(v, t)


def retype_module(source: Any, entry: str, pattern: Pattern, strict: bool = True) -> Any:
    """A clone of the torch module `source` whose `@entry` takes tensors of `pattern` (in the
    order of its tensor arguments), inlined and shape-refined from those types.

    Raises `ShapeError` (strict refinement) where the graph contradicts the pattern, e.g. a shape
    that a trace froze as constants."""
    # lazy: the torch dialect and the passes load when a variant is compiled, not with xjit.jit
    from xdsl.dialects import func
    from xdsl.dialects.builtin import FunctionType
    from xdsl.rewriter import Rewriter

    from xjit.dialects import make_context
    from xjit.dialects import torch as td
    from xjit.passes import get_pass
    from xjit.passes.torch_shape_refinement import refine_function

    module = source.clone()
    f = next(o for o in module.ops if isinstance(o, func.FuncOp) and o.sym_name.data == entry)
    block = f.body.block
    targs = [a for a in block.args if isinstance(a.type, td.ValueTensorType)]
    if len(targs) != len(pattern):
        raise ValueError(f"{entry}: {len(targs)} tensor arguments, pattern has {len(pattern)}")
    for arg, (dims, dt) in zip(targs, pattern, strict=True):
        _retype(Rewriter, arg, td.ValueTensorType.of(tuple(dims), from_numpy_dtype(dt)))
    f.function_type = FunctionType.from_lists(
        [a.type for a in block.args], list(f.function_type.outputs.data)
    )
    f.properties["function_type"] = f.function_type
    # Not verified until refinement has re-derived the types the new argument types imply.
    get_pass("inline")().apply(make_context(), module)
    f = next(o for o in module.ops if isinstance(o, func.FuncOp) and o.sym_name.data == entry)
    erase_shapes(f)
    refine_function(f, strict=strict)
    # Sizes computed in the graph (a trace's `x.size(0)`, recorded as `aten.size.int`) fold only
    # once refinement knows the shapes they read: fold, refine again, until none is left to fold.
    n = _scalar_ops(f)
    while n:
        get_pass("canonicalize")().apply(make_context(), module)
        refine_function(f, strict=strict)
        n, prev = _scalar_ops(f), n
        if n >= prev:
            break
    module.verify()
    return module


def _scalar_ops(f: Any) -> int:
    """How many scalar ops (`aten.size.int`, int arithmetic, ...) `f` computes."""
    # lazy: the torch dialect and the passes load when a variant is compiled, not with xjit.jit
    from xjit.dialects import torch as td

    return sum(1 for o in f.walk() if isinstance(o, td.AtenOp) and o.OPDEF.attrs.get("scalar"))
