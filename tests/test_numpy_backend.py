"""The numpy backend on hand-written loops-stage IR, checked against numpy written independently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ir_programs import LINEAR, parse

from xjit.backends.numpy import NumpyProgram, XjitPerformanceWarning, compile_module

RNG = np.random.default_rng(0)


def build(ir: str, globals: dict[str, np.ndarray] | None = None) -> NumpyProgram:
    """Compile, failing the test on any performance warning (these cases must vectorize)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)
        return compile_module(parse(ir), globals)


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def body_of(prog: NumpyProgram, fn: str) -> str:
    """The generated text of one function."""
    src = prog.source
    start = src.index(f"def f_{fn}(")
    end = src.find("\ndef ", start + 1)
    return src[start : end if end >= 0 else None]


ELEMENTWISE = """
func.func @ew(%A: memref<4x8xf32>, %b: memref<8xf32>) -> memref<4x8xf32> {
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %out = memref.alloc() : memref<4x8xf32>
  loop.nest (%i, %j) to (%c4, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x8xf32>
    %bb = loop.load %b[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<8xf32>
    %half = arith.constant 0.5 : f32
    %s = arith.addf %a, %bb : f32
    %m = arith.mulf %s, %half : f32
    %e = math.exp %m : f32
    %t = math.tanh %e : f32
    %r = arith.maximumf %t, %s : f32
    loop.store %r, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x8xf32>
  }
  func.return %out : memref<4x8xf32>
}
"""


def test_elementwise_chain_with_broadcast() -> None:
    prog = build(ELEMENTWISE)
    A, b = f32(4, 8), f32(8)
    (out,) = prog["ew"](A, b)
    s = A + b
    expected = np.maximum(np.tanh(np.exp(s * np.float32(0.5))), s)
    assert out.dtype == np.float32  # the f32 constant did not promote to f64
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    src = body_of(prog, "ew")
    assert "for " not in src
    assert ", buf0)" in src  # the last ufunc writes straight into the result (out positional)
    # `s` has two uses: computed once, into the result buffer (no temporary array), which the
    # last ufunc then updates in place.
    assert src.count("np.add(") == 1 and "np.add(arg0, arg1, buf0)" in src


def test_column_broadcast_and_transposed_load() -> None:
    prog = build("""
    func.func @f(%A: memref<3x5xf32>, %c: memref<5xf32>, %r: memref<5x3xf32>) -> memref<5x3xf32> {
      %c3 = arith.constant 3 : index
      %c5 = arith.constant 5 : index
      %out = memref.alloc() : memref<5x3xf32>
      loop.nest (%i, %j) to (%c5, %c3) ["parallel", "parallel"] {
        %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d1, d0)> : memref<3x5xf32>
        %b = loop.load %c[%i, %j] affine_map<(d0, d1) -> (d0)> : memref<5xf32>
        %x = loop.load %r[%i, %j] affine_map<(d0, d1) -> (d0, 0)> : memref<5x3xf32>
        %s = arith.subf %a, %b : f32
        %p = arith.mulf %s, %x : f32
        loop.store %p, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<5x3xf32>
      }
      func.return %out : memref<5x3xf32>
    }
    """)
    A, c, r = f32(3, 5), f32(5), f32(5, 3)
    (out,) = prog["f"](A, c, r)
    np.testing.assert_allclose(out, (A.T - c[:, None]) * r[:, :1], rtol=1e-6)
    src = body_of(prog, "f")
    assert "arg0.T" in src and "arg1[:, None]" in src and "arg2[:, 0, None]" in src
    assert "for " not in src


def test_transposed_store() -> None:
    prog = build("""
    func.func @t(%A: memref<2x3x4xf64>) -> memref<4x2x3xf64> {
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %out = memref.alloc() : memref<4x2x3xf64>
      loop.nest (%i, %j, %k) to (%c2, %c3, %c4) ["parallel", "parallel", "parallel"] {
        %a = loop.load %A[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x3x4xf64>
        %n = arith.negf %a : f64
        loop.store %n, %out[%i, %j, %k] affine_map<(d0, d1, d2) -> (d2, d0, d1)> : memref<4x2x3xf64>
      }
      func.return %out : memref<4x2x3xf64>
    }
    """)
    A = RNG.standard_normal((2, 3, 4))
    (out,) = prog["t"](A)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, -A.transpose(2, 0, 1))
    assert "np.negative(arg0, buf0.transpose(1, 2, 0))" in prog.source


