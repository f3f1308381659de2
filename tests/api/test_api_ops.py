"""Ops model code uses (issue 12): split/chunk/unbind, tril/triu, masked_fill, where, clamp,
activations, var/std, flip/roll/repeat/cumsum; each against real PyTorch, eager and traced."""

from __future__ import annotations

import numpy as np
import pytest
from torch_oracle import check, rand

import xjit

X = rand(5, 6)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.split(x, 2),
        lambda T, x: x.split(4, dim=1),
        lambda T, x: x.split([1, 3, 2], 1),
        lambda T, x: T.chunk(x, 3),
        lambda T, x: x.chunk(4, -1),
        lambda T, x: T.unbind(x, 1),
        lambda T, x: x.unbind(),
        lambda T, x: T.tensor_split(x, 3, dim=1),
        lambda T, x: T.tensor_split(x, [1, 4], dim=0),
        lambda T, x: x.tensor_split([-2, 10], 1),
    ],
    ids=lambda f: "",
)
def test_splitting(fn) -> None:
    check(fn, X)


def test_split_sizes_must_sum() -> None:
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        xjit.from_numpy(X).split([1, 2], 0)


@pytest.mark.parametrize("k", [0, 1, -1, 3, -7])
def test_tril_triu(k: int) -> None:
    check(lambda T, x: (T.tril(x, k), T.triu(x, diagonal=k), x.tril(k)), rand(2, 4, 5))


def test_tril_int_and_bool_keep_dtype() -> None:
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    check(lambda T, x: (T.tril(x), T.triu(x > 4, 1)), a)


def test_causal_mask_masked_fill() -> None:
    def fn(T, att):
        mask = T.tril(T.ones(4, 4)).view(1, 4, 4)
        att = att.masked_fill(mask == 0, float("-inf"))
        return T.softmax(att, dim=-1)

    check(fn, rand(2, 4, 4))


def test_masked_fill_broadcasts_mask_and_self_like_torch() -> None:
    check(lambda T, x: x.masked_fill(T.ones(2, 5, 6) > 0, 0.0), X)
    check(lambda T, x: x[0].masked_fill(x > 0, -1.0), X)


def test_masked_fill_forms() -> None:
    check(
        lambda T, x: (
            x.masked_fill(x > 0, 0.5),
            T.masked_fill(x, x < 0, T.tensor(-2.0)),
            x.masked_fill(x > 0, 1),
        ),
        X,
    )
    a = np.arange(6, dtype=np.int64)
    check(lambda T, x: x.masked_fill(x > 2, -1), a)


def test_masked_fill_rejects_what_torch_rejects() -> None:
    import torch as pt

    x = xjit.from_numpy(X)
    for bad in [
        lambda T, x: x.masked_fill(T.ones(5, 6), 0.0),  # not a bool mask
        lambda T, x: x.masked_fill(x > 0, T.ones(2)),  # value not 0-d
    ]:
        with pytest.raises(RuntimeError):
            bad(pt, pt.from_numpy(X))
        with pytest.raises(ValueError):  # ShapeError
            bad(xjit, x)


def test_where_forms() -> None:
    check(
        lambda T, x: (
            T.where(x > 0, x, -x),
            T.where(x > 0, x, 0.0),
            T.where(x > 0, 1.0, x),
            T.where(x > 0, 1.0, 0.0),
            T.where(x > 0, 2, 3),
            x.where(x > 0, 0),
            x.where(x > 0, x * 2),
        ),
        X,
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.clamp(x, -0.5, 0.5),
        lambda T, x: T.clamp(x, min=0.1),
        lambda T, x: x.clamp(max=0.2),
        lambda T, x: T.clip(x, -1, 1),
        lambda T, x: x.clamp_min(0.0),
        lambda T, x: x.clamp_max(0.0),
        lambda T, x: T.sign(x),
        lambda T, x: T.nn.functional.silu(x),
        lambda T, x: T.nn.functional.leaky_relu(x, 0.2),
        lambda T, x: T.nn.functional.elu(x),
        lambda T, x: T.nn.functional.elu(x, alpha=0.5),
        lambda T, x: T.nn.functional.hardtanh(x, -0.3, 0.4),
        lambda T, x: T.nn.functional.relu6(x * 5),
        lambda T, x: T.nn.functional.softplus(x * 30),
        lambda T, x: T.nn.functional.softplus(x, beta=2.0),
        lambda T, x: T.nn.functional.mish(x),
        lambda T, x: T.nn.functional.log_softmax(x, dim=1),
    ],
    ids=lambda f: "",
)
def test_elementwise_model_ops(fn) -> None:
    check(fn, X * 3)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x.var(),
        lambda T, x: x.std(),
        lambda T, x: x.var(1),
        lambda T, x: x.std(0, keepdim=True),
        lambda T, x: x.var(1, unbiased=False),
        lambda T, x: T.var(x, dim=1, correction=0),
        lambda T, x: T.std(x, dim=(0, 1), correction=2, keepdim=True),
        lambda T, x: x.flip(0),
        lambda T, x: T.flip(x, [0, 1]),
        lambda T, x: T.roll(x, 2, 1),
        lambda T, x: T.roll(x, -3),
        lambda T, x: T.roll(x, (1, 2), (0, 1)),
        lambda T, x: x.repeat(2, 3),
        lambda T, x: x.repeat(2, 1, 2),
        lambda T, x: T.cumsum(x, 1),
        lambda T, x: x.cumsum(dim=0),
    ],
    ids=lambda f: "",
)
def test_reductions_and_rearrangements(fn) -> None:
    check(fn, X)


