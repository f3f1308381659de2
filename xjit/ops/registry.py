"""The op registry: one entry per torch op ties together everything xjit knows about it.

An `OpDef` (xjit/ops/opdef.py) holds the op's schema (from which the `torch` dialect op class is
generated), its shape/dtype rule, its eager numpy semantics, and how it is compiled: an
elementwise scalar `body` (lowered to a `linalg.generic` and also used for eager execution), a
`lower` function (for non-elementwise ops lowered directly to linalg) or a `decompose` function
(rewritten into other torch ops). Adding an op means adding one entry in one of the
`xjit/ops/*_ops.py` files. The lookups here load those files on first use.

The compiler reads the entries through two hooks: the `TorchShapeInference` trait of every
generated op class applies `shape` (torch-shape-refinement, upstream shape-inference), and the
one `AtenConversion` pattern of convert-torch-to-linalg applies `body`/`lower` (docs/passes.md).

Nothing here imports xDSL: eager use of xjit stays light.
"""

from __future__ import annotations

from xjit.ops.opdef import OVERLOADS, REGISTRY, UNKNOWN, OpDef, ShapeRule, register

__all__ = [
    "OVERLOADS",
    "REGISTRY",
    "UNKNOWN",
    "OpDef",
    "ShapeRule",
    "all_ops",
    "ensure_loaded",
    "lookup",
    "overloads",
    "register",
]


def lookup(name: str) -> OpDef:
    """The entry for a dialect op name (`torch.aten.tanh`) or a qualified name (`aten.tanh`)."""
    ensure_loaded()
    key = name if name.startswith("torch.") else f"torch.{name}"
    return REGISTRY[key]


def overloads(py_name: str) -> list[OpDef]:
    ensure_loaded()
    return OVERLOADS[py_name]


def all_ops() -> list[OpDef]:
    ensure_loaded()
    return list(REGISTRY.values())


_loaded = False


def ensure_loaded() -> None:
    """Import the op-definition modules (each registers its ops), once, in this order (the
    order of `OVERLOADS`)."""
    global _loaded
    if not _loaded:
        _loaded = True
        # lazy: the op catalog loads on the first op used, not on `import xjit`
        from xjit.ops import (  # noqa: F401  (register on import)
            activation_ops,
            arrange_ops,
            categorical_ops,
            composite_ops,
            conv_ops,
            counting_ops,
            creation_ops,
            einsum_ops,
            elementwise_ops,
            factory_ops,
            index_ops,
            layout_ops,
            linalg_ops,
            logical_ops,
            loss_ops,
            math_ops,
            matrix_ops,
            norm_ops,
            product_ops,
            reduction_ops,
            sampling_ops,
            scalar_ops,
            scatter_ops,
            selection_ops,
            shape_ops,
            sort_ops,
            special_ops,
            stats_ops,
        )
