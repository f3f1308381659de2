"""End to end: trace → torch IR → every pass (verified) → loops → numpy backend, against eager
numpy and against xDSL's interpreter running the same loop IR."""

from __future__ import annotations

import numpy as np
import pytest
from models import MyCell, mycell_numpy

import xjit as torch
from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.jit import ArgumentError
from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes


@pytest.fixture
def cell_and_trace():
    torch.manual_seed(1)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    return cell, torch.jit.trace(cell, (x, h)), (x, h)


def test_mycell_compiled_matches_eager_and_numpy(cell_and_trace) -> None:
    cell, traced, (x, h) = cell_and_trace
    rng = np.random.default_rng(0)
    for inputs in [(x, h)] + [
        (
            torch.from_numpy(rng.standard_normal((3, 4), dtype=np.float32)),
            torch.from_numpy(rng.standard_normal((3, 4), dtype=np.float32)),
        )
        for _ in range(5)
    ]:
        y1, y2 = traced(*inputs)
        assert y1 is y2  # `return new_h, new_h` returns one tensor twice
        expect = mycell_numpy(cell, inputs[0].numpy(), inputs[1].numpy())
        np.testing.assert_allclose(y1.numpy(), expect, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y1.numpy(), cell(*inputs)[0].numpy(), rtol=1e-6, atol=1e-6)
        assert y1.numpy().dtype == np.float32


def test_graph_and_code(cell_and_trace) -> None:
    _, traced, _ = cell_and_trace
    g = traced.graph
    assert "func.func @forward(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>)" in g
    assert "torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>" in g
    assert "torch.aten.linear %x, %linear_weight, %linear_bias" in g
    assert "torch.aten.tanh" in g
    code = traced.code
    assert (
        code.splitlines()[0] == "def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:"
    )
    assert "torch.nn.functional.linear(x, self.linear.weight, self.linear.bias)" in code
    assert "return (_2, _2)" in code


def test_every_stage_verifies_and_loops_run_in_interpreter(cell_and_trace) -> None:
    cell, traced, (x, h) = cell_and_trace
    ctx = make_context()
    module = traced.forward.torch_ir.clone()
    seen: list[str] = []
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(ctx, module, names, after_each=lambda n, m: (m.verify(), seen.append(n)))
    assert seen[:3] == ["inline", "torch-shape-refinement", "torch-decompose"]
    assert "convert-linalg-to-loop" in seen
    text = str(module)
    assert "loop.nest" in text and "torch." not in text and "linalg." not in text
    params = {k: v.numpy() for k, v in cell.named_parameters()}
    (interp,) = run_interpreted(module, "forward", [x.numpy(), h.numpy()], params)[:1]
    compiled = traced(x, h)[0].numpy()
    np.testing.assert_allclose(compiled, interp, rtol=1e-5, atol=1e-6)


def test_generated_source_is_vectorized(cell_and_trace) -> None:
    _, traced, _ = cell_and_trace
    src = traced.forward.source
    assert ("np.matmul" in src or "np.dot" in src) and "np.tanh" in src
    assert "for " not in src  # no scalar loops for a fully parallel / contraction program


def test_parameters_are_live(cell_and_trace) -> None:
    cell, traced, (x, h) = cell_and_trace
    assert [n for n, _ in traced.named_parameters()] == ["linear.weight", "linear.bias"]
    new = {
        k: torch.from_numpy(np.full(v.shape, 0.5, np.float32)) for k, v in cell.state_dict().items()
    }
    cell.load_state_dict(new)
    expect = np.tanh(x.numpy() @ np.full((4, 4), 0.5) + 0.5 + h.numpy())
    np.testing.assert_allclose(traced(x, h)[0].numpy(), expect, rtol=1e-5)


def test_repr_is_the_module_hierarchy(cell_and_trace) -> None:
    _, traced, _ = cell_and_trace
    assert (
        repr(traced) == "MyCell(\n  (linear): Linear(in_features=4, out_features=4, bias=True)\n)"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ((torch.rand(3, 4),), "expected 2 arguments (x, h), got 1"),
        (
            (torch.rand(3, 5), torch.rand(3, 4)),
            "argument 'x' (position 0) has shape [3, 5], expected [3, 4]",
        ),
        (
            (torch.rand(3, 4), torch.rand(3, 4, dtype=torch.float64)),
            "argument 'h' (position 1) has dtype float64",
        ),
        (
            (torch.rand(3, 4), np.zeros((3, 4), np.float32)),
            "argument 'h' (position 1) must be a Tensor",
        ),
    ],
)
def test_bad_arguments_name_the_argument(cell_and_trace, args, message) -> None:
    _, traced, _ = cell_and_trace
    with pytest.raises(ArgumentError) as e:
        traced(*args)
    assert message in str(e.value)


