"""The `loop` dialect: structured loop nests over memrefs, designed to be vectorized.

Why not upstream `affine`/`scf`: xDSL 0.74's `affine.parallel` with reductions does not
verify, and textual `affine.load` maps parse their indices as symbols, which breaks
`lower-affine` and the interpreter. `loop` keeps exactly what the numpy backend needs to see
at a glance, and `convert-loop-to-scf` turns it into valid upstream MLIR.

    loop.nest (%i, %j) to (%n, %c4) ["parallel", "reduction"] {
      %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x4xf32>
      %b = loop.load %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
      %s = arith.addf %b, %a : f32
      loop.store %s, %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
    }

Semantics: the nest is a set of perfectly nested loops, induction variables from 0 to the
(exclusive, `index`-typed, possibly dynamic) upper bounds, executed in lexicographic order.
Iterator kinds are promises made by the producer of the IR:

- ``parallel``: iterations along this dim touch disjoint memory and may run in any order;
- ``reduction``: iterations along this dim only combine into locations whose store map does not
  depend on the dim (a read-modify-write of an accumulator).

`loop.load`/`loop.store` index a memref through an affine map applied to their index operands
(usually the nest's induction variables, possibly also values defined outside the nest, such as
the induction variable of an enclosing `scf.for`). The body holds only `loop.load`,
`loop.store` and scalar `arith`/`math` ops.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    AffineMapAttr,
    ArrayAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    StringAttr,
)
from xdsl.ir import Block, Dialect, Operation, Region, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
    AffineMap,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    MemoryReadEffect,
    MemoryWriteEffect,
    RecursiveMemoryEffect,
    SingleBlockImplicitTerminator,
    ensure_terminator,
)
from xdsl.utils.exceptions import VerifyException

PARALLEL = "parallel"
REDUCTION = "reduction"
ITERATOR_KINDS = (PARALLEL, REDUCTION)


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Terminates a `loop.nest` body; implicit in the printed form."""

    name = "loop.yield"
    assembly_format = "attr-dict"
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(NestOp)))


@irdl_op_definition
class NestOp(IRDLOperation):
    """A perfect loop nest from 0 to `bounds`, one induction variable per bound."""

    name = "loop.nest"

    bounds = var_operand_def(IndexType)
    iterators = prop_def(ArrayAttr[StringAttr])
    body = region_def("single_block")

    traits = traits_def(SingleBlockImplicitTerminator(YieldOp), RecursiveMemoryEffect())

    def __init__(
        self,
        bounds: Sequence[SSAValue | Operation],
        iterators: Sequence[str],
        body: Region | Block | None = None,
    ):
        if body is None:
            body = Block(arg_types=[IndexType()] * len(bounds))
        if isinstance(body, Block):
            body = Region(body)
        super().__init__(
            operands=[bounds],
            properties={"iterators": ArrayAttr([StringAttr(k) for k in iterators])},
            regions=[body],
        )
        ensure_terminator(self, SingleBlockImplicitTerminator(YieldOp))

    @property
    def ivs(self) -> tuple[SSAValue, ...]:
        return tuple(self.body.block.args)

    @property
    def iterator_kinds(self) -> tuple[str, ...]:
        return tuple(a.data for a in self.iterators.data)

    def verify_(self) -> None:
        kinds = self.iterator_kinds
        if len(kinds) != len(self.bounds):
            raise VerifyException(
                f"expected {len(self.bounds)} iterator kinds (one per bound), got {len(kinds)}"
            )
        for k in kinds:
            if k not in ITERATOR_KINDS:
                raise VerifyException(
                    f"unknown iterator kind '{k}', expected one of {ITERATOR_KINDS}"
                )
        args = self.body.block.args
        if len(args) != len(self.bounds) or any(not isinstance(a.type, IndexType) for a in args):
            raise VerifyException("body block must have one `index` argument per bound")
        # A reduction combines into an accumulator it stores: without a store it computes
        # nothing, and the backend has nothing to reduce into.
        if REDUCTION in kinds and not any(isinstance(op, StoreOp) for op in self.body.ops):
            raise VerifyException(
                "a nest with a 'reduction' iterator must store its accumulator "
                "(no loop.store in the body)"
            )

    def constant_bounds(self) -> tuple[int, ...] | None:
        """The bounds if all are `arith.constant`s, else None."""
        out = []
        for b in self.bounds:
            owner = b.owner
            is_const = isinstance(owner, Operation) and owner.name == "arith.constant"
            value = getattr(owner, "value", None) if is_const else None
            if not isinstance(value, IntegerAttr):
                return None
            out.append(value.value.data)
        return tuple(out)

    def print(self, printer: Printer) -> None:
        printer.print_string(" (")
        printer.print_list(self.body.block.args, printer.print_ssa_value)
        printer.print_string(") to (")
        printer.print_list(self.bounds, printer.print_ssa_value)
        printer.print_string(") [")
        printer.print_list(self.iterator_kinds, lambda k: printer.print_string(f'"{k}"'))
        printer.print_string("] ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> NestOp:
        ivs = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=False)
        )
        parser.parse_keyword("to")
        bounds = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        kinds = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, parser.parse_str_literal)
        index = IndexType()
        region = parser.parse_region([iv.resolve(index) for iv in ivs])
        attrs = parser.parse_optional_attr_dict()
        op = cls(parser.resolve_operands(bounds, [index] * len(bounds), parser.pos), kinds, region)
        op.attributes |= attrs
        return op


