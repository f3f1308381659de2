"""xjit.jit.script: scripted IR run by the torch-level reference interpreter against eager Python
execution of the same model (the oracle), composition with tracing, diagnostics."""

from __future__ import annotations

import linecache
import warnings

import models
import numpy as np
import pytest
from models import MyDecisionGate, MyGatedCell, MyRNNLoop, WrapRNN

import xjit as torch
from xjit.frontends.torch_interpreter import run_torch
from xjit.jit import FrontendError, TracerWarning, script


def close(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y)
        return
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert a.numpy().dtype == b.numpy().dtype


def test_gate_keeps_the_branch() -> None:
    gate = MyDecisionGate()
    s = script(gate)
    assert "torch.prim.If" in s.graph and "torch.aten.Bool.Tensor" in s.graph
    code = s.code
    assert "if " in code and "else:" in code
    for sign in (1.0, -1.0):
        x = torch.rand(3, 4) * sign
        close(s.run_reference(x), gate(x))
        # independent oracle: numpy
        expect = x.numpy() if x.numpy().sum() > 0 else -x.numpy()
        np.testing.assert_array_equal(s.run_reference(x).numpy(), expect)


def test_scripted_cell_calls_scripted_gate() -> None:
    torch.manual_seed(0)
    sg = script(MyDecisionGate())
    cell = MyGatedCell(sg)
    s = script(cell)
    g = s.graph
    assert "func.call @dg.forward" in g and "func.call @linear.forward" in g
    assert 'torch.global_slot "private" @linear.weight' in g
    eager_cell = MyGatedCell(MyDecisionGate())
    eager_cell.linear = cell.linear
    for _ in range(4):
        x, h = torch.randn(3, 4), torch.randn(3, 4)
        close(s.run_reference(x, h), eager_cell(x, h))
    assert "original_name=MyGatedCell" in repr(s)


def test_rnn_loop_over_traced_cell_and_trace_of_scripted_loop() -> None:
    torch.manual_seed(1)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    sg = script(MyDecisionGate())
    eager_cell = MyGatedCell(MyDecisionGate())
    traced_cell = torch.jit.trace(MyGatedCell(sg), (x, h))
    traced_cell.linear.load_state_dict(eager_cell.linear.state_dict())
    loop = script(MyRNNLoop(traced_cell))
    assert "torch.prim.Loop" in loop.graph and "func.call @cell.forward" in loop.graph
    eager_loop = MyRNNLoop(eager_cell)
    for n in (10, 5, 1, 0):
        xs = torch.randn(n, 3, 4)
        close(loop.run_reference(xs), eager_loop(xs))

    traced = torch.jit.trace(WrapRNN(loop), (torch.rand(10, 3, 4),))
    g = traced.graph
    assert "func.call @loop.forward" in g
    assert "torch.prim.Loop" in g and "torch.prim.If" in g  # kept, not re-traced
    ir, params = traced.forward.torch_ir, traced.forward.params
    eager_wrap = WrapRNN(eager_loop)
    for _ in range(3):
        xs = torch.randn(10, 3, 4)
        (out,) = run_torch(ir, "forward", [xs.numpy()], params)
        np.testing.assert_allclose(out, eager_wrap(xs).numpy(), rtol=1e-6, atol=1e-6)


def test_tracer_warning_points_at_the_if_line() -> None:
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.trace(MyGatedCell(MyDecisionGate()), (x, h))
    tw = [m for m in w if issubclass(m.category, TracerWarning)]
    assert len(tw) == 1
    assert tw[0].filename == models.__file__  # the gate's source
    assert linecache.getline(tw[0].filename, tw[0].lineno).strip() == "if x.sum() > 0:"


def test_specialisation_is_static_and_inlined() -> None:
    s = script(MyGatedCell(script(MyDecisionGate())))
    m = s.specialized_ir(torch.rand(3, 4), torch.rand(3, 4))
    m.verify()
    text = str(m)
    assert "func.call" not in text and "@dg.forward" not in text
    assert "!torch.vtensor<[3,4],f32>" in text and "-> !torch.vtensor\n" not in text
    assert "torch.prim.If %" in text


# -- the scriptable subset: every construct, checked against eager Python ------------------------


