"""torch-level functions whose Python signature is not their registry op's: `tensordot`
(`dims` an int or two lists), `cdist` (`compute_mode` a string), `block_diag` and
`cartesian_prod` (varargs tensors). Each is one registry op call
(`_dispatch.call`), marked with `script_as` so a scripted call compiles to that op."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _dim_list(d: Any) -> list[Any]:
    return list(d) if isinstance(d, (list, tuple)) else [d]


def _tensordot_op(a: Any, b: Any, dims: Any = 2, out: Any = None) -> tuple[str, list[Any]]:
    if out is not None:
        raise NotImplementedError("tensordot(out=...) is not supported by xjit")
    if isinstance(dims, int) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        rank = a.dim()  # (a scripted tensor has no dim(): AttributeError, reported located)
        return "tensordot", [a, b, list(range(rank - dims, rank)), list(range(dims))]
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        return "tensordot", [a, b, _dim_list(dims[0]), _dim_list(dims[1])]
    raise RuntimeError(
        f"tensordot expects dims to be an int or a pair of dim lists, got {type(dims).__name__}"
    )


def _scripted_tensordot_op(a: Any, b: Any, dims: Any = 2, out: Any = None) -> tuple[str, list]:
    """The script frontend's call: `dims` a compiled list or tuple of the two dim lists (whose
    items bind to `int[]`); an int `dims` needs the rank, which is not known here."""
    items = getattr(dims, "items", None)
    if out is not None or items is None or len(items) != 2:
        raise NotImplementedError(
            "tensordot in scripted code takes dims=[dims_a, dims_b] (two lists) and no out="
        )
    return "tensordot", [a, b, items[0], items[1]]


@script_as(_scripted_tensordot_op)
def tensordot(a: Any, b: Any, dims: Any = 2, out: Any = None) -> Any:
    name, args = _tensordot_op(a, b, dims, out)
    return call(name, *args)


_CDIST_MODES = {
    "use_mm_for_euclid_dist_if_necessary": 0,
    "use_mm_for_euclid_dist": 1,
    "donot_use_mm_for_euclid_dist": 2,
}


def _cdist_op(x1: Any, x2: Any, p: float = 2.0, compute_mode: Any = None) -> tuple[str, list]:
    if compute_mode is not None and compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = None if compute_mode is None else _CDIST_MODES[compute_mode]
    return "cdist", [x1, x2, float(p), mode]


@script_as(_cdist_op)
def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: Any = None) -> Any:
    name, args = _cdist_op(x1, x2, p, compute_mode)
    return call(name, *args)


def _tensors(tensors: tuple[Any, ...]) -> list[Any]:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


@script_as(lambda tensors: ("block_diag", [tensors]))
def block_diag(*tensors: Any) -> Any:
    return call("block_diag", _tensors(tensors))


@script_as(lambda tensors: ("cartesian_prod", [tensors]))
def cartesian_prod(*tensors: Any) -> Any:
    return call("cartesian_prod", _tensors(tensors))
