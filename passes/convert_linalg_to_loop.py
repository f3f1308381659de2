"""`convert-linalg-to-loop`: the buffers stage to the loops stage (see docs/contracts.md).

Every linalg op on memrefs, and `memref.copy`, becomes one `loop.nest`:

- bounds: one per loop, taken from an operand dim that the indexing maps send that loop to
  (a static size wins: `arith.constant .. : index` before the nest; otherwise `memref.dim`);
- iterator kinds from the op's `iterator_types`;
- each `ins`/`outs` body argument that is used -> a `loop.load` through the operand's map
  (a scalar `ins` operand is used as it is); `linalg.index` -> the induction variable;
- the body ops move into the nest; `linalg.yield` -> one `loop.store` per `outs` buffer; a
  `memref.load` in the body (a gather such as embedding's `W[idx, j]`) becomes a `loop.load`
  whose index operands are computed in the body (identity map).

Named ops (`fill`, `matmul`, `transpose`, elementwise ops, ...) go through the same path via
their xDSL indexing maps and hidden bodies: e.g. `matmul` becomes a (parallel, parallel,
reduction) nest computing `C[i, j] = A[i, k] * B[k, j] + C[i, j]`. `linalg.broadcast` and
`linalg.reduce` have no structured-op interface in xDSL; their maps are derived here.

Distinct from upstream `convert-linalg-to-loops`, which emits `scf.for` + `memref.load/store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
)
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.dialects.linalg.attrs import IteratorType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineExpr, AffineMap
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from xjit.dialects.loop import PARALLEL, REDUCTION, LoadOp, NestOp, StoreOp
from xjit.dialects.scatter import IndexPutOp
from xjit.passes.bufferize import kept_dims

# Structured ops whose maps are plain (projected) permutations with parallel/reduction loops.
# Convolutions/pooling (window iterators, strided maps) and quantized matmul are left out.
_SUPPORTED_STRUCTURED = (
    linalg.GenericOp,
    linalg.FillOp,
    linalg.CopyOp,
    linalg.MatmulOp,
    linalg.TransposeOp,
    linalg.AddOp,
    linalg.SubOp,
    linalg.MulOp,
    linalg.MaxOp,
    linalg.MinOp,
    linalg.ExpOp,
    linalg.LogOp,
    linalg.SqrtOp,
    linalg.SelectOp,
)

# Ops that may appear in a linalg body and therefore in a nest body (besides yield/index).
_BODY_DIALECTS = ("arith.", "math.")
_IV_NAMES = ("i", "j", "k", "l")


@dataclass
class Structure:
    """What a nest needs to know about a linalg op, whatever its class."""

    inputs: Sequence[SSAValue]
    outputs: Sequence[SSAValue]
    maps: Sequence[AffineMap]  # one per operand (inputs then outputs), over the loops
    iterators: Sequence[str]
    body: Block  # one argument per operand; ends in linalg.yield


def _kind(op: Operation, it: IteratorType) -> str:
    if it == IteratorType.PARALLEL:
        return PARALLEL
    if it == IteratorType.REDUCTION:
        return REDUCTION
    raise PassFailedException(f"convert-linalg-to-loop: '{op.name}' has a '{it}' iterator")


def _dims_except(rank: int, dropped: Sequence[int]) -> AffineMap:
    """(d0, .., d{rank-1}) -> the dims not in `dropped`, in order."""
    return AffineMap(rank, 0, tuple(AffineDimExpr(d) for d in range(rank) if d not in dropped))


def structure_of(op: Operation) -> Structure:
    """The loop structure of a supported linalg op; an error naming any other op."""
    if isinstance(op, _SUPPORTED_STRUCTURED):
        assert isinstance(op, LinalgStructuredOperation)
        return Structure(
            inputs=tuple(op.inputs),
            outputs=tuple(op.outputs),
            maps=tuple(m.data for m in op.get_indexing_maps().data),
            iterators=tuple(_kind(op, it.data) for it in op.get_iterator_types().data),
            body=op.body.block,
        )
    if isinstance(op, linalg.BroadcastOp):
        # Loops over the output; the input skips the added `dimensions`.
        rank = _rank(op.init)
        return Structure(
            inputs=(op.input,),
            outputs=(op.init,),
            maps=(_dims_except(rank, op.dimensions.get_values()), AffineMap.identity(rank)),
            iterators=(PARALLEL,) * rank,
            body=op.hidden_region.block,
        )
    if isinstance(op, linalg.ReduceOp):
        # Loops over the input; the reduced `dimensions` are reductions.
        rank = _rank(op.input)
        dims = op.dimensions.get_values()
        return Structure(
            inputs=(op.input,),
            outputs=(op.init,),
            maps=(AffineMap.identity(rank), _dims_except(rank, dims)),
            iterators=tuple(REDUCTION if d in dims else PARALLEL for d in range(rank)),
            body=op.region.block,
        )
    raise PassFailedException(f"convert-linalg-to-loop: unsupported linalg op '{op.name}'")


def _rank(v: SSAValue) -> int:
    assert isinstance(v.type, MemRefType)
    return v.type.get_num_dims()


def _index_constant(value: int) -> arith.ConstantOp:
    return arith.ConstantOp(IntegerAttr(value, IndexType()))


def loop_bounds(
    op: Operation, operands: Sequence[SSAValue], maps: Sequence[AffineMap], num_loops: int
) -> tuple[list[Operation], list[SSAValue]]:
    """Ops computing the upper bound of each loop, and the bounds.

    A loop's range is the size of any operand dim whose map result is exactly that loop's dim;
    a static one is preferred (a constant is free, a `memref.dim` is not, and a static size is
    also what a dynamic one must equal at run time).
    """
    sources: list[tuple[SSAValue, int, int] | None] = [None] * num_loops
    for operand, amap in zip(operands, maps, strict=True):
        if not isinstance(operand.type, MemRefType):
            continue
        shape = operand.type.get_shape()
        for dim, expr in enumerate(amap.results):
            if not isinstance(expr, AffineDimExpr):
                continue
            current = sources[expr.position]
            if current is None or (current[2] < 0 <= shape[dim]):
                sources[expr.position] = (operand, dim, shape[dim])
    ops: list[Operation] = []
    bounds: list[SSAValue] = []
    constants: dict[int, SSAValue] = {}
    for loop, source in enumerate(sources):
        if source is None:
            raise PassFailedException(
                f"convert-linalg-to-loop: no operand dim gives the range of loop {loop} of "
                f"'{op.name}'"
            )
        operand, dim, size = source
        if size >= 0:
            if size not in constants:
                const = _index_constant(size)
                const.result.name_hint = f"c{size}"
                ops.append(const)
                constants[size] = const.result
            bounds.append(constants[size])
        else:
            index = _index_constant(dim)
            dim_op = memref.DimOp(operand, index)
            index.result.name_hint, dim_op.result.name_hint = f"c{dim}", "dim"
            ops += [index, dim_op]
            bounds.append(dim_op.result)
    return ops, bounds


def build_nest(op: Operation, s: Structure, rewriter: PatternRewriter) -> None:
    """Replace `op` by the bound computations and one `loop.nest` doing its work."""
    operands = (*s.inputs, *s.outputs)
    for v in s.outputs:
        if not isinstance(v.type, MemRefType):
            raise PassFailedException(
                f"convert-linalg-to-loop: '{op.name}' on tensors; run `bufferize` first"
            )
    bound_ops, bounds = loop_bounds(op, operands, s.maps, len(s.iterators))
    nest = NestOp(bounds, s.iterators)
    nest.location = op.location  # provenance (the torch ops it computes), for the fusion report
    ivs = nest.ivs
    for n, iv in enumerate(ivs):
        iv.name_hint = _IV_NAMES[n] if n < len(_IV_NAMES) else f"i{n}"
    body = s.body
    terminator = body.last_op
    if not isinstance(terminator, linalg.YieldOp):
        raise PassFailedException(f"convert-linalg-to-loop: '{op.name}' body lacks linalg.yield")
    # Checked before anything is touched, so a failure leaves the IR as it was.
    for body_op in body.ops:
        if body_op is not terminator and not isinstance(body_op, linalg.IndexOp | memref.LoadOp):
            if not body_op.name.startswith(_BODY_DIALECTS) or body_op.regions:
                raise PassFailedException(
                    f"convert-linalg-to-loop: '{body_op.name}' in the body of '{op.name}' is "
                    "not allowed in a loop.nest body"
                )

    # Loads for the body arguments that are read (outs included: accumulators read their init).
    loads: list[Operation] = []
    for arg, operand, amap in zip(body.args, operands, s.maps, strict=True):
        if not arg.uses:
            continue
        if isinstance(operand.type, MemRefType):
            load = LoadOp(operand, ivs, amap)
            loads.append(load)
            arg.replace_all_uses_with(load.result)
        else:
            arg.replace_all_uses_with(operand)  # a scalar `ins`: the value itself

    # linalg.index becomes the induction variable (erased through the rewriter, which
    # keeps the walker's worklist in sync), then the body ops move into the nest.
    for index_op in [o for o in body.ops if isinstance(o, linalg.IndexOp)]:
        rewriter.replace(index_op, (), [ivs[index_op.dim.value.data]])
    moved: list[Operation] = []
    for body_op in list(body.ops):
        if body_op is terminator:
            continue
        if isinstance(body_op, memref.LoadOp):
            # A gather (embedding's `W[idx, j]`): a load at computed (non-iv) indices.
            gather = LoadOp(
                body_op.memref, body_op.indices, AffineMap.identity(len(body_op.indices))
            )
            rewriter.replace(body_op, gather)
            gather.detach()
            moved.append(gather)
            continue
        body_op.detach()
        moved.append(body_op)

    stores = [
        StoreOp(value, out, ivs, amap)
        for value, out, amap in zip(
            terminator.operands, s.outputs, s.maps[len(s.inputs) :], strict=True
        )
    ]
    nest_block = nest.body.block
    nest_terminator = nest_block.last_op
    assert nest_terminator is not None
    nest_block.insert_ops_before([*loads, *moved, *stores], nest_terminator)
    rewriter.replace(op, [*bound_ops, nest], [])


class LinalgToNest(RewritePattern):
    """Any linalg op on memrefs -> one loop.nest (error naming an unsupported one)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not op.name.startswith("linalg.") or isinstance(op, linalg.YieldOp | linalg.IndexOp):
            return
        if op.results:
            raise PassFailedException(
                f"convert-linalg-to-loop: '{op.name}' on tensors; run `bufferize` first"
            )
        build_nest(op, structure_of(op), rewriter)


