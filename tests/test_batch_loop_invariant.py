"""batch-loop-invariant: iteration-independent work batched out of `scf.for` loops.

Each case is a linalg-on-tensors function with a loop. The pass's output must verify; lowered
to loops with and without the pass, the numpy backend and xDSL's interpreter (on the loops
stage) must agree with a numpy oracle written here. Structural checks say what was (or was
not) hoisted.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.linalg.ops import GenericOp

from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import NumpyProgram, XjitPerformanceWarning, compile_module
from xjit.dialects import make_context
from xjit.passes.pipelines import run_passes

RNG = np.random.default_rng(0)

BATCH = ("batch-loop-invariant", "canonicalize", "cse")
TO_LOOPS = (
    "linalg-fuse-elementwise",
    "canonicalize",
    "cse",
    "bufferize",
    "convert-linalg-to-loop",
    "canonicalize",
    "cse",
)

ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
ROW = "affine_map<(d0, d1) -> (d1)>"
SUM2 = f'indexing_maps = [{ID2}, affine_map<(d0, d1) -> ()>], iterator_types = ["reduction", "reduction"]'
EW2 = f'indexing_maps = [{ID2}, {ID2}], iterator_types = ["parallel", "parallel"]'
EW2_2 = f'indexing_maps = [{ID2}, {ID2}, {ID2}], iterator_types = ["parallel", "parallel"]'
BIAS = f'indexing_maps = [{ID2}, {ROW}, {ID2}], iterator_types = ["parallel", "parallel"]'


def unbatched(ir: str) -> ModuleOp:
    """What the pipeline makes of `ir` without the pass (the cleanups only)."""
    module = parse(ir)
    run_passes(make_context(), module, BATCH[1:])
    return module


def batched(ir: str) -> ModuleOp:
    module = parse(ir)
    run_passes(make_context(), module, BATCH)  # verifies after every pass
    return module


def loops(ir: str, batch: bool) -> ModuleOp:
    module = parse(ir)
    run_passes(make_context(), module, (*BATCH, *TO_LOOPS) if batch else TO_LOOPS)
    return module


def compile_loops(module: ModuleOp) -> NumpyProgram:
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)  # bodies must vectorize
        return compile_module(module)


def check(
    ir: str, fn: str, args: list, expected: np.ndarray, interpret: bool = True
) -> NumpyProgram:
    """With and without the pass, numpy backend (and the interpreter on the batched loops
    stage) agree with `expected`; returns the batched program."""
    progs = []
    for batch in (True, False):
        module = loops(ir, batch)
        prog = compile_loops(module)
        before = [np.copy(a) for a in args]
        (got,) = prog[fn](*args)
        for a, b in zip(args, before, strict=True):
            np.testing.assert_array_equal(a, b)  # arguments are never written
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        if batch and interpret:
            (i,) = run_interpreted(module, fn, args)
            np.testing.assert_allclose(i, expected, rtol=1e-5, atol=1e-5)
        progs.append(prog)
    return progs[0]


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def loop_of(module: ModuleOp) -> scf.ForOp:
    (loop,) = [op for op in module.walk() if isinstance(op, scf.ForOp)]
    return loop


def generics_before_loop(module: ModuleOp) -> list[GenericOp]:
    loop = loop_of(module)
    block = loop.parent_block()
    assert block is not None
    out = []
    for op in block.ops:
        if op is loop:
            break
        if isinstance(op, GenericOp):
            out.append(op)
    return out


def in_loop(module: ModuleOp, name: str) -> int:
    return sum(1 for op in loop_of(module).walk() if op.name == name)


# -- the tutorial's RNN: h = tanh(gate(x[i] @ w + b) + h), gate(y) = y if sum(y) > 0 else -y ----


def rnn_ir(T: str = "?", lb: str = "%c0") -> str:
    xs_t = f"tensor<{T}x3x4xf32>"
    ub = "%n = tensor.dim %xs, %c0 : " + xs_t if T == "?" else f"%n = arith.constant {T} : index"
    return f"""
