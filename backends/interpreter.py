"""A reference executor on xDSL's interpreter: slow, scalar, and independent of the numpy backend.

`run_interpreted` runs a function of a module at the **loops** stage (lowered here with
`convert-loop-to-scf`), the **scf** stage, or the **buffers** stage (linalg on memrefs), so each
pass can be tested by comparing what runs before and after it. Arrays cross the boundary as
numpy arrays; memory is xDSL's `ShapedArray`, byte-compatible with little-endian numpy buffers.

Known limits: float ops compute in Python `float` (f64) and round only when stored to an f32
buffer; linalg on tensors, `linalg.broadcast`/`linalg.reduce` and `scf.parallel` are not supported.
Keep shapes small: every scalar op is interpreted.
"""

from __future__ import annotations

import math as pymath
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np
from xdsl.dialects import arith, cf, math, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseIntOrFPElementsAttr,
    IntegerType,
    ModuleOp,
    ShapedType,
)
from xdsl.dialects.linalg import abstract_ops
from xdsl.dialects.linalg import ops as linalg
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.builtin import BuiltinFunctions, xtype_for_el_type
from xdsl.interpreters.func import FuncFunctions
from xdsl.interpreters.linalg import LinalgFunctions
from xdsl.interpreters.math import MathFunctions
from xdsl.interpreters.memref import MemRefFunctions
from xdsl.interpreters.scf import ScfFunctions
from xdsl.interpreters.shaped_array import ShapedArray
from xdsl.interpreters.utils.ptr import RawPtr, TypedPtr
from xdsl.ir import Attribute
from xdsl.traits import SymbolTable

from xjit.dialects import make_context
from xjit.dialects.arith_ext import RemFOp
from xjit.dialects.view import TransposeOp as TransposeViewOp
from xjit.passes.bufferize import kept_dims
from xjit.passes.convert_loop_to_scf import ConvertLoopToScf

Scalar = int | float

# Element types the xjit pipeline uses, by the struct format xDSL stores them with.
_NP_DTYPE_BY_FORMAT = {
    "<e": np.float16,
    "<f": np.float32,
    "<d": np.float64,
    "<b": np.int8,
    "<h": np.int16,
    "<i": np.int32,
    "<q": np.int64,
}


def _storage_dtype(el_type: Attribute, index_bitwidth: int) -> np.dtype:
    """The numpy dtype whose bytes match xDSL's packed storage of `el_type`."""
    fmt = xtype_for_el_type(el_type, index_bitwidth).format  # type: ignore[arg-type]
    if fmt not in _NP_DTYPE_BY_FORMAT:
        raise NotImplementedError(f"no numpy dtype for element type {el_type}")
    return np.dtype(_NP_DTYPE_BY_FORMAT[fmt]).newbyteorder("<")


def _is_bool(el_type: Attribute) -> bool:
    return isinstance(el_type, IntegerType) and el_type.width.data == 1


def to_shaped_array(value: np.ndarray, type: ShapedType, index_bitwidth: int) -> ShapedArray[Any]:
    """Copies `value` into a fresh `ShapedArray` laid out as `type` (row-major, identity layout)."""
    shape = type.get_shape()
    if len(shape) != value.ndim or any(
        d != DYNAMIC_INDEX and d != n for d, n in zip(shape, value.shape, strict=True)
    ):
        raise ValueError(f"array of shape {value.shape} does not match {type}")
    el_type = type.get_element_type()
    data = np.ascontiguousarray(value, dtype=_storage_dtype(el_type, index_bitwidth))
    xtype = xtype_for_el_type(el_type, index_bitwidth)  # type: ignore[arg-type]
    return ShapedArray(TypedPtr(RawPtr(bytearray(data.tobytes())), xtype=xtype), list(value.shape))


def from_shaped_array(array: ShapedArray[Any], type: ShapedType, index_bitwidth: int) -> np.ndarray:
    """A numpy copy of `array`; `i1` becomes `bool`."""
    el_type = type.get_element_type()
    raw = array.data_ptr.raw
    out = np.frombuffer(
        raw.memory, _storage_dtype(el_type, index_bitwidth), count=array.size, offset=raw.offset
    ).reshape(array.shape)
    return out != 0 if _is_bool(el_type) else out.astype(out.dtype.newbyteorder("="))


