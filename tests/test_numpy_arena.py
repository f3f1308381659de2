"""The numpy backend's arena (backends/numpy/buffers.py `call_local`, runtime.Arena): large
call-local buffers are reused across calls, and nothing that can leave a call ever lives in one.
Oracles: xjit eager and numpy written here."""

from __future__ import annotations

import re
import threading

import numpy as np

import xjit as torch

RNG = np.random.default_rng(0)


class _MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(256, 512)
        self.fc2 = torch.nn.Linear(512, 256)

    def forward(self, x):
        return torch.tanh(self.fc2(torch.relu(self.fc1(x))))


def _mlp():
    torch.manual_seed(0)
    return _MLP()


def _arena(c):
    return c.forward.program[c.forward.name].__globals__["_arena"]


def test_large_intermediates_come_from_the_arena_and_are_reused() -> None:
    m = _mlp()
    x = torch.randn(64, 256)
    c = torch.jit.trace(m, (x,))
    src = c.forward.source
    assert "_ar.get(0, (64, 512), _float32)" in src  # 128 KiB hidden layer: call-local
    assert "np.empty((64, 256), _float32)" in src  # the result: fresh per call
    first = c(x)
    slots = dict(_arena(c)._slots)
    second = c(torch.randn(64, 256))
    assert all(_arena(c)._slots[k] is a for k, a in slots.items())  # same storage
    assert not np.shares_memory(first.numpy(), second.numpy())
    for a in slots.values():
        assert not np.shares_memory(a, first.numpy()) and not np.shares_memory(a, second.numpy())
    np.testing.assert_allclose(c(x).numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(first.numpy(), c(x).numpy())  # a later call changed nothing


def test_small_buffers_and_escaping_views_are_never_in_the_arena() -> None:
    w = torch.randn(256, 256)

    def f(x):
        y = torch.tanh(x @ w)  # 64 KiB, but returned as a view: not call-local
        z = torch.relu(x * 2.0)[:2]  # small: plain allocation
        return y.t(), z

    x = torch.randn(64, 256)
    c = torch.jit.trace(f, (x,))
    a1, _ = c(x)
    keep = a1.numpy().copy()
    a2, _ = c(torch.randn(64, 256))
    assert not np.shares_memory(a1.numpy(), a2.numpy())
    np.testing.assert_array_equal(a1.numpy(), keep)
    for got, want in zip(c(x), f(x), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_concurrent_calls_do_not_share_an_arena() -> None:
    m = _mlp()
    c = torch.jit.trace(m, (torch.randn(64, 256),))
    xs = [torch.randn(64, 256) for _ in range(6)]
    want = [m(x).numpy() for x in xs]
    got: list[np.ndarray | None] = [None] * len(xs)

    def work(i: int) -> None:
        for _ in range(20):
            got[i] = c(xs[i]).numpy()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert _arena(c).acquire() is _arena(c)  # released after every call
    _arena(c).release(_arena(c))


def test_an_exception_releases_the_arena() -> None:
    m = _mlp()
    c = torch.jit.trace(m, (torch.randn(64, 256),))
    try:
        c.forward.program[c.forward.name](np.zeros((3, 3), np.float32))
    except ValueError:
        pass
    assert _arena(c).acquire() is _arena(c)
    _arena(c).release(_arena(c))
    np.testing.assert_allclose(
        c(torch.ones(64, 256)).numpy(), m(torch.ones(64, 256)).numpy(), rtol=1e-5
    )


class _GatedLoop(torch.nn.Module):
    """A cell in a scripted loop whose gates buffer is used only within one iteration."""

    def __init__(self):
        super().__init__()
        self.ih = torch.nn.Linear(8, 16)

    def forward(self, xs, h):
        for t in range(xs.size(0)):
            g = self.ih(xs[t]) + torch.cat([h, h], 1)
            h = torch.tanh(g[:, 0:8]) * torch.sigmoid(g[:, 8:16])
        return h


def test_iteration_local_loop_buffers_are_made_once() -> None:
    torch.manual_seed(0)
    m = _GatedLoop()
    xs, h0 = torch.randn(7, 5, 8), torch.randn(5, 8)
    c = torch.jit.script(m)
    got = c(xs, h0)
    src = c.variants[0].source  # scripted: compiled at its first call
    body = src[src.index("for k0 in") : src.index("return")]
    loop_body = "\n".join(line for line in body.splitlines() if line.startswith(" " * 12))
    assert "np.empty" not in loop_body  # the gates: one buffer before the loop
    assert re.search(r"lb\d = np.empty\(\(5, 16\)", src)
    w, b = m.ih.weight.numpy(), m.ih.bias.numpy()
    h = h0.numpy()
    for x in xs.numpy():
        g = x @ w.T + b + np.concatenate([h, h], 1)
        h = np.tanh(g[:, :8]) / (1 + np.exp(-g[:, 8:]))
    np.testing.assert_allclose(got.numpy(), h, rtol=1e-5, atol=1e-6)
    again = c(xs, h0)
    assert not np.shares_memory(got.numpy(), again.numpy())
    np.testing.assert_array_equal(got.numpy(), again.numpy())
