"""The workloads of issue 6 and every implementation of each.

A workload is inputs (float32; several sets, the first is the one timed, the others make the
correctness check cover both branches of data-dependent control flow), a list of
implementations, and the issue's targets. Implementations are built lazily by `harness.py`: a
build that raises (an op or `jit.script` not there yet) is reported, never fatal.

Implementation keys:
  naive          numpy written one op at a time as a user would (the reference of every ratio)
  hand           numpy by hand: out=, preallocated buffers, pre-transposed weights
  hoisted        b1/b2/c/h/h2: `hand`, plus the input projection (b1/b2/c: and gate) over all T
  blocked        e: `hand`, cache-blocked (every pass over a 128 KiB chunk at a time)
  xjit_eager     the model run eagerly by xjit
  xjit_compiled  xjit.jit.trace, or jit.script where the model has control flow (a2, b1, b2, c)
  torch_eager    PyTorch (when importable), 1 thread, grad disabled
  torch_jit      torch.jit.trace, or the tutorial's script+trace where there is control flow
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

F32 = np.float32
HERE = Path(__file__).resolve().parent


class Unsupported(Exception):
    """An implementation that cannot be built with what exists (reported as n/a)."""


@dataclass
class Impl:
    key: str
    label: str
    kind: str  # "numpy" | "xjit" | "torch": how the inputs are passed
    build: Callable[[], Callable[..., Any]]
    compiles: bool = False  # the build time is a compile time (trace/script → callable)


@dataclass
class Target:
    impl: str
    ref: str  # "naive" | "hand" | "torch_eager"
    bound: float

    def describe(self) -> str:
        ref = {"naive": "naive numpy", "hand": "hand-opt numpy", "torch_eager": "PyTorch eager"}
        return f"≤ {self.bound:g}× {ref[self.ref]}"


@dataclass
class Workload:
    id: str
    group: str
    title: str
    inputs: list[tuple[np.ndarray, ...]]
    impls: list[Impl]
    targets: list[Target] = field(default_factory=list)
    rtol: float = 1e-4
    atol: float = 1e-5  # scaled by max(1, max|reference|)
    note: str = ""


@dataclass
class Backends:
    """xjit and (optionally) PyTorch, each with the models of `models.py` loaded against it."""

    xjit: ModuleType
    xm: ModuleType
    torch: ModuleType | None
    tm: ModuleType | None
    torch_missing: str = ""

    def convert(self, kind: str, a: np.ndarray) -> Any:
        if kind == "xjit":
            return self.xjit.from_numpy(a)
        if kind == "torch":
            assert self.torch is not None
            return self.torch.from_numpy(a)
        return a


def load_models(backend: str) -> ModuleType:
    name = f"xjit_bench_models_{backend}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "models.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # inspect.getsource (jit.script) looks modules up here
    spec.loader.exec_module(mod)
    return mod


def load_backends(configure_torch: bool = True) -> Backends:
    """xjit and (when importable) PyTorch with the models built for each. `configure_torch`
    sets PyTorch's process-wide state for timing (1 thread, grad disabled); callers that only
    build models (the golden-source test) keep the process as it was."""
    import xjit

    xm = load_models("xjit")
    try:
        import torch
    except Exception as e:  # not installed: the torch columns say so
        return Backends(xjit, xm, None, None, f"PyTorch not importable ({type(e).__name__}: {e})")
    if not configure_torch:
        return Backends(xjit, xm, torch, load_models("torch"))
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_grad_enabled(False)
    return Backends(xjit, xm, torch, load_models("torch"))


# -- helpers --------------------------------------------------------------------------------


class CompileClock:
    """Time spent inside `jit.trace`/`jit.script` during one build (model construction and
    weight loading are not compile time)."""

    seconds = 0.0


def jit(T: ModuleType, how: str, *args: Any) -> Any:
    t0 = time.perf_counter()
    try:
        return getattr(T.jit, how)(*args)
    finally:
        CompileClock.seconds += time.perf_counter() - t0


def _need_torch(B: Backends) -> tuple[ModuleType, ModuleType]:
    if B.torch is None or B.tm is None:
        raise Unsupported(B.torch_missing)
    return B.torch, B.tm


def _need_script(T: ModuleType, why: str) -> Callable[..., Any]:
    if getattr(T.jit, "script", None) is None:
        raise Unsupported(f"{T.__name__}.jit.script does not exist yet ({why})")

    def script(*args: Any) -> Any:
        return jit(T, "script", *args)

    return script


def _set(module: Any, T: ModuleType, arrays: dict[str, np.ndarray]) -> Any:
    """Load numpy arrays as a module's parameters (copied in, as load_state_dict does)."""
    conv = T.from_numpy
    module.load_state_dict({k: conv(np.array(v, copy=True)) for k, v in arrays.items()})
    return module


def _linear_params(
    rng: np.random.Generator, n_in: int, n_out: int
) -> tuple[np.ndarray, np.ndarray]:
    bound = 1.0 / np.sqrt(n_in)
    w = rng.uniform(-bound, bound, (n_out, n_in)).astype(F32)
    b = rng.uniform(-bound, bound, (n_out,)).astype(F32)
    return w, b


