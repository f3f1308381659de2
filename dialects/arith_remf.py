"""MLIR's `arith.remf` (C's `fmod`: the remainder of truncated division, exact, with the
dividend's sign), which xDSL 0.74's arith dialect lacks: make_context and xjit-opt load it into
their contexts (dialects/__init__.py `load_extra_ops`).

    %r = arith.remf %a, %b : f64

The numpy backend emits `np.fmod` for it (backends/numpy/scalar_ops.py); scripted code's float
`%` and `math.fmod` lower to it (passes/torch_control_flow.py)."""

from __future__ import annotations

from xdsl.dialects.arith import FloatingPointLikeBinaryOperation
from xdsl.irdl import irdl_op_definition, traits_def
from xdsl.traits import Pure


@irdl_op_definition
class RemFOp(FloatingPointLikeBinaryOperation):
    name = "arith.remf"

    traits = traits_def(Pure())
