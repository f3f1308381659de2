"""`xjit.jit.freeze` (xjit/jit/archive_freeze.py) against `torch.jit.freeze`: the same results,
no parameters left, later parameter changes do not reach the frozen module, the same refusals;
constants fold; the frozen module saves and loads (an archive without tensors)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pytest
import torch as pt

import xjit


def _build(T: Any) -> Any:
    class Net(T.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = T.nn.Linear(3, 2)
            self.w = T.nn.Parameter(T.ones(2, 3))
            self.register_buffer("s", T.ones(2))

        def forward(self, x):
            return self.lin(x) + T.matmul(x, (self.w * 2.0).t()) + self.s

    return Net()


def _twins() -> tuple[Any, Any]:
    pt.manual_seed(0)
    t = _build(pt).eval()
    with pt.no_grad():
        t.w.normal_()
        t.s.normal_()
    x = _build(xjit).eval()
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    return t, x


X = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)


@pytest.mark.parametrize("how", ["script", "trace"])
def test_frozen_matches_torch_and_holds_no_parameters(how: str) -> None:
    t, x = _twins()
    ex_t, ex_x = pt.from_numpy(X.copy()), xjit.from_numpy(X.copy())
    tc = pt.jit.script(t) if how == "script" else pt.jit.trace(t, (ex_t,))
    xc = xjit.jit.script(x) if how == "script" else xjit.jit.trace(x, (ex_x,))
    tf, xf = pt.jit.freeze(tc.eval()), xjit.jit.freeze(xc)
    want = tf(ex_t).detach().numpy()
    np.testing.assert_allclose(xf(ex_x).numpy(), want, rtol=1e-5, atol=1e-6)
    assert list(tf.named_parameters()) == [] and list(xf.named_parameters()) == []
    assert list(xf.named_buffers()) == []
    # the originals change; the frozen modules keep the values they were frozen with
    with pt.no_grad():
        t.w.zero_()
    with xjit.no_grad():
        x.w.copy_(xjit.zeros(2, 3))
    np.testing.assert_allclose(tf(ex_t).detach().numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(xf(ex_x).numpy(), want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(x(ex_x).numpy(), want)


def test_constants_fold_and_slots_are_gone() -> None:
    _, x = _twins()
    graph = xjit.jit.freeze(xjit.jit.script(x)).graph
    assert "global_slot" not in graph
    assert "torch.aten.t " not in graph and "torch.aten.mul" not in graph, graph  # (w * 2).t()
    assert "torch.aten.linear" in graph  # reads the input: stays


def test_frozen_module_saves_and_loads_without_tensors() -> None:
    _, x = _twins()
    xf = xjit.jit.freeze(xjit.jit.script(x))
    buf = io.BytesIO()
    xjit.jit.save(xf, buf)
    buf.seek(0)
    assert not [n for n in zipfile.ZipFile(buf).namelist() if n.startswith("tensors/")]
    buf.seek(0)
    loaded = xjit.jit.load(buf)
    ex = xjit.from_numpy(X.copy())
    np.testing.assert_array_equal(loaded(ex).numpy(), xf(ex).numpy())


def test_refusals_as_torch() -> None:
    t, x = _twins()
    t.train()
    x.train()
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        pt.jit.freeze(pt.jit.script(t))
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        xjit.jit.freeze(xjit.jit.script(x))
    with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule"):
        pt.jit.freeze(t.eval())
    with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule"):
        xjit.jit.freeze(x.eval())
