"""Which array memory xjit wrote, and which array memory numpy users can reach.

Compiled code may keep a value derived from a parameter (a contiguous copy of a large weight's
transpose, backends/numpy/runtime.py `transposed`) instead of recomputing it on every call. It
stays correct only while it can tell when the parameter's memory changed. Like torch's version
counter (shared by a tensor and its views), the state is kept per *root*: the array that owns
the memory, found by following `.base` from any view of it.

- `wrote(a)`: every xjit path that writes into an existing array (in-place ops, `x[i] = v`,
  `copy_`/`fill_`/`zero_`, `.data = ...`, `load_state_dict`, `nn.init`, ...) calls it with
  the array (or view) written; the root's version goes up.
- `expose(a)`: memory handed to or taken from numpy users (`t.numpy()`, `np.asarray(t)`,
  `xjit.from_numpy(a)`, `xjit.Tensor(a)`, ...) can be written where xjit cannot see it. Its root
  is marked exposed for good, and nothing derived from it is cached from then on.
- `cacheable(a)`: the root's state, to compare versions with later; None if a cache of `a`
  could go stale unseen (the root was exposed, or its memory is not an array's own).

States exist only for roots that were exposed or are cached from; they go with their root.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np


class RootState:
    """The write version of one root array, and whether numpy users can reach its memory."""

    __slots__ = ("version", "exposed", "ref")

    def __init__(self) -> None:
        self.version = 0
        self.exposed = False
        self.ref: Any = None


# id(root) -> its state; an entry is removed when its root is freed (weakref callback).
_states: dict[int, RootState] = {}


def root_of(a: Any) -> Any:
    """The object that owns `a`'s memory: `.base` followed to its end (views of views, and
    `as_strided`'s wrapper objects, which keep the original array as their `.base`)."""
    r = a
    b = getattr(r, "base", None)
    while b is not None:
        r = b
        b = getattr(r, "base", None)
    return r


def _state(root: np.ndarray) -> RootState:
    k = id(root)
    st = _states.get(k)
    if st is None or st.ref() is not root:
        st = RootState()
        st.ref = weakref.ref(root, functools.partial(_forget, k))  # no cycle through `st`
        _states[k] = st
    return st


def _forget(k: int, ref: Any) -> None:
    st = _states.get(k)
    if st is not None and st.ref is ref:
        del _states[k]


def wrote(a: Any) -> None:
    """xjit wrote (or is about to write) into `a`'s memory."""
    if _states:
        st = _states.get(id(root_of(a)))
        if st is not None:
            st.version += 1


def expose(a: Any) -> None:
    """`a`'s memory is (or came from) an array numpy users hold: writes may bypass xjit."""
    root = root_of(a)
    if isinstance(root, np.ndarray):
        st = _state(root)
        if not st.exposed:
            st.exposed = True
            st.version += 1  # caches made before this see a change and let go


def cacheable(a: np.ndarray) -> RootState | None:
    """The state to check a cache of a value derived from `a` against, or None when such a
    cache could miss a write: `a`'s root was exposed, or is not an array owning its memory
    (bytes, a memory map, a buffer)."""
    root = root_of(a)
    if not isinstance(root, np.ndarray) or not root.flags.owndata:
        return None
    st = _state(root)
    return None if st.exposed else st


# The rebind epoch: bumped whenever a module's parameter, buffer or submodule is replaced (or
# deleted) or an existing Tensor's array is replaced (`.data =` another shape, `t_()`,
# `m.double()`). Compiled code binds arrays when it is compiled; it compares this one int per call
# and re-resolves what it bound only after a change (xjit/jit/compiled.py). A list: generated call
# paths read the same cell.
REBINDS = [0]


def rebound() -> None:
    """Something compiled code may have bound was replaced: compiled functions re-check."""
    REBINDS[0] += 1
