"""The op registry: one entry per torch op ties together everything xjit knows about it.

An `OpDef` holds the op's schema (from which the `torch` dialect op class is generated), its
shape/dtype rule, its eager numpy semantics, and how it is compiled: an elementwise scalar
`body` (lowered to a `linalg.generic` and also used for eager execution), a `lower` function
(for non-elementwise ops lowered directly to linalg) or a `decompose` function (rewritten into
other torch ops). Adding an op means adding one entry in one of the `xjit/ops/*_ops.py` files.

The compiler reads the entries through two hooks: the `TorchShapeInference` trait of every
generated op class applies `shape` (torch-shape-refinement, upstream shape-inference), and the
one `AtenConversion` pattern of convert-torch-to-linalg applies `body`/`lower` (docs/passes.md).

Nothing here imports xDSL: eager use of xjit stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xjit.ops.schema import Schema, parse_schema
from xjit.ops.types import DType, TensorMeta

# A shape rule gets the op's arguments in schema order, tensors as `TensorMeta`, other args as
# their Python values (or `UNKNOWN` when only known at run time), and returns the result meta(s).
ShapeRule = Callable[..., TensorMeta | tuple[TensorMeta, ...]]


class _Unknown:
    """A non-tensor argument whose value is only known at run time."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True, eq=False)
class OpDef:
    schema: Schema
    shape: ShapeRule
    py: str  # how `.code` spells a call of this op, e.g. "torch.add"
    eager: Callable[..., Any] | None = None
    # Elementwise ops: `body(ops, *args)` computes one element from scalars, in `compute_dtype`.
    body: Callable[..., Any] | None = None
    compute_dtype: Callable[..., DType] | None = None
    # Direct lowering to linalg: `lower(builder, *args)`, args in schema order.
    lower: Callable[..., Any] | None = None
    # Decomposition into other torch ops: `decompose(torch_like, *args)`.
    decompose: Callable[..., Any] | None = None
    fold: Callable[..., Any] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The dialect op name, e.g. `torch.aten.add.Tensor`."""
        return f"torch.{self.schema.qualified_name}"

    @property
    def is_elementwise(self) -> bool:
        return self.body is not None


REGISTRY: dict[str, OpDef] = {}  # by dialect op name
OVERLOADS: dict[str, list[OpDef]] = {}  # by Python name ("add"), in resolution order


def register(
    schema: str,
    shape: ShapeRule,
    *,
    py: str | None = None,
    overload_of: Sequence[str] | None = None,
    **kwargs: Any,
) -> OpDef:
    """Register an op. `overload_of` lists the Python names that may resolve to it
    (defaults to the schema's base name, e.g. `add` for `aten::add.Tensor`)."""
    s = parse_schema(schema)
    op = OpDef(schema=s, shape=shape, py=py or f"torch.{s.name}", **kwargs)
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name} registered twice")
    REGISTRY[op.name] = op
    for name in overload_of or (s.name,):
        OVERLOADS.setdefault(name, []).append(op)
    return op


def lookup(name: str) -> OpDef:
    """The entry for a dialect op name (`torch.aten.tanh`) or a qualified name (`aten.tanh`)."""
    _ensure_loaded()
    key = name if name.startswith("torch.") else f"torch.{name}"
    return REGISTRY[key]


def overloads(py_name: str) -> list[OpDef]:
    _ensure_loaded()
    return OVERLOADS[py_name]


def all_ops() -> list[OpDef]:
    _ensure_loaded()
    return list(REGISTRY.values())


_loaded = False


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from xjit.ops import (  # noqa: F401  (register on import)
            creation_ops,
            elementwise_ops,
            linalg_ops,
            reduction_ops,
            scalar_ops,
            shape_ops,
        )