MATMUL = """
func.func @mm(%A: memref<?x8xf32>, %B: memref<8x5xf32>) -> memref<?x5xf32> {
  %c0 = arith.constant 0 : index
  %c5 = arith.constant 5 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %A, %c0 : memref<?x8xf32>
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc(%n) : memref<?x5xf32>
  loop.nest (%i, %j) to (%n, %c5) ["parallel", "parallel"] {
    loop.store %zero, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x5xf32>
  }
  loop.nest (%i, %j, %k) to (%n, %c5, %c8) ["parallel", "parallel", "reduction"] {
    %a = loop.load %A[%i, %k] affine_map<(d0, d1) -> (d0, d1)> : memref<?x8xf32>
    %b = loop.load %B[%k, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8x5xf32>
    %acc = loop.load %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x5xf32>
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    loop.store %s, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x5xf32>
  }
  func.return %out : memref<?x5xf32>
}
"""


def test_fill_matmul_dynamic_rows() -> None:
    prog = build(MATMUL)
    B = f32(8, 5)
    for rows in (3, 1, 0):
        A = f32(rows, 8)
        (out,) = prog["mm"](A, B)
        assert out.shape == (rows, 5) and out.dtype == np.float32
        np.testing.assert_allclose(out, A @ B, rtol=1e-5, atol=1e-5)
    src = body_of(prog, "mm")
    assert "np.dot(arg0, arg1, buf0)" in src  # the zero fill folded into `out` (2-D: np.dot)
    assert "for " not in src


def test_matmul_with_transposed_operand_and_bias_fill() -> None:
    # out = 1 + A^T @ W^T: the fill is not the identity, so it stays and the product is added.
    prog = build("""
    func.func @mm(%A: memref<6x4xf32>, %W: memref<3x6xf32>) -> memref<4x3xf32> {
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %c6 = arith.constant 6 : index
      %out = memref.alloc() : memref<4x3xf32>
      loop.nest (%i, %j) to (%c4, %c3) ["parallel", "parallel"] {
        %one = arith.constant 1.0 : f32
        loop.store %one, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
      }
      loop.nest (%i, %j, %k) to (%c4, %c3, %c6) ["parallel", "parallel", "reduction"] {
        %a = loop.load %A[%i, %k] affine_map<(d0, d1) -> (d1, d0)> : memref<6x4xf32>
        %w = loop.load %W[%j, %k] affine_map<(d0, d1) -> (d0, d1)> : memref<3x6xf32>
        %acc = loop.load %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
        %p = arith.mulf %w, %a : f32
        %s = arith.addf %p, %acc : f32
        loop.store %s, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
      }
      func.return %out : memref<4x3xf32>
    }
    """)
    A, W = f32(6, 4), f32(3, 6)
    (out,) = prog["mm"](A, W)
    np.testing.assert_allclose(out, 1 + A.T @ W.T, rtol=1e-5)
    assert "np.matmul(arg1.T, arg0.T)" in prog.source or "np.matmul(arg0.T, arg1.T)" in prog.source


