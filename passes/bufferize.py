"""`bufferize`: the linalg-on-tensors stage to the buffers stage (see docs/contracts.md).

xDSL has no bufferization, so this is a small one-shot bufferizer for exactly the ops the
linalg stage may contain:

- `func.func` arguments/results and `func.return`: `tensor<..>` -> `memref<..>` (identity layout);
- `tensor.empty` -> `memref.alloc`, `tensor.dim` -> `memref.dim`;
- `ml_program.global` (no value) -> `memref.global "private" constant .. = uninitialized`,
  `ml_program.global_load_const` -> `memref.get_global`;
- linalg ops on tensors -> the same op on memrefs, writing into the buffer of its `outs`
  operand; the tensor results are replaced by that buffer;
- `scf.for`/`scf.if`/`scf.while` with tensor iter_args/results -> the same ops over memrefs
  (block arguments, `scf.yield`/`scf.condition` operands and results become buffers);
- `tensor.extract` -> `memref.load`; `tensor.extract_slice` -> `memref.subview` (a view: no
  copy; its result has a strided layout and is copied into a fresh identity-layout buffer only
  where one is required: `scf.yield`/`scf.condition`/loop inits and `func.return`).

In-place rule (decided once, on the tensor IR, before anything is rewritten): an `outs` operand
is written in place only if its buffer is fresh (a `tensor.empty` or the result of a linalg op)
and the tensor has no other use that is not strictly earlier in the same block. Otherwise the
op gets a new buffer, initialised with `memref.copy` when the op reads its init. Function
arguments and globals are thus never written; returning them directly is allowed.

Control flow and views add aliasing, handled by three more conditions: the outs tensor must be
defined in the same block as the op (a buffer from outside a loop body would be overwritten on
every iteration while the previous iteration's result may still be live), and it must have no
use by an op whose results may alias it (`scf.for`/`scf.while` inits, `tensor.extract_slice`)
nor any use nested in a region (a yield). Block arguments (function, loop or while arguments)
and the results of scf ops and views are never fresh, so they are never written. Hence inside a
loop body every written buffer is allocated in the body, once per iteration: the buffer the
previous iteration yielded (read through the iter_arg) is never overwritten while it is read.

Tensor and memref values meet only through transient `builtin.unrealized_conversion_cast`s:
each pattern reads the buffers of its operands through them and publishes its new buffers as
casts back to tensors; the casts are gone when the pass ends (checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, ml_program, scf, tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseIntOrFPElementsAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    NoneAttr,
    StridedLayoutAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    UnrealizedConversionCastOp,
)
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.ir import Attribute, Block, BlockArgument, Operation, SSAValue
from xdsl.ir.affine import AffineDimExpr, AffineMap
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import PassFailedException

from xjit.dialects.scatter import IndexPutOp, NonzeroOp
from xjit.dialects.view import TransposeOp

# Ops of the linalg stage that this pass knows, besides whole `arith`/`math` on scalars and the
# linalg ops (checked separately). Anything else is outside the contract.
_CONTRACT_OPS = frozenset(
    {
        "cf.assert",
        "builtin.module",
        "func.func",
        "func.return",
        "tensor.empty",
        "tensor.dim",
        "ml_program.global",
        "ml_program.global_load_const",
        "linalg.yield",
        "linalg.index",
        "tensor.extract",
        "tensor.extract_slice",
        "tensor.collapse_shape",
        "tensor.expand_shape",
        "tensor.insert_slice",
        "tensor.cast",
        "scf.for",
        "scf.if",
        "scf.while",
        "scf.yield",
        "scf.condition",
        "scatter.index_put",
        "scatter.nonzero",
    }
)
# Ops whose results may alias a tensor operand (after bufferization they return or carry the
# same buffer): a buffer used by one of them must not be written in place afterwards.
_VIEW_OPS = (tensor.ExtractSliceOp, tensor.CollapseShapeOp, tensor.ExpandShapeOp)
_ALIASING_USERS = (scf.ForOp, scf.WhileOp, *_VIEW_OPS, linalg.TransposeOp, tensor.CastOp)
_SCALAR_DIALECTS = ("arith.", "math.")


# ---------------------------------------------------------------------------------------------
# Types and small helpers
# ---------------------------------------------------------------------------------------------


def buffer_type(t: Attribute) -> Attribute:
    """The memref type a value of type `t` is bufferized to (identity layout, same dims)."""
    if isinstance(t, TensorType):
        return MemRefType(t.get_element_type(), t.get_shape())
    return t


def _is_tensor(v: SSAValue) -> bool:
    return isinstance(v.type, TensorType)


def _is_linalg_on_tensors(op: Operation) -> bool:
    return op.name.startswith("linalg.") and any(_is_tensor(r) for r in op.results)


def _outs_indices(op: Operation) -> tuple[int, ...]:
    """Operand indices of the `outs` operands of a linalg op, in result order."""
    if isinstance(op, LinalgStructuredOperation):
        first = len(op.inputs)
        return tuple(range(first, first + len(op.outputs)))
    if isinstance(op, linalg.BroadcastOp | linalg.ReduceOp):
        return (1,)
    raise PassFailedException(f"bufferize: unsupported linalg op '{op.name}'")


def _reads_init(op: Operation, outs_index: int) -> bool:
    """Whether `op` may read the initial contents of its `outs` operand number `outs_index`.

    When it cannot, a non-in-place output needs a fresh buffer but no copy. Conservative: only
    structured ops that never use the output block argument and store through a permutation
    of all their loops (so every element is overwritten) are known not to read it.
    """
    if isinstance(op, linalg.BroadcastOp):
        return False
    if not isinstance(op, LinalgStructuredOperation):
        return True
    if op.body.block.args[outs_index].uses:
        return True
    # A store through a permutation of *all* loops writes every element exactly once, even in
    # a reduction (e.g. an elementwise result kept by linalg-fuse-elementwise).
    out_map = op.get_indexing_maps().data[outs_index].data
    return not _is_permutation(out_map)


def _is_permutation(amap: AffineMap) -> bool:
    """Every loop dim appears exactly once, alone, as a result: the map covers the operand."""
    dims = [e.position for e in amap.results if isinstance(e, AffineDimExpr)]
    return len(dims) == len(amap.results) and sorted(dims) == list(range(amap.num_dims))


def _producer_is_fresh(v: SSAValue) -> bool:
    """A value whose buffer this function allocated itself (never an argument, a global or a
    view of something else)."""
    owner = v.owner
    if isinstance(owner, linalg.TransposeOp) and transpose_is_view(owner):
        return False
    return isinstance(owner, tensor.EmptyOp | tensor.InsertSliceOp | IndexPutOp | NonzeroOp) or (
        isinstance(owner, Operation) and _is_linalg_on_tensors(owner)
    )


def transpose_is_view(op: linalg.TransposeOp) -> bool:
    """A `linalg.transpose` read only by views (`x.t().reshape(..)`) becomes a transposed view
    (`xjit.transpose`, numpy's `.transpose(..)`) instead of a copy. Others stay copies: fusion
    folds most into their consumers, and the numpy backend reads transposed arguments and
    globals in place."""
    res = op.results[0] if op.results else None
    return (
        res is not None
        and isinstance(op.outputs[0].type, TensorType)
        and isinstance(op.outputs[0].owner, tensor.EmptyOp)
        and bool(res.uses)
        and all(isinstance(u.operation, _VIEW_OPS) and u.index == 0 for u in res.uses)
    )


def _inplace_candidates(op: Operation) -> tuple[int, ...]:
    """Operand indices an op writes (in place when allowed): linalg `outs`, insert_slice's and
    scatter.index_put's and scatter.nonzero's dest."""
    if isinstance(op, tensor.InsertSliceOp | IndexPutOp | NonzeroOp):
        return (1,)
    if _is_linalg_on_tensors(op) and not (
        isinstance(op, linalg.TransposeOp) and transpose_is_view(op)
    ):
        return _outs_indices(op)
    return ()


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------


def check_contract(module: ModuleOp) -> None:
    """Fail loudly, naming the op, on anything outside the linalg-on-tensors contract."""
    for op in module.walk():
        name = op.name
        if name.startswith(_SCALAR_DIALECTS):
            if any(isinstance(t, TensorType) for t in (*op.operand_types, *op.result_types)):
                raise PassFailedException(
                    f"bufferize: '{name}' on tensors is outside the linalg-stage contract"
                )
            continue
        if name in _CONTRACT_OPS:
            if isinstance(op, ml_program.GlobalOp) and op.is_mutable is not None:
                raise PassFailedException(
                    f"bufferize: mutable 'ml_program.global' @{op.sym_name.data} is not supported"
                )
            continue
        if isinstance(op, LinalgStructuredOperation | linalg.BroadcastOp | linalg.ReduceOp):
            continue
        raise PassFailedException(f"bufferize: op '{name}' is outside the linalg-stage contract")


def in_place_outs(module: ModuleOp) -> frozenset[tuple[Operation, int]]:
    """The (linalg op, outs operand index) pairs that may write the outs buffer in place.

    Decided on the tensor IR: the outs tensor must be fresh, defined in the op's block, and have
    no use other than this operand that is not strictly earlier in the same block (a later use
    would read the overwritten buffer; a use in the same op, e.g. as an input, would read it
    while it is being written; a use nested in a region counts as later) nor any use by an op
    whose results may alias it (`_ALIASING_USERS`: they keep the buffer live under another
    name). Earlier values sharing the same buffer were themselves only written in place when
    they had no later uses, so checking the direct operand is enough.
    """
    result: set[tuple[Operation, int]] = set()
    for block_op in module.walk():
        for region in block_op.regions:
            for block in region.blocks:
                position = {op: i for i, op in enumerate(block.ops)}
                for op in block.ops:
                    for index in _inplace_candidates(op):
                        value = op.operands[index]
                        if not _producer_is_fresh(value) or value.owner.parent_block() is not block:
                            continue
                        if all(
                            (use.operation is op and use.index == index)
                            or (
                                position.get(use.operation, len(position)) < position[op]
                                and not isinstance(use.operation, _ALIASING_USERS)
                            )
                            for use in value.uses
                        ):
                            result.add((op, index))
    return frozenset(result)


# ---------------------------------------------------------------------------------------------
# Materialisation helpers
# ---------------------------------------------------------------------------------------------


def to_buffer(value: SSAValue, rewriter: PatternRewriter, before: Operation) -> SSAValue:
    """The memref holding `value`: through the cast its bufferized producer left, or a new
    transient cast (resolved when the producer is bufferized)."""
    if not _is_tensor(value):
        return value
    owner = value.owner
    if (
        isinstance(owner, UnrealizedConversionCastOp)
        and len(owner.inputs) == 1
        and isinstance(owner.inputs[0].type, MemRefType)
    ):
        return owner.inputs[0]
    cast, res = UnrealizedConversionCastOp.cast_one(value, buffer_type(value.type))
    rewriter.insert(cast, InsertPoint.before(before))
    return res


def to_tensors(
    buffers: Sequence[SSAValue], types: Sequence[Attribute]
) -> list[UnrealizedConversionCastOp]:
    """Transient casts presenting new buffers to not-yet-bufferized tensor users."""
    return [
        UnrealizedConversionCastOp.cast_one(b, t)[0] for b, t in zip(buffers, types, strict=True)
    ]


def alloc_like(buffer: SSAValue) -> list[Operation]:
    """Ops allocating a new identity-layout buffer of `buffer`'s shape and element type;
    dynamic sizes read from `buffer`."""
    assert isinstance(buffer.type, MemRefType)
    mtype = MemRefType(buffer.type.get_element_type(), buffer.type.get_shape())
    ops: list[Operation] = []
    sizes: list[SSAValue] = []
    for dim, size in enumerate(mtype.get_shape()):
        if size < 0:
            index = arith.ConstantOp(IntegerAttr(dim, IndexType()))
            dim_op = memref.DimOp(buffer, index)
            # Explicit hints, or the rewriter names them after the replaced op's result.
            index.result.name_hint, dim_op.result.name_hint = f"c{dim}", "dim"
            ops += [index, dim_op]
            sizes.append(dim_op.result)
    ops.append(memref.AllocOp(sizes, (), mtype))
    return ops


def _has_identity_layout(t: Attribute) -> bool:
    return isinstance(t, MemRefType) and isinstance(t.layout, NoneAttr)


def identity_buffer(value: SSAValue, rewriter: PatternRewriter, before: Operation) -> SSAValue:
    """The buffer of `value`, copied into a fresh identity-layout buffer if it is a view with
    another layout (where the buffers contract requires identity layouts: across scf region
    boundaries and function returns)."""
    buffer = to_buffer(value, rewriter, before)
    if not isinstance(buffer.type, MemRefType) or _has_identity_layout(buffer.type):
        return buffer
    ops = alloc_like(buffer)
    ops.append(memref.CopyOp(buffer, ops[-1].results[0]))
    rewriter.insert(ops, InsertPoint.before(before))
    return ops[-2].results[0]


def block_args_to_buffers(block: Block, rewriter: PatternRewriter) -> None:
    """Tensor block arguments become memrefs; their users see tensors through a cast."""
    for arg in tuple(block.args):
        if not isinstance(arg.type, TensorType):
            continue
        tensor_type = arg.type
        new_arg = rewriter.replace_value_with_new_type(arg, buffer_type(tensor_type))
        assert isinstance(new_arg, BlockArgument)
        if not new_arg.uses:
            continue
        cast, as_tensor = UnrealizedConversionCastOp.cast_one(new_arg, tensor_type)
        rewriter.insert(cast, InsertPoint.at_start(block))
        rewriter.replace_uses_with_if(new_arg, as_tensor, lambda u, c=cast: u.operation is not c)


def _replace_with_buffer_results(
    op: Operation, new_op: Operation, pre: Sequence[Operation], rewriter: PatternRewriter
) -> None:
    """Replace `op` by `new_op`, whose results are `op`'s with tensors as memrefs."""
    casts: list[Operation] = []
    values: list[SSAValue] = []
    for old, new in zip(op.results, new_op.results, strict=True):
        new.name_hint = old.name_hint
        if isinstance(old.type, TensorType):
            cast, as_tensor = UnrealizedConversionCastOp.cast_one(new, old.type)
            casts.append(cast)
            values.append(as_tensor)
        else:
            values.append(new)
    rewriter.replace(op, [*pre, new_op, *casts], values)


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------


class FuncSignatureToBuffers(RewritePattern):
    """Tensor arguments and results of `func.func` become memrefs.

    The body keeps seeing tensors through a cast at the entry until its users are bufferized.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter) -> None:
        ftype = op.function_type
        if not any(isinstance(t, TensorType) for t in (*ftype.inputs, *ftype.outputs)):
            return
        if op.is_declaration:
            raise PassFailedException(
                f"bufferize: declaration @{op.sym_name.data} over tensors is not supported"
            )
        block = op.body.block
        block_args_to_buffers(block, rewriter)
        op.properties["function_type"] = FunctionType.from_lists(
            [a.type for a in block.args], [buffer_type(t) for t in ftype.outputs]
        )
        rewriter.handle_operation_modification(op)


class ReturnToBuffers(RewritePattern):
    """`func.return` returns the buffers (possibly an argument or a global: aliasing is fine)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter) -> None:
        if not any(_is_tensor(v) for v in op.arguments):
            return
        values = [identity_buffer(v, rewriter, op) for v in op.arguments]
        rewriter.replace(op, func.ReturnOp(*values))


