"""`torch-decompose`: rewrite composite torch ops into simpler ones, using the `decompose`
function of each op's registry entry (e.g. `linear` → `t` + `mm` + `add`).

Decompositions are written against torch's Python API (`T.mm(x, T.t(w))`), so the same code is
checked eagerly in tests; here `T` emits torch-dialect ops instead of computing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xdsl.builder import InsertPoint
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from xjit.dialects import torch as td
from xjit.frontends.builder import IRTorch, IRValue, TorchBuilder
from xjit.ops.registry import UNKNOWN, all_ops
from xjit.passes.linalg_fuse_elementwise import origin_loc


def decomposition_args(op: td.AtenOp) -> list[Any] | None:
    """The op's arguments as a decomposition sees them, or None if a scalar is not constant."""
    args: list[Any] = []
    for v in op.operands:
        if isinstance(v.type, td.ValueTensorType):
            args.append(IRValue(v))
            continue
        owner = v.owner
        if isinstance(owner, td.PrimListConstructOp) and any(
            isinstance(e.type, td.ValueTensorType) for e in owner.elements
        ):
            args.append([IRValue(e) for e in owner.elements])  # Tensor[]
            continue
        c = td._meta_or_const(v)
        if c is UNKNOWN:
            return None
        args.append(c)
    return args


def decompose_op(op: td.AtenOp, only: frozenset[str] = frozenset()) -> bool:
    opdef = op.OPDEF
    if opdef.decompose is None or (only and opdef.name not in only):
        return False
    args = decomposition_args(op)
    if args is None:
        return False
    builder = TorchBuilder(InsertPoint.before(op))
    if builder.loc is None:  # decomposed ops remember what they came from (fusion report)
        builder.loc = origin_loc(op)
    out = opdef.decompose(IRTorch(builder), *args)
    if out is None:  # no decomposition for these arguments: the op is lowered directly
        return False
    outs = out if isinstance(out, tuple) else (out,)
    for old, new in zip(op.results, outs, strict=True):
        assert isinstance(new, IRValue)
        old.replace_all_uses_with(new.value)
    op.detach()
    op.erase()
    return True


@dataclass(frozen=True)
class TorchDecompose(ModulePass):
    """Decompose composite torch ops (those whose registry entry has `decompose`).

    `ops` restricts it to some ops, by dialect name. xDSL's pipeline syntax needs the dotted
    names quoted: `torch-decompose{ops="torch.aten.linear","torch.aten.addmm"}`.
    """

    name = "torch-decompose"

    ops: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # A misspelt name would otherwise silently decompose nothing.
        decomposable = sorted(o.name for o in all_ops() if o.decompose is not None)
        unknown = [n for n in self.ops if n not in decomposable]
        if unknown:
            raise ValueError(
                f"ops {', '.join(unknown)} cannot be decomposed; decomposable ops: "
                f"{', '.join(decomposable)}"
            )

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        only = frozenset(self.ops)
        changed = True
        while changed:  # decompositions may produce ops that decompose further
            changed = False
            todo: list[Operation] = [o for o in op.walk() if isinstance(o, td.AtenOp)]
            for o in todo:
                changed |= decompose_op(o, only)  # type: ignore[arg-type]
