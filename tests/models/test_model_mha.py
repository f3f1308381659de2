"""`nn.MultiheadAttention` alone, as users call it: self-attention with a key padding mask and
the attention weights (need_weights), cross-attention with kdim/vdim, masks as bool or float,
2-D or 3-D, batch_first or not; and `F.scaled_dot_product_attention`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_oracle import assert_close, compare, twins

import xjit
from xjit.errors import FrontendError


def self_attention(torch):
    nn = torch.nn

    class SelfAttention(nn.Module):
        def __init__(self, d_model=8, nhead=2):
            super().__init__()
            self.attn = nn.MultiheadAttention(d_model, nhead, dropout=0.1, batch_first=True)

        def forward(self, x, key_padding_mask):
            out, weights = self.attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=True)
            return out, weights

    return SelfAttention


def cross_attention(torch):
    nn = torch.nn

    class CrossAttention(nn.Module):
        """Queries of width 8 attend over keys of width 5 and values of width 3."""

        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 4, kdim=5, vdim=3)

        def forward(self, q, k, v, attn_mask):
            out, weights = self.attn(q, k, v, attn_mask=attn_mask, average_attn_weights=False)
            return out, weights

    return CrossAttention


def _padding(lengths: list[int], s: int) -> np.ndarray:
    """True at the padded (ignored) key positions of each sequence."""
    return np.arange(s)[None, :] >= np.array(lengths)[:, None]


def test_self_attention_key_padding_mask_and_weights() -> None:
    t, x = twins(self_attention)
    assert list(x.state_dict()) == [
        "attn.in_proj_weight",
        "attn.in_proj_bias",
        "attn.out_proj.weight",
        "attn.out_proj.bias",
    ]
    rng = np.random.default_rng(0)
    inp = rng.standard_normal((3, 5, 8)).astype(np.float32)
    mask = _padding([5, 3, 1], 5)
    traced = compare(t, x, inp, mask)
    with torch.no_grad():
        _, w = t(torch.from_numpy(inp), torch.from_numpy(mask))
    assert np.all(w.numpy()[2, :, 1:] == 0)  # padded keys get no weight
    # the traced module runs other values of the same shapes
    inp2 = rng.standard_normal((3, 5, 8)).astype(np.float32)
    mask2 = _padding([2, 5, 4], 5)
    with torch.no_grad():
        want = t(torch.from_numpy(inp2), torch.from_numpy(mask2))
    assert_close(traced(xjit.from_numpy(inp2), xjit.from_numpy(mask2)), want, "traced again")


def test_float_key_padding_mask() -> None:
    t, x = twins(self_attention)
    rng = np.random.default_rng(1)
    inp = rng.standard_normal((2, 4, 8)).astype(np.float32)
    mask = rng.standard_normal((2, 4)).astype(np.float32)  # added to the scores, as torch
    compare(t, x, inp, mask)


@pytest.mark.parametrize("kind", ["bool2d", "float2d", "bool3d", "float3d"])
def test_cross_attention_kdim_vdim_masks(kind: str) -> None:
    t, x = twins(cross_attention)
    assert list(x.state_dict()) == [
        "attn.q_proj_weight",
        "attn.k_proj_weight",
        "attn.v_proj_weight",
        "attn.in_proj_bias",
        "attn.out_proj.weight",
        "attn.out_proj.bias",
    ]
    rng = np.random.default_rng(2)
    L, S, N, H = 3, 6, 2, 4
    q = rng.standard_normal((L, N, 8)).astype(np.float32)
    k = rng.standard_normal((S, N, 5)).astype(np.float32)
    v = rng.standard_normal((S, N, 3)).astype(np.float32)
    shape = (L, S) if kind.endswith("2d") else (N * H, L, S)
    if kind.startswith("bool"):
        mask = rng.random(shape) < 0.4
        mask[..., 0] = False  # every query keeps a key (else torch's row is NaN)
    else:
        mask = rng.standard_normal(shape).astype(np.float32)
    compare(t, x, q, k, v, mask)


def test_unbatched_and_causal_hint() -> None:
    pt_m = torch.nn.MultiheadAttention(6, 3).eval()
    xm = xjit.nn.MultiheadAttention(6, 3).eval()
    xm.load_state_dict({k: v.numpy() for k, v in pt_m.state_dict().items()})
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    # is_causal=True with need_weights=False attends causally whatever the mask says
    ones = np.zeros((4, 4), np.float32)
    with torch.no_grad():
        ta = torch.from_numpy(a)
        want = pt_m(
            ta, ta, ta, attn_mask=torch.from_numpy(ones), is_causal=True, need_weights=False
        )
        want_w = pt_m(ta, ta, ta)
    xa = xjit.from_numpy(a)
    got = xm(xa, xa, xa, attn_mask=xjit.from_numpy(ones), is_causal=True, need_weights=False)
    assert got[1] is None
    assert_close(got[0], want[0], "causal hint")
    assert_close(xm(xa, xa, xa), want_w, "unbatched with weights")
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        xm(xa, xa, xa, is_causal=True)


def test_refused_options() -> None:
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        xjit.nn.MultiheadAttention(4, 2, add_bias_kv=True)
    with pytest.raises(AssertionError, match="divisible"):
        xjit.nn.MultiheadAttention(5, 2)
    m = xjit.nn.MultiheadAttention(4, 2).eval()
    x = xjit.randn(3, 2, 4)
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, key_padding_mask=xjit.zeros(2, 3, dtype=xjit.int64))
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=xjit.zeros(3, 4))


def sdpa_block(torch):
    nn = torch.nn
    F = torch.nn.functional

    class SDPA(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(8, 24)

        def forward(self, x, mask):
            B, T, C = x.shape
            q, k, v = self.qkv(x).view(B, T, 3, 2, C // 2).permute(2, 0, 3, 1, 4)
            causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            masked = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.3)
            return (causal + masked).transpose(1, 2).reshape(B, T, C)

    return SDPA


def test_scaled_dot_product_attention() -> None:
    t, x = twins(sdpa_block)
    rng = np.random.default_rng(4)
    inp = rng.standard_normal((2, 5, 8)).astype(np.float32)
    mask = rng.random((5, 5)) < 0.7  # True: may attend
    mask[:, 0] = True
    compare(t, x, inp, mask)
    compare(t, x, inp, rng.standard_normal((2, 1, 5, 5)).astype(np.float32))


def test_repr_and_scripting_refusals() -> None:
    assert repr(xjit.nn.MultiheadAttention(4, 2)) == repr(torch.nn.MultiheadAttention(4, 2))

    class UsesSDPA(xjit.nn.Module):
        def forward(self, q):
            return xjit.nn.functional.scaled_dot_product_attention(q, q, q)

    with pytest.raises(FrontendError, match="scaled_dot_product_attention has no compilable op"):
        xjit.jit.script(UsesSDPA())


@pytest.mark.parametrize("self_attention", [True, False])
@pytest.mark.parametrize("grad", [True, False])
def test_query_with_every_key_masked(self_attention: bool, grad: bool) -> None:
    """torch gives 0 for such a query through scaled_dot_product_attention, NaN through its
    fused fast path (batch_first self-attention, eval, grad off) or with need_weights."""
    pt_m = torch.nn.MultiheadAttention(4, 2, batch_first=True).eval()
    xm = xjit.nn.MultiheadAttention(4, 2, batch_first=True).eval()
    xm.load_state_dict({k: v.numpy() for k, v in pt_m.state_dict().items()})
    a = np.random.default_rng(6).standard_normal((2, 3, 4)).astype(np.float32)
    kpm = np.array([[False, False, True], [True, True, True]])
    for need_weights in (False, True):
        with torch.set_grad_enabled(grad):
            q = torch.from_numpy(a)
            k = q if self_attention else q.clone()
            want = pt_m(q, k, k, key_padding_mask=torch.from_numpy(kpm), need_weights=need_weights)
        with xjit.set_grad_enabled(grad):
            q = xjit.from_numpy(a)
            k = q if self_attention else q.clone()
            got = xm(q, k, k, key_padding_mask=xjit.from_numpy(kpm), need_weights=need_weights)
        assert np.isnan(want[0].detach().numpy()[1]).all() == (
            need_weights or (self_attention and not grad)
        )
        np.testing.assert_array_equal(np.isnan(got[0].numpy()), np.isnan(want[0].detach().numpy()))
        assert_close(got[0][0], want[0][0], "unmasked row")