class FoldSubviewIntoAccess(RewritePattern):
    """`loop.load`/`loop.store` through a unit-stride `memref.subview` -> the same access on the
    view's source: the view's dynamic offsets become leading index operands (e.g. the induction
    variable of an enclosing `scf.for`), its static ones constants in the map, and dims the view
    drops are indexed at their offset. `xs[%i]` read in a nest becomes
    `loop.load %xs[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1, d2)>`, which the numpy
    backend turns back into the view `xs[i]`."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, LoadOp | StoreOp):
            return
        view = op.memref.owner
        if not isinstance(view, memref.SubviewOp):
            return
        if view.strides or any(s != 1 for s in view.static_strides.get_values()):
            return  # a strided view stays a view (numpy `x[::2]`)
        result_type = view.result.type
        assert isinstance(result_type, MemRefType)
        sizes = view.static_sizes.get_values()
        kept = kept_dims(sizes, result_type.get_shape())
        dynamic = iter(range(len(view.offsets)))
        num_extra = len(view.offsets)
        old = op.map.data
        shift = [AffineDimExpr(d + num_extra) for d in range(old.num_dims)]
        results: list[AffineExpr] = []
        for dim, offset in enumerate(view.static_offsets.get_values()):
            off: AffineExpr = (
                AffineDimExpr(next(dynamic))
                if offset == DYNAMIC_INDEX
                else AffineConstantExpr(offset)
            )
            if dim in kept:
                inner = old.results[kept.index(dim)].replace_dims_and_symbols(shift, [])
                off = inner if off == AffineConstantExpr(0) else off + inner
            results.append(off)
        amap = AffineMap(num_extra + old.num_dims, 0, tuple(results))
        indices = [*view.offsets, *op.indices]
        if isinstance(op, LoadOp):
            new: Operation = LoadOp(view.source, indices, amap)
        else:
            new = StoreOp(op.value, view.source, indices, amap)
        rewriter.replace(op, new)
        if not view.result.uses:
            rewriter.erase(view)


class MemrefCopyToNest(RewritePattern):
    """memref.copy -> a parallel nest `dst[i..] = src[i..]`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.CopyOp, rewriter: PatternRewriter) -> None:
        source, dest = op.source, op.destination
        rank = _rank(source)
        element = source.type.get_element_type()  # type: ignore[union-attr]
        body = Block(arg_types=[element, element])
        body.add_op(linalg.YieldOp(body.args[0]))
        identity = AffineMap.identity(rank)
        build_nest(
            op,
            Structure((source,), (dest,), (identity, identity), (PARALLEL,) * rank, body),
            rewriter,
        )


