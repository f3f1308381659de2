"""Registry ops from compile-time values: binding arguments to an op's schema (overloads
tried in order) and emitting the `torch.aten.*` op with the result types its shape rule gives."""

from __future__ import annotations

import ast
import operator
from collections.abc import Sequence
from typing import Any

from xdsl.ir import SSAValue

from xjit._device import CPU
from xjit._dispatch import bind
from xjit.dialects import torch as td
from xjit.errors import FrontendError
from xjit.frontends.builder import result_type
from xjit.frontends.script.values import PyList, PyObj, PyTuple, describe
from xjit.ops.reduction_ops import MaxResult, MinResult
from xjit.ops.registry import OVERLOADS, UNKNOWN, OpDef, ensure_loaded, lookup
from xjit.ops.schema import Arg
from xjit.ops.selection_ops import MedianResult
from xjit.ops.sort_ops import SortResult, TopkResult
from xjit.ops.types import ALL_DTYPES, DType, ShapeError, TensorMeta


class NeedsArgTypes(FrontendError):
    """Compiling needs a rank the generic graph does not know (`x.shape` of an unannotated
    tensor): the function is compiled per call signature instead (script_api.py)."""


class NeedsCallTypes(FrontendError):
    """Compiling per argument types still left a size unknown that a submodule call returned:
    compile again with submodule methods specialised per argument types (compiler.py)."""


# Ops whose results are named tuples eagerly (xjit/ops/sort_ops.py, torch.return_types): their
# fields are read by name in script too, as TorchScript reads a schema's named returns.
NAMED_RESULTS = {
    "sort": SortResult._fields,
    "topk": TopkResult._fields,
    "max": MaxResult._fields,
    "min": MinResult._fields,
    "median": MedianResult._fields,
}


def _is_cpu(d: Any) -> bool:
    """`"cpu"` or `torch.device("cpu")` (a device string that does not parse is not)."""
    try:
        return isinstance(d, (str, type(CPU))) and CPU == d
    except RuntimeError:
        return False