class EmptyToAlloc(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.EmptyOp, rewriter: PatternRewriter) -> None:
        alloc = memref.AllocOp(tuple(op.dynamic_sizes), (), buffer_type(op.tensor.type))
        (cast,) = to_tensors([alloc.memref], [op.tensor.type])
        rewriter.replace(op, [alloc, cast])


class TensorDimToMemrefDim(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.DimOp, rewriter: PatternRewriter) -> None:
        source = to_buffer(op.source, rewriter, op)
        rewriter.replace(op, memref.DimOp(source, op.index))


class TensorCastToMemrefCast(RewritePattern):
    """`tensor.cast` (a branch/loop join to `?` sizes) is `memref.cast` of the same buffer."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.CastOp, rewriter: PatternRewriter) -> None:
        source = identity_buffer(op.source, rewriter, op)
        cast = memref.CastOp.get(source, buffer_type(op.dest.type))
        (back,) = to_tensors([cast.results[0]], [op.dest.type])
        rewriter.replace(op, [cast, back])


class GlobalToMemrefGlobal(RewritePattern):
    """Parameters: immutable, so a `constant` memref global, `uninitialized` when bound at run
    time (no value), or initialised with the same dense value."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: ml_program.GlobalOp, rewriter: PatternRewriter) -> None:
        if not isinstance(op.type, TensorType):
            raise PassFailedException(
                f"bufferize: global @{op.sym_name.data} of non-tensor type {op.type}"
            )
        if op.value is None:
            initial: Attribute = UnitAttr()
        elif isinstance(op.value, DenseIntOrFPElementsAttr):
            initial = op.value
        else:
            raise PassFailedException(
                f"bufferize: global @{op.sym_name.data} has an unsupported value {op.value}"
            )
        new = memref.GlobalOp.get(
            op.sym_name,
            buffer_type(op.type),
            initial,
            sym_visibility=op.sym_visibility or StringAttr("private"),
            constant=UnitAttr(),
        )
        rewriter.replace(op, new)