@register_impls
class XjitMemRefFunctions(InterpreterFunctions):
    """`memref` ops upstream lacks or gets wrong: dynamic `alloc`, `dim`, `copy`, and
    `get_global` of `uninitialized` globals bound at run time from `globals`."""

    def __init__(self, globals: Mapping[str, np.ndarray]):
        self.globals = globals
        # One buffer per global: every `get_global` of a symbol aliases the same memory.
        self._buffers: dict[str, ShapedArray[Any]] = {}

    @impl(memref.AllocOp)
    def run_alloc(
        self, interpreter: Interpreter, op: memref.AllocOp, args: PythonValues
    ) -> PythonValues:
        # Upstream uses the static shape, so `?` dims (-1) would give a negative size.
        mtype = op.memref.type
        sizes = iter(args)
        shape = [next(sizes) if d == DYNAMIC_INDEX else d for d in mtype.get_shape()]
        xtype = xtype_for_el_type(mtype.get_element_type(), interpreter.index_bitwidth)
        return (ShapedArray(TypedPtr[Any].zeros(pymath.prod(shape), xtype=xtype), shape),)

    @impl(memref.DimOp)
    def run_dim(self, interpreter: Interpreter, op: memref.DimOp, args: PythonValues):
        array, index = args
        return (array.shape[index],)

    @impl(memref.CastOp)
    def run_cast(self, interpreter: Interpreter, op: memref.CastOp, args: PythonValues):
        return (args[0],)  # the same buffer, seen with `?` (or static) sizes

    @impl(memref.CopyOp)
    def run_copy(self, interpreter: Interpreter, op: memref.CopyOp, args: PythonValues):
        source, dest = args
        assert source.shape == dest.shape, f"memref.copy of {source.shape} to {dest.shape}"
        for i in range(source.size):
            dest.data_ptr[i] = source.data_ptr[i]
        return ()

    @impl(memref.GetGlobalOp)
    def run_get_global(
        self, interpreter: Interpreter, op: memref.GetGlobalOp, args: PythonValues
    ) -> PythonValues:
        name = op.name_.string_value()
        if name not in self._buffers:
            decl = SymbolTable.lookup_symbol(op, op.name_)
            assert isinstance(decl, memref.GlobalOp)
            if name in self.globals:
                value = np.asarray(self.globals[name])
            elif isinstance(init := decl.initial_value, DenseIntOrFPElementsAttr):
                value = np.array(init.get_values())  # a splat holds one value
                value = (
                    np.broadcast_to(value, decl.type.get_shape())
                    if value.size == 1
                    else (value.reshape(decl.type.get_shape()))
                )
            else:
                raise KeyError(f"no value bound for global '{name}': pass it in `globals`")
            self._buffers[name] = to_shaped_array(value, decl.type, interpreter.index_bitwidth)
        return (self._buffers[name],)


def _snapshot(interpreter: Interpreter, array: ShapedArray[Any], t: Any) -> np.ndarray:
    return from_shaped_array(array, t, interpreter.index_bitwidth)


def _materialised(interpreter: Interpreter, value: np.ndarray, t: Any) -> ShapedArray[Any]:
    return to_shaped_array(np.ascontiguousarray(value), t, interpreter.index_bitwidth)


