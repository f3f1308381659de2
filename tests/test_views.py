"""Views stay views (select, slice with steps, reshape/view/flatten/squeeze/unsqueeze,
transpose/permute/t, expand) and cat/stack write slabs of one buffer; the embedding gather;
dtype conversions. Each: eager vs a numpy formula, traced+compiled vs eager, the loops stage in
xDSL's interpreter, and the generated source (numpy views, no copy nests, no scalar loops)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xjit as torch
from xjit.backends.interpreter import run_interpreted
from xjit.backends.numpy.diagnostics import XjitPerformanceWarning

RNG = np.random.default_rng(0)


def _compile(fn, *inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)
        return torch.jit.trace(fn, inputs)


def _check(fn, *inputs, interpret: bool = True):
    """Compiled == eager (values and dtypes), and == the loops stage run by the interpreter."""
    traced = _compile(fn, *inputs)
    want = fn(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    got = traced(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6, atol=1e-7)
    if interpret:
        cf = traced.forward if hasattr(traced, "forward") else traced
        params = {k: t.numpy() for k, t in cf.params.items()}
        from xdsl.dialects import func

        name = next(o.sym_name.data for o in cf.loop_ir.ops if isinstance(o, func.FuncOp))
        ref = run_interpreted(cf.loop_ir, name, [i.numpy() for i in inputs], params)
        for r, w in zip(ref, want, strict=True):
            np.testing.assert_allclose(r, w.numpy(), rtol=1e-5, atol=1e-6)
    return traced


def _source(traced) -> str:
    cf = traced.forward if hasattr(traced, "forward") else traced
    return cf.source


X = torch.from_numpy(RNG.standard_normal((4, 6)).astype(np.float32))
Y = torch.from_numpy(RNG.standard_normal((6, 4)).astype(np.float32))
Z = torch.from_numpy(RNG.standard_normal((2, 3, 4)).astype(np.float32))

VIEWS = {
    "select": (lambda x: x[1] + 1, X, lambda a: a[1] + 1),
    "select_neg": (lambda x: x[:, -2] * 2, X, lambda a: a[:, -2] * 2),
    "slice_step": (lambda x: x[1::2, ::3] + 1, X, lambda a: a[1::2, ::3] + 1),
    "slice_step_sum": (lambda x: x[::2].sum(0), X, lambda a: a[::2].sum(0)),
    "reshape": (lambda x: x.reshape(3, 8) * 2, X, lambda a: a.reshape(3, 8) * 2),
    "view_infer": (lambda x: x.view(-1, 4) - 1, X, lambda a: a.reshape(-1, 4) - 1),
    "flatten": (lambda x: torch.flatten(x, 1) + 1, Z, lambda a: a.reshape(2, 12) + 1),
    "unsqueeze": (lambda x: x.unsqueeze(1) + 1, X, lambda a: a[:, None] + 1),
    "squeeze": (lambda x: x[:, :1].squeeze(1) + 1, X, lambda a: a[:, 0] + 1),
    "t_reshape": (lambda x: x.t().reshape(2, 12) * 2, X, lambda a: a.T.reshape(2, 12) * 2),
    "permute": (lambda x: x.permute(2, 0, 1) + 1, Z, lambda a: a.transpose(2, 0, 1) + 1),
    "permute_flatten": (
        lambda x: x.permute(1, 0, 2).reshape(3, 8),
        Z,
        lambda a: a.transpose(1, 0, 2).reshape(3, 8),
    ),
    "expand": (lambda x: x[:1].expand(3, 6) + 1, X, lambda a: np.broadcast_to(a[:1], (3, 6)) + 1),
    "cat": (lambda x: torch.cat([x, x[:2] * 2], 0), X, lambda a: np.concatenate([a, a[:2] * 2], 0)),
    "cat_dim1": (
        lambda x: torch.cat([x, x[:, :1]], 1),
        X,
        lambda a: np.concatenate([a, a[:, :1]], 1),
    ),
    "stack": (lambda x: torch.stack([x, x + 1], 1), X, lambda a: np.stack([a, a + 1], 1)),
    "to_rank0": (lambda x: x[1:2, 2:3].reshape([]) + 1, X, lambda a: a[1, 2] + 1),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_matches_numpy_and_eager(name: str) -> None:
    fn, x, formula = VIEWS[name]
    np.testing.assert_allclose(fn(x).numpy(), formula(x.numpy()), rtol=1e-6)
    traced = _check(fn, x)
    assert "XjitPerformanceWarning" not in _source(traced)


def test_view_chain_has_no_copy() -> None:
    traced = _check(lambda x: x.t().reshape(2, 12) * 2 + x.reshape(2, 12)[:, ::2].sum(), X)
    src = _source(traced)
    assert "= arg0.T\n" in src and ".reshape((2, 12))" in src and "[:, :11:2]" in src, src
    assert "np.copyto" not in src and "[...] =" not in src, src  # no copy nest


def test_reshape_is_a_view_of_the_argument() -> None:
    src = _source(_check(lambda x: x.view(3, 8).unsqueeze(0) + 1, X))
    assert "arg0.reshape((3, 8))" in src and ".reshape((1, 3, 8))" in src, src
    assert "%" not in src and "//" not in src  # no index linearisation


def test_cat_writes_slabs() -> None:
    src = _source(_check(lambda x: torch.cat([x, x * 2], 0), X))
    assert "[:4] = arg0" in src and "[4:4 + 4]" in src, src
    assert "np.where" not in src


def test_embedding_is_fancy_indexing() -> None:
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 4)
    idx = torch.tensor([[1, 2, 9], [0, 0, 4]])
    np.testing.assert_array_equal(emb(idx).numpy(), emb.weight.numpy()[idx.numpy()])
    traced = _check(emb, idx)
    src = _source(traced)
    assert "= g_weight[t0[..., 0]]" in src, src
    pos = torch.nn.Embedding(3, 4)

    class M(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = emb, pos

        def forward(self, i):
            return self.tok(i) + self.pos(torch.arange(3)) * 2

    _check(M(), idx)
    with pytest.raises(IndexError):
        emb(torch.tensor([10]))


def test_dtype_conversions() -> None:
    x = torch.from_numpy(RNG.uniform(-3, 3, (3, 4)).astype(np.float32))
    y = torch.arange(12).reshape(3, 4)

    def f(x, y):
        return (
            x.double() * 2,
            x.long(),
            (x > 0.5).float() + y.type_as(x),
            torch.softmax(x, -1, dtype=torch.float64),
            x.to(torch.int64).bool(),
        )

    out = f(x, y)
    assert [o.dtype for o in out] == [
        torch.float64,
        torch.int64,
        torch.float32,
        torch.float64,
        torch.bool,
    ]
    np.testing.assert_array_equal(out[1].numpy(), np.trunc(x.numpy()).astype(np.int64))
    _check(f, x, y)
    assert x.float() is not None and x.to(torch.float32).numpy() is x.numpy()  # same dtype: itself
