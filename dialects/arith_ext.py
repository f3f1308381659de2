"""`arith` ops that MLIR has and xDSL 0.74 lacks: `arith.remf` (the floating-point remainder
with C `fmod` semantics: the result has the dividend's sign, |r| < |divisor|, computed exactly).

They keep MLIR's names, so the IR reads as upstream MLIR's; `make_context` (and `xjit-opt`)
load them next to xDSL's `arith` dialect (`Context.load_op`), and the numpy backend maps
`arith.remf` to `np.fmod`.
"""

from __future__ import annotations

from xdsl.dialects.arith import FloatingPointLikeBinaryOperation
from xdsl.irdl import irdl_op_definition, traits_def
from xdsl.traits import Pure


@irdl_op_definition
class RemFOp(FloatingPointLikeBinaryOperation):
    name = "arith.remf"

    traits = traits_def(Pure())


ARITH_EXTENSIONS = (RemFOp,)
