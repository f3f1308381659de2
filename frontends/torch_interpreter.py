"""A reference interpreter for the torch dialect: runs a torch-level module with numpy by calling
each registry op's `eager` implementation, including `torch.prim.If` / `torch.prim.Loop`,
`func.call`, scalar ops and global slots. Slow and simple on purpose: it is the oracle that
scripted IR is checked against, independently of the lowering pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue

from xjit.dialects import torch as td
from xjit.errors import ScriptError


class InterpreterError(RuntimeError):
    pass


class _Return(Exception):
    def __init__(self, values: list[Any]) -> None:
        self.values = values


def _literal(op: td.ValueTensorLiteralOp) -> np.ndarray:
    rt = op.result.type
    assert isinstance(rt, td.ValueTensorType)
    meta = rt.meta
    assert meta.dtype is not None and meta.shape is not None
    data = op.value.get_values()
    return np.asarray(data, dtype=meta.dtype.np).reshape(meta.shape)


class TorchInterpreter:
    def __init__(self, module: ModuleOp, params: dict[str, Any] | None = None) -> None:
        self.module = module
        self.params = {
            k: (v._a if hasattr(v, "_a") else np.asarray(v))  # read only: not exposed
            for k, v in (params or {}).items()
        }
        self.funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}

    def call(self, name: str, args: Sequence[Any]) -> list[Any]:
        f = self.funcs.get(name)
        if f is None:
            raise InterpreterError(f"no function @{name}")
        block = f.body.block
        if len(args) != len(block.args):
            raise InterpreterError(f"@{name} takes {len(block.args)} arguments, got {len(args)}")
        env: dict[SSAValue, Any] = dict(zip(block.args, args, strict=True))
        try:
            self.run_block(block, env)
        except _Return as r:
            return r.values
        raise InterpreterError(f"@{name} did not return")

    def run_block(self, block: Block, env: dict[SSAValue, Any]) -> list[Any] | None:
        """Run the ops; the terminator's operand values for region terminators, if any."""
        for op in block.ops:
            out = self.run_op(op, env)
            if isinstance(op, (td.PrimIfYieldOp, td.PrimLoopConditionOp)):
                return out
        return None

    def run_op(self, op: Operation, env: dict[SSAValue, Any]) -> Any:
        get = lambda v: env[v]  # noqa: E731
        if isinstance(op, func.ReturnOp):
            raise _Return([get(v) for v in op.arguments])
        if isinstance(op, (td.PrimIfYieldOp, td.PrimLoopConditionOp)):
            return [get(v) for v in op.operands]
        if isinstance(
            op,
            (
                td.ConstantIntOp,
                td.ConstantFloatOp,
                td.ConstantBoolOp,
                td.ConstantNoneOp,
                td.ConstantStrOp,
            ),
        ):
            env[op.results[0]] = td._meta_or_const(op.results[0])
        elif isinstance(op, td.ValueTensorLiteralOp):
            env[op.result] = _literal(op)
        elif isinstance(op, td.GlobalSlotGetOp):
            name = op.slot.root_reference.data
            if name not in self.params:
                raise InterpreterError(f"no value bound for global slot @{name}")
            env[op.result] = self.params[name]
        elif isinstance(op, td.PrimListConstructOp):
            env[op.result] = [get(v) for v in op.elements]
        elif isinstance(op, td.PrimTupleConstructOp):
            env[op.result] = tuple(get(v) for v in op.elements)
        elif isinstance(op, (td.PrimTupleUnpackOp, td.PrimListUnpackOp)):
            vals = list(get(op.operands[0]))
            if len(vals) != len(op.results):
                raise InterpreterError(
                    f"{op.name}: {len(vals)} values into {len(op.results)} results"
                )
            for r, v in zip(op.results, vals, strict=True):
                env[r] = v
        elif isinstance(op, td.PrimRaiseExceptionOp):
            values = ["?" if isinstance(v, np.ndarray) else v for v in map(get, op.fmt_args)]
            text = str(get(op.msg)).format(*values)
            cls = get(op.cls)
            raise ScriptError(f"{cls or 'RuntimeError'}: {text}")
        elif isinstance(op, td.TensorStaticInfoCastOp):
            env[op.result] = get(op.operand)
        elif isinstance(op, td.PrimIfOp):
            region = op.then_region if get(op.condition) else op.else_region
            vals = self.run_block(region.block, env)
            for r, v in zip(op.results, vals or [], strict=True):
                env[r] = v
        elif isinstance(op, td.PrimLoopOp):
            n, cond = get(op.max_trip_count), get(op.initial_condition)
            carried = [get(v) for v in op.iter_args_init]
            block = op.body.block
            i = 0
            while i < n and cond:
                env.update(zip(block.args, [i, *carried], strict=True))
                vals = self.run_block(block, env)
                assert vals is not None
                cond, carried = vals[0], vals[1:]
                i += 1
            for r, v in zip(op.results, carried, strict=True):
                env[r] = v
        elif isinstance(op, func.CallOp):
            outs = self.call(op.callee.root_reference.data, [get(v) for v in op.arguments])
            for r, v in zip(op.results, outs, strict=True):
                env[r] = v
        elif isinstance(op, td.AtenOp):
            opdef = op.OPDEF
            if opdef.eager is None:
                raise InterpreterError(f"{op.name} has no eager implementation")
            args = [get(v) for v in op.operands]
            out = opdef.eager(*args)
            outs = out if isinstance(out, tuple) else (out,)
            for r, v in zip(op.results, outs, strict=True):
                if isinstance(r.type, td.ValueTensorType):
                    v = np.asarray(v)
                    meta = r.type.meta
                    if meta.dtype is not None and v.dtype != meta.dtype.np:
                        raise InterpreterError(
                            f"{op.name} produced {v.dtype}, its type says {r.type}"
                        )
                    if meta.shape is not None and (
                        len(meta.shape) != v.ndim
                        or any(
                            d is not None and d != s
                            for d, s in zip(meta.shape, v.shape, strict=True)
                        )
                    ):
                        raise InterpreterError(
                            f"{op.name} produced shape {list(v.shape)}, its type says {r.type}"
                        )
                env[r] = v
        else:
            raise InterpreterError(f"the torch interpreter does not run {op.name}")
        return None


def run_torch(
    module: ModuleOp, name: str, args: Sequence[Any], params: dict[str, Any] | None = None
) -> list[Any]:
    """Run function `name` of a torch-dialect module on numpy arrays / Python scalars."""
    arrays = [
        a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else a for a in args
    ]
    return TorchInterpreter(module, params).call(name, arrays)
