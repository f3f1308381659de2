"""Regression tests of what the fuzzers (fuzz/, docs/fuzzing.md) found, each against an
independent oracle (PyTorch, or the diagnostic the input deserves)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xjit
from xjit import opt


def _opt(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        rc = opt.main([str(path)])
    except SystemExit as e:
        rc = int(e.code or 0)
    return rc, capsys.readouterr().err


def test_parameters_on_a_simple_torch_type_are_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fuzz.cli: `!torch.int<[4],f32>` was "internal error: ValueError: zip() argument 2 is
    longer than argument 1" (xDSL built the type from the parsed parameters)."""
    src = tmp_path / "t.mlir"
    src.write_text(
        "func.func @f(%x: !torch.int) -> !torch.int {\n"
        "  %0 = torch.aten.tanh %x : !torch.int<[4],f32> -> !torch.int\n"
        "  func.return %0 : !torch.int\n"
        "}\n"
    )
    rc, err = _opt(src, capsys)
    assert rc == 1
    assert err.startswith(f"{src}:2:39: error: !torch.int takes no parameters"), err
    assert "internal error" not in err


# -- programs: module level, so that xjit.jit.script can read their source ----------------------


def zero_dim_reductions(x):
    return x.sum(-1) + x.amax(0) + x.mean(-1, keepdim=True) + x.sum(0, keepdim=True)


def mixed_rank_promotion(x, y):
    # float32 [n] with a float64 0-d tensor is float32 in torch; an int64 0-d tensor is ignored
    return (x * y + 1.5) / y


def _compare(fn, arrays: list[np.ndarray]) -> None:
    import torch

    want = fn(*[torch.from_numpy(a) for a in arrays]).numpy()
    args = [xjit.from_numpy(a) for a in arrays]
    traced = xjit.jit.trace(fn, tuple(args))
    scripted = xjit.jit.script(fn)
    for how, got in (("eager", fn(*args)), ("trace", traced(*args)), ("script", scripted(*args))):
        got = got.numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, how
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=how)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reducing_dim_0_or_minus_1_of_a_0d_tensor_is_the_identity(dtype: str) -> None:
    """fuzz.programs: `v.sum(-1)` of a 0-d v was a ShapeError, `amax(0)` an IndexError, torch
    accepts both (a 0-d tensor's dim 0/-1 is itself)."""
    _compare(zero_dim_reductions, [np.asarray(2.5, dtype=dtype)])