class GlobalLoadToGetGlobal(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: ml_program.GlobalLoadConstantOp, rewriter: PatternRewriter
    ) -> None:
        get = memref.GetGlobalOp(op.global_attr, buffer_type(op.result.type))
        (cast,) = to_tensors([get.memref], [op.result.type])
        rewriter.replace(op, [get, cast])


@dataclass
class LinalgToBuffers(RewritePattern):
    """A linalg op on tensors -> the same op on memrefs, writing its `outs` buffers.

    Rebuilt generically (same properties, attributes and regions), so every linalg op of xDSL
    with the `ins`/`outs` structure is handled by this one pattern.
    """

    in_place: frozenset[tuple[Operation, int]]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not _is_linalg_on_tensors(op):
            return
        outs = _outs_indices(op)
        new_ops: list[Operation] = []
        operands: list[SSAValue] = []
        for index, value in enumerate(op.operands):
            buffer = to_buffer(value, rewriter, op)
            if index in outs and (op, index) not in self.in_place:
                buffer = self._fresh_copy(op, index, buffer, new_ops)
            operands.append(buffer)
        regions = [op.detach_region(0) for _ in range(len(op.regions))]
        new_op = type(op).create(
            operands=operands,
            result_types=(),
            properties=dict(op.properties),
            attributes=dict(op.attributes),
            location=op.location,
            regions=regions,
        )
        casts = to_tensors([operands[i] for i in outs], op.result_types)
        rewriter.replace(op, [*new_ops, new_op, *casts], [c.results[0] for c in casts])

    @staticmethod
    def _fresh_copy(
        op: Operation, index: int, buffer: SSAValue, new_ops: list[Operation]
    ) -> SSAValue:
        """A new buffer for an output that may not be written in place, holding the old
        contents if the op reads them (a `tensor.empty` has none to keep)."""
        ops = alloc_like(buffer)
        new_ops += ops
        new_buffer = ops[-1].results[0]
        if _reads_init(op, index) and not isinstance(op.operands[index].owner, tensor.EmptyOp):
            new_ops.append(memref.CopyOp(buffer, new_buffer))
        return new_buffer


