"""Shape inference is a trait of the torch ops (issue 9.2): each aten op (and the cast/tuple
ops) hands out the patterns that refine its result types from the registry's shape rule, so
xDSL's own `shape-inference` pass refines straight-line torch IR, and `torch-shape-refinement`
only adds the control-flow joins."""

from __future__ import annotations

from xdsl.parser import Parser
from xdsl.traits import HasShapeInferencePatternsTrait
from xdsl.transforms.shape_inference import infer_shapes

from xjit.dialects import make_context
from xjit.dialects import torch as td
from xjit.passes import get_pass

STRAIGHT = """
func.func @f(%x: !torch.vtensor<[2,3],f32>, %w: !torch.vtensor<[3,5],f32>) -> !torch.vtensor {
  %0 = torch.aten.mm %x, %w : !torch.vtensor<[2,3],f32>, !torch.vtensor<[3,5],f32> -> !torch.vtensor
  %1 = torch.aten.tanh %0 : !torch.vtensor -> !torch.vtensor
  %2 = torch.tensor_static_info_cast %1 : !torch.vtensor to !torch.vtensor<*,f32>
  %3 = torch.aten.t %2 : !torch.vtensor<*,f32> -> !torch.vtensor
  func.return %3 : !torch.vtensor
}
"""


def _result_types(module) -> list[str]:
    return [
        str(r.type) for op in module.walk() for r in op.results if op.name.startswith("torch.a")
    ]


def test_every_aten_op_has_the_trait() -> None:
    for cls in (*td.ATEN_OPS.values(), td.TensorStaticInfoCastOp, td.PrimTupleConstructOp):
        assert cls.has_trait(HasShapeInferencePatternsTrait), cls.name


def test_upstream_shape_inference_refines_torch_ops() -> None:
    ctx = make_context()
    module = Parser(ctx, STRAIGHT).parse_module()
    infer_shapes(module)
    # Hand-derived: mm [2,3]x[3,5] -> [2,5]; tanh keeps it; t -> [5,2].
    assert _result_types(module) == [
        "!torch.vtensor<[2,5],f32>",
        "!torch.vtensor<[2,5],f32>",
        "!torch.vtensor<[5,2],f32>",
    ]


def test_the_driver_agrees_with_upstream_on_straight_line_code() -> None:
    ctx = make_context()
    ours = Parser(ctx, STRAIGHT).parse_module()
    get_pass("torch-shape-refinement")().apply(ctx, ours)
    upstream = Parser(ctx, STRAIGHT).parse_module()
    infer_shapes(upstream)
    assert _result_types(ours) == _result_types(upstream)
    ours.verify()
