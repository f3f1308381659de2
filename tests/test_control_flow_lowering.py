"""Control flow (scf.if/for/while) and scalars through bufferize, convert-linalg-to-loop and the
numpy backend; and torch's prim.If/prim.Loop and scalar ops through the whole pipeline.

Every program runs through the passes (verifying after each), then through the generated numpy
code and through xDSL's interpreter on the loops stage, both compared with numpy written here.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects.builtin import ModuleOp

from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import NumpyProgram, XjitPerformanceWarning, compile_module
from xjit.dialects import make_context
from xjit.passes.pipelines import run_passes

RNG = np.random.default_rng(0)

BUFFERS_TO_LOOPS = ("bufferize", "convert-linalg-to-loop", "canonicalize", "cse")
ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
EW2 = f'indexing_maps = [{ID2}, {ID2}], iterator_types = ["parallel", "parallel"]'
EW2_2 = f'indexing_maps = [{ID2}, {ID2}, {ID2}], iterator_types = ["parallel", "parallel"]'
SUM2 = (
    f"indexing_maps = [{ID2}, affine_map<(d0, d1) -> ()>], "
    'iterator_types = ["reduction", "reduction"]'
)


def lower(ir: str, passes: tuple[str, ...] = BUFFERS_TO_LOOPS) -> ModuleOp:
    module = parse(ir)
    run_passes(make_context(), module, passes)  # verifies after every pass
    return module


def compile_loops(module: ModuleOp) -> NumpyProgram:
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)  # bodies must vectorize
        return compile_module(module)


def check(
    module: ModuleOp, fn: str, args: list, expected: list, rtol: float = 1e-5
) -> NumpyProgram:
    """numpy backend and interpreter agree with `expected`; array arguments are not written."""
    prog = compile_loops(module)
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    got = prog[fn](*args)
    for a, b in zip(args, before, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)  # arguments are never written
    interpreted = run_interpreted(module, fn, args)
    for g, i, e in zip(got, interpreted, expected, strict=True):
        e = np.asarray(e)
        assert np.asarray(g).dtype == e.dtype, (np.asarray(g).dtype, e.dtype)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-6)
        np.testing.assert_allclose(i, e, rtol=rtol, atol=1e-6)
    return prog


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# -- linalg stage (scf on tensors) -> buffers -> loops -> numpy --------------------------------

RNN = f"""
func.func @rnn(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %h0) -> (tensor<3x4xf32>) {{
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %e2 = tensor.empty() : tensor<3x4xf32>
    %a = linalg.generic {{{EW2_2}}} ins(%m, %h : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e2 : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %s = arith.addf %p, %q : f32
      %t = math.tanh %s : f32
      linalg.yield %t : f32
    }} -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }}
  func.return %r : tensor<3x4xf32>
}}
"""


def rnn_reference(xs: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    for x in xs:
        h = np.tanh(x @ w + h)
    return h


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_rnn_for_loop_with_view_of_the_time_step(steps: int) -> None:
    module = lower(RNN)
    text = str(module)
    # xs[i] is read in place: a load whose leading index is the scf.for induction variable.
    assert "memref.subview" not in text
    assert "loop.load %xs[%i, " in text
    xs, w, h0 = f32(steps, 3, 4), f32(4, 4), f32(3, 4)
    prog = check(module, "rnn", [xs, w, h0], [rnn_reference(xs, w, h0)])
    src = prog.source
    assert "for k0 in range(" in src  # the time loop stays a Python loop...
    # ...vectorized: a matmul of a view, into a buffer made once before the loop
    assert "(arg0[k0], arg1, lb" in src


def test_bufferized_rnn_keeps_the_slice_a_view() -> None:
    text = str(lower(RNN, ("bufferize",)))
    assert (
        "memref.subview %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : memref<?x3x4xf32> to "
        "memref<3x4xf32, strided<[4, 1], offset: ?>>" in text
    )
    assert "memref.copy" not in text
    assert "iter_args(%h = %h0) -> (memref<3x4xf32>)" in text


IF_SIGN = f"""
func.func @if_sign(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %s = linalg.generic {{{SUM2}}} ins(%x : tensor<3x4xf32>) outs(%acc : tensor<f32>) {{
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %o, %a : f32
    linalg.yield %t : f32
  }} -> tensor<f32>
  %sv = tensor.extract %s[] : tensor<f32>
  %c = arith.cmpf ogt, %sv, %zero : f32
  %r = scf.if %c -> (tensor<3x4xf32>) {{
    scf.yield %x : tensor<3x4xf32>
  }} else {{
    %e2 = tensor.empty() : tensor<3x4xf32>
    %n = linalg.generic {{{EW2}}} ins(%x : tensor<3x4xf32>) outs(%e2 : tensor<3x4xf32>) {{
    ^bb0(%a: f32, %o: f32):
      %t = arith.negf %a : f32
      linalg.yield %t : f32
    }} -> tensor<3x4xf32>
    scf.yield %n : tensor<3x4xf32>
  }}
  func.return %r : tensor<3x4xf32>
}}
"""


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_if_on_a_tensor_condition_both_branches(sign: float) -> None:
    module = lower(IF_SIGN)
    x = np.abs(f32(3, 4)) * np.float32(sign)
    expected = x if x.sum() > 0 else -x
    prog = check(module, "if_sign", [x], [expected])
    assert "reduce(arg0" in prog.source and "if v" in prog.source


# while sum(x) < limit: x = x * 2 (the condition is computed from tensors in the before region);
# the loop also counts its iterations in an i64 carried alongside the tensor.
WHILE_DOUBLE = f"""
func.func @double_until(%x: tensor<3x4xf32>, %limit: f32) -> (tensor<3x4xf32>, i64) {{
  %k0 = arith.constant 0 : i64
  %r:2 = scf.while (%y = %x, %k = %k0) : (tensor<3x4xf32>, i64) -> (tensor<3x4xf32>, i64) {{
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<f32>
    %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
    %s = linalg.generic {{{SUM2}}} ins(%y : tensor<3x4xf32>) outs(%acc : tensor<f32>) {{
    ^bb0(%a: f32, %o: f32):
      %t = arith.addf %o, %a : f32
      linalg.yield %t : f32
    }} -> tensor<f32>
    %sv = tensor.extract %s[] : tensor<f32>
    %go = arith.cmpf olt, %sv, %limit : f32
    scf.condition(%go) %y, %k : tensor<3x4xf32>, i64
  }} do {{
  ^bb0(%y2: tensor<3x4xf32>, %k2: i64):
    %e2 = tensor.empty() : tensor<3x4xf32>
    %d = linalg.generic {{{EW2}}} ins(%y2 : tensor<3x4xf32>) outs(%e2 : tensor<3x4xf32>) {{
    ^bb0(%a: f32, %o: f32):
      %t = arith.addf %a, %a : f32
      linalg.yield %t : f32
    }} -> tensor<3x4xf32>
    %one = arith.constant 1 : i64
    %k3 = arith.addi %k2, %one : i64
    scf.yield %d, %k3 : tensor<3x4xf32>, i64
  }}
  func.return %r#0, %r#1 : tensor<3x4xf32>, i64
}}
"""


@pytest.mark.parametrize("limit", [-1.0, 10.0, 1000.0])
def test_while_loop_carrying_a_tensor_and_a_counter(limit: float) -> None:
    module = lower(WHILE_DOUBLE)
    x = np.abs(f32(3, 4)) + np.float32(0.1)
    y, k = x, 0
    while y.sum() < np.float32(limit):
        y, k = y + y, k + 1
    prog = check(module, "double_until", [x, np.float32(limit)], [y, np.int64(k)])
    assert "while True:" in prog.source


# sum of i*i for i < n, in i64, with the trip count an i64 argument cast to index.
SCALAR_LOOP = """
func.func @sum_squares(%n: i64) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0 : i64
  %ub = arith.index_cast %n : i64 to index
  %r = scf.for %i = %c0 to %ub step %c1 iter_args(%acc = %z) -> (i64) {
    %ii = arith.index_cast %i : index to i64
    %sq = arith.muli %ii, %ii : i64
    %next = arith.addi %acc, %sq : i64
    scf.yield %next : i64
  }
  func.return %r : i64
}
"""


@pytest.mark.parametrize("n", [0, 1, 7])
def test_scalar_int_loop(n: int) -> None:
    module = lower(SCALAR_LOOP)
    check(module, "sum_squares", [n], [np.int64(sum(i * i for i in range(n)))])


# The loop init is a fresh buffer that is used again after the loop: it must not be written in
# place there (with 0 iterations the loop result *is* that buffer).
INIT_REUSED = f"""
func.func @init_reused(%n: index) -> (tensor<2x2xf32>, tensor<2x2xf32>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %f) -> (tensor<2x2xf32>) {{
    %e1 = tensor.empty() : tensor<2x2xf32>
    %a = linalg.generic {{{EW2}}} ins(%h : tensor<2x2xf32>) outs(%e1 : tensor<2x2xf32>) {{
    ^bb0(%p: f32, %o: f32):
      %s = arith.addf %p, %p : f32
      linalg.yield %s : f32
    }} -> tensor<2x2xf32>
    scf.yield %a : tensor<2x2xf32>
  }}
  %g = linalg.generic {{indexing_maps = [{ID2}], iterator_types = ["parallel", "parallel"]}} outs(%f : tensor<2x2xf32>) {{
  ^bb0(%o: f32):
    %t = arith.mulf %o, %o : f32
    %u = arith.addf %t, %o : f32
    linalg.yield %u : f32
  }} -> tensor<2x2xf32>
  func.return %r, %g : tensor<2x2xf32>, tensor<2x2xf32>
}}
"""


@pytest.mark.parametrize("n", [0, 3])
def test_loop_init_is_not_overwritten_after_the_loop(n: int) -> None:
    module = lower(INIT_REUSED)
    ones = np.ones((2, 2), np.float32)
    check(module, "init_reused", [n], [ones * np.float32(2**n), ones * 2])


# An outer fresh buffer as `outs` inside the loop body would be overwritten on each iteration
# while the previous iteration's result (the iter_arg) is read: each iteration allocates.
OUTER_OUTS = """
func.func @outer_outs(%x: tensor<4x4xf32>, %n: index) -> tensor<4x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %x) -> (tensor<4x4xf32>) {
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %m = linalg.matmul ins(%h, %h : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
    scf.yield %m : tensor<4x4xf32>
  }
  func.return %r : tensor<4x4xf32>
}
"""


def test_outer_outs_buffer_is_not_reused_across_iterations() -> None:
    module = lower(OUTER_OUTS)
    x = f32(4, 4) * np.float32(0.5)
    check(
        module,
        "outer_outs",
        [x, 3],
        [np.linalg.matrix_power(x.astype(np.float64), 8).astype(np.float32)],
        rtol=1e-4,
    )


# A loop whose body yields the iter_arg itself in one branch of an scf.if.
ALTERNATE = f"""
func.func @alternate(%x: tensor<2x3xf32>, %n: index) -> tensor<2x3xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %x) -> (tensor<2x3xf32>) {{
    %m = arith.remsi %i, %c2 : index
    %even = arith.cmpi eq, %m, %c0 : index
    %y = scf.if %even -> (tensor<2x3xf32>) {{
      %e = tensor.empty() : tensor<2x3xf32>
      %t = linalg.generic {{{EW2}}} ins(%h : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {{
      ^bb0(%p: f32, %o: f32):
        %s = math.tanh %p : f32
        linalg.yield %s : f32
      }} -> tensor<2x3xf32>
      scf.yield %t : tensor<2x3xf32>
    }} else {{
      scf.yield %h : tensor<2x3xf32>
    }}
    scf.yield %y : tensor<2x3xf32>
  }}
  func.return %r : tensor<2x3xf32>
}}
"""


@pytest.mark.parametrize("n", [0, 1, 4])
def test_if_inside_for_yielding_the_iter_arg(n: int) -> None:
    module = lower(ALTERNATE)
    x = f32(2, 3)
    y = x
    for i in range(n):
        if i % 2 == 0:
            y = np.tanh(y)
    check(module, "alternate", [x, n], [y])


def test_returned_view_is_copied_to_an_identity_buffer() -> None:
    module = lower("""
    func.func @row(%xs: tensor<5x4xf32>, %i: index) -> tensor<4xf32> {
      %r = tensor.extract_slice %xs[%i, 0] [1, 4] [1, 1] : tensor<5x4xf32> to tensor<4xf32>
      func.return %r : tensor<4xf32>
    }
    """)
    xs = f32(5, 4)
    check(module, "row", [xs, 2], [xs[2]])


# -- torch dialect -> the whole pipeline ---------------------------------------------------------


def lower_torch(ir: str) -> ModuleOp:
    """The torch-to-loops stages, verifying after every pass."""
    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES

    module = parse(ir)
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(make_context(), module, names)
    return module


GATE = """
func.func @gate(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %none = torch.constant.none
  %int0 = torch.constant.int 0
  %s = torch.aten.sum %x, %none : !torch.vtensor<[3,4],f32>, !torch.none -> !torch.vtensor<[],f32>
  %g = torch.aten.gt.Scalar %s, %int0 : !torch.vtensor<[],f32>, !torch.int -> !torch.vtensor<[],i1>
  %c = torch.aten.Bool.Tensor %g : !torch.vtensor<[],i1> -> !torch.bool
  %r = torch.prim.If %c -> (!torch.vtensor<[3,4],f32>) {
    torch.prim.If.yield %x : !torch.vtensor<[3,4],f32>
  } else {
    %n = torch.aten.neg %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
    torch.prim.If.yield %n : !torch.vtensor<[3,4],f32>
  }
  func.return %r : !torch.vtensor<[3,4],f32>
}
"""


def test_torch_prim_if_lowers_to_scf_if() -> None:
    module = parse(GATE)
    run_passes(make_context(), module, ["convert-torch-to-linalg"])
    text = str(module)
    assert "scf.if %" in text and "-> (tensor<3x4xf32>)" in text
    assert "tensor.extract %" in text and "tensor<i1>" in text


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_torch_decision_gate_both_branches(sign: float) -> None:
    module = lower_torch(GATE)
    x = np.abs(f32(3, 4)) * np.float32(sign)
    check(module, "gate", [x], [x if x.sum() > 0 else -x])


TORCH_RNN = """
func.func @rnn(%xs: !torch.vtensor<[?,3,4],f32>, %w: !torch.vtensor<[4,4],f32>, %h0: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %true = torch.constant.bool true
  %n = torch.aten.size.int %xs, %int0 : !torch.vtensor<[?,3,4],f32>, !torch.int -> !torch.int
  %h = torch.prim.Loop %n, %true, init(%h0) {
  ^bb0(%i: !torch.int, %hi: !torch.vtensor<[3,4],f32>):
    %x = torch.aten.select.int %xs, %int0, %i : !torch.vtensor<[?,3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
    %m = torch.aten.mm %x, %w : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32> -> !torch.vtensor<[3,4],f32>
    %a = torch.aten.add.Tensor %m, %hi, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
    %t = torch.aten.tanh %a : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
    torch.prim.Loop.condition %true, iter(%t : !torch.vtensor<[3,4],f32>)
  } : (!torch.int, !torch.bool, !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32>
  func.return %h : !torch.vtensor<[3,4],f32>
}
"""


def test_torch_for_loop_lowers_to_scf_for() -> None:
    module = parse(TORCH_RNN)
    run_passes(make_context(), module, ["convert-torch-to-linalg"])
    text = str(module)
    assert "scf.for %" in text and "iter_args(" in text
    assert "%n = arith.index_cast %4 : index to i64" in text  # size.int
    assert "scf.for %i_index = %5 to %4 step %6 iter_args(%hi = %h0)" in text
    assert "tensor.extract_slice %xs[%i_index, 0, 0] [1, 3, 4] [1, 1, 1]" in text


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_torch_rnn_loop_end_to_end(steps: int) -> None:
    module = lower_torch(TORCH_RNN)
    text = str(module)
    assert "scf.for" in text
    xs, w, h0 = f32(steps, 3, 4), f32(4, 4), f32(3, 4)
    prog = check(module, "rnn", [xs, w, h0], [rnn_reference(xs, w, h0)])
    src = prog.source
    assert "for k0 in range(" in src
    # batch-loop-invariant: xs[i] @ w for every step in one product over all of xs (no copy)
    # before the loop, which reads its step k0 as a view
    assert "np.matmul(arg0, arg1" in src.split("for k0")[0]
    assert re.search(r"\bbuf\d+\[k0\]", src.split("for k0")[1])


# while k < n and sum(y) < limit: y = y * 2; k = k + 1   (TorchScript's while form of prim.Loop)
TORCH_WHILE = """
func.func @double(%x: !torch.vtensor<[2,3],f32>, %n: !torch.int, %limit: !torch.float) -> (!torch.vtensor<[2,3],f32>, !torch.int) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %none = torch.constant.none
  %max = torch.constant.int 9223372036854775807
  %c0 = torch.aten.lt.int %int0, %n : !torch.int, !torch.int -> !torch.bool
  %r:2 = torch.prim.Loop %max, %c0, init(%x, %int0) {
  ^bb0(%it: !torch.int, %y: !torch.vtensor<[2,3],f32>, %k: !torch.int):
    %y2 = torch.aten.mul.Scalar %y, %int2 : !torch.vtensor<[2,3],f32>, !torch.int -> !torch.vtensor<[2,3],f32>
    %k2 = torch.aten.add.int %k, %int1 : !torch.int, !torch.int -> !torch.int
    %more = torch.aten.lt.int %k2, %n : !torch.int, !torch.int -> !torch.bool
    %s = torch.aten.sum %y2, %none : !torch.vtensor<[2,3],f32>, !torch.none -> !torch.vtensor<[],f32>
    %sf = torch.aten.Float.Tensor %s : !torch.vtensor<[],f32> -> !torch.float
    %small = torch.aten.lt.float %sf, %limit : !torch.float, !torch.float -> !torch.bool
    %go = torch.aten.__and__.bool %more, %small : !torch.bool, !torch.bool -> !torch.bool
    torch.prim.Loop.condition %go, iter(%y2, %k2 : !torch.vtensor<[2,3],f32>, !torch.int)
  } : (!torch.int, !torch.bool, !torch.vtensor<[2,3],f32>, !torch.int) -> (!torch.vtensor<[2,3],f32>, !torch.int)
  func.return %r#0, %r#1 : !torch.vtensor<[2,3],f32>, !torch.int
}
"""


@pytest.mark.parametrize(("n", "limit"), [(0, 100.0), (3, 1e9), (50, 100.0)])
def test_torch_while_loop_end_to_end(n: int, limit: float) -> None:
    module = lower_torch(TORCH_WHILE)
    assert "scf.while" in str(module)
    x = np.abs(f32(2, 3)) + np.float32(0.5)
    y, k = x, 0
    if 0 < n:
        while True:  # TorchScript: the body runs once the initial condition holds
            y, k = y * np.float32(2), k + 1
            if not (k < n and float(y.sum()) < limit):
                break
    check(module, "double", [x, n, limit], [y, np.int64(k)])


TORCH_SCALARS = """
func.func @ints(%a: !torch.int, %b: !torch.int, %f: !torch.float) -> (!torch.int, !torch.int, !torch.bool, !torch.float, !torch.int, !torch.bool, !torch.int) {
  %q = torch.aten.floordiv.int %a, %b : !torch.int, !torch.int -> !torch.int
  %r = torch.aten.remainder.int %a, %b : !torch.int, !torch.int -> !torch.int
  %lt = torch.aten.lt.int %a, %b : !torch.int, !torch.int -> !torch.bool
  %af = torch.aten.Float.int %a : !torch.int -> !torch.float
  %m = torch.aten.mul.float %af, %f : !torch.float, !torch.float -> !torch.float
  %n = torch.aten.neg.int %a : !torch.int -> !torch.int
  %s = torch.aten.sub.int %n, %b : !torch.int, !torch.int -> !torch.int
  %t = torch.aten.Int.float %m : !torch.float -> !torch.int
  %ne = torch.aten.ne.float %m, %f : !torch.float, !torch.float -> !torch.bool
  %nt = torch.aten.__not__ %ne : !torch.bool -> !torch.bool
  %ti = torch.aten.Int.bool %nt : !torch.bool -> !torch.int
  %u = torch.aten.add.int %t, %ti : !torch.int, !torch.int -> !torch.int
  func.return %q, %r, %lt, %m, %s, %nt, %u : !torch.int, !torch.int, !torch.bool, !torch.float, !torch.int, !torch.bool, !torch.int
}
"""


@pytest.mark.parametrize(
    ("a", "b", "f"), [(7, 2, 1.5), (-7, 2, -2.25), (7, -3, 0.0), (-8, -3, 1.0)]
)
def test_torch_scalar_arithmetic(a: int, b: int, f: float) -> None:
    module = lower_torch(TORCH_SCALARS)
    m = float(a) * f
    nt = not (m != f)
    expected = [
        np.int64(a // b),
        np.int64(a % b),
        np.bool_(a < b),
        np.float64(m),
        np.int64(-a - b),
        np.bool_(nt),
        np.int64(int(m) + int(nt)),
    ]
    check(module, "ints", [a, b, f], expected)


def test_func_call_must_be_inlined_first() -> None:
    module = parse("""
    func.func @callee(%x: !torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32> {
      func.return %x : !torch.vtensor<[2],f32>
    }
    func.func @caller(%x: !torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32> {
      %y = func.call @callee(%x) : (!torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32>
      func.return %y : !torch.vtensor<[2],f32>
    }
    """)
    from xdsl.utils.exceptions import DiagnosticException

    with pytest.raises(DiagnosticException, match="run the `inline` pass first"):
        run_passes(make_context(), module, ["convert-torch-to-linalg"])


def test_bool_of_a_many_element_tensor_fails_loudly() -> None:
    from xdsl.utils.exceptions import DiagnosticException, VerifyException

    with pytest.raises((DiagnosticException, VerifyException), match="element"):
        lower_torch("""
        func.func @f(%x: !torch.vtensor<[?],f32>) -> !torch.bool {
          %c = torch.aten.Bool.Tensor %x : !torch.vtensor<[?],f32> -> !torch.bool
          func.return %c : !torch.bool
        }
        """)
