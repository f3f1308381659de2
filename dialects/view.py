"""The `view` dialect: the one memref view upstream xDSL 0.74 lacks.

    %t = view.transpose %x [1, 0] : memref<3x4xf32> to memref<4x3xf32, strided<[1, 4]>>

`view.transpose` is MLIR's `memref.transpose` with the permutation as a dense array: result dim
`k` is source dim `permutation[k]`, no data moves (numpy: `x.transpose(permutation)`). It comes
from a `linalg.transpose` whose result is only read through other views (see
`passes/bufferize.py`); like every view of the buffers stage, it is never written.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import DenseArrayBase, MemRefType, i64
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import NoMemoryEffect
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class TransposeOp(IRDLOperation):
    name = "view.transpose"

    source = operand_def(MemRefType)
    permutation = prop_def(DenseArrayBase.constr(i64))
    result = result_def(MemRefType)

    traits = traits_def(NoMemoryEffect())

    assembly_format = "$source $permutation attr-dict `:` type($source) `to` type($result)"

    def __init__(self, source: SSAValue, permutation: Sequence[int], result_type: Attribute):
        super().__init__(
            operands=[source],
            properties={"permutation": DenseArrayBase.from_list(i64, list(permutation))},
            result_types=[result_type],
        )

    def verify_(self) -> None:
        perm = list(self.permutation.get_values())
        src, res = self.source.type, self.result.type
        assert isinstance(src, MemRefType) and isinstance(res, MemRefType)
        if sorted(perm) != list(range(src.get_num_dims())):
            raise VerifyException(f"permutation {perm} is not a permutation of the source dims")
        shape = src.get_shape()
        if list(res.get_shape()) != [shape[p] for p in perm]:
            raise VerifyException(
                f"result shape {list(res.get_shape())} is not the source shape "
                f"{list(shape)} permuted by {perm}"
            )
        if res.element_type != src.element_type:
            raise VerifyException("element types differ")


View = Dialect("view", [TransposeOp], [])
