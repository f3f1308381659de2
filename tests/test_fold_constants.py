"""Constant folding (passes/torch_fold_constants.py) against PyTorch: a causal mask built in
`forward` from sizes is computed once, at compile time; a mask read from a buffer, and the
weights, are not (the compiled code sees `load_state_dict` and in-place updates of them at
the next call, as PyTorch does); `xjit.jit.freeze` folds the buffer's mask, as its parameters
are constants. The masked fill itself is written in place (`np.copyto(..., where=mask)`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch as pt

import xjit

C, L, BLOCK = 8, 6, 8  # embedding, sequence length, the buffer mask's block size


def _attention(T: Any, mask_from: str) -> Any:
    """Single-head causal attention, nanoGPT style; the mask built in forward or a buffer."""

    class Attention(T.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = T.nn.Linear(C, 3 * C)
            if mask_from == "buffer":
                self.register_buffer("bias", T.tril(T.ones(BLOCK, BLOCK)))

        def forward(self, x):
            B, n, c = x.size()
            q, k, v = self.qkv(x).split(c, dim=2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c))
            if mask_from == "buffer":
                mask = self.bias[:n, :n] == 0
            else:
                mask = T.tril(T.ones(n, n)) == 0
            att = att.masked_fill(mask, float("-inf"))
            return T.softmax(att, dim=-1) @ v, T.arange(n) * 2 + 1

    return Attention()


def _twins(mask_from: str) -> tuple[Any, Any]:
    pt.manual_seed(0)
    t = _attention(pt, mask_from).eval()
    x = _attention(xjit, mask_from).eval()
    x.load_state_dict({k: v.numpy().copy() for k, v in t.state_dict().items()})
    return t, x


X = np.random.default_rng(0).standard_normal((2, L, C)).astype(np.float32)


def _check(t: Any, compiled: Any) -> None:
    with pt.no_grad():
        want = [w.numpy() for w in t(pt.from_numpy(X.copy()))]
    got = [g.numpy() for g in compiled(xjit.from_numpy(X.copy()))]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[1], want[1])


def _trace(x: Any) -> Any:
    return xjit.jit.trace(x, (xjit.from_numpy(X.copy()),))


def test_mask_built_in_forward_is_one_literal() -> None:
    t, x = _twins("forward")
    traced = _trace(x)
    _check(t, traced)
    decomposed = traced.forward.stages()["decomposed"]
    assert "torch.vtensor.literal" in decomposed
    assert "torch.aten.tril" not in decomposed and "torch.aten.eq.Scalar" not in decomposed
    src = traced.forward.source
    assert "np.less_equal" not in src  # no tril computed per call
    assert "np.copyto(" in src and "np.where(" not in src  # the fill written in place


def test_returned_constant_is_a_fresh_writable_tensor() -> None:
    """`arange(n) * 2 + 1` is returned: not a literal (the program's literals are read-only),
    so the caller can update it in place and the next call is unaffected, as in PyTorch."""
    t, x = _twins("forward")
    traced = _trace(x)
    ex = xjit.from_numpy(X.copy())
    first = traced(ex)[1]
    first.add_(100)
    _check(t, traced)


def test_buffer_mask_and_weights_stay_bound_by_reference() -> None:
    """Nothing derived from a buffer or a parameter is folded: in-place updates and
    load_state_dict reach the compiled code at its next call."""
    t, x = _twins("buffer")
    traced = _trace(x)
    _check(t, traced)
    assert "g_bias" in traced.forward.source  # the mask is read from the buffer per call
    # in place: the mask allows everything; the weight changes
    with pt.no_grad():
        t.bias.fill_(1.0)
        t.qkv.weight.mul_(2.0)
    with xjit.no_grad():
        x.bias.fill_(1.0)
        x.qkv.weight.mul_(2.0)
    _check(t, traced)
    # load_state_dict: an anti-causal mask, new weights
    state = {k: v.clone() for k, v in t.state_dict().items()}
    state["bias"] = pt.triu(pt.ones(BLOCK, BLOCK))
    state["qkv.bias"] = pt.linspace(-1.0, 1.0, 3 * C)
    t.load_state_dict(state)
    x.load_state_dict({k: v.numpy().copy() for k, v in state.items()})
    _check(t, traced)


def test_freeze_folds_the_buffer_mask() -> None:
    """`xjit.jit.freeze` makes buffers and parameters literals; compiling the frozen graph
    folds the mask's slices and comparison into one boolean literal (the traced slice end,
    `x.size(1)`, is a constant after canonicalize), and the frozen module computes PyTorch's
    result."""
    t, x = _twins("buffer")
    frozen = xjit.jit.freeze(_trace(x))
    _check(t, frozen)
    assert "torch.global_slot" not in frozen.forward.graph
    decomposed = frozen.forward.stages()["decomposed"]
    assert "torch.aten.eq.Scalar" not in decomposed
    assert decomposed.count("torch.aten.slice") == 3  # q, k, v; none of the mask
    assert ": tensor<6x6xi1>" in decomposed
    assert "np.equal" not in frozen.forward.source


def test_masked_fill_in_place_keeps_nan_and_inf_as_torch() -> None:
    """The in-place masked fill (`np.copyto(buf, value, where=mask)` over the scaled scores)
    writes exactly the masked elements: NaN and inf scores under the mask become the fill,
    elsewhere they stay, as PyTorch's masked_fill does."""

    def f(T: Any, x: Any, m: Any) -> Any:
        return T.softmax((x * 0.5).masked_fill(m, float("-inf")), dim=-1), (x * 0.5).masked_fill(
            m, 3.0
        ) + 1

    rng = np.random.default_rng(1)
    xs = rng.standard_normal((3, 4, 4)).astype(np.float32)
    xs[0, 0, 3], xs[1, 2, 0], xs[2, 1, 1] = np.nan, np.inf, -np.inf
    ms = np.triu(np.ones((4, 4), bool), 1)
    ms[1, 0] = True  # (1, 2, 0) is unmasked: its inf stays; (0, 0, 3) is masked: NaN filled
    traced = xjit.jit.trace(lambda x, m: f(xjit, x, m), (xjit.from_numpy(xs), xjit.from_numpy(ms)))
    assert "np.copyto(" in traced.source
    got = [g.numpy() for g in traced(xjit.from_numpy(xs), xjit.from_numpy(ms))]
    want = [w.numpy() for w in f(pt, pt.from_numpy(xs), pt.from_numpy(ms))]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6, equal_nan=True)
