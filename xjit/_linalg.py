"""`torch.linalg`: what model code calls of it (`vector_norm`, `norm`, `matrix_norm`, `inv`,
`det`, `solve`, `cholesky`, `qr`, `svd`, `eigh`), over the registry's ops (xjit/ops/norm_ops.py,
xjit/ops/matrix_ops.py)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _vector_norm_op(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> tuple[str, list[Any]]:
    if dtype is not None:  # a keyword-only argument of the op (one positional list here)
        raise NotImplementedError("vector_norm(dtype=...) in scripted code")
    # an int (or a scripted int) binds to `int[]?` as a one-element list; tuples become lists
    return "linalg_vector_norm", [x, ord, list(dim) if isinstance(dim, tuple) else dim, keepdim]


@script_as(_vector_norm_op)
def vector_norm(
    x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    name, args = _vector_norm_op(x, ord, dim, keepdim)
    return call(name, *args, dtype=dtype)


# -- decompositions and matrix functions (xjit/ops/matrix_ops.py): eager only, except
# matrix_norm with 'fro', ±1, ±inf, which compiles --------------------------------------------------


@script_as(lambda A: ("linalg_inv", [A]))
def inv(A: Any) -> Any:  # noqa: N803  (torch's argument name)
    return call("linalg_inv", A)


@script_as(lambda A: ("linalg_det", [A]))
def det(A: Any) -> Any:  # noqa: N803
    return call("linalg_det", A)


@script_as(lambda A, B, left=True: ("linalg_solve", [A, B, left]))
def solve(A: Any, B: Any, *, left: bool = True) -> Any:  # noqa: N803
    return call("linalg_solve", A, B, left=left)


@script_as(lambda A, upper=False: ("linalg_cholesky", [A, upper]))
def cholesky(A: Any, *, upper: bool = False) -> Any:  # noqa: N803
    return call("linalg_cholesky", A, upper=upper)


@script_as(lambda A, mode="reduced": ("linalg_qr", [A, mode]))
def qr(A: Any, mode: str = "reduced") -> Any:  # noqa: N803
    return call("linalg_qr", A, mode)


def _svd_op(A: Any, full_matrices: Any = True, driver: Any = None) -> tuple[str, list[Any]]:  # noqa: N803
    if driver is not None:  # (a keyword-only argument of the op: one positional list here)
        raise NotImplementedError("linalg.svd(driver=...) in scripted code")
    return "linalg_svd", [A, full_matrices]


@script_as(_svd_op)
def svd(A: Any, full_matrices: bool = True, *, driver: Any = None) -> Any:  # noqa: N803
    return call("linalg_svd", A, full_matrices, driver=driver)


@script_as(lambda A, UPLO="L": ("linalg_eigh", [A, UPLO]))  # noqa: N803
def eigh(A: Any, UPLO: str = "L") -> Any:  # noqa: N803
    return call("linalg_eigh", A, UPLO)


def _matrix_norm_op(
    A: Any,  # noqa: N803
    ord: Any = "fro",
    dim: Any = (-2, -1),
    keepdim: bool = False,
    dtype: Any = None,
) -> tuple[str, list[Any]]:
    if dtype is not None:
        raise NotImplementedError("linalg.matrix_norm(dtype=...) is not supported by xjit")
    return "linalg_matrix_norm", [A, ord, list(dim), keepdim]


@script_as(_matrix_norm_op)
def matrix_norm(
    A: Any,  # noqa: N803
    ord: Any = "fro",
    dim: Any = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Any:
    name, args = _matrix_norm_op(A, ord, dim, keepdim, dtype)
    return call(name, *args)


def _norm_op(
    A: Any,  # noqa: N803
    ord: Any = None,
    dim: Any = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> tuple[str, list[Any]]:
    """torch.linalg.norm: a vector norm over one dim (or all, without `ord`), a matrix norm
    over two; with `ord` and no `dim`, the input's rank (1 or 2) decides."""
    if dtype is not None:
        raise NotImplementedError("linalg.norm(dtype=...) is not supported by xjit")
    dims = [dim] if isinstance(dim, int) else None if dim is None else list(dim)
    if dims is None and ord is not None:
        rank = A.dim()
        if rank not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                f"Got {rank}D."
            )
        dims = list(range(rank))
    if dims is not None and len(dims) == 2:
        return _matrix_norm_op(A, "fro" if ord is None else ord, dims, keepdim)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}'")
    return _vector_norm_op(A, 2 if ord is None else ord, dims, keepdim)


@script_as(_norm_op)
def norm(
    A: Any,  # noqa: N803
    ord: Any = None,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Any:
    name, args = _norm_op(A, ord, dim, keepdim, dtype)
    return call(name, *args)
