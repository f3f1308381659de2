"""`bufferize`: the linalg-on-tensors stage to the buffers stage (see docs/contracts.md).

xDSL has no bufferization, so this is a small one-shot bufferizer for exactly the ops the
linalg stage may contain:

- `func.func` arguments/results and `func.return`: `tensor<..>` -> `memref<..>` (identity layout);
- `tensor.empty` -> `memref.alloc`, `tensor.dim` -> `memref.dim`;
- `ml_program.global` (no value) -> `memref.global "private" constant .. = uninitialized`,
  `ml_program.global_load_const` -> `memref.get_global`;
- linalg ops on tensors -> the same op on memrefs, writing into the buffer of its `outs`
  operand; the tensor results are replaced by that buffer.

In-place rule (decided once, on the tensor IR, before anything is rewritten): an `outs` operand
is written in place only if its buffer is fresh (a `tensor.empty` or the result of a linalg op)
and the tensor has no other use that is not strictly earlier in the same block. Otherwise the
op gets a new buffer, initialised with `memref.copy` when the op reads its init. Function
arguments and globals are thus never written; returning them directly is allowed.

Tensor and memref values meet only through transient `builtin.unrealized_conversion_cast`s:
each pattern reads the buffers of its operands through them and publishes its new buffers as
casts back to tensors; the casts are gone when the pass ends (checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, ml_program, tensor
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FunctionType,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    UnrealizedConversionCastOp,
)
from xdsl.dialects.linalg import ops as linalg
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.dialects.linalg.attrs import IteratorType
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue
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

# Ops of the linalg stage that this pass knows, besides whole `arith`/`math` on scalars and the
# linalg ops (checked separately). Anything else is outside the contract.
_CONTRACT_OPS = frozenset(
    {
        "builtin.module",
        "func.func",
        "func.return",
        "tensor.empty",
        "tensor.dim",
        "ml_program.global",
        "ml_program.global_load_const",
        "linalg.yield",
        "linalg.index",
    }
)
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
    all-parallel structured ops that never use the output block argument and store through a
    permutation map (so every element is overwritten) are known not to read it.
    """
    if isinstance(op, linalg.BroadcastOp):
        return False
    if not isinstance(op, LinalgStructuredOperation):
        return True
    if op.body.block.args[outs_index].uses:
        return True
    if any(it.data != IteratorType.PARALLEL for it in op.get_iterator_types()):
        return True
    out_map = op.get_indexing_maps().data[outs_index].data
    return not _is_permutation(out_map)


def _is_permutation(amap: AffineMap) -> bool:
    """Every loop dim appears exactly once, alone, as a result: the map covers the operand."""
    dims = [e.position for e in amap.results if isinstance(e, AffineDimExpr)]
    return len(dims) == len(amap.results) and sorted(dims) == list(range(amap.num_dims))


def _producer_is_fresh(v: SSAValue) -> bool:
    """A value whose buffer this function allocated itself (never an argument or a global)."""
    owner = v.owner
    return isinstance(owner, tensor.EmptyOp) or (
        isinstance(owner, Operation) and _is_linalg_on_tensors(owner)
    )


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

    Decided on the tensor IR: the outs tensor must be fresh and have no use other than this
    operand that is not strictly earlier in the same block (a later use would read the
    overwritten buffer; a use in the same op, e.g. as an input, would read it while it is being
    written). Earlier values sharing the same buffer were themselves only written in place when
    they had no later uses, so checking the direct operand is enough.
    """
    result: set[tuple[Operation, int]] = set()
    for block_op in module.walk():
        for region in block_op.regions:
            for block in region.blocks:
                position = {op: i for i, op in enumerate(block.ops)}
                for op in block.ops:
                    if not _is_linalg_on_tensors(op):
                        continue
                    for index in _outs_indices(op):
                        value = op.operands[index]
                        if not _producer_is_fresh(value):
                            continue
                        if all(
                            (use.operation is op and use.index == index)
                            or position.get(use.operation, len(position)) < position[op]
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
    return [UnrealizedConversionCastOp.cast_one(b, t)[0] for b, t in zip(buffers, types, strict=True)]


def alloc_like(buffer: SSAValue) -> list[Operation]:
    """Ops allocating a new buffer of `buffer`'s type; dynamic sizes read from `buffer`."""
    mtype = buffer.type
    assert isinstance(mtype, MemRefType)
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
        values = [to_buffer(v, rewriter, op) for v in op.arguments]
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


class FoldCastPair(RewritePattern):
    """memref -> tensor -> memref is the original memref; an unused cast is dropped."""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: UnrealizedConversionCastOp, rewriter: PatternRewriter
    ) -> None:
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
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    FuncSignatureToBuffers(),
                    ReturnToBuffers(),
                    EmptyToAlloc(),
                    TensorDimToMemrefDim(),
                    GlobalToMemrefGlobal(),
                    GlobalLoadToGetGlobal(),
                    LinalgToBuffers(in_place),
                    FoldCastPair(),
                ]
            )
        ).rewrite_module(op)
        for bad in _leftover(op):
            raise PassFailedException(
                f"bufferize: '{bad.name}' still has tensors or transient casts after bufferization"
            )
