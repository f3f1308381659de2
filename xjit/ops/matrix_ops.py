"""`torch.linalg` decompositions and matrix functions: `inv` (and `inverse`), `det` (and `det`),
`solve`, `cholesky`, `qr`, `svd`, `eigh`, `matrix_norm`. numpy.linalg computes them (the same
LAPACK routines as torch's CPU kernels, in the input's precision); torch's checks come first,
with its messages. The decompositions are eager only: a trace or a script refuses them at the
user's line. `matrix_norm` with 'fro', ±1 or ±inf decomposes into sums and maxima, and
compiles; with 2, -2 or 'nuc' (singular values) it is eager only.

Singular vectors (`svd`) and eigenvectors (`eigh`) are unique only up to the sign of each
vector, and which sign comes out is the LAPACK build's: numpy's (OpenBLAS) and torch's (MKL)
can differ, so xjit's U/Vh columns/rows and eigenvectors may be torch's negated (torch's docs
say the same of its own devices). Singular values, eigenvalues, `U @ diag(S) @ Vh` and
`Q`/`R` (Householder, deterministic) are torch's to float tolerance.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import (
    ShapeError,
    TensorMeta,
    bool_,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
    normalize_dim,
)
from xjit.ops.uncompiled import NOT_COMPILED, eager_only

QRResult = namedtuple("linalg_qr", ["Q", "R"])  # noqa: PYI024  (torch.return_types)
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])  # noqa: PYI024
EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])  # noqa: PYI024

_KERNEL_NAME = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", bool_: "Bool"}


def _float_check(what: str, dtype: Any) -> None:
    if dtype is not None and not dtype.is_floating_point:
        raise ShapeError(
            f"{what}: Expected a floating point or complex tensor as input. Got "
            f"{_KERNEL_NAME[dtype]}"
        )


def _matrix_check(what: str, x: TensorMeta, square: bool = True) -> None:
    """torch's checks of a (batch of) matrix input: float, at least 2-D, square."""
    _float_check(what, x.dtype)
    if x.shape is None:
        return
    if len(x.shape) < 2:
        raise ShapeError(f"{what}: The input tensor A must have at least 2 dimensions.")
    m, n = x.shape[-2:]
    if square and None not in (m, n) and m != n:
        raise ShapeError(
            f"{what}: A must be batches of square matrices, but they are {m} by {n} matrices"
        )


def _meta(a: np.ndarray) -> TensorMeta:
    return TensorMeta(a.shape, from_numpy_dtype(a.dtype))


def _lapack(what: str, fn: Any, *args: Any, failure: str) -> Any:
    """numpy.linalg's LinAlgError as torch's (a RuntimeError, as torch's _LinAlgError)."""
    try:
        return fn(*args)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"{what}: {failure}") from None


# -- inv / det -------------------------------------------------------------------------------------

_SINGULAR = "The input matrix is singular (a zero pivot in its LU factorization)."


def _inv_shape(x: TensorMeta) -> TensorMeta:
    _matrix_check("linalg.inv", x)
    return x


def _inv_eager(a: np.ndarray) -> np.ndarray:
    _inv_shape(_meta(a))
    return np.asarray(_lapack("linalg.inv", np.linalg.inv, a, failure=_SINGULAR), a.dtype)


def _det_shape(x: TensorMeta) -> TensorMeta:
    _matrix_check("linalg.det", x)
    return TensorMeta(None if x.shape is None else x.shape[:-2], x.dtype)


def _det_eager(a: np.ndarray) -> np.ndarray:
    _det_shape(_meta(a))
    return np.asarray(np.linalg.det(a), a.dtype)


for _schema, _py in (
    ("aten::linalg_inv(Tensor A) -> Tensor", "torch.linalg.inv"),
    ("aten::inverse(Tensor self) -> Tensor", None),
):
    register(_schema, _inv_shape, eager=_inv_eager, py=_py, **eager_only(_schema[6:].split("(")[0]))
for _schema, _py in (
    ("aten::linalg_det(Tensor A) -> Tensor", "torch.linalg.det"),
    ("aten::det(Tensor self) -> Tensor", None),
):
    register(_schema, _det_shape, eager=_det_eager, py=_py, **eager_only(_schema[6:].split("(")[0]))