@register_impls
class XjitViewFunctions(InterpreterFunctions):
    """Views left at the loops stage (strided subviews, collapse/expand_shape, view.transpose),
    computed with numpy. `ShapedArray` has no strides, so a view is a *snapshot*: right for the
    loops stage, where views are only read (written subviews, e.g. cat's slabs, are folded into
    `loop.store`s by convert-linalg-to-loop), not for writes through views at the buffers stage."""

    @impl(memref.SubviewOp)
    def run_subview(self, interpreter: Interpreter, op: memref.SubviewOp, args: PythonValues):
        src, *rest = args
        a = _snapshot(interpreter, src, op.source.type)
        dyn = iter(rest)
        offs = [next(dyn) if o == DYNAMIC_INDEX else o for o in op.static_offsets.get_values()]
        sizes = [next(dyn) if n == DYNAMIC_INDEX else n for n in op.static_sizes.get_values()]
        steps = [next(dyn) if st == DYNAMIC_INDEX else st for st in op.static_strides.get_values()]
        view = a[
            tuple(slice(o, o + n * st, st) for o, n, st in zip(offs, sizes, steps, strict=True))
        ]
        kept = kept_dims(op.static_sizes.get_values(), op.result.type.get_shape())
        return (
            _materialised(interpreter, view.reshape([view.shape[k] for k in kept]), op.result.type),
        )

    @impl(memref.CollapseShapeOp)
    def run_collapse(
        self, interpreter: Interpreter, op: memref.CollapseShapeOp, args: PythonValues
    ):
        a = _snapshot(interpreter, args[0], op.src.type)
        groups = [[k.value.data for k in g.data] for g in op.reassociation.data]
        shape = [int(np.prod([a.shape[k] for k in g])) for g in groups]
        return (_materialised(interpreter, a.reshape(shape), op.result.type),)

    @impl(memref.ExpandShapeOp)
    def run_expand(self, interpreter: Interpreter, op: memref.ExpandShapeOp, args: PythonValues):
        a = _snapshot(interpreter, args[0], op.src.type)
        dyn = iter(args[1:])
        shape = [
            next(dyn) if d == DYNAMIC_INDEX else d for d in op.static_output_shape.get_values()
        ]
        return (_materialised(interpreter, a.reshape(shape), op.result.type),)

    @impl(TransposeViewOp)
    def run_transpose(self, interpreter: Interpreter, op: TransposeViewOp, args: PythonValues):
        a = _snapshot(interpreter, args[0], op.source.type)
        perm = list(op.permutation.get_values())
        return (_materialised(interpreter, a.transpose(perm), op.result.type),)


def _run_structured(interpreter: Interpreter, op: abstract_ops.LinalgStructuredOperation, args):
    """Upstream's structured-op loop, fixed to store every output (upstream stores only the
    first); outputs are memrefs, updated in place."""
    n_in = len(op.inputs)
    if op.results:
        raise NotImplementedError("linalg on tensors: bufferize first")
    maps = [m.data for m in op.get_indexing_maps()]
    shapes = [d for a in args if isinstance(a, ShapedArray) for d in a.shape]
    ranges = op.get_shapes_to_loops_map().eval(shapes, [])
    for ivs in product(*(range(r) for r in ranges)):
        scalars = tuple(
            a.load(m.eval(ivs, ())) if isinstance(a, ShapedArray) else a
            for a, m in zip(args, maps, strict=True)
        )
        results = interpreter.run_ssacfg_region(op.body, scalars, "linalg")
        for out, m, value in zip(args[n_in:], maps[n_in:], results, strict=True):
            out.store(m.eval(ivs, ()), value)
    return ()


@register_impls
class XjitLinalgFunctions(InterpreterFunctions):
    """linalg on memrefs: upstream's `fill` needs a shaped, zero-filled operand, and upstream's
    `generic` drops all outputs but the first; named elementwise ops upstream skips are added."""

    @impl(linalg.FillOp)
    def run_fill(self, interpreter: Interpreter, op: linalg.FillOp, args: PythonValues):
        value, out = args
        if op.results:
            raise NotImplementedError("linalg on tensors: bufferize first")
        for i in range(out.size):
            out.data_ptr[i] = value
        return ()

    @impl(linalg.GenericOp)
    def run_generic(self, interpreter: Interpreter, op: linalg.GenericOp, args: PythonValues):
        return _run_structured(interpreter, op, args)

    @impl(linalg.SubOp)
    def run_sub(self, interpreter: Interpreter, op: linalg.SubOp, args: PythonValues):
        return _run_structured(interpreter, op, args)

    @impl(linalg.MaxOp)
    def run_max(self, interpreter: Interpreter, op: linalg.MaxOp, args: PythonValues):
        return _run_structured(interpreter, op, args)

    @impl(linalg.MinOp)
    def run_min(self, interpreter: Interpreter, op: linalg.MinOp, args: PythonValues):
        return _run_structured(interpreter, op, args)

    @impl(linalg.SelectOp)
    def run_select(self, interpreter: Interpreter, op: linalg.SelectOp, args: PythonValues):
        return _run_structured(interpreter, op, args)

    @impl(linalg.CopyOp)
    def run_copy(self, interpreter: Interpreter, op: linalg.CopyOp, args: PythonValues):
        return _run_structured(interpreter, op, args)