def _standard_impls(
    B: Backends,
    eager: Callable[[ModuleType, ModuleType], Callable[..., Any]],
    compiled: Callable[[ModuleType, ModuleType], Callable[..., Any]],
    how: str,
    torch_how: str | None = None,
) -> list[Impl]:
    """xjit eager/compiled and torch eager/jit, from builders written once against a backend."""

    def on(
        backend: str, f: Callable[[ModuleType, ModuleType], Callable[..., Any]]
    ) -> Callable[[], Any]:
        def build() -> Callable[..., Any]:
            T, M = (B.xjit, B.xm) if backend == "xjit" else _need_torch(B)
            return f(T, M)

        return build

    return [
        Impl("xjit_eager", "xjit eager", "xjit", on("xjit", eager)),
        Impl(
            "xjit_compiled", f"xjit compiled ({how})", "xjit", on("xjit", compiled), compiles=True
        ),
        Impl("torch_eager", "torch eager", "torch", on("torch", eager)),
        Impl(
            "torch_jit",
            f"torch.jit ({torch_how or how})",
            "torch",
            on("torch", compiled),
            compiles=True,
        ),
    ]


# -- a1, a2: the tutorial's cell ------------------------------------------------------------------


def a1(B: Backends, rng: np.random.Generator) -> Workload:
    W, b = _linear_params(rng, 4, 4)
    x, h = rng.standard_normal((3, 4)).astype(F32), rng.standard_normal((3, 4)).astype(F32)
    x2, h2 = rng.standard_normal((3, 4)).astype(F32), rng.standard_normal((3, 4)).astype(F32)
    params = {"linear.weight": W, "linear.bias": b}

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray, h: np.ndarray) -> Any:
            new_h = np.tanh(x @ W.T + b + h)
            return new_h, new_h

        return f

    def hand() -> Callable[..., Any]:
        WT = np.ascontiguousarray(W.T)
        buf = np.empty((3, 4), F32)

        def f(x: np.ndarray, h: np.ndarray) -> Any:
            np.matmul(x, WT, out=buf)
            np.add(buf, b, out=buf)
            np.add(buf, h, out=buf)
            np.tanh(buf, out=buf)
            return buf, buf

        return f

    def eager(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return _set(M.MyCell(), T, params)

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        cell = _set(M.MyCell(), T, params)
        ex = (T.from_numpy(x.copy()), T.from_numpy(h.copy()))
        return jit(T, "trace", cell, ex)

    return Workload(
        "a1",
        "a1",
        "MyCell tanh(linear(x) + h), Linear(4,4), x/h 3×4",
        [(x, h), (x2, h2)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            *_standard_impls(B, eager, compiled, "trace"),
        ],
        [Target("xjit_compiled", "naive", 1.2)],
    )


def _gate_inputs(
    rng: np.random.Generator, W: np.ndarray, b: np.ndarray
) -> list[tuple[np.ndarray, ...]]:
    """Two (x, h) sets of shape 3×4: the gate passes linear(x) on one, negates it on the other."""
    found: dict[bool, tuple[np.ndarray, ...]] = {}
    while len(found) < 2:
        x, h = rng.standard_normal((3, 4)).astype(F32), rng.standard_normal((3, 4)).astype(F32)
        s = float((x @ W.T + b).sum())
        if abs(s) > 0.5:
            found.setdefault(s > 0, (x, h))
    return [found[True], found[False]]


def a2(B: Backends, rng: np.random.Generator) -> Workload:
    W, b = _linear_params(rng, 4, 4)
    inputs = _gate_inputs(rng, W, b)
    lin = {"weight": W, "bias": b}

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray, h: np.ndarray) -> Any:
            y = x @ W.T + b
            g = y if y.sum() > 0 else -y
            new_h = np.tanh(g + h)
            return new_h, new_h

        return f

    def hand() -> Callable[..., Any]:
        WT = np.ascontiguousarray(W.T)
        buf = np.empty((3, 4), F32)

        def f(x: np.ndarray, h: np.ndarray) -> Any:
            np.matmul(x, WT, out=buf)
            np.add(buf, b, out=buf)
            if buf.sum() > 0:
                np.add(buf, h, out=buf)
            else:
                np.subtract(h, buf, out=buf)
            np.tanh(buf, out=buf)
            return buf, buf

        return f

    def eager(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        cell = M.MyGatedCell(M.MyDecisionGate())
        _set(cell.linear, T, lin)
        return cell

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        # The tutorial: script the gate (control flow), trace the cell around it.
        script = _need_script(T, "a2's gate branches on y.sum()")
        cell = M.MyGatedCell(script(M.MyDecisionGate()))
        _set(cell.linear, T, lin)
        x, h = inputs[0]
        return jit(T, "trace", cell, (T.from_numpy(x.copy()), T.from_numpy(h.copy())))

    return Workload(
        "a2",
        "a2",
        "MyCell with the decision gate, tanh(dg(linear(x)) + h), 3×4",
        inputs,
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            *_standard_impls(B, eager, compiled, "script gate + trace"),
        ],
        [Target("xjit_compiled", "naive", 1.2)],
        note="checked on inputs taking each branch of the gate",
    )


# -- b1, b2, c: WrapRNN over the scripted MyRNNLoop -------------------------------------------------


