"""Shape inference patterns of the torch dialect: the `TorchShapeInference` trait's (xDSL's
`HasShapeInferencePatternsTrait`, dialects/torch.py).

Each refines one op's result types in place: an aten op's become what its registry shape rule
derives from its operands (never less precise than the type it had; scalar operands are evaluated
through their folds); `torch.tensor_static_info_cast` takes its operand's type when that is more
precise; tuples carry their elements' types. `torch-shape-refinement`
(passes/torch_shape_refinement.py) drives them through control flow; upstream `shape-inference`
runs them on straight-line code.

The patterns are built on the dialect's op classes, so the dialect does not import them: they
register themselves with its shape inference trait when this module is imported, which
`xjit.dialects` does whenever it loads the torch dialect (as torch_canonicalization.py does).
"""

from __future__ import annotations

from typing import Any

from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern

from xjit.dialects import torch as td
from xjit.ops.registry import UNKNOWN
from xjit.ops.types import ShapeError, TensorMeta


def join(a: Attribute, b: Attribute) -> Attribute:
    if a == b:
        return a
    if isinstance(a, td.ValueTensorType) and isinstance(b, td.ValueTensorType):
        dt = a.element_dtype if a.element_dtype == b.element_dtype else None
        x, y = a.sizes, b.sizes
        shape = (
            None
            if x is None or y is None or len(x) != len(y)
            else tuple(p if p == q else None for p, q in zip(x, y, strict=True))
        )
        return td.ValueTensorType.of(shape, dt)
    return a


def meet(a: Attribute, b: Attribute) -> Attribute:
    """The more precise of two compatible tensor types (a if they contradict)."""
    if a == b or not (isinstance(a, td.ValueTensorType) and isinstance(b, td.ValueTensorType)):
        return a
    if not td.types_compatible(a, b):
        return a
    dt = a.element_dtype or b.element_dtype
    x, y = a.sizes, b.sizes
    if x is None:
        shape = y
    elif y is None:
        shape = x
    else:
        shape = tuple(p if p is not None else q for p, q in zip(x, y, strict=True))
    return td.ValueTensorType.of(shape, dt)


def value_of(v: SSAValue) -> Any:
    """What a shape rule sees for `v` (`td._meta_or_const`), where scalar ops are evaluated
    through their registry `fold`, without rewriting them: `x.size(0)` on an operand refined to
    a static shape is that size, so `x.reshape((x.size(0), -1))` keeps its rank. (Rewriting
    here would be wrong: inside a loop body, types are guesses until the fixpoint.)"""
    owner = v.owner
    if isinstance(owner, td.AtenOp) and owner.OPDEF.fold is not None and len(owner.results) == 1:
        folded = owner.OPDEF.fold(*(value_of(o) for o in owner.operands))
        return UNKNOWN if folded is None else folded
    if isinstance(owner, td.PrimListConstructOp):
        vals = [value_of(e) for e in owner.elements]
        return UNKNOWN if any(x is UNKNOWN for x in vals) else vals
    return td._meta_or_const(v)


# -- shape inference patterns (the ops' `TorchShapeInference` trait hands them out) -------------
# Each refines its op's result types in place from its operands' types, never below what they
# were (`meet`). A contradiction raises `ShapeError`: the driver fails on it when strict and
# otherwise leaves the op as it is. They also run under upstream `shape-inference`.


def _refine(rewriter: PatternRewriter, v: SSAValue, t: Attribute) -> None:
    if v.type != t:
        rewriter.replace_value_with_new_type(v, t)


class RefineAtenResults(RewritePattern):
    """An aten op's result types, from its registry shape rule."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.AtenOp):
            return
        metas = [value_of(v) for v in op.operands]
        if any(isinstance(m, TensorMeta) and (m.shape is None or m.dtype is None) for m in metas):
            return
        try:
            inferred = op.OPDEF.shape(*metas)
        except ShapeError:  # a ValueError, but one the driver must see
            raise
        except (NotImplementedError, TypeError, ValueError):
            return
        outs = inferred if isinstance(inferred, tuple) else (inferred,)
        contradiction = None
        for i, m in enumerate(outs[: len(op.results)]):
            base = op.results[i].type
            if isinstance(m, TensorMeta) and isinstance(base, td.ValueTensorType):
                t = td.ValueTensorType.of(m.shape, m.dtype)
                if not td.types_compatible(t, base):
                    contradiction = contradiction or f"derived type {t} contradicts {base}"
                _refine(rewriter, op.results[i], meet(t, base))
        if contradiction is not None:
            raise ShapeError(contradiction)


class RefineStaticInfoCast(RewritePattern):
    """`torch.tensor_static_info_cast` takes its operand's type where that is more precise."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.TensorStaticInfoCastOp):
            return
        declared = op.result.type
        if not td.types_compatible(op.operand.type, declared):
            raise ShapeError(f"{op.operand.type} cannot be cast to {declared}")
        _refine(rewriter, op.result, meet(op.operand.type, declared))


class RefineTuple(RewritePattern):
    """Tuples carry their elements' types; unpacking gives them back."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, td.PrimTupleConstructOp):
            _refine(rewriter, op.result, td.TupleType([e.type for e in op.elements]))
        elif isinstance(op, td.PrimTupleUnpackOp):
            t = op.tup.type
            assert isinstance(t, td.TupleType)
            for r, ct in zip(list(op.results), t.contained_types.data, strict=True):
                _refine(rewriter, r, ct)


SHAPE_PATTERNS: tuple[RewritePattern, ...] = (
    RefineAtenResults(),
    RefineStaticInfoCast(),
    RefineTuple(),
)
td.TorchShapeInference.patterns = SHAPE_PATTERNS
