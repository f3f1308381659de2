"""The op registry (xjit/ops): schemas, argument binding, and that each entry's parts agree with
each other and with independent oracles -- eager results with numpy formulas written here,
decompositions (run eagerly) with the op's own eager semantics, shape/dtype rules with the shapes
and dtypes eager produces (and with numpy's broadcasting and torch's promotion table, written out
by hand below)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xjit
from xjit._dispatch import bind, resolve
from xjit.ops.registry import OVERLOADS, REGISTRY, all_ops, lookup, overloads, register
from xjit.ops.schema import parse_schema
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype

OPS = all_ops()
# Tensor ops (what eager `xjit.add` etc. run); the registry also holds TorchScript scalar ops.
TENSOR_OPS = [op for op in OPS if all(r == "Tensor" for r in op.schema.returns)]
OPS_BY_QNAME = {op.schema.qualified_name: op for op in OPS}
ELEMENTWISE = [op for op in OPS if op.is_elementwise]
DECOMPOSABLE = [op for op in OPS if op.decompose is not None]
OPS_DIR = Path(xjit.__file__).parent / "ops"


def qnames(ops):
    return [op.schema.qualified_name for op in ops]


# -- schemas -----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS, ids=qnames(OPS))
def test_registered_schema_round_trips(op):
    text = str(op.schema)
    again = parse_schema(text)
    assert again == op.schema
    assert str(again) == text
    assert op.name == f"torch.{op.schema.qualified_name}"
    assert op.name == "torch." + text.split("(")[0].replace("::", ".")


def _schema_literals() -> set[str]:
    found: set[str] = set()
    for path in OPS_DIR.glob("*.py"):
        found |= set(re.findall(r'"(aten::[^"]+)"', path.read_text()))
    return found


def test_schema_strings_print_exactly_as_written():
    # The strings in xjit/ops/*.py are torch's notation; printing a parsed schema gives them back.
    literals = _schema_literals()
    plain = {t for t in literals if "{" not in t}
    # f-string templates ("aten::{_n}.int(...)"): any word where a placeholder is
    templates = [
        re.compile(re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(t))) for t in literals if "{" in t
    ]
    assert plain, "no schema strings found in xjit/ops"
    for text in plain:
        assert str(parse_schema(text)) == text
    for op in OPS:
        printed = str(op.schema)
        assert printed in plain or any(t.fullmatch(printed) for t in templates), printed


@pytest.mark.parametrize(
    "text",
    [
        "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
        "aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor",
        "aten::addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) -> Tensor",
        "aten::sum.dim_IntList(Tensor self, int[]? dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
        "aten::permute(Tensor self, int[] dims) -> Tensor",
        "aten::view(Tensor self, int[] size=[2, 3]) -> Tensor",
        "aten::clamp(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor",
        "aten::leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor",
        "aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor, Tensor)",
        "aten::cat(Tensor[] tensors, int dim=0) -> Tensor",
        "aten::gelu(Tensor self, *, str approximate='none') -> Tensor",
        "prim::NumToTensor(Scalar a) -> Tensor",
    ],
)
def test_schema_text_round_trips(text):
    assert str(parse_schema(text)) == text


def test_parse_schema_fields():
    s = parse_schema(
        "aten::addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=0.5) -> Tensor"
    )
    assert (s.namespace, s.name, s.overload, s.qualified_name) == (
        "aten",
        "addmm",
        "",
        "aten.addmm",
    )
    assert [a.name for a in s.args] == ["self", "mat1", "mat2", "beta", "alpha"]
    assert [a.kwarg_only for a in s.args] == [False, False, False, True, True]
    assert [a.has_default for a in s.args] == [False, False, False, True, True]
    assert s.args[3].default == 1 and isinstance(s.args[3].default, int)
    assert s.args[4].default == 0.5
    assert s.args[0].is_tensor and not s.args[3].is_tensor
    assert s.returns == ("Tensor",)
    lin = parse_schema("aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor")
    bias = lin.args[2]
    assert bias.optional and bias.is_tensor and bias.has_default and bias.default is None
    t = parse_schema(
        "aten::foo.bar(int[] dims=[1, -2], bool k=True, int[] e=[]) -> (Tensor, Tensor)"
    )
    assert t.qualified_name == "aten.foo.bar"
    assert [a.default for a in t.args] == [[1, -2], True, []]
    assert t.returns == ("Tensor", "Tensor")


@pytest.mark.parametrize(
    "text, match",
    [
        ("add(Tensor self) -> Tensor", "malformed operator schema"),
        ("aten::add(Tensor self)", "malformed operator schema"),
        ("aten::add(Tensor) -> Tensor", "malformed argument"),
        ("aten::add(Foo self) -> Tensor", "unsupported argument type"),
    ],
)
def test_parse_schema_rejects(text, match):
    with pytest.raises(ValueError, match=match):
        parse_schema(text)


# -- bind ---------------------------------------------------------------------------------------

T1, T2 = xjit.ones(2), xjit.zeros(2)
ADD_T = parse_schema("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor")
ADD_S = parse_schema("aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor")
LINEAR = parse_schema("aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor")
MIXED = parse_schema(
    "aten::foo(Tensor self, int[] dims, bool keepdim=False, float eps=1e-05, *, ScalarType? dtype=None) -> Tensor"
)


def test_bind_fills_defaults_in_schema_order():
    assert bind(ADD_T, (T1, T2), {}) == [T1, T2, 1]
    assert bind(ADD_T, (T1, T2), {"alpha": 3}) == [T1, T2, 3]
    assert bind(ADD_T, (), {"other": T2, "self": T1}) == [T1, T2, 1]
    assert bind(ADD_S, (T1, 2.5), {}) == [T1, 2.5, 1]
    assert bind(ADD_S, (T1, 2.5, 4), {}) == [T1, 2.5, 4]  # alpha positional here
    assert bind(LINEAR, (T1, T2), {}) == [T1, T2, None]
    assert bind(LINEAR, (T1, T2, None), {}) == [T1, T2, None]
    assert bind(LINEAR, (T1, T2), {"bias": T1}) == [T1, T2, T1]
    assert bind(MIXED, (T1, [0, 1]), {}) == [T1, [0, 1], False, 1e-05, None]
    assert bind(MIXED, (T1, 1, True, 0.5), {"dtype": xjit.float64}) == [
        T1,
        [1],
        True,
        0.5,
        xjit.float64,
    ]
    assert bind(MIXED, (T1, (0, 1)), {"eps": 2}) == [T1, (0, 1), False, 2, None]


@pytest.mark.parametrize(
    "schema, args, kwargs",
    [
        (ADD_T, (T1,), {}),  # missing argument
        (ADD_T, (T1, T2, 2), {}),  # alpha is keyword-only
        (ADD_T, (T1, T2), {"beta": 2}),  # unknown keyword
        (ADD_T, (T1, T2), {"other": T2}),  # given twice
        (ADD_T, (T1, 1.0), {}),  # Scalar where a Tensor is expected
        (ADD_T, (T1, None), {}),  # None for a non-optional Tensor
        (ADD_T, (T1, np.ones(2)), {}),  # numpy array is not a Tensor
        (ADD_T, (T1, T2), {"alpha": "x"}),
        (ADD_S, (T1, T2), {}),  # Tensor where a Scalar is expected
        (ADD_S, (T1, 1, 1, 1), {}),  # too many positionals
        (ADD_S, (T1, None), {}),
        (LINEAR, (T1, 3), {}),
        (MIXED, (T1, [0, 1.5]), {}),  # int[] with a float
        (MIXED, (T1, 1), {"keepdim": 1}),  # bool with an int
        (MIXED, (T1, 1), {"eps": True}),  # float with a bool
        (MIXED, (T1, 1), {"dtype": "float32"}),  # ScalarType with a str
        (MIXED, (T1,), {}),
    ],
)
def test_bind_rejects(schema, args, kwargs):
    assert bind(schema, args, kwargs) is None


def test_bind_with_custom_tensor_predicate():
    # The IR frontends bind with their own notion of "tensor".
    is_str = lambda v: isinstance(v, str)  # noqa: E731
    assert bind(ADD_T, ("a", "b"), {}, is_tensor=is_str) == ["a", "b", 1]
    assert bind(ADD_T, (T1, T2), {}, is_tensor=is_str) is None


def test_resolve_picks_overload_in_order():
    assert resolve("add", (T1, T2), {})[0] is lookup("aten.add.Tensor")
    assert resolve("add", (T1, 2), {})[0] is lookup("torch.aten.add.Scalar")
    op, bound = resolve("sub", (T1, 2.0, 3), {})
    assert op.schema.qualified_name == "aten.sub.Scalar" and bound == [T1, 2.0, 3]
    with pytest.raises(TypeError, match="expected one of"):
        resolve("mul", (T1, "x"), {})


# -- registry invariants ------------------------------------------------------------------------


def test_registry_tables_consistent():
    assert len(REGISTRY) == len(OPS) and len({id(op) for op in OPS}) == len(OPS)
    for name, ops in OVERLOADS.items():
        assert ops == overloads(name)
        for op in ops:
            assert REGISTRY[op.name] is op
    listed = {id(op) for ops in OVERLOADS.values() for op in ops}
    assert listed == {id(op) for op in OPS}, "every op is reachable from some Python name"


@pytest.mark.parametrize("op", TENSOR_OPS, ids=qnames(TENSOR_OPS))
def test_op_entry_complete(op):
    assert op.eager is not None
    assert lookup(op.name) is op and lookup(op.schema.qualified_name) is op
    if op.is_elementwise:
        assert op.compute_dtype is not None
    else:
        assert op.lower is not None or op.decompose is not None, "no way to compile"
    # `.code` spells the call as op.py; the same path must exist on xjit (`torch` = `import xjit`).
    assert op.py.startswith("torch.")
    target: Any = xjit
    for part in op.py.split(".")[1:]:
        target = getattr(target, part)
    assert callable(target)


def test_register_twice_rejected_without_side_effects():
    op = lookup("aten.tanh")
    before = (dict(REGISTRY), {k: list(v) for k, v in OVERLOADS.items()})
    with pytest.raises(ValueError, match="registered twice"):
        register(str(op.schema), op.shape)
    assert (dict(REGISTRY), {k: list(v) for k, v in OVERLOADS.items()}) == before


# -- torch's type promotion, written out for the dtypes xjit has ----------------------------------

F32, F64, I32, I64, B = xjit.float32, xjit.float64, xjit.int32, xjit.int64, xjit.bool
_PROMOTE_PAIRS = {
    (B, B): B,
    (B, I32): I32,
    (B, I64): I64,
    (B, F32): F32,
    (B, F64): F64,
    (I32, I32): I32,
    (I32, I64): I64,
    (I32, F32): F32,
    (I32, F64): F64,
    (I64, I64): I64,
    (I64, F32): F32,
    (I64, F64): F64,
    (F32, F32): F32,
    (F32, F64): F64,
    (F64, F64): F64,
}
PROMOTE = {**_PROMOTE_PAIRS, **{(b, a): r for (a, b), r in _PROMOTE_PAIRS.items()}}


_CATEGORY = {B: 0, I32: 1, I64: 1, F32: 2, F64: 2}


def result_type(tensor_dtypes, scalars, kind, ranks=None):
    """torch.result_type, then the op's dtype kind: "promote", "float" (ints -> float32), "compare".
    `ranks` (one per tensor): a 0-d tensor next to dimensioned ones counts only when its category
    (bool < int < float) is higher than theirs."""
    ranks = ranks if ranks is not None else [1] * len(tensor_dtypes)
    dims = [d for d, r in zip(tensor_dtypes, ranks) if r > 0] or list(tensor_dtypes)
    zeros = [d for d, r in zip(tensor_dtypes, ranks) if r == 0] if len(dims) < len(ranks) else []
    dt = dims[0]
    for d in dims[1:]:
        dt = PROMOTE[dt, d]
    top = [z for z in zeros if _CATEGORY[z] > _CATEGORY[dt]]
    if top:
        high = max(_CATEGORY[z] for z in top)
        top = [z for z in top if _CATEGORY[z] == high]
        dt = top[0]
        for z in top[1:]:
            dt = PROMOTE[dt, z]
    for s in scalars:
        if isinstance(s, bool):
            continue
        if isinstance(s, int) and dt == B:
            dt = I64
        elif isinstance(s, float) and dt in (B, I32, I64):
            dt = F32
    if kind == "float" and dt in (B, I32, I64):
        dt = F32
    return B if kind == "compare" else dt


# -- elementwise ops against numpy formulas ------------------------------------------------------

# qualified name -> (numpy formula on float64 values, dtype kind, input domain).
# The formula gets the op's arguments in schema order (tensors as float64 arrays).
# Domains: "any" values, "pos" positive, "nonzero" tensors away from zero (divisors).
FORMULAS: dict[str, tuple[Any, str, str]] = {
    "aten.neg": (lambda a: -a, "promote", "any"),
    "aten.abs": (np.abs, "promote", "any"),
    "aten.relu": (lambda a: np.where(a > 0, a, 0.0), "promote", "any"),
    "aten.tanh": (np.tanh, "float", "any"),
    "aten.sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), "float", "any"),
    "aten.exp": (np.exp, "float", "any"),
    "aten.log": (np.log, "float", "pos"),
    "aten.sqrt": (np.sqrt, "float", "pos"),
    "aten.rsqrt": (lambda a: 1.0 / np.sqrt(a), "float", "pos"),
    "aten.sin": (np.sin, "float", "any"),
    "aten.cos": (np.cos, "float", "any"),
    "aten.reciprocal": (lambda a: 1.0 / a, "float", "nonzero"),
    "aten.add.Tensor": (lambda a, b, alpha=1: a + alpha * b, "promote", "any"),
    "aten.add.Scalar": (lambda a, s, alpha=1: a + alpha * s, "promote", "any"),
    "aten.sub.Tensor": (lambda a, b, alpha=1: a - alpha * b, "promote", "any"),
    "aten.sub.Scalar": (lambda a, s, alpha=1: a - alpha * s, "promote", "any"),
    "aten.rsub.Scalar": (lambda a, s, alpha=1: s - alpha * a, "promote", "any"),
    "aten.mul.Tensor": (lambda a, b: a * b, "promote", "any"),
    "aten.mul.Scalar": (lambda a, s: a * s, "promote", "any"),
    "aten.div.Tensor": (lambda a, b: a / b, "float", "nonzero"),
    "aten.div.Scalar": (lambda a, s: a / s, "float", "nonzero"),
    "aten.maximum": (np.maximum, "promote", "any"),
    "aten.max.other": (np.maximum, "promote", "any"),
    "aten.min.other": (np.minimum, "promote", "any"),
    "aten.gelu": (
        lambda a, approximate="none": (
            0.5 * a * (1 + np.vectorize(math.erf, otypes=[np.float64])(a / math.sqrt(2)))
        ),
        "float",
        "any",
    ),
    **{
        f"aten.{n}": (getattr(np, n), "compare", "any")
        for n in ("logical_and", "logical_or", "logical_xor", "logical_not")
    },
    "aten.minimum": (np.minimum, "promote", "any"),
    **{f"aten.{n}": (getattr(np, n), "promote", "any") for n in ("floor", "ceil", "trunc")},
    "aten.round": (np.rint, "promote", "any"),  # halves to even
    "aten.erf": (np.vectorize(math.erf, otypes=[np.float64]), "float", "any"),
    "aten.log1p": (np.log1p, "float", "pos"),
    "aten.expm1": (np.expm1, "float", "any"),
    **{
        f"aten.{n}.{o}": (f, "promote", "nonzero")
        for n, f in [("fmod", np.fmod), ("remainder", np.remainder)]
        for o in ("Tensor", "Scalar")
    },
    "aten.floor_divide": (np.floor_divide, "promote", "nonzero"),
    "aten.floor_divide.Scalar": (np.floor_divide, "promote", "nonzero"),
    **{
        f"aten.{n}.{o}": (f, "compare", "any")
        for n, f in [
            ("lt", np.less),
            ("le", np.less_equal),
            ("gt", np.greater),
            ("ge", np.greater_equal),
            ("eq", np.equal),
            ("ne", np.not_equal),
        ]
        for o in ("Tensor", "Scalar")
    },
    # issue 12's math (xjit/ops/math_ops.py); the rest: tests/test_ops_breadth.py vs PyTorch
    **{
        f"aten.{n}": (f, "float", "any")
        for n, f in [
            ("tan", np.tan),
            ("atan", np.arctan),
            ("sinh", np.sinh),
            ("cosh", np.cosh),
            ("exp2", np.exp2),
        ]
    },
    "aten.log2": (np.log2, "float", "pos"),
    "aten.log10": (np.log10, "float", "pos"),
    "aten.atan2": (np.arctan2, "float", "any"),
    "aten.true_divide.Tensor": (lambda a, b: a / b, "float", "nonzero"),
    "aten.true_divide.Scalar": (lambda a, s: a / s, "float", "nonzero"),
    "aten.sgn": (np.sign, "promote", "any"),
    "aten.negative": (lambda a: -a, "promote", "any"),
    "aten.absolute": (np.abs, "promote", "any"),
    "aten.isnan": (np.isnan, "compare", "any"),
    "aten.isinf": (np.isinf, "compare", "any"),
    "aten.isfinite": (np.isfinite, "compare", "any"),
    # tests/test_ops_breadth2.py checks these against PyTorch too
    "aten.copysign.Tensor": (np.copysign, "float", "any"),
    "aten.copysign.Scalar": (np.copysign, "float", "any"),
    "aten.ldexp.Tensor": (lambda a, b: a * 2.0**b, "float", "any"),
}

# Ops whose arguments this generator cannot draw (a bool condition, a leading Scalar, integer
# powers that must stay non-negative): test_where_and_pow_against_torch below checks them.
# where/pow: checked against real PyTorch below (test_where_and_pow_against_torch)
WHERE_POW = {
    "aten.where.self",
    "aten.where.ScalarOther",
    "aten.where.ScalarSelf",
    "aten.pow.Tensor_Tensor",
    "aten.pow.Tensor_Scalar",
    "aten.pow.Scalar",
}
TESTED_ELSEWHERE = {
    *WHERE_POW,
    # issue 12's model ops: tests/api/test_api_ops.py checks them against PyTorch
    *(
        f"aten.{n}"
        for n in (
            "silu leaky_relu elu hardtanh softplus mish clamp clamp_min clamp_max "
            "sign masked_fill.Scalar masked_fill.Tensor"
        ).split()
    ),
    # activations: tests/api/test_api_nn_breadth.py checks them against PyTorch
    *(
        f"aten.{n}"
        for n in (
            "selu celu hardswish hardsigmoid softsign log_sigmoid tanhshrink threshold "
            "hardshrink softshrink"
        ).split()
    ),
    # issue 12's breadth: integer-only, float-only or multi-operand rules this generator does
    # not draw; tests/test_ops_breadth.py checks them against PyTorch (eager, trace, script)
    *(
        f"aten.{n}"
        for n in (
            "asin acos hypot square signbit positive isclose lerp.Scalar lerp.Tensor addcmul "
            "addcdiv logaddexp logit xlogy.Tensor xlogy.Scalar_Other xlogy.Scalar_Self "
            "bitwise_not"
        ).split()
    ),
    *(
        f"aten.bitwise_{n}.{o}"
        for n in ("and", "or", "xor")
        for o in ("Tensor", "Scalar", "Scalar_Tensor")
    ),
    *(
        f"aten.bitwise_{d}_shift.{o}"
        for d in ("left", "right")
        for o in ("Tensor", "Tensor_Scalar", "Scalar_Tensor")
    ),
    # same-dtype operands only, an int argument: tests/test_ops_breadth2.py (against PyTorch)
    "aten.heaviside",
    "aten.round.decimals",
}

NUMERIC_DTYPES = [F32, F64, I32, I64]
# ops torch defines on floating point tensors only (gelu of an int tensor is an error)
FLOAT_INPUT = {"aten.gelu"}
# ops torch also defines on bool tensors (neg, sub, relu of bools are errors in torch)
BOOL_OK = {
    "aten.add.Tensor",
    "aten.add.Scalar",
    "aten.mul.Tensor",
    "aten.mul.Scalar",
    "aten.tanh",
    "aten.sigmoid",
    "aten.exp",
    "aten.sin",
    "aten.cos",
    "aten.maximum",
    "aten.minimum",
    *(q for q in FORMULAS if FORMULAS[q][1] == "compare"),
}


def _values(data, shape, dtype, domain):
    if dtype == B:
        return data.draw(hnp.arrays(np.bool_, shape))
    if dtype.is_floating_point:
        v = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-4, 4, width=32)))
    else:
        v = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-5, 5))).astype(np.float64)
    if domain == "pos":
        # ints: +1, as +0.5 truncates back to 0 in the cast below
        v = np.abs(v) + (0.5 if dtype.is_floating_point else 1.0)
    elif domain == "nonzero":
        v = np.where(np.abs(v) < 0.5, 1.0 + np.abs(v), v)
    return np.asarray(v.astype(dtype.np))  # 0-d stays an array (np.abs gives a numpy scalar)


def _scalar(data, tensor_dtype, domain):
    if tensor_dtype == B:
        s = data.draw(st.sampled_from([True, False, 2, 0.5]))
    elif tensor_dtype.is_floating_point:
        s = data.draw(st.sampled_from([0.5, -1.25, 2.0, 3]))
    else:
        s = data.draw(st.sampled_from([2, -3, 1.5, -0.5]))
    return s


def _tol(dtype):
    return {"rtol": 2e-6, "atol": 2e-6} if dtype == F32 else {"rtol": 1e-12, "atol": 1e-12}


# float-only `frac`, `remainder.Scalar_Tensor` (a leading Scalar) and div's rounding modes (a
# string argument): tests/api/test_api_ops2.py
TESTED_AGAINST_TORCH = {
    "aten.frac",
    "aten.remainder.Scalar_Tensor",
    "aten.div.Tensor_mode",
    "aten.div.Scalar_mode",
}
FORMULA_TESTED = [
    op
    for op in ELEMENTWISE
    if op.schema.qualified_name not in TESTED_ELSEWHERE | TESTED_AGAINST_TORCH
]


@pytest.mark.parametrize("op", FORMULA_TESTED, ids=qnames(FORMULA_TESTED))
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_elementwise_against_numpy_formula(op, data):
    qname = op.schema.qualified_name
    assert qname in FORMULAS, f"add a numpy formula for {qname} to FORMULAS in {__file__}"
    formula, kind, domain = FORMULAS[qname]
    tensor_args = [a for a in op.schema.args if a.is_tensor]
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=len(tensor_args), max_dims=3, min_side=0, max_side=3
        )
    )
    args: list[Any] = []
    tensor_dtypes, scalars, ranks, shape_iter = [], [], [], iter(shapes.input_shapes)
    for i, a in enumerate(op.schema.args):
        if a.is_tensor:
            numeric = [F32, F64] if qname in FLOAT_INPUT else NUMERIC_DTYPES
            dt = data.draw(st.sampled_from(numeric + [B] * (qname in BOOL_OK)))
            # a divisor must stay away from zero; the dividend may be anything
            dom = domain if (domain != "nonzero" or i > 0 or len(tensor_args) == 1) else "any"
            shape = next(shape_iter)
            args.append(_values(data, shape, dt, dom))
            tensor_dtypes.append(dt)
            ranks.append(len(shape))
        elif a.name == "alpha":
            # torch allows only alpha=1 (or True) when the result is bool
            bool_result = result_type(tensor_dtypes, scalars, kind, ranks) == B
            alpha = 1 if bool_result else data.draw(st.sampled_from([1, 2, -1]))
            args.append(alpha)
        elif a.type == "str":  # gelu's approximate: its default (tests/test_gelu_tanh.py: 'tanh')
            args.append(a.default)
        else:
            assert a.type == "Scalar", f"no generator for {a.type} {a.name}"
            s = _scalar(data, tensor_dtypes[0], domain)
            args.append(s)
            scalars.append(s)

    got = op.eager(*args)
    out = xjit.from_numpy(got)

    # shape: numpy's broadcasting; dtype: torch's promotion table above
    assert got.shape == shapes.result_shape
    expected_dtype = result_type(tensor_dtypes, scalars, kind, ranks)
    assert out.dtype == expected_dtype, (tensor_dtypes, scalars)

    # the shape rule agrees with what eager produced
    metas = [
        TensorMeta(v.shape, from_numpy_dtype(v.dtype)) if isinstance(v, np.ndarray) else v
        for v in args
    ]
    assert op.shape(*metas) == TensorMeta(got.shape, out.dtype)

    # values: the formula in float64 on the inputs as torch would compute them (promoted first)
    ref = formula(
        *[
            v.astype(expected_dtype.np if kind != "compare" else np.float64).astype(np.float64)
            if isinstance(v, np.ndarray)
            else v
            for v in args
        ]
    )
    if kind == "compare":
        np.testing.assert_array_equal(got, ref)
    elif expected_dtype.is_floating_point:
        np.testing.assert_allclose(got, ref, **_tol(expected_dtype))
    else:
        np.testing.assert_array_equal(got, ref.astype(expected_dtype.np))


def _where_pow_arg(data, a, qname: str, dtypes: list[Any]) -> Any:
    """One argument of where/pow: conditions are bool; an integer power's exponent is
    non-negative (torch rejects negative integer powers of integers)."""
    if a.is_tensor and a.name == "condition":
        return data.draw(
            hnp.arrays(
                np.bool_,
                data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)),
            )
        )
    pow_exp = qname.startswith("aten.pow") and a.name == "exponent"
    if a.is_tensor:
        dt = data.draw(st.sampled_from(NUMERIC_DTYPES))
        dtypes.append(dt)
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
        lo = 0 if pow_exp else -4
        if dt.is_floating_point:
            v = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, 4, width=32)))
        else:
            v = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, 4)))
        return np.asarray(v.astype(dt.np))
    choices = [0, 2, 3, 0.5, 2.0] if pow_exp else [2, -3, 0.5, -1.25, True]
    return data.draw(st.sampled_from(choices))


@pytest.mark.parametrize("qname", sorted(WHERE_POW))
@settings(max_examples=40, deadline=None, database=None)
@given(data=st.data())
def test_where_and_pow_against_torch(qname, data):
    """where.* and pow.* against real PyTorch: value (NaN positions too), dtype and shape rule."""
    import torch

    op = OPS_BY_QNAME[qname]
    dtypes: list[Any] = []
    args = [_where_pow_arg(data, a, qname, dtypes) for a in op.schema.args]
    t_args = [torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in args]
    try:
        want = getattr(getattr(torch.ops.aten, op.schema.name), op.schema.overload)(*t_args)
        want = want.numpy()
    except RuntimeError as e:
        assert "must match the size" in str(e), e
        want = None
    metas = [
        TensorMeta(v.shape, from_numpy_dtype(v.dtype)) if isinstance(v, np.ndarray) else v
        for v in args
    ]
    if want is None:  # torch rejects the shapes: so must the shape rule
        with pytest.raises(ShapeError):
            op.shape(*metas)
        return
    got = np.asarray(op.eager(*args))
    assert got.shape == want.shape and got.dtype == want.dtype, (args, got.dtype, want.dtype)
    assert op.shape(*metas) == TensorMeta(want.shape, from_numpy_dtype(want.dtype))
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dims", [(1, 0), (0, 1), (0, 0), (1, 1)])
@pytest.mark.parametrize("a", ["bool", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("b", ["bool", "int32", "int64", "float32", "float64"])
def test_zero_dim_tensor_promotes_like_torch(a, b, dims):
    """A 0-d tensor next to a dimensioned one promotes like a scalar (found by fuzz.programs:
    float32 [2] + float64 [] is float32 in torch, was float64 in xjit)."""
    import torch

    x = np.ones((2,) * dims[0], dtype=a)
    y = np.ones((2,) * dims[1], dtype=b)
    for name in ("add", "mul", "maximum"):
        want = getattr(torch, name)(torch.from_numpy(x), torch.from_numpy(y)).numpy()
        got = getattr(xjit, name)(xjit.from_numpy(x), xjit.from_numpy(y)).numpy()
        assert got.dtype == want.dtype, name
    want = torch.where(torch.from_numpy(x) > 0, torch.from_numpy(x), torch.from_numpy(y))
    got = xjit.where(xjit.from_numpy(x) > 0, xjit.from_numpy(x), xjit.from_numpy(y))
    assert got.numpy().dtype == want.numpy().dtype


def _resolves_to(op, args, kwargs=None):
    return resolve(op.schema.name, args, kwargs or {})[0] is op


@pytest.mark.parametrize("op", ELEMENTWISE, ids=qnames(ELEMENTWISE))
def test_elementwise_overload_reachable(op):
    # each elementwise overload is what dispatch picks for its natural call (keyword-only
    # arguments by keyword: div(x, y, rounding_mode="trunc"))
    needed = [a for a in op.schema.args if not a.has_default]
    values = {
        a.name: xjit.rand(2) if a.is_tensor else 2 if a.type == "int" else 2.0 for a in needed
    }
    values.update({a.name: "trunc" for a in needed if a.type.startswith("str")})
    args = [values[a.name] for a in needed if not a.kwarg_only]
    assert _resolves_to(op, args, {a.name: values[a.name] for a in needed if a.kwarg_only})


BINARY = [op for op in ELEMENTWISE if sum(a.is_tensor for a in op.schema.args) >= 2]


@pytest.mark.parametrize("op", BINARY, ids=qnames(BINARY))
def test_elementwise_shape_rule_rejects_bad_broadcast(op):
    args = [
        TensorMeta((3,), F32)
        if i == 0
        else TensorMeta((4,), F32)
        if a.is_tensor
        else None
        if a.type.startswith("str")
        else 1
        for i, a in enumerate(op.schema.args)
    ]
    with pytest.raises(ShapeError):
        op.shape(*args)
    eager_args = [
        xjit.rand(3)
        if i == 0
        else xjit.rand(4)
        if a.is_tensor
        else None
        if a.type.startswith("str")
        else 1
        for i, a in enumerate(op.schema.args)
    ]
    with pytest.raises((ValueError, RuntimeError)):
        op.eager(*[t.numpy() if isinstance(t, xjit.Tensor) else t for t in eager_args])


def test_shape_rule_with_dynamic_and_unranked_dims():
    add = lookup("aten.add.Tensor")
    assert add.shape(TensorMeta((None, 4), F32), TensorMeta((4,), F32), 1) == TensorMeta(
        (None, 4), F32
    )
    assert add.shape(TensorMeta((None, 1), F32), TensorMeta((1, 5), F32), 1) == TensorMeta(
        (None, 5), F32
    )
    assert add.shape(TensorMeta(None, F32), TensorMeta((4,), F64), 1) == TensorMeta(None, F64)
    mm = lookup("aten.mm")
    assert mm.shape(TensorMeta((None, 3), F32), TensorMeta((3, None), F32)) == TensorMeta(
        (None, None), F32
    )
    assert mm.shape(TensorMeta((2, None), F32), TensorMeta((5, 7), F32)) == TensorMeta((2, 7), F32)


@pytest.mark.parametrize(
    "qname, unit",
    [(q, op.attrs["identity"][1]) for q, op in OPS_BY_QNAME.items() if "identity" in op.attrs],
)
def test_declared_identities_hold(qname, unit):
    # The canonicalizer folds op(x, unit) -> x when the types agree; check that is true eagerly.
    op = OPS_BY_QNAME[qname]
    arg = op.attrs["identity"][0]
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    args = [x if a.name == "self" else unit if a.name == arg else a.default for a in op.schema.args]
    out = op.eager(*args)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize(
    "qname", [q for q, op in OPS_BY_QNAME.items() if op.attrs.get("involution")]
)
def test_declared_involutions_hold(qname):
    op = OPS_BY_QNAME[qname]
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    np.testing.assert_array_equal(op.eager(op.eager(x)), x)


# -- non-elementwise ops: shape rules and eager on random shapes ----------------------------------

dim = st.integers(0, 4)


def _rand(shape, dtype=np.float32, seed=0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def _check_rule(op, args):
    """Eager result vs shape rule; returns the eager result."""
    out = op.eager(*args)
    metas = [
        TensorMeta(a.shape, from_numpy_dtype(a.dtype)) if isinstance(a, np.ndarray) else a
        for a in args
    ]
    assert op.shape(*metas) == TensorMeta(out.shape, from_numpy_dtype(out.dtype))
    return out


@settings(max_examples=40, deadline=None, database=None)
@given(m=dim, k=dim, n=dim, dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_mm_matmul_shapes(m, k, n, dtype):
    a, b = _rand((m, k), dtype), _rand((k, n), dtype, 1)
    for q in ("aten.mm", "aten.matmul"):
        out = _check_rule(lookup(q), [a, b])
        assert out.shape == (m, n) and out.dtype == dtype
        np.testing.assert_allclose(
            out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5
        )


@settings(max_examples=30, deadline=None, database=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
def test_t_shapes(shape):
    a = _rand(shape)
    out = _check_rule(lookup("aten.t"), [a])
    assert out.shape == tuple(reversed(shape))
    np.testing.assert_array_equal(out, np.transpose(a))


@settings(max_examples=40, deadline=None, database=None)
@given(
    lead=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
    fin=dim,
    fout=dim,
    bias=st.sampled_from(["none", "full", "broadcast"]),
)
def test_linear_shapes(lead, fin, fout, bias):
    x, w = _rand((*lead, fin)), _rand((fout, fin), seed=1)
    b = None if bias == "none" else _rand((fout,) if bias == "full" else (1,), seed=2)
    out = _check_rule(lookup("aten.linear"), [x, w, b])
    ref = x.astype(np.float64) @ w.astype(np.float64).T + (0 if b is None else b)
    assert out.shape == (*lead, fout)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@settings(max_examples=40, deadline=None, database=None)
@given(
    m=dim,
    k=dim,
    n=dim,
    self_shape=st.sampled_from(["full", "row", "col", "one"]),
    beta=st.sampled_from([1, 0.5, 0]),
    alpha=st.sampled_from([1, 2, -1.5]),
)
def test_addmm_shapes(m, k, n, self_shape, beta, alpha):
    s_shape = {"full": (m, n), "row": (n,), "col": (m, 1), "one": (1,)}[self_shape]
    s, a, b = _rand(s_shape, seed=3), _rand((m, k)), _rand((k, n), seed=1)
    out = _check_rule(lookup("aten.addmm"), [s, a, b, beta, alpha])
    ref = beta * s.astype(np.float64) + alpha * (a.astype(np.float64) @ b)
    assert out.shape == (m, n) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "qname, shapes",
    [
        ("aten.mm", [(2, 3), (4, 2)]),
        ("aten.mm", [(3,), (3,)]),
        ("aten.mm", [(2, 3, 4), (4, 2)]),
        ("aten.t", [(2, 3, 4)]),
        ("aten.linear", [(2, 3), (4, 5), None]),
        ("aten.addmm", [(3, 3), (2, 3), (3, 2)]),
        ("aten.addmm", [(2, 2), (2, 3), (4, 2)]),
    ],
)
def test_rule_and_eager_reject_the_same_shapes(qname, shapes):
    op = lookup(qname)
    args = [None if s is None else _rand(s) for s in shapes]
    metas = [None if a is None else TensorMeta(a.shape, F32) for a in args]
    with pytest.raises(ShapeError):
        op.shape(*metas)
    with pytest.raises((ValueError, RuntimeError)):
        op.eager(*args)


def test_mm_rule_and_eager_reject_mixed_dtypes():
    op = lookup("aten.mm")
    with pytest.raises(ShapeError, match="same dtype"):
        op.shape(TensorMeta((2, 2), F32), TensorMeta((2, 2), F64))
    with pytest.raises((ValueError, RuntimeError)):
        op.eager(_rand((2, 2)), _rand((2, 2), np.float64))


# -- decompositions, run eagerly against the op's own eager semantics -----------------------------

# qualified name -> list of argument lists (schema order; None = absent optional tensor)
DECOMP_EXAMPLES: dict[str, list[list[Any]]] = {
    "aten.glu": [[(3, 4), 1], [(2, 6, 3), -2], [(4,), 0]],
    "aten.prelu": [[(2, 3, 4), (3,)], [(2, 3, 4), (1,)], [(5,), (1,)]],
    "aten.linear": [
        [(3, 4), (5, 4), (5,)],
        [(3, 4), (5, 4), None],
        [(1, 1), (1, 1), (1,)],
        [(0, 4), (2, 4), (2,)],
        [(3, 4), (0, 4), (0,)],
    ],
    "aten.addmm": [
        [(3, 5), (3, 4), (4, 5), 1, 1],
        [(5,), (3, 4), (4, 5), 0.5, 2],
        [(3, 1), (3, 4), (4, 5), 1, -1.5],
        [(1,), (2, 0), (0, 3), 2, 1],
    ],
    "aten.matmul": [
        [(3, 4), (4, 5)],
        [(1, 1), (1, 1)],
        [(0, 2), (2, 3)],
    ],
    "aten.mean": [[(3, 4)], [(0, 2)]],
    "aten.mean.dim": [[(3, 4), [1], False], [(2, 3, 4), [0, -1], True], [(3, 4), None, False]],
    "aten.argmax": [
        [(3, 4), 1, False],
        [(3, 4), None, False],
        [(2, 3), None, True],
        [(1, 3), -1, True],
    ],
    "aten.argmin": [[(3, 4), 0, False], [(3, 4), None, True]],
    "aten.max.dim": [[(3, 4), 1, False], [(2, 3, 1), 0, True]],
    "aten.min.dim": [[(3, 4), -1, True]],
    "aten.softmax.int": [[(3, 4), 1, None], [(2, 3, 4), 0, None], [(2, 0), 1, None]],
    "aten.log_softmax.int": [[(3, 4), -1, None], [(1, 5), 0, None]],
    "aten.layer_norm": [
        [(3, 4), [4], (4,), (4,), 1e-5, True],
        [(2, 3, 4), [3, 4], None, None, 1e-3, True],
    ],
    "aten.flatten.using_ints": [[(2, 3, 4), 0, -1], [(2, 3, 4), 1, 2], [(3,), 0, 0]],
    "aten.contiguous": [[(3, 4), 0]],
    "aten.dropout": [[(3, 4), 0.3, False]],
    "aten.stack": [[[(2, 3), (2, 3)], 0], [[(2, 3), (2, 3), (2, 3)], -1]],
    # issue 12 (tests/api/test_api_ops.py compares them with PyTorch, eager and traced)
    "aten.where.Scalar": [[("bool", 3, 4), 1.0, 0.0], [("bool", 2), 2, 3]],
    "aten.tril": [[(3, 4), 0], [(2, 3, 4), -1]],
    "aten.triu": [[(4, 3), 1]],
    "aten.flip": [[(3, 4), [0]], [(2, 3, 4), [0, -1]]],
    "aten.roll": [[(3, 4), [1], [1]], [(3, 4), [-5], []], [(3, 4), [1, 2], [0, 1]]],
    "aten.repeat": [[(3, 4), [2, 1]], [(3,), [2, 2]]],
    "aten.cumsum": [[(3, 4), 1, None], [(5,), 0, None]],
    "aten.var": [[(3, 4), True]],
    "aten.std": [[(3, 4), False]],
    "aten.var.dim": [[(3, 4), [1], True, False]],
    "aten.std.dim": [[(3, 4), [0, 1], False, True]],
    "aten.var.correction": [[(3, 4), [1], 0, True]],
    "aten.std.correction": [[(3, 4), None, 2, False]],
    # conv nets (tests/api/test_api_conv.py compares them with PyTorch)
    "aten.convolution": [
        [(2, 4, 6, 5), (6, 2, 3, 2), (6,), [2, 1], [1, 0], [1, 2], False, [0, 0], 2],
        [(2, 3, 7), (4, 3, 3), None, [1], [1], [1], False, [0], 1],
        [(2, 4, 5, 3), (4, 3, 3, 2), (6,), [2, 3], [1, 0], [1, 2], True, [1, 2], 2],
    ],
    "aten.conv1d": [[(3, 7), (4, 3, 3), (4,), [2], [1], [1], 1]],
    "aten.conv2d": [[(2, 3, 6, 5), (4, 3, 3, 3), None, [1], [1], [1], 1]],
    "aten.conv_transpose1d": [[(2, 4, 5), (4, 3, 3), (6,), [2], [1], [1], 2, [1]]],
    "aten.conv_transpose2d": [[(3, 5, 4), (3, 2, 3, 2), None, [2, 1], [0], [1, 0], 1, [1, 2]]],
    "aten.constant_pad_nd": [[(3, 4), [1, -1, 2, 0], 1.5]],
    "aten.max_pool1d": [[(2, 3, 7), [3], [2], [1], [1], True]],
    "aten.max_pool2d": [[(2, 3, 7, 6), [2, 3], [2, 1], [1, 1], [1, 2], False]],
    "aten.avg_pool2d": [
        [(2, 3, 7, 6), [3, 3], [2, 2], [1, 1], True, False, None],
        [(2, 3, 6, 6), [2, 2], [], [0], False, True, 3],
    ],
    "aten.adaptive_avg_pool2d": [
        [(2, 3, 6, 4), [3, 2]],
        [(2, 3, 6, 4), [1]],
        [(2, 3, 6, 4), [4, 3]],
        [(1, 2, 3, 3), [6, 6]],
    ],
    "aten._adaptive_avg_pool2d": [[(3, 6, 4), [2, 4]]],
    # 3-D conv nets (tests/api/test_api_nn_modules2.py compares them with PyTorch)
    "aten.conv3d": [[(2, 4, 5, 4, 3), (6, 2, 2, 3, 2), (6,), [2, 1, 1], [1, 0, 1], [1, 1, 2], 2]],
    "aten.conv_transpose3d": [
        [(4, 3, 2, 3), (4, 2, 2, 2, 3), None, [2, 1, 2], [0, 1, 0], [1, 0, 1], 1, [1, 1, 1]]
    ],
    "aten.max_pool3d": [[(2, 3, 5, 6, 4), [2, 3, 2], [2, 1, 2], [1, 1, 0], [1, 1, 1], True]],
    "aten.avg_pool3d": [
        [(2, 3, 5, 6, 4), [3, 2, 2], [2, 2, 1], [1, 1, 1], True, False, None],
        [(1, 2, 4, 4, 4), [2], [], [0], False, True, 3],
    ],
    "aten.adaptive_avg_pool3d": [[(2, 3, 5, 6, 4), [3, 2, 4]], [(2, 3, 4, 6, 4), [2, 3, 1]]],
    "aten._adaptive_avg_pool3d": [[(3, 5, 6, 4), [1]]],
    "aten.batch_norm": [[(2, 3, 4), (3,), (3,), (3,), (3,), False, 0.1, 1e-5, True]],
    "aten.unflatten.int": [[(2, 6, 3), 1, [2, -1]]],
    "aten.logsumexp": [[(3, 4), [1], False], [(3, 4), [0, 1], True]],
    # issue 12's sorting and norms (tests/api/test_api_ops12.py compares them with PyTorch)
    "aten.sort": [[(3, 5), 1, False], [(4, 3), 0, True], [(6,), -1, True]],
    "aten.sort.stable": [[(3, 5), True, -1, True]],
    "aten.argsort": [[(3, 5), 1, True], [(2, 3, 4), 1, False]],
    "aten.argsort.stable": [[(3, 5), True, 0, False]],
    "aten.topk": [
        [(3, 5), 2, 1, True, True],
        [(4, 3), 3, 0, False, True],
        [(5,), 0, -1, True, True],
    ],
    "aten.linalg_vector_norm": [
        [(3, 4), 2, None, False, None],
        [(3, 4), 1, [1], True, None],
        [(2, 3, 4), float("inf"), [0, 2], False, None],
        [(3, 4), float("-inf"), [0], False, None],
        [(3, 4), 0, [1], False, None],
        [(3, 4), 3.5, None, True, None],
    ],
    "aten.norm.Scalar": [[(3, 4), 2], [(3, 4), 1]],
    "aten.norm.ScalarOpt_dim": [[(3, 4), None, [1], False], [(3, 4), 3, [0], True]],
    "aten.take_along_dim": [
        [(3, 4), np.array([[0, 3], [1, 1], [2, -1]]), 1],
        [(3, 4), np.array([[0, 3]]), 1],  # broadcast against self off `dim`
        [(3, 4), np.array([[11, 0]]), None],
    ],
    "aten.slice_scatter": [
        [(4, 6), (4, 3), 1, 0, None, 2],
        [(4, 6), (2, 6), 0, 1, 3, 1],
        [(4, 6), (4, 2), 1, -3, -1, 1],
        [(4, 6), (4, 0), 1, 3, 3, 1],
    ],
    "aten.select_scatter": [[(4, 6), (6,), 0, -1], [(4, 6), (4,), 1, 2]],
    "aten.scatter.src": [
        [(4, 3), 0, np.array([[3, 0, 2], [1, 2, 0]]), (3, 3)],
        [(4, 3), 1, np.array([[2, 0], [1, 2]]), (2, 3)],
    ],
    "aten.scatter.value": [[(4, 3), 0, np.array([[3, 0, 2]]), 1.5]],
    "aten.scatter_add": [
        [(4, 3), 0, np.array([[3, 0, 3], [3, 0, 0]]), (2, 3)],
        [(4, 3), 1, np.array([[0, 0, 0], [2, 2, 1]]), (2, 4)],
    ],
    "aten.index_add": [
        [(4, 3), 0, np.array([1, 1, 3]), (3, 3), 1],
        [(4, 3), 1, np.array([2, 0]), (4, 2), 2.5],
    ],
    "aten.index_copy": [[(4, 3), 1, np.array([2, 0]), (4, 2)]],
    "aten.index_fill.int_Scalar": [[(4, 3), 0, np.array([-1, 1]), -3.0]],
    "aten.masked_scatter": [
        [(4, 3), np.arange(12).reshape(4, 3) % 3 == 1, (20,)],
        [(4, 3), np.array([True, False, True]), (3, 3)],
    ],
    # issue 12's breadth (tests/test_ops_breadth.py compares them with PyTorch)
    "aten.narrow": [[(3, 5), 1, 1, 3], [(3, 5), -1, -2, 2]],
    "aten.movedim.int": [[(2, 3, 4), 0, -1]],
    "aten.movedim.intlist": [[(2, 3, 4), [0, 1], [2, 0]]],
    "aten.swapaxes": [[(2, 3, 4), 0, 2]],
    "aten.diagonal": [[(3, 4), 0, 0, 1], [(3, 4), 1, 0, 1], [(2, 4, 3), -1, 2, 1]],
    "aten.diag": [[(3, 4), 1], [(4,), 0], [(3,), -2], [(3,), 1]],
    "aten.tile": [[(2, 3), [2]], [(2, 3), [2, 1, 2]]],
    "aten.repeat_interleave.self_int": [[(2, 3), 2, None, None], [(2, 3), 3, 1, None]],
    "aten.broadcast_to": [[(3, 1), [2, 3, 4]]],
    "aten.fliplr": [[(3, 4)]],
    "aten.flipud": [[(3, 4)]],
    "aten.expand_as": [[(3, 1), (3, 4)]],
    "aten.view_as": [[(3, 4), (2, 6)]],
    "aten.reshape_as": [[(3, 4), (4, 3)]],
    "aten.tril_indices": [[4, 3, 0, None], [3, 5, -1, None]],
    "aten.triu_indices": [[4, 3, 1, None]],
    "aten.all": [[(3, 4)]],
    "aten.all.dim": [[(3, 4), 1, False]],
    "aten.all.dims": [[(3, 4), [0, 1], True]],
    "aten.any": [[(3, 4)]],
    "aten.any.dim": [[(3, 4), 0, True]],
    "aten.any.dims": [[(3, 4), None, False]],
    "aten.count_nonzero": [[(3, 4), None], [(3, 4), 1]],
    "aten.count_nonzero.dim_IntList": [[(3, 4), [0, 1]]],
    "aten.cumprod": [[(3, 4), 1, None], [(5,), 0, None]],
    "aten.nan_to_num": [
        [np.array([np.nan, np.inf, -np.inf, 1.5], np.float32), None, None, None],
        [np.array([np.nan, np.inf, -np.inf], np.float32), 1.0, 2.0, -3.0],
    ],  # fmt: skip
    "aten.positive": [[(3, 4)]],
    "aten.outer": [[(3,), (4,)]],
    "aten.dot": [[(4,), (4,)]],
    "aten.baddbmm": [[(2, 3, 5), (2, 3, 4), (2, 4, 5), 0.5, 2], [(5,), (2, 3, 4), (2, 4, 5), 0, 1]],
    "aten.linspace": [[0, 1, 7, None], [-2.5, 3, 5, None], [0, 10, 5, xjit.int64], [3, 3, 1, None]],
    "aten.logspace": [[0, 2, 3, 10.0, None], [-1, 1, 4, 2.0, None]],
    "aten.eye": [[3, None]],
    "aten.eye.m": [[2, 4, None], [3, 2, xjit.bool]],
    "aten.hstack": [[[(2, 3), (2, 1)]], [[(3,), (2,)]]],
    "aten.vstack": [[[(2, 3), (1, 3)]], [[(3,), (3,)]]],
    "aten.column_stack": [[[(3,), (3, 2)]], [[(2, 2, 2), (2, 1, 2)]]],
    "aten.median": [[(3, 4)], [(5,)]],
    "aten.masked_select": [
        [(3, 4), np.array([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)],
        [(3, 4), np.array([True, False, False, True])],  # broadcast mask
        [(2, 1), np.array([[True, False, True], [False, False, True]])],  # broadcast self
        [(3,), np.zeros(3, bool)],  # none selected
    ],
    "aten.median.dim": [[(3, 5), 1, False], [(4, 3), 0, True]],
    "aten.nll_loss": [
        [(4, 5), np.array([1, 0, 4, -100]), None, 1, -100],
        [(4, 5), np.array([1, 0, 4, 2]), None, 0, 0],
        [(4, 5), np.array([1, 0, 4, 2]), None, 2, 0],
    ],
    # the torch API breadth of xjit/ops/{stats,product,arrange,matrix,counting}_ops.py
    # (tests/test_ops_breadth2.py compares them with PyTorch, eager, traced and scripted)
    **{
        f"aten.{n}{o}": ex
        for n in ("std_mean", "var_mean")
        for o, ex in (
            ("", [[(3, 4), True], [(3, 4), False]]),
            (".dim", [[(3, 4), [1], True, False], [(2, 3, 4), [0, 2], False, True]]),
            (".correction", [[(3, 4), [0, 1], 0, True], [(3, 4), None, None, False]]),
        )
    },
    "aten.aminmax": [
        [(3, 4), None, False],
        [(3, 4), 1, True],
        [(2, 3, 4), -1, False],
        [(3, 4), None, True],
    ],
    "aten.nansum": [
        [np.array([[1.0, np.nan], [2, 3]], np.float32), None, False, None],
        [(3, 4), [1], True, None],
        [np.array([[1, 2], [3, 4]]), [0], False, None],
    ],
    "aten.nanmean": [
        [np.array([[1.0, np.nan], [2, 3]], np.float32), [1], False, None],
        [(3, 4), None, True, None],
    ],
    "aten.cummax": [
        [(3, 5), 1],
        [np.array([1.0, 3, 3, np.nan, 2, np.nan, 5], np.float32), 0],
        [np.array([[1, 3, 3], [2, 2, 1]]), 0],
        [np.array([True, False, True]), 0],
    ],
    "aten.cummin": [[(3, 5), 0], [np.array([1.0, 0, 0, np.nan, -5], np.float32), -1]],
    "aten.logcumsumexp": [[(3, 5), 1], [(4, 3), 0]],
    "aten.mv": [[(3, 4), (4,)]],
    "aten.addmv": [[(3,), (3, 4), (4,), 0.5, 2], [(1,), (3, 4), (4,), 0, 1]],
    "aten.addr": [
        [(3, 4), (3,), (4,), 1, 2],
        [(3, 4), (3,), (4,), 0, 1],
        [np.array([[True, False]]), np.array([True, False]), np.array([False, True]), True, True],
    ],
    "aten.tensordot": [
        [(3, 4, 5), (5, 4, 2), [1, 2], [1, 0]],
        [(3, 4), (4, 2), [1], [0]],
        [(2,), (3,), [], []],
    ],
    "aten.kron": [[(2, 3), (3, 2)], [(2,), (2, 3)], [(2, 2, 1), (3,)]],
    "aten.cdist": [
        [(3, 4), (5, 4), 2.0, None],
        [(3, 4), (5, 4), 1.0, None],
        [(3, 4), (5, 4), 0.0, None],
        [(3, 4), (5, 4), float("inf"), None],
        [(3, 4), (5, 4), 2.0, 1],
        [(30, 4), (5, 4), 2.0, None],
        [(3, 4), (2, 4), 3.0, None],
    ],
    "aten.rot90": [
        [(3, 4), 1, [0, 1]],
        [(2, 3, 4), 3, [2, 0]],
        [(3, 4), 2, [1, 0]],
        [(3, 4), 0, [0, 1]],
    ],
    "aten.diff": [
        [(3, 5), 1, -1, None, None],
        [(4, 3), 2, 0, (1, 3), (2, 3)],
        [np.array([True, False, False, True]), 1, 0, None, None],
        [(3, 5), 0, 1, None, None],
    ],
    "aten.trapezoid.x": [[(3, 5), (5,), -1], [(4, 3), np.array([0, 1, 3, 6]), 0]],
    "aten.trapezoid.dx": [[(3, 5), 1, -1], [(4, 3), 0.5, 0], [np.arange(12).reshape(3, 4), 2, 1]],
    "aten.block_diag": [
        [[(2, 3), (1, 1), (3,)]],
        [[np.ones((2, 2), np.int64), np.full((1, 2), 0.5, np.float32)]],
    ],
    "aten.cartesian_prod": [[[(3,), (2,)]], [[(2,), (2,), (3,)]], [[(4,)]]],
    "aten.combinations": [[(4,), 2, False], [(4,), 3, True], [(3,), 0, False], [(2,), 3, False]],
    "aten.unfold": [[(3, 8), 1, 3, 2], [(5,), 0, 2, 1], [(4, 3), 0, 4, 1]],
    "aten.isin.Tensor_Tensor": [
        [np.array([[1, 2], [3, 4]]), np.array([2, 3, 5]), False, False],
        [np.array([1.0, np.nan, 2]), np.array([np.nan, 2.0]), False, True],
    ],
    "aten.isin.Tensor_Scalar": [[np.array([1, 2, 3]), 2, False, False]],
    "aten.isin.Scalar_Tensor": [
        [2, np.array([1, 2]), False, False],
        [3, np.array([1, 2]), False, True],
    ],
    "aten.linalg_matrix_norm": [
        [(3, 4), 1, [-2, -1], False, None],
        [(2, 3, 4), float("-inf"), [0, 2], True, None],
        [(3, 4), float("inf"), [1, 0], False, None],
        [(3, 4), -1, [-2, -1], True, None],
    ],
    "aten.linalg_matrix_norm.str_ord": [
        [(3, 4), "fro", [-2, -1], False, None],
        [(2, 3, 4), "fro", [0, 2], True, None],
    ],
}


def _make_arg(a: Any, rng: Any) -> Any:
    if isinstance(a, tuple) and a and a[0] == "bool":  # ("bool", *shape): a condition mask
        return rng.standard_normal(a[1:]) > 0
    if isinstance(a, tuple):
        return rng.standard_normal(a).astype(np.float32)
    if isinstance(a, list) and a and isinstance(a[0], tuple):
        return [rng.standard_normal(t).astype(np.float32) for t in a]
    return a


def _wrap_arg(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return xjit.from_numpy(a)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return [xjit.from_numpy(x) for x in a]
    return a


def _decomp_cases():
    cases = []
    for op in DECOMPOSABLE:
        q = op.schema.qualified_name
        for i, ex in enumerate(DECOMP_EXAMPLES.get(q, [None])):
            cases.append(pytest.param(op, ex, id=f"{q}-{i}"))
    return cases


@pytest.mark.parametrize("op, example", _decomp_cases())
def test_decomposition_matches_eager(op, example):
    q = op.schema.qualified_name
    assert example is not None, f"add examples for {q} to DECOMP_EXAMPLES in {__file__}"
    rng = np.random.default_rng(7)
    args = [_make_arg(a, rng) for a in example]
    results = op.decompose(xjit, *[_wrap_arg(a) for a in args])
    eagers = op.eager(*args)
    results = results if isinstance(results, tuple) else (results,)
    eagers = eagers if isinstance(eagers, tuple) else (eagers,)
    metas = [
        TensorMeta(a.shape, from_numpy_dtype(a.dtype))
        if isinstance(a, np.ndarray)
        else [TensorMeta(x.shape, from_numpy_dtype(x.dtype)) for x in a]
        if isinstance(a, list) and a and isinstance(a[0], np.ndarray)
        else a
        for a in args
    ]
    rules = op.shape(*metas)
    rules = rules if isinstance(rules, tuple) else (rules,)
    for decomposed, eager, rule in zip(results, eagers, rules, strict=True):
        assert isinstance(decomposed, xjit.Tensor)
        assert decomposed.shape == eager.shape
        assert decomposed.dtype == from_numpy_dtype(eager.dtype)
        np.testing.assert_allclose(decomposed.numpy(), eager, rtol=1e-6, atol=1e-6)
        # and both agree with the shape rule (a `?` where the count is the data's)
        want = eager.shape
        if op.attrs.get("data_sized"):
            want = tuple(None if r is None else e for r, e in zip(rule.shape, eager.shape))
        assert rule == TensorMeta(want, from_numpy_dtype(eager.dtype))


def test_decompositions_only_use_registered_ops():
    # Run under a recorder: every op a decomposition calls goes through the registry.
    from xjit._dispatch import pop_recorder, push_recorder

    seen: list[str] = []

    class Rec:
        def record(self, op, args, result):
            seen.append(op.schema.qualified_name)

    # (inputs made first: `rand` is an op too, and would be recorded)
    a, b, c, d, e, f = (xjit.rand(*s) for s in [(2, 3), (4, 3), (4,), (4,), (2, 3), (3, 4)])
    push_recorder(Rec())
    try:
        lookup("aten.linear").decompose(xjit, a, b, c)
        lookup("aten.addmm").decompose(xjit, d, e, f, beta=2, alpha=3)
    finally:
        pop_recorder()
    assert seen == [
        "aten.t",
        "aten.mm",
        "aten.add.Tensor",
        "aten.mm",
        "aten.mul.Scalar",
        "aten.mul.Scalar",
        "aten.add.Tensor",
    ]