def _rnn(
    wid: str,
    B: Backends,
    rng: np.random.Generator,
    T_steps: int,
    batch: int,
    hidden: int,
    targets: list[Target],
) -> Workload:
    W, b = _linear_params(rng, hidden, hidden)
    xs = rng.standard_normal((T_steps, batch, hidden)).astype(F32)
    xs2 = rng.standard_normal((T_steps, batch, hidden)).astype(F32)
    lin = {"weight": W, "bias": b}
    wide = (batch, hidden) != (3, 4)
    if wide and (batch, hidden) != (64, 512):
        raise ValueError("models.py's loops are written for 3×4 and 64×512")

    def naive() -> Callable[..., Any]:
        def f(xs: np.ndarray) -> Any:
            h, y = np.zeros((batch, hidden), F32), np.zeros((batch, hidden), F32)
            for i in range(xs.shape[0]):
                lx = xs[i] @ W.T + b
                g = lx if lx.sum() > 0 else -lx
                h = np.tanh(g + h)
                y = h
            return np.maximum(y, 0)

        return f

    def hand() -> Callable[..., Any]:
        WT = np.ascontiguousarray(W.T)
        lx, h, out = (np.empty((batch, hidden), F32) for _ in range(3))

        def f(xs: np.ndarray) -> Any:
            h.fill(0)
            for i in range(xs.shape[0]):
                np.matmul(xs[i], WT, out=lx)
                np.add(lx, b, out=lx)
                if lx.sum() > 0:
                    np.add(h, lx, out=h)
                else:
                    np.subtract(h, lx, out=h)
                np.tanh(h, out=h)
            np.maximum(h, 0, out=out)
            return out

        return f

    def hoisted() -> Callable[..., Any]:
        # linear(xs[i]) and the gate depend on xs only: one matmul over all T steps, then a loop
        # that only adds and tanh's.
        WT = np.ascontiguousarray(W.T)
        proj = np.empty((T_steps * batch, hidden), F32)
        h, out = np.empty((batch, hidden), F32), np.empty((batch, hidden), F32)

        def f(xs: np.ndarray) -> Any:
            n = xs.shape[0]
            p = proj[: n * batch]
            np.matmul(xs.reshape(n * batch, hidden), WT, out=p)
            np.add(p, b, out=p)
            steps = p.reshape(n, batch, hidden)
            positive = p.reshape(n, batch * hidden).sum(axis=1) > 0
            h.fill(0)
            for i in range(n):
                if positive[i]:
                    np.add(h, steps[i], out=h)
                else:
                    np.subtract(h, steps[i], out=h)
                np.tanh(h, out=h)
            np.maximum(h, 0, out=out)
            return out

        return f

    def loop_cls(M: ModuleType) -> Any:
        return M.MyRNNLoopWide if wide else M.MyRNNLoop

    def eager(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        cell = M.MyGatedCell(M.MyDecisionGate(), hidden)
        _set(cell.linear, T, lin)
        return M.WrapRNN(loop_cls(M)(cell))

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        # The tutorial: script the gate, trace the cell, script the loop, trace the wrapper.
        script = _need_script(T, f"{wid} loops over T and branches on the gate")
        cell = M.MyGatedCell(script(M.MyDecisionGate()), hidden)
        _set(cell.linear, T, lin)
        ex_x = T.from_numpy(xs[0].copy())
        ex_h = T.from_numpy(np.zeros((batch, hidden), F32))
        loop = script(loop_cls(M)(jit(T, "trace", cell, (ex_x, ex_h))))
        return jit(T, "trace", M.WrapRNN(loop), (T.from_numpy(xs.copy()),))

    title = f"WrapRNN over scripted MyRNNLoop, T={T_steps}, batch {batch}, hidden {hidden}"
    return Workload(
        wid,
        wid,
        title,
        [(xs,), (xs2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            Impl("hoisted", "numpy hand-opt, hoisted", "numpy", hoisted),
            *_standard_impls(B, eager, compiled, "script + trace"),
        ],
        targets,
        note="the gate takes both branches across the T steps",
    )


def b1(B: Backends, rng: np.random.Generator) -> Workload:
    return _rnn(
        "b1",
        B,
        rng,
        10,
        3,
        4,
        [Target("xjit_compiled", "naive", 1.2), Target("xjit_compiled", "naive", 0.5)],
    )


def b2(B: Backends, rng: np.random.Generator) -> Workload:
    return _rnn(
        "b2",
        B,
        rng,
        100,
        3,
        4,
        [Target("xjit_compiled", "naive", 1.2), Target("xjit_compiled", "naive", 0.4)],
    )


def c(B: Backends, rng: np.random.Generator) -> Workload:
    return _rnn("c", B, rng, 50, 64, 512, [Target("xjit_compiled", "naive", 0.95)])


# -- d: MLP ----------------------------------------------------------------------------------------


def d(B: Backends, rng: np.random.Generator) -> Workload:
    dims = [1024, 4096, 4096, 1024]
    layers = [_linear_params(rng, i, o) for i, o in zip(dims[:-1], dims[1:])]
    (W1, b1_), (W2, b2_), (W3, b3_) = layers
    params = {
        f"fc{k + 1}.{n}": a
        for k, (w, bb) in enumerate(layers)
        for n, a in (("weight", w), ("bias", bb))
    }
    x = rng.standard_normal((64, 1024)).astype(F32)
    x2 = rng.standard_normal((64, 1024)).astype(F32)

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray) -> Any:
            h = np.maximum(x @ W1.T + b1_, 0)
            h = np.maximum(h @ W2.T + b2_, 0)
            return h @ W3.T + b3_

        return f

    def hand() -> Callable[..., Any]:
        W1T, W2T, W3T = (np.ascontiguousarray(w.T) for w in (W1, W2, W3))
        h1, h2, out = (
            np.empty((64, 4096), F32),
            np.empty((64, 4096), F32),
            np.empty((64, 1024), F32),
        )

        def f(x: np.ndarray) -> Any:
            np.matmul(x, W1T, out=h1)
            np.add(h1, b1_, out=h1)
            np.maximum(h1, 0, out=h1)
            np.matmul(h1, W2T, out=h2)
            np.add(h2, b2_, out=h2)
            np.maximum(h2, 0, out=h2)
            np.matmul(h2, W3T, out=out)
            np.add(out, b3_, out=out)
            return out

        return f

    def eager(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return _set(M.MLP(), T, params)

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T, "trace", _set(M.MLP(), T, params), (T.from_numpy(x.copy()),))

    return Workload(
        "d",
        "d",
        "MLP 1024→4096→4096→1024, relu, batch 64",
        [(x,), (x2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            *_standard_impls(B, eager, compiled, "trace"),
        ],
        [Target("xjit_compiled", "hand", 1.05)],
        rtol=1e-3,
        atol=1e-4,
    )


# -- e: elementwise chain ------------------------------------------------------------------------


def e(B: Backends, rng: np.random.Generator) -> Workload:
    shape = (2048, 2048)  # 4M elements; a and b are full tensors like x
    x, a, b = (rng.standard_normal(shape).astype(F32) for _ in range(3))
    inputs = [(x, a, b)]

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
            return np.tanh(x * a + b) * (1 / (1 + np.exp(-x))) + x

        return f

    def _passes(x: np.ndarray, a: np.ndarray, b: np.ndarray, t: np.ndarray, s: np.ndarray) -> None:
        np.multiply(x, a, out=t)
        np.add(t, b, out=t)
        np.tanh(t, out=t)
        np.negative(x, out=s)
        np.exp(s, out=s)
        np.add(s, 1, out=s)
        np.divide(t, s, out=t)  # tanh(.) * sigmoid(x) = tanh(.) / (1 + exp(-x))
        np.add(t, x, out=t)

    def hand() -> Callable[..., Any]:
        out, s = np.empty(shape, F32), np.empty(shape, F32)

        def f(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
            _passes(x, a, b, out, s)
            return out

        return f

    def blocked() -> Callable[..., Any]:
        n = x.size
        chunk = 32 * 1024  # float32: 128 KiB per operand, the working set stays in L2
        out, s = np.empty(n, F32), np.empty(chunk, F32)

        def f(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
            xf, af, bf = x.reshape(-1), a.reshape(-1), b.reshape(-1)
            for i in range(0, n, chunk):
                j = min(n, i + chunk)
                _passes(xf[i:j], af[i:j], bf[i:j], out[i:j], s[: j - i])
            return out.reshape(shape)

        return f

    def eager(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return M.chain

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T, "trace", M.chain, tuple(T.from_numpy(v.copy()) for v in (x, a, b)))

    return Workload(
        "e",
        "e",
        "tanh(x*a + b) * sigmoid(x) + x, x/a/b 2048×2048 (4M elements)",
        inputs,
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            Impl("blocked", "numpy hand-opt, cache-blocked", "numpy", blocked),
            *_standard_impls(B, eager, compiled, "trace"),
        ],
        [Target("xjit_compiled", "naive", 0.8)],
    )


# -- f: softmax and layer norm -------------------------------------------------------------------


def _softmax(B: Backends, rng: np.random.Generator, rows: int, cols: int) -> Workload:
    x = rng.standard_normal((rows, cols)).astype(F32)
    x2 = (3 * rng.standard_normal((rows, cols))).astype(F32)

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray) -> Any:
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        return f

    def hand() -> Callable[..., Any]:
        buf, red = np.empty((rows, cols), F32), np.empty((rows, 1), F32)

        def f(x: np.ndarray) -> Any:
            np.max(x, axis=-1, keepdims=True, out=red)
            np.subtract(x, red, out=buf)
            np.exp(buf, out=buf)
            np.sum(buf, axis=-1, keepdims=True, out=red)
            np.reciprocal(red, out=red)
            np.multiply(buf, red, out=buf)
            return buf

        return f

    def fn(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        if hasattr(T, "softmax"):
            return M.softmax_last
        if hasattr(T.nn, "functional") and hasattr(T.nn.functional, "softmax"):
            return M.softmax_last_functional
        raise Unsupported(f"{T.__name__} has no softmax (neither torch.softmax nor F.softmax)")

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T, "trace", fn(T, M), (T.from_numpy(x.copy()),))

    wid = f"f-softmax-{rows}x{cols}"
    return Workload(
        wid,
        "f",
        f"softmax(x, dim=-1), {rows}×{cols}",
        [(x,), (x2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            *_standard_impls(B, fn, compiled, "trace"),
        ],
        [Target("xjit_compiled", "naive", 0.75)],
        atol=1e-7,
    )


def _layernorm(B: Backends, rng: np.random.Generator, rows: int, cols: int) -> Workload:
    x = rng.standard_normal((rows, cols)).astype(F32)
    x2 = (2 + 3 * rng.standard_normal((rows, cols))).astype(F32)
    w = (1 + 0.1 * rng.standard_normal(cols)).astype(F32)
    bias = (0.1 * rng.standard_normal(cols)).astype(F32)
    eps = 1e-5

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray) -> Any:
            mean = x.mean(axis=-1, keepdims=True)
            var = x.var(axis=-1, keepdims=True)
            return (x - mean) / np.sqrt(var + eps) * w + bias

        return f

    def hand() -> Callable[..., Any]:
        buf, sq = np.empty((rows, cols), F32), np.empty((rows, cols), F32)
        mean, rstd = np.empty((rows, 1), F32), np.empty((rows, 1), F32)

        def f(x: np.ndarray) -> Any:
            np.mean(x, axis=-1, keepdims=True, out=mean)
            np.subtract(x, mean, out=buf)
            np.multiply(buf, buf, out=sq)
            np.mean(sq, axis=-1, keepdims=True, out=rstd)
            np.add(rstd, eps, out=rstd)
            np.sqrt(rstd, out=rstd)
            np.reciprocal(rstd, out=rstd)
            np.multiply(buf, rstd, out=buf)
            np.multiply(buf, w, out=buf)
            np.add(buf, bias, out=buf)
            return buf

        return f

    def module(T: ModuleType, M: ModuleType) -> Any:
        if hasattr(T.nn, "LayerNorm"):
            return _set(T.nn.LayerNorm(cols), T, {"weight": w, "bias": bias})
        if hasattr(T.nn, "functional") and hasattr(T.nn.functional, "layer_norm"):
            return _set(M.LayerNormF(cols), T, {"weight": w, "bias": bias})
        raise Unsupported(f"{T.__name__} has no layer norm (neither nn.LayerNorm nor F.layer_norm)")

    def compiled(T: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T, "trace", module(T, M), (T.from_numpy(x.copy()),))

    wid = f"f-layernorm-{rows}x{cols}"
    return Workload(
        wid,
        "f",
        f"LayerNorm({cols}) (affine), {rows}×{cols}",
        [(x,), (x2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hand", "numpy hand-opt", "numpy", hand),
            *_standard_impls(B, module, compiled, "trace"),
        ],
        [Target("xjit_compiled", "naive", 0.75)],
        rtol=1e-4,
        atol=1e-4,
    )


def f_all(B: Backends, rng: np.random.Generator) -> list[Workload]:
    return [
        _softmax(B, rng, 64, 1024),
        _softmax(B, rng, 1024, 4096),
        _layernorm(B, rng, 64, 1024),
        _layernorm(B, rng, 1024, 4096),
    ]


# -- g: a GPT decoder block (issue 14) ------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    """erf for float32 data (numpy has none): Abramowitz & Stegun 7.1.26, |error| < 1.5e-7."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def _ln(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def _block_params(
    rng: np.random.Generator, C: int, T: int, prefix: str = ""
) -> dict[str, np.ndarray]:
    p: dict[str, np.ndarray] = {}
    for name, n_in, n_out in [
        ("attn.c_attn", C, 3 * C),
        ("attn.c_proj", C, C),
        ("mlp.c_fc", C, 4 * C),
        ("mlp.c_proj", 4 * C, C),
    ]:
        p[f"{prefix}{name}.weight"], p[f"{prefix}{name}.bias"] = _linear_params(rng, n_in, n_out)
    for ln in ("ln_1", "ln_2"):
        p[f"{prefix}{ln}.weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(F32)
        p[f"{prefix}{ln}.bias"] = (0.1 * rng.standard_normal(C)).astype(F32)
    p[f"{prefix}attn.bias"] = np.tril(np.ones((T, T), F32)).reshape(1, 1, T, T)
    return p


def _block_naive(p: dict[str, np.ndarray], x: np.ndarray, nh: int, prefix: str = "") -> np.ndarray:
    """One GPT block in numpy, one op at a time (the reference of g and g2)."""
    Bn, T, C = x.shape
    hs = C // nh

    def lin(v: np.ndarray, name: str) -> np.ndarray:
        return v @ p[f"{prefix}{name}.weight"].T + p[f"{prefix}{name}.bias"]

    def heads(v: np.ndarray) -> np.ndarray:
        return v.reshape(Bn, T, nh, hs).transpose(0, 2, 1, 3)

    a = _ln(x, p[f"{prefix}ln_1.weight"], p[f"{prefix}ln_1.bias"])
    q, k, v = np.split(lin(a, "attn.c_attn"), 3, axis=2)
    att = (heads(q) @ heads(k).transpose(0, 1, 3, 2)) * F32(1.0 / hs**0.5)
    att = np.where(p[f"{prefix}attn.bias"][:, :, :T, :T] == 0, F32(-np.inf), att)
    att = np.exp(att - att.max(axis=-1, keepdims=True))
    att = att / att.sum(axis=-1, keepdims=True)
    y = (att @ heads(v)).transpose(0, 2, 1, 3).reshape(Bn, T, C)
    x = x + lin(y, "attn.c_proj")
    m = lin(_ln(x, p[f"{prefix}ln_2.weight"], p[f"{prefix}ln_2.bias"]), "mlp.c_fc")
    m = (0.5 * m * (1.0 + _erf(m / np.sqrt(2.0)))).astype(F32)
    return x + lin(m, "mlp.c_proj")


def g(B: Backends, rng: np.random.Generator) -> Workload:
    Bn, T, C, nh = 4, 64, 128, 4
    p = _block_params(rng, C, T)
    x = rng.standard_normal((Bn, T, C)).astype(F32)
    x2 = (0.5 + 2 * rng.standard_normal((Bn, T, C))).astype(F32)

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray) -> Any:
            return _block_naive(p, x, nh)

        return f

    def module(T_: ModuleType, M: ModuleType) -> Any:
        return _set(M.GPTBlock(C, nh, T).eval(), T_, p)

    def compiled(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T_, "trace", module(T_, M), (T_.from_numpy(x.copy()),))

    return Workload(
        "g",
        "g",
        f"GPT decoder block, B={Bn} T={T} C={C}, {nh} heads (tril mask, LayerNorm, GELU MLP)",
        [(x,), (x2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            *_standard_impls(B, module, compiled, "trace"),
        ],
        [Target("xjit_compiled", "torch_eager", 1.0)],
        rtol=1e-4,
        atol=1e-4,
    )


def g2(B: Backends, rng: np.random.Generator) -> Workload:
    Bn, T, C, nh, V, L = 4, 64, 128, 4, 512, 2
    p: dict[str, np.ndarray] = {}
    for i in range(L):
        p.update(_block_params(rng, C, T, f"h.{i}."))
    p["wte.weight"] = (0.5 * rng.standard_normal((V, C))).astype(F32)
    p["wpe.weight"] = (0.5 * rng.standard_normal((T, C))).astype(F32)
    p["ln_f.weight"] = (1 + 0.1 * rng.standard_normal(C)).astype(F32)
    p["ln_f.bias"] = (0.1 * rng.standard_normal(C)).astype(F32)
    p["lm_head.weight"] = _linear_params(rng, C, V)[0]
    idx = rng.integers(0, V, (Bn, T)).astype(np.int64)
    idx2 = rng.integers(0, V, (Bn, T)).astype(np.int64)

    def naive() -> Callable[..., Any]:
        def f(idx: np.ndarray) -> Any:
            x = p["wte.weight"][idx] + p["wpe.weight"][: idx.shape[1]]
            for i in range(L):
                x = _block_naive(p, x, nh, f"h.{i}.")
            return _ln(x, p["ln_f.weight"], p["ln_f.bias"]) @ p["lm_head.weight"].T

        return f

    def module(T_: ModuleType, M: ModuleType) -> Any:
        return _set(M.GPT(V, C, nh, T, L).eval(), T_, p)

    def compiled(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T_, "trace", module(T_, M), (T_.from_numpy(idx.copy()),))

    return Workload(
        "g2",
        "g2",
        f"GPT forward, {L} blocks, B={Bn} T={T} C={C} vocab {V} (embeddings, ln_f, lm head)",
        [(idx,), (idx2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            *_standard_impls(B, module, compiled, "trace"),
        ],
        [Target("xjit_compiled", "torch_eager", 1.0)],
        rtol=1e-4,
        atol=1e-4,
    )


# -- h: a scripted LSTM layer (issue 14) ----------------------------------------------------------


@dataclass
class FloorImpl(Impl):
    """Key `gemms` (h/h2): a time floor, only part of the computation (an LSTM's GEMMs, nothing
    else), so no numpy implementation can be faster; timed, not checked (harness.py)."""

    floor: bool = True


def _sigmoid_(v: np.ndarray) -> None:
    """1 / (1 + exp(-v)) in place (the formula xjit's sigmoid lowers to; np.divide(1, v) is
    faster than np.reciprocal here and rounds the same)."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    np.add(v, 1, out=v)
    np.divide(1, v, out=v)


def _lstm_layer_hand(
    xs: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    bias: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One LSTM layer as numpy by hand: the input projection of every step as one GEMM (cuDNN /
    fastrnns "premul"), per step one GEMM into a reused (B, 4H) buffer, the gates computed in
    place on its column views, h written straight into its slice of the output."""
    T_, Bn, H = xs.shape[0], xs.shape[1], w_hh.shape[1]
    pre = np.empty((T_, Bn, 4 * H), F32)
    np.dot(xs.reshape(-1, xs.shape[2]), w_ih.T, out=pre.reshape(-1, 4 * H))
    np.add(pre, bias, out=pre)
    gates = np.empty((Bn, 4 * H), F32)
    out = np.empty((T_, Bn, H), F32)
    c = c.copy()
    for t in range(T_):
        np.dot(h, w_hh.T, out=gates)
        np.add(gates, pre[t], out=gates)
        i_f, g_, o = gates[:, : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        _sigmoid_(i_f)  # the i and f gates are adjacent: one pass over both
        _sigmoid_(o)
        np.tanh(g_, out=g_)
        np.multiply(gates[:, H : 2 * H], c, out=c)
        np.multiply(gates[:, :H], g_, out=g_)
        np.add(c, g_, out=c)
        h = out[t]
        np.tanh(c, out=h)
        np.multiply(h, o, out=h)
    return out, h, c


def _lstm_gemms(xs: np.ndarray, h: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
    """Only the GEMMs of one LSTM layer (hoisted input projection + one per step): the floor
    of any numpy implementation, whatever it does with the gates."""
    T_, Bn, H = xs.shape[0], xs.shape[1], w_hh.shape[1]
    pre = np.empty((T_ * Bn, 4 * H), F32)
    np.dot(xs.reshape(-1, xs.shape[2]), w_ih.T, out=pre)
    gates = np.empty((Bn, 4 * H), F32)
    for _ in range(T_):
        np.dot(h, w_hh.T, out=gates)
    return gates[:, :H]  # the shape of h: feeds the next layer's floor


def h(B: Backends, rng: np.random.Generator) -> Workload:
    T, Bn, H = 50, 64, 256
    p: dict[str, np.ndarray] = {}
    for name in ("ih", "hh"):
        p[f"{name}.weight"], p[f"{name}.bias"] = _linear_params(rng, H, 4 * H)
    xs = rng.standard_normal((T, Bn, H)).astype(F32)
    h0, c0 = np.zeros((Bn, H), F32), np.zeros((Bn, H), F32)
    xs2 = rng.standard_normal((T, Bn, H)).astype(F32)
    h2, c2 = (0.5 * rng.standard_normal((2, Bn, H))).astype(F32)

    def sig(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    def naive() -> Callable[..., Any]:
        def f(xs: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
            for t in range(xs.shape[0]):
                gates = (
                    xs[t] @ p["ih.weight"].T + p["ih.bias"] + h @ p["hh.weight"].T + p["hh.bias"]
                )
                i, f_, g_, o = np.split(gates, 4, axis=1)
                c = sig(f_) * c + sig(i) * np.tanh(g_)
                h = sig(o) * np.tanh(c)
            return h, c

        return f

    def hoisted() -> Callable[..., Any]:
        bias = p["ih.bias"] + p["hh.bias"]

        def f(xs: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
            _, h, c = _lstm_layer_hand(xs, h, c, p["ih.weight"], p["hh.weight"], bias)
            return h, c

        return f

    def gemms() -> Callable[..., Any]:
        return lambda xs, h, c: _lstm_gemms(xs, h, p["ih.weight"], p["hh.weight"])

    def module(T_: ModuleType, M: ModuleType) -> Any:
        return _set(M.LSTMLoop(H, H), T_, p)

    def compiled(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        m = module(T_, M)
        t0 = time.perf_counter()
        scripted = T_.jit.script(m)
        # xjit compiles a scripted module at its first call: part of the compile time here
        scripted(*(T_.from_numpy(a.copy()) for a in (xs, h0, c0)))
        CompileClock.seconds += time.perf_counter() - t0
        return scripted

    return Workload(
        "h",
        "h",
        f"LSTM layer as a scripted cell loop, T={T} B={Bn} H={H}",
        [(xs, h0, c0), (xs2, h2, c2)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            Impl("hoisted", "numpy hand-opt, hoisted", "numpy", hoisted),
            FloorImpl("gemms", "numpy, its GEMMs only (floor)", "numpy", gemms),
            *_standard_impls(B, module, compiled, "script"),
        ],
        [Target("xjit_compiled", "torch_eager", 0.8)],
        rtol=1e-4,
        atol=1e-5,
    )


# -- h2: nn.LSTM, 2 layers (issue 14), traced and scripted -----------------------------------------


def h2(B: Backends, rng: np.random.Generator) -> list[Workload]:
    T, Bn, H, L = 50, 64, 256, 2
    p: dict[str, np.ndarray] = {}
    for k in range(L):
        for kind in ("ih", "hh"):
            w, b = _linear_params(rng, H, 4 * H)
            p[f"lstm.weight_{kind}_l{k}"], p[f"lstm.bias_{kind}_l{k}"] = w, b
    xs = rng.standard_normal((T, Bn, H)).astype(F32)
    zeros = np.zeros((L, Bn, H), F32)
    xs2 = rng.standard_normal((T, Bn, H)).astype(F32)
    h2_, c2_ = (0.5 * rng.standard_normal((2, L, Bn, H))).astype(F32)

    def sig(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    def naive() -> Callable[..., Any]:
        def f(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> Any:
            hs, cs = [], []
            for k in range(L):
                h, c, out = h0[k], c0[k], []
                for t in range(xs.shape[0]):
                    gates = (
                        xs[t] @ p[f"lstm.weight_ih_l{k}"].T
                        + p[f"lstm.bias_ih_l{k}"]
                        + h @ p[f"lstm.weight_hh_l{k}"].T
                        + p[f"lstm.bias_hh_l{k}"]
                    )
                    i, f_, g_, o = np.split(gates, 4, axis=1)
                    c = sig(f_) * c + sig(i) * np.tanh(g_)
                    h = sig(o) * np.tanh(c)
                    out.append(h)
                xs = np.stack(out)
                hs.append(h)
                cs.append(c)
            return xs, np.stack(hs), np.stack(cs)

        return f

    def hoisted() -> Callable[..., Any]:
        w = [(p[f"lstm.weight_ih_l{k}"], p[f"lstm.weight_hh_l{k}"]) for k in range(L)]
        bias = [p[f"lstm.bias_ih_l{k}"] + p[f"lstm.bias_hh_l{k}"] for k in range(L)]

        def f(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> Any:
            h_n, c_n = np.empty_like(h0), np.empty_like(c0)
            for k in range(L):
                xs, h_n[k], c_n[k] = _lstm_layer_hand(xs, h0[k], c0[k], *w[k], bias[k])
            return xs, h_n, c_n

        return f

    def gemms() -> Callable[..., Any]:
        w = [(p[f"lstm.weight_ih_l{k}"], p[f"lstm.weight_hh_l{k}"]) for k in range(L)]

        def f(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> Any:
            for k in range(L):
                h = _lstm_gemms(xs, h0[k], *w[k])
                xs = np.broadcast_to(h, xs.shape[:2] + h.shape[1:])  # shaped like the output
            return h

        return f

    def module(T_: ModuleType, M: ModuleType) -> Any:
        return _set(M.LSTM2(H, H), T_, p)

    def traced(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        args = tuple(T_.from_numpy(a.copy()) for a in (xs, zeros, zeros))
        return jit(T_, "trace", module(T_, M), args)

    def scripted(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        m = module(T_, M)
        t0 = time.perf_counter()
        s = T_.jit.script(m)
        # xjit compiles a scripted module at its first call: part of the compile time here
        s(*(T_.from_numpy(a.copy()) for a in (xs, zeros, zeros)))
        CompileClock.seconds += time.perf_counter() - t0
        return s

    def workload(wid: str, how: str, compiled: Any) -> Workload:
        return Workload(
            wid,
            "h2",
            f"nn.LSTM, {L} layers, T={T} B={Bn} H={H}, {how}",
            [(xs, zeros, zeros), (xs2, h2_, c2_)],
            [
                Impl("naive", "numpy naive", "numpy", naive),
                Impl("hoisted", "numpy hand-opt, hoisted", "numpy", hoisted),
                FloorImpl("gemms", "numpy, its GEMMs only (floor)", "numpy", gemms),
                *_standard_impls(B, module, compiled, how),
            ],
            [Target("xjit_compiled", "torch_eager", 0.8)],
            rtol=1e-4,
            atol=1e-5,
        )

    return [workload("h2", "trace", traced), workload("h2-script", "script", scripted)]


# -- i: a LeNet-style CNN (issue 14) -----------------------------------------------------------


def _conv2d_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """NCHW convolution as a user writes it in numpy: windows as a view, one tensordot."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # N, OH, OW, O
    return y.transpose(0, 3, 1, 2) + b[:, None, None]


def _pool2_naive(x: np.ndarray) -> np.ndarray:
    n, c, hh, ww = x.shape
    return x.reshape(n, c, hh // 2, 2, ww // 2, 2).max(axis=(3, 5))


def i(B: Backends, rng: np.random.Generator) -> Workload:
    N = 64
    p: dict[str, np.ndarray] = {}
    for name, shape in (("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5))):
        fan_in = int(np.prod(shape[1:]))
        w, b = _linear_params(rng, fan_in, shape[0])
        p[f"{name}.weight"], p[f"{name}.bias"] = w.reshape(shape), b
    for name, n_in, n_out in (("fc1", 400, 120), ("fc2", 120, 84), ("fc3", 84, 10)):
        p[f"{name}.weight"], p[f"{name}.bias"] = _linear_params(rng, n_in, n_out)
    x = rng.standard_normal((N, 1, 28, 28)).astype(F32)
    x2 = (0.5 + 2 * rng.standard_normal((N, 1, 28, 28))).astype(F32)

    def naive() -> Callable[..., Any]:
        def f(x: np.ndarray) -> Any:
            relu = lambda v: np.maximum(v, 0)  # noqa: E731
            x = _pool2_naive(relu(_conv2d_naive(x, p["conv1.weight"], p["conv1.bias"], 2)))
            x = _pool2_naive(relu(_conv2d_naive(x, p["conv2.weight"], p["conv2.bias"], 0)))
            x = x.reshape(x.shape[0], -1)
            x = relu(x @ p["fc1.weight"].T + p["fc1.bias"])
            x = relu(x @ p["fc2.weight"].T + p["fc2.bias"])
            return x @ p["fc3.weight"].T + p["fc3.bias"]

        return f

    def module(T_: ModuleType, M: ModuleType) -> Any:
        return _set(M.LeNet().eval(), T_, p)

    def compiled(T_: ModuleType, M: ModuleType) -> Callable[..., Any]:
        return jit(T_, "trace", module(T_, M), (T_.from_numpy(x.copy()),))

    return Workload(
        "i",
        "i",
        f"LeNet-style CNN on {N}x1x28x28 (2 conv 5x5 + relu + max pool, 3 linear), traced",
        [(x,), (x2,)],
        [
            Impl("naive", "numpy naive", "numpy", naive),
            *_standard_impls(B, module, compiled, "trace"),
        ],
        [Target("xjit_compiled", "torch_eager", 1.5)],
        rtol=1e-4,
        atol=1e-4,
    )


# group -> builder(s); the order of the report
GROUPS: dict[str, Callable[[Backends, np.random.Generator], Workload | list[Workload]]] = {
    "a1": a1,
    "a2": a2,
    "b1": b1,
    "b2": b2,
    "c": c,
    "d": d,
    "e": e,
    "f": f_all,
    "g": g,
    "g2": g2,
    "h": h,
    "h2": h2,
    "i": i,
}

# The tutorial's modules, whose compile time has the issue's ≤ 0.5 s target.
TUTORIAL = ("a1", "a2", "b1", "b2")