# -- solve -----------------------------------------------------------------------------------------


def _solve_vector_case(a: TensorMeta, b: TensorMeta) -> bool:
    """torch: B is a (batch of) vector(s) when 1-D, or when its shape is A's without the last."""
    assert a.shape is not None and b.shape is not None
    return len(b.shape) == 1 or (len(b.shape) == len(a.shape) - 1 and b.shape == a.shape[:-1])


def _solve_shape(a: TensorMeta, b: TensorMeta, left: Any = True) -> TensorMeta:
    _matrix_check("linalg.solve", a)
    _float_check("linalg.solve", b.dtype)
    if a.dtype is not None and b.dtype is not None and a.dtype != b.dtype:
        raise ShapeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_KERNEL_NAME[a.dtype]} and B of type {_KERNEL_NAME[b.dtype]} instead"
        )
    if a.shape is None or b.shape is None or left is UNKNOWN or None in (*a.shape, *b.shape):
        return TensorMeta(None, a.dtype)
    vector = _solve_vector_case(a, b)
    bm = (*b.shape, 1) if vector else b.shape
    n = a.shape[-1]
    rows, cols = (bm[-2], bm[-1]) if left else (bm[-1], bm[-2])
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
            f"({n}x{n} and {bm[-2]}x{bm[-1]})"
        )
    batch = np.broadcast_shapes(a.shape[:-2], bm[:-2])
    out = (*batch, *bm[-2:])
    return TensorMeta(out[:-1] if vector else out, a.dtype)


def _solve_eager(a: np.ndarray, b: np.ndarray, left: bool = True) -> np.ndarray:
    m = _solve_shape(_meta(a), _meta(b), left)
    vector = _solve_vector_case(_meta(a), _meta(b))
    bm = b[..., None] if vector else b
    fail = "The solver failed because the input matrix is singular."
    if left:
        x = _lapack("linalg.solve", np.linalg.solve, a, bm, failure=fail)
    else:  # XA = B  <=>  A^T X^T = B^T
        at, bt = np.swapaxes(a, -1, -2), np.swapaxes(bm, -1, -2)
        x = np.swapaxes(_lapack("linalg.solve", np.linalg.solve, at, bt, failure=fail), -1, -2)
    return np.ascontiguousarray((x[..., 0] if vector else x).reshape(m.shape), a.dtype)


register(
    "aten::linalg_solve(Tensor A, Tensor B, *, bool left=True) -> Tensor",
    _solve_shape,
    eager=_solve_eager,
    py="torch.linalg.solve",
    **eager_only("linalg_solve"),
)


# -- cholesky --------------------------------------------------------------------------------------


def _cholesky_shape(x: TensorMeta, upper: Any = False) -> TensorMeta:
    _matrix_check("linalg.cholesky", x)
    return x


def _cholesky_eager(a: np.ndarray, upper: bool = False) -> np.ndarray:
    _cholesky_shape(_meta(a))
    if a.size == 0:
        return a.copy()
    lower = np.tril(a)  # LAPACK's potrf reads one triangle: the lower, as torch's
    sym = lower + np.swapaxes(np.tril(a, -1), -1, -2)
    try:
        chol = np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        raise RuntimeError(
            "linalg.cholesky: The factorization could not be completed because the input is "
            f"not positive-definite (the leading minor of order {_failing_minor(sym)} is not "
            "positive-definite)."
        ) from None
    out = np.swapaxes(chol, -1, -2) if upper else chol
    return np.ascontiguousarray(out, a.dtype)