def _f32(x: float) -> float:
    return float(np.float32(x))


@register_impls
class XjitScalarFunctions(InterpreterFunctions):
    """Scalar `arith`/`math` ops that the xjit pipeline emits and upstream does not interpret."""

    @impl(arith.DivfOp)
    def run_divf(self, interpreter: Interpreter, op: arith.DivfOp, args: PythonValues):
        with np.errstate(all="ignore"):  # IEEE inf/nan on division by zero, where Python raises
            return (float(np.float64(args[0]) / np.float64(args[1])),)

    @impl(RemFOp)
    def run_remf(self, interpreter: Interpreter, op: RemFOp, args: PythonValues):
        with np.errstate(all="ignore"):  # C fmod: NaN for a zero divisor, where Python raises
            return (float(np.fmod(np.float64(args[0]), np.float64(args[1]))),)

    @impl(cf.AssertOp)
    def run_assert(self, interpreter: Interpreter, op: cf.AssertOp, args: PythonValues):
        if not args[0]:
            raise AssertionError(op.msg.data)
        return ()

    @impl(arith.NegfOp)
    def run_negf(self, interpreter: Interpreter, op: arith.NegfOp, args: PythonValues):
        return (-args[0],)

    @impl(arith.MaxnumfOp)
    def run_maxnumf(self, interpreter: Interpreter, op: arith.MaxnumfOp, args: PythonValues):
        return (float(np.fmax(*args)),)

    @impl(arith.MinnumfOp)
    def run_minnumf(self, interpreter: Interpreter, op: arith.MinnumfOp, args: PythonValues):
        return (float(np.fmin(*args)),)

    @impl(arith.SIToFPOp)
    def run_sitofp(self, interpreter: Interpreter, op: arith.SIToFPOp, args: PythonValues):
        return (float(args[0]),)

    @impl(arith.FPToSIOp)
    def run_fptosi(self, interpreter: Interpreter, op: arith.FPToSIOp, args: PythonValues):
        return (int(args[0]),)

    @impl(arith.ExtFOp)
    def run_extf(self, interpreter: Interpreter, op: arith.ExtFOp, args: PythonValues):
        return (args[0],)

    @impl(arith.TruncFOp)
    def run_truncf(self, interpreter: Interpreter, op: arith.TruncFOp, args: PythonValues):
        return (_f32(args[0]),)

    @impl(math.TanhOp)
    def run_tanh(self, interpreter: Interpreter, op: math.TanhOp, args: PythonValues):
        return (pymath.tanh(args[0]),)

    @impl(math.AbsFOp)
    def run_absf(self, interpreter: Interpreter, op: math.AbsFOp, args: PythonValues):
        return (abs(args[0]),)

    @impl(math.RsqrtOp)
    def run_rsqrt(self, interpreter: Interpreter, op: math.RsqrtOp, args: PythonValues):
        return (1.0 / pymath.sqrt(args[0]),)

    @impl(math.ErfOp)
    def run_erf(self, interpreter: Interpreter, op: math.ErfOp, args: PythonValues):
        return (pymath.erf(args[0]),)

    @impl(arith.ExtUIOp)
    def run_extui(self, interpreter: Interpreter, op: arith.ExtUIOp, args: PythonValues):
        w = op.operands[0].type.width.data  # type: ignore[attr-defined]
        return (int(args[0]) % (1 << w),)

    @impl(arith.ExtSIOp)
    def run_extsi(self, interpreter: Interpreter, op: arith.ExtSIOp, args: PythonValues):
        w = op.operands[0].type.width.data  # type: ignore[attr-defined]
        v = int(args[0]) % (1 << w)
        return (v - (1 << w) if v >= 1 << (w - 1) else v,)

    @impl(arith.UIToFPOp)
    def run_uitofp(self, interpreter: Interpreter, op: arith.UIToFPOp, args: PythonValues):
        w = op.operands[0].type.width.data  # type: ignore[attr-defined]
        return (float(int(args[0]) % (1 << w)),)

    @impl(math.SinOp)
    def run_sin(self, interpreter: Interpreter, op: math.SinOp, args: PythonValues):
        return (float(np.sin(np.float64(args[0]))),)

    @impl(math.CosOp)
    def run_cos(self, interpreter: Interpreter, op: math.CosOp, args: PythonValues):
        return (float(np.cos(np.float64(args[0]))),)

    @impl(math.AbsIOp)
    def run_absi(self, interpreter: Interpreter, op: math.AbsIOp, args: PythonValues):
        return (abs(args[0]),)

    @impl(math.IPowIOp)
    def run_ipowi(self, interpreter: Interpreter, op: math.IPowIOp, args: PythonValues):
        return (int(args[0]) ** int(args[1]),)

    @impl(arith.MinSIOp)
    def run_minsi(self, interpreter: Interpreter, op: arith.MinSIOp, args: PythonValues):
        return (min(args[0], args[1]),)

    @impl(arith.MaxSIOp)
    def run_maxsi(self, interpreter: Interpreter, op: arith.MaxSIOp, args: PythonValues):
        return (max(args[0], args[1]),)

    @impl(math.PowFOp)
    def run_powf(self, interpreter: Interpreter, op: math.PowFOp, args: PythonValues):
        return (float(np.power(*args)),)


