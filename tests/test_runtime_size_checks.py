"""`?` sizes are checked at run time where they meet other sizes (cf.assert in the lowering):
a mismatched call raises instead of silently reading part of an operand."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.parser import Parser

import xjit as torch
from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import compile_module
from xjit.backends.numpy.runtime import ShapeMismatch
from xjit.dialects import make_context
from xjit.jit import ArgumentError
from xjit.passes.pipelines import TorchToLoops

ADD = """
func.func @f(%x: !torch.vtensor<[?,4],f32>, %y: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Tensor %x, %y, %int1 : !torch.vtensor<[?,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}
"""

MM = """
func.func @f(%x: !torch.vtensor<[3,?],f32>, %w: !torch.vtensor<[?,2],f32>) -> !torch.vtensor<[3,2],f32> {
  %0 = torch.aten.mm %x, %w : !torch.vtensor<[3,?],f32>, !torch.vtensor<[?,2],f32> -> !torch.vtensor<[3,2],f32>
  func.return %0 : !torch.vtensor<[3,2],f32>
}
"""


def _lower(src: str):
    ctx = make_context()
    module = Parser(ctx, src).parse_module()
    TorchToLoops().apply(ctx, module)
    module.verify()
    assert "cf.assert" in str(module)
    return module


def test_dynamic_dim_broadcast_against_static_is_checked() -> None:
    module = _lower(ADD)
    fn = compile_module(module)["f"]
    x, y = np.ones((3, 4), np.float32), np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(fn(x, y)[0], x + y)
    with pytest.raises(ShapeMismatch, match="aten.add.Tensor"):
        fn(np.ones((5, 4), np.float32), y)
    # The reference interpreter runs the same assertion.
    np.testing.assert_array_equal(run_interpreted(module, "f", [x, y])[0], x + y)
    with pytest.raises(AssertionError):
        run_interpreted(module, "f", [np.ones((5, 4), np.float32), y])


def test_contraction_dims_are_checked() -> None:
    fn = compile_module(_lower(MM))["f"]
    x, w = np.ones((3, 5), np.float32), np.ones((5, 2), np.float32)
    np.testing.assert_array_equal(fn(x, w)[0], x @ w)
    with pytest.raises(ShapeMismatch, match="aten.mm"):
        fn(x, np.ones((4, 2), np.float32))


def test_scripted_call_with_incompatible_shapes_raises() -> None:
    class Cell(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x, h):
            return torch.tanh(self.linear(x) + h)

    cell = Cell()
    scripted = torch.jit.script(cell)
    x = torch.rand(3, 4)
    np.testing.assert_allclose(scripted(x, torch.rand(3, 4)).numpy().shape, (3, 4))
    with pytest.raises(ArgumentError, match="'h'"):
        scripted(x, torch.rand(3, 5))  # used to return a [3, 4] result, reading h[:, :4]
    h = torch.rand(5, 4)
    x5 = torch.rand(5, 4)
    np.testing.assert_allclose(scripted(x5, h).numpy(), cell(x5, h).numpy(), rtol=1e-5, atol=1e-6)
