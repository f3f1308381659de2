"""Indexing maps shared by the op lowerings (`lower=` in xjit/ops/*_ops.py) and
convert-torch-to-linalg.

This module imports xDSL: the op-definition modules import it inside their `lower=` functions
only, so that `import xjit` stays xDSL-free.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineExpr, AffineMap


def broadcast_map(in_shape: Sequence[int], out_shape: Sequence[int]) -> AffineMap:
    """numpy broadcasting as an indexing map: dims align right; a static 1 against a larger
    output dim reads index 0. (Dynamic dims are assumed equal, as torch-mlir assumes.)"""
    rank = len(out_shape)
    offset = rank - len(in_shape)
    exprs: list[AffineExpr] = []
    for j, d in enumerate(in_shape):
        o = out_shape[offset + j]
        exprs.append(AffineConstantExpr(0) if d == 1 and o != 1 else AffineDimExpr(offset + j))
    return AffineMap(rank, 0, tuple(exprs))
