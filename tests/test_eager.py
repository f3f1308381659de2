"""The eager, torch-like API (`import xjit as torch`), checked against plain numpy and hand-worked
values: creation and dtypes, printing, operators with broadcasting and torch's type promotion,
functions and methods, errors, and that eager use never loads the compiler (xDSL)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import xjit as torch
import xjit.nn.functional as F

F32 = {"rtol": 1e-6, "atol": 1e-6}


def arr(t: torch.Tensor) -> np.ndarray:
    assert isinstance(t, torch.Tensor)
    return t.numpy()


# -- creation and dtypes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.rand(2, 3),
        lambda: torch.randn(2, 3),
        lambda: torch.zeros(2, 3),
        lambda: torch.ones(2, 3),
        lambda: torch.rand((2, 3)),
        lambda: torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        lambda: torch.tensor([[1, 2.5, 3], [4, 5, 6]]),  # one float makes it floating
    ],
)
def test_float_creation_defaults_to_float32(make):
    t = make()
    assert t.dtype == torch.float32 == torch.float
    assert arr(t).dtype == np.float32
    assert t.shape == (2, 3)


def test_tensor_infers_int64_and_bool():
    i = torch.tensor([1, 2, 3])
    assert i.dtype == torch.int64 == torch.long
    assert arr(i).dtype == np.int64
    b = torch.tensor([True, False])
    assert b.dtype == torch.bool
    assert arr(b).dtype == np.bool_
    assert torch.tensor(2.5).dtype == torch.float32 and torch.tensor(2.5).dim() == 0
    assert torch.tensor(7).dtype == torch.int64
    assert torch.tensor([]).dtype == torch.float32


def test_tensor_explicit_dtype():
    t = torch.tensor([1, 2], dtype=torch.float64)
    assert t.dtype == torch.float64 and arr(t).dtype == np.float64
    np.testing.assert_array_equal(arr(t), [1.0, 2.0])
    assert torch.zeros(2, dtype=torch.int32).dtype == torch.int32
    assert torch.rand(3, dtype=torch.float64).dtype == torch.float64


def test_creation_values():
    np.testing.assert_array_equal(arr(torch.zeros(2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(arr(torch.ones(4)), np.ones(4))
    r = arr(torch.rand(1000))
    assert r.min() >= 0.0 and r.max() < 1.0
    n = arr(torch.randn(4000))
    assert abs(n.mean()) < 0.15 and 0.85 < n.std() < 1.15


def test_creation_rejects_bad_sizes():
    with pytest.raises(TypeError):
        torch.zeros(2, -1)
    with pytest.raises(TypeError):
        torch.ones(2.0)


def test_manual_seed_makes_rand_reproducible():
    torch.manual_seed(123)
    a, b = arr(torch.rand(5)), arr(torch.randn(2, 2))
    torch.manual_seed(123)
    np.testing.assert_array_equal(arr(torch.rand(5)), a)
    np.testing.assert_array_equal(arr(torch.randn(2, 2)), b)
    torch.manual_seed(124)
    assert not np.array_equal(arr(torch.rand(5)), a)


def test_tensor_copies_its_data():
    src = np.array([1.0, 2.0], dtype=np.float32)
    t = torch.tensor(src)
    src[0] = 100.0
    assert arr(t)[0] == 1.0
    u = torch.tensor(t)
    arr(t)[1] = 50.0
    assert arr(u)[1] == 2.0
    lst = [1.0, 2.0]
    v = torch.tensor(lst)
    lst[0] = 9.0
    assert arr(v)[0] == 1.0


def test_tensor_keeps_numpy_dtype():
    # torch.tensor(np.float64 array) stays float64; only Python floats default to float32.
    assert torch.tensor(np.array([1.0, 2.0])).dtype == torch.float64
    assert torch.tensor(np.array([1, 2], dtype=np.int32)).dtype == torch.int32


def test_from_numpy_shares_memory():
    a = np.zeros((2, 2), dtype=np.float32)
    t = torch.from_numpy(a)
    a[0, 1] = 5.0
    assert arr(t)[0, 1] == 5.0
    t.numpy()[1, 0] = 7.0
    assert a[1, 0] == 7.0
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    with pytest.raises(TypeError):
        torch.from_numpy([1.0, 2.0])


def test_unsupported_dtype_rejected():
    with pytest.raises(TypeError, match="unsupported dtype"):
        torch.from_numpy(np.zeros(2, dtype=np.complex64))
    with pytest.raises(TypeError, match="unsupported dtype"):
        torch.tensor(np.zeros(2, dtype=np.uint8))


# -- inspection ---------------------------------------------------------------------------------


def test_shape_size_dim():
    t = torch.rand(3, 4)
    assert t.shape == (3, 4)
    assert repr(t.shape) == "xjit.Size([3, 4])"
    assert str(t.size()) == "xjit.Size([3, 4])"
    assert isinstance(t.shape, tuple) and list(t.shape) == [3, 4]
    assert t.size(0) == 3 and t.size(1) == 4
    assert t.size(-1) == 4 and t.size(-2) == 3
    assert t.dim() == 2 and t.ndim == 2
    assert t.numel() == 12
    assert len(t) == 3
    assert repr(torch.tensor(1.0).shape) == "xjit.Size([])"
    with pytest.raises((IndexError, ValueError)):
        t.size(2)
    with pytest.raises((IndexError, ValueError)):
        t.size(-3)
    with pytest.raises(TypeError):
        len(torch.tensor(1.0))


def test_item_tolist_bool_float():
    assert torch.tensor([[2.5]]).item() == 2.5
    assert torch.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(torch.tensor(1.5)) == 1.5 and int(torch.tensor(3)) == 3
    assert bool(torch.tensor([1])) and not bool(torch.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(torch.tensor([1, 2]))


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: torch.tensor([[0.1, 0.2]]), "tensor([[0.1000, 0.2000]])"),
        (
            lambda: torch.tensor([[0.1, 0.2], [0.3, 0.4]]),
            "tensor([[0.1000, 0.2000],\n        [0.3000, 0.4000]])",
        ),
        (lambda: torch.tensor([-0.1, 0.2]), "tensor([-0.1000,  0.2000])"),
        (lambda: torch.tensor(0.5), "tensor(0.5000)"),
        (lambda: torch.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
        (lambda: torch.tensor(3), "tensor(3)"),
        (lambda: torch.tensor([True, False]), "tensor([ True, False])"),
        (
            lambda: torch.tensor([0.5, 1.0], dtype=torch.float64),
            "tensor([0.5000, 1.0000], dtype=xjit.float64)",
        ),
        (lambda: torch.tensor([1, 2], dtype=torch.int32), "tensor([1, 2], dtype=xjit.int32)"),
        # torch prints whole-number floats without decimals ("int mode") ...
        (lambda: torch.ones(2), "tensor([1., 1.])"),
        (lambda: torch.zeros(2, 2), "tensor([[0., 0.],\n        [0., 0.]])"),
        (lambda: torch.tensor([-1.0, 20.0]), "tensor([-1., 20.])"),
        (lambda: torch.tensor(3.0), "tensor(3.)"),
        # ... and switches to scientific notation for wide ranges.
        (lambda: torch.tensor([1.0, 2000.0]), "tensor([1.0000e+00, 2.0000e+03])"),
        (lambda: torch.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
        (lambda: torch.tensor([]), "tensor([])"),
        (lambda: torch.zeros(2, 0), "tensor([], size=(2, 0))"),
    ],
)
def test_repr_like_torch(make, expected):
    assert repr(make()) == expected


def test_rand_repr_has_four_decimals():
    torch.manual_seed(0)
    t = torch.rand(2, 3)
    expected = (
        "tensor([["
        + ", ".join(f"{v:.4f}" for v in arr(t)[0])
        + "],\n        ["
        + ", ".join(f"{v:.4f}" for v in arr(t)[1])
        + "]])"
    )
    assert repr(t) == expected


# -- operators ----------------------------------------------------------------------------------


def _pair(shape_a, shape_b, seed=0):
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal(shape_a), np.float32)
    b = np.asarray(rng.standard_normal(shape_b) + 3.0, np.float32)  # away from 0 for division
    return a, b


BINOPS = {
    "+": (lambda x, y: x + y, np.add),
    "-": (lambda x, y: x - y, np.subtract),
    "*": (lambda x, y: x * y, np.multiply),
    "/": (lambda x, y: x / y, np.divide),
}


@pytest.mark.parametrize("op", BINOPS)
@pytest.mark.parametrize(
    "sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((2, 3), ())]
)
def test_binary_operators_broadcast(op, sa, sb):
    a, b = _pair(sa, sb)
    f, ref = BINOPS[op]
    out = f(torch.from_numpy(a), torch.from_numpy(b))
    expected = ref(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape
    assert out.dtype == torch.float32
    np.testing.assert_allclose(arr(out), expected, **F32)


@pytest.mark.parametrize(
    "f, ref",
    [
        (lambda x: x + 2, lambda a: a + 2),
        (lambda x: 2 + x, lambda a: a + 2),
        (lambda x: x - 0.5, lambda a: a - 0.5),
        (lambda x: 1 - x, lambda a: 1 - a),
        (lambda x: x * 3, lambda a: a * 3),
        (lambda x: 2 * x, lambda a: 2 * a),
        (lambda x: x / 4, lambda a: a / 4),
        (lambda x: 1 / x, lambda a: 1 / a),
        (lambda x: 3.0 / x, lambda a: 3.0 / a),
        (lambda x: -x, lambda a: -a),
        (lambda x: -(x * 2), lambda a: -2 * a),
        (lambda x: (x + 1) * (x - 1) / 2, lambda a: (a + 1) * (a - 1) / 2),
    ],
)
def test_scalar_and_reflected_operators(f, ref):
    a = np.array([[0.5, -1.25, 2.0], [3.0, -4.5, 0.75]], dtype=np.float32)
    out = f(torch.from_numpy(a))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(arr(out), ref(a.astype(np.float64)), **F32)


def test_matmul_operator():
    a, b = _pair((3, 5), (5, 2))
    out = torch.from_numpy(a) @ torch.from_numpy(b)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(arr(out), a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)


def test_rsub_hand_values():
    x = torch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(arr(1 - x), [0.0, -1.0, -2.0])
    np.testing.assert_array_equal(arr(10 - torch.tensor([1, 2])), [9, 8])


# -- type promotion (torch.result_type) -----------------------------------------------------------


def test_int_tensor_plus_float_scalar_is_float32():
    out = torch.tensor([1, 2, 3]) + 1.5
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), np.array([2.5, 3.5, 4.5], np.float32))


def test_int_tensor_plus_int_scalar_stays_int64():
    out = torch.tensor([1, 2]) * 3
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(arr(out), [3, 6])


def test_int_true_division_is_float32():
    out = torch.tensor([1, 2, 3]) / torch.tensor([2, 2, 2])
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), np.array([0.5, 1.0, 1.5], np.float32))
    out = torch.tensor([1, 3]) / 2
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), [0.5, 1.5])
    out = 1 / torch.tensor([2, 4])
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), [0.5, 0.25])


def test_float32_with_python_float_stays_float32():
    x = torch.tensor([1.0, 2.0])
    for out in (x + 0.1, x * 1e-3, x - 2.5, 1.5 * x, x / 3.0, 1.0 - x):
        assert out.dtype == torch.float32
        assert arr(out).dtype == np.float32


def test_int64_plus_bool():
    out = torch.tensor([1, 2, 3]) + torch.tensor([True, False, True])
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(arr(out), [2, 2, 4])
    out = torch.tensor([True, False]) + torch.tensor([True, True])  # bool + bool: logical or
    assert out.dtype == torch.bool
    np.testing.assert_array_equal(arr(out), [True, True])
    out = torch.tensor([True, False]) + 1.5
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), [2.5, 1.5])


def test_float32_plus_float64_is_float64():
    a = torch.tensor([1.0, 2.0])
    b = torch.tensor([0.1, 0.2], dtype=torch.float64)
    for out in (a + b, b + a, a * b, a / b):
        assert out.dtype == torch.float64
    np.testing.assert_array_equal(
        arr(a + b), np.float32([1.0, 2.0]).astype(np.float64) + [0.1, 0.2]
    )


def test_int_plus_float_tensor():
    out = torch.tensor([1, 2]) + torch.tensor([0.5, 0.25])
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(arr(out), [1.5, 2.25])
    out = torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([1, 2])
    assert out.dtype == torch.int64


def test_add_sub_alpha():
    x = torch.tensor([1.0, 2.0])
    y = torch.tensor([10.0, 20.0])
    np.testing.assert_array_equal(arr(torch.add(x, y, alpha=2)), [21.0, 42.0])
    np.testing.assert_array_equal(arr(torch.sub(x, y, alpha=2)), [-19.0, -38.0])
    np.testing.assert_array_equal(arr(x.add(y, alpha=3)), [31.0, 62.0])
    np.testing.assert_array_equal(
        arr(torch.add(x, 1, 2)), [3.0, 4.0]
    )  # add.Scalar: alpha positional
    out = torch.add(torch.tensor([1, 2]), torch.tensor([3, 4]), alpha=2)
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(arr(out), [7, 10])


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sa, sb", [((3, 4), (3,)), ((2, 3), (3, 2)), ((4,), (5,))])
def test_incompatible_broadcast_raises(sa, sb):
    x, y = torch.rand(*sa), torch.rand(*sb)
    with pytest.raises((ValueError, RuntimeError)):
        x + y
    with pytest.raises((ValueError, RuntimeError)):
        x * y


def test_no_matching_overload_lists_candidate_schemas():
    with pytest.raises(TypeError) as info:
        torch.add(torch.rand(2), "a")
    msg = str(info.value)
    assert "add()" in msg and "(Tensor, str)" in msg
    assert "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor" in msg
    assert "aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor" in msg
    with pytest.raises(TypeError, match=r"aten::tanh\(Tensor self\) -> Tensor"):
        torch.tanh(1.0)
    with pytest.raises(TypeError, match="alpha"):
        torch.mul(torch.rand(2), torch.rand(2), alpha=2)  # mul has no alpha
    with pytest.raises(TypeError):
        torch.mm(torch.rand(2, 2))  # missing argument
    with pytest.raises(TypeError):
        torch.tanh(torch.rand(2), torch.rand(2))  # too many arguments


def test_unknown_function_and_method():
    with pytest.raises(AttributeError):
        torch.no_such_op  # noqa: B018
    with pytest.raises(AttributeError):
        torch.rand(2).no_such_method  # noqa: B018


def test_mm_rejects_what_torch_rejects():
    with pytest.raises((ValueError, RuntimeError)):
        torch.mm(torch.rand(2, 3), torch.rand(4, 2))
    with pytest.raises((ValueError, RuntimeError)):
        torch.mm(torch.rand(3), torch.rand(3))  # numpy's matmul would take 1-D operands
    with pytest.raises((ValueError, RuntimeError)):
        torch.mm(torch.rand(2, 3), torch.rand(3, 2, dtype=torch.float64))  # mixed dtypes
    with pytest.raises((ValueError, RuntimeError)):
        torch.t(torch.rand(2, 3, 4))  # t is for tensors of at most 2 dims


# -- functions and methods ------------------------------------------------------------------------


def _x(shape=(3, 4), seed=1):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(np.float32)


def _sigmoid64(a):
    return 1.0 / (1.0 + np.exp(-a.astype(np.float64)))


UNARY = {
    "tanh": lambda a: np.tanh(a.astype(np.float64)),
    "relu": lambda a: np.where(a > 0, a, 0).astype(np.float64),
    "sigmoid": _sigmoid64,
    "exp": lambda a: np.exp(a.astype(np.float64)),
    "neg": lambda a: -a.astype(np.float64),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_functions_and_methods(name):
    a = _x()
    expected = UNARY[name](a)
    via_fn = getattr(torch, name)(torch.from_numpy(a))
    via_method = getattr(torch.from_numpy(a), name)()
    for out in (via_fn, via_method):
        assert out.dtype == torch.float32 and out.shape == a.shape
        np.testing.assert_allclose(arr(out), expected, rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(a, _x())  # input untouched


def test_unary_on_ints():
    i = torch.tensor([-2, 0, 3])
    r = torch.relu(i)
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(arr(r), [0, 0, 3])
    n = torch.neg(i)
    assert n.dtype == torch.int64
    np.testing.assert_array_equal(arr(n), [2, 0, -3])
    t = torch.tanh(i)  # floating ops promote integers to the default float
    assert t.dtype == torch.float32
    np.testing.assert_allclose(arr(t), np.tanh([-2.0, 0.0, 3.0]), **F32)
    s = torch.sigmoid(i)
    assert s.dtype == torch.float32
    np.testing.assert_allclose(arr(s), _sigmoid64(np.array([-2, 0, 3])), **F32)


def test_relu_and_sigmoid_hand_values():
    np.testing.assert_array_equal(arr(torch.relu(torch.tensor([-1.0, 0.0, 2.5]))), [0.0, 0.0, 2.5])
    s = torch.sigmoid(torch.tensor([0.0, -1000.0, 1000.0]))
    np.testing.assert_array_equal(arr(s), [0.5, 0.0, 1.0])


def test_ieee_edge_cases_are_silent(recwarn):
    # torch returns inf/nan without warnings; so must eager xjit.
    out = torch.tensor([1.0, -1.0, 0.0]) / torch.tensor([0.0, 0.0, 0.0])
    assert np.isposinf(arr(out)[0]) and np.isneginf(arr(out)[1]) and np.isnan(arr(out)[2])
    assert np.isposinf(arr(torch.exp(torch.tensor([1000.0])))[0])
    assert np.isposinf(arr(1 / torch.tensor([0.0])))[0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_mm_t_matmul():
    a, w = _x((3, 5)), _x((4, 5), seed=2)
    A, W = torch.from_numpy(a), torch.from_numpy(w)
    expected = a.astype(np.float64) @ w.astype(np.float64).T
    tol = {"rtol": 1e-5, "atol": 1e-5}
    np.testing.assert_array_equal(arr(torch.t(W)), w.T)
    np.testing.assert_array_equal(arr(W.t()), w.T)
    assert W.t().shape == (5, 4)
    np.testing.assert_allclose(arr(torch.mm(A, W.t())), expected, **tol)
    np.testing.assert_allclose(arr(A.mm(W.t())), expected, **tol)
    np.testing.assert_allclose(arr(torch.matmul(A, W.t())), expected, **tol)
    np.testing.assert_allclose(arr(A.matmul(torch.t(W))), expected, **tol)
    np.testing.assert_array_equal(arr(torch.t(torch.tensor([1, 2, 3]))), [1, 2, 3])  # 1-D: itself


def test_mm_hand_values():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = torch.tensor([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(arr(torch.mm(a, b)), [[19.0, 22.0], [43.0, 50.0]])
    np.testing.assert_array_equal(arr(torch.mm(a, b.t())), [[17.0, 23.0], [39.0, 53.0]])
    ints = torch.mm(torch.tensor([[1, 2]]), torch.tensor([[3], [4]]))
    assert ints.dtype == torch.int64 and ints.tolist() == [[11]]


def test_addmm():
    s, a, b = _x((2,)), _x((2, 3), 3), _x((3, 2), 4)
    S, A, B = (torch.from_numpy(v) for v in (s, a, b))
    mm = a.astype(np.float64) @ b
    tol = {"rtol": 1e-5, "atol": 1e-5}
    np.testing.assert_allclose(arr(torch.addmm(S, A, B)), s + mm, **tol)
    np.testing.assert_allclose(
        arr(torch.addmm(S, A, B, beta=0.5, alpha=2)), 0.5 * s + 2 * mm, **tol
    )
    np.testing.assert_allclose(arr(S.addmm(A, B, alpha=3)), s + 3 * mm, **tol)
    assert torch.addmm(S, A, B).dtype == torch.float32
    with pytest.raises(TypeError):
        torch.addmm(S, A, B, 0.5)  # beta is keyword-only


def test_linear():
    x, w, b = _x((3, 4)), _x((5, 4), 2), _x((5,), 3)
    X, W, B = (torch.from_numpy(v) for v in (x, w, b))
    expected = x.astype(np.float64) @ w.astype(np.float64).T
    tol = {"rtol": 1e-5, "atol": 1e-5}
    out = F.linear(X, W, B)
    assert out.shape == (3, 5) and out.dtype == torch.float32
    np.testing.assert_allclose(arr(out), expected + b, **tol)
    np.testing.assert_allclose(arr(F.linear(X, W)), expected, **tol)
    np.testing.assert_allclose(arr(torch.linear(X, W, B)), expected + b, **tol)
    # any number of leading dims, as in torch
    x3 = _x((2, 3, 4), 5)
    out3 = F.linear(torch.from_numpy(x3), W, B)
    assert out3.shape == (2, 3, 5)
    np.testing.assert_allclose(arr(out3), x3.astype(np.float64) @ w.astype(np.float64).T + b, **tol)
    np.testing.assert_allclose(arr(F.tanh(X)), np.tanh(x.astype(np.float64)), **F32)
    np.testing.assert_allclose(arr(F.sigmoid(X)), _sigmoid64(x), **F32)
    np.testing.assert_array_equal(arr(F.relu(X)), np.maximum(x, 0))


def test_mycell_forward_by_hand():
    # tanh(x W^T + b + h), the tutorial's cell, computed step by step with numpy.
    x, h, w, b = _x((3, 4)), _x((3, 4), 2), _x((4, 4), 3), _x((4,), 4)
    X, H, W, B = (torch.from_numpy(v) for v in (x, h, w, b))
    out = torch.tanh(F.linear(X, W, B) + H)
    ref = np.tanh(x.astype(np.float64) @ w.astype(np.float64).T + b + h)
    np.testing.assert_allclose(arr(out), ref, rtol=1e-5, atol=1e-5)


def test_ops_do_not_modify_inputs():
    a = _x()
    t = torch.from_numpy(a)
    before = a.copy()
    _ = t + t, t * 2, -t, torch.tanh(t), torch.relu(t), t.t(), 1 - t, t / 3
    np.testing.assert_array_equal(a, before)


# -- importing xjit stays light ----------------------------------------------------------------


def test_eager_use_does_not_import_xdsl():
    code = (
        "import sys\n"
        "import xjit, xjit.nn\n"
        "assert 'xdsl' not in sys.modules, 'import xjit'\n"
        "x = xjit.tanh(xjit.rand(2))\n"
        "m = xjit.nn.Linear(2, 3)\n"
        "y = m(xjit.rand(4, 2)).t().mm(xjit.rand(4, 1)) + 1\n"
        "z = xjit.nn.functional.sigmoid(x).relu() / 2\n"
        "repr(y), repr(m), m.state_dict()\n"
        "bad = [k for k in sys.modules if k == 'xdsl' or k.startswith('xdsl.')]\n"
        "assert not bad, bad[:5]\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
