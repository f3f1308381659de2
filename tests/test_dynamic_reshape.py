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
    assert reshape_groups([2, None, 3], [2, 3, None]) == ([[0], [1, 2]], [[0], [1, 2]])


RUN_TIME = """
func.func @f(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,?,4],f32> {
  %c0 = torch.constant.int 0
  %c4 = torch.constant.int 4
  %mul = torch.constant.int MUL
  %b = torch.aten.size.int %x, %c0 : !torch.vtensor<[?,8],f32>, !torch.int -> !torch.int
  %n = torch.aten.mul.int %b, %mul : !torch.int, !torch.int -> !torch.int
  %s = torch.prim.ListConstruct %b, %n, %c4 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,8],f32>, !torch.list<int> -> !torch.vtensor<[?,?,4],f32>
  func.return %0 : !torch.vtensor<[?,?,4],f32>
}
"""


def test_view_with_run_time_sizes() -> None:
    """view(x, [b, b * k, 4]) with b = x.size(0): the sizes are read at run time and checked
    (b * (b * k) * 4 must be x's element count), so only k = 2 / b fits: b = 1, k = 2."""
    module, fn = _compile(RUN_TIME.replace("MUL", "2"))
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    np.testing.assert_array_equal(fn(x)[0], x.reshape(1, 2, 4))
    np.testing.assert_array_equal(run_interpreted(module, "f", [x])[0], x.reshape(1, 2, 4))
    x3 = np.zeros((3, 8), np.float32)  # [3, 6, 4] has 72 elements, not 24
    with pytest.raises(ShapeMismatch, match="reshape: the shape is invalid"):
        fn(x3)
    with pytest.raises(AssertionError):
        run_interpreted(module, "f", [x3])


SAME_DIM = """
func.func @f(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,8],f32> {
  %c0 = torch.constant.int 0
  %c8 = torch.constant.int 8
  %add = torch.constant.int ADD
  %b = torch.aten.size.int %x, %c0 : !torch.vtensor<[?,8],f32>, !torch.int -> !torch.int
  %n = torch.aten.add.int %b, %add : !torch.int, !torch.int -> !torch.int
  %s = torch.prim.ListConstruct %n, %c8 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,8],f32>, !torch.list<int> -> !torch.vtensor<[?,8],f32>
  func.return %0 : !torch.vtensor<[?,8],f32>
}
"""


def test_run_time_size_of_a_kept_dim_is_checked() -> None:
    """view(x, [x.size(0) + k, 8]) keeps dim 0 only for k = 0; otherwise it raises (no view
    with x's own size returned for a size that does not fit)."""
    x = np.arange(16, dtype=np.float32).reshape(2, 8)
    _, fn = _compile(SAME_DIM.replace("ADD", "0"))
    np.testing.assert_array_equal(fn(x)[0], x)
    _, fn = _compile(SAME_DIM.replace("ADD", "1"))
    with pytest.raises(ShapeMismatch, match="reshape: the shape is invalid"):
        fn(x)


UNFLATTEN = """
func.func @f(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,2,4],f32> {
  %c1 = torch.constant.int 1
  %c2 = torch.constant.int 2
  %c4 = torch.constant.int 4
  %s = torch.prim.ListConstruct %c2, %c4 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.unflatten.int %x, %c1, %s : !torch.vtensor<[?,8],f32>, !torch.int, !torch.list<int> -> !torch.vtensor<[?,2,4],f32>
  %1 = torch.aten.flatten.using_ints %0, %c1, %c1 : !torch.vtensor<[?,2,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[?,2,4],f32>
  func.return %1 : !torch.vtensor<[?,2,4],f32>
}
"""


def test_unflatten_and_flatten_with_a_dynamic_batch() -> None:
    module, fn = _compile(UNFLATTEN)
    for b in (1, 3):
        x = np.arange(8 * b, dtype=np.float32).reshape(b, 8)
        np.testing.assert_array_equal(fn(x)[0], x.reshape(b, 2, 4))
        np.testing.assert_array_equal(run_interpreted(module, "f", [x])[0], x.reshape(b, 2, 4))
