"""The refusal of ops that xjit runs eagerly but does not compile (linalg decompositions, special
functions math has no op for, data-sized results): a trace and a script refuse them at the
user's line through the entry's `data_dependent` attr (frontends/trace.py, script), and the
entry's lowering refuses an op that reached the IR some other way (xjit-opt on a text file).
Also the lowering of ops that compile only by decomposition with static sizes, and
`probe_rule`, the shape rule of composite ops whose result metas eager computes exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN
from xjit.ops.types import TensorMeta, from_numpy_dtype, promote

NOT_COMPILED = (
    "aten::{op} is not supported by the compiler (run it eagerly, outside the traced or "
    "scripted code)"
)


def eager_only(op: str) -> dict[str, Any]:
    """The `register` keywords of an eager-only op named `op` (its aten name)."""
    why = NOT_COMPILED.format(op=op)

    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(why)

    return {"lower": lower, "attrs": {"data_dependent": why}}


def static_only(op: str) -> Any:
    """The lowering of an op that compiles by decomposition, which needs static sizes (and
    constant arguments): without them, refuse."""

    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(
            f"aten::{op} is compiled for static sizes and constant arguments only"
        )

    return lower


def _zeros(m: TensorMeta, dynamic: bool) -> np.ndarray:
    assert m.shape is not None and m.dtype is not None
    return np.zeros(tuple(1 if s is None else s for s in m.shape), m.dtype.np)


def probe_rule(eager: Callable[..., Any], results: int = 1) -> Callable[..., Any]:
    """A shape rule that runs the op's eager semantics on zeros of the operands' shapes and
    dtypes: the result metas are exactly eager's, and so are the errors (for ops whose result
    shape and dtype depend on shapes, dtypes and arguments, never on values). With a dynamic
    size the result's dims are unknown (its rank and dtype are the probe's on size 1); with an
    unranked operand or a run-time argument, nothing is known."""

    def rule(*args: Any) -> Any:
        metas = [m for a in args for m in (a if isinstance(a, list) else [a])]
        tensors = [m for m in metas if isinstance(m, TensorMeta)]
        if any(a is UNKNOWN for a in metas) or any(
            m.shape is None or m.dtype is None for m in tensors
        ):
            return _unknown(results)
        dynamic = any(None in m.shape for m in tensors)  # type: ignore[operator]
        concrete = [
            [_zeros(m, dynamic) for m in a]
            if isinstance(a, list) and a and isinstance(a[0], TensorMeta)
            else _zeros(a, dynamic)
            if isinstance(a, TensorMeta)
            else a
            for a in args
        ]
        if not dynamic:
            return _metas(eager(*concrete), known=True)
        try:
            return _metas(eager(*concrete), known=False)
        except Exception:  # noqa: BLE001  (size 1 stands for an unknown size it may not fit)
            return _unknown(results)

    return rule


def _metas(out: Any, known: bool) -> Any:
    if isinstance(out, tuple):
        return tuple(_metas(o, known) for o in out)
    shape = out.shape if known else tuple(None for _ in out.shape)
    return TensorMeta(shape, from_numpy_dtype(out.dtype))


def _unknown(results: int) -> Any:
    metas = tuple(TensorMeta(None, None) for _ in range(results))
    return metas if results > 1 else metas[0]


def promoted_np(*arrays: np.ndarray) -> np.dtype:
    """torch.promote_types over the arrays' dtypes (no 0-d rule: what `cat` and `kron` do)."""
    dt = from_numpy_dtype(arrays[0].dtype)
    for a in arrays[1:]:
        dt = promote(dt, from_numpy_dtype(a.dtype))
    return dt.np
