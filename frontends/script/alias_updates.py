"""In-place updates seen by every alias: `z = y; z += 1`, `t = (y, x); t[0].add_(1)`, a view
`z = y[0]; z += 1` / `z = y.view(-1); z[0] = 5`, or the base of one `z = y[0]; y += 1`.

TorchScript updates memory, so every name whose tensor shares it sees the change. The IR here
is made of values; aliasing.py compiles an update as rebinding the updated name and refuses
where anything else could see the old tensor. This module makes the common cases right instead,
as functionalization does: all the aliases must be views of one tensor this function allocated
(the "root"), reached from it by view ops. The updated value is scattered back into the root
through the inverse of each view on its way (`select_scatter`, `slice_scatter`, a reshape back,
the same transpose), then every other alias is computed again from the new root by its own
views, and every name bound to an alias (in tuples and lists too) is rebound.

Anything else keeps aliasing.py's located refusal (None from `plan`): an alias reached through
control flow (a value joined after an `if`, loop-carried), an argument or parameter, a view op
that may copy (`reshape`, `flatten`, `contiguous`, `to`: a view or a copy depending on strides
or dtypes), a view of the updated value not invertible here, a list or dict created in an
enclosing region, or (inside a loop) an alias bound to a name the loop does not carry.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xdsl.ir import Operation, OpResult, SSAValue

from xjit.dialects import torch as td
from xjit.frontends.script.values import PyList, PyTuple

# View ops that always share memory with their input (never a copy): replayed on the new root.
ALWAYS_VIEWS = frozenset(
    {
        "select",
        "slice",
        "squeeze",
        "unsqueeze",
        "view",
        "t",
        "transpose",
        "permute",
        "expand",
        "expand_as",
        "unflatten",
        "diagonal",
        "narrow",
        "swapaxes",
        "movedim",
        "view_as",
        "broadcast_to",
    }
)
# ... and those whose inverse is compiled here (the updated value may be reached through them)
INVERTIBLE = frozenset({"select", "slice", "squeeze", "unsqueeze", "view", "t", "transpose"})


def _view_kind(v: SSAValue) -> str | None:
    if isinstance(v, OpResult) and v.op.name.startswith("torch.aten."):
        kind = v.op.name.split(".")[2]
        return kind if kind in ALWAYS_VIEWS else None
    return None


def _chain(v: SSAValue) -> tuple[SSAValue, list[Operation]]:
    """The value `v` is a view of through view ops (itself if none), and those ops in order."""
    ops: list[Operation] = []
    while _view_kind(v) is not None:
        op = v.owner
        assert isinstance(op, Operation)
        ops.append(op)
        v = op.operands[0]
    return v, ops[::-1]


@dataclass
class Plan:
    old: SSAValue
    root: SSAValue
    steps: list[Operation]  # root -> old
    family: dict[SSAValue, list[Operation]] = field(default_factory=dict)  # alias -> its views


def plan(
    fc: Any, old: SSAValue, names: set[str], memory_of: Callable[..., Any]
) -> Plan | str | None:
    """How to update `old` so every alias sees it (`memory_of`: aliasing.py's); a reason (str)
    to refuse, or None when the aliases are not a case this module handles."""
    root, steps = _chain(old)
    if any(not _invertible(op) for op in steps):
        return None
    # (values the root is computed from through views are no aliases unless a name holds
    # them: then that name's chain leads elsewhere and the check below refuses)
    _, problem = memory_of(root, fc)
    if (
        problem is not None
        or not isinstance(root, OpResult)
        or isinstance(root.op, (td.PrimIfOp, td.PrimLoopOp))
    ):
        return None
    p = Plan(old, root, steps)
    mem_old, _ = memory_of(old, fc)
    for n, x in fc.env.items():
        for leaf in _tensor_leaves(x):
            if not memory_of(leaf, fc)[0] & mem_old:
                continue
            r, ops = _chain(leaf)
            if r is not root:
                return None
            p.family[leaf] = ops
            if not _lists_local(x, fc.depth):
                return None
            if n not in names and fc.frame.kind == "loop" and n not in fc.frame.carried:
                return (
                    f"`{n}` shares memory with it but is not assigned in this loop (so the loop "
                    f"cannot carry its update); assign `{n}` in the loop or update it outside"
                )
    return p


def apply(fc: Any, p: Plan, new: SSAValue, node: ast.AST) -> None:
    """Emit the new root and aliases for `p.old` updated to `new`; rebind every name."""
    cur = new
    for op in reversed(p.steps):
        cur = _inverse(fc, op, op.operands[0], cur, node)
    # every alias, the updated value too, as views of the new root: a later update through
    # any of them finds the root again
    memo: dict[SSAValue, SSAValue] = {p.root: cur}
    _replay(fc, p.old, p.steps, memo)
    for leaf, ops in p.family.items():
        _replay(fc, leaf, ops, memo)
    seen: dict[int, Any] = {}
    for n in list(fc.env):
        fc.env[n] = _rebuilt(fc.env[n], memo, seen)


def _replay(fc: Any, leaf: SSAValue, ops: list[Operation], memo: dict[SSAValue, SSAValue]) -> None:
    for op in ops:
        out = op.results[0]
        if out in memo:
            continue
        assert isinstance(clone := op.clone(), Operation)
        clone.operands[0] = memo[op.operands[0]]
        fc.b.insert(clone)
        memo[out] = clone.results[0]
    assert leaf in memo


def _inverse(fc: Any, op: Operation, parent: SSAValue, cur: SSAValue, node: ast.AST) -> SSAValue:
    """`parent` with its view `op(parent)` replaced by `cur`."""
    kind = op.name.split(".")[2]
    args = [_arg(a) for a in op.operands[1:]]
    if kind == "select":
        return fc.registry_call("select_scatter", [parent, cur, *args], {}, node)  # type: ignore[no-any-return]
    if kind == "slice":
        return fc.registry_call("slice_scatter", [parent, cur, *args], {}, node)  # type: ignore[no-any-return]
    if kind in ("t", "transpose"):
        return fc.registry_call(kind, [cur, *args], {}, node)  # type: ignore[no-any-return]
    # squeeze / unsqueeze / view: the same elements in the same order, in parent's shape
    return fc.registry_call("reshape", [cur, _sizes(fc, parent, node)], {}, node)  # type: ignore[no-any-return]


def _invertible(op: Operation) -> bool:
    """Whether `_inverse` compiles it: its index arguments must be constants."""
    kind = op.name.split(".")[2]
    if kind in ("select", "slice"):
        return all(not isinstance(_arg(a), SSAValue) for a in op.operands[1:])
    return kind in INVERTIBLE


def _sizes(fc: Any, y: SSAValue, node: ast.AST) -> Any:
    shape = y.type.meta.shape  # type: ignore[attr-defined]
    if shape is None:
        fc.need_rank(y, node, "an in-place update through a view")
    return fc.new_list(
        [
            fc.b.constant(n)
            if n is not None
            else fc.scalar_op("aten.size.int", [y, fc.b.constant(k)], node)
            for k, n in enumerate(shape)
        ]
    )


def _arg(a: SSAValue) -> Any:
    if isinstance(a.type, td.NoneType):
        return None
    k = td._meta_or_const(a)
    return k if isinstance(k, int) and not isinstance(k, bool) else a


def _lists_local(v: Any, depth: int) -> bool:
    """Whether every list in `v` was created in this region (only those change in place)."""
    if isinstance(v, PyList) and v.depth != depth:
        return False
    if isinstance(v, (PyTuple, PyList)):
        return all(_lists_local(x, depth) for x in v.items)
    return True


def _tensor_leaves(v: Any) -> list[SSAValue]:
    if isinstance(v, SSAValue):
        return [v] if isinstance(v.type, td.ValueTensorType) else []
    if isinstance(v, (PyTuple, PyList)):
        return [x for item in v.items for x in _tensor_leaves(item)]
    return []


def _rebuilt(v: Any, memo: dict[SSAValue, SSAValue], seen: dict[int, Any]) -> Any:
    """`v` with its updated leaves replaced; a tuple or list shared by several names stays
    one object (a later `append` is seen through each)."""
    if isinstance(v, SSAValue):
        return memo.get(v, v)
    if not isinstance(v, (PyTuple, PyList)):
        return v
    if id(v) in seen:
        return seen[id(v)]
    items = [_rebuilt(x, memo, seen) for x in v.items]
    if all(a is b for a, b in zip(items, v.items, strict=True)):
        out = v
    elif isinstance(v, PyTuple):
        out = PyTuple(items, v.names)
    else:
        v.items[:] = items  # the same list object: its other holders see the new leaves
        out = v
    seen[id(v)] = out
    return out
