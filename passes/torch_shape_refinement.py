"""`torch-shape-refinement`: propagate static shapes and dtypes through torch-dialect functions
once their argument types are known (run after `inline`; calls are left as they are).

Shape inference is a trait of the ops (`TorchShapeInference`, xDSL's
`HasShapeInferencePatternsTrait`, dialects/torch.py): its patterns, below, refine one op's result
types in place: an aten op's become what its registry shape rule derives from its operands (never
less precise than the type it had; scalar operands are evaluated through their folds);
`torch.tensor_static_info_cast` takes its operand's type when that is more precise; tuples carry
their elements' types. This pass is the driver: it applies them in order and handles what needs
more than one op: `torch.prim.If` results become the join of both branches' types;
`torch.prim.Loop` carried types are iterated to a fixpoint (join of the initial values and
what an iteration yields). Where a value of a more precise type flows into a place of a less
precise one (a yield, a loop init), a cast is inserted, so the IR verifies after the pass; casts
between equal types are removed, and function result types follow the returned values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import HasShapeInferencePatternsTrait

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


def _set_type(v: SSAValue, t: Attribute) -> None:
    """Retype `v` through xDSL's API (a new SSA value takes the old one's uses)."""
    if v.type != t:
        Rewriter.replace_value_with_new_type(v, t)


def _key(v: SSAValue) -> tuple[object, int]:
    """A value's place (its op or block and index): stable across retyping, unlike the value."""
    if isinstance(v, OpResult):
        return (v.op, v.index)
    assert isinstance(v, BlockArgument)
    return (v.block, v.index)


def _cast_to(v: SSAValue, t: Attribute, before: Operation) -> SSAValue:
    if v.type == t:
        return v
    cast = td.TensorStaticInfoCastOp(v, t)
    cast.location = before.location
    Rewriter.insert_op(cast, InsertPoint.before(before))
    return cast.result


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


# -- the driver --------------------------------------------------------------------------------


class _Refiner:
    """Walks a function in order, applying each op's shape inference patterns; joins
    `prim.If` results and iterates `prim.Loop` carried types to a fixpoint itself (types in a
    loop body are guesses until then, so they restart from the snapshot `original`)."""

    def __init__(self, strict: bool = False) -> None:
        self.original: dict[tuple[object, int], Attribute] = {}
        self.strict = strict

    def _fail(self, op: Operation, msg: str) -> None:
        loc = op.location
        where = f" at {loc}" if loc is not None and "unknown" not in str(loc) else ""
        raise ShapeError(f"{op.name}{where}: {msg}")

    def orig(self, v: SSAValue) -> Attribute:
        return self.original.setdefault(_key(v), v.type)

    def block(self, block: Block) -> None:
        for op in block.ops:
            self.op(op)

    def op(self, op: Operation) -> None:
        trait = op.get_trait(HasShapeInferencePatternsTrait)
        if trait is not None:
            rewriter = PatternRewriter(op)
            for pattern in trait.get_shape_inference_patterns():
                try:
                    pattern.match_and_rewrite(op, rewriter)
                except ShapeError as e:
                    if self.strict:
                        self._fail(op, str(e))
        elif isinstance(op, td.PrimIfOp):
            self.join_if(op)
        elif isinstance(op, td.PrimLoopOp):
            self.loop_fixpoint(op)
        else:
            for region in op.regions:
                for b in region.blocks:
                    self.block(b)

    def join_if(self, op: td.PrimIfOp) -> None:
        self.block(op.then_region.block)
        self.block(op.else_region.block)
        ty, ey = op.then_region.block.last_op, op.else_region.block.last_op
        assert isinstance(ty, td.PrimIfYieldOp) and isinstance(ey, td.PrimIfYieldOp)
        for i in range(len(op.results)):
            t = join(ty.operands[i].type, ey.operands[i].type)
            _set_type(op.results[i], t)
            for y in (ty, ey):
                y.operands[i] = _cast_to(y.operands[i], t, y)

    def loop_fixpoint(self, op: td.PrimLoopOp) -> None:
        blk = op.body.block
        types = [v.type for v in op.iter_args_init]
        for _ in range(8):
            for a, t in zip(list(blk.args[1:]), types, strict=True):
                _set_type(a, t)
            for inner in blk.walk():
                for r in list(inner.results):
                    if _key(r) in self.original:
                        _set_type(r, self.original[_key(r)])
            self.block(blk)
            cond = blk.last_op
            assert isinstance(cond, td.PrimLoopConditionOp)
            new = [join(t, v.type) for t, v in zip(types, cond.iter_args, strict=True)]
            if new == types:
                break
            types = new
        cond = blk.last_op
        assert isinstance(cond, td.PrimLoopConditionOp)
        for i, t in enumerate(types):
            cond.operands[1 + i] = _cast_to(cond.operands[1 + i], t, cond)
            op.operands[2 + i] = _cast_to(op.operands[2 + i], t, op)
            _set_type(op.results[i], t)


def _drop_trivial_casts(f: func.FuncOp) -> None:
    for op in list(f.walk()):
        if isinstance(op, td.TensorStaticInfoCastOp) and op.operand.type == op.result.type:
            Rewriter.replace_op(op, [], [op.operand])


def refine_function(f: func.FuncOp, strict: bool = False) -> None:
    """Refine `f` in place. `strict`: an op whose shape rule rejects its (refined) operands, or
    whose derived type contradicts its declared one, raises `ShapeError` naming the op and its
    source location (used to validate dynamic-shape variants, xjit/jit/variants.py); otherwise
    such an op keeps its declared type and the contradiction surfaces at verification or run time."""
    if not f.body.blocks:
        return
    # Snapshot every result's type first, so loop fixpoints can restart from them.
    r = _Refiner(strict)
    for op in f.walk():
        for res in op.results:
            r.orig(res)
    r.block(f.body.block)
    _drop_trivial_casts(f)
    ret = f.body.block.last_op
    if isinstance(ret, func.ReturnOp):
        f.function_type = FunctionType.from_lists(
            list(f.function_type.inputs.data), [v.type for v in ret.arguments]
        )
        f.properties["function_type"] = f.function_type


@dataclass(frozen=True)
class TorchShapeRefinement(ModulePass):
    name = "torch-shape-refinement"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for f in op.ops:
            if isinstance(f, func.FuncOp):
                if (
                    f.sym_visibility is not None
                    and f.sym_visibility.data == "private"
                    and any(isinstance(o, func.CallOp) for o in op.walk())
                ):
                    # A callee's result types must stay what its callers expect.
                    continue
                refine_function(f)