func.func @rnn(%xs: {xs_t}, %w: tensor<4x4xf32>, %b: tensor<4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  {ub}
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = {lb} to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {{
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : {xs_t} to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %y = linalg.generic {{{BIAS}}} ins(%m, %b : tensor<3x4xf32>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      linalg.yield %r : f32
    }} -> tensor<3x4xf32>
    %es = tensor.empty() : tensor<f32>
    %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<f32>) -> tensor<f32>
    %s = linalg.generic {{{SUM2}}} ins(%y : tensor<3x4xf32>) outs(%fs : tensor<f32>) {{
    ^bb0(%p: f32, %o: f32):
      %r = arith.addf %p, %o : f32
      linalg.yield %r : f32
    }} -> tensor<f32>
    %sv = tensor.extract %s[] : tensor<f32>
    %pos = arith.cmpf ogt, %sv, %zero : f32
    %g = scf.if %pos -> (tensor<3x4xf32>) {{
      scf.yield %y : tensor<3x4xf32>
    }} else {{
      %ng = linalg.generic {{{EW2}}} ins(%y : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
      ^bb0(%p: f32, %o: f32):
        %r = arith.negf %p : f32
        linalg.yield %r : f32
      }} -> tensor<3x4xf32>
      scf.yield %ng : tensor<3x4xf32>
    }}
    %a = linalg.generic {{{EW2_2}}} ins(%g, %hi : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      %t = math.tanh %r : f32
      linalg.yield %t : f32
    }} -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }}
  func.return %h : tensor<3x4xf32>
}}
"""


def rnn_reference(
    xs: np.ndarray, w: np.ndarray, b: np.ndarray, h: np.ndarray, lb: int = 0
) -> np.ndarray:
    for i in range(lb, xs.shape[0]):
        y = xs[i] @ w + b
        h = np.tanh((y if y.sum() > 0 else -y) + h)
    return h


def test_rnn_batched_structure() -> None:
    module = batched(rnn_ir())
    hoisted = generics_before_loop(module)
    # the projection, the bias add, the sum and nothing that reads h
    iters = [[i.data.value for i in g.iterator_types.data] for g in hoisted]
    assert len(hoisted) == 3, iters
    assert ["parallel", "parallel", "parallel", "reduction"] in iters  # batched matmul
    assert ["parallel", "parallel", "parallel"] in iters  # batched bias add
    assert ["parallel", "reduction", "reduction"] in iters  # batched sum
    assert in_loop(module, "linalg.matmul") == 0
    assert in_loop(module, "linalg.fill") == 0
    # inside: the step of the batched bias add (a view), the batched sum read at %i, the gate,
    # and the recurrence
    text = str(module)
    assert re.search(
        r"tensor\.extract_slice %\w+\[%i, 0, 0\] \[1, 3, 4\] \[1, 1, 1\] : "
        r"tensor<\?x3x4xf32> to tensor<3x4xf32>",
        text,
    )
    assert re.search(r"tensor\.extract %\w+\[%i\] : tensor<\?xf32>", text)
    assert in_loop(module, "scf.if") == 1 and in_loop(module, "math.tanh") == 1
    assert in_loop(module, "linalg.generic") == 2  # -y in the else branch, tanh(. + h)


@pytest.mark.parametrize("steps", [0, 1, 7])
def test_rnn_dynamic_trip_count(steps: int) -> None:
    xs, w, b, h0 = f32(steps, 3, 4), f32(4, 4), f32(4), f32(3, 4)
    check(rnn_ir(), "rnn", [xs, w, b, h0], rnn_reference(xs, w, b, h0))


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_rnn_static_one_blas_call(steps: int) -> None:
    xs, w, b, h0 = f32(steps, 3, 4), f32(4, 4), f32(4), f32(3, 4)
    prog = check(rnn_ir(str(steps)), "rnn", [xs, w, b, h0], rnn_reference(xs, w, b, h0))
    if steps < 2:
        return  # canonicalize removed (0 steps) or inlined (1 step) the loop
    head, loop = prog.source.split("for k0 in range(")
    # [T,3,4] x [4,4] as one 2-D product over the flattened stack, before the loop
    assert "np.dot(arg0.reshape(-1, 4), arg1" in head, prog.source
    assert "einsum" not in prog.source and "np.dot" not in loop and "matmul" not in loop
    assert re.search(r"buf\d+\[k0\]", loop)  # the loop reads its step of the batched values


@pytest.mark.parametrize("steps", [2, 3, 7, 1])
def test_rnn_nonzero_lower_bound(steps: int) -> None:
    """for i in range(2, n): the batch covers rows 2 .. n-1 (none when n <= 2)."""
    xs, w, b, h0 = f32(steps, 3, 4), f32(4, 4), f32(4), f32(3, 4)
    module = batched(rnn_ir(lb="%c2"))
    assert len(generics_before_loop(module)) == 3
    check(rnn_ir(lb="%c2"), "rnn", [xs, w, b, h0], rnn_reference(xs, w, b, h0, lb=2))


# -- what must stay in the loop ---------------------------------------------------------------

CARRIED = f"""
func.func @carried(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {{
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%hi, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %a = linalg.generic {{{EW2_2}}} ins(%m, %x : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      %t = math.tanh %r : f32
      linalg.yield %t : f32
    }} -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }}
  func.return %h : tensor<3x4xf32>
}}
"""


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_carried_dependence_not_hoisted(steps: int) -> None:
    """h @ w and tanh(. + x[i]) read the carried h: nothing moves."""
    assert str(batched(CARRIED)) == str(unbatched(CARRIED))
    xs, w, h0 = f32(steps, 3, 4), f32(4, 4), f32(3, 4)
    h = h0
    for i in range(steps):
        h = np.tanh(h @ w + xs[i])
    check(CARRIED, "carried", [xs, w, h0], h)


def strided_ir(step: str) -> str:
    return f"""