@script
def control(x, n: int, k: float, flag: bool):
    acc = x * 0.0
    i = 0
    total = 0
    while i < n:
        i += 1
        if i % 2 == 0:
            continue
        if i > 7:
            break
        total = total + i
        acc = acc + x * float(i)
    for j in range(2, n, 3):
        total -= j // 2
    for t in (1, 2):
        acc = acc + t
    for row in x:
        acc = acc + row.sum()
    y = acc if flag and total > 3 else -acc
    if not flag or k >= 2.5:
        y = y * k
    elif n == 3:
        return y + 100.0, total
    return y, total


def test_control_flow_subset_matches_eager() -> None:
    fn = control.__wrapped__
    for n in (0, 3, 5, 12):
        for k in (1.0, 3.0):
            for flag in (True, False):
                x = torch.randn(2, 3)
                ref = control.run_reference(x, n, k, flag)
                exp = fn(x, n, k, flag)
                close(ref[0], exp[0])
                assert (
                    int(ref[1].numpy()) == exp[1]
                    if isinstance(ref[1], torch.Tensor)
                    else ref[1] == exp[1]
                )


def test_optional_narrowing_and_defaults() -> None:

    def f(x, bias: torch.Tensor | None = None, scale: int = 2):
        if bias is None:
            return x * scale
        return x * scale + bias

    s = script(f)
    x, b = torch.randn(2, 2), torch.randn(2, 2)
    close(s.run_reference(x), f(x))
    close(s.run_reference(x, b), f(x, b))
    close(s.run_reference(x, b, 3), f(x, b, 3))


def test_nested_function_and_module_constants() -> None:
    def helper(a, b):
        return a * b - 1

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.n = 3
            self.layers = torch.nn.Linear(2, 2)

        def forward(self, x):
            for _ in range(self.n):
                x = helper(self.layers(x), x)
            return x

    m = M()
    s = script(m)
    assert "func.call @fn.helper" in s.graph
    x = torch.randn(4, 2)
    close(s.run_reference(x), m(x))


# -- diagnostics: one test per unsupported-construct category ---------------------------------


def _err(fn):
    with pytest.raises(FrontendError) as e:
        script(fn)
    return str(e.value)


def test_error_unsupported_statement_has_location_and_caret() -> None:
    def f(x):
        with open("f"):
            pass
        return x

    msg = _err(f)
    assert f"{__file__}:" in msg and "unsupported statement: With (with-statements)" in msg
    lines = msg.splitlines()
    src = [ln for ln in lines if 'with open("f"):' in ln][0]
    caret = lines[lines.index(src) + 1]
    assert caret.index("^") == src.index("with")


def test_error_unsupported_expression() -> None:
    def f(x):
        return {y for y in x}

    assert "unsupported expression: SetComp (comprehensions)" in _err(f)

    def g(x):
        return [y for y in x]

    assert "unsupported: a comprehension over a Tensor" in _err(g)


def test_error_type_clash() -> None:
    def f(x, n: int):
        if n > 0:
            y = 1
        else:
            y = 1.5
        return x * y

    assert "type clash: 'y' is int on one path and float on another" in _err(f)

    def g(x):
        y = 1
        y = x
        return y

    assert "type clash: variable 'y' was int and is now assigned a Tensor" in _err(g)


def test_error_undefined_after_branch() -> None:
    def f(x, n: int):
        if n > 0:
            z = x
        return z

    assert "undefined name 'z'" in _err(f)


def test_error_unsupported_call_and_chain() -> None:
    class Bad(torch.nn.Module):
        def forward(self, x):
            return sorted(x)

    class Outer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Bad()

        def forward(self, x):
            return self.inner(x)

    msg = _err(Outer())
    assert "unsupported: sorted() of anything but one list or tuple" in msg
    assert "note: 'Bad.forward' was compiled because it was called from here" in msg
    assert "return self.inner(x)" in msg


def test_error_returning_none() -> None:
    # (a return in a loop over a list compiles now: tests/conformance/test_script_loop_control.py)
    def g(x):
        x = x + 1

    assert "must return a value on every path" in _err(g)