def _verify_access(op: LoadOp | StoreOp) -> None:
    mtype = op.memref.type
    assert isinstance(mtype, MemRefType)
    amap = op.map.data
    if amap.num_symbols != 0:
        raise VerifyException(f"{op.name} map must not have symbols")
    if amap.num_dims != len(op.indices):
        raise VerifyException(
            f"{op.name} map has {amap.num_dims} dims but {len(op.indices)} index operands"
        )
    if len(amap.results) != mtype.get_num_dims():
        raise VerifyException(
            f"{op.name} map has {len(amap.results)} results but the memref has rank "
            f"{mtype.get_num_dims()}"
        )
    _verify_in_bounds(op, amap, mtype)


def _verify_in_bounds(op: LoadOp | StoreOp, amap: AffineMap, mtype: MemRefType) -> None:
    """With constant nest bounds and a static memref, every access must stay inside it: an
    out-of-bounds index would read garbage, or fail deep in the backend. Only exact ranges are
    judged (affine in the induction variables, or one floordiv/ceildiv of such), so a valid
    program is never rejected."""
    nest = op.parent_op()
    if not isinstance(nest, NestOp) or (bounds := nest.constant_bounds()) is None:
        return
    if any(n <= 0 for n in bounds):
        return  # an empty nest accesses nothing
    ivs = nest.body.block.args
    # Map dim i -> the nest dimension its operand is (None: defined outside the nest).
    dims = [ivs.index(v) if v in ivs else None for v in op.indices]
    for k, (expr, size) in enumerate(zip(amap.results, mtype.get_shape(), strict=True)):
        span = _exact_range(expr, dims, bounds)
        if span is None or size < 0:  # a dynamic size, or a range we cannot pin down
            continue
        lo, hi = span
        if lo < 0 or hi >= size:
            raise VerifyException(
                f"{op.name} index {k} = {expr} ranges over [{lo}, {hi}] in this nest, outside "
                f"dimension {k} of {mtype} (size {size})"
            )


