"""Compiled code reads large transposed weights from a cached contiguous copy
(backends/numpy/runtime.py `Transposed`, xjit/_versions.py): every way of changing a
parameter that xjit can see must reach the next call, and memory numpy users can write
(`p.numpy()`, `np.asarray(p)`, `xjit.from_numpy(a)`, ...) is never cached.

Oracle: PyTorch, doing the same mutation on a torch model with the same weights (or, for
random initialisers, the xjit module run eagerly, which reads the parameter itself)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import xjit

IN, OUT = 256, 512  # the weight has 131,072 elements: above TRANSPOSED_COPY_MIN


class Net(xjit.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = xjit.nn.Linear(IN, OUT)

    def forward(self, x: Any) -> Any:
        return xjit.relu(self.fc(x))


class TorchNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(IN, OUT)

    def forward(self, x: Any) -> Any:
        return torch.relu(self.fc(x))


def _pair(kind: str = "trace") -> tuple[Net, Any, TorchNet, np.ndarray]:
    """An xjit net (weights loaded from a torch net's, without exposing them), its compiled
    form, the torch net, an input."""
    tnet = TorchNet()
    net = Net()
    net.load_state_dict({k: v.detach().numpy().copy() for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((8, IN)).astype(np.float32)
    compiled = xjit.jit.trace(net, (xjit.tensor(x),)) if kind == "trace" else xjit.jit.script(net)
    return net, compiled, tnet, x


def _program(compiled: Any) -> Any:
    """The compiled function a call with 8 rows runs (a trace's or a script's)."""
    if hasattr(compiled.forward, "variants"):  # traced
        return compiled.forward
    return compiled.compiled_for(xjit.zeros(8, IN))[0]


def _cache(compiled: Any, attr: str = "fc_weight") -> Any:
    f = _program(compiled)
    assert f"rt.transposed(g_{attr})" in f.source, f.source
    return f._fn.__globals__[f"_g_{attr}_Tc"]


def _check(compiled: Any, tnet: TorchNet, x: np.ndarray) -> None:
    with torch.no_grad():
        want = tnet(torch.from_numpy(x)).numpy()
    got = compiled(xjit.tensor(x)).numpy()
    # float32 sums of 256 products of unit-size terms; a stale weight is off by O(1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def _rand(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# Each: the same update on the xjit parameter (p), the xjit module (m), and on torch's (tp, tm).
W = _rand(OUT, IN)
MUTATIONS: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "load_state_dict": (
        lambda p, m: m.load_state_dict({"fc.weight": W, "fc.bias": np.zeros(OUT, np.float32)}),
        lambda p, m: m.load_state_dict(
            {"fc.weight": torch.from_numpy(W), "fc.bias": torch.zeros(OUT)}
        ),
    ),
    "data.copy_": (
        lambda p, m: p.data.copy_(xjit.tensor(W)),
        lambda p, m: p.data.copy_(torch.from_numpy(W)),
    ),
    "copy_": (lambda p, m: p.copy_(xjit.tensor(W)), lambda p, m: p.copy_(torch.from_numpy(W))),
    "no_grad add_": (lambda p, m: p.add_(1.0), lambda p, m: p.add_(1.0)),
    "+=": (lambda p, m: p.__iadd__(0.5), lambda p, m: p.__iadd__(0.5)),
    "setitem row": (lambda p, m: p.__setitem__(0, 3.0), lambda p, m: p.__setitem__(0, 3.0)),
    "masked_fill_": (
        lambda p, m: p.masked_fill_(p > 0, 0.0),
        lambda p, m: p.masked_fill_(p > 0, 0.0),
    ),
    "data setitem mask": (
        lambda p, m: p.data.__setitem__(p.data > 0, 0.0),
        lambda p, m: p.data.__setitem__(p.data > 0, 0.0),
    ),
    "setitem index list": (
        lambda p, m: p.__setitem__(([1, 5], [2, 7]), 9.0),
        lambda p, m: p.__setitem__(([1, 5], [2, 7]), 9.0),
    ),
    "view setitem": (
        lambda p, m: p.view(-1).__setitem__(slice(0, 1000), 2.0),
        lambda p, m: p.view(-1).__setitem__(slice(0, 1000), 2.0),
    ),
    "row fill_": (lambda p, m: p[3].fill_(-1.0), lambda p, m: p[3].fill_(-1.0)),
    "t() setitem": (
        lambda p, m: p.t().__setitem__(0, 4.0),
        lambda p, m: p.t().__setitem__(0, 4.0),
    ),
    "t() mul_": (lambda p, m: p.t().mul_(2.0), lambda p, m: p.t().mul_(2.0)),
    "data setitem": (
        lambda p, m: p.data.__setitem__(2, 1.5),
        lambda p, m: p.data.__setitem__(2, 1.5),
    ),
    "data mul_": (lambda p, m: p.data.mul_(0.5), lambda p, m: p.data.mul_(0.5)),
    "detach zero_": (lambda p, m: p.detach().zero_(), lambda p, m: p.detach().zero_()),
    "fill_": (lambda p, m: p.fill_(0.25), lambda p, m: p.fill_(0.25)),
    "data =": (
        lambda p, m: setattr(p, "data", xjit.tensor(W)),
        lambda p, m: setattr(p, "data", torch.from_numpy(W.copy())),
    ),
    "slice clamp_": (
        lambda p, m: p[:, :10].clamp_(0.0, 0.01),
        lambda p, m: p[:, :10].clamp_(0.0, 0.01),
    ),
    "vector_to_parameters": (
        lambda p, m: xjit.nn.utils.vector_to_parameters(
            xjit.tensor(np.arange(OUT * IN + OUT, dtype=np.float32) / 1e5), m.parameters()
        ),
        lambda p, m: torch.nn.utils.vector_to_parameters(
            torch.arange(OUT * IN + OUT, dtype=torch.float32) / 1e5, m.parameters()
        ),
    ),
    "nn.init.constant_": (
        lambda p, m: xjit.nn.init.constant_(p, 0.125),
        lambda p, m: torch.nn.init.constant_(p, 0.125),
    ),
}


@pytest.mark.parametrize("kind", ["trace", "script"])
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_an_update_through_xjit_reaches_the_next_call(kind: str, name: str) -> None:
    net, compiled, tnet, x = _pair(kind)
    _check(compiled, tnet, x)
    cache = _cache(compiled)
    assert cache.state is not None and cache.copy is not cache.view  # the copy is in use
    ours, theirs = MUTATIONS[name]
    ours(net.fc.weight, net)
    with torch.no_grad():
        theirs(tnet.fc.weight, tnet)
    _check(compiled, tnet, x)
    _check(compiled, tnet, x)  # and stays right once the copy is made again


@pytest.mark.parametrize(
    "init",
    [
        lambda p: p.uniform_(-1, 1),
        lambda p: p.normal_(),
        lambda p: xjit.nn.init.kaiming_uniform_(p),
        lambda p: xjit.nn.init.xavier_normal_(p),
        lambda p: xjit.nn.init.zeros_(p),
    ],
)
def test_random_initialisers_reach_the_next_call(init: Callable[[Any], Any]) -> None:
    net, compiled, _, x = _pair()
    _cache(compiled)
    compiled(xjit.tensor(x))
    init(net.fc.weight)
    got = compiled(xjit.tensor(x)).numpy()
    want = net(xjit.tensor(x)).numpy()  # eager reads the parameter itself
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# -- memory numpy users hold: never cached, so their writes are seen --------------------------


def _expose_after(p: Any) -> np.ndarray:
    return p.numpy()


@pytest.mark.parametrize(
    "expose",
    [
        lambda p: p.numpy(),
        lambda p: np.asarray(p),
        lambda p: p.detach().numpy(),
        lambda p: p.data.numpy(),
        lambda p: np.asarray(p.t()).T,  # a view's root is the weight's
        lambda p: p[0:OUT].numpy(),
    ],
)
@pytest.mark.parametrize("when", ["before compile", "after compile"])
def test_writes_through_numpy_aliases_are_seen(expose: Callable[[Any], Any], when: str) -> None:
    tnet = TorchNet()
    net = Net()
    net.load_state_dict({k: v.detach().numpy().copy() for k, v in tnet.state_dict().items()})
    x = _rand(8, IN, seed=2)
    alias = expose(net.fc.weight) if when == "before compile" else None
    compiled = xjit.jit.trace(net, (xjit.tensor(x),))
    _check(compiled, tnet, x)
    if alias is None:
        alias = expose(net.fc.weight)
    alias[...] = W  # behind xjit's back
    with torch.no_grad():
        tnet.fc.weight.copy_(torch.from_numpy(W))
    _check(compiled, tnet, x)


@pytest.mark.parametrize("wrap", [xjit.from_numpy, xjit.as_tensor, xjit.Tensor, xjit.nn.Parameter])
def test_a_weight_made_from_a_users_array_is_never_cached(wrap: Callable[[Any], Any]) -> None:
    tnet = TorchNet()
    net = Net()
    a = tnet.fc.weight.detach().numpy().copy()
    net.fc.weight = xjit.nn.Parameter(wrap(a))
    net.fc.bias = xjit.nn.Parameter(xjit.tensor(tnet.fc.bias.detach().numpy()))
    x = _rand(8, IN, seed=3)
    compiled = xjit.jit.trace(net, (xjit.tensor(x),))
    _check(compiled, tnet, x)
    assert _cache(compiled).state is None
    a[...] = W
    with torch.no_grad():
        tnet.fc.weight.copy_(torch.from_numpy(W))
    _check(compiled, tnet, x)


@pytest.mark.parametrize(
    "read",
    [
        lambda m: np.array(m.fc.weight),  # numpy asks for a copy
        lambda m: m.state_dict(),
        lambda m: m.fc.weight.clone().numpy(),
        lambda m: xjit.tensor(m.fc.weight).numpy(),
        lambda m: xjit.zeros(OUT, IN).copy_(m.fc.weight).numpy(),
        lambda m: m.fc.weight.tolist(),
        lambda m: m.load_state_dict(m.state_dict()),
    ],
)
def test_reads_and_copies_do_not_expose(read: Callable[[Any], Any]) -> None:
    """Ordinary use keeps the copy: only handing the memory itself to numpy users stops it."""
    net, compiled, tnet, x = _pair()
    _check(compiled, tnet, x)
    cache = _cache(compiled)
    out = read(net)
    if isinstance(out, np.ndarray):
        out[...] = 0  # a copy: the weight is unchanged
    assert cache.state is not None and not cache.state.exposed
    _check(compiled, tnet, x)


def test_legacy_constructors_and_parameters_of_tensors_are_cacheable() -> None:
    from xjit import _versions

    for p in (
        xjit.nn.Parameter(xjit.FloatTensor(OUT, IN)),
        xjit.nn.Parameter(xjit.randn(OUT, IN)),
        xjit.nn.Linear(IN, OUT).weight,
    ):
        assert _versions.cacheable(p._a) is not None
    assert _versions.cacheable(xjit.from_numpy(np.zeros((OUT, IN), np.float32))._a) is None


def test_shape_variants_share_one_copy_and_see_updates() -> None:
    net, compiled, tnet, x = _pair()
    x2 = _rand(3, IN, seed=4)
    _check(compiled, tnet, x)
    _check(compiled, tnet, x2)  # another batch size: a second program
    a, b = compiled.forward.variants[:2]
    assert a._fn.__globals__["_g_fc_weight_Tc"] is b._fn.__globals__["_g_fc_weight_Tc"]
    net.fc.weight.mul_(-1.0)
    with torch.no_grad():
        tnet.fc.weight.mul_(-1.0)
    _check(compiled, tnet, x)
    _check(compiled, tnet, x2)


def test_the_copy_is_read_only_and_never_returned() -> None:
    class Both(xjit.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = xjit.nn.Parameter(xjit.tensor(W))

        def forward(self, x: Any) -> Any:
            return x @ self.w.t(), self.w.t()

    m = Both()
    x = xjit.tensor(_rand(4, IN, seed=5))
    compiled = xjit.jit.trace(m, (x,))
    y, wt = compiled(x)
    assert not np.shares_memory(wt.numpy(), y.numpy())
    m.w.add_(1.0)
    y2, wt2 = compiled(x)
    np.testing.assert_allclose(y2.numpy(), x.numpy() @ (W + 1).T, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(wt2.numpy(), (W + 1).T)


def test_small_weights_are_read_as_views() -> None:
    """MyCell-sized weights pay no per-call check: the code is the transposed view."""
    lin = xjit.nn.Linear(4, 4)
    compiled = xjit.jit.trace(lin, (xjit.randn(3, 4),))
    assert "rt.transposed" not in compiled.forward.source
    assert "_g_weight_T = g_weight.T" in compiled.forward.source


def test_every_write_into_tensor_memory_bumps_its_version() -> None:
    """A structural guard: each function of xjit that writes into a tensor's array (`x._a[...]
    = v`, `np.copyto(x._a, ...)`) calls `_versions.wrote` too."""
    root = Path(__file__).resolve().parent.parent
    missing = []
    for pkg in ("xjit", "frontends"):
        for path in sorted((root / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef):
                    continue
                writes = [n.lineno for n in ast.walk(fn) if _writes_tensor_memory(n)]
                calls = any(
                    isinstance(n, ast.Attribute) and n.attr == "wrote" for n in ast.walk(fn)
                )
                if writes and not calls:
                    missing.append(f"{path.relative_to(root)}:{writes[0]} ({fn.name})")
    assert not missing, missing


def _writes_tensor_memory(n: ast.AST) -> bool:
    def on_a(e: ast.AST) -> bool:
        return any(isinstance(s, ast.Attribute) and s.attr == "_a" for s in ast.walk(e))

    if isinstance(n, (ast.Assign, ast.AugAssign)):
        targets = n.targets if isinstance(n, ast.Assign) else [n.target]
        return any(isinstance(t, ast.Subscript) and on_a(t.value) for t in targets)
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
        if n.func.attr == "copyto" and n.args and on_a(n.args[0]):
            return True
        return any(k.arg == "out" and on_a(k.value) for k in n.keywords)
    return False


def test_a_weight_updated_between_calls_goes_back_to_the_view() -> None:
    """Copies that go stale within a few calls cost more than they save: after
    TRANSPOSED_MAX_STRIKES of them the weight is read as a view, and stays right."""
    from xjit.backends.numpy import runtime as rt

    net, compiled, tnet, x = _pair()
    _check(compiled, tnet, x)
    cache = _cache(compiled)
    for _ in range(rt.TRANSPOSED_MAX_STRIKES + 1):
        net.fc.weight.mul_(0.5)
        with torch.no_grad():
            tnet.fc.weight.mul_(0.5)
        _check(compiled, tnet, x)
    assert cache.state is None and cache() is cache.view
    net.fc.weight.add_(1.0)
    with torch.no_grad():
        tnet.fc.weight.add_(1.0)
    _check(compiled, tnet, x)


def test_programs_bound_to_a_callers_arrays_never_cache() -> None:
    """`compile_module(ir, globals={...})` binds the caller's own arrays: writes to them must
    reach the next call, so nothing is cached from them."""
    from xjit.backends.numpy.program import compile_module

    _, compiled, tnet, x = _pair()
    w = tnet.fc.weight.detach().numpy().copy()
    b = tnet.fc.bias.detach().numpy().copy()
    fn = compile_module(compiled.forward.loop_ir, {"fc.weight": w, "fc.bias": b})["forward"]
    assert fn.__globals__["_g_fc_weight_Tc"].state is None
    np.testing.assert_allclose(fn(x)[0], np.maximum(x @ w.T + b, 0), rtol=1e-4, atol=1e-4)
    w[...] = W
    np.testing.assert_allclose(fn(x)[0], np.maximum(x @ W.T + b, 0), rtol=1e-4, atol=1e-4)