def test_error_no_matching_overload() -> None:
    def f(x):
        return torch.tanh(x, 3)

    assert "no overload of 'tanh' accepts (Tensor, int)" in _err(f)


# -- compiled execution -----------------------------------------------------------------------


def test_compiled_matches_eager_and_caches_by_signature() -> None:
    torch.manual_seed(3)
    cell = MyGatedCell(MyDecisionGate())
    s = script(MyGatedCell(script(MyDecisionGate())))
    s.linear.load_state_dict(cell.linear.state_dict())
    x, h = torch.randn(3, 4), torch.randn(3, 4)
    close(s(x, h), cell(x, h))
    for sign in (1.0, -1.0):
        x = torch.randn(3, 4) * sign
        close(s(x, h), cell(x, h))
    assert len(s.__dict__["_variants"]) == 1
    s(torch.randn(5, 4), torch.randn(5, 4))
    assert len(s.__dict__["_variants"]) == 2


def _device_branch(x):
    if x.is_cuda:
        return x * 2.0
    return x + 1.0


def _method_as_condition(x):
    if x.is_floating_point:
        return x
    return x + 1


def test_is_cuda_is_false_and_a_method_value_is_named() -> None:
    """`x.is_cuda` is TorchScript's prim::is_cuda: False on xjit's CPU tensors (DCGAN's
    `if input.is_cuda and self.ngpu > 1`); it was a bound-method value, refused as 'a tuple'. A
    method used without a call is named in the error."""
    x = torch.ones(2, 3)
    np.testing.assert_array_equal(script(_device_branch)(x).numpy(), np.full((2, 3), 2.0))
    with pytest.raises(FrontendError, match=r"test_script.py:\d+:\d+: .*method 'is_floating_poi"):
        script(_method_as_condition)(x)


class _TrainingOrFlag(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.sample = False

    def forward(self, mu):
        if self.training or self.sample:  # the VAE's reparameterize
            return mu + torch.randn_like(mu)
        return mu


def test_training_or_flag_drops_the_branch_in_eval() -> None:
    """`self.training or self.flag` folds as `if self.training:` does: in eval the sampling
    branch (randn_like, which compiled code cannot run) is not compiled; it was, and refused."""
    m = _TrainingOrFlag().eval()
    x = torch.ones(2, 3)
    np.testing.assert_array_equal(script(m)(x).numpy(), np.ones((2, 3)))
    with pytest.raises(FrontendError, match=r"test_script.py:\d+:\d+: .*randn_like"):
        script(m.train())(x)


def _positions(idx):
    device = idx.device  # nanoGPT's / minGPT's forward
    return torch.arange(0, idx.size(1), dtype=torch.long, device=device).unsqueeze(0)


def _on_cpu(x):
    return torch.zeros(2, device=torch.device("cpu")) + x


def _on_cuda(x):
    return torch.zeros(2, device=torch.device("cuda")) + x


def test_factories_take_the_cpu_device() -> None:
    """`device=idx.device` (TorchScript's prim::device) and `torch.device("cpu")` compile: xjit's
    one device; they were 'no overload' / 'calling device' errors. Another device is refused."""
    idx = torch.zeros(2, 5, dtype=torch.long)
    np.testing.assert_array_equal(script(_positions)(idx).numpy(), [[0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(script(_on_cpu)(torch.ones(2)).numpy(), [1.0, 1.0])
    with pytest.raises(
        FrontendError, match=r"test_script.py:\d+:\d+: .*device=device\(type='cuda'\)"
    ):
        script(_on_cuda)(torch.ones(2))


def _filled(x):
    start = torch.empty(x.size(0), 1, dtype=torch.long).fill_(2)
    y = x.clone()
    y.zero_()
    return x + start, y


def test_fill_and_zero_compile() -> None:
    """`x.fill_(v)` / `x.zero_()` compile as their out-of-place fills (full_like/zeros_like),
    rebound as `x.add_(y)` is; they were 'no op fill_ in the registry'."""
    x = torch.from_numpy(np.arange(6).reshape(3, 2))
    a, b = script(_filled)(x)
    np.testing.assert_array_equal(a.numpy(), np.arange(6).reshape(3, 2) + 2)
    np.testing.assert_array_equal(b.numpy(), np.zeros((3, 2), np.int64))