def test_trace_function_with_captured_constant_and_scalars() -> None:
    c = torch.tensor([1.0, -2.0, 3.0, 0.5])

    def f(x):
        return torch.relu(x * 2.0 - c) / 3 + 1

    x = torch.randn(3, 4)
    traced = torch.jit.trace(f, (x,))
    assert "torch.vtensor.literal" in traced.graph
    for _ in range(3):
        x = torch.randn(3, 4)
        expect = np.maximum(x.numpy().astype(np.float64) * 2 - c.numpy(), 0) / 3 + 1
        np.testing.assert_allclose(traced(x).numpy(), expect, rtol=1e-6)


def test_trace_broadcasting_and_int_promotion() -> None:
    def f(a, b, n):
        return (a + b) * n / 2 - torch.sigmoid(a)

    a, b = torch.randn(3, 1), torch.randn(1, 4)
    n = torch.tensor([[1, 2, 3, 4]])
    traced = torch.jit.trace(f, (a, b, n))
    got = traced(a, b, n).numpy()
    a64, b64 = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    expect = (a64 + b64) * n.numpy() / 2 - 1 / (1 + np.exp(-a64))
    assert got.dtype == np.float32 and got.shape == (3, 4)
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-6)


def test_compiling_restores_the_garbage_collector_state() -> None:
    import gc

    def f(x):
        return torch.tanh(x) * 2

    assert gc.isenabled()
    torch.jit.trace(f, (torch.rand(2, 2),))
    assert gc.isenabled()
    gc.disable()
    try:
        torch.jit.trace(f, (torch.rand(2, 2),))
        assert not gc.isenabled()  # a user's choice is left as it was
    finally:
        gc.enable()


def test_mycell_trace_freezes_nothing() -> None:
    # A trace that freezes no value warns nothing and has no guards: its calls take the same
    # specialised path (fastcall.py) as before guards existed.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traced = torch.jit.trace(MyCell(), (torch.rand(3, 4), torch.rand(3, 4)))
    assert traced.guards == [] and traced.forward.plain
    assert hasattr(traced.__dict__["_call"], "__xjit_source__")


def test_traced_size_of_an_intermediate_is_a_hidden_guard() -> None:
    # Sizes of tensors computed in the graph have no Python expression over the inputs: a
    # frozen one is returned by the graph and checked after the call.
    def f(x):
        y = x.sum(1)
        return x * int(y.size(0))

    with pytest.warns(torch.jit.TracerWarning, match="y|tensor.size"):
        traced = torch.jit.trace(f, (torch.ones(3, 2),))
    (g,) = traced.guards
    assert g.expr is None and g.expected == 3
    x = torch.randn(3, 2)
    np.testing.assert_allclose(traced(x).numpy(), x.numpy() * 3, rtol=1e-6)
    with pytest.raises(torch.jit.TraceGuardError, match=r"test_trace\.py:\d+"):
        traced(torch.randn(5, 2))


def _greedy_step(x, w):
    _, topi = x.topk(1)
    nxt = topi.squeeze(-1).detach()  # the seq2seq tutorial's next decoder input
    start = torch.empty(x.size(0), 1, dtype=torch.long).fill_(3)
    return nxt * 2 + start.squeeze(1), w.data * 1.0


def test_detach_data_and_fill_are_traced_not_frozen() -> None:
    """`.detach()` and `.data` made a new Tensor the trace did not know, so it was frozen as a
    constant of the example: the compiled code returned the example's argmax for every input.
    `empty(...).fill_(v)` was refused while tracing. Oracle: numpy on a second input."""
    w = torch.nn.Parameter(torch.ones(2))
    a = torch.from_numpy(np.array([[1.0, 3.0, 2.0], [5.0, 1.0, 0.0]], np.float32))
    b = np.array([[9.0, 3.0, 2.0], [0.0, 1.0, 7.0]], np.float32)
    traced = torch.jit.trace(_greedy_step, (a, w))
    w2 = np.array([4.0, 5.0], np.float32)
    got, wd = traced(torch.from_numpy(b), torch.from_numpy(w2))
    np.testing.assert_array_equal(got.numpy(), b.argmax(-1) * 2 + 3)
    np.testing.assert_array_equal(wd.numpy(), w2)