def test_cumsum_int_is_int64() -> None:
    check(lambda T, x: T.cumsum(x, 0), np.arange(5, dtype=np.int32))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_eager_and_traced(name: str) -> None:
    check(lambda T, x: getattr(T, name)(x * 3), X)  # more cases: tests/api/test_api_ops2.py


class _ScriptSplit(xjit.nn.Module):
    def forward(self, x):
        a, b = xjit.split(x, 3, 1)
        return a + b


class _ScriptUnbind(xjit.nn.Module):
    def forward(self, x):
        a, b = x.unbind(0)
        return a + b


@pytest.mark.parametrize("cls", [_ScriptSplit, _ScriptUnbind])
def test_list_results_script_and_trace_like_eager(cls) -> None:
    # scripted as a compile-time list of slices (tests/conformance/test_script_tensor_lists.py)
    x = xjit.randn(2, 6)
    np.testing.assert_allclose(xjit.jit.script(cls())(x).numpy(), cls()(x).numpy())
    np.testing.assert_allclose(xjit.jit.trace(cls(), (x,))(x).numpy(), cls()(x).numpy())


def test_scripted_ops_through_the_registry() -> None:
    """Registry entries need nothing else to be scripted: compare with TorchScript itself."""
    import torch as pt

    a = rand(4, 4)
    m = xjit.jit.script(_ScriptedOps())
    want = pt.jit.script(_TorchScriptedOps())(pt.from_numpy(a))
    got = m(xjit.from_numpy(a))
    from torch_oracle import assert_same

    assert_same(got, want)


class _ScriptedOps(xjit.nn.Module):
    def forward(self, x):
        y = xjit.tril(x, -1) + xjit.triu(x, 1).masked_fill(x > 0.5, -1e4)
        z = xjit.where(x > 0, 1.0, 0.0) + xjit.clamp(x, -0.5, 0.5) + x.var(1, keepdim=True)
        w = xjit.nn.functional.silu(x) + xjit.nn.functional.leaky_relu(x, 0.1)
        return y, z, w + xjit.roll(x, 1, 0) + x.flip([1]) + x.cumsum(1)


def _torch_scripted_ops():
    import torch as pt

    class M(pt.nn.Module):
        def forward(self, x):
            y = pt.tril(x, -1) + pt.triu(x, 1).masked_fill(x > 0.5, -1e4)
            z = pt.where(x > 0, 1.0, 0.0) + pt.clamp(x, -0.5, 0.5) + x.var(1, keepdim=True)
            w = pt.nn.functional.silu(x) + pt.nn.functional.leaky_relu(x, 0.1)
            return y, z, w + pt.roll(x, 1, 0) + x.flip([1]) + x.cumsum(1)

    return M


def _TorchScriptedOps():  # noqa: N802
    return _torch_scripted_ops()()


def _activations(T):
    nn = T.nn

    class Acts(nn.Module):
        def __init__(self):
            super().__init__()
            self.acts = nn.Sequential(
                nn.ELU(0.5),
                nn.Hardtanh(-0.5, 0.7),
                nn.Softplus(2.0),
                nn.Mish(),
                nn.SiLU(),
                nn.LeakyReLU(0.2),
                nn.ReLU6(),
                nn.LogSoftmax(dim=1),
            )

        def forward(self, x):
            z = T.zeros(2, 3, dtype=T.float64)
            return (
                self.acts(x),
                x.repeat([2, 1]),
                x.to(T.float64) + z[0].sum(),
                T.nn.functional.relu6(x * 4),
            )

    return Acts


def test_activation_modules_scripted_and_traced() -> None:
    import torch as pt
    from torch_oracle import assert_same

    a = rand(2, 3) * 3
    want = _activations(pt)()(pt.from_numpy(a))
    m = _activations(xjit)()
    assert repr(m) == repr(_activations(pt)())
    x = xjit.from_numpy(a)
    assert_same(m(x), want, "eager")
    assert_same(xjit.jit.trace(m, (x,))(x), want, "traced")
    assert_same(xjit.jit.script(m)(x), want, "scripted")


class _ScriptedCausalMask(xjit.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("bias", xjit.tril(xjit.ones(4, 4)).view(1, 4, 4))

    def forward(self, att):
        att = att.masked_fill(self.bias == 0, float("-inf"))
        return xjit.softmax(att, dim=-1)


def test_scripted_causal_mask_with_minus_inf() -> None:
    import torch as pt
    from torch_oracle import assert_same

    a = rand(2, 4, 4)
    mask = pt.tril(pt.ones(4, 4)).view(1, 4, 4)
    want = pt.softmax(pt.from_numpy(a).masked_fill(mask == 0, float("-inf")), dim=-1)
    assert_same(xjit.jit.script(_ScriptedCausalMask())(xjit.from_numpy(a)), want)