class ScfForToBuffers(RewritePattern):
    """Tensor iter_args, body arguments and results -> memrefs (identity layout)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ForOp, rewriter: PatternRewriter) -> None:
        if not any(_is_tensor(v) for v in (*op.iter_args, *op.results)):
            return
        inits = [identity_buffer(v, rewriter, op) for v in op.iter_args]
        new = scf.ForOp(op.lb, op.ub, op.step, inits, op.detach_region(op.body))
        _replace_with_buffer_results(op, new, [], rewriter)
        block_args_to_buffers(new.body.block, rewriter)


class ScfIfToBuffers(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.IfOp, rewriter: PatternRewriter) -> None:
        if not any(_is_tensor(v) for v in op.results):
            return
        true_region, false_region = op.true_region, op.false_region
        new = scf.IfOp(
            op.cond,
            [buffer_type(t) for t in op.result_types],
            op.detach_region(true_region),
            op.detach_region(false_region),
        )
        _replace_with_buffer_results(op, new, [], rewriter)


class ScfWhileToBuffers(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.WhileOp, rewriter: PatternRewriter) -> None:
        if not any(_is_tensor(v) for v in (*op.arguments, *op.results)):
            return
        inits = [identity_buffer(v, rewriter, op) for v in op.arguments]
        before, after = op.before_region, op.after_region
        new = scf.WhileOp(
            inits,
            [buffer_type(t) for t in op.result_types],
            op.detach_region(before),
            op.detach_region(after),
        )
        _replace_with_buffer_results(op, new, [], rewriter)
        block_args_to_buffers(new.before_region.block, rewriter)
        block_args_to_buffers(new.after_region.block, rewriter)


class ScfTerminatorsToBuffers(RewritePattern):
    """`scf.yield`/`scf.condition` pass buffers (identity layout: views are copied)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, scf.YieldOp | scf.ConditionOp):
            return
        if not any(_is_tensor(v) for v in op.operands):
            return
        values = [identity_buffer(v, rewriter, op) for v in op.operands]
        if isinstance(op, scf.YieldOp):
            rewriter.replace(op, scf.YieldOp(*values))
        else:
            rewriter.replace(op, scf.ConditionOp(values[0], *values[1:]))