class IndexPutToNest(RewritePattern):
    """`scatter.index_put %v into %dest[%i0, ..]` on memrefs -> a nest over `%v` whose body
    loads the indices, casts them to `index` and stores the value at those computed positions
    (with `accumulate`: loads the element there, adds, stores). The store's index operands are
    computed in the body, as a gather's load's are; the nest is "parallel" (duplicate indices
    without accumulation: torch leaves the winner undefined), or with `accumulate` "reduction"
    (iterations may combine into one element; executed in order, duplicates add up)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: IndexPutOp, rewriter: PatternRewriter) -> None:
        if op.result is not None:
            raise PassFailedException(
                "convert-linalg-to-loop: 'scatter.index_put' on tensors; run `bufferize` first"
            )
        values, dest = op.values, op.dest
        n, k = _rank(values), len(op.indices)
        nb = n - (_rank(dest) - k)
        bound_ops, bounds = loop_bounds(op, [values], [AffineMap.identity(n)], n)
        kind = REDUCTION if op.is_accumulate else PARALLEL
        nest = NestOp(bounds, [kind] * n)
        nest.location = op.location
        ivs = nest.ivs
        for d, iv in enumerate(ivs):
            iv.name_hint = _IV_NAMES[d] if d < len(_IV_NAMES) else f"i{d}"
        lead = AffineMap(n, 0, tuple(AffineDimExpr(d) for d in range(nb)))
        body: list[Operation] = []
        coords: list[SSAValue] = []
        for idx in op.indices:
            load = LoadOp(idx, ivs, lead)
            cast = arith.IndexCastOp(load.result, IndexType())
            body += [load, cast]
            coords.append(cast.result)
        coords += ivs[nb:]
        at = AffineMap.identity(len(coords))
        value = LoadOp(values, ivs, AffineMap.identity(n))
        body.append(value)
        stored: SSAValue = value.result
        if op.is_accumulate:
            old = LoadOp(dest, coords, at)
            element = old.result.type
            add = (
                arith.AddfOp(old.result, stored)
                if isinstance(element, AnyFloat)
                else arith.AddiOp(old.result, stored)
            )
            body += [old, add]
            stored = add.result
        body.append(StoreOp(stored, dest, coords, at))
        block = nest.body.block
        assert block.last_op is not None
        block.insert_ops_before(body, block.last_op)
        rewriter.replace(op, [*bound_ops, nest], [])


@dataclass(frozen=True)
class ConvertLinalgToLoop(ModulePass):
    """Linalg on memrefs -> `loop.nest` (the loops stage of docs/contracts.md)."""

    name = "convert-linalg-to-loop"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier([LinalgToNest(), MemrefCopyToNest(), IndexPutToNest()]),
            apply_recursively=False,
        ).rewrite_module(op)
        PatternRewriteWalker(FoldSubviewIntoAccess()).rewrite_module(op)