class RegistryOps:
    """FunctionCompiler's op emission (compiler.py holds the state)."""

    def need_rank(self, t: SSAValue, e: ast.AST, what: str) -> None:
        """Called where `t`'s rank is unknown but needed: compile per argument types (where
        the ranks of the arguments, and so of `t`, are known), else refuse."""
        if self.mc.deferrable:
            raise NeedsArgTypes(f"{what} needs the rank of its tensor", self.loc(e))
        if not self.mc.typed_calls and self.mc.root is not None and self.self_ref is not None:
            # compiled per argument types, but `t` comes into a submodule method compiled
            # generically: compile again with submodule methods specialised too
            raise NeedsCallTypes(f"{what} needs the rank of its tensor", self.loc(e))
        raise self.error(e, f"unsupported: {what} of a tensor of unknown rank (use x.size(d))")

    def registry_call(self, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        ensure_loaded()
        if name not in OVERLOADS:
            raise self.error(e, f"unsupported: no op '{name}' in the registry")
        if "device" in kwargs:  # a factory's device=: the CPU, xjit's one device
            kwargs = dict(kwargs)
            dev = kwargs.pop("device")
            if not (isinstance(dev, PyObj) and (dev.obj is None or _is_cpu(dev.obj))):
                what = repr(dev.obj) if isinstance(dev, PyObj) else describe(dev)
                raise self.error(e, f"unsupported: {name}(device={what}): xjit runs on the CPU")
        for opdef in OVERLOADS[name]:
            bound = bind_ir(opdef, args, kwargs)
            if bound is not None:
                res = self.emit(opdef, bound, e)
                if len(res) == 1:
                    return res[0]
                return PyTuple(list(res), NAMED_RESULTS.get(name))
        sigs = "\n  ".join(str(o.schema) for o in OVERLOADS[name] if not o.attrs.get("scalar"))
        got = ", ".join(
            [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
        )
        raise self.error(e, f"no overload of '{name}' accepts ({got}); expected one of:\n  {sigs}")

    def scalar_op(self, qualified: str, args: list[Any], e: ast.AST) -> SSAValue:
        fold = _FOLDS.get(qualified)
        if fold is not None and all(isinstance(a, SSAValue) for a in args):
            consts = [td._meta_or_const(a) for a in args]
            if all(isinstance(c, (bool, int, float)) for c in consts):
                try:  # constants fold while compiling: `i == 2` in an unrolled loop decides
                    return self.b.constant(fold(*consts))
                except (ZeroDivisionError, OverflowError):
                    pass  # left to run time, which reports it as TorchScript would
        opdef = lookup(qualified)
        if opdef.fold is not None and all(isinstance(a, SSAValue) for a in args):
            # the op's own fold: `x.size(1)` of a tensor of static shape is a constant, so
            # sizes built from it (`zeros(n, x.size(1))`) keep a static shape
            try:
                folded = opdef.fold(*(td._meta_or_const(a) for a in args))
            except Exception:  # noqa: BLE001  (e.g. a dim out of range: emit() reports it)
                folded = None
            if isinstance(folded, (bool, int, float)):
                return self.b.constant(folded)
        return self.emit(opdef, args, e)[0]

    def emit(self, opdef: OpDef, args: Sequence[Any], e: ast.AST) -> tuple[SSAValue, ...]:
        if (why := opdef.attrs.get("data_dependent")) is not None:  # masked_select, unique, ...
            raise self.error(e, why)
        b = self.b
        operands = []
        for a, v in zip(opdef.schema.args, args, strict=True):
            if isinstance(v, (PyTuple, PyList)):
                v = [x for x in v.items]
            if isinstance(v, PyObj):
                v = v.obj
            if isinstance(v, list) and a.type == "float":
                raise self.error(e, f"argument '{a.name}' must be a float")
            if a.type == "float" and isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
                v = self.to_float(v, e)
            operands.append(b.operand(a, v))
        metas = td.with_partial_lists(opdef, [td._meta_or_const(o) for o in operands], operands)
        out = _scalar_typed(opdef, operands, metas, self.result_metas(opdef, metas, e))
        outs = out if isinstance(out, tuple) else (out,)
        op = td.aten_op_class(opdef.name).create(
            operands=operands, result_types=[result_type(m) for m in outs]
        )
        b.insert(op)
        return tuple(op.results)

    def result_metas(self, opdef: OpDef, metas: list[Any], e: ast.AST) -> Any:
        """The op's result metas from its shape rule. A tensor argument of unknown dtype (an
        unannotated parameter) is tried as every dtype: a result dtype that depends on it (by
        torch's promotion, `x + torch.arange(3)`) stays unknown until the call specialises it."""
        unknown_dtype = [
            i for i, m in enumerate(metas) if isinstance(m, TensorMeta) and m.dtype is None
        ]
        incomplete = unknown_dtype or any(
            isinstance(m, TensorMeta) and m.shape is None for m in metas
        )
        out = _apply_rule(opdef, metas)
        # an out-of-range constant index on a static dim (`x[-1]` of a size-0 dim) too: the op
        # could not verify, and torch raises it when the line runs
        if isinstance(out, (ShapeError, IndexError)) and not incomplete:
            raise self.error(e, f"{opdef.schema.name}: {out}")
        if unknown_dtype:
            out = _dtype_independent(opdef, metas, unknown_dtype, out)
        if out is None or isinstance(out, Exception):
            out = tuple(
                TensorMeta(None, None)
                if r == "Tensor"
                else {"int": int, "float": float, "bool": bool}[r]
                for r in opdef.schema.returns
            )
            out = out[0] if len(out) == 1 else out
        return out


# Scalar ops folded when their operands are constants (Python's semantics are TorchScript's
# for these: floor division and remainder round toward negative infinity).
_FOLDS: dict[str, Any] = {
    **{
        f"aten.{n}.{k}": f
        for n, f in (
            ("add", operator.add),
            ("sub", operator.sub),
            ("mul", operator.mul),
            ("lt", operator.lt),
            ("le", operator.le),
            ("gt", operator.gt),
            ("ge", operator.ge),
            ("eq", operator.eq),
            ("ne", operator.ne),
        )
        for k in ("int", "float")
    },
    "aten.floordiv.int": operator.floordiv,
    "aten.remainder.int": operator.mod,
    "aten.neg.int": operator.neg,
    "aten.neg.float": operator.neg,
    "aten.eq.bool": operator.eq,
    "aten.ne.bool": operator.ne,
    "aten.__not__": operator.not_,
    "aten.Float.int": float,
    "aten.Int.bool": int,
    "aten.Bool.int": bool,
    "aten.Bool.float": bool,
}


def _apply_rule(opdef: OpDef, metas: Sequence[Any]) -> Any:
    """The shape rule's result, or the exception it raised."""
    try:
        return opdef.shape(*metas)
    except Exception as err:
        return err


# Values a run-time Scalar argument is probed with: its type decides a result dtype
# (`torch.full(size, n)` is int64 for an int `n`), its value may not (arange's bounds).
_PROBES: dict[type, tuple[Any, ...]] = {
    td.IntType: (1, 10**6, -(10**6)),
    td.FloatType: (1.5, 1e6 + 0.5, -1e6 - 0.5),
    td.BoolType: (True,),
}


def _scalar_typed(opdef: OpDef, operands: list[SSAValue], metas: list[Any], out: Any) -> Any:
    """`out` with its tensor dtypes taken from the shape rule run on probe values of the
    run-time `Scalar` arguments' types, which the rule (seeing UNKNOWN) cannot tell apart."""
    unknown = [
        i
        for i, (a, m) in enumerate(zip(opdef.schema.args, metas, strict=True))
        if m is UNKNOWN and a.type.rstrip("?") == "Scalar" and type(operands[i].type) in _PROBES
    ]
    if any(isinstance(m, TensorMeta) and m.dtype is None for m in metas):
        return out  # _dtype_independent's business
    if not unknown or out is None or isinstance(out, Exception):
        return out
    for k in range(3):
        probe = list(metas)
        for i in unknown:
            vals = _PROBES[type(operands[i].type)]
            probe[i] = vals[min(k, len(vals) - 1)]
        r = _apply_rule(opdef, probe)
        if r is None or isinstance(r, Exception):
            continue
        single = not isinstance(out, tuple)
        outs, rs = ((out,), (r,)) if single else (out, r)
        fixed = tuple(
            TensorMeta(o.shape, p.dtype)
            if isinstance(o, TensorMeta) and isinstance(p, TensorMeta)
            else o
            for o, p in zip(outs, rs, strict=True)
        )
        return fixed[0] if single else fixed
    return out


def _dtype_independent(opdef: OpDef, metas: list[Any], unknown: list[int], out: Any) -> Any:
    """`out` with each tensor result's dtype kept only if every dtype the unknown-dtype
    arguments may have gives the same one (a comparison's bool, `.to(torch.int64)`)."""
    results = []
    for dt in ALL_DTYPES:
        probe = list(metas)
        for i in unknown:
            probe[i] = TensorMeta(metas[i].shape, dt)
        r = _apply_rule(opdef, probe)
        if not isinstance(r, Exception):
            results.append(r if isinstance(r, tuple) else (r,))
    if not results:
        return out
    # Several unknown arguments are probed with one dtype at a time: only when every probe is
    # accepted is their agreement evidence (`where(c, x, y)` accepts only a bool `c`).
    exhaustive = len(unknown) == 1 or len(results) == len(ALL_DTYPES)
    base = out if out is not None and not isinstance(out, Exception) else results[0]
    single = not isinstance(base, tuple)
    merged = []
    for k, m in enumerate((base,) if single else base):
        if isinstance(m, TensorMeta):
            dts = {r[k].dtype for r in results if isinstance(r[k], TensorMeta)}
            m = TensorMeta(m.shape, dts.pop() if len(dts) == 1 and exhaustive else None)
        merged.append(m)
    return merged[0] if single else tuple(merged)


def _ir_accepts(arg: Arg, v: Any) -> bool:
    t = arg.type
    base = t.rstrip("?")
    if isinstance(v, list) and base == "int[]":  # a wrapper's constant dims (matrix_norm's)
        return all(type(x) is int for x in v)
    if isinstance(v, (bool, int, float, str)) or v is None:
        v = PyObj(v)
    if isinstance(v, PyObj):
        v = v.obj
        if v is None:
            return arg.optional
        if isinstance(v, bool):
            return base in ("bool", "Scalar")
        if isinstance(v, int):
            return base in ("int", "Scalar", "float", "int[]")
        if isinstance(v, float):
            return base in ("float", "Scalar")
        if base == "ScalarType":  # (torch.float16 is named but refused: not in ALL_DTYPES)
            return isinstance(v, DType) and v in ALL_DTYPES
        if base == "str":
            return isinstance(v, str)
        return False
    if isinstance(v, (PyTuple, PyList)):
        if base == "int[]":
            return all(isinstance(x, SSAValue) and isinstance(x.type, td.IntType) for x in v.items)
        if base == "Tensor[]":
            return all(
                isinstance(x, SSAValue) and isinstance(x.type, td.ValueTensorType) for x in v.items
            )
        return False
    if not isinstance(v, SSAValue):
        return False
    ty = v.type
    if isinstance(ty, td.NoneType):
        return arg.optional
    if base == "Tensor":
        return isinstance(ty, td.ValueTensorType)
    if base == "Scalar":
        return isinstance(ty, (td.IntType, td.FloatType, td.BoolType))
    if base == "int":
        return isinstance(ty, td.IntType)
    if base == "float":
        return isinstance(ty, (td.FloatType, td.IntType))
    if base == "bool":
        return isinstance(ty, td.BoolType)
    if base == "int[]":
        return isinstance(ty, td.IntType) or (
            isinstance(ty, td.ListType) and isinstance(ty.element_type, td.IntType)
        )
    if base == "Tensor[]":
        return isinstance(ty, td.ListType)
    return False


def _ir_int_as_list(value: Any) -> Any:
    # a compiled int, or a Python one (a wrapper's default: F.conv2d(dilation=1)), for an int[]
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return (
        PyList([value])
        if is_int or isinstance(value, SSAValue) and isinstance(value.type, td.IntType)
        else value
    )


def _pack_varargs(args: Sequence[Arg], pos: list[Any]) -> list[Any]:
    """`x.view(a, b)`, `x.permute(0, 2, 1)`: ints past a required `int[]` argument pack into
    it (TorchScript's varargs sizes), when nothing else could take them."""
    for k, a in enumerate(args):
        if a.kwarg_only or k >= len(pos):
            return pos
        if a.type == "int[]" and not a.has_default:
            rest = pos[k:]
            # only ints no later parameter could take: roll(x, 1, 0) is shifts=1, dims=0
            params = sum(1 for b in args[k:] if not b.kwarg_only)
            if len(rest) > max(params, 1) and all(
                isinstance(p, SSAValue) and isinstance(p.type, td.IntType) for p in rest
            ):
                return [*pos[:k], PyList(rest)]
            return pos
    return pos


def bind_ir(opdef: OpDef, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any] | None:
    """`_dispatch.bind` for compile-time values: schema order, defaults filled in."""
    schema = opdef.schema
    pos = list(args)
    # torch.zeros(3, 4): varargs sizes pack into the leading int[] argument
    if (
        schema.args
        and schema.args[0].type.startswith("int[]")
        and len(pos) > 1
        and all(isinstance(p, SSAValue) and isinstance(p.type, td.IntType) for p in pos)
    ):
        pos = [PyList(pos)]
    pos = _pack_varargs(schema.args, pos)
    return bind(schema, pos, kwargs, accepts=_ir_accepts, int_as_list=_ir_int_as_list)
