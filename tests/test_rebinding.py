"""Compiled modules see a parameter, buffer or submodule replaced after compiling (issue: they
kept reading the arrays bound when compiled, a silent wrong result). Each change is made on the
compiled module and on a fresh eager copy; the compiled result must equal xjit eager after the
same change, and PyTorch's traced/scripted module where torch allows the same change. Changes
the compiled code cannot run (another shape or dtype, another kind of submodule) raise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as pt
from models import MyCell, RebindNet

import xjit as torch
from xjit.jit.compiled import RebindError

X = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)


def _build() -> RebindNet:
    torch.manual_seed(0)
    return RebindNet()


def _compile(m: Any, how: str) -> Any:
    x = torch.tensor(X)
    c = torch.jit.trace(m, (x,)) if how == "trace" else torch.jit.script(m)
    c(x)  # bound and run once before the change
    return c


def _torch_twin(m: RebindNet) -> Any:
    """The same model in PyTorch, with the same values."""

    class Net(pt.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = pt.nn.Linear(4, 4)
            self.act = pt.nn.LeakyReLU(0.1)
            self.register_buffer("b", pt.ones(4))

        def forward(self, x: pt.Tensor) -> pt.Tensor:
            return self.act(self.fc(x)) + self.b

    t = Net()
    with pt.no_grad():
        t.fc.weight.copy_(pt.from_numpy(m.fc.weight.numpy().copy()))
        t.fc.bias.copy_(pt.from_numpy(m.fc.bias.numpy().copy()))
    return t


# Each change, written once for xjit (`mod` is the xjit namespace) and PyTorch (`pt`).
W2 = np.arange(16, dtype=np.float32).reshape(4, 4) / 10 - 0.7
B2 = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
BUF2 = np.array([3.0, -2.0, 0.0, 1.0], np.float32)


def _weight(m: Any, mod: Any) -> None:
    m.fc.weight = mod.nn.Parameter(mod.tensor(W2.copy()))


def _bias(m: Any, mod: Any) -> None:
    m.fc.bias = mod.nn.Parameter(mod.tensor(B2.copy()))


def _buffer(m: Any, mod: Any) -> None:
    m.b = mod.tensor(BUF2.copy())


def _register_buffer(m: Any, mod: Any) -> None:
    m.register_buffer("b", mod.tensor(BUF2.copy()))


def _register_parameter(m: Any, mod: Any) -> None:
    m.fc.register_parameter("weight", mod.nn.Parameter(mod.tensor(W2.copy())))


TORCH_CHANGES: dict[str, Callable[[Any, Any], None]] = {
    "weight": _weight,
    "bias": _bias,
    "buffer": _buffer,
    "register_buffer": _register_buffer,
    "register_parameter": _register_parameter,
}


def _eager_after(change: Callable[[Any], None]) -> np.ndarray:
    ref = _build()
    change(ref)
    return ref(torch.tensor(X)).numpy()


@pytest.mark.parametrize("how", ["trace", "script"])
@pytest.mark.parametrize("name", sorted(TORCH_CHANGES))
def test_rebound_tensor_matches_eager_and_torch(how: str, name: str) -> None:
    change = TORCH_CHANGES[name]
    m = _build()
    twin = _torch_twin(m)
    c = _compile(m, how)
    change(c, torch)
    got = c(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, _eager_after(lambda r: change(r, torch)), rtol=1e-6)
    # torch's compiled modules have no register_buffer/register_parameter: its eager module then
    tc = twin
    if name in ("weight", "bias", "buffer"):
        tc = pt.jit.trace(twin, pt.from_numpy(X)) if how == "trace" else pt.jit.script(twin)
    with pt.no_grad():
        change(tc, pt)
        want = tc(pt.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("how", ["trace", "script"])
def test_rebound_submodule_matches_eager(how: str) -> None:
    # torch refuses assigning a submodule of a ScriptModule; xjit runs it, rightly
    def change(m: Any) -> None:
        torch.manual_seed(1)
        m.fc = torch.nn.Linear(4, 4)

    c = _compile(_build(), how)
    change(c)
    got = c(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, _eager_after(change), rtol=1e-6)
    assert not np.allclose(got, _build()(torch.tensor(X)).numpy())  # it did change


@pytest.mark.parametrize("how", ["trace", "script"])
def test_change_through_the_shared_original(how: str) -> None:
    m = _build()
    c = _compile(m, how)
    m.fc.weight = torch.nn.Parameter(torch.tensor(W2.copy()))  # `fc` is shared with `c`
    np.testing.assert_allclose(
        c(torch.tensor(X)).numpy(), _eager_after(lambda r: _weight(r, torch)), rtol=1e-6
    )


@pytest.mark.parametrize("how", ["trace", "script"])
def test_replaced_array_of_the_same_tensor(how: str) -> None:
    # `t_()` makes the tensor a (transposed) view: a new array under the same Tensor object
    def change(m: Any) -> None:
        m.fc.weight.t_()

    c = _compile(_build(), how)
    change(c)
    np.testing.assert_allclose(c(torch.tensor(X)).numpy(), _eager_after(change), rtol=1e-6)


@pytest.mark.parametrize("how", ["trace", "script"])
def test_rebind_then_other_batch_size(how: str) -> None:
    c = _compile(_build(), how)
    _weight(c, torch)
    x5 = np.linspace(-2.0, 2.0, 20, dtype=np.float32).reshape(5, 4)
    ref = _build()
    _weight(ref, torch)
    np.testing.assert_allclose(
        c(torch.tensor(x5)).numpy(), ref(torch.tensor(x5)).numpy(), rtol=1e-6
    )
    _bias(c, torch)  # and a rebind after that variant was compiled
    _bias(ref, torch)
    for x in (x5, X):
        np.testing.assert_allclose(
            c(torch.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(), rtol=1e-6
        )


@pytest.mark.parametrize("how", ["trace", "script"])
@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: setattr(m.fc.weight, "data", torch.zeros(4, 5)), r"'fc.weight'.*\[4, 5\]"),
        (lambda m: m.double(), r"'fc.weight' was compiled for float32 \[4, 4\].*float64"),
        (lambda m: setattr(m, "b", torch.zeros(2)), r"'b' was compiled for float32 \[4\]"),
        (lambda m: setattr(m.fc, "bias", None), r"'fc.bias'.*None"),
        (lambda m: setattr(m, "act", torch.nn.Tanh()), r"submodule 'act'.*now a Tanh"),
        (lambda m: setattr(m, "act", torch.nn.LeakyReLU(0.5)), r"'act'.*configured differently"),
    ],
)
def test_rebind_it_cannot_run_raises(how: str, change: Any, match: str) -> None:
    c = _compile(_build(), how)
    change(c)
    with pytest.raises(RebindError, match=match):
        c(torch.tensor(X))  # the signature it was compiled for


def test_undoing_a_refused_rebind_runs_again() -> None:
    m = _build()
    c = _compile(m, "trace")
    old = c.act
    c.act = torch.nn.Tanh()
    with pytest.raises(RebindError):
        c(torch.tensor(X))
    c.act = old
    np.testing.assert_allclose(
        c(torch.tensor(X)).numpy(), _build()(torch.tensor(X)).numpy(), rtol=1e-6
    )


def test_mycell_fast_path_sees_rebinds() -> None:
    # the per-call fast path (jit/fastcall.py) of a traced MyCell, twice: rebind, then reuse
    torch.manual_seed(0)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    tc = torch.jit.trace(cell, (x, h))
    for k in range(2):
        w = np.full((4, 4), 0.1 * (k + 1), np.float32)
        tc.linear.weight = torch.nn.Parameter(torch.tensor(w))
        want = np.tanh(x.numpy() @ w.T + cell.linear.bias.numpy() + h.numpy())
        for _ in range(2):
            got, _ = tc(x, h)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def test_container_deletion_is_seen() -> None:
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ModuleDict({"act": torch.nn.Tanh()}))

    def run(seq: Any, x: Any) -> Any:
        return seq[1]["act"](seq[0](x)) if "act" in seq[1] else seq[0](x)

    class Holder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.seq = m

        def forward(self, x):
            return run(self.seq, x)

    c = _compile(Holder(), "trace")
    del c.seq[1]["act"]
    with pytest.raises(
        RebindError, match=r"submodule 'seq.1.act' \(a Tanh when compiled\) was removed"
    ):
        c(torch.tensor(X))


@pytest.mark.parametrize("how", ["trace", "script"])
def test_save_after_rebind_saves_the_current_weights(how: str, tmp_path: Any) -> None:
    c = _compile(_build(), how)
    _weight(c, torch)  # not called since: the archive must still hold the new weight
    c.save(tmp_path / "m.xjit")
    loaded = torch.jit.load(tmp_path / "m.xjit")
    np.testing.assert_allclose(
        loaded(torch.tensor(X)).numpy(), _eager_after(lambda r: _weight(r, torch)), rtol=1e-6
    )


@pytest.mark.parametrize("how", ["trace", "script"])
def test_double_then_double_input_raises(how: str) -> None:
    # a new signature compiles a new variant: from a graph typed for float32 parameters
    c = _compile(_build(), how)
    c.double()
    with pytest.raises(
        RebindError,
        match=r"'fc.weight' was (compiled|scripted) as float32|"
        r"'fc.weight' was compiled for float32",
    ):
        c(torch.tensor(X).double())


def test_loaded_archive_sees_a_rebound_weight(tmp_path: Any) -> None:
    c = _compile(_build(), "trace")
    c.save(tmp_path / "m.xjit")
    loaded = torch.jit.load(tmp_path / "m.xjit")
    loaded(torch.tensor(X))
    _weight(loaded, torch)
    np.testing.assert_allclose(
        loaded(torch.tensor(X)).numpy(), _eager_after(lambda r: _weight(r, torch)), rtol=1e-6
    )