@pytest.mark.parametrize("ydtype", ["float64", "int64", "float32"])
def test_0d_tensor_promotes_like_a_scalar_when_compiled(ydtype: str) -> None:
    """fuzz.programs: float32 [2, 3] * float64 [] gave float64 in xjit (eager, trace, script)."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    _compare(mixed_rank_promotion, [x, np.asarray(3, dtype=ydtype)])


def bool_add(v, y):
    return (y + v).sum(), v + True


def test_bool_plus_bool_is_or_when_compiled() -> None:
    """fuzz.programs: compiled `y + v` of two bool tensors was xor (an i1 addi wraps), so
    [F, T] + [T, T] summed to 1 where torch (and eager xjit) give 2."""
    import torch

    v, y = np.array([False, True]), np.array([True, True])
    want = [t.numpy() for t in bool_add(torch.from_numpy(v), torch.from_numpy(y))]
    args = (xjit.from_numpy(v), xjit.from_numpy(y))
    for how, c in (
        ("trace", xjit.jit.trace(bool_add, args)),
        ("script", xjit.jit.script(bool_add)),
    ):
        got = [t.numpy() for t in c(*args)]
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and np.array_equal(g, w), (how, g, w)


# -- tests/op_fuzz.py: single ops against PyTorch, eager, traced and scripted -------------------

B = np.array([[False], [True]])
I32 = np.array([1, -2, 3], dtype=np.int32)
F32 = np.array([1.0, -1.0, np.nan], dtype=np.float32)
TT = np.array([True, True])

# (what was wrong, call over a0.., its arguments)
OP_FINDINGS: list[tuple[str, str, list[np.ndarray]]] = [
    (
        "compiled bool comparisons used signed i1 order, where true (-1) < false",
        "(torch.gt(a0, a1), torch.le(a0, False), a0 < a1, a0 >= a1, torch.lt(a0, True))",
        [B, np.array([False, True])],
    ),
    (
        "script folded `x * 1.0` / `x ** 1.0` to x before the dtype was known: int32, not float32",
        "(torch.mul(a0, 1.0), torch.pow(a0, 1.0), torch.add(a0, 0.0), a0 / 1.0, a0 - 0.0)",
        [I32],
    ),
    (
        "compiled x - 0 * alpha folded to x with an infinite alpha (NaN in torch)",
        "(torch.sub(a0, 0, alpha=-float('inf')), torch.add(a0, 0, alpha=float('nan')))",
        [np.array([-5.9, 0.0])],
    ),
    (
        "compiled x + 0 folded to x: -0.0 stayed -0.0 (1 / it was -inf, torch's inf)",
        "(1 / (a0 + 0), 1 / torch.add(a0, 0.0, alpha=2))",
        [np.array([-0.0, 1.0])],
    ),
    (
        "script passed F.elu's positional `inplace` as aten::elu's `scale` (all results 0)",
        "(torch.nn.functional.elu(a0, 0.5, False), torch.nn.functional.leaky_relu(a0, 0.2, False))",
        [np.array([-1.5, 0.7, 2.0])],
    ),
    (
        "script accepted F.elu with more arguments than its signature has",
        "torch.nn.functional.elu(a0, 1.0, False, 2.0)",
        [np.array([-1.5, 0.7, 2.0])],
    ),
    (
        "eager masked_fill of an int64 tensor with 2.5 went through float64: 2**63-1 became -2**63",
        "a0.masked_fill(a1, 2.5)",
        [np.array([2**63 - 1, -7, 2**62 + 1]), np.array([False, True, False])],
    ),
    (
        "eager threshold/hardtanh of an int tensor compared with the float bounds uncast",
        "(torch.nn.functional.threshold(a0, -1.5, 7), torch.nn.functional.hardtanh(a0, -1.5, 1.5))",
        [np.array([1, -1, 2, -2, 2**62 + 1])],
    ),
    (
        "compiled masked_fill of a bool tensor with 2.5 failed: 2 is no i1 constant",
        "(a0.masked_fill(a1, 2.5), a0.masked_fill(a1, -0.5))",
        [np.array([True, False, False]), np.array([False, True, True])],
    ),
    (
        "logit's eps > 0.5 clamped as min(max(x, eps), 1 - eps); torch tests x < eps first",
        "(torch.logit(a0, 1.0), torch.logit(a0, 0.7), torch.logit(a0, 0.2))",
        [np.array([7.3, -2.76, 0.72, np.nan, 0.3, 0.0, 1.0], dtype=np.float32)],
    ),
    (
        "compiled reshape of an empty tensor grouped equal products wrongly: [0, 2, 2] -> [0, 2] "
        "gave shape [0, 4] (also repeat_interleave, whose decomposition reshapes)",
        "(torch.reshape(a0, [0, 2]), torch.repeat_interleave(a0, 2, -2), a0.reshape(2, 0, 2))",
        [np.zeros((0, 2, 2), dtype=np.float32)],
    ),
    (
        "threshold and softshrink replaced NaN (x or threshold) with the value / 0",
        "(torch.nn.functional.threshold(a0, 0.5, 2.0), torch.nn.functional.threshold(a0, "
        "float('nan'), 2.0), torch.nn.functional.softshrink(a0, 1.0))",
        [np.array([0.2, np.nan, -np.inf, 4.8, -0.5, 1.0], dtype=np.float32)],
    ),
    (
        "hardshrink zeroed NaN (torch zeroes |x| <= lambd only)",
        "torch.nn.functional.hardshrink(a0)",
        [np.array([np.nan, 0.3, -2.0, np.inf], dtype=np.float32)],
    ),
    (
        "hardtanh / threshold of an int tensor were float32 (F.hardtanh's float bounds promoted)",
        "(torch.nn.functional.hardtanh(a0), torch.nn.functional.threshold(a0, 1.5, 7))",
        [I32],
    ),
    *(
        (
            f"{f} of an int/bool tensor returned floats where torch refuses the dtype",
            f"{f}(a0)",
            [a],
        )
        for f in (
            "torch.nn.functional.elu",
            "torch.nn.functional.selu",
            "torch.nn.functional.celu",
            "torch.nn.functional.silu",
            "torch.nn.functional.mish",
            "torch.nn.functional.softplus",
            "torch.nn.functional.leaky_relu",
            "torch.nn.functional.hardswish",
            "torch.nn.functional.hardsigmoid",
            "torch.nn.functional.logsigmoid",
            "torch.nn.functional.hardshrink",
            "torch.nn.functional.softshrink",
            "torch.nn.functional.gelu",
        )
        for a in (I32, B)
    ),
    *(
        (f"{call} returned a value where torch raises", call, [a])
        for call, a in (
            ("torch.nn.functional.softsign(a0)", B),
            ("torch.nn.functional.tanhshrink(a0)", B),
            ("torch.nn.functional.hardtanh(a0)", B),
            ("torch.nn.functional.threshold(a0, 0.5, 1.0)", B),
            ("torch.nn.functional.celu(a0, 0.0)", F32),
            ("torch.nn.functional.softshrink(a0, -1.0)", F32),
            ("torch.nn.functional.hardtanh(a0, 2.0, 1.0)", F32),
            # bools where torch has no kernel (a bool divisor without zeros: no ZeroDivisionError)
            ("torch.fmod(a0, True)", TT),
            ("torch.remainder(a0, a0)", TT),
            ("torch.remainder(True, a0)", TT),
            ("torch.floor_divide(a0, True)", TT),
            ("torch.div(a0, True, rounding_mode='trunc')", TT),
            ("torch.clamp_min(a0, True)", TT),
            ("torch.clamp_max(a0, False)", TT),
            ("torch.argmax(a0)", TT),
            ("torch.argmin(a0, 0)", TT),
            ("torch.topk(a0, 1)", TT),
            # add/sub's alpha: a float alpha with integers, a bool alpha with non-bools
            ("torch.add(a0, a0, alpha=0.5)", TT),
            ("torch.sub(a0, 1, alpha=2.5)", I32),
            ("torch.add(a0, 1, alpha=True)", I32),
            # an integer tensor to a negative integer power, even empty
            ("torch.pow(a0, -3)", np.zeros((0, 2), dtype=np.int64)),
            ("a0 ** -1", I32),
            # a number out of the int32 range in an int32 computation (compiled: empty input too)
            ("torch.where(a0 > 5, 2147483648, a0)", np.zeros((0,), dtype=np.int32)),
            ("torch.where(a0 > 5, a0, -2147483649)", I32),
            ("torch.squeeze(a0, 1)", np.array(1.5, dtype=np.float32)),
            # where's condition must be bool
            ("torch.where(a0, a0, a0)", I32),
            ("torch.where(a0, 1.5, a0)", I32),
            ("torch.where(a0, 1, 0)", I32),
        )
    ),
]


@pytest.mark.parametrize(
    ("what", "expr", "arrays"), OP_FINDINGS, ids=[f"op{i}" for i in range(len(OP_FINDINGS))]
)
def test_op_fuzz_finding(what: str, expr: str, arrays: list[np.ndarray]) -> None:
    from op_fuzz import Arg, Case, run_case

    outcomes = run_case(Case("finding", expr, [Arg(a) for a in arrays]))
    bad = [f"{o.how}: {o.kind} {o.detail}" for o in outcomes if o.kind not in ("ok", "both-raised")]
    assert not bad, f"{what}\n" + "\n".join(bad)
    assert len(outcomes) == 3
