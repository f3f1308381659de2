"""`convert-loop-to-scf`: lower `loop` nests to upstream `scf.for` + `memref` + `arith`.

Each `loop.nest` becomes a perfect nest of `scf.for %iv = 0 to %bound step 1` (outermost = first
dim) whose innermost body holds the nest's body. `loop.load`/`loop.store` become
`memref.load`/`memref.store` with their affine maps expanded into `arith` ops on `index`, so the
result runs in xDSL's interpreter and in upstream MLIR. Iterator kinds are dropped: sequential
lexicographic execution satisfies both `parallel` and `reduction` semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
    AffineMap,
)
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint

from xjit.dialects import loop


def _constant(value: int, ops: list[Operation]) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr.from_index_int_value(value))
    op.result.name_hint = f"c{value}" if value >= 0 else f"c_neg{-value}"
    ops.append(op)
    return op.result


def _expand_expr(expr: AffineExpr, dims: Sequence[SSAValue], ops: list[Operation]) -> SSAValue:
    """Appends to `ops` the `arith` ops that compute `expr`; returns the resulting value."""
    match expr:
        case AffineDimExpr():
            return dims[expr.position]
        case AffineConstantExpr():
            return _constant(expr.value, ops)
        case AffineBinaryOpExpr(kind=AffineBinaryOpKind.Add):
            lhs = _expand_expr(expr.lhs, dims, ops)
            rhs = _expand_expr(expr.rhs, dims, ops)
            ops.append(op := arith.AddiOp(lhs, rhs))
            return op.result
        case AffineBinaryOpExpr(kind=AffineBinaryOpKind.Mul):
            lhs = _expand_expr(expr.lhs, dims, ops)
            rhs = _expand_expr(expr.rhs, dims, ops)
            ops.append(op := arith.MuliOp(lhs, rhs))
            return op.result
        case AffineBinaryOpExpr(kind=AffineBinaryOpKind.FloorDiv, rhs=AffineConstantExpr()):
            lhs = _expand_expr(expr.lhs, dims, ops)
            ops.append(op := arith.FloorDivSIOp(lhs, _constant(expr.rhs.value, ops)))
            return op.result
        case AffineBinaryOpExpr(kind=AffineBinaryOpKind.Mod, rhs=AffineConstantExpr()):
            # Affine `mod` is never negative (for a positive divisor) but `arith.remsi` takes
            # the dividend's sign, so compute `a - (a floordiv b) * b` instead.
            lhs = _expand_expr(expr.lhs, dims, ops)
            rhs = _constant(expr.rhs.value, ops)
            ops.append(quot := arith.FloorDivSIOp(lhs, rhs))
            ops.append(prod := arith.MuliOp(quot, rhs))
            ops.append(op := arith.SubiOp(lhs, prod))
            return op.result
        case _:
            raise NotImplementedError(
                f"convert-loop-to-scf: unsupported affine expression '{expr}' "
                "(supported: dims, constants, +, * by constant, floordiv/mod by constant)"
            )


def expand_affine_map(
    amap: AffineMap, dims: Sequence[SSAValue]
) -> tuple[list[Operation], list[SSAValue]]:
    """The `arith` ops computing `amap(dims)` on `index`, and one value per map result."""
    if amap.num_symbols:
        raise NotImplementedError("convert-loop-to-scf: affine maps with symbols")
    ops: list[Operation] = []
    return ops, [_expand_expr(e, dims, ops) for e in amap.results]


class LowerLoad(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: loop.LoadOp, rewriter: PatternRewriter):
        ops, indices = expand_affine_map(op.map.data, op.indices)
        rewriter.insert(ops)
        rewriter.replace(op, memref.LoadOp.get(op.memref, indices))


class LowerStore(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: loop.StoreOp, rewriter: PatternRewriter):
        ops, indices = expand_affine_map(op.map.data, op.indices)
        rewriter.insert(ops)
        rewriter.replace(op, memref.StoreOp.get(op.value, op.memref, indices))


class LowerNest(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: loop.NestOp, rewriter: PatternRewriter):
        nest_block = op.body.block
        terminator = nest_block.last_op
        assert isinstance(terminator, loop.YieldOp)
        rewriter.erase(terminator)
        if not op.bounds:
            # A 0-d nest runs its body once.
            rewriter.inline_block(nest_block, InsertPoint.before(op))
            rewriter.erase(op)
            return

        zero = arith.ConstantOp(IntegerAttr.from_index_int_value(0))
        one = arith.ConstantOp(IntegerAttr.from_index_int_value(1))
        zero.result.name_hint, one.result.name_hint = "c0", "c1"
        # Build the loops inside out: each loop's block holds the next loop and a `scf.yield`.
        innermost = Block([yield_op := scf.YieldOp()], arg_types=[IndexType()])
        blocks = [innermost]
        for bound in reversed(op.bounds[1:]):
            inner = scf.ForOp(zero, bound, one, [], Region(blocks[-1]))
            blocks.append(Block([inner, scf.YieldOp()], arg_types=[IndexType()]))
        outer = scf.ForOp(zero, op.bounds[0], one, [], Region(blocks[-1]))
        rewriter.insert([zero, one, outer])

        # The nest's body moves into the innermost loop, its block arguments replaced by the
        # loops' induction variables (outermost first).
        ivs = [b.args[0] for b in reversed(blocks)]
        rewriter.inline_block(nest_block, InsertPoint.before(yield_op), ivs)
        rewriter.erase(op)


@dataclass(frozen=True)
class ConvertLoopToScf(ModulePass):
    """Lowers `loop.nest`/`loop.load`/`loop.store` to `scf.for` + `memref.load`/`memref.store`."""

    name = "convert-loop-to-scf"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # No DCE: a conversion pass should not drop (dead) ops the user wrote.
        PatternRewriteWalker(
            GreedyRewritePatternApplier([LowerNest(), LowerLoad(), LowerStore()], dce_enabled=False)
        ).rewrite_module(op)
