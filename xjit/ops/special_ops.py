"""Special functions and float bit-level ops: `lgamma`, `digamma`, `polygamma`, `erfinv`
(eager only: the scalar vocabulary the compiler lowers to has none of them, and no
approximation is substituted), `frexp` (eager only: two results), and the elementwise
`heaviside`, `copysign`, `ldexp`, which compile.

numpy has none of the special functions either; each is computed here in float64 to full
precision (then rounded to the input's float dtype; integer and bool inputs give float32, as
torch): `lgamma` by math.lgamma; `digamma` by recurrence to x >= 10 and its asymptotic series,
with torch's reflection for negative x (through the fractional part, as torch); `polygamma`
(n >= 2) as (-1)^(n+1) n! zeta(n+1, x) with cephes' Hurwitz zeta (torch's own); `erfinv` by
Newton's method on a float64 erf from a rational first guess. `polygamma(1, x)` (trigamma)
follows torch's formula in the input's precision, so that at its poles (non-positive
integers) it gives the same huge finite value torch's rounding of sin(pi x) gives.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.elementwise_ops import elementwise
from xjit.ops.erf import erf_series
from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, float32, from_numpy_dtype, int32
from xjit.ops.uncompiled import eager_only

FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])  # noqa: PYI024  (torch.return_types)


def _float_shape(x: TensorMeta) -> TensorMeta:
    return TensorMeta(x.shape, x.dtype if x.dtype is None or x.dtype.is_floating_point else float32)


def _out_dtype(a: np.ndarray) -> np.dtype:
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)


# -- lgamma ----------------------------------------------------------------------------------------


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2, ...): torch gives +inf
        return math.inf


_lgamma_vec = np.vectorize(_lgamma_scalar, otypes=[np.float64])


def _lgamma_eager(a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        return np.zeros(a.shape, _out_dtype(a))
    return np.asarray(_lgamma_vec(a.astype(np.float64)), _out_dtype(a))


# -- digamma ---------------------------------------------------------------------------------------

_PSI_A = (  # the asymptotic series' coefficients (B_2k / 2k), highest power first
    8.33333333333333333333e-2,
    -2.10927960927960927961e-2,
    7.57575757575757575758e-3,
    -4.16666666666666666667e-3,
    3.96825396825396825397e-3,
    -8.33333333333333333333e-3,
    8.33333333333333333333e-2,
)


def _digamma64(x: np.ndarray) -> np.ndarray:
    """digamma in float64, torch's cases: +-0 -> -+inf, negative integers and -inf -> NaN."""
    x = np.array(x, np.float64, copy=True)
    out = np.zeros_like(x)
    with np.errstate(all="ignore"):
        neg = x < 0
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi * frac(x)) (the fraction: exact)
        frac = np.modf(x)[0]
        refl = np.where(neg, math.pi / np.tan(math.pi * frac), 0.0)
        y = np.where(neg, 1 - x, x)
        acc = np.zeros_like(y)
        for _ in range(10):  # push y to >= 10 (at most ten steps from y > 0)
            small = y < 10
            acc = np.where(small, acc - 1 / np.where(small, y, 1), acc)
            y = np.where(small, y + 1, y)
        z = 1 / (y * y)
        poly = np.zeros_like(z)
        for c in _PSI_A:
            poly = poly * z + c
        series = np.where(y < 1e17, z * poly, 0.0)
        out = acc + np.log(y) - 0.5 / y - series - refl
        out = np.where(x == 0, np.copysign(np.inf, -x), out)
        out = np.where(neg & (x == np.trunc(x)), np.nan, out)  # poles, and -inf
    return out


def _digamma_eager(a: np.ndarray) -> np.ndarray:
    return np.asarray(_digamma64(a.astype(np.float64)), _out_dtype(a))


# -- polygamma -------------------------------------------------------------------------------------

_ZETA_A = (
    12.0,
    -720.0,
    30240.0,
    -1209600.0,
    47900160.0,
    -1.8924375803183791606e9,
    7.47242496e10,
    -2.950130727918164224e12,
    1.1646782814350067249e14,
    -4.5979787224074726105e15,
    1.8152105401943546773e17,
    -7.1661652561756670113e18,
)
_MACHEP = 1.11022302462515654042e-16


def _zeta(x: Any, q: Any) -> float:
    """Hurwitz zeta(x, q), cephes' algorithm (torch's `zeta`): Euler-Maclaurin summation."""
    if x == 1:
        return math.inf
    if x < 1 or math.isnan(q):
        return math.nan
    if q <= 0:
        if q == np.floor(q):  # (-inf included)
            return math.inf
        if x != np.floor(x):
            return math.nan
    with np.errstate(all="ignore"):  # numpy scalars: inf/NaN where Python floats would raise
        x, q = np.float64(x), np.float64(q)
        s = q**-x
        a, b, i = q, np.float64(0.0), 0
        while i < 9 or a <= 9.0:
            i += 1
            a += 1.0
            b = a**-x
            s += b
            if abs(b / s) < _MACHEP:
                return float(s)
        w = a
        s += b * w / (x - 1) - 0.5 * b
        fac, k = np.float64(1.0), np.float64(0.0)
        for coeff in _ZETA_A:
            fac *= x + k
            b /= w
            t = fac * b / coeff
            s += t
            if abs(t / s) < _MACHEP:
                return float(s)
            k += 1.0
            fac *= x + k
            b /= w
            k += 1.0
    return float(s)


