"""`xjit.jit.freeze`, as `torch.jit.freeze`: a copy of a compiled module (scripted or traced, in
eval mode) whose parameters and buffers are constants in its graphs, and whose ops on constants
only are computed once, at freeze time.

The module is frozen through its archive: `archive_entries` describes every graph it compiles
(scripted methods with their variants and states, traced methods with their guards); in each
graph the global slots become `torch.vtensor.literal`s of their tensors, ops whose operands are
all constants are evaluated by the torch interpreter (each registry op's eager semantics) and
replaced by literals, the tensors leave the archive, and `load` builds the frozen module from
it, checked as any archive is. The frozen module holds no parameters or buffers: later changes
to the original's do not reach it.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from xjit.dialects import torch as td
from xjit.dialects.torch_types import dtype_attr
from xjit.frontends.builder import vtensor_type
from xjit.frontends.torch_interpreter import TorchInterpreter
from xjit.jit.api import TracedModule
from xjit.jit.archive_format import (
    HIERARCHY_ATTR,
    IR_ENTRY,
    MANIFEST,
    TENSOR_DIR,
    _from_attr,
    _sha256,
    _to_attr,
)
from xjit.jit.archive_loaded import LoadedModule
from xjit.jit.archive_read import _load_array, _method_ir, _parse_ir, load
from xjit.jit.archive_write import _print_ir, archive_entries, write_zip
from xjit.jit.script_api import ScriptModule
from xjit.ops.types import TensorMeta, from_numpy_dtype
from xjit.passes.torch_fold_constants import IMPURE_OPS

_CONSTANT_OPS = (
    td.ConstantIntOp,
    td.ConstantFloatOp,
    td.ConstantBoolOp,
    td.ConstantNoneOp,
    td.ConstantStrOp,
    td.ValueTensorLiteralOp,
    td.PrimListConstructOp,
)


def freeze(
    mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True
) -> Any:
    """A frozen copy of `mod` (a scripted or traced module in eval mode): parameters and
    buffers inlined as constants, constant subexpressions folded (torch.jit.freeze)."""
    if not isinstance(mod, (ScriptModule, TracedModule, LoadedModule)):
        raise RuntimeError(
            "Freezing expects a ScriptModule as input. Please use xjit.jit.script or "
            f"xjit.jit.trace to script your '{type(mod).__name__}'."
        )
    if mod.training:
        raise RuntimeError(
            "Freezing is currently only implemented for modules in eval mode. Please call "
            ".eval() on your module before freezing."
        )
    if preserved_attrs:
        raise NotImplementedError(
            f"freeze(preserved_attrs={preserved_attrs!r}): xjit freezes every attribute"
        )
    entries = archive_entries(mod)
    man = json.loads(entries[MANIFEST])
    arrays = {k: _load_array(k, t, entries[t["entry"]]) for k, t in man["tensors"].items()}
    outer = _parse_ir(entries[IR_ENTRY])
    records = _records(man["methods"])
    for name, m in _method_ir(outer).items():
        slots = records[name].get("tensors", {})
        _inline_slots(m, {slot: arrays[key] for slot, key in slots.items()})
        _fold(m)
        records[name]["tensors"] = {}
    hierarchy = _from_attr(outer.attributes[HIERARCHY_ATTR])
    _drop_tensors(hierarchy)
    outer.attributes[HIERARCHY_ATTR] = _to_attr(hierarchy)
    out = {n: b for n, b in entries.items() if not n.startswith(TENSOR_DIR) and n != MANIFEST}
    out[IR_ENTRY] = _print_ir(outer).encode("utf-8")
    man["tensors"] = {}
    man["entries"] = {n: {"sha256": _sha256(b), "size": len(b)} for n, b in sorted(out.items())}
    out[MANIFEST] = (json.dumps(man, indent=1, sort_keys=True) + "\n").encode("utf-8")
    buf = io.BytesIO()
    write_zip(out, buf)
    buf.seek(0)
    return load(buf)


def _records(methods: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every method IR's manifest record by IR name (variants and other states nested)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(name: str, rec: dict[str, Any]) -> None:
        out[name] = rec
        for v in rec.get("variants", []):
            walk(v["ir"], v)
        for s in rec.get("states", []):
            walk(s["ir"], s)

    for qname, rec in methods.items():
        walk(qname, rec)
    return out


def _drop_tensors(node: dict[str, Any]) -> None:
    node["parameters"], node["buffers"] = [], []
    for _, child in node["children"]:
        if child is not None:
            _drop_tensors(child)


def _literal(a: np.ndarray) -> td.ValueTensorLiteralOp:
    meta = TensorMeta(tuple(a.shape), from_numpy_dtype(a.dtype))
    ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
    attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
    return td.ValueTensorLiteralOp(attr, vtensor_type(meta))


def _replace(op: Operation, value: np.ndarray) -> SSAValue:
    """Replace the one result of `op` by a literal of `value` (cast to its type); the new value."""
    lit = _literal(value)
    Rewriter.insert_op(lit, InsertPoint.before(op))
    r = op.results[0]
    if lit.result.type != r.type:  # the graph's type may know less (`?` dims)
        cast = td.TensorStaticInfoCastOp(lit.result, r.type)
        Rewriter.insert_op(cast, InsertPoint.before(op))
        new = cast.result
    else:
        new = lit.result
    r.replace_all_uses_with(new)
    op.detach()
    op.erase()
    return new


def _inline_slots(m: ModuleOp, values: dict[str, np.ndarray]) -> None:
    """Each read of a global slot becomes a literal of its tensor; the slots go."""
    for op in list(m.walk()):
        if isinstance(op, td.GlobalSlotGetOp):
            _replace(op, values[op.slot.root_reference.data])
    for op in list(m.ops):
        if isinstance(op, td.GlobalSlotOp):
            op.detach()
            op.erase()


def _fold(m: ModuleOp) -> None:
    """Evaluate the ops (outside control flow) whose operands are all constants, in order, and
    replace their tensor results by literals; then drop the constants no longer used."""
    interp = TorchInterpreter(m)
    for f in [op for op in m.ops if isinstance(op, func.FuncOp)]:
        env: dict[SSAValue, Any] = {}
        for op in list(f.body.block.ops):
            if isinstance(op, td.TensorStaticInfoCastOp) and op.operand in env:
                env[op.result] = env[op.operand]
            elif isinstance(op, _CONSTANT_OPS) and all(v in env for v in op.operands):
                interp.run_op(op, env)
            elif (
                isinstance(op, td.AtenOp)
                and len(op.results) == 1
                and isinstance(op.results[0].type, td.ValueTensorType)
                and op.OPDEF.eager is not None
                and op.OPDEF.schema.name not in IMPURE_OPS
                and all(v in env for v in op.operands)
            ):
                interp.run_op(op, env)
                value = np.require(env[op.results[0]], requirements="C")  # keeps 0-d 0-d
                env[_replace(op, value)] = value
        _drop_unused(f)


def _drop_unused(f: func.FuncOp) -> None:
    changed = True
    while changed:
        changed = False
        for op in reversed(list(f.body.block.ops)):
            dead = all(not r.uses for r in op.results)
            if dead and isinstance(op, (*_CONSTANT_OPS, td.TensorStaticInfoCastOp)):
                op.detach()
                op.erase()
                changed = True
