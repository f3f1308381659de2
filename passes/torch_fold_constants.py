"""`torch-fold-constants`: compute at compile time the tensor ops whose operands are all
constants, and replace the values that the rest of the graph reads by `torch.vtensor.literal`s.

What is folded is what depends on nothing but the IR itself: `torch.constant.*`, tensor
literals and the static sizes canonicalization already turned into constants. A causal mask
built in `forward` from sizes (`tril(ones(T, T)) == 0`), `arange(T) * 2 + 1`, a scale computed
from literals: each becomes one literal instead of being recomputed on every call.

Never folded (so the by-reference semantics of compiled code stays exactly as it is):
- global slots (parameters and buffers): they are bound by reference at run time, so
  `load_state_dict` and in-place updates are seen by the next call; a value derived from one is
  computed per call (`xjit.jit.freeze` is the way to make them constants);
- ops with no eager implementation, or whose value is not a function of their operands
  (random factories, dropout);
- results larger than `max_elements` (a literal is stored in the IR, the compile cache and the
  generated program), and ops inside control flow regions;
- an op whose evaluation raises: it stays, and fails (or not) at run time as it did before.

Only the *frontier* is materialised: a constant value read by an op that is not folded, and
not returned (directly or through a possible view: the literal is a read-only array of the
program, the computed value a fresh one the caller may update in place). A frontier value made by a factory from scalars alone (`ones`, `arange`) stays the
factory op: its lowering is a fill or an index expression, no cheaper as a stored literal.
Folded ops no longer read are erased, and so are the constants only they read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from xjit.dialects import torch as td
from xjit.dialects.torch_types import dtype_attr
from xjit.frontends.builder import vtensor_type
from xjit.frontends.torch_interpreter import TorchInterpreter
from xjit.ops.types import TensorMeta, from_numpy_dtype

# Ops whose value is not a function of their operands: never folded, here nor by
# xjit.jit.freeze (which imports this set).
IMPURE_OPS = frozenset(
    {
        "rand",
        "randn",
        "rand_like",
        "randn_like",
        "randint",
        "randperm",
        "normal",
        "multinomial",
        "bernoulli",
        "dropout",
    }
)
# Scalar constants the interpreter evaluates from their attributes.
_SCALAR_CONSTANTS = (
    td.ConstantIntOp,
    td.ConstantFloatOp,
    td.ConstantBoolOp,
    td.ConstantNoneOp,
    td.ConstantStrOp,
    td.ValueTensorLiteralOp,
)


def _is_vtensor(v: SSAValue) -> bool:
    return isinstance(v.type, td.ValueTensorType)


def _foldable(op: Operation, env: dict[SSAValue, Any]) -> bool:
    """An aten op with one value-tensor result, pure, with an eager implementation, whose
    operands are all known."""
    return (
        isinstance(op, td.AtenOp)
        and len(op.results) == 1
        and _is_vtensor(op.results[0])
        and op.OPDEF.eager is not None
        and op.OPDEF.schema.name not in IMPURE_OPS
        and all(v in env for v in op.operands)
    )


def _small(v: SSAValue, max_elements: int) -> bool:
    """Statically shaped and at most `max_elements`: checked before evaluating, so that a big
    factory (`ones(4096, 4096)`) is never computed at compile time."""
    shape = v.type.meta.shape  # type: ignore[attr-defined]
    return (
        shape is not None and all(d is not None for d in shape) and math.prod(shape) <= max_elements
    )


def _literal(a: np.ndarray, like: SSAValue) -> Operation:
    meta = TensorMeta(tuple(a.shape), from_numpy_dtype(a.dtype))
    ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
    attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
    op = td.ValueTensorLiteralOp(attr, vtensor_type(meta))
    op.location = like.owner.location  # type: ignore[union-attr]
    return op


def _materialise(op: Operation, value: np.ndarray) -> None:
    """Make the uses of `op`'s result read a literal of `value` (cast to its type if the graph's
    type knows less, e.g. `?` dims)."""
    r = op.results[0]
    lit = _literal(value, r)
    Rewriter.insert_op(lit, InsertPoint.before(op))
    new = lit.results[0]
    if new.type != r.type:
        cast = td.TensorStaticInfoCastOp(new, r.type)
        Rewriter.insert_op(cast, InsertPoint.before(op))
        new = cast.result
    r.replace_all_uses_with(new)


def _evaluate(
    ops: list[Operation], interp: TorchInterpreter, max_elements: int
) -> tuple[dict[SSAValue, Any], list[Operation]]:
    """The values of the constant ops and of the foldable aten ops, in order; the latter list."""
    env: dict[SSAValue, Any] = {}
    folded: list[Operation] = []
    for op in ops:
        if isinstance(op, td.ValueTensorLiteralOp):
            if _small(op.result, max_elements):  # (a frozen weight is not decoded for nothing)
                interp.run_op(op, env)
        elif isinstance(op, _SCALAR_CONSTANTS) or (
            isinstance(op, td.PrimListConstructOp) and all(v in env for v in op.operands)
        ):
            interp.run_op(op, env)
        elif isinstance(op, td.TensorStaticInfoCastOp) and op.operand in env:
            env[op.result] = env[op.operand]
        elif _foldable(op, env) and _small(op.results[0], max_elements):
            try:  # (the interpreter binds the result only once the op has succeeded)
                interp.run_op(op, env)
            except Exception:  # noqa: BLE001 - not folded: it fails or not at run time, as before
                continue
            env[op.results[0]] = np.asarray(env[op.results[0]])  # (0-d stays 0-d)
            folded.append(op)
    return env, folded


def _factory(op: Operation) -> bool:
    """Made from scalars alone (ones, zeros, full, arange): cheaper to lower than to store."""
    return not any(_is_vtensor(v) for v in op.operands)


def _may_return(v: SSAValue) -> bool:
    """Whether `v`, or a view of it, may be returned. A literal is a read-only constant array of
    the program: returned, the caller's in-place ops on the result would fail, where the
    computed value was a fresh array. Any op with one tensor operand of the result's dtype
    counts as a possible view, any op that is not an aten op as passing it through."""
    todo, seen = [v], set()
    while todo:
        x = todo.pop()
        for use in x.uses:
            user = use.operation
            if isinstance(user, func.ReturnOp):
                return True
            if user in seen:
                continue
            seen.add(user)
            tensors = [o for o in user.operands if _is_vtensor(o)]
            if isinstance(user, td.AtenOp) and len(tensors) > 1:
                continue  # computes a new tensor
            dtype = getattr(x.type, "dtype", None)
            todo += [
                r
                for r in user.results
                if not isinstance(user, td.AtenOp) or getattr(r.type, "dtype", None) == dtype
            ]
    return False


def fold_function(f: func.FuncOp, interp: TorchInterpreter, max_elements: int) -> int:
    """Fold `f`'s top-level constant tensor ops; the number of literals made."""
    if len(f.body.blocks) != 1:  # torch functions have one block: leave cf-level ones be
        return 0
    env, folded = _evaluate(list(f.body.block.ops), interp, max_elements)
    made = 0
    for op in folded:
        r = op.results[0]
        if _factory(op) or all(u.operation in folded for u in r.uses) or _may_return(r):
            continue
        _materialise(op, env[r])
        made += 1
    _erase_dead(folded)
    return made


def _erase_dead(folded: list[Operation]) -> None:
    """Erase the folded ops nothing reads now, then the constants only they read (other dead
    ops are canonicalize's business: this pass changes nothing it did not fold)."""
    todo = list(reversed(folded))
    seen: set[Operation] = set()
    while todo:
        op = todo.pop(0)
        if op in seen or op.parent is None or any(r.uses for r in op.results):
            continue
        seen.add(op)
        owners = [v.owner for v in op.operands if isinstance(v.owner, Operation)]
        op.detach()
        op.erase()
        todo += [
            o
            for o in owners
            if isinstance(o, (*_SCALAR_CONSTANTS, td.PrimListConstructOp)) or o in folded
        ]


@dataclass(frozen=True)
class TorchFoldConstants(ModulePass):
    """Compute tensor ops on constants at compile time (never parameters or buffers)."""

    name = "torch-fold-constants"

    # Largest folded result, in elements: a literal lives in the IR, the compile cache entry
    # and the program (a causal mask of 256 x 256 fits).
    max_elements: int = 65536

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        interp = TorchInterpreter(op)
        for f in [o for o in op.ops if isinstance(o, func.FuncOp) and not o.is_declaration]:
            fold_function(f, interp, self.max_elements)