def _exact_range(
    expr: AffineExpr, dims: list[int | None], bounds: tuple[int, ...]
) -> tuple[int, int] | None:
    """The exact [min, max] of `expr` over the nest, or None if it is not easily known."""
    if isinstance(expr, AffineBinaryOpExpr) and expr.kind in (
        AffineBinaryOpKind.FloorDiv,
        AffineBinaryOpKind.CeilDiv,
    ):
        inner, c = _exact_range(expr.lhs, dims, bounds), _linear(expr.rhs, dims)
        if inner is None or c is None or c[0] or c[1] <= 0:
            return None
        div = c[1]
        if expr.kind == AffineBinaryOpKind.FloorDiv:  # monotone: the ends map to the ends
            return inner[0] // div, inner[1] // div
        return -(-inner[0] // div), -(-inner[1] // div)
    lin = _linear(expr, dims)
    if lin is None:
        return None
    coefs, const = lin
    lo = const + sum(min(0, c) * (bounds[d] - 1) for d, c in coefs.items())
    hi = const + sum(max(0, c) * (bounds[d] - 1) for d, c in coefs.items())
    return lo, hi


def _linear(expr: AffineExpr, dims: list[int | None]) -> tuple[dict[int, int], int] | None:
    """`expr` as {nest dimension: coefficient} + constant, or None if it is not linear in the
    nest's induction variables."""
    if isinstance(expr, AffineConstantExpr):
        return {}, expr.value
    if isinstance(expr, AffineDimExpr):
        d = dims[expr.position] if expr.position < len(dims) else None
        return None if d is None else ({d: 1}, 0)
    if not isinstance(expr, AffineBinaryOpExpr):
        return None
    a, b = _linear(expr.lhs, dims), _linear(expr.rhs, dims)
    if a is None or b is None:
        return None
    if expr.kind == AffineBinaryOpKind.Add:
        coefs = dict(a[0])
        for d, c in b[0].items():
            coefs[d] = coefs.get(d, 0) + c
        return {d: c for d, c in coefs.items() if c}, a[1] + b[1]
    if expr.kind == AffineBinaryOpKind.Mul and (not a[0] or not b[0]):
        (lin, k) = (b, a[1]) if not a[0] else (a, b[1])
        return {d: c * k for d, c in lin[0].items() if c * k}, lin[1] * k
    return None


def _print_access(op: LoadOp | StoreOp, printer: Printer) -> None:
    printer.print_ssa_value(op.memref)
    printer.print_string("[")
    printer.print_list(op.indices, printer.print_ssa_value)
    printer.print_string("] ")
    printer.print_attribute(op.map)
    printer.print_op_attributes(op.attributes)
    printer.print_string(" : ")
    printer.print_attribute(op.memref.type)


def _parse_access(parser: Parser) -> tuple[SSAValue, list[SSAValue], AffineMapAttr, dict]:
    memref = parser.parse_unresolved_operand()
    indices = parser.parse_comma_separated_list(
        Parser.Delimiter.SQUARE, parser.parse_unresolved_operand
    )
    amap = parser.parse_attribute()
    if not isinstance(amap, AffineMapAttr):
        parser.raise_error("expected an affine_map")
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    mtype = parser.parse_type()
    if not isinstance(mtype, MemRefType):
        parser.raise_error("expected a memref type")
    index = IndexType()
    return (
        parser.resolve_operand(memref, mtype),
        [parser.resolve_operand(i, index) for i in indices],
        amap,
        attrs,
    )


@irdl_op_definition
class LoadOp(IRDLOperation):
    """Reads `memref[map(indices)]`."""

    name = "loop.load"

    memref = operand_def(MemRefType)
    indices = var_operand_def(IndexType)
    map = prop_def(AffineMapAttr)
    result = result_def()

    traits = traits_def(MemoryReadEffect())

    def __init__(
        self,
        memref: SSAValue | Operation,
        indices: Sequence[SSAValue | Operation],
        map: AffineMap | AffineMapAttr,
    ):
        mtype = SSAValue.get(memref).type
        assert isinstance(mtype, MemRefType)
        if isinstance(map, AffineMap):
            map = AffineMapAttr(map)
        super().__init__(
            operands=[memref, indices],
            properties={"map": map},
            result_types=[mtype.element_type],
        )

    def verify_(self) -> None:
        _verify_access(self)
        mtype = self.memref.type
        assert isinstance(mtype, MemRefType)
        if self.result.type != mtype.element_type:
            raise VerifyException(
                f"result type {self.result.type} does not match the element type {mtype.element_type}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_access(self, printer)

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        memref, indices, amap, attrs = _parse_access(parser)
        op = cls(memref, indices, amap)
        op.attributes |= attrs
        return op


@irdl_op_definition
class StoreOp(IRDLOperation):
    """Writes `value` to `memref[map(indices)]`."""

    name = "loop.store"

    value = operand_def()
    memref = operand_def(MemRefType)
    indices = var_operand_def(IndexType)
    map = prop_def(AffineMapAttr)

    traits = traits_def(MemoryWriteEffect())

    def __init__(
        self,
        value: SSAValue | Operation,
        memref: SSAValue | Operation,
        indices: Sequence[SSAValue | Operation],
        map: AffineMap | AffineMapAttr,
    ):
        if isinstance(map, AffineMap):
            map = AffineMapAttr(map)
        super().__init__(operands=[value, memref, indices], properties={"map": map})

    def verify_(self) -> None:
        _verify_access(self)
        mtype = self.memref.type
        assert isinstance(mtype, MemRefType)
        if self.value.type != mtype.element_type:
            raise VerifyException(
                f"stored value type {self.value.type} does not match the element type "
                f"{mtype.element_type}"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.value)
        printer.print_string(", ")
        _print_access(self, printer)

    @classmethod
    def parse(cls, parser: Parser) -> StoreOp:
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        memref, indices, amap, attrs = _parse_access(parser)
        mtype = memref.type
        assert isinstance(mtype, MemRefType)
        op = cls(parser.resolve_operand(value, mtype.element_type), memref, indices, amap)
        op.attributes |= attrs
        return op


Loop = Dialect("loop", [NestOp, YieldOp, LoadOp, StoreOp], [])

__all__ = ["Loop", "NestOp", "YieldOp", "LoadOp", "StoreOp", "PARALLEL", "REDUCTION"]