func.func @strided(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step {step} iter_args(%hi = %h0) -> (tensor<3x4xf32>) {{
    %j = arith.addi %i, %c0 : index
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %a = linalg.generic {{{EW2_2}}} ins(%m, %hi : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      linalg.yield %r : f32
    }} -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }}
  func.return %h : tensor<3x4xf32>
}}
"""


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_non_unit_step_not_hoisted(steps: int) -> None:
    ir = strided_ir("%c2")
    assert str(batched(ir)) == str(unbatched(ir))
    xs, w, h0 = f32(steps, 3, 4), f32(4, 4), f32(3, 4)
    h = h0
    for i in range(0, steps, 2):
        h = xs[i] @ w + h
    check(ir, "strided", [xs, w, h0], h)


def test_unit_step_same_loop_is_batched() -> None:
    """The same loop with step 1: the product moves out (the control for the test above)."""
    module = batched(strided_ir("%c1"))
    assert in_loop(module, "linalg.matmul") == 0 and len(generics_before_loop(module)) == 1


def test_slice_not_at_the_induction_variable_stays() -> None:
    """x[i + 1] is not x[i]: not batched (only slices at exactly %i are)."""
    ir = (
        strided_ir("%c1")
        .replace("%j = arith.addi %i, %c0", "%j = arith.addi %i, %c1")
        .replace("%xs[%i, 0, 0]", "%xs[%j, 0, 0]")
        .replace("to %n step", "to %n1 step")
        .replace("%e = tensor.empty()", "%n1 = arith.subi %n, %c1 : index\n  %e = tensor.empty()")
    )
    module = batched(ir)
    assert in_loop(module, "linalg.matmul") == 1 and not generics_before_loop(module)
    xs, w, h0 = f32(4, 3, 4), f32(4, 4), f32(3, 4)
    h = h0
    for i in range(3):
        h = xs[i + 1] @ w + h
    check(ir, "strided", [xs, w, h0], h)


# -- slices along dim 1; loop-invariant work hoisted as it is -----------------------------------

DIM1 = f"""
func.func @dim1(%xs: tensor<3x?x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.000000e+00 : f32
  %two = arith.constant 2.000000e+00 : f32
  %n = tensor.dim %xs, %c1 : tensor<3x?x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {{
    %x = tensor.extract_slice %xs[0, %i, 0] [3, 1, 4] [1, 1, 1] : tensor<3x?x4xf32> to tensor<3x4xf32>
    %ew = tensor.empty() : tensor<4x4xf32>
    %wt = linalg.transpose ins(%w : tensor<4x4xf32>) outs(%ew : tensor<4x4xf32>) permutation = [1, 0]
    %sq = linalg.generic {{{EW2}}} ins(%x : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %o: f32):
      %r = arith.mulf %p, %two : f32
      linalg.yield %r : f32
    }} -> tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%sq, %wt : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %a = linalg.generic {{{EW2_2}}} ins(%m, %hi : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {{
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.maximumf %p, %q : f32
      linalg.yield %r : f32
    }} -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }}
  func.return %h : tensor<3x4xf32>
}}
"""


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_slices_along_dim_1(steps: int) -> None:
    module = batched(DIM1)
    text = str(module)
    # w^T is loop-invariant: hoisted as it is; x[:, i] * 2 and its product batched over i
    assert in_loop(module, "linalg.transpose") == 0 and in_loop(module, "linalg.matmul") == 0
    assert "affine_map<(d0, d1, d2) -> (d1, d0, d2)>" in text  # xs read with t at dim 1
    assert in_loop(module, "linalg.generic") == 1  # max(., h)
    xs, w, h0 = f32(3, steps, 4), f32(4, 4), f32(3, 4)
    h = h0
    for i in range(steps):
        h = np.maximum((xs[:, i] * 2) @ w.T, h)
    check(DIM1, "dim1", [xs, w, h0], h)


def test_dead_code_and_zero_trip_loops_are_safe() -> None:
    """A loop whose bounds are constants with ub < lb runs 0 times; batched over N = 0."""
    ir = rnn_ir("4", lb="%c2").replace(
        "%n = arith.constant 4 : index", "%n = arith.constant 1 : index"
    )
    xs, w, b, h0 = f32(4, 3, 4), f32(4, 4), f32(4), f32(3, 4)
    check(ir, "rnn", [xs, w, b, h0], h0)


def test_registered_in_torch_to_loops() -> None:
    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES

    names = [n for _, ns in TORCH_TO_LOOPS_STAGES for n in ns]
    assert names.index("convert-torch-to-linalg") < names.index("batch-loop-invariant")
    assert names.index("batch-loop-invariant") < names.index("linalg-fuse-elementwise")