class ExtractToLoad(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.ExtractOp, rewriter: PatternRewriter) -> None:
        source = to_buffer(op.tensor, rewriter, op)
        rewriter.replace(op, memref.LoadOp.get(source, op.indices))


def kept_dims(sizes: Sequence[int], result_shape: Sequence[int]) -> list[int]:
    """The source dims a (possibly rank-reducing) slice keeps: unit dims of `sizes` are dropped,
    first to last, until the rest matches `result_shape`."""
    kept: list[int] = []
    j = 0
    for i, size in enumerate(sizes):
        if j < len(result_shape) and (size == result_shape[j] or size == DYNAMIC_INDEX):
            kept.append(i)
            j += 1
        elif size != 1:
            break
    if j != len(result_shape) or len(sizes) - len(kept) != sum(
        1 for i, size in enumerate(sizes) if i not in kept and size == 1
    ):
        raise PassFailedException(
            f"cannot match slice sizes {list(sizes)} to the result shape {list(result_shape)}"
        )
    return kept


def layout_of(t: MemRefType) -> tuple[list[int], int]:
    """Strides and offset of a memref type (DYNAMIC_INDEX where unknown)."""
    if isinstance(t.layout, StridedLayoutAttr):
        strides = [DYNAMIC_INDEX if s is None else s for s in t.layout.get_strides()]
        off = t.layout.get_offset()
        return strides, DYNAMIC_INDEX if off is None else off
    if not _has_identity_layout(t):
        return [DYNAMIC_INDEX] * t.get_num_dims(), DYNAMIC_INDEX
    strides: list[int] = []
    acc = 1
    for d in reversed(t.get_shape()):
        strides.insert(0, acc)
        acc = DYNAMIC_INDEX if acc == DYNAMIC_INDEX or d == DYNAMIC_INDEX else acc * d
    return strides, 0


