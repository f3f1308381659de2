"""Issue 12's remaining model ops, each against real PyTorch 2.13: `einsum`, `sort`/`argsort`/
`topk`, `norm`/`linalg.vector_norm`/`F.normalize`, `F.one_hot`, `multinomial` (distribution
properties), compiled float `fmod`/`remainder`/`//`, the BatchNorm rank check, and
`load_safetensors` (files written here from the format's spec, and malformed ones). Eager,
traced (compiled to loops, run by the numpy backend) and scripted (torch's own TorchScript as
the reference) where TorchScript scripts the call."""

from __future__ import annotations

import json
import re
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as pt
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_oracle import assert_same, check, rand

import xjit
from xjit._safetensors import SafetensorsError
from xjit.backends.numpy.diagnostics import XjitPerformanceWarning


def _traced(fn: Any, *arrays: np.ndarray) -> Any:
    xs = tuple(xjit.from_numpy(a.copy()) for a in arrays)
    return xjit.jit.trace(lambda *a: fn(xjit, *a), xs)


def _vectorized(fn: Any, *arrays: np.ndarray) -> None:
    """Compiling and running `fn` warns of no scalar Python loop."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)
        _traced(fn, *arrays)(*[xjit.from_numpy(a.copy()) for a in arrays])


# -- einsum ------------------------------------------------------------------------------------

EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i", [(5,), (5,)]),
    ("bi,bi->b", [(3, 4), (3, 4)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),  # implicit output, broadcast `...`
    ("b...d,b...d->b...", [(2, 3, 4), (2, 3, 4)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ab,bc,ca", [(2, 3), (3, 4), (4, 2)]),
    ("ij,ij->ij", [(3, 4), (1, 4)]),  # a size-1 label broadcasts, as torch
    ("Ab,bA", [(2, 3), (3, 2)]),  # implicit order: upper case first, as torch
    ("ba", [(2, 3)]),
    (" i j , j k -> i k ", [(3, 4), (4, 5)]),
]
DIAGONAL = [("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->j", [(2, 2, 3)])]


def _operands(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    return [rand(*s, seed=i) for i, s in enumerate(shapes)]


@pytest.mark.parametrize(("eq", "shapes"), EINSUM + DIAGONAL)
def test_einsum(eq: str, shapes: list[tuple[int, ...]]) -> None:
    ops = _operands(shapes)
    check(lambda T, *xs: T.einsum(eq, *xs), *ops)
    check(lambda T, *xs: T.einsum(eq, list(xs)), *ops, trace=False)  # the list form


@pytest.mark.parametrize(("eq", "shapes"), EINSUM)
def test_einsum_compiles_to_array_calls(eq: str, shapes: list[tuple[int, ...]]) -> None:
    """Each contraction is one np.matmul/np.dot/np.einsum call: no scalar loop (only a
    diagonal, a label repeated in one operand, runs as loops, with a performance warning)."""
    _vectorized(lambda T, *xs: T.einsum(eq, *xs), *_operands(shapes))


@pytest.mark.parametrize(
    ("eq", "shapes"),
    [
        ("ij,jk->ik", [(3, 4), (5, 6)]),  # sizes disagree
        ("ij,jk->ik", [(3, 4)]),  # too few operands
        ("ij->ik", [(3, 4)]),  # output label unused
        ("ijk->ij", [(3, 4)]),  # more labels than dims
        ("i1->i", [(3, 4)]),  # not a letter
        ("ij->ii", [(3, 3)]),  # output label twice
    ],
)
def test_einsum_rejects_what_torch_rejects(eq: str, shapes: list[tuple[int, ...]]) -> None:
    ops = _operands(shapes)
    with pytest.raises(RuntimeError):
        pt.einsum(eq, *[pt.from_numpy(a) for a in ops])
    with pytest.raises(ValueError, match="einsum"):
        xjit.einsum(eq, *[xjit.from_numpy(a) for a in ops])


def test_einsum_mixed_dtypes_rejected() -> None:
    with pytest.raises(ValueError, match="same dtype"):
        xjit.einsum("i,i", xjit.ones(3), xjit.ones(3, dtype=xjit.float64))


# -- sort / argsort / topk ------------------------------------------------------------------------

# Ties, NaN, infinities and signed zeros: where sorting rules differ.
TIES = np.array(
    [[3.0, np.nan, 1.0, 1.0, -np.inf, 0.0, -0.0, 2.0, np.nan, 1.0],
     [0.5, 0.5, 0.5, -1.0, np.inf, -0.0, 0.0, 7.0, -2.0, 0.5]],
    dtype=np.float32,
)  # fmt: skip
DISTINCT = rand(4, 6, 5)  # tie-free (continuous random values)
INTS = np.array([[4, -2, 7, 4, 0, -2, 9], [1, 1, 1, 0, 0, 5, -3]], dtype=np.int64)


def _sort_stable(T: Any, x: Any, dim: int, desc: bool) -> Any:
    # torch documents the order of ties only for stable=True (xjit is always stable)
    return T.sort(x, dim=dim, descending=desc, stable=True)


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("data", [TIES, INTS, TIES.astype(np.float64), INTS > 2])
def test_sort_stable_with_ties_nan_and_signed_zeros(data: np.ndarray, desc: bool) -> None:
    for dim in (1, 0, -1):
        check(lambda T, x, d=dim: tuple(_sort_stable(T, x, d, desc)), data)
        check(lambda T, x, d=dim: T.argsort(x, dim=d, descending=desc, stable=True), data)
    got = xjit.sort(xjit.from_numpy(TIES), stable=True, descending=desc).values.numpy()
    want = pt.sort(pt.from_numpy(TIES), stable=True, descending=desc).values.numpy()
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # -0.0 stays first


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: tuple(T.sort(x)),
        lambda T, x: tuple(x.sort(0, True)),
        lambda T, x: tuple(T.sort(x, 1)),
        lambda T, x: T.argsort(x),
        lambda T, x: x.argsort(dim=0, descending=True),
        lambda T, x: tuple(T.topk(x, 3)),
        lambda T, x: tuple(x.topk(2, dim=0, largest=False)),
        lambda T, x: tuple(T.topk(x, 1, 1)),
        lambda T, x: tuple(T.topk(x, 5)),  # all of them
        lambda T, x: tuple(T.topk(x, 0)),
    ],
)
def test_sort_topk_tie_free(fn: Any) -> None:
    check(fn, DISTINCT)
    check(fn, DISTINCT.astype(np.float64))


def test_sort_topk_named_results_unpack_like_torch() -> None:
    x = xjit.from_numpy(DISTINCT)
    for r in (xjit.sort(x), x.topk(2), xjit.topk(x, 2, largest=False)):
        values, indices = r
        assert values is r.values and indices is r.indices and r[0] is r.values
        assert indices.dtype == xjit.int64
    np.testing.assert_array_equal(
        x.topk(2).indices.numpy(), pt.from_numpy(DISTINCT).topk(2).indices.numpy()
    )


def test_topk_unsorted_holds_the_same_elements() -> None:
    got = xjit.topk(xjit.from_numpy(DISTINCT), 3, sorted=False)
    want = pt.topk(pt.from_numpy(DISTINCT), 3, sorted=False)
    np.testing.assert_array_equal(np.sort(got.values.numpy()), np.sort(want.values.numpy()))
    np.testing.assert_array_equal(np.sort(got.indices.numpy()), np.sort(want.indices.numpy()))


def test_topk_k_out_of_range() -> None:
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        pt.topk(pt.from_numpy(DISTINCT), 6)
    with pytest.raises(ValueError, match="selected index k out of range"):
        xjit.topk(xjit.from_numpy(DISTINCT), 6)


def test_sort_0d() -> None:
    check(lambda T, x: tuple(T.sort(x)), np.array(2.5, np.float32))


def test_compiled_sort_refuses_long_dims() -> None:
    x = xjit.zeros(5000)
    with pytest.raises(Exception, match="compiled sorting compares every pair"):
        xjit.jit.trace(lambda a: xjit.sort(a).values, (x,))(x)


# -- norms -----------------------------------------------------------------------------------------

X = rand(3, 4, 5)
NORMS = [
    lambda T, x: T.norm(x),
    lambda T, x: T.norm(x, dim=1),
    lambda T, x: T.norm(x, p=1, dim=0, keepdim=True),
    lambda T, x: T.norm(x, float("inf"), dim=2),
    lambda T, x: T.norm(x, p="fro", dim=(0, 1)),
    lambda T, x: T.norm(x, 3, dim=[1, 2]),
    lambda T, x: x.norm(),
    lambda T, x: x.norm(2, 1),
    lambda T, x: x.norm(p=1, dim=-1, keepdim=True),
    lambda T, x: x.norm(float("-inf"), 0),
    lambda T, x: x.norm(dim=1),  # torch's Tensor.norm: p='fro' by default
    lambda T, x: x.norm("fro", dim=(1, 2), keepdim=True),
    lambda T, x: T.linalg.vector_norm(x),
    lambda T, x: T.linalg.vector_norm(x, 1, dim=(0, 2)),
    lambda T, x: T.linalg.vector_norm(x, 0, dim=-1),
    lambda T, x: T.linalg.vector_norm(x, 0.5, dim=1, keepdim=True),
    lambda T, x: T.linalg.vector_norm(x, float("inf")),
    lambda T, x: T.nn.functional.normalize(x),
    lambda T, x: T.nn.functional.normalize(x, p=1.0, dim=-1),
    lambda T, x: T.nn.functional.normalize(x, 2, 0, 1e-3),
]


@pytest.mark.parametrize("fn", NORMS)
def test_norms(fn: Any) -> None:
    check(fn, X)
    check(fn, X.astype(np.float64))


def test_normalize_zero_rows_use_eps() -> None:
    z = np.zeros((2, 3), np.float32)
    z[1] = [3.0, 0.0, -4.0]
    check(lambda T, x: T.nn.functional.normalize(x, dim=1), z)


def test_norm_rejects_integer_input() -> None:
    with pytest.raises(RuntimeError):
        pt.linalg.vector_norm(pt.ones(3, dtype=pt.int64))
    with pytest.raises(ValueError, match="Expected a floating point"):
        xjit.linalg.vector_norm(xjit.ones(3, dtype=xjit.int64))


# -- one_hot / multinomial -----------------------------------------------------------------------

IDX = np.array([[0, 3, 1], [2, 2, 0]], dtype=np.int64)


def test_one_hot() -> None:
    check(lambda T, i: T.nn.functional.one_hot(i, 5), IDX)
    check(lambda T, i: T.nn.functional.one_hot(i[0], num_classes=4), IDX)
    check(lambda T, i: T.nn.functional.one_hot(i), IDX, trace=False)  # class count from data


def test_one_hot_data_dependent_class_count_refused_when_traced() -> None:
    with pytest.raises(
        Exception, match=r"test_api_ops12.py:\d+: .*num_classes=-1.*pass num_classes"
    ):
        _traced(lambda T, i: T.nn.functional.one_hot(i), IDX)


@pytest.mark.parametrize(
    ("bad", "match"),
    [(np.array([0, 5]), "smaller than num_classes"), (np.array([-1, 2]), "non-negative")],
)
def test_one_hot_out_of_range_raises_eager_and_compiled(bad: np.ndarray, match: str) -> None:
    with pytest.raises(RuntimeError, match=match):
        pt.nn.functional.one_hot(pt.from_numpy(bad), 5)
    with pytest.raises(RuntimeError, match=match):
        xjit.nn.functional.one_hot(xjit.from_numpy(bad), 5)
    f = _traced(lambda T, i: T.nn.functional.one_hot(i, 5), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"class values must be in \[0, num_classes\)"):
        f(xjit.from_numpy(bad))


def test_one_hot_needs_int64() -> None:
    with pytest.raises(RuntimeError, match="LongTensor"):
        xjit.nn.functional.one_hot(xjit.from_numpy(IDX.astype(np.int32)), 5)


def test_multinomial_with_replacement_frequencies() -> None:
    p = np.array([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 2.0, 0.0]], np.float32)  # unnormalised row 2
    xjit.manual_seed(3)
    s = xjit.multinomial(xjit.from_numpy(p), 20000, replacement=True)
    assert s.shape == (2, 20000) and s.dtype == xjit.int64
    for row, probs in zip(s.numpy(), p / p.sum(1, keepdims=True), strict=True):
        freq = np.bincount(row, minlength=4) / row.size
        # binomial standard error at 20000 draws is < 0.0036: 5 sigma
        np.testing.assert_allclose(freq, probs, atol=0.018)
        assert freq[probs == 0].sum() == 0  # zero-probability classes never drawn


def test_multinomial_without_replacement() -> None:
    p = xjit.tensor([0.05, 0.0, 0.5, 0.25, 0.2])
    xjit.manual_seed(0)
    firsts = []
    for _ in range(3000):
        s = p.multinomial(4).numpy()
        assert len(set(s.tolist())) == 4 and 1 not in s  # distinct, never probability 0
        firsts.append(s[0])
    # the first draw is distributed as p
    np.testing.assert_allclose(np.bincount(firsts, minlength=5) / 3000, p.numpy(), atol=0.04)


def test_multinomial_zero_probabilities_come_last_without_replacement() -> None:
    # torch fills the samples past the nonzero categories with the zero-probability ones
    want = pt.multinomial(pt.tensor([0.5, 0.0, 0.5]), 3, False).numpy()
    got = xjit.multinomial(xjit.tensor([0.5, 0.0, 0.5]), 3, False).numpy()
    assert sorted(got[:2]) == sorted(want[:2]) == [0, 2] and got[2] == want[2] == 1


def test_multinomial_seeded_stream_repeats() -> None:
    p = xjit.tensor([0.2, 0.3, 0.5])
    xjit.manual_seed(11)
    a = xjit.multinomial(p, 50, True).numpy()
    xjit.manual_seed(11)
    np.testing.assert_array_equal(xjit.multinomial(p, 50, True).numpy(), a)


@pytest.mark.parametrize(
    ("probs", "n", "replacement", "match"),
    [
        ([0.5, -0.1, 0.6], 1, True, "element < 0"),
        ([0.5, float("nan")], 1, True, "nan"),
        ([0.0, 0.0], 1, True, "sum of probabilities"),
        ([0.5, 0.5], 3, False, "cannot sample n_sample > prob_dist"),
    ],
)
def test_multinomial_rejects_what_torch_rejects(
    probs: list[float], n: int, replacement: bool, match: str
) -> None:
    with pytest.raises(RuntimeError):
        pt.multinomial(pt.tensor(probs), n, replacement)
    with pytest.raises(RuntimeError, match=match):
        xjit.multinomial(xjit.tensor(probs), n, replacement)


def test_multinomial_refuses_to_compile() -> None:
    p = xjit.tensor([0.2, 0.8])
    with pytest.raises(Exception, match="multinomial cannot be compiled"):
        xjit.jit.trace(lambda x: xjit.multinomial(x, 1), (p,))(p)


# -- float remainders compiled ------------------------------------------------------------------

REMAINDERS = [
    lambda T, x, y: T.fmod(x, y),
    lambda T, x, y: T.remainder(x, y),
    lambda T, x, y: x % y,
    lambda T, x, y: x // y,
    lambda T, x, y: T.floor_divide(x, y),
    lambda T, x, y: T.div(x, y, rounding_mode="floor"),
]
_COMPILED: dict[tuple[int, str], Any] = {}


def _finite_or_special(width: int) -> Any:
    return st.one_of(
        st.floats(-1e6, 1e6, width=width),
        st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, float("inf"), float("-inf")]),
        st.floats(width=width),  # any value, huge quotients and NaN included
    )


@pytest.mark.parametrize("k", range(len(REMAINDERS)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=60, deadline=None, database=None)
@given(data=st.data())
def test_float_remainders_compiled_match_torch(k: int, dtype: Any, data: Any) -> None:
    """Compiled float fmod/remainder/floor division equal torch bit for bit (values, NaN
    positions, the sign of zeros) on hypothesis inputs, negatives included."""
    width = 32 if dtype == np.float32 else 64
    arrays = [
        data.draw(hnp.arrays(dtype, (6,), elements=_finite_or_special(width))) for _ in range(2)
    ]
    fn = REMAINDERS[k]
    key = (k, np.dtype(dtype).name)
    if key not in _COMPILED:  # compiled once per op and dtype, run on every example
        _COMPILED[key] = _traced(fn, *arrays)
    want = fn(pt, *[pt.from_numpy(a.copy()) for a in arrays]).numpy()
    got = _COMPILED[key](*[xjit.from_numpy(a.copy()) for a in arrays]).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    keep = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[keep]), np.signbit(want[keep]))


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x, i: i % 2.5,  # int tensor, float scalar: a float result
        lambda T, x, i: i // -1.5,
        lambda T, x, i: x % i,  # float % int tensor promotes to float
        lambda T, x, i: T.fmod(x, i),
        lambda T, x, i: 7.0 % x,
    ],
)
def test_mixed_int_float_remainders_compiled(fn: Any) -> None:
    x = np.array([5.5, -5.5, 0.0, -0.0, 3.0, -7.25], np.float32)
    i = np.array([2, -3, 4, -1, -5, 3], np.int64)
    check(fn, x, i)


class _ScriptedRem(xjit.nn.Module):
    def forward(self, x, y):
        return x % y, xjit.fmod(x, y), x // y, xjit.remainder(x, -0.75)


def test_float_remainders_scripted() -> None:
    class M(pt.nn.Module):
        def forward(self, x, y):
            return x % y, pt.fmod(x, y), x // y, pt.remainder(x, -0.75)

    x = np.array([5.5, -5.5, 0.0, -0.0, 3.0, -7.25], np.float32)
    y = np.array([2.0, 2.0, -3.0, 1.5, -0.5, 0.75], np.float32)
    want = pt.jit.script(M())(pt.from_numpy(x), pt.from_numpy(y))
    got = xjit.jit.script(_ScriptedRem())(xjit.from_numpy(x), xjit.from_numpy(y))
    assert_same(list(got), list(want), "scripted")


# -- scripted: everything above that TorchScript scripts ------------------------------------------


def _model(T: Any) -> Any:
    F = T.nn.functional

    class M(T.nn.Module):
        def forward(self, x, i):
            v, idx = T.topk(x, 2)
            s, si = T.sort(x, 1, True)
            a = T.argsort(x, dim=1)
            n1 = T.norm(x, dim=1)
            n2 = x.norm(2, 1, True)
            n3 = F.normalize(x, p=2.0, dim=1)
            n4 = T.linalg.vector_norm(x, 1, dim=[1])
            o = F.one_hot(i, 5)
            z = T.einsum("ij,kj->ik", [x, x])
            z2 = T.einsum("ij,kj->ik", x, x)
            return v, idx, s, si, a, n1, n2, n3, n4, o, z, z2

    return M()


def test_scripted_against_torchscript() -> None:
    x, i = rand(3, 4), np.array([0, 4, 2])
    want = pt.jit.script(_model(pt))(pt.from_numpy(x), pt.from_numpy(i))
    got = xjit.jit.script(_model(xjit))(xjit.from_numpy(x), xjit.from_numpy(i))
    assert_same(list(got), list(want), "scripted")


# -- BatchNorm input rank ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "shape"),
    [("BatchNorm2d", (2, 3, 4)), ("BatchNorm2d", (2, 3, 4, 4, 1)), ("BatchNorm1d", (2, 3, 4, 5)),
     ("BatchNorm1d", (3,))],
)  # fmt: skip
def test_batchnorm_checks_input_rank_like_torch(cls: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError) as want:
        getattr(pt.nn, cls)(3).eval()(pt.zeros(*shape))
    m = getattr(xjit.nn, cls)(3).eval()
    with pytest.raises(ValueError, match=f"^{re.escape(str(want.value))}$"):
        m(xjit.zeros(*shape))
    with pytest.raises(ValueError, match=f"^{re.escape(str(want.value))}$"):
        xjit.jit.trace(m, (xjit.zeros(*shape),))


@pytest.mark.parametrize(("cls", "shape"), [("BatchNorm2d", (2, 3, 4, 4)), ("BatchNorm1d", (2, 3))])
def test_batchnorm_right_rank_still_runs_in_every_mode(cls: str, shape: tuple[int, ...]) -> None:
    x = rand(*shape)
    tm, xm = getattr(pt.nn, cls)(3).eval(), getattr(xjit.nn, cls)(3).eval()
    xm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    want = tm(pt.from_numpy(x))
    assert_same(xm(xjit.from_numpy(x)), want, "eager")
    assert_same(xjit.jit.trace(xm, (xjit.from_numpy(x),))(xjit.from_numpy(x)), want, "traced")
    assert_same(xjit.jit.script(xm)(xjit.from_numpy(x)), want, "scripted")


# -- safetensors ---------------------------------------------------------------------------------

_ST_DTYPES = {
    np.dtype(np.float64): "F64",
    np.dtype(np.float32): "F32",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
    np.dtype(np.bool_): "BOOL",
}


def _write_safetensors(
    path: Path, tensors: dict[str, Any], metadata: dict[str, str] | None = None
) -> None:
    """A file per the format's spec, written independently of xjit's reader: tensors are
    numpy arrays, or (dtype name, raw little-endian bytes, shape) for 16-bit floats."""
    header: dict[str, Any] = {}
    blobs, offset = [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        if isinstance(t, tuple):
            dtype, raw, shape = t
        else:
            dtype, raw, shape = (
                _ST_DTYPES[t.dtype],
                t.astype(t.dtype.newbyteorder("<")).tobytes(),
                list(t.shape),
            )
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the spec allows trailing spaces (alignment)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_safetensors_round_trip_every_dtype(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "w64": rng.standard_normal((2, 3)),
        "w32": rng.standard_normal((4,)).astype(np.float32),
        "scalar": np.array(1.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
        "i64": np.array([-(2**40), 3], np.int64),
        "i32": np.arange(6, dtype=np.int32).reshape(2, 3),
        "mask": np.array([True, False, True]),
    }
    half = pt.tensor([1.0, -2.5, 65504.0, 1e-7, float("inf")])
    f16, bf16 = half.to(pt.float16), half.to(pt.bfloat16)
    tensors: dict[str, Any] = dict(arrays)
    tensors["h"] = ("F16", f16.view(pt.int16).numpy().astype("<i2").tobytes(), [5])
    tensors["bh"] = ("BF16", bf16.view(pt.int16).numpy().astype("<i2").tobytes(), [5])
    _write_safetensors(tmp_path / "w.safetensors", tensors, {"format": "pt"})
    got = xjit.load_safetensors(tmp_path / "w.safetensors")
    assert list(got) == list(tensors)
    for k, a in arrays.items():
        assert got[k].numpy().dtype == a.dtype and got[k].numpy().shape == a.shape, k
        np.testing.assert_array_equal(got[k].numpy(), a)
    # 16-bit floats widen exactly to float32 (torch's own conversion is the oracle)
    np.testing.assert_array_equal(got["h"].numpy(), f16.float().numpy())
    np.testing.assert_array_equal(got["bh"].numpy(), bf16.float().numpy())
    got["w32"].numpy()[0] = 9.0  # writable, not a view of the file's bytes


def test_safetensors_weights_load_into_a_module(tmp_path: Path) -> None:
    pt.manual_seed(0)
    tm = pt.nn.Sequential(pt.nn.Linear(4, 8), pt.nn.ReLU(), pt.nn.Linear(8, 3)).eval()
    _write_safetensors(
        tmp_path / "m.safetensors", {k: v.numpy() for k, v in tm.state_dict().items()}
    )
    xm = xjit.nn.Sequential(xjit.nn.Linear(4, 8), xjit.nn.ReLU(), xjit.nn.Linear(8, 3))
    xm.load_state_dict(xjit.load_safetensors(tmp_path / "m.safetensors"))
    x = rand(5, 4)
    assert_same(xm(xjit.from_numpy(x)), tm(pt.from_numpy(x)), "loaded weights")


def _valid_header() -> dict[str, Any]:
    return {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}


def _raw(header: Any, data: bytes = b"\0" * 8, length: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


MALFORMED = [
    (b"\1\0\0", "file too short"),
    (_raw(_valid_header(), length=10**9), "exceeds the limit"),
    (_raw(_valid_header(), length=4000), "runs past the end of the file"),
    (_raw(b"{not json"), "not UTF-8 JSON"),
    (_raw(b"\xff\xfe"), "not UTF-8 JSON"),
    (_raw([1, 2]), "not a JSON object"),
    (_raw(b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {}}'), "duplicate"),
    (_raw({"a": {"dtype": "F32", "shape": [2]}}), "expected exactly the keys"),
    (_raw({"a": {**_valid_header()["a"], "extra": 1}}), "expected exactly the keys"),
    (_raw({"a": {"dtype": "I8", "shape": [8], "data_offsets": [0, 8]}}), "I8 is not supported"),
    (_raw({"a": {"dtype": 3, "shape": [2], "data_offsets": [0, 8]}}), "not a string"),
    (_raw({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}), "not a list of sizes"),
    (_raw({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}), "list of sizes"),
    (_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}), "is not [begin, end]"),
    (_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}), "is not [begin, end]"),
    (_raw({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}), "needs 12"),
    (_raw({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}), "cover 16 bytes"),
    (_raw(_valid_header(), b"\0" * 12), "cover 8 bytes of data but the file holds 12"),
    (
        _raw(
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
            }
        ),
        "overlapping",
    ),
    (_raw({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}), "leaving a hole"),
    (_raw({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\0\2"), "0 and 1"),
    (_raw({**_valid_header(), "__metadata__": {"k": 1}}), "__metadata__"),
]


@pytest.mark.parametrize(("content", "match"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_safetensors_malformed_files_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(SafetensorsError, match=re.escape(match)) as err:
        xjit.load_safetensors(path)
    assert str(path) in str(err.value)
