"""Cheap constructors for the ops and attributes that passes build once per graph op.

xDSL's IRDL builders normalise and check their arguments on every call (operand groups,
segment sizes, dropping `None` properties): for a `linalg.generic` that costs about five times
creating the op itself, and a 1,000-op graph builds thousands of them. These build the same
ops — same operands, results, properties in the same order, regions — with
`Operation.create`, for arguments the caller already knows to be well-formed. Attributes are
values, so the ones built from the same few inputs over and over are memoised.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from xdsl.dialects import tensor
from xdsl.dialects.builtin import AffineMapAttr, ArrayAttr, DenseArrayBase, i32
from xdsl.dialects.linalg.attrs import IteratorTypeAttr
from xdsl.dialects.linalg.ops import GenericOp, YieldOp
from xdsl.ir import Attribute, Operation, Region, SSAValue
from xdsl.ir.affine import AffineMap

_Op = TypeVar("_Op", bound=Operation)


@functools.lru_cache(maxsize=256)
def _segment_sizes(n_in: int, n_out: int) -> DenseArrayBase:
    return DenseArrayBase.from_list(i32, [n_in, n_out])


@functools.lru_cache(maxsize=4096)
def map_attr(m: AffineMap) -> AffineMapAttr:
    """`AffineMapAttr(m)`."""
    return AffineMapAttr(m)


@functools.lru_cache(maxsize=64)
def parallel_iterators(rank: int) -> tuple[IteratorTypeAttr, ...]:
    """`rank` times `IteratorTypeAttr.parallel()`."""
    return (IteratorTypeAttr.parallel(),) * rank


def new_generic(
    inputs: Sequence[SSAValue],
    outputs: Sequence[SSAValue],
    body: Region,
    indexing_maps: Sequence[AffineMapAttr] | ArrayAttr[AffineMapAttr],
    iterator_types: Sequence[Attribute] | ArrayAttr[Attribute],
    result_types: Sequence[Attribute] = (),
) -> GenericOp:
    """`GenericOp(inputs, outputs, body, indexing_maps, iterator_types, result_types)` (no
    `doc`, no `library_call`)."""
    maps = indexing_maps if isinstance(indexing_maps, ArrayAttr) else ArrayAttr(indexing_maps)
    iters = iterator_types if isinstance(iterator_types, ArrayAttr) else ArrayAttr(iterator_types)
    return GenericOp.create(
        operands=[*inputs, *outputs],
        result_types=result_types,
        properties={
            "indexing_maps": maps,
            "iterator_types": iters,
            "operandSegmentSizes": _segment_sizes(len(inputs), len(outputs)),
        },
        regions=[body],
    )


def new_empty(dynamic_sizes: Sequence[SSAValue], tensor_type: Attribute) -> tensor.EmptyOp:
    """`tensor.EmptyOp(dynamic_sizes, tensor_type)`."""
    return tensor.EmptyOp.create(operands=dynamic_sizes, result_types=[tensor_type])


def new_binary(cls: type[_Op], lhs: SSAValue, rhs: SSAValue) -> _Op:
    """`cls(lhs, rhs)` for an `arith` binary op whose result has its operands' type, without
    flags (checked against the IRDL builder for every class the passes use, in the generic
    printed form)."""
    return cls.create(operands=[lhs, rhs], result_types=[lhs.type])


def new_yield(*values: SSAValue) -> YieldOp:
    """`linalg.YieldOp(*values)`."""
    return YieldOp.create(operands=values)
