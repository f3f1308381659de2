"""Automatic dynamic shapes (docs/shapes.md): variants keyed by input signature, `?` dims for the
dims that changed, size 0/1 kept static, results against eager, errors naming the argument."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

import xjit as torch
from xjit.jit.compiled import ArgumentError


def close(a, b) -> None:
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b, strict=True):
            close(x, y)
        return
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def patterns(f) -> list:
    return [tuple(d for d, _ in v.pattern) for v in f.variants]


def chain(x, y):
    return torch.tanh(x * 2.0 + y).sum(1, keepdim=True) - torch.relu(y).sum()


def test_traced_generalises_changed_dims_once() -> None:
    tf = torch.jit.trace(chain, (torch.randn(3, 4), torch.randn(3, 4)))
    for n in (5, 9, 2, 3, 17):
        x, y = torch.randn(n, 4), torch.randn(n, 4)
        close(tf(x, y), chain(x, y))
    assert patterns(tf) == [((3, 4), (3, 4)), ((None, 4), (None, 4))]
    x, y = torch.randn(6, 7), torch.randn(6, 7)  # now the other dim changes too
    close(tf(x, y), chain(x, y))
    assert patterns(tf)[-1] == ((None, None), (None, None))
    n = len(tf.variants)
    for shp in ((4, 5), (11, 2), (3, 4)):
        x, y = torch.randn(*shp), torch.randn(*shp)
        close(tf(x, y), chain(x, y))
    assert len(tf.variants) == n  # no recompile


def test_size_one_and_zero_stay_static() -> None:
    tf = torch.jit.trace(chain, (torch.randn(3, 4), torch.randn(3, 4)))
    for n in (1, 5, 1, 7):
        x, y = torch.randn(n, 4), torch.randn(n, 4)
        close(tf(x, y), chain(x, y))
    pats = patterns(tf)
    assert ((1, 4), (1, 4)) in pats and ((None, 4), (None, 4)) in pats
    assert len(pats) == 3
    # a `?` variant never runs on size 1: broadcasting a 1 is a different program
    tb = torch.jit.trace(lambda a, b: a + b, (torch.randn(3, 4), torch.randn(3, 4)))
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    close(tb(a, b), a + b)
    a, b = torch.randn(1, 4), torch.randn(6, 4)
    close(tb(a, b), a + b)
    assert patterns(tb)[-1] == ((1, 4), (None, 4))  # the 1 stays static, 3 -> 6 does not
    e = torch.randn(0, 4)
    close(tb(e, e), e + e)
    assert patterns(tb)[-1] == ((0, 4), (0, 4))


def test_batch_dim_of_a_module_with_parameters() -> None:
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    t = torch.jit.trace(lin, (torch.randn(2, 4),))
    for n in (8, 5, 2, 64):
        x = torch.randn(n, 4)
        close(t(x), lin(x))
    assert patterns(t.forward) == [((2, 4),), ((None, 4),)]


def test_errors_name_the_argument() -> None:
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    t = torch.jit.trace(lin, (torch.randn(2, 4),))
    with pytest.raises(ArgumentError, match=r"argument 'input' \(position 0\) has rank 3"):
        t(torch.randn(2, 4, 1))
    with pytest.raises(ArgumentError, match=r"argument 'input' \(position 0\) has dtype float64"):
        t(torch.randn(2, 4, dtype=torch.float64))
    with pytest.raises(
        ArgumentError,
        match=r"argument 'input' \(position 0\) has shape \[2, 5\], "
        r"expected \[2, 4\].*linear",
    ):
        t(torch.randn(2, 5))


def test_size_read_by_the_trace_follows_the_input() -> None:
    def g(x):
        return x + torch.zeros(x.size(0), 4)  # x.size(0) is traced (aten.size.int), not frozen

    tg = torch.jit.trace(g, (torch.randn(3, 4),))
    assert "torch.aten.size.int" in tg.graph
    for n in (3, 5, 7):
        x = torch.randn(n, 4)
        close(tg(x), g(x))
    assert not tg.guards


def test_a_lowering_without_dynamic_support_falls_back_to_exact_variants() -> None:
    # argmax over a `?` dim needs a run-time element count, which its decomposition does not
    # emit yet: the generalised compile fails and each new shape gets an exact variant.
    def h(x):
        return x.argmax(0) * 2

    th = torch.jit.trace(h, (torch.randn(3, 4),))
    for shp in ((5, 4), (2, 4), (5, 4)):
        x = torch.randn(*shp)
        close(th(x), h(x))
    assert patterns(th) == [((3, 4),), ((5, 4),), ((2, 4),)]
    assert "unknown size" in th.dynamic_fallbacks[0][1]


def test_scripted_generalises_once_and_keeps_scalars_exact() -> None:
    @torch.jit.script
    def f(x, k: int):
        y = x
        for _ in range(k):
            y = torch.tanh(y) + x
        return y.sum(0)

    def ref(x, k):
        y = x
        for _ in range(k):
            y = torch.tanh(y) + x
        return y.sum(0)

    for n, m in ((3, 4), (5, 4), (8, 4), (1, 4), (6, 7), (9, 2)):
        x = torch.randn(n, m)
        close(f(x, 2), ref(x, 2))
    pats = [tuple(d for d, _ in cf.pattern) for cf in f.variants]
    assert pats == [((3, 4),), ((None, 4),), ((1, 4),), ((None, None),)]
    close(f(torch.ones(5, 4), 3), ref(torch.ones(5, 4), 3))  # another int value: its own variant
    assert len(f.variants) == 5


def _tutorial():
    spec = importlib.util.spec_from_file_location(
        "intro_tutorial", Path(__file__).parent.parent / "examples" / "intro_tutorial.py"
    )
    mod = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_tutorial_wraprnn_any_sequence_length_one_generalised_compile() -> None:
    tut = _tutorial()
    traced = tut.traced
    before = len(traced.forward.variants)
    for n in (4, 17, 2, 10, 33):
        xs = torch.randn(n, 3, 4)
        close(traced(xs), tut.eager_wrap(xs))
    assert len(traced.forward.variants) == before + 1
    assert patterns(traced.forward)[-1] == ((None, 3, 4),)
    assert "!torch.vtensor<[?,3,4],f32>" in str(traced.forward.variants[-1].torch_ir)
    xs = torch.randn(1, 3, 4)  # T = 1: a separate exact variant
    close(traced(xs), tut.eager_wrap(xs))
    assert patterns(traced.forward)[-1] == ((1, 3, 4),)