def _strided(
    element: Attribute, shape: Sequence[int], strides: Sequence[int], offset: int
) -> MemRefType:
    return MemRefType(
        element,
        shape,
        StridedLayoutAttr(
            [None if s == DYNAMIC_INDEX else s for s in strides],
            None if offset == DYNAMIC_INDEX else offset,
        ),
    )


def subview_type(
    source: MemRefType,
    offsets: Sequence[int],
    sizes: Sequence[int],
    result_shape: Sequence[int],
    steps: Sequence[int] | None = None,
) -> MemRefType:
    """The strided type of a (possibly rank-reducing, possibly strided) view of `source`:
    `offsets`/`sizes`/`steps` per source dim (DYNAMIC_INDEX where dynamic); the dims of size 1
    that `result_shape` drops are the leading ones not kept."""
    strides, offset = layout_of(source)
    steps = steps or [1] * len(strides)
    for o, st in zip(offsets, strides, strict=True):
        if offset == DYNAMIC_INDEX or o == DYNAMIC_INDEX or st == DYNAMIC_INDEX:
            offset = DYNAMIC_INDEX
        else:
            offset += o * st
    kept = kept_dims(sizes, result_shape)
    out = [
        DYNAMIC_INDEX
        if strides[i] == DYNAMIC_INDEX or steps[i] == DYNAMIC_INDEX
        else strides[i] * steps[i]
        for i in kept
    ]
    return _strided(source.get_element_type(), result_shape, out, offset)


