"""Specialising a scripted graph on a call signature, then compiling it (see script_api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.rewriter import InsertPoint, Rewriter

from xjit._tensor import Tensor
from xjit.dialects import make_context
from xjit.dialects import torch as td
from xjit.frontends.builder import TorchBuilder, vtensor_type
from xjit.frontends.signature import meta_of
from xjit.jit.compiled import ArgumentError, CompiledFunction
from xjit.ops.types import TensorMeta
from xjit.passes.pipelines import run_passes

SPECIALIZE_PASSES = ("inline", "canonicalize", "torch-shape-refinement", "canonicalize", "cse")


def _unranked(module: ModuleOp) -> int:
    return sum(
        1
        for op in module.walk()
        for r in op.results
        if isinstance(r.type, td.ValueTensorType) and r.type.sizes is None
    )


def _refine_folded_joins(ctx: Any, module: ModuleOp) -> None:
    """Refinement joins a `prim.If`'s branches before canonicalize folds its condition (known
    only from the refined ranks: `x.dim() == 3`); where a branch changed the rank (unbatched
    input unsqueezed) the join left a tensor of unknown rank, which the folded IR no longer
    needs: refine again while that makes progress."""
    left = _unranked(module)
    while left:
        run_passes(ctx, module, ("torch-shape-refinement", "canonicalize", "cse"))
        left, before = _unranked(module), left
        if left >= before:
            return


def specialize(
    g: Any, entry: str, vals: Sequence[Any], dims: Sequence[tuple[int | None, ...]] | None = None
) -> tuple[ModuleOp, list[Any], list[str]]:
    """Clone `g.module`, give `@entry` the call's argument types (tensors: static shape and
    dtype, or the shapes `dims` (one per tensor argument, None = `?`) of a dynamic-shape variant;
    scalars and None: their values, as constants), inline, refine shapes."""
    module = g.module.clone()
    f = next(o for o in module.ops if isinstance(o, func.FuncOp) and o.sym_name.data == entry)
    block = f.body.block
    b = TorchBuilder(InsertPoint.at_start(block))
    metas, names = [], []
    tensor_dims = iter(dims) if dims is not None else None
    for arg, v, name in zip(list(block.args), vals, g.arg_names, strict=True):
        t = arg.type
        if isinstance(v, Tensor):
            meta = meta_of(v)
            if tensor_dims is not None:
                meta = TensorMeta(tuple(next(tensor_dims)), meta.dtype)
            st = vtensor_type(meta)
            if not isinstance(t, td.ValueTensorType) or not td.types_compatible(st, t):
                raise ArgumentError(
                    f"{entry}() argument '{name}' must be {t}, got a tensor of type {st}"
                )
            if st != t:
                cast = td.TensorStaticInfoCastOp(arg, t)
                b.insert(cast)
                arg.replace_uses_with_if(cast.result, lambda u, c=cast: u.operation is not c)
                Rewriter.replace_value_with_new_type(arg, st)
            metas.append(meta)
            names.append(name)
        else:
            want = {
                bool: td.BoolType,
                int: td.IntType,
                float: td.FloatType,
                type(None): td.NoneType,
                str: td.StrType,
            }
            if not isinstance(t, want[type(v)]):
                if isinstance(v, int) and not isinstance(v, bool) and isinstance(t, td.FloatType):
                    v = float(v)
                else:
                    raise ArgumentError(
                        f"{entry}() argument '{name}' must be {t}, got {type(v).__name__}"
                    )
            c = b.constant(v)
            arg.replace_all_uses_with(c)
            block.erase_arg(arg)
    f.function_type = FunctionType.from_lists(
        [a.type for a in block.args], list(f.function_type.outputs.data)
    )
    f.properties["function_type"] = f.function_type
    try:
        module.verify()
        ctx = make_context()
        run_passes(ctx, module, SPECIALIZE_PASSES)
        _refine_folded_joins(ctx, module)
    except ArgumentError:
        raise
    except Exception as e:  # VerifyException, ShapeError, ...: these argument types do not fit
        tensors = [
            f"'{n}' is {m.dtype.name if m.dtype is not None else '?'} "
            f"{list(m.shape) if m.shape is not None else '[?]'}"
            for n, m in zip(names, metas, strict=True)
        ]
        what = "; ".join(tensors) or "scalar arguments only"
        raise ArgumentError(
            f"{entry}() argument {what}: the scripted graph does not accept "
            f"{'this' if len(tensors) == 1 else 'these'} "
            f"({type(e).__name__}: {' '.join(str(e).split())})"
        ) from None
    return module, metas, names


def compile_specialized(
    g: Any, entry: str, vals: Sequence[Any], dims: Sequence[tuple[int | None, ...]] | None = None
) -> CompiledFunction:
    module, metas, names = specialize(g, entry, vals, dims)
    return CompiledFunction(module, g.params, metas, names, g.output_spec, entry)