def _trigamma(x: np.ndarray) -> np.ndarray:
    """torch's `calc_trigamma`, in x's own precision (its rounding at the poles included)."""
    dt = x.dtype.type
    with np.errstate(all="ignore"):
        low = x < dt(0.5)
        s = np.sin(dt(math.pi) * x)
        result = np.where(low, -(dt(math.pi) * dt(math.pi)) / (s * s), dt(0))
        y = np.where(low, dt(1) - x, x)
        for _ in range(6):
            result = result + dt(1) / (y * y)
            y = y + dt(1)
        ixx = dt(1) / (y * y)
        tail = (
            dt(1)
            + dt(1) / (dt(2) * y)
            + ixx * (dt(1) / dt(6) - ixx * (dt(1) / dt(30) - ixx * (dt(1) / dt(42))))
        )
        result = result + tail / y
    return np.where(low, -result, result).astype(x.dtype)


def _polygamma_shape(n: Any, x: TensorMeta) -> TensorMeta:
    if n is not UNKNOWN and n < 0:
        raise ShapeError("polygamma(n, x) does not support negative n.")
    return _float_shape(x)


def _polygamma_eager(n: int, a: np.ndarray) -> np.ndarray:
    _polygamma_shape(n, TensorMeta(a.shape, from_numpy_dtype(a.dtype)))
    dt = _out_dtype(a)
    if n == 0:
        return _digamma_eager(a)
    if n == 1:
        return _trigamma(a.astype(dt))
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    fact = math.factorial(n)
    flat = [sign * fact * _zeta(n + 1.0, float(v)) for v in a.astype(np.float64).reshape(-1)]
    with np.errstate(all="ignore"):
        return np.asarray(np.array(flat, np.float64).reshape(a.shape), dt)


# -- erfinv ----------------------------------------------------------------------------------------


def _erfinv_eager(a: np.ndarray) -> np.ndarray:
    y = a.astype(np.float64)
    with np.errstate(all="ignore"):
        # first guess (Giles' single-precision approximation), then Newton on a float64 erf
        w = -np.log((1.0 - y) * (1.0 + y))
        central = w < 5.0
        wc = np.where(central, w - 2.5, np.sqrt(np.where(central, 5.0, w)) - 3.0)
        pc = (
            2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
        )  # fmt: skip
        pt = (
            -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
            -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
        )  # fmt: skip
        p = np.zeros_like(y)
        for c_central, c_tail in zip(pc, pt, strict=True):
            p = p * wc + np.where(central, c_central, c_tail)
        x = p * y
        for _ in range(4):
            err = erf_series(x) - y
            x = x - err / (2.0 / math.sqrt(math.pi) * np.exp(-x * x))
        x = np.where(np.abs(y) == 1, np.copysign(np.inf, y), x)
        x = np.where((np.abs(y) > 1) | np.isnan(y), np.nan, x)
        x = np.where(y == 0, y, x)  # keeps -0.0
    return np.asarray(x, _out_dtype(a))


for _name, _fn in (
    ("lgamma", _lgamma_eager),
    ("digamma", _digamma_eager),
    ("erfinv", _erfinv_eager),
):
    register(
        f"aten::{_name}(Tensor self) -> Tensor",
        _float_shape,
        eager=_fn,
        **eager_only(_name),
    )
register(
    "aten::polygamma(int n, Tensor self) -> Tensor",
    _polygamma_shape,
    eager=_polygamma_eager,
    **eager_only("polygamma"),
)


# -- frexp -----------------------------------------------------------------------------------------


def _frexp_shape(x: TensorMeta) -> tuple[TensorMeta, TensorMeta]:
    if x.dtype is not None and not x.dtype.is_floating_point:
        raise ShapeError("torch.frexp() only supports floating-point dtypes")
    return x, TensorMeta(x.shape, int32)


def _frexp_eager(a: np.ndarray) -> FrexpResult:
    _frexp_shape(TensorMeta(a.shape, from_numpy_dtype(a.dtype)))
    m, e = np.frexp(a)
    return FrexpResult(np.asarray(m, a.dtype), np.asarray(e, np.int32))


register(
    "aten::frexp.Tensor(Tensor self) -> (Tensor, Tensor)",
    _frexp_shape,
    eager=_frexp_eager,
    **eager_only("frexp"),
)


# -- heaviside / copysign / ldexp: elementwise, compiled -------------------------------------------


def _same_dtypes(x: Any, v: Any) -> None:
    if (
        isinstance(x, TensorMeta)
        and isinstance(v, TensorMeta)
        and None not in (x.dtype, v.dtype)
        and x.dtype != v.dtype
    ):
        raise ShapeError("heaviside is not yet implemented for tensors with different dtypes.")


elementwise(
    "aten::heaviside(Tensor self, Tensor values) -> Tensor",
    # torch: x == 0 ? values : (x > 0); NaN is not > 0
    lambda o, x, v: o.select(o.eq(x, 0), v, o.select(o.gt(x, 0), 1, 0)),
    check=_same_dtypes,
)
elementwise(
    "aten::copysign.Tensor(Tensor self, Tensor other) -> Tensor",
    lambda o, x, y: o.copysign(x, y),
    dtype="float",
)
elementwise(
    "aten::copysign.Scalar(Tensor self, Scalar other) -> Tensor",
    lambda o, x, y: o.copysign(x, y),
    dtype="float",
)
elementwise(
    "aten::ldexp.Tensor(Tensor self, Tensor other) -> Tensor",
    lambda o, x, e: o.mul(x, o.exp2(e)),  # torch: self * 2 ** other
    dtype="float",
)
