"""Reductions whose operand is computed (softmax's exp, layer norm's squared deviation) run in
row blocks over scratch registers; unit-dim fills fold into the reduction; float row sums use
einsum. Checked against numpy written here and against the xDSL interpreter."""

from __future__ import annotations

import numpy as np
import pytest

import xjit as torch
from xjit.backends.numpy import compile_module
from xjit.backends.numpy import vectorize as V

RNG = np.random.default_rng(7)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 rows of 16 (ragged on 37 rows), so small programs take the blocked path."""
    monkeypatch.setattr(V, "RED_CHUNK", 64)
    monkeypatch.setattr(V, "CHUNK", 64)


def _softmax(x):
    return torch.softmax(x, dim=-1)


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = x.mean(axis=-1, keepdims=True)
    return (x - m) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5) * w + b


def _interpreted(c, args: list[np.ndarray], globals: dict[str, np.ndarray] | None = None) -> list:
    """The loops stage of `c` run by the xDSL interpreter (an independent executor)."""
    from xdsl.dialects import func
    from xdsl.parser import Parser

    from xjit.backends import interpreter
    from xjit.dialects import make_context

    module = Parser(make_context(), c.stages()["loops"]).parse_module()
    (fn,) = [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]
    return interpreter.run_interpreted(module, fn, args, globals or {})


def test_softmax_rows_blocked_and_fills_folded(small_blocks: None) -> None:
    x = RNG.standard_normal((37, 16)).astype(np.float32) * 3
    c = torch.jit.trace(_softmax, (torch.from_numpy(x.copy()),))
    src = c.source
    # max, exp + sum, divide: one loop over blocks of 4 rows (ragged last block), the
    # (37, 1) fills folded into their reductions, the divide in place on the exp buffer
    assert src.count("for c0 in range(0, 37, 4):") == 1 and src.count("for ") == 1
    assert src.count("folded into its reduction") == 2 and "buf0[...] =" not in src
    assert 'np.einsum("ab->a", buf2[c0:c1], out=buf1[:, 0][c0:c1])' in src
    # e / sum: a multiply by the reciprocal of the 4 sums of the block
    assert "np.multiply(buf2[c0:c1], np.reciprocal(buf1[:, 0, None][c0:c1]), buf2[c0:c1])" in src
    assert "np.divide" not in src
    assert src.count("np.empty(") == 3
    for inp in (x, (5 * RNG.standard_normal((37, 16))).astype(np.float32)):
        got = c(torch.from_numpy(inp.copy())).numpy()
        np.testing.assert_allclose(got, _np_softmax(inp), rtol=1e-5, atol=1e-7)
        (ref,) = _interpreted(c, [inp])
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def test_layernorm_deviation_squared_in_block_scratch(small_blocks: None) -> None:
    x = (2 + 3 * RNG.standard_normal((37, 16))).astype(np.float32)
    ln = torch.nn.LayerNorm(16)
    w = (1 + 0.1 * RNG.standard_normal(16)).astype(np.float32)
    b = (0.1 * RNG.standard_normal(16)).astype(np.float32)
    ln.weight.numpy()[...] = w
    ln.bias.numpy()[...] = b
    c = torch.jit.trace(ln, (torch.from_numpy(x.copy()),))
    src = c.forward.source
    # (x - mean)**2 goes through one block-sized scratch array, not two full-size temporaries
    assert "s0 = np.empty((4, 16,)" in src
    assert "np.multiply(s0[:37 - c0], s0[:37 - c0], s0[:37 - c0])" in src  # ragged last block
    assert "t0 = np.subtract(arg0," not in src
    got = c(torch.from_numpy(x.copy())).numpy()
    np.testing.assert_allclose(got, _np_layernorm(x, w, b), rtol=1e-4, atol=1e-4)
    (ref,) = _interpreted(c.forward, [x], {"weight": w, "bias": b})
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_blocked_reduction_results_are_fresh_per_call(small_blocks: None) -> None:
    """Scratch is per call: two results of one compiled function never share storage."""
    c = torch.jit.trace(
        _softmax, (torch.from_numpy(RNG.standard_normal((37, 16)).astype(np.float32)),)
    )
    a_in, b_in = (RNG.standard_normal((37, 16)).astype(np.float32) for _ in range(2))
    a = c(torch.from_numpy(a_in)).numpy()
    b = c(torch.from_numpy(b_in)).numpy()
    assert not np.shares_memory(a, b)
    np.testing.assert_allclose(a, _np_softmax(a_in), rtol=1e-5, atol=1e-7)


def test_unit_dim_fill_not_folded_into_a_different_region() -> None:
    """A (4, 1) fill folds into a reduction writing column 0, and a fill is kept when the
    reduction accumulates onto values a previous nest wrote."""
    ir = """
    func.func @f(%A: memref<4x8xf32>) -> memref<4x1xf32> {
      %c4 = arith.constant 4 : index
      %c1 = arith.constant 1 : index
      %c8 = arith.constant 8 : index
      %z = arith.constant 0.0 : f32
      %one = arith.constant 1.0 : f32
      %out = memref.alloc() : memref<4x1xf32>
      loop.nest (%i, %j) to (%c4, %c1) ["parallel", "parallel"] {
        loop.store %one, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x1xf32>
      }
      loop.nest (%i, %j) to (%c4, %c8) ["parallel", "reduction"] {
        %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x8xf32>
        %acc = loop.load %out[%i, %j] affine_map<(d0, d1) -> (d0, 0)> : memref<4x1xf32>
        %s = arith.addf %a, %acc : f32
        loop.store %s, %out[%i, %j] affine_map<(d0, d1) -> (d0, 0)> : memref<4x1xf32>
      }
      func.return %out : memref<4x1xf32>
    }
    """
    from xdsl.parser import Parser

    from xjit.dialects import make_context

    module = Parser(make_context(), ir).parse_module()
    prog = compile_module(module)
    A = RNG.standard_normal((4, 8)).astype(np.float32)
    (got,) = prog["f"](A)
    np.testing.assert_allclose(
        got[:, 0], A.sum(axis=1) + 1, rtol=1e-5
    )  # fill of 1: not an identity
    assert "folded" not in prog.source


TRANSPOSED_READ = """
func.func @f(%A: memref<8x8xf32>) -> memref<8x8xf32> {
  %c8 = arith.constant 8 : index
  %two = arith.constant 2.0 : f32
  %t = memref.alloc() : memref<8x8xf32>
  loop.nest (%i, %j) to (%c8, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8x8xf32>
    %m = arith.mulf %a, %two : f32
    loop.store %m, %t[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8x8xf32>
  }
  %out = memref.alloc() : memref<8x8xf32>
  loop.nest (%i, %j) to (%c8, %c8) ["parallel", "parallel"] {
    %x = loop.load %t[%i, %j] affine_map<(d0, d1) -> (d1, d0)> : memref<8x8xf32>
    %y = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8x8xf32>
    %s = arith.addf %x, %y : f32
    loop.store %s, %out[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8x8xf32>
  }
  func.return %out : memref<8x8xf32>
}
"""

SAME_ROWS = TRANSPOSED_READ.replace(
    "affine_map<(d0, d1) -> (d1, d0)>", "affine_map<(d0, d1) -> (d0, d1)>"
)


@pytest.mark.parametrize(("ir", "grouped"), [(TRANSPOSED_READ, False), (SAME_ROWS, True)])
def test_row_groups_only_when_blocks_read_their_own_rows(
    monkeypatch: pytest.MonkeyPatch, ir: str, grouped: bool
) -> None:
    """Nests share one row-block loop only if every access to a buffer written in the group
    walks dim 0 on the same axis: a transposed read of an earlier nest's result needs all of it."""
    from xdsl.parser import Parser

    from xjit.dialects import make_context

    monkeypatch.setattr(V, "RED_CHUNK", 16)  # 2 rows a block
    monkeypatch.setattr(V, "CHUNK", 1 << 30)  # no per-nest blocking
    from xjit.backends import interpreter

    A = RNG.standard_normal((8, 8)).astype(np.float32)
    prog = compile_module(Parser(make_context(), ir).parse_module())
    (got,) = prog["f"](A)
    want = (2 * A).T + A if ir is TRANSPOSED_READ else 3 * A
    np.testing.assert_allclose(got, want, rtol=1e-6)
    (ref,) = interpreter.run_interpreted(Parser(make_context(), ir).parse_module(), "f", [A])
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert ("for c0 in range(0, 8, 2):" in prog.source) is grouped


def test_division_by_a_broadcast_divisor_is_a_reciprocal_multiply() -> None:
    """x / s with s varying along fewer loops: x * (1/s), exact on zeros, infs and NaNs;
    a divisor of the dividend's own shape stays a division."""

    def f(x, s, z):
        return x / s, x / z

    x = np.array([[1, -2, 0, 3], [0, 5, 6, np.inf], [1, 2, np.nan, 4]], np.float32)
    s = np.array([[0.0], [np.inf], [3.0]], np.float32)
    z = RNG.standard_normal((3, 4)).astype(np.float32)
    c = torch.jit.trace(f, tuple(torch.from_numpy(v) for v in (x, s, z)))
    src = c.source
    assert "np.reciprocal(arg1[:, 0, None])" in src and src.count("np.divide(") == 1
    q, q2 = (t.numpy() for t in c(*(torch.from_numpy(v) for v in (x, s, z))))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(q, x / s, rtol=1e-6)  # nan/inf positions equal too
        np.testing.assert_array_equal(q2, x / z)


def test_row_sum_of_a_computed_product_is_one_vecdot() -> None:
    """Layer norm's variance, sum((x - mean)**2): `np.vecdot(t, t)` (no product temporary) where
    numpy has it; a product with a broadcast factor keeps multiply + einsum. Against PyTorch."""
    import torch as pt

    x = (2 + 3 * RNG.standard_normal((64, 1024))).astype(np.float32)
    ln = torch.nn.LayerNorm(1024)
    c = torch.jit.trace(ln, (torch.from_numpy(x.copy()),))
    want = pt.nn.functional.layer_norm(pt.from_numpy(x), (1024,)).numpy()
    np.testing.assert_allclose(c(torch.from_numpy(x)).numpy(), want, rtol=1e-5, atol=1e-5)
    if hasattr(np, "vecdot"):
        assert "np.vecdot(t0, t0, out=buf1[:, 0])" in c.forward.source
        assert "np.multiply(t0, t0)" not in c.forward.source

    w = RNG.standard_normal(16).astype(np.float32)
    y = RNG.standard_normal((5, 16)).astype(np.float32)
    c2 = torch.jit.trace(
        lambda y, w: ((y - 1) * w).sum(-1), (torch.from_numpy(y), torch.from_numpy(w))
    )
    assert "np.vecdot" not in c2.source
    want2 = ((pt.from_numpy(y) - 1) * pt.from_numpy(w)).sum(-1).numpy()
    got2 = c2(torch.from_numpy(y), torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(got2, want2, rtol=1e-5, atol=1e-5)
