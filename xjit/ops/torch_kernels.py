"""Ports of the selection loops of torch's CPU kernels, for results that depend on their order
of comparisons (the index `kthvalue` and `mode` return on ties and NaN): torch's
`quick_select_template` (aten/src/ATen/native/SortingUtils.h) and libstdc++'s `std::sort`
(introsort + insertion sort), which torch's `mode` sorts each row with. Same pivots, same
swaps, same comparator (`<` is false with a NaN), so the same element lands in the same place.
Pure Python over lists: these run eagerly, one row at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_Gt = Callable[[Any, Any], bool]


def _swap(v: list[Any], ix: list[int], a: int, b: int) -> None:
    v[a], v[b] = v[b], v[a]
    ix[a], ix[b] = ix[b], ix[a]


def quickselect(v: list[Any], ix: list[int], k: int, gt: _Gt) -> None:
    """Put the k-th smallest (by `gt`) of `v` at `k`, moving `ix` alike, as torch does."""
    lo, hi = 0, len(v) - 1
    while True:
        if hi <= lo:
            return
        if hi == lo + 1:
            if gt(v[lo], v[hi]):
                _swap(v, ix, lo, hi)
            return
        p = lo + (hi - lo) // 2  # median of three
        _swap(v, ix, p, lo + 1)
        if gt(v[lo + 1], v[hi]):
            _swap(v, ix, lo + 1, hi)
        if gt(v[lo], v[hi]):
            _swap(v, ix, lo, hi)
        if gt(v[lo + 1], v[lo]):
            _swap(v, ix, lo + 1, lo)
        i, j, piv = lo + 1, hi, v[lo]
        while True:
            i += 1
            while gt(piv, v[i]):
                i += 1
            j -= 1
            while gt(v[j], piv):
                j -= 1
            if j < i:
                break
            _swap(v, ix, i, j)
        _swap(v, ix, lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1


# -- libstdc++ std::sort with `a.first < b.first` ---------------------------------------------------
_THRESHOLD = 16  # libstdc++'s _S_threshold


def _insertion(v: list[Any], ix: list[int], lo: int, hi: int) -> None:
    for i in range(lo + 1, hi):
        if v[i] < v[lo]:  # to the front
            val, vi = v[i], ix[i]
            v[lo + 1 : i + 1], ix[lo + 1 : i + 1] = v[lo:i], ix[lo:i]
            v[lo], ix[lo] = val, vi
        else:
            _unguarded_insert(v, ix, i)


def _unguarded_insert(v: list[Any], ix: list[int], i: int) -> None:
    val, vi = v[i], ix[i]
    j = i - 1
    while val < v[j]:
        v[j + 1], ix[j + 1] = v[j], ix[j]
        j -= 1
    v[j + 1], ix[j + 1] = val, vi


def _median_to_first(v: list[Any], ix: list[int], r: int, a: int, b: int, c: int) -> None:
    if v[a] < v[b]:
        if v[b] < v[c]:
            _swap(v, ix, r, b)
        elif v[a] < v[c]:
            _swap(v, ix, r, c)
        else:
            _swap(v, ix, r, a)
    elif v[a] < v[c]:
        _swap(v, ix, r, a)
    elif v[b] < v[c]:
        _swap(v, ix, r, c)
    else:
        _swap(v, ix, r, b)


def _partition(v: list[Any], ix: list[int], first: int, last: int, pivot: int) -> int:
    while True:
        while v[first] < v[pivot]:
            first += 1
        last -= 1
        while v[pivot] < v[last]:
            last -= 1
        if not first < last:
            return first
        _swap(v, ix, first, last)
        first += 1


def _introsort_loop(v: list[Any], ix: list[int], first: int, last: int, depth: int) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:
            # libstdc++ falls back to heapsort here, which is not ported: refuse, never guess
            raise NotImplementedError(
                "mode(): this row needs std::sort's heapsort fallback, which xjit does not "
                "reproduce (the index of a tied mode would not be torch's)"
            )
        depth -= 1
        mid = first + (last - first) // 2
        _median_to_first(v, ix, first, first + 1, mid, last - 1)
        cut = _partition(v, ix, first + 1, last, first)
        _introsort_loop(v, ix, cut, last, depth)
        last = cut


def std_sort(v: list[Any], ix: list[int]) -> None:
    """Sort `v` (moving `ix` alike) exactly as libstdc++'s `std::sort` with `<`."""
    n = len(v)
    if n < 2:
        return
    _introsort_loop(v, ix, 0, n, 2 * (n.bit_length() - 1))
    if n > _THRESHOLD:
        _insertion(v, ix, 0, _THRESHOLD)
        for i in range(_THRESHOLD, n):
            _unguarded_insert(v, ix, i)
    else:
        _insertion(v, ix, 0, n)