def _scalar(value: Scalar, type: Attribute) -> np.ndarray:
    """A scalar result as a 0-d array of its type's dtype."""
    if _is_bool(type):
        return np.asarray(bool(value))
    return np.asarray(value, dtype=_storage_dtype(type, 64).newbyteorder("="))


def _has_loop_ops(module: ModuleOp) -> bool:
    return any(op.name.startswith("loop.") or op.name == "scatter.nonzero" for op in module.walk())


def make_interpreter(
    module: ModuleOp, globals: Mapping[str, np.ndarray] | None = None
) -> Interpreter:
    """An interpreter over `module` (already at scf or buffers level) with xjit's tables."""
    interpreter = Interpreter(module)
    for table in (
        BuiltinFunctions(),
        FuncFunctions(),
        ArithFunctions(),
        MathFunctions(),
        ScfFunctions(),
        MemRefFunctions(),
        LinalgFunctions(),
        XjitScalarFunctions(),
        XjitViewFunctions(),
    ):
        interpreter.register_implementations(table)
    interpreter.register_implementations(XjitMemRefFunctions(globals or {}), override=True)
    interpreter.register_implementations(XjitLinalgFunctions(), override=True)
    return interpreter


def run_interpreted(
    module: ModuleOp,
    func_name: str,
    args: Sequence[np.ndarray | Scalar],
    globals: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, ...]:
    """Runs `func_name` of (a clone of) `module` on `args`; returns its results as numpy arrays
    (scalars as 0-d arrays). Memref arguments are copied in, so callers see no writes to them;
    to observe results written to an argument buffer, return it from the function."""
    module = module.clone()
    if _has_loop_ops(module):
        ConvertLoopToScf().apply(make_context(), module)
    interpreter = make_interpreter(module, globals)
    func = SymbolTable.lookup_symbol(module, func_name)
    if func is None:
        raise KeyError(f"no function '@{func_name}' in the module")
    ftype = func.function_type
    if len(args) != len(ftype.inputs):
        raise TypeError(f"@{func_name} takes {len(ftype.inputs)} arguments, got {len(args)}")

    bitwidth = interpreter.index_bitwidth
    inputs = tuple(
        to_shaped_array(np.asarray(a), t, bitwidth) if isinstance(t, ShapedType) else a
        for a, t in zip(args, ftype.inputs, strict=True)
    )
    results = interpreter.call_op(func, inputs)
    return tuple(
        from_shaped_array(r, t, bitwidth) if isinstance(t, ShapedType) else _scalar(r, t)
        for r, t in zip(results, ftype.outputs, strict=True)
    )