class ExtractSliceToSubview(RewritePattern):
    """A (strided, rank-reducing) slice -> a `memref.subview` of the source buffer (a view)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.ExtractSliceOp, rewriter: PatternRewriter) -> None:
        source = to_buffer(op.source, rewriter, op)
        assert isinstance(source.type, MemRefType) and isinstance(op.result.type, TensorType)
        rtype = subview_type(
            source.type,
            op.static_offsets.get_values(),
            op.static_sizes.get_values(),
            op.result.type.get_shape(),
            op.static_strides.get_values(),
        )
        view = memref.SubviewOp(
            source,
            op.offsets,
            op.sizes,
            op.strides,
            op.static_offsets,
            op.static_sizes,
            op.static_strides,
            rtype,
        )
        (cast,) = to_tensors([view.result], [op.result.type])
        rewriter.replace(op, [view, cast], [cast.results[0]])


def _reshaped_type(source: MemRefType, result: TensorType) -> MemRefType:
    """A collapse/expand of an identity-layout buffer keeps the identity layout; of another view
    it gets an unknown strided layout (numpy's reshape copies a non-contiguous view)."""
    if _has_identity_layout(source):
        return MemRefType(result.get_element_type(), result.get_shape())
    n = result.get_num_dims()
    return _strided(
        result.get_element_type(), result.get_shape(), [DYNAMIC_INDEX] * n, DYNAMIC_INDEX
    )


class ReshapeToMemref(RewritePattern):
    """`tensor.collapse_shape`/`expand_shape` -> the memref ops of the same name (views)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, tensor.CollapseShapeOp):
            source = to_buffer(op.src, rewriter, op)
            assert isinstance(source.type, MemRefType)
            new: Operation = memref.CollapseShapeOp.create(
                operands=[source],
                result_types=[_reshaped_type(source.type, op.result.type)],
                properties={"reassociation": op.reassociation},
            )
        elif isinstance(op, tensor.ExpandShapeOp):
            source = to_buffer(op.src, rewriter, op)
            assert isinstance(source.type, MemRefType)
            new = memref.ExpandShapeOp.create(
                operands=[source, *op.dynamic_output_shape],
                result_types=[_reshaped_type(source.type, op.result.type)],
                properties={
                    "reassociation": op.reassociation,
                    "static_output_shape": op.static_output_shape,
                },
            )
        else:
            return
        (cast,) = to_tensors([new.results[0]], [op.results[0].type])
        rewriter.replace(op, [new, cast], [cast.results[0]])


@dataclass
class TransposeToView(RewritePattern):
    """A `linalg.transpose` read only through views -> `view.transpose` (see `transpose_is_view`)."""

    views: frozenset[Operation]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: linalg.TransposeOp, rewriter: PatternRewriter) -> None:
        if op not in self.views:
            return

        source = to_buffer(op.inputs[0], rewriter, op)
        assert isinstance(source.type, MemRefType)
        perm = list(op.permutation.get_values())
        strides, offset = layout_of(source.type)
        shape = source.type.get_shape()
        rtype = _strided(
            source.type.get_element_type(),
            [shape[p] for p in perm],
            [strides[p] for p in perm],
            offset,
        )
        view = TransposeOp(source, perm, rtype)
        (cast,) = to_tensors([view.result], [op.results[0].type])
        rewriter.replace(op, [view, cast], [cast.results[0]])


@dataclass
class InsertSliceToCopy(RewritePattern):
    """`tensor.insert_slice %src into %dest` -> `memref.copy` of the source buffer into a
    unit-stride `memref.subview` of the destination buffer, written in place when the in-place
    rule allows (cat's chain into one `tensor.empty`), else into a copy of it."""

    in_place: frozenset[tuple[Operation, int]]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: tensor.InsertSliceOp, rewriter: PatternRewriter) -> None:
        new_ops: list[Operation] = []
        dest = to_buffer(op.dest, rewriter, op)
        if (op, 1) not in self.in_place or not _has_identity_layout(dest.type):
            ops = alloc_like(dest)
            new_ops += ops
            fresh = ops[-1].results[0]
            if not isinstance(op.dest.owner, tensor.EmptyOp):
                new_ops.append(memref.CopyOp(dest, fresh))
            dest = fresh
        source = to_buffer(op.source, rewriter, op)
        assert isinstance(dest.type, MemRefType) and isinstance(source.type, MemRefType)
        if any(s != 1 for s in op.static_strides.get_values()) or op.strides:
            raise PassFailedException("bufferize: tensor.insert_slice with strides other than 1")
        rtype = subview_type(
            dest.type,
            op.static_offsets.get_values(),
            op.static_sizes.get_values(),
            source.type.get_shape(),
        )
        view = memref.SubviewOp(
            dest,
            op.offsets,
            op.sizes,
            op.strides,
            op.static_offsets,
            op.static_sizes,
            op.static_strides,
            rtype,
        )
        new_ops += [view, memref.CopyOp(source, view.result)]
        (cast,) = to_tensors([dest], [op.result.type])
        rewriter.replace(op, [*new_ops, cast], [cast.results[0]])


@dataclass
class IndexPutToBuffers(RewritePattern):
    """`scatter.index_put` on tensors -> the same op on memrefs, writing the dest buffer in
    place when the in-place rule allows (a chain of `x[i] = a; x[j] = b` on one copy), else
    into a copy of it."""

    in_place: frozenset[tuple[Operation, int]]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: IndexPutOp, rewriter: PatternRewriter) -> None:
        if op.result is None:
            return
        new_ops: list[Operation] = []
        dest = to_buffer(op.dest, rewriter, op)
        if (op, 1) not in self.in_place or not _has_identity_layout(dest.type):
            ops = alloc_like(dest)
            new_ops += [*ops, memref.CopyOp(dest, ops[-1].results[0])]
            dest = ops[-1].results[0]
        values = identity_buffer(op.values, rewriter, op)
        indices = [identity_buffer(i, rewriter, op) for i in op.indices]
        new_ops.append(IndexPutOp(values, dest, indices, op.is_accumulate))
        (cast,) = to_tensors([dest], [op.result.type])
        rewriter.replace(op, [*new_ops, cast], [cast.results[0]])


