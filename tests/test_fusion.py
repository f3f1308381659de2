"""linalg-fuse-elementwise, the fusion report, and the numpy backend's buffer/blocking choices:
each checked against the unfused IR (xDSL interpreter and numpy backend) and numpy written here."""

from __future__ import annotations

import pathlib
import warnings

import numpy as np
import pytest
from ir_programs import parse
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.linalg.ops import GenericOp
from xdsl.parser import Parser

import xjit as torch
from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy import XjitPerformanceWarning, compile_module
from xjit.dialects import make_context
from xjit.jit.compiled import ArgumentError
from xjit.passes.fusion_report import fusion_report
from xjit.passes.linalg_fuse_elementwise import collect_fusion_log
from xjit.passes.pipelines import run_passes

LIT = pathlib.Path(__file__).parent.parent / "lit_tests" / "passes" / "linalg-fuse-elementwise.mlir"
TO_LOOPS = ["bufferize", "convert-linalg-to-loop", "canonicalize", "cse"]
RNG = np.random.default_rng(0)


def chunks() -> dict[str, str]:
    out = {}
    for text in LIT.read_text().split("// -----"):
        m = Parser(make_context(), text).parse_module()
        fn = next(o for o in m.ops if isinstance(o, func.FuncOp))
        out[fn.sym_name.data] = text
    return out


def generics(m: ModuleOp) -> list[GenericOp]:
    return [o for o in m.walk() if isinstance(o, GenericOp)]


def numpy_oracle(name: str, args: list[np.ndarray]) -> list[np.ndarray]:
    a64 = [a.astype(np.float64) for a in args]
    if name == "chain":
        x, a, b = a64
        return [np.tanh(x * a + b) * (1 / (1 + np.exp(-x))) + x]
    if name == "shared":
        x, y = a64
        s, t = x + y, np.exp(x)
        return [s * t, s - t, t]
    if name == "broadcast":
        x, b = a64
        return [x + np.tanh(b)]
    if name == "contraction":
        x, w = a64
        return [(2 * x + 1) @ w.T]
    if name == "softmax":
        (x,) = a64
        e = np.exp(x - x.max(1, keepdims=True))
        return [e / e.sum(1, keepdims=True)]
    (x,) = a64  # layer_norm
    xc = x - x.mean(1, keepdims=True)
    return [xc / np.sqrt((xc * xc).mean(1, keepdims=True) + 1e-5)]