def _failing_minor(sym: np.ndarray) -> int:
    """The order of the first leading minor that is not positive definite (of the first matrix
    in the batch that fails), as LAPACK's potrf reports it."""
    mats = sym.reshape(-1, *sym.shape[-2:])
    for m in mats:
        for k in range(1, m.shape[-1] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return k
    return mats.shape[-1]


register(
    "aten::linalg_cholesky(Tensor self, *, bool upper=False) -> Tensor",
    _cholesky_shape,
    eager=_cholesky_eager,
    py="torch.linalg.cholesky",
    **eager_only("linalg_cholesky"),
)


# -- qr / svd / eigh -------------------------------------------------------------------------------


def _qr_shape(x: TensorMeta, mode: Any = "reduced") -> tuple[TensorMeta, TensorMeta]:
    _matrix_check("linalg.qr", x, square=False)
    if mode not in ("reduced", "complete", "r", UNKNOWN):
        raise ShapeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    if x.shape is None or mode is UNKNOWN or None in x.shape[-2:]:
        return TensorMeta(None, x.dtype), TensorMeta(None, x.dtype)
    *batch, m, n = x.shape
    k = m if mode == "complete" else min(m, n)
    q = (0,) if mode == "r" else (*batch, m, k)
    return TensorMeta(q, x.dtype), TensorMeta((*batch, k, n), x.dtype)


def _qr_eager(a: np.ndarray, mode: str = "reduced") -> QRResult:
    mq, mr = _qr_shape(_meta(a), mode)
    if mode == "r":
        r = np.linalg.qr(a, mode="r") if a.size else np.zeros(mr.shape, a.dtype)
        return QRResult(np.zeros((0,), a.dtype), np.asarray(r, a.dtype))
    if a.size == 0:  # numpy refuses empty stacks; torch: Q the identity's columns, R zeros
        q = np.zeros(mq.shape, a.dtype)
        eye = np.eye(mq.shape[-2], mq.shape[-1], dtype=a.dtype)
        return QRResult(np.ascontiguousarray(q + eye), np.zeros(mr.shape, a.dtype))
    q, r = np.linalg.qr(a, mode=mode)
    return QRResult(np.asarray(q, a.dtype), np.asarray(r, a.dtype))


register(
    "aten::linalg_qr(Tensor A, str mode='reduced') -> (Tensor, Tensor)",
    _qr_shape,
    eager=_qr_eager,
    py="torch.linalg.qr",
    **eager_only("linalg_qr"),
)


def _svd_shape(x: TensorMeta, full_matrices: Any = True, driver: Any = None) -> Any:
    _matrix_check("linalg.svd", x, square=False)
    if driver is not None:
        raise ShapeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs "
            "with cuSOLVER backend."
        )
    if x.shape is None or full_matrices is UNKNOWN or None in x.shape[-2:]:
        return tuple(TensorMeta(None, x.dtype) for _ in range(3))
    *batch, m, n = x.shape
    k = min(m, n)
    um, vn = (m, n) if full_matrices else (k, k)
    return (
        TensorMeta((*batch, m, um), x.dtype),
        TensorMeta((*batch, k), x.dtype),
        TensorMeta((*batch, vn, n), x.dtype),
    )


def _svd_eager(a: np.ndarray, full_matrices: bool = True, driver: Any = None) -> SVDResult:
    mu, ms, mv = _svd_shape(_meta(a), full_matrices, driver)
    if a.size == 0:
        eye = lambda m: np.zeros(m.shape, a.dtype) + np.eye(*m.shape[-2:], dtype=a.dtype)  # noqa: E731
        return SVDResult(eye(mu), np.zeros(ms.shape, a.dtype), eye(mv))
    fail = "The algorithm failed to converge because the input matrix is ill-conditioned."
    u, s, vh = _lapack("linalg.svd", np.linalg.svd, a, full_matrices, failure=fail)
    return SVDResult(*(np.asarray(t, a.dtype) for t in (u, s, vh)))


register(
    "aten::linalg_svd(Tensor A, bool full_matrices=True, *, str? driver=None) -> (Tensor, Tensor, Tensor)",
    _svd_shape,
    eager=_svd_eager,
    py="torch.linalg.svd",
    **eager_only("linalg_svd"),
)


def _eigh_shape(x: TensorMeta, uplo: Any = "L") -> tuple[TensorMeta, TensorMeta]:
    _matrix_check("linalg.eigh", x)
    if uplo not in ("L", "U", "l", "u", UNKNOWN):
        raise ShapeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    vals = None if x.shape is None else x.shape[:-1]
    return TensorMeta(vals, x.dtype), x