def test_batched_matmul_and_einsum() -> None:
    prog = build("""
    func.func @bmm(%A: memref<2x3x4xf32>, %B: memref<2x4x5xf32>) -> memref<2x3x5xf32> {
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %c5 = arith.constant 5 : index
      %z = arith.constant 0.0 : f32
      %out = memref.alloc() : memref<2x3x5xf32>
      loop.nest (%b, %i, %j) to (%c2, %c3, %c5) ["parallel", "parallel", "parallel"] {
        loop.store %z, %out[%b, %i, %j] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x3x5xf32>
      }
      loop.nest (%b, %i, %j, %k) to (%c2, %c3, %c5, %c4) ["parallel", "parallel", "parallel", "reduction"] {
        %x = loop.load %A[%b, %i, %k] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x3x4xf32>
        %y = loop.load %B[%b, %k, %j] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x4x5xf32>
        %acc = loop.load %out[%b, %i, %j] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x3x5xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        loop.store %s, %out[%b, %i, %j] affine_map<(d0, d1, d2) -> (d0, d1, d2)> : memref<2x3x5xf32>
      }
      func.return %out : memref<2x3x5xf32>
    }
    func.func @mv(%A: memref<3x4xf32>, %v: memref<4xf32>) -> memref<3xf32> {
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %z = arith.constant 0.0 : f32
      %out = memref.alloc() : memref<3xf32>
      loop.nest (%i) to (%c3) ["parallel"] {
        loop.store %z, %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
      }
      loop.nest (%i, %k) to (%c3, %c4) ["parallel", "reduction"] {
        %x = loop.load %A[%i, %k] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
        %y = loop.load %v[%k] affine_map<(d0) -> (d0)> : memref<4xf32>
        %acc = loop.load %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        loop.store %s, %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
      }
      func.return %out : memref<3xf32>
    }
    """)
    A, B = f32(2, 3, 4), f32(2, 4, 5)
    np.testing.assert_allclose(prog["bmm"](A, B)[0], A @ B, rtol=1e-5, atol=1e-6)
    assert "np.matmul(arg0, arg1, out=buf0)" in body_of(prog, "bmm")
    M, v = f32(3, 4), f32(4)
    np.testing.assert_allclose(prog["mv"](M, v)[0], M @ v, rtol=1e-5, atol=1e-6)
    assert 'np.einsum("ab,b->a", arg0, arg1, out=buf0)' in body_of(prog, "mv")


SUMS = """
func.func @rowsum(%A: memref<?x?xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?x?xf32>
  %m = memref.dim %A, %c1 : memref<?x?xf32>
  %z = arith.constant 0.0 : f32
  %out = memref.alloc(%n) : memref<?xf32>
  loop.nest (%i) to (%n) ["parallel"] {
    loop.store %z, %out[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
  }
  loop.nest (%i, %j) to (%n, %m) ["parallel", "reduction"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x?xf32>
    %sq = arith.mulf %a, %a : f32
    %acc = loop.load %out[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
    %s = arith.addf %acc, %sq : f32
    loop.store %s, %out[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
  }
  func.return %out : memref<?xf32>
}
func.func @colsum_all(%A: memref<4x6xf64>) -> (memref<6xf64>, memref<f64>) {
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %z = arith.constant 0.0 : f64
  %cols = memref.alloc() : memref<6xf64>
  %all = memref.alloc() : memref<f64>
  loop.nest (%j) to (%c6) ["parallel"] {
    loop.store %z, %cols[%j] affine_map<(d0) -> (d0)> : memref<6xf64>
  }
  loop.nest (%i, %j) to (%c4, %c6) ["reduction", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x6xf64>
    %acc = loop.load %cols[%j] affine_map<(d0) -> (d0)> : memref<6xf64>
    %s = arith.addf %a, %acc : f64
    loop.store %s, %cols[%j] affine_map<(d0) -> (d0)> : memref<6xf64>
  }
  loop.nest () to () [] {
    loop.store %z, %all[] affine_map<() -> ()> : memref<f64>
  }
  loop.nest (%i, %j) to (%c4, %c6) ["reduction", "reduction"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x6xf64>
    %acc = loop.load %all[] affine_map<() -> ()> : memref<f64>
    %s = arith.addf %acc, %a : f64
    loop.store %s, %all[] affine_map<() -> ()> : memref<f64>
  }
  func.return %cols, %all : memref<6xf64>, memref<f64>
}
"""


def test_sum_reductions_one_axis_and_all_axes() -> None:
    prog = build(SUMS)
    A = f32(5, 7)
    (out,) = prog["rowsum"](A)
    np.testing.assert_allclose(out, (A * A).sum(axis=1), rtol=1e-5)
    assert out.dtype == np.float32
    assert 'np.einsum("ab,ab->a", arg0, arg0, out=buf0)' in prog.source  # a*a is a contraction
    B = RNG.standard_normal((4, 6))
    cols, total = prog["colsum_all"](B)
    np.testing.assert_allclose(cols, B.sum(axis=0))
    assert total.shape == () and np.isclose(total, B.sum())
    src = body_of(prog, "colsum_all")
    assert "axis=(0,), out=buf0)" in src and "axis=(0, 1), out=buf1)" in src
    assert "for " not in src


