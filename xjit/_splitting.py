"""`split` / `chunk` / `unbind` / `tensor_split`: several views of one tensor, as `slice` and
`select` ops. Written against a torch-like namespace `T` (like registry decompositions): with
`T = xjit` they run eagerly (and tracing records the slices); with `T` emitting IR they could
serve a script frontend that knows shapes. The number of pieces is fixed by static sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xjit import _dispatch
from xjit.ops.types import normalize_dim


def _dim_size(x: Any, dim: int) -> tuple[int, int]:
    if x.dim() == 0:
        raise RuntimeError("split/chunk/unbind expect a tensor with at least one dimension")
    d = normalize_dim(dim, x.dim())
    if x.shape[d] is None:
        raise NotImplementedError("split/chunk/unbind along a dimension of unknown size")
    return d, _dispatch.static_int(x.shape[d], "used to cut the tensor into pieces")


def _pieces(T: Any, x: Any, d: int, bounds: Sequence[tuple[int, int]]) -> tuple[Any, ...]:
    return tuple(T.slice(x, d, s, e, 1) for s, e in bounds)


def _split(T: Any, x: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    """`torch.split`: pieces of `split_size` (the last may be smaller), or of the listed sizes."""
    d, n = _dim_size(x, dim)
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_dispatch.static_int(s, "used as a split size") for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}"
            )
        bounds, start = [], 0
        for s in sizes:
            bounds.append((start, start + s))
            start += s
        return _pieces(T, x, d, bounds)
    size = _dispatch.static_int(split_size_or_sections, "used as a split size")
    if size <= 0 and not (size == 0 and n == 0):
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if n == 0:
        return _pieces(T, x, d, [(0, 0)])
    return _pieces(T, x, d, [(s, min(s + size, n)) for s in range(0, n, size)])


def _chunk(T: Any, x: Any, chunks: int, dim: int = 0) -> tuple[Any, ...]:
    """`torch.chunk`: ceil(n / chunks)-sized pieces (possibly fewer than `chunks`)."""
    if not isinstance(chunks, int) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    _, n = _dim_size(x, dim)
    return _split(T, x, max(-(-n // chunks), 1) if n else 0, dim)


def _unbind(T: Any, x: Any, dim: int = 0) -> tuple[Any, ...]:
    d, n = _dim_size(x, dim)
    return tuple(T.select(x, d, i) for i in range(n))


def _tensor_split(T: Any, x: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    """`torch.tensor_split`: `sections` near-equal pieces (the first n % sections one longer),
    or pieces between the given indices."""
    d, n = _dim_size(x, dim)
    if isinstance(indices_or_sections, _dispatch.Tensor):  # the registered tensor class
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [min(max(i + n if i < 0 else i, 0), n) for i in map(int, indices_or_sections)]
        starts = [0, *cuts]
        ends = [*cuts, n]
        return _pieces(T, x, d, [(s, max(s, e)) for s, e in zip(starts, ends, strict=True)])
    k = int(indices_or_sections)
    if k <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {k}")
    q, r = divmod(n, k)
    bounds, start = [], 0
    for i in range(k):
        size = q + (1 if i < r else 0)
        bounds.append((start, start + size))
        start += size
    return _pieces(T, x, d, bounds)


class _Eager:
    """The eager namespace `T` (`xjit.slice`, `xjit.select`): registry ops through `call`, so
    tracing records them, without importing the `xjit` package above this module."""

    @staticmethod
    def slice(*args: Any) -> Any:
        return _dispatch.call("slice", *args)

    @staticmethod
    def select(*args: Any) -> Any:
        return _dispatch.call("select", *args)


def _eager() -> Any:
    return _Eager


def nonzero_tuple(x: Any) -> tuple[Any, ...]:
    """`torch.nonzero(x, as_tuple=True)` / `torch.where(x)`: one index tensor per dim of x, the
    columns of `nonzero` (their length the data's); a 0-d x is read as one element."""
    nz = _dispatch.call("nonzero", _dispatch.call("reshape", x, [1]) if x.dim() == 0 else x)
    return tuple(_dispatch.call("select", nz, 1, d) for d in range(max(x.dim(), 1)))


def split(x: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    return _split(_eager(), x, split_size_or_sections, dim)


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple[Any, ...]:
    return _chunk(_eager(), x, chunks, dim)


def unbind(x: Any, dim: int = 0) -> tuple[Any, ...]:
    return _unbind(_eager(), x, dim)


def tensor_split(x: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    return _tensor_split(_eager(), x, indices_or_sections, dim)