def _eigh_eager(a: np.ndarray, uplo: str = "L") -> EighResult:
    _eigh_shape(_meta(a), uplo)
    if a.size == 0:
        return EighResult(np.zeros(a.shape[:-1], a.dtype), a.copy())
    fail = "The algorithm failed to converge because the input matrix is ill-conditioned."
    w, v = _lapack("linalg.eigh", np.linalg.eigh, a, uplo.upper(), failure=fail)
    return EighResult(np.asarray(w, a.dtype), np.asarray(v, a.dtype))


register(
    "aten::linalg_eigh(Tensor self, str UPLO='L') -> (Tensor, Tensor)",
    _eigh_shape,
    eager=_eigh_eager,
    py="torch.linalg.eigh",
    **eager_only("linalg_eigh"),
)


# -- matrix_norm -----------------------------------------------------------------------------------

_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _norm_dims(x: TensorMeta, dim: Any) -> tuple[int, int]:
    if len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {len(dim)}")
    rank = len(x.shape)  # type: ignore[arg-type]
    d0, d1 = normalize_dim(dim[0], rank), normalize_dim(dim[1], rank)
    if d0 == d1:
        raise ShapeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def _matrix_norm_shape(
    x: TensorMeta, ord: Any = "fro", dim: Any = (-2, -1), keepdim: Any = False, dtype: Any = None
) -> TensorMeta:
    _float_check("linalg.matrix_norm", x.dtype)
    if dtype is not None:
        raise NotImplementedError("linalg.matrix_norm(dtype=...) is not supported by xjit")
    if ord is not UNKNOWN and ord not in _ORDS:
        raise ShapeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if x.shape is None or dim is UNKNOWN or keepdim is UNKNOWN:
        return TensorMeta(None, x.dtype)
    if len(x.shape) < 2:
        raise ShapeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = _norm_dims(x, list(dim))
    if keepdim:
        return TensorMeta(tuple(1 if i in dims else s for i, s in enumerate(x.shape)), x.dtype)
    return TensorMeta(tuple(s for i, s in enumerate(x.shape) if i not in dims), x.dtype)


def _matrix_norm_eager(
    a: np.ndarray, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, dtype: Any = None
) -> np.ndarray:
    m = _matrix_norm_shape(_meta(a), ord, dim, keepdim, dtype)
    if a.size == 0:
        return np.zeros(m.shape, a.dtype)
    d0, d1 = _norm_dims(_meta(a), list(dim))
    with np.errstate(all="ignore"):
        out = np.linalg.norm(a, ord, axis=(d0, d1), keepdims=keepdim)
    return np.asarray(out, a.dtype)


def _matrix_norm_decompose(
    torch: Any,
    x: Any,
    ord: Any = "fro",
    dim: Any = (-2, -1),
    keepdim: bool = False,
    dtype: Any = None,
) -> Any:
    if ord not in ("fro", 1, -1, math.inf, -math.inf) or x.shape is None or 0 in x.shape:
        return None  # 2, -2, 'nuc' need singular values: eager only
    d0, d1 = _norm_dims(_meta_of(x), list(dim))
    if ord == "fro":
        return torch.linalg_vector_norm(x, 2, [d0, d1], keepdim)
    # 1: the largest column sum of |x| (sum over d0, extreme over d1); inf: rows (the reverse)
    summed, other = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = torch.sum(torch.abs(x), [summed], True)
    ext = torch.amax(sums, [other], True) if ord > 0 else torch.amin(sums, [other], True)
    if keepdim:
        return ext
    return torch.squeeze(torch.squeeze(ext, max(d0, d1)), min(d0, d1))


def _meta_of(x: Any) -> TensorMeta:
    return TensorMeta(tuple(x.shape), x.dtype)


def _svd_norm_lower(builder: Any, *args: Any) -> Any:
    raise NotImplementedError(NOT_COMPILED.format(op="linalg_matrix_norm with ord 2, -2 or 'nuc'"))


for _schema in (
    "aten::linalg_matrix_norm(Tensor self, Scalar ord, int[] dim=[-2, -1], bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    "aten::linalg_matrix_norm.str_ord(Tensor self, str ord='fro', int[] dim=[-2, -1], bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
):
    register(
        _schema,
        _matrix_norm_shape,
        eager=_matrix_norm_eager,
        decompose=_matrix_norm_decompose,
        lower=_svd_norm_lower,
        py="torch.linalg.matrix_norm",
    )