def test_max_reduction_propagates_nan() -> None:
    prog = build("""
    func.func @rowmax(%A: memref<3x4xf32>) -> memref<3xf32> {
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %ninf = arith.constant 0xFF800000 : f32
      %out = memref.alloc() : memref<3xf32>
      loop.nest (%i) to (%c3) ["parallel"] {
        loop.store %ninf, %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
      }
      loop.nest (%i, %j) to (%c3, %c4) ["parallel", "reduction"] {
        %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
        %acc = loop.load %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
        %m = arith.maximumf %acc, %a : f32
        loop.store %m, %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
      }
      func.return %out : memref<3xf32>
    }
    """)
    A = f32(3, 4)
    A[1, 2] = np.nan
    (out,) = prog["rowmax"](A)
    np.testing.assert_array_equal(out, A.max(axis=1))
    assert np.isnan(out[1])
    assert "np.maximum.reduce(arg0, axis=(1,), out=buf0, initial=-np.inf)" in prog.source


def test_int_dtypes_compare_select_and_truncating_division() -> None:
    prog = build("""
    func.func @ints(%a: memref<8xi64>, %b: memref<8xi64>, %k: i64) -> (memref<8xi64>, memref<8xi64>, memref<8xi1>, memref<8xi64>) {
      %c8 = arith.constant 8 : index
      %q = memref.alloc() : memref<8xi64>
      %r = memref.alloc() : memref<8xi64>
      %lt = memref.alloc() : memref<8xi1>
      %sel = memref.alloc() : memref<8xi64>
      loop.nest (%i) to (%c8) ["parallel"] {
        %x = loop.load %a[%i] affine_map<(d0) -> (d0)> : memref<8xi64>
        %y = loop.load %b[%i] affine_map<(d0) -> (d0)> : memref<8xi64>
        %d = arith.divsi %x, %y : i64
        %m = arith.remsi %x, %y : i64
        %c = arith.cmpi slt, %x, %k : i64
        %s = arith.select %c, %x, %y : i64
        loop.store %d, %q[%i] affine_map<(d0) -> (d0)> : memref<8xi64>
        loop.store %m, %r[%i] affine_map<(d0) -> (d0)> : memref<8xi64>
        loop.store %c, %lt[%i] affine_map<(d0) -> (d0)> : memref<8xi1>
        loop.store %s, %sel[%i] affine_map<(d0) -> (d0)> : memref<8xi64>
      }
      func.return %q, %r, %lt, %sel : memref<8xi64>, memref<8xi64>, memref<8xi1>, memref<8xi64>
    }
    """)
    a = np.array([7, -7, 7, -7, 0, 9, -9, 5], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 3, -4, 4, 5], dtype=np.int64)
    q, r, lt, sel = prog["ints"](a, b, 1)
    # C semantics, written out by hand: truncate toward zero, remainder takes the dividend's sign.
    np.testing.assert_array_equal(q, [3, -3, -3, 3, 0, -2, -2, 1])
    np.testing.assert_array_equal(r, [1, -1, 1, -1, 0, 1, -1, 0])
    assert lt.dtype == np.bool_ and q.dtype == np.int64
    np.testing.assert_array_equal(lt, a < 1)
    np.testing.assert_array_equal(sel, np.where(a < 1, a, b))


def test_casts_bool_and_iota() -> None:
    prog = build("""
    func.func @casts(%x: memref<2x3xf32>) -> (memref<2x3xf64>, memref<2x3xi32>, memref<2x3xf32>) {
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %o1 = memref.alloc() : memref<2x3xf64>
      %o2 = memref.alloc() : memref<2x3xi32>
      %o3 = memref.alloc() : memref<2x3xf32>
      loop.nest (%i, %j) to (%c2, %c3) ["parallel", "parallel"] {
        %a = loop.load %x[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf32>
        %e = arith.extf %a : f32 to f64
        %t = arith.fptosi %a : f32 to i32
        %z = arith.constant 0.0 : f32
        %pos = arith.cmpf ogt, %a, %z : f32
        %pi = arith.extui %pos : i1 to i32
        %sum = arith.addi %t, %pi : i32
        %jj = arith.index_cast %j : index to i64
        %jf = arith.sitofp %jj : i64 to f32
        %w = arith.mulf %a, %jf : f32
        loop.store %e, %o1[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf64>
        loop.store %sum, %o2[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xi32>
        loop.store %w, %o3[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf32>
      }
      func.return %o1, %o2, %o3 : memref<2x3xf64>, memref<2x3xi32>, memref<2x3xf32>
    }
    """)
    x = np.array([[1.7, -1.7, 0.0], [2.5, -0.5, 3.0]], dtype=np.float32)
    o1, o2, o3 = prog["casts"](x)
    np.testing.assert_array_equal(o1, x.astype(np.float64))
    np.testing.assert_array_equal(o2, np.trunc(x).astype(np.int32) + (x > 0))
    assert o2.dtype == np.int32 and o3.dtype == np.float32
    np.testing.assert_allclose(o3, x * np.arange(3, dtype=np.float32))
    assert "np.arange(3)" in prog.source


