"""`convert-loop-to-scf`: lower `loop` nests to upstream `scf.for` + `memref` + `arith`.

Each `loop.nest` becomes a perfect nest of `scf.for %iv = 0 to %bound step 1` (outermost = first
dim) whose innermost body holds the nest's body. `loop.load`/`loop.store` become
`memref.load`/`memref.store` with their affine maps expanded into `arith` ops on `index`, so the
result runs in xDSL's interpreter and in upstream MLIR. Iterator kinds are dropped: sequential
lexicographic execution satisfies both `parallel` and `reduction` semantics.

`scatter.nonzero` (on memrefs) becomes the same kind of nest over its source, carrying the next
row of `dest` as an `iter_arg`: where an element is nonzero, its coordinates are stored in that
row and the count moves on (row-major order, as torch's `nonzero`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import (
    AnyFloat,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    i64,
)
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

from xjit.dialects import loop, scatter


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


def _is_nonzero(v: SSAValue, ops: list[Operation]) -> SSAValue:
    """`v != 0` as an i1 (NaN is nonzero: `une`, as torch)."""
    t = v.type
    if t == IntegerType(1):
        return v
    if isinstance(t, AnyFloat):
        ops.append(zero := arith.ConstantOp(FloatAttr(0.0, t)))
        ops.append(cmp := arith.CmpfOp(v, zero, "une"))
    else:
        ops.append(zero := arith.ConstantOp(IntegerAttr(0, t)))
        ops.append(cmp := arith.CmpiOp(v, zero, "ne"))
    return cmp.result


def _nonzero_body(
    op: scatter.NonzeroOp, ivs: Sequence[SSAValue], row: SSAValue, one: SSAValue
) -> list[Operation]:
    """The innermost loop's ops: if source[ivs] is nonzero, store ivs as dest[row, :] and yield
    row + 1, else yield row."""
    ops: list[Operation] = [val := memref.LoadOp.get(op.source, ivs)]
    hit = _is_nonzero(val.res, ops)
    then: list[Operation] = []
    for col, iv in enumerate(ivs):
        then.append(c := arith.ConstantOp(IntegerAttr.from_index_int_value(col)))
        then.append(coord := arith.IndexCastOp(iv, i64))
        then.append(memref.StoreOp.get(coord.result, op.dest, [row, c.result]))
    then += [nxt := arith.AddiOp(row, one), scf.YieldOp(nxt)]
    ops.append(branch := scf.IfOp(hit, [IndexType()], then, [scf.YieldOp(row)]))
    return [*ops, scf.YieldOp(branch.results[0])]


class LowerNonzero(RewritePattern):
    """One scf.for per source dim, the next free row of `dest` carried through all of them."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scatter.NonzeroOp, rewriter: PatternRewriter):
        src = op.source.type
        if op.result is not None or not isinstance(src, MemRefType):
            return  # on tensors: bufferize first
        rank = src.get_num_dims()
        ops: list[Operation] = [zero := arith.ConstantOp(IntegerAttr.from_index_int_value(0))]
        ops.append(one := arith.ConstantOp(IntegerAttr.from_index_int_value(1)))
        zero.result.name_hint, one.result.name_hint = "c0", "c1"
        bounds = []
        for d in range(rank):
            ops.append(dim := arith.ConstantOp(IntegerAttr.from_index_int_value(d)))
            ops.append(size := memref.DimOp.from_source_and_index(op.source, dim))
            bounds.append(size.result)
        if rank == 0:  # one element, no coordinates: dest has no columns to fill
            rewriter.insert(ops)
            rewriter.erase(op)
            return
        # Inside out: each block takes (iv, row) and yields the row after its loop.
        blocks = [Block(arg_types=[IndexType(), IndexType()]) for _ in range(rank)]
        ivs = [b.args[0] for b in blocks]
        for b in blocks:
            b.args[0].name_hint, b.args[1].name_hint = "i", "row"
        blocks[-1].add_ops(_nonzero_body(op, ivs, blocks[-1].args[1], one.result))
        for d in reversed(range(rank - 1)):
            inner = scf.ForOp(zero, bounds[d + 1], one, [blocks[d].args[1]], Region(blocks[d + 1]))
            blocks[d].add_ops([inner, scf.YieldOp(inner.results[0])])
        ops.append(scf.ForOp(zero, bounds[0], one, [zero.result], Region(blocks[0])))
        rewriter.insert(ops)
        rewriter.erase(op)


@dataclass(frozen=True)
class ConvertLoopToScf(ModulePass):
    """Lowers `loop.nest`/`loop.load`/`loop.store` (and `scatter.nonzero` on memrefs) to
    `scf.for` + `memref.load`/`memref.store`."""

    name = "convert-loop-to-scf"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # No DCE: a conversion pass should not drop (dead) ops the user wrote.
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [LowerNest(), LowerLoad(), LowerStore(), LowerNonzero()], dce_enabled=False
            )
        ).rewrite_module(op)
