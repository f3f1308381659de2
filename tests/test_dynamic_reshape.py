"""view/reshape of tensors with `?` dims (xjit/ops/shape_ops.py `reshape_groups`, the lowering's
`LinalgBuilder.reshape`): compared with numpy's reshape at several run-time sizes, and a shape
that does not fit the run-time element count raises (cf.assert) instead of returning a wrong
view."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.parser import Parser

from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import compile_module
from xjit.backends.numpy.runtime import ShapeMismatch
from xjit.dialects import make_context
from xjit.ops.shape_ops import reshape_groups
from xjit.passes.pipelines import TorchToLoops


def _view(src: str, dst: str, sizes: list[int]) -> str:
    consts = "\n".join(f"  %c{i} = torch.constant.int {s}" for i, s in enumerate(sizes))
    names = ", ".join(f"%c{i}" for i in range(len(sizes)))
    ints = ", ".join("!torch.int" for _ in sizes)
    return f"""
func.func @f(%x: !torch.vtensor<[{src}],f32>) -> !torch.vtensor<[{dst}],f32> {{
{consts}
  %s = torch.prim.ListConstruct {names} : ({ints}) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[{src}],f32>, !torch.list<int> -> !torch.vtensor<[{dst}],f32>
  func.return %0 : !torch.vtensor<[{dst}],f32>
}}
"""


def _compile(src: str):
    ctx = make_context()
    module = Parser(ctx, src).parse_module()
    TorchToLoops().apply(ctx, module)
    module.verify()
    return module, compile_module(module)["f"]


CASES = [
    # (input type, result type, view sizes, input shapes at run time)
    ("?,8", "?,2,4", [-1, 2, 4], [(1, 8), (5, 8)]),
    ("?,5,8", "?,8", [-1, 8], [(2, 5, 8), (3, 5, 8)]),
    ("?,8", "?,5,8", [-1, 5, 8], [(5, 8), (15, 8)]),
    ("?,6", "?,4", [-1, 4], [(2, 6), (6, 6)]),
    ("2,?", "?,2", [-1, 2], [(2, 3), (2, 7)]),
    ("?,2,5,8", "?,5,16", [-1, 5, 16], [(1, 2, 5, 8), (3, 2, 5, 8)]),
    ("?,8,5,5", "?,200", [-1, 200], [(2, 8, 5, 5), (4, 8, 5, 5)]),
    ("?,4", "2,4", [2, 4], [(2, 4)]),
]


@pytest.mark.parametrize(("src", "dst", "sizes", "shapes"), CASES)
def test_dynamic_view_matches_numpy(src: str, dst: str, sizes: list[int], shapes: list) -> None:
    module, fn = _compile(_view(src, dst, sizes))
    for shape in shapes:
        x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        want = x.reshape(sizes)
        got = fn(x)[0]
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(run_interpreted(module, "f", [x])[0], want)


@pytest.mark.parametrize(
    ("src", "dst", "sizes", "bad"),
    [
        ("?,8", "?,5,8", [-1, 5, 8], (4, 8)),  # 32 elements are not [-1, 5, 8]
        ("?,6", "?,4", [-1, 4], (3, 6)),  # 18 elements are not [-1, 4]
        ("?,4", "2,4", [2, 4], (3, 4)),  # 12 elements are not [2, 4]
    ],
)
def test_element_count_mismatch_raises(src: str, dst: str, sizes: list[int], bad: tuple) -> None:
    module, fn = _compile(_view(src, dst, sizes))
    x = np.zeros(bad, np.float32)
    with pytest.raises(ValueError):  # what torch (and numpy) raise for this reshape
        x.reshape(sizes)
    with pytest.raises(ShapeMismatch, match="reshape: the shape is invalid"):
        fn(x)
    with pytest.raises(AssertionError):
        run_interpreted(module, "f", [x])


def test_groups_of_dynamic_reshapes() -> None:
    """Static groups from both ends, the dynamic rest one group."""
    assert reshape_groups([None, 5, 16], [None, 5, 2, 8]) == ([[0], [1], [2]], [[0], [1], [2, 3]])
    assert reshape_groups([None, 6], [None, 4]) == ([[0, 1]], [[0, 1]])
    with pytest.raises(NotImplementedError, match="several dims of unknown size"):
        reshape_groups([None, 6], [None, None, 4])
