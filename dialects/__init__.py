"""xjit's dialects (`torch`, `loop`, `view`, `scatter`) and the context that compiles with them.

Imported only by the compiler: eager `import xjit` never loads xDSL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xdsl.context import Context
    from xdsl.ir import Dialect


def _torch() -> Dialect:
    # lazy: each dialect (and xDSL) loads when a context first asks for it. Importing the
    # canonicalization and shape inference patterns registers them with the dialect's traits.
    from xjit.dialects import torch_canonicalization, torch_shape_inference  # noqa: F401
    from xjit.dialects.torch import Torch

    return Torch


def _loop() -> Dialect:
    # lazy: each dialect (and xDSL) loads when a context first asks for it
    from xjit.dialects.loop import Loop

    return Loop


def _view() -> Dialect:
    # lazy: each dialect (and xDSL) loads when a context first asks for it
    from xjit.dialects.view import View

    return View


def _scatter() -> Dialect:
    # lazy: each dialect (and xDSL) loads when a context first asks for it
    from xjit.dialects.scatter import Scatter

    return Scatter


# xjit's own dialects, by name, loaded lazily (also exported through the xdsl.universe entry point).
XJIT_DIALECTS: dict[str, Callable[[], Dialect]] = {
    "torch": _torch,
    "loop": _loop,
    "view": _view,
    "scatter": _scatter,
}

# Upstream dialects that appear at some stage of the xjit pipeline.
_UPSTREAM = (
    "builtin",
    "func",
    "arith",
    "math",
    "scf",
    "memref",
    "tensor",
    "linalg",
    "ml_program",
    "bufferization",
    "affine",
    "cf",
)


def make_context(allow_unregistered: bool = False) -> Context:
    """A context with every dialect the xjit pipeline can produce or consume."""
    from xdsl.context import Context
    from xdsl.dialects import get_all_dialects

    ctx = Context(allow_unregistered=allow_unregistered)
    upstream = get_all_dialects()
    for name in _UPSTREAM:
        ctx.register_dialect(name, upstream[name])
    for name, factory in XJIT_DIALECTS.items():
        ctx.register_dialect(name, factory)
    load_arith_extensions(ctx)
    return ctx


def load_arith_extensions(ctx: Context) -> None:
    """MLIR's `arith` ops missing from xDSL 0.74 (`arith.remf`), next to xDSL's `arith`."""
    # lazy: each dialect (and xDSL) loads when a context first asks for it
    from xjit.dialects.arith_ext import ARITH_EXTENSIONS

    for op in ARITH_EXTENSIONS:
        if ctx.get_optional_op(op.name) is None:
            ctx.load_op(op)