def test_globals_are_bound_sanitised_and_read_only() -> None:
    ir = """
    "memref.global"() <{sym_name = "linear.weight", sym_visibility = "private", type = memref<3xf32>, initial_value, constant}> : () -> ()
    func.func @f(%x: memref<3xf32>) -> memref<3xf32> {
      %c3 = arith.constant 3 : index
      %w = memref.get_global @linear.weight : memref<3xf32>
      %out = memref.alloc() : memref<3xf32>
      loop.nest (%i) to (%c3) ["parallel"] {
        %a = loop.load %x[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
        %b = loop.load %w[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
        %p = arith.mulf %a, %b : f32
        loop.store %p, %out[%i] affine_map<(d0) -> (d0)> : memref<3xf32>
      }
      func.return %out : memref<3xf32>
    }
    """
    w = f32(3)
    prog = build(ir, {"linear.weight": w})
    x = f32(3)
    np.testing.assert_allclose(prog["f"](x)[0], x * w)
    assert "g_linear_weight" in prog.source and "linear.weight" not in prog.source.replace(
        "@'linear.weight'", ""
    )
    with pytest.raises(KeyError):
        compile_module(parse(ir))
    with pytest.raises(ValueError):
        compile_module(parse(ir), {"linear.weight": np.zeros(4, np.float32)})


def test_argument_guard() -> None:
    prog = build(MATMUL)
    with pytest.raises(ValueError, match="expected float32"):
        prog["mm"](np.zeros((2, 8)), np.zeros((8, 5), np.float32))
    with pytest.raises(ValueError):
        prog["mm"](np.zeros((2, 8), np.float32), np.zeros((8, 4), np.float32))


def test_non_vectorizable_nests_fall_back_with_a_warning() -> None:
    # A 1-D valid convolution (load map d0 + d1) and a prefix sum (loop-carried: reads d0 - 1).
    ir = """
    func.func @conv(%x: memref<10xf32>, %w: memref<3xf32>) -> memref<8xf32> {
      %c8 = arith.constant 8 : index
      %c3 = arith.constant 3 : index
      %z = arith.constant 0.0 : f32
      %out = memref.alloc() : memref<8xf32>
      loop.nest (%i) to (%c8) ["parallel"] {
        loop.store %z, %out[%i] affine_map<(d0) -> (d0)> : memref<8xf32>
      }
      loop.nest (%i, %k) to (%c8, %c3) ["parallel", "reduction"] {
        %a = loop.load %x[%i, %k] affine_map<(d0, d1) -> (d0 + d1)> : memref<10xf32>
        %b = loop.load %w[%k] affine_map<(d0) -> (d0)> : memref<3xf32>
        %acc = loop.load %out[%i] affine_map<(d0) -> (d0)> : memref<8xf32>
        %p = arith.mulf %a, %b : f32
        %s = arith.addf %acc, %p : f32
        loop.store %s, %out[%i] affine_map<(d0) -> (d0)> : memref<8xf32>
      }
      func.return %out : memref<8xf32>
    }
    func.func @cumsum(%x: memref<6xi64>) -> memref<6xi64> {
      %c1 = arith.constant 1 : index
      %c5 = arith.constant 5 : index
      %out = memref.alloc() : memref<6xi64>
      loop.nest () to () [] {
        %a = loop.load %x[] affine_map<() -> (0)> : memref<6xi64>
        loop.store %a, %out[] affine_map<() -> (0)> : memref<6xi64>
      }
      loop.nest (%i) to (%c5) ["reduction"] {
        %prev = loop.load %out[%i] affine_map<(d0) -> (d0)> : memref<6xi64>
        %a = loop.load %x[%i] affine_map<(d0) -> (d0 + 1)> : memref<6xi64>
        %s = arith.addi %prev, %a : i64
        loop.store %s, %out[%i] affine_map<(d0) -> (d0 + 1)> : memref<6xi64>
      }
      func.return %out : memref<6xi64>
    }
    """
    with pytest.warns(XjitPerformanceWarning) as record:
        prog = compile_module(parse(ir))
    messages = [str(w.message) for w in record]
    assert any("@conv" in m and "d0 + d1" in m for m in messages)
    assert any("@cumsum" in m for m in messages)
    assert "# XjitPerformanceWarning" in prog.source
    x, w = f32(10), f32(3)
    expected = np.array([np.dot(x[i : i + 3], w) for i in range(8)])
    np.testing.assert_allclose(prog["conv"](x, w)[0], expected, rtol=1e-5, atol=1e-6)
    xi = np.array([3, -1, 4, 1, -5, 9], dtype=np.int64)
    np.testing.assert_array_equal(prog["cumsum"](xi)[0], np.cumsum(xi))


