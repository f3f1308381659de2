"""The tracing frontend: run the model eagerly once and record every registry op it calls.

Tensors are identified by object identity while tracing. An input maps to a function argument,
a parameter or buffer of the traced module to a `torch.global_slot` read, and any other tensor
the model touches (a constant captured from outside) to a `torch.vtensor.literal`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.builder import InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp, TensorType
from xdsl.ir import Block, Region, SSAValue

from xjit import _dispatch
from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.dialects.torch_types import dtype_attr
from xjit.frontends.builder import TorchBuilder, vtensor_type
from xjit.frontends.script.module_compilation import ModuleCompilation
from xjit.frontends.signature import OutputSpec, meta_of
from xjit.ops.registry import OpDef
from xjit.ops.types import TensorMeta


class TraceError(RuntimeError):
    pass


class _Recorder:
    def __init__(self, block: Block, params: dict[int, tuple[str, Tensor]]) -> None:
        self.b = TorchBuilder(InsertPoint.at_end(block))
        self.values: dict[int, SSAValue] = {}
        self.keep: list[Tensor] = []  # keeps traced tensors alive so their ids stay unique
        self.params = params
        self.used_params: dict[str, Tensor] = {}
        self.modules: dict[int, str] = {}  # id(submodule) -> dotted path, for record_call
        self.mc: Any = None  # functions imported by record_call

    def bind(self, t: Tensor, v: SSAValue) -> None:
        self.values[id(t)] = v
        self.keep.append(t)

    def value_of(self, t: Tensor) -> SSAValue:
        v = self.values.get(id(t))
        if v is not None:
            return v
        if id(t) in self.params:
            name, p = self.params[id(t)]
            self.used_params[name] = p
            v = self.b.insert(td.GlobalSlotGetOp(name, vtensor_type(meta_of(t)))).results[0]
        else:
            a = np.asarray(t.numpy())  # (ascontiguousarray makes a 0-d array 1-d)
            meta = meta_of(t)
            ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
            attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
            v = self.b.insert(td.ValueTensorLiteralOp(attr, vtensor_type(meta))).results[0]
        self.bind(t, v)
        return v

    def record_call(self, callee: Any, args: list[Any], result: Any) -> None:
        """A traced or scripted module (or scripted function) called while tracing: a
        `func.call` of its graph (imported under its path), not a re-trace of its body."""
        if self.mc is None:
            self.mc = ModuleCompilation(None)
        src = callee.graph_source()
        prefix = self.modules.get(id(callee)) or f"fn.{src['entry']}"
        name = self.mc.import_graph(src["ir"], prefix, src["params"], src["spec"], src["entry"])
        f = self.mc.funcs[name]
        operands = []
        for a, t in zip(args, f.function_type.inputs.data, strict=True):
            if not isinstance(a, Tensor):
                raise TraceError(
                    f"calling {prefix} while tracing: only tensor arguments are supported"
                )
            v = self.value_of(a)
            if v.type != t:
                v = self.b.insert(td.TensorStaticInfoCastOp(v, t)).results[0]
            operands.append(v)
        call = self.b.insert(func.CallOp(name, operands, list(f.function_type.outputs.data)))
        flat, _ = _flatten(result)
        for t, r in zip(flat, call.results, strict=True):
            st = vtensor_type(meta_of(t))
            if r.type != st:
                r = self.b.insert(td.TensorStaticInfoCastOp(r, st)).results[0]
            self.bind(t, r)

    def record(self, op: OpDef, args: list[Any], result: Any) -> None:
        operands: list[Any] = []
        for v in args:
            if isinstance(v, Tensor):
                operands.append(self.value_of(v))
            elif isinstance(v, (list, tuple)) and v and isinstance(v[0], Tensor):
                operands.append([self.value_of(x) for x in v])
            else:
                operands.append(v)
        results = self.b.emit(op, operands)
        outs = result if isinstance(result, tuple) else (result,)
        for t, r in zip(outs, results, strict=True):
            self.bind(t, r)


def _flatten(out: Any) -> tuple[list[Tensor], OutputSpec]:
    if isinstance(out, Tensor):
        return [out], OutputSpec("tensor")
    if isinstance(out, (tuple, list)):
        flat: list[Tensor] = []
        specs = []
        for o in out:
            f, s = _flatten(o)
            flat.extend(f)
            specs.append(s)
        return flat, OutputSpec("tuple" if isinstance(out, tuple) else "list", tuple(specs))
    raise TraceError(
        f"traced functions must return tensors or (nested) tuples/lists of tensors, got {type(out).__name__}"
    )


@dataclass
class TraceResult:
    module: ModuleOp
    params: dict[str, Tensor]  # dotted name -> the live parameter tensor (bound by reference)
    input_metas: list[TensorMeta]
    output_spec: OutputSpec


def trace_function(
    fn: Callable[..., Any],
    example_inputs: Sequence[Tensor],
    named_tensors: dict[str, Tensor],
    func_name: str = "forward",
    modules: dict[int, str] | None = None,
) -> TraceResult:
    for i, x in enumerate(example_inputs):
        if not isinstance(x, Tensor):
            raise TraceError(f"example input {i} is a {type(x).__name__}; trace takes tensors")
    metas = [meta_of(x) for x in example_inputs]
    block = Block(arg_types=[vtensor_type(m) for m in metas])
    params = {id(t): (name, t) for name, t in named_tensors.items()}
    rec = _Recorder(block, params)
    rec.modules = dict(modules or {})
    for x, arg in zip(example_inputs, block.args, strict=True):
        rec.bind(x, arg)
    _dispatch.push_recorder(rec)
    try:
        out = fn(*example_inputs)
    finally:
        _dispatch.pop_recorder()
    flat, spec = _flatten(out)
    results = [rec.value_of(t) for t in flat]
    block.add_op(func.ReturnOp(*results))
    fop = func.FuncOp(
        func_name,
        ([a.type for a in block.args], [r.type for r in results]),
        Region(block),
    )
    slots = [td.GlobalSlotOp(name, vtensor_type(meta_of(t))) for name, t in rec.used_params.items()]
    extra: list[Any] = []
    if rec.mc is not None:  # graphs of compiled submodules called while tracing
        slots += [
            td.GlobalSlotOp(n, t) for n, t in rec.mc.slots.items() if n not in rec.used_params
        ]
        extra = list(rec.mc.funcs.values())
        rec.used_params.update(rec.mc.params)
    module = ModuleOp([*slots, fop, *extra])
    module.verify()
    return TraceResult(module, dict(rec.used_params), metas, spec)
