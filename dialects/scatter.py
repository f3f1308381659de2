"""The `scatter` dialect: writes at computed positions (torch's `index_put`), which linalg cannot
express (a `linalg.generic` writes its output only through an affine map of its loops).

    %r = scatter.index_put %v into %x[%i, %j] : tensor<3x5xf32> into tensor<4x6x5xf32>[tensor<3xi64>, tensor<3xi64>] -> tensor<4x6x5xf32>
    scatter.index_put %v into %x[%i, %j] {accumulate} : memref<3x5xf32> into memref<4x6x5xf32>[memref<3xi64>, memref<3xi64>]

`dest[indices[0][b...], ..., indices[K-1][b...], r...] = values[b..., r...]` for every `b` of the
index shape `B` (all index operands have shape `B`) and every `r` of `dest`'s trailing dims,
`values` has shape `B + dest.shape[K:]`; with `accumulate` the element is added instead (torch's
`accumulate=True`: duplicates add up). Indices are `i64`, already non-negative and in range
(the producer checks and wraps them). On tensors the op returns the updated copy (value
semantics); on memrefs it has no result and writes `dest` in place. `bufferize` turns the first
into the second, `convert-linalg-to-loop` the second into one `loop.nest` over `values` whose
store index operands are computed in its body (the numpy backend: `out[i, j] = v`, or
`np.add.at(out, (i, j), v)`).

    %r = scatter.nonzero %m into %e : tensor<3x4xi1> into tensor<?x2xi64> -> tensor<?x2xi64>
    scatter.nonzero %m into %e : memref<3x4xi1> into memref<?x2xi64>

`dest[k, :]` = the coordinates of the k-th nonzero element of `source` in row-major order
(torch's `nonzero`, numpy's `argwhere`): `dest` is `count x rank(source)` i64, its first size
the number of nonzeros, which the producer computes at run time and allocates `dest` with (a
`?` dim: the one result size in xjit that only the data decides). Like `index_put`, on tensors
it returns the filled copy and on memrefs writes `dest` in place; unlike it, no nest can
express it (each row's position is a running count), so it stays one op through the loops
stage and the numpy backend emits it whole (`np.copyto(dest, np.argwhere(source))`).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import MemRefType, TensorType, UnitAttr, i1, i64
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    opt_result_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class IndexPutOp(IRDLOperation):
    name = "scatter.index_put"

    values = operand_def()
    dest = operand_def()
    indices = var_operand_def()
    result = opt_result_def()
    accumulate = opt_prop_def(UnitAttr)

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def __init__(
        self,
        values: SSAValue | Operation,
        dest: SSAValue | Operation,
        indices: Sequence[SSAValue | Operation],
        accumulate: bool = False,
    ):
        dtype = SSAValue.get(dest).type
        super().__init__(
            operands=[values, dest, indices],
            result_types=[[dtype] if isinstance(dtype, TensorType) else []],
            properties={"accumulate": UnitAttr()} if accumulate else {},
        )

    @property
    def is_accumulate(self) -> bool:
        return self.accumulate is not None

    def verify_(self) -> None:
        dt, vt = self.dest.type, self.values.type
        kind = TensorType if isinstance(dt, TensorType) else MemRefType
        if not isinstance(dt, TensorType | MemRefType):
            raise VerifyException(f"dest must be a tensor or a memref, got {dt}")
        types = [vt, *(i.type for i in self.indices)]
        if not all(isinstance(t, kind) for t in types):
            raise VerifyException("values, dest and indices must all be tensors or all memrefs")
        if (self.result is not None) != (kind is TensorType):
            raise VerifyException("a result on tensors (the updated copy), none on memrefs")
        if self.result is not None and self.result.type != dt:
            raise VerifyException(f"result type {self.result.type} is not the dest type {dt}")
        k = len(self.indices)
        if not 1 <= k <= dt.get_num_dims():  # type: ignore[union-attr]
            raise VerifyException(f"expected 1 to {dt.get_num_dims()} index operands, got {k}")  # type: ignore[union-attr]
        shapes = {tuple(i.type.get_shape()) for i in self.indices}  # type: ignore[attr-defined]
        if len(shapes) != 1 or any(i.type.element_type != i64 for i in self.indices):  # type: ignore[attr-defined]
            raise VerifyException("index operands must all be i64 of one shape")
        want = (*shapes.pop(), *dt.get_shape()[k:])  # type: ignore[union-attr]
        got = tuple(vt.get_shape())  # type: ignore[union-attr]
        if len(got) != len(want) or any(a != b and a >= 0 and b >= 0 for a, b in zip(got, want)):
            raise VerifyException(
                f"values shape {list(got)} is not index shape + rest {list(want)}"
            )
        if vt.element_type != dt.element_type:  # type: ignore[union-attr]
            raise VerifyException("values and dest element types differ")
        if self.is_accumulate and dt.element_type == i1:  # type: ignore[union-attr]
            raise VerifyException("accumulate on i1 is not supported")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.values)
        printer.print_string(" into ")
        printer.print_ssa_value(self.dest)
        printer.print_string("[")
        printer.print_list(self.indices, printer.print_ssa_value)
        printer.print_string("]")
        if self.is_accumulate:
            printer.print_string(" {accumulate}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.values.type)
        printer.print_string(" into ")
        printer.print_attribute(self.dest.type)
        printer.print_string("[")
        printer.print_list([i.type for i in self.indices], printer.print_attribute)
        printer.print_string("]")
        if self.result is not None:
            printer.print_string(" -> ")
            printer.print_attribute(self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> IndexPutOp:
        values = parser.parse_unresolved_operand()
        parser.parse_keyword("into")
        dest = parser.parse_unresolved_operand()
        indices = parser.parse_comma_separated_list(
            Parser.Delimiter.SQUARE, parser.parse_unresolved_operand
        )
        attrs = parser.parse_optional_attr_dict()
        accumulate = "accumulate" in attrs
        attrs.pop("accumulate", None)
        parser.parse_punctuation(":")
        vt = parser.parse_type()
        parser.parse_keyword("into")
        dt = parser.parse_type()
        its = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, parser.parse_type)
        if len(its) != len(indices):
            parser.raise_error(f"expected {len(indices)} index types, got {len(its)}")
        if parser.parse_optional_punctuation("->") is not None:
            rt: Attribute | None = parser.parse_type()
            if rt != dt:
                parser.raise_error(f"result type {rt} is not the dest type {dt}")
        op = cls(
            parser.resolve_operand(values, vt),
            parser.resolve_operand(dest, dt),
            [parser.resolve_operand(i, t) for i, t in zip(indices, its, strict=True)],
            accumulate,
        )
        op.attributes |= attrs
        return op


@irdl_op_definition
class NonzeroOp(IRDLOperation):
    name = "scatter.nonzero"

    source = operand_def()
    dest = operand_def()
    result = opt_result_def()

    assembly_format = (
        "$source `into` $dest attr-dict `:` type($source) `into` type($dest) (`->` type($result)^)?"
    )

    def __init__(self, source: SSAValue | Operation, dest: SSAValue | Operation):
        dtype = SSAValue.get(dest).type
        super().__init__(
            operands=[source, dest],
            result_types=[[dtype] if isinstance(dtype, TensorType) else []],
        )

    def verify_(self) -> None:
        st, dt = self.source.type, self.dest.type
        kind = TensorType if isinstance(dt, TensorType) else MemRefType
        if not isinstance(dt, TensorType | MemRefType) or not isinstance(st, kind):
            raise VerifyException("source and dest must both be tensors or both memrefs")
        if (self.result is not None) != (kind is TensorType):
            raise VerifyException("a result on tensors (the filled dest), none on memrefs")
        if self.result is not None and self.result.type != dt:
            raise VerifyException(f"result type {self.result.type} is not the dest type {dt}")
        shape = dt.get_shape()
        if dt.element_type != i64 or len(shape) != 2:
            raise VerifyException(f"dest must be a 2-d i64 {kind.name}, got {dt}")
        if shape[1] != st.get_num_dims():
            raise VerifyException(
                f"dest has {shape[1]} columns, not the source rank {st.get_num_dims()}"
            )


Scatter = Dialect("scatter", [IndexPutOp, NonzeroOp], [])

__all__ = ["Scatter", "IndexPutOp", "NonzeroOp"]