def test_scf_for_around_nests_with_outer_index() -> None:
    prog = build("""
    func.func @rows(%A: memref<3x4xf32>) -> memref<3x4xf32> {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c3 = arith.constant 3 : index
      %c4 = arith.constant 4 : index
      %out = memref.alloc() : memref<3x4xf32>
      scf.for %r = %c0 to %c3 step %c1 {
        loop.nest (%j) to (%c4) ["parallel"] {
          %a = loop.load %A[%r, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
          %e = math.exp %a : f32
          loop.store %e, %out[%r, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
        }
      }
      func.return %out : memref<3x4xf32>
    }
    """)
    A = f32(3, 4)
    np.testing.assert_allclose(prog["rows"](A)[0], np.exp(A), rtol=1e-6)
    assert "np.exp(arg0[k0], buf0[k0])" in prog.source


def test_shifted_loads_are_slices() -> None:
    prog = build("""
    func.func @diff(%x: memref<6xf32>) -> memref<5xf32> {
      %c5 = arith.constant 5 : index
      %out = memref.alloc() : memref<5xf32>
      loop.nest (%i) to (%c5) ["parallel"] {
        %a = loop.load %x[%i] affine_map<(d0) -> (d0 + 1)> : memref<6xf32>
        %b = loop.load %x[%i] affine_map<(d0) -> (d0)> : memref<6xf32>
        %d = arith.subf %a, %b : f32
        loop.store %d, %out[%i] affine_map<(d0) -> (d0)> : memref<5xf32>
      }
      func.return %out : memref<5xf32>
    }
    """)
    x = f32(6)
    np.testing.assert_array_equal(prog["diff"](x)[0], np.diff(x))
    # the unshifted load is sliced too: the loop covers only 5 of its 6 elements
    assert "np.subtract(arg0[1:1 + 5], arg0[:5], buf0)" in prog.source


# Cross-check against the xDSL-interpreter reference executor on small programs. -------------


@pytest.mark.parametrize(
    ("ir", "fn", "make_args"),
    [
        (ELEMENTWISE, "ew", lambda: (f32(4, 8), f32(8))),
        (MATMUL, "mm", lambda: (f32(3, 8), f32(8, 5))),
        (SUMS, "rowsum", lambda: (f32(3, 4),)),
        (SUMS, "colsum_all", lambda: (RNG.standard_normal((4, 6)),)),
    ],
)
def test_matches_interpreter(ir: str, fn: str, make_args) -> None:
    from xjit.backends import interpreter

    module = parse(ir)
    args = make_args()
    expected = interpreter.run_interpreted(module, fn, args)
    got = build(ir)[fn](*args)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_linear_layer_with_globals_matches_interpreter() -> None:
    from xjit.backends import interpreter

    x, W = f32(4, 3), f32(2, 3)
    prog = build(LINEAR, {"linear.weight": W})  # linear.bias comes from its dense initialiser
    (got,) = prog["linear"](x)
    (expected,) = interpreter.run_interpreted(parse(LINEAR), "linear", [x], {"linear.weight": W})
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got, x @ W.T + np.array([10.0, 20.0], np.float32), rtol=1e-5)
    assert "np.add(buf0, np.matmul(arg0, g_linear_weight.T), out=buf0)" in prog.source