@dataclass
class NonzeroToBuffers(RewritePattern):
    """`scatter.nonzero` on tensors -> the same op on memrefs filling its dest buffer (the
    `tensor.empty` sized by the count: in place unless the in-place rule says otherwise)."""

    in_place: frozenset[tuple[Operation, int]]

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: NonzeroOp, rewriter: PatternRewriter) -> None:
        if op.result is None:
            return
        new_ops: list[Operation] = []
        dest = to_buffer(op.dest, rewriter, op)
        if (op, 1) not in self.in_place or not _has_identity_layout(dest.type):
            new_ops += alloc_like(dest)
            dest = new_ops[-1].results[0]
        source = identity_buffer(op.source, rewriter, op)
        new_ops.append(NonzeroOp(source, dest))
        (cast,) = to_tensors([dest], [op.result.type])
        rewriter.replace(op, [*new_ops, cast], [cast.results[0]])


class FoldCastPair(RewritePattern):
    """memref -> tensor -> memref is the original memref; an unused cast is dropped."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: UnrealizedConversionCastOp, rewriter: PatternRewriter) -> None:
        if not op.results[0].uses:
            rewriter.erase(op)
            return
        if len(op.inputs) != 1:
            return
        source = op.inputs[0].owner
        if (
            isinstance(source, UnrealizedConversionCastOp)
            and len(source.inputs) == 1
            and source.inputs[0].type == op.results[0].type
        ):
            rewriter.replace(op, (), [source.inputs[0]])


def _leftover(module: ModuleOp) -> Iterable[Operation]:
    for op in module.walk():
        if isinstance(op, UnrealizedConversionCastOp) or any(
            isinstance(t, TensorType) for t in (*op.operand_types, *op.result_types)
        ):
            yield op


@dataclass(frozen=True)
class Bufferize(ModulePass):
    """Linalg on tensors -> linalg on memrefs (the buffers stage of docs/contracts.md)."""

    name = "bufferize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        check_contract(op)
        in_place = in_place_outs(op)
        views = frozenset(
            o for o in op.walk() if isinstance(o, linalg.TransposeOp) and transpose_is_view(o)
        )
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    FuncSignatureToBuffers(),
                    ReturnToBuffers(),
                    EmptyToAlloc(),
                    TensorDimToMemrefDim(),
                    TensorCastToMemrefCast(),
                    GlobalToMemrefGlobal(),
                    GlobalLoadToGetGlobal(),
                    TransposeToView(views),
                    LinalgToBuffers(in_place),
                    ScfForToBuffers(),
                    ScfIfToBuffers(),
                    ScfWhileToBuffers(),
                    ScfTerminatorsToBuffers(),
                    ExtractToLoad(),
                    ExtractSliceToSubview(),
                    ReshapeToMemref(),
                    InsertSliceToCopy(in_place),
                    IndexPutToBuffers(in_place),
                    NonzeroToBuffers(in_place),
                    FoldCastPair(),
                ]
            )
        ).rewrite_module(op)
        for bad in _leftover(op):
            raise PassFailedException(
                f"bufferize: '{bad.name}' still has tensors or transient casts after bufferization"
            )