@pytest.mark.parametrize(
    "name", ["chain", "shared", "broadcast", "softmax", "layer_norm", "contraction"]
)
def test_fused_ir_verifies_and_computes_the_same(name: str) -> None:
    text = chunks()[name]
    ctx = make_context()
    unfused, fused = parse(text), parse(text)
    run_passes(ctx, fused, ["linalg-fuse-elementwise"])  # run_passes verifies after the pass
    assert len(generics(fused)) < len(generics(unfused))
    run_passes(ctx, unfused, TO_LOOPS)
    run_passes(ctx, fused, TO_LOOPS)
    fn = next(o for o in fused.ops if isinstance(o, func.FuncOp))
    args = [
        RNG.standard_normal(tuple(t.get_shape())).astype(np.float32)
        for t in fn.function_type.inputs
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)  # fused nests must vectorize
        got = compile_module(fused)[name](*args)
    ref = run_interpreted(unfused, name, args)
    interp = run_interpreted(fused, name, args)
    want = numpy_oracle(name, args)
    for g, r, i, w in zip(got, ref, interp, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(i, r, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_nest_counts_of_softmax_and_layer_norm() -> None:
    for name in ("softmax", "layer_norm"):
        m = parse(chunks()[name])
        run_passes(make_context(), m, ["linalg-fuse-elementwise"])
        assert len(generics(m)) == 3, name  # plus two fills of the accumulators


def test_multi_consumer_rule_on_traced_code() -> None:
    def cheap(x):
        s = x + 1.0  # one add: recomputed in both consumers
        return s * x, s - x

    def costly(x):
        e = torch.exp(x)  # expensive: computed once, kept as a second output
        return e * 2.0, e + x

    x = torch.randn(3, 5)
    for fn, nests in ((cheap, 2), (costly, 2)):
        c = torch.jit.trace(fn, (x,))
        assert c.stages()["fused"].count("linalg.generic") == nests
        for got, want in zip(c(x), fn(x), strict=True):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    src = torch.jit.trace(costly, (x,)).source
    assert src.count("np.exp(") == 1  # never recomputed


def test_elementwise_producers_of_a_contraction_stay_apart() -> None:
    """A linear layer after LayerNorm, GELU after a linear layer, softmax before `@ v`: each
    contraction stays a BLAS call on materialised operands (fused, it was a broadcast product
    of B*T*N*K elements and an einsum), while transposes are still read as strided views."""

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = torch.nn.LayerNorm(8)
            self.fc = torch.nn.Linear(8, 16)
            self.proj = torch.nn.Linear(16, 8)

        def forward(self, x):
            h = self.proj(torch.nn.functional.gelu(self.fc(self.ln(x))))
            att = torch.softmax(h @ h.transpose(-2, -1), dim=-1)
            return att @ h

    m = Block()
    x = torch.randn(2, 5, 8)
    c = torch.jit.trace(m, (x,))
    src = c.forward.source
    assert src.count("np.dot(") + src.count("np.matmul(") == 4, src
    assert "abcd->" not in src and "abcde->" not in src  # no broadcast product reduced by einsum
    assert "h.T" in src or ".mT" in src or ".transpose(" in src  # transposes stay views
    np.testing.assert_allclose(c(x).numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)


def test_cheap_shared_operand_of_a_reduction_is_computed_once() -> None:
    """The masked scores of a causal softmax feed the max reduction and the exp nest: numpy
    evaluates a reduction's operand into a temporary anyway, so the select is kept as an extra
    output of the max nest (written once) instead of being recomputed in both."""
    mask = torch.tril(torch.ones(6, 6))

    def f(s):
        return torch.softmax(s.masked_fill(mask == 0, float("-inf")) * 0.5, dim=-1)

    s = torch.randn(2, 6, 6)
    c = torch.jit.trace(f, (s,))
    assert c.source.count("np.where(") == 1, c.source
    for x in (s, torch.randn(2, 6, 6) * 4):
        np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6, atol=1e-7)


def test_fusion_report_names_ops_nests_and_reasons() -> None:
    class Cell(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x, h):
            return torch.tanh(self.linear(x) + h)

    c = torch.jit.trace(Cell(), (torch.rand(3, 4), torch.rand(3, 4)))
    report = c.forward.fusion_report()
    assert "@forward: 4 loop nests" in report  # transpose (a view in numpy), fill, matmul, fused
    body = report.split("#4 (elementwise):")[1]
    assert "aten.add.Tensor (from aten.linear" in body and "aten.tanh" in body
    assert "aten.mm (from aten.linear" in report
    assert "not fused:" in report and "linalg.matmul is a contraction" in report


def test_fusion_report_from_a_module() -> None:
    m = parse(chunks()["softmax"])
    with collect_fusion_log() as log:
        run_passes(make_context(), m, ["linalg-fuse-elementwise", *TO_LOOPS])
    report = fusion_report(m, log)
    assert report.startswith("@softmax: 5 loop nests")
    assert "result kept as an extra output" in report
    assert (
        "aten.amax  ->  aten.sub.Tensor + aten.exp + aten.sum.dim_IntList: it is a reduction"
        in report
    )


# -- the backend: buffers, views, blocks -----------------------------------------------------


def test_outputs_are_fresh_per_call_and_reused_buffers_are_safe() -> None:
    def f(x, w):
        y = torch.tanh(x * 2.0) + x  # intermediates share storage in place
        return torch.mm(y, w), y

    x, w = torch.randn(4, 6), torch.randn(6, 3)
    c = torch.jit.trace(f, (x, w))
    a1, b1 = c(x, w)
    keep = a1.numpy().copy(), b1.numpy().copy()
    a2, b2 = c(torch.randn(4, 6), w)
    np.testing.assert_array_equal(a1.numpy(), keep[0])  # a later call did not overwrite it
    np.testing.assert_array_equal(b1.numpy(), keep[1])
    assert not np.shares_memory(a1.numpy(), a2.numpy())
    assert not np.shares_memory(b1.numpy(), b2.numpy())
    for got, want in zip(c(x, w), f(x, w), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)


def test_log_softmax_reuses_storage_without_clobbering() -> None:
    import xjit.nn.functional as F

    x = torch.randn(2, 1, 3)
    c = torch.jit.trace(lambda x: F.log_softmax(x, 1), (x,))
    np.testing.assert_allclose(c(x).numpy(), F.log_softmax(x, 1).numpy(), atol=1e-6)


def test_transposed_weight_is_a_view_and_parameter_updates_are_seen() -> None:
    lin = torch.nn.Linear(4, 3)
    x = torch.randn(5, 4)
    c = torch.jit.trace(lin, (x,))
    src = c.forward.source
    assert "g_weight.T" in src and "[...] = g_weight.T" not in src  # no copy
    lin.weight.numpy()[...] = 1.0  # in place: the compiled code reads the live parameter
    np.testing.assert_allclose(c(x).numpy(), lin(x).numpy(), rtol=1e-6)


def test_large_elementwise_nests_run_in_blocks() -> None:
    def chain(x, a, b):
        return torch.tanh(x * a + b) * torch.sigmoid(x) + x

    x, a, b = torch.randn(301, 1000), torch.randn(301, 1000), torch.randn(1000)
    c = torch.jit.trace(chain, (x, a, b))
    src = c.source
    assert "for c0 in range(0, 301, " in src  # blocked along dim 0, with a ragged last block
    assert src.count("np.empty(") <= 3  # the result and two block-sized scratch arrays
    np.testing.assert_allclose(c(x, a, b).numpy(), chain(x, a, b).numpy(), rtol=1e-5, atol=1e-6)


def test_one_cheap_argument_check_still_reports_clearly() -> None:
    c = torch.jit.trace(lambda x: x * 2.0, (torch.randn(2, 3),))
    with pytest.raises(ArgumentError, match="rank"):  # other sizes compile a variant (shapes.md)
        c(torch.randn(2, 3, 1))
    with pytest.raises(ArgumentError, match="dtype"):
        c(torch.from_numpy(np.zeros((2, 3), np.float64)))
    with pytest.raises(ArgumentError, match="must be a Tensor"):
        c(np.zeros((2, 3), np.float32))
    with pytest.raises(ArgumentError, match="expected 1 arguments"):
        c(torch.randn(2, 3), torch.randn(2, 3))


def _chain_linalg(n: int) -> ModuleOp:
    """A straight line of n elementwise ops (tanh, *, + y, - in turn: y is read all along the
    chain, as in bench's compile-scaling graph) at the linalg stage."""
    from xjit.jit.api import trace

    def f(x, y):
        for i in range(n):
            x = (torch.tanh(x), x * 1.5, x + y, x - 0.1)[i % 4]
        return x

    m = trace(f, (torch.rand(3, 4), torch.rand(3, 4))).torch_ir.clone()
    run_passes(
        make_context(), m, ["torch-decompose", "canonicalize", "cse", "convert-torch-to-linalg"]
    )
    return m


def test_fusing_a_chain_does_linear_work() -> None:
    """Compile-time regression guard without timing: fusing a chain of 2n ops does twice the
    work of n ops, not four times (it used to clone the growing fused body at every step and
    verify it: O(n^2); then moved the uses of y, read all along the chain, to a new block
    argument at every step: O(n^2) again). Counts body ops scanned, cloned/moved, uses
    rewired, fusions and verifier-condition checks."""
    work = {}
    for n in (50, 100):
        m = _chain_linalg(n)
        with collect_fusion_log() as log:
            run_passes(make_context(), m, ["linalg-fuse-elementwise"])
        work[n] = dict(log.work)
        assert len(generics(m)) == 1  # one fused nest
        assert work[n]["fusions"] == n - 1
    for k in ("scanned", "built", "rewired", "fusions", "checked"):
        assert work[100][k] <= 2.2 * work[50][k], (k, work)


def test_fused_op_that_would_not_verify_is_refused() -> None:
    """A slice-style offset map `d0 + 1` into a reduction: after fusion no operand gives the
    loop's range (xDSL's verifier reads loop ranges off operand shapes), so it is not fused;
    the reason is in the log."""
    text = """
func.func @f(%x: tensor<5xf32>) -> tensor<f32> {
  %e = tensor.empty() : tensor<4xf32>
  %z = tensor.empty() : tensor<f32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0 + 1)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<5xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  } -> tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]} ins(%s : tensor<4xf32>) outs(%z : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %a, %o : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  func.return %r : tensor<f32>
}
"""
    m = parse(text)
    with collect_fusion_log() as log:
        run_passes(make_context(), m, ["linalg-fuse-elementwise"])
    assert len(generics(m)) == 2
    assert not log.fused
    (why,) = [w for _, _, w in log.refused]
    assert why.startswith("the fused op would not verify (no operand gives the range of loop d0")
