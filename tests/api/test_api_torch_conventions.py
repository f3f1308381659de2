"""Eager conventions that model code written for torch relies on, each checked against torch:
scalar conversion of one-element tensors of any rank, the in-place forms that reshape a tensor
(`t_`, `unsqueeze_`, ...), and broadcast failures raised as torch's RuntimeError."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import xjit


@pytest.mark.parametrize("conv", [float, int, bool])
@pytest.mark.parametrize("value", [[[-2.7]], [3], 0.5, [[[True]]]])
def test_scalar_conversion_of_one_element_tensors(conv: Any, value: Any) -> None:
    ours, theirs = conv(xjit.tensor(value)), conv(torch.tensor(value))
    assert type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("conv", [float, int])
def test_scalar_conversion_of_many_elements_is_refused_like_torch(conv: Any) -> None:
    with pytest.raises(ValueError) as theirs:
        conv(torch.ones(2))
    with pytest.raises(ValueError) as ours:
        conv(xjit.ones(2))
    assert str(ours.value) == str(theirs.value)


RESHAPING = [
    ("t_", ()),
    ("transpose_", (0, 2)),
    ("swapdims_", (1, 2)),
    ("swapaxes_", (0, 1)),
    ("unsqueeze_", (1,)),
    ("squeeze_", (1,)),
    ("squeeze_", ()),
]


@pytest.mark.parametrize(("name", "args"), RESHAPING, ids=[f"{n}{a}" for n, a in RESHAPING])
def test_reshaping_inplace_forms(name: str, args: tuple[int, ...]) -> None:
    def run(t: Any) -> Any:
        x = t.arange(6.0).view(2, 1, 3) if name != "t_" else t.arange(6.0).view(2, 3)
        alias = x[...]  # a view taken before: keeps its shape, shares the data
        assert getattr(x, name)(*args) is x
        x.mul_(10)
        return x, alias

    (x, alias), (tx, talias) = run(xjit), run(torch)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    np.testing.assert_array_equal(alias.numpy(), talias.numpy())


def test_reshaping_inplace_form_is_traced() -> None:
    def f(t: Any, x: Any) -> Any:
        y = x.clone()
        y.t_()
        return y * 2

    traced = xjit.jit.trace(lambda x: f(xjit, x), xjit.ones(2, 3))
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(
        traced(xjit.from_numpy(x)).numpy(), f(torch, torch.from_numpy(x)).numpy()
    )


BROADCAST_FAILURES = [
    lambda t: t.ones(2, 3) + t.ones(3, 2),
    lambda t: t.add(t.ones(2, 3), t.ones(3, 2), alpha=2),
    lambda t: t.ones(2, 3).mul(t.ones(4, 3)),
    lambda t: t.where(t.ones(2, 3) > 0, t.ones(3, 2), 0.0),
    lambda t: t.ones(2, 3).add_(t.ones(3, 2)),
    lambda t: t.ones(4, 3) * t.ones(2, 1, 3, 1)[0, :, :, :2],
]


@pytest.mark.parametrize("bad", BROADCAST_FAILURES)
def test_broadcast_failures_raise_torchs_runtime_error(bad: Any) -> None:
    with pytest.raises(RuntimeError) as theirs:
        bad(torch)
    for _ in range(2):  # the first call builds the fast-path runner, the second uses it
        with pytest.raises(RuntimeError) as ours:
            bad(xjit)
        assert str(ours.value) == str(theirs.value)


def test_shape_errors_are_runtime_errors_like_torchs() -> None:
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).view(4, 2)
    with pytest.raises(RuntimeError):
        xjit.ones(2, 3).view(4, 2)


def test_backends_flags_are_settable_and_nothing_is_available() -> None:
    import subprocess
    import sys

    code = (
        "import sys, xjit as torch\n"
        "torch.backends.cudnn.deterministic = True\n"
        "torch.backends.cudnn.benchmark = False\n"
        "torch.backends.cuda.matmul.allow_tf32 = True\n"
        "assert not torch.backends.mps.is_available() and not torch.backends.cudnn.is_available()\n"
        "assert 'xdsl' not in sys.modules and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


LEGACY = [
    ("Tensor", (2, 3)),
    ("Tensor", ([1, 2],)),
    ("Tensor", ([[1.5, 2.0]],)),
    ("Tensor", ()),
    ("FloatTensor", ([1, 2],)),
    ("FloatTensor", (2,)),
    ("DoubleTensor", (2, 2)),
    ("LongTensor", ([1.7, -2.2],)),
    ("LongTensor", (3,)),
    ("IntTensor", ([4],)),
    ("BoolTensor", ([1, 0],)),
]


@pytest.mark.parametrize(("name", "args"), LEGACY, ids=[f"{n}{a}" for n, a in LEGACY])
def test_legacy_constructors(name: str, args: tuple[Any, ...]) -> None:
    ours, theirs = getattr(xjit, name)(*args), getattr(torch, name)(*args)
    assert list(ours.shape) == list(theirs.shape) and str(ours.dtype)[5:] == str(theirs.dtype)[6:]
    if not isinstance(args[0] if args else None, int):  # from values (sizes: uninitialised)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert xjit.ones(2).type(getattr(xjit, name)).dtype == ours.dtype


def test_legacy_constructor_then_init_as_in_older_model_code() -> None:
    w = xjit.nn.Parameter(xjit.Tensor(4, 3))
    xjit.nn.init.uniform_(w, -0.1, 0.1)
    assert w.dtype == xjit.float32 and list(w.shape) == [4, 3] and float(w.abs().max()) <= 0.1


def test_embedding_from_pretrained() -> None:
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    idx = [[1, 3], [0, 1]]
    ours = xjit.nn.Embedding.from_pretrained(xjit.from_numpy(w.copy()), padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), padding_idx=1)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(
        ours(xjit.tensor(idx)).numpy(), theirs(torch.tensor(idx)).detach().numpy()
    )
    traced = xjit.jit.trace(ours, xjit.tensor(idx))
    np.testing.assert_array_equal(traced(xjit.tensor([[2]])).numpy(), w[[[2]]])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first: bool, side: str) -> None:
    arrays = [np.arange(6.0, dtype=np.float32).reshape(3, 2), np.ones((1, 2), np.float32)]

    def run(t: Any) -> Any:
        seqs = [t.from_numpy(a.copy()) for a in arrays]
        return t.nn.utils.rnn.pad_sequence(seqs, batch_first, -5.0, side).numpy()

    np.testing.assert_array_equal(run(xjit), run(torch))


def test_parameters_to_vector_and_back() -> None:
    ours, theirs = xjit.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.load_state_dict({k: xjit.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    v = xjit.nn.utils.parameters_to_vector(ours.parameters())
    tv = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(v.numpy(), tv.detach().numpy())
    xjit.nn.utils.vector_to_parameters(xjit.arange(8.0), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(8.0), theirs.parameters())
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(
        ours(xjit.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy()
    )
