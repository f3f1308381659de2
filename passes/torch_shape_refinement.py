"""`torch-shape-refinement`: propagate static shapes and dtypes through torch-dialect functions
once their argument types are known (run after `inline`; calls are left as they are).

Shape inference is a trait of the ops (`TorchShapeInference`, xDSL's
`HasShapeInferencePatternsTrait`, dialects/torch.py): its patterns
(dialects/torch_shape_inference.py) refine one op's result types in place. This pass is the
driver: it applies them in order and handles what needs more than one op: `torch.prim.If`
results become the join of both branches' types; `torch.prim.Loop` carried types are iterated
to a fixpoint (join of the initial values and what an iteration yields). Where a value of a
more precise type flows into a place of a less precise one (a yield, a loop init), a cast is
inserted, so the IR verifies after the pass; casts between equal types are removed, and function
result types follow the returned values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import HasShapeInferencePatternsTrait

from xjit.dialects import torch as td
from xjit.dialects.torch_shape_inference import join
from xjit.ops.types import ShapeError
from xjit.passes import loop_rank_change


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


# -- the driver --------------------------------------------------------------------------------


class _Refiner:
    """Walks a function in order, applying each op's shape inference patterns; joins
    `prim.If` results and iterates `prim.Loop` carried types to a fixpoint itself (types in a
    loop body are guesses until then, so they restart from the snapshot `original`)."""

    def __init__(self, strict: bool = False) -> None:
        self.original: dict[tuple[object, int], Attribute] = {}
        self.strict = strict
        # prim.If results whose branches give tensors of different ranks (their ranks)
        self.rank_joins: dict[tuple[object, int], tuple[int, ...]] = {}

    def _fail(self, op: Operation, msg: str) -> None:
        loc = op.location
        where = f" at {loc}" if loc is not None and "unknown" not in str(loc) else ""
        raise ShapeError(f"{op.name}{where}: {msg}")

    def orig(self, v: SSAValue) -> Attribute:
        return self.original.setdefault(_key(v), v.type)

    def block(self, block: Block) -> None:
        for op in list(block.ops):  # (a loop may be replaced by its unrolled body)
            if op.parent is block:
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
            ranks = {loop_rank_change.rank(y.operands[i].type) for y in (ty, ey)}
            if None not in ranks and len(ranks) > 1:
                self.rank_joins[_key(op.results[i])] = tuple(sorted(ranks))  # type: ignore[arg-type]
            t = join(ty.operands[i].type, ey.operands[i].type)
            _set_type(op.results[i], t)
            for y in (ty, ey):
                y.operands[i] = _cast_to(y.operands[i], t, y)

    def loop_fixpoint(self, op: td.PrimLoopOp) -> None:
        blk = op.body.block
        types = [v.type for v in op.iter_args_init]
        changes: dict[int, tuple[int, int]] = {}
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
            yielded = [v.type for v in cond.iter_args]
            changes.update(loop_rank_change.rank_changes(types, yielded))
            changes.update(self.joined_rank_changes(types, cond.iter_args))
            new = [join(t, y) for t, y in zip(types, yielded, strict=True)]
            if new == types:
                break
            types = new
        if changes:  # a carried tensor changes rank (passes/loop_rank_change.py)
            self.unroll_loop(op, changes)
            return
        cond = blk.last_op
        assert isinstance(cond, td.PrimLoopConditionOp)
        for i, t in enumerate(types):
            cond.operands[1 + i] = _cast_to(cond.operands[1 + i], t, cond)
            op.operands[2 + i] = _cast_to(op.operands[2 + i], t, op)
            _set_type(op.results[i], t)

    def joined_rank_changes(
        self, types: list[Attribute], yielded: Sequence[SSAValue]
    ) -> dict[int, tuple[int, int]]:
        """Carried tensors yielded from an `if` whose branches give another rank too."""
        out = {}
        for i, (t, v) in enumerate(zip(types, yielded, strict=True)):
            while isinstance(v, OpResult) and isinstance(v.op, td.TensorStaticInfoCastOp):
                v = v.op.operand
            r = loop_rank_change.rank(t)
            other = [k for k in self.rank_joins.get(_key(v), ()) if k != r]
            if r is not None and other:
                out[i] = (r, other[0])
        return out

    def unroll_loop(self, op: td.PrimLoopOp, changes: dict[int, tuple[int, int]]) -> None:
        got = loop_rank_change.unroll(op)
        if got is None:
            raise loop_rank_change.refusal(op, changes)
        pairs, carried = got
        for copy, orig in pairs:  # each copy's types start from the body's, as compiled
            for r, o in zip(copy.results, orig.results, strict=True):
                _set_type(r, self.orig(o))
            self.op(copy)
        for r, v in zip(op.results, carried, strict=True):
            r.replace_all_uses_with(v if isinstance(v, SSAValue) else v[0].results[v[1]])
        Rewriter.erase_op(op)


def _drop_trivial_casts(f: func.FuncOp) -> None:
    for op in list(f.walk()):
        if isinstance(op, td.TensorStaticInfoCastOp) and op.operand.type == op.result.type:
            Rewriter.replace_op(op, [], [op.operand])


def refine_function(f: func.FuncOp, strict: bool = False) -> None:
    """Refine `f` in place. `strict`: an op whose shape rule rejects its (refined) operands, or
    whose derived type contradicts its declared one, raises `ShapeError` naming the op and its
    source location (used to validate dynamic-shape variants, xjit/jit/variants.py); otherwise
    such an op keeps its declared type and the contradiction surfaces at verification or run time."""
    if len(f.body.blocks) != 1:  # a declaration, or cf-level IR (torch functions have one block)
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
