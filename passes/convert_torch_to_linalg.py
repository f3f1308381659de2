"""`convert-torch-to-linalg`: torch dialect → linalg on tensors (+ arith, math, tensor, ml_program).

Each aten op is lowered from its registry entry: an elementwise op's scalar `body` becomes the
region of a `linalg.generic` whose indexing maps express numpy broadcasting; other ops call
their entry's `lower` function with a `LinalgBuilder`. Function signatures switch to builtin
types (`!torch.vtensor<[3,4],f32>` → `tensor<3x4xf32>`, `!torch.int` → `i64`, ...), and
parameters become `ml_program.global`s. Ops with neither `body` nor `lower` (composites such as
`linear`) must be decomposed first by `torch-decompose`; anything else left over is an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xdsl.builder import Builder, InsertPoint
from xdsl.context import Context
from xdsl.dialects import arith, cf, func, math, ml_program, tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseArrayBase,
    FileLineColLoc,
    Float64Type,
    IndexType,
    ModuleOp,
    NameLoc,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    i1,
    i64,
)
from xdsl.dialects.linalg.attrs import IteratorTypeAttr
from xdsl.dialects.linalg.ops import FillOp, IndexOp, MatmulOp, TransposeOp, YieldOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineExpr, AffineMap
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException

from xjit.dialects import torch as td
from xjit.dialects.arith_ext import RemFOp
from xjit.dialects.scatter import IndexPutOp, NonzeroOp
from xjit.ops.indexing_maps import broadcast_map as _broadcast_map
from xjit.ops.registry import UNKNOWN, OpDef
from xjit.ops.shape_ops import reshape_groups  # after xjit.dialects, which loads every op module
from xjit.passes.linalg_fuse_elementwise import origin_loc
from xjit.passes.op_builders import (
    map_attr,
    new_binary,
    new_empty,
    new_generic,
    new_yield,
    parallel_iterators,
)
from xjit.passes.torch_control_flow import CONTROL_FLOW_PATTERNS, lower_scalar_aten, select_view
from xjit.passes.torch_type_conversion import (
    PYTHON_VALUE_OPS,
    FirstErrorApplier,
    OpLoweringError,
    TorchConversionPattern,
    bridge_to,
    cast_scalar,
    constant_of,
    convert_type,
    element_type,
    erase_bridges,
    is_float,
    is_torch_type,
    lowered,
    operand_arg,
    scalar_constant,
)

_is_float = is_float


# -- scalar ops for elementwise bodies -------------------------------------------------------

_CMPF = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}
_CMPI = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}


class ArithScalarOps:
    """The body vocabulary of `xjit.ops.elementwise_ops.NumpyOps`, emitting arith/math ops.

    Python numbers become constants of the other operand's type; mixed types are cast first.
    """

    def __init__(self, builder: Builder, compute_type: Attribute) -> None:
        self.b = builder
        self.ty = compute_type
        self.divisor_checked = False  # a run-time integer divisor was checked for zeros

    def _val(self, x: Any, ty: Attribute | None = None) -> SSAValue:
        ty = ty or self.ty
        if isinstance(x, SSAValue):
            return cast_scalar(self.b, x, ty)
        return self.b.insert(scalar_constant(x, ty)).result

    def _bin(self, fop: type[Operation], iop: type[Operation] | None, x: Any, y: Any) -> SSAValue:
        a, b = self._val(x), self._val(y)
        if _is_float(a.type):
            return self.b.insert(new_binary(fop, a, b)).results[0]
        if iop is None:
            raise DiagnosticException(f"{fop.name} has no integer counterpart")
        return self.b.insert(new_binary(iop, a, b)).results[0]

    def add(self, x: Any, y: Any) -> SSAValue:
        if self.ty == i1:  # torch: bool + bool is `or` (an i1 addi wraps: it would be `xor`)
            return self.logical_or(x, y)
        return self._bin(arith.AddfOp, arith.AddiOp, x, y)

    def sub(self, x: Any, y: Any) -> SSAValue:
        return self._bin(arith.SubfOp, arith.SubiOp, x, y)

    def mul(self, x: Any, y: Any) -> SSAValue:
        return self._bin(arith.MulfOp, arith.MuliOp, x, y)

    def div(self, x: Any, y: Any) -> SSAValue:
        return self._bin(arith.DivfOp, arith.DivSIOp, x, y)

    def maximum(self, x: Any, y: Any) -> SSAValue:
        if self.ty == i1:  # on i1, signed order has true (-1) below false: max is `or`
            return self._bin(arith.OrIOp, arith.OrIOp, x, y)
        return self._bin(arith.MaximumfOp, arith.MaxSIOp, x, y)

    def minimum(self, x: Any, y: Any) -> SSAValue:
        if self.ty == i1:
            return self._bin(arith.AndIOp, arith.AndIOp, x, y)
        return self._bin(arith.MinimumfOp, arith.MinSIOp, x, y)

    def pow(self, x: Any, y: Any) -> SSAValue:
        a, b = self._val(x), self._val(y)
        if _is_float(a.type):
            return self.b.insert(math.PowFOp(a, b)).result
        if isinstance(y, int) and y < 0:  # torch refuses it whatever the tensor's values
            raise DiagnosticException("Integers to negative integer powers are not allowed.")
        return self.b.insert(math.IPowIOp(a, b)).result

    def erf(self, x: Any) -> SSAValue:
        return self._unary(math.ErfOp, x)

    def is_float(self, x: Any) -> bool:
        return _is_float(self._val(x).type)

    def log1p(self, x: Any) -> SSAValue:
        return self._unary(math.Log1pOp, x)

    def expm1(self, x: Any) -> SSAValue:
        return self._unary(math.ExpM1Op, x)

    def copysign(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(math.CopySignOp(self._val(x), self._val(y))).result

    def _round(self, op: type[Operation], x: Any) -> SSAValue:
        a = self._val(x)  # integers are already whole: torch returns them unchanged
        return self._unary(op, a) if _is_float(a.type) else a

    def floor(self, x: Any) -> SSAValue:
        return self._round(math.FloorOp, x)

    def ceil(self, x: Any) -> SSAValue:
        return self._round(math.CeilOp, x)

    def trunc(self, x: Any) -> SSAValue:
        return self._round(math.TruncOp, x)

    def round(self, x: Any) -> SSAValue:  # torch.round: halves to even
        return self._round(math.RoundEvenOp, x)

    def _int_divisor(self, what: str, y: Any) -> None:
        # torch raises ZeroDivisionError on an integer zero divisor: a run-time divisor lowers
        # only where the caller checked it first (`divisor_checked`: lower_elementwise's
        # `int_divisor` check), a constant only when nonzero.
        if (isinstance(y, SSAValue) and not self.divisor_checked) or (
            not isinstance(y, SSAValue) and y == 0
        ):
            raise DiagnosticException(
                f"convert-torch-to-linalg: integer {what} lowers only with a nonzero constant "
                "divisor or one checked at run time (torch raises ZeroDivisionError on zero)"
            )

    def fmod(self, x: Any, y: Any) -> SSAValue:
        if not _is_float(self._val(x).type):
            self._int_divisor("fmod/remainder", y)
        a, b = self._val(x), self._val(y)
        if not _is_float(a.type):
            return self.b.insert(arith.RemSIOp(a, b)).result
        # exact C fmod (x - trunc(x/y)*y is not): MLIR's arith.remf, which xDSL 0.74 lacks
        # (xjit/dialects/arith_ext.py)
        return self.b.insert(RemFOp(a, b)).result

    def floordiv_int(self, x: Any, y: Any) -> SSAValue:
        self._int_divisor("floor division", y)
        return self.b.insert(arith.FloorDivSIOp(self._val(x), self._val(y))).result

    def truncdiv_int(self, x: Any, y: Any) -> SSAValue:
        self._int_divisor("truncating division", y)
        return self.b.insert(arith.DivSIOp(self._val(x), self._val(y))).result

    def logical_and(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.AndIOp(self._val(x, i1), self._val(y, i1))).result

    def logical_or(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.OrIOp(self._val(x, i1), self._val(y, i1))).result

    def logical_xor(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.XOrIOp(self._val(x, i1), self._val(y, i1))).result

    def logical_not(self, x: Any) -> SSAValue:
        return self.logical_xor(x, True)

    def neg(self, x: Any) -> SSAValue:
        a = self._val(x)
        if _is_float(a.type):
            return self.b.insert(arith.NegfOp(a)).result
        return self.sub(0, a)

    def _unary(self, op: type[Operation], x: Any) -> SSAValue:
        return self.b.insert(op(self._val(x))).results[0]  # type: ignore[call-arg]

    def tanh(self, x: Any) -> SSAValue:
        return self._unary(math.TanhOp, x)

    def exp(self, x: Any) -> SSAValue:
        return self._unary(math.ExpOp, x)

    def log(self, x: Any) -> SSAValue:
        return self._unary(math.LogOp, x)

    def sqrt(self, x: Any) -> SSAValue:
        return self._unary(math.SqrtOp, x)

    def rsqrt(self, x: Any) -> SSAValue:
        return self._unary(math.RsqrtOp, x)

    def abs(self, x: Any) -> SSAValue:
        a = self._val(x)
        if _is_float(a.type):
            return self.b.insert(math.AbsFOp(a)).result
        return self.b.insert(math.AbsIOp(a)).result

    def sin(self, x: Any) -> SSAValue:
        return self._unary(math.SinOp, x)

    # issue 12's math and bitwise ops (xjit/ops/math_ops.py); bodies only call the float ones
    # on floats and the bitwise ones on integers/bools (their dtype rules refuse the rest)
    def tan(self, x: Any) -> SSAValue:
        return self._unary(math.TanOp, x)

    def asin(self, x: Any) -> SSAValue:
        return self._unary(math.AsinOp, x)

    def acos(self, x: Any) -> SSAValue:
        return self._unary(math.AcosOp, x)

    def atan(self, x: Any) -> SSAValue:
        return self._unary(math.AtanOp, x)

    def atan2(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(math.Atan2Op(self._val(x), self._val(y))).result

    def sinh(self, x: Any) -> SSAValue:
        return self._unary(math.SinhOp, x)

    def cosh(self, x: Any) -> SSAValue:
        return self._unary(math.CoshOp, x)

    def log2(self, x: Any) -> SSAValue:
        return self._unary(math.Log2Op, x)

    def log10(self, x: Any) -> SSAValue:
        return self._unary(math.Log10Op, x)

    def exp2(self, x: Any) -> SSAValue:
        return self._unary(math.Exp2Op, x)

    def bitwise_and(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.AndIOp(self._val(x), self._val(y))).result

    def bitwise_or(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.OrIOp(self._val(x), self._val(y))).result

    def bitwise_xor(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.XOrIOp(self._val(x), self._val(y))).result

    def bitwise_not(self, x: Any) -> SSAValue:
        a = self._val(x)  # xor with all ones: ~x on integers, `not` on i1
        return self.bitwise_xor(a, True if a.type == i1 else -1)

    def shl(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.ShLIOp(self._val(x), self._val(y))).result

    def shr(self, x: Any, y: Any) -> SSAValue:
        return self.b.insert(arith.ShRSIOp(self._val(x), self._val(y))).result

    def cos(self, x: Any) -> SSAValue:
        return self._unary(math.CosOp, x)

    def _cmp(self, pred: str, x: Any, y: Any) -> SSAValue:
        a, b = self._val(x), self._val(y)
        if _is_float(a.type):
            return self.b.insert(arith.CmpfOp(a, b, _CMPF[pred])).result
        # on i1 the signed order has true (-1) below false: bools compare unsigned, as torch
        predicate = _CMPI[pred].replace("s", "u") if a.type == i1 else _CMPI[pred]
        return self.b.insert(arith.CmpiOp(a, b, predicate)).result

    def lt(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("lt", x, y)

    def le(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("le", x, y)

    def gt(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("gt", x, y)

    def ge(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("ge", x, y)

    def eq(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("eq", x, y)

    def ne(self, x: Any, y: Any) -> SSAValue:
        return self._cmp("ne", x, y)

    def select(self, c: Any, x: Any, y: Any) -> SSAValue:
        cond = self._val(c, i1)
        return self.b.insert(arith.SelectOp(cond, self._val(x), self._val(y))).result


# -- linalg builder for `lower` functions ------------------------------------------------------


# A reshape whose shape does not fit its input's run-time element count (torch's "shape '[..]'
# is invalid for input of size N").
_RESHAPE_NUMEL = "reshape: the shape is invalid for the input's number of elements"


def _dim(b: Builder, t: SSAValue, i: int) -> SSAValue:
    idx = b.insert(arith.ConstantOp.from_int_and_width(i, IndexType())).result
    return b.insert(tensor.DimOp(t, idx)).result


def empty_like_dims(
    b: Builder, result: TensorType, dim_sources: Sequence[tuple[SSAValue, int] | None]
) -> SSAValue:
    """`tensor.empty` of `result`'s type; dynamic dims are read off (tensor, dim) sources."""
    dyn = []
    for size, src in zip(result.get_shape(), dim_sources, strict=True):
        if size == DYNAMIC_INDEX:
            if src is None:
                raise DiagnosticException("cannot determine a dynamic result dimension")
            dyn.append(_dim(b, *src))
    return b.insert(new_empty(dyn, result)).tensor


class LinalgBuilder:
    """What a registry entry's `lower(L, *args)` may call."""

    def __init__(
        self, builder: Builder, result_types: Sequence[Attribute], op_name: str = "linalg op"
    ) -> None:
        self.b = builder
        self.result_types = result_types
        self.op_name = op_name  # names run-time size checks

    @staticmethod
    def rank(t: SSAValue) -> int:
        assert isinstance(t.type, TensorType)
        return t.type.get_num_dims()

    def zeros(
        self, result: TensorType, dim_sources: Sequence[tuple[SSAValue, int] | None]
    ) -> SSAValue:
        init = empty_like_dims(self.b, result, dim_sources)
        et = result.element_type
        z = self.b.insert(scalar_constant(0, et)).result
        return self.b.insert(FillOp([z], [init], [result])).results[0]

    def matmul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        rt = self.result_types[0]
        assert isinstance(rt, TensorType)
        assert_dims_agree(
            self.b,
            self.op_name,
            [
                (a, AffineMap.from_callable(lambda i, j, k: (i, k))),
                (b, AffineMap.from_callable(lambda i, j, k: (k, j))),
            ],
        )
        acc = self.zeros(rt, [(a, 0), (b, 1)])
        return self.b.insert(MatmulOp([a, b], [acc], [rt])).results[0]

    def transpose(self, x: SSAValue, perm: Sequence[int]) -> SSAValue:
        rt = self.result_types[0]
        xt = x.type
        assert isinstance(rt, TensorType) and isinstance(xt, TensorType)
        # A refined result type may know a size the input leaves `?` (or the other way round);
        # linalg.transpose needs the two to agree, so transpose at the sizes both know (a `?`
        # made static is checked at run time) and cast to the result type after.
        src = list(xt.get_shape())
        known = [d if d != DYNAMIC_INDEX else src[p] for d, p in zip(rt.get_shape(), perm)]
        for d, p in zip(known, perm, strict=True):
            src[p] = d
        x = static_info_cast(self.b, x, TensorType(xt.element_type, src))
        mid = TensorType(rt.element_type, known)
        init = empty_like_dims(self.b, mid, [(x, p) for p in perm])
        out = self.b.insert(
            TransposeOp(x, init, DenseArrayBase.from_list(i64, list(perm)), mid)
        ).results[0]
        return out if mid == rt else self.b.insert(tensor.CastOp(out, rt)).dest

    # -- generic building blocks (see xjit/ops/*_ops.py for their users) ---------------------

    def result(self, i: int = 0) -> TensorType:
        rt = self.result_types[i]
        assert isinstance(rt, TensorType)
        return rt

    def generic(
        self,
        ins: Sequence[SSAValue],
        in_maps: Sequence[AffineMap],
        init: SSAValue,
        out_map: AffineMap,
        iterators: Sequence[str],
        body: Any,
    ) -> SSAValue:
        """A one-output `linalg.generic`; `body(ops, args, block)` returns the yielded value,
        with `ops` an `ArithScalarOps` in the output element type."""
        rt = init.type
        assert isinstance(rt, TensorType)
        assert_dims_agree(self.b, self.op_name, [*zip(ins, in_maps, strict=True), (init, out_map)])
        block = Block(
            arg_types=[SSAValue.get(t).type.element_type for t in ins] + [rt.element_type]
        )  # type: ignore[attr-defined]
        bb = Builder(InsertPoint.at_end(block))
        ops = ArithScalarOps(bb, rt.element_type)
        res = ops._val(body(ops, block.args, bb), rt.element_type)
        bb.insert(YieldOp(res))
        its = [
            IteratorTypeAttr.parallel() if k == "parallel" else IteratorTypeAttr.reduction()
            for k in iterators
        ]
        op = new_generic(
            list(ins), [init], Region(block), [map_attr(m) for m in (*in_maps, out_map)], its, [rt]
        )
        return self.b.insert(op).results[0]

    def empty(self, rt: TensorType, in_maps: Sequence[tuple[SSAValue, AffineMap]]) -> SSAValue:
        """`tensor.empty` of `rt` (iterated by an identity map), dynamic sizes read off inputs."""
        sources: list[tuple[SSAValue, int] | None] = [None] * rt.get_num_dims()
        for t, m in in_maps:
            for k, e in enumerate(m.results):
                if (
                    isinstance(e, AffineDimExpr)
                    and e.position < len(sources)
                    and sources[e.position] is None
                ):
                    sources[e.position] = (t, k)
        return empty_like_dims(self.b, rt, sources)

    def fill(
        self, value: Any, dim_sources: Sequence[tuple[SSAValue, int] | None] | None = None
    ) -> SSAValue:
        """The result filled with `value` (a Python number or a run-time scalar)."""
        rt = self.result()
        init = empty_like_dims(self.b, rt, dim_sources or [None] * rt.get_num_dims())
        v = ArithScalarOps(self.b, rt.element_type)._val(value)
        return self.b.insert(FillOp([v], [init], [rt])).results[0]

    def copy(self, x: SSAValue, in_map: AffineMap) -> SSAValue:
        """result[d...] = x[in_map(d...)]: views (select, slice, squeeze, expand, ...) as copies."""
        rt = self.result()
        init = self.empty(rt, [(x, in_map)])
        n = rt.get_num_dims()
        return self.generic(
            [x], [in_map], init, AffineMap.identity(n), ["parallel"] * n, lambda o, a, b: a[0]
        )

    def convert(self, x: SSAValue, element: Attribute) -> SSAValue:
        """x with its elements cast to `element` (torch's conversion rules: `cast_scalar`)."""
        xt = x.type
        assert isinstance(xt, TensorType)
        rt = TensorType(element, xt.get_shape())
        n = xt.get_num_dims()
        init = empty_like_dims(self.b, rt, [(x, k) for k in range(n)])
        ident = AffineMap.identity(n)
        return self.generic([x], [ident], init, ident, ["parallel"] * n, lambda o, a, b: a[0])

    def reduce(self, x: SSAValue, dims: Sequence[int], keepdim: bool, kind: str) -> SSAValue:
        """Reduce `x` over `dims` with `kind` in add/mul/max/min: `linalg.fill` of the identity, then a
        `linalg.generic` with "reduction" iterators (the output map drops, or with `keepdim`
        pins to 0, the reduced dims)."""
        rt = self.result()
        rank = self.rank(x)
        red = set(dims)
        exprs: list[AffineExpr] = []
        sources: list[tuple[SSAValue, int] | None] = []
        for d in range(rank):
            if d not in red:
                exprs.append(AffineDimExpr(d))
                sources.append((x, d))
            elif keepdim:
                exprs.append(AffineConstantExpr(0))
                sources.append(None)
        et = rt.element_type
        if kind in ("max", "min"):  # no identity element: an empty `?` dim raises, as in torch
            self._assert_nonempty(x, sorted(red))
        init = empty_like_dims(self.b, rt, sources)
        ident = _reduction_identity(kind, et)
        v = self.b.insert(scalar_constant(ident, et)).result
        acc = self.b.insert(FillOp([v], [init], [rt])).results[0]
        iters = ["reduction" if d in red else "parallel" for d in range(rank)]

        def body(o: ArithScalarOps, a: Sequence[SSAValue], _: Builder) -> SSAValue:
            x_el = o._val(a[0])
            if kind == "add":
                return o.add(x_el, a[1]) if et != i1 else o.logical_or(x_el, a[1])
            if kind == "mul":  # prod (xjit/ops/logical_ops.py)
                return o.mul(x_el, a[1])
            return o.maximum(x_el, a[1]) if kind == "max" else o.minimum(x_el, a[1])

        return self.generic(
            [x], [AffineMap.identity(rank)], acc, AffineMap(rank, 0, tuple(exprs)), iters, body
        )

    def _assert_nonempty(self, x: SSAValue, dims: Sequence[int]) -> None:
        """A run-time check that the `?` dims of `dims` are not 0 (a max/min over nothing would
        be its -inf/+inf fill; torch raises). Static sizes were checked by the shape rule."""
        shape = x.type.get_shape()  # type: ignore[attr-defined]
        for d in dims:
            if shape[d] != DYNAMIC_INDEX:
                continue
            zero = self.b.insert(arith.ConstantOp.from_int_and_width(0, IndexType())).result
            ok = self.b.insert(arith.CmpiOp(_dim(self.b, x, d), zero, "ne")).result
            msg = f"{self.op_name}: Expected reduction dim {d} to have non-zero size."
            self.b.insert(cf.AssertOp(ok, msg))

    def assert_in_range(
        self, x: SSAValue, lo: int, hi: int | tuple[SSAValue, int], message: str
    ) -> None:
        """A run-time check that every element of the integer tensor `x` is in [lo, hi), `hi`
        an int or a (tensor, dim) size: one reduction to a flag and a `cf.assert`, so compiled
        code raises where torch raises (numpy would wrap a negative index silently)."""
        rank = self.rank(x)
        if isinstance(hi, tuple):
            n = _dim(self.b, *hi)
            hi_v = self.b.insert(arith.IndexCastOp(n, i64)).result
        else:
            hi_v = self.b.insert(arith.ConstantOp.from_int_and_width(hi, i64)).result
        flag_t = TensorType(i1, [])
        true = self.b.insert(arith.ConstantOp.from_int_and_width(1, i1)).result
        init = self.b.insert(tensor.EmptyOp([], flag_t)).tensor
        acc = self.b.insert(FillOp([true], [init], [flag_t])).results[0]
        # The bound enters the body as an operand (a 0-d tensor), not as a captured value.
        bound_t = TensorType(i64, [])
        empty = self.b.insert(tensor.EmptyOp([], bound_t)).tensor
        bound = self.b.insert(FillOp([hi_v], [empty], [bound_t])).results[0]

        def in_range(o: ArithScalarOps, a: Sequence[SSAValue], _: Builder) -> SSAValue:
            ok = o.logical_and(o.ge(a[0], lo), o.lt(a[0], a[1]))
            return o.logical_and(a[2], ok)

        ok = self.generic(
            [x, bound],
            [AffineMap.identity(rank), AffineMap(rank, 0, ())],
            acc,
            AffineMap(rank, 0, ()),
            ["reduction"] * rank,
            lambda o, a, bb: in_range(ArithScalarOps(bb, i64), a, bb),
        )
        flag = self.b.insert(tensor.ExtractOp(ok, [], i1)).result
        self.b.insert(cf.AssertOp(flag, message))

    def contract(
        self, a: SSAValue, b: SSAValue, a_exprs: Sequence[AffineExpr], b_exprs: Sequence[AffineExpr]
    ) -> SSAValue:
        """result[d...] = sum_k a[a_exprs] * b[b_exprs], loops (result dims..., k): mm, bmm and
        broadcast matmul in one generic, which the numpy backend emits as matmul/einsum."""
        rt = self.result()
        n = rt.get_num_dims() + 1
        am, bm = AffineMap(n, 0, tuple(a_exprs)), AffineMap(n, 0, tuple(b_exprs))
        init = self.empty(rt, [(a, am), (b, bm)])
        z = self.b.insert(scalar_constant(0, rt.element_type)).result
        acc = self.b.insert(FillOp([z], [init], [rt])).results[0]
        return self.generic(
            [a, b],
            [am, bm],
            acc,
            AffineMap(n, 0, tuple(AffineDimExpr(d) for d in range(n - 1))),
            ["parallel"] * (n - 1) + ["reduction"],
            lambda o, x, _: o.add(o.mul(x[0], x[1]), x[2]),
        )

    def index_along(
        self, dim: int, start: Any = 0, step: Any = 1, count: SSAValue | None = None
    ) -> SSAValue:
        """result[d...] = start + d[dim] * step (arange; iota-like index tensors). `count` (an
        i64, checked non-negative) is the size of a 1-D result known only at run time."""
        rt = self.result()
        n = rt.get_num_dims()
        if count is not None and n == 1 and rt.get_shape()[0] == DYNAMIC_INDEX:
            zero = self.b.insert(arith.ConstantOp.from_int_and_width(0, count.type)).result
            ok = self.b.insert(arith.CmpiOp(count, zero, "sge")).result
            self.b.insert(cf.AssertOp(ok, "arange: upper bound and lower bound inconsistent"))
            size = self.b.insert(arith.IndexCastOp(count, IndexType())).result
            init = self.b.insert(tensor.EmptyOp([size], rt)).tensor
        else:
            init = empty_like_dims(self.b, rt, [None] * n)

        def body(o: ArithScalarOps, _: Sequence[SSAValue], bb: Builder) -> SSAValue:
            i = bb.insert(IndexOp(dim)).result
            i64v = bb.insert(arith.IndexCastOp(i, i64)).result
            wide = Float64Type() if _is_float(rt.element_type) else i64
            w = ArithScalarOps(bb, wide)
            return w.add(w.mul(w._val(i64v), step), start)

        return self.generic([], [], init, AffineMap.identity(n), ["parallel"] * n, body)

    def select_dynamic(self, x: SSAValue, dim: int, index: SSAValue) -> SSAValue:
        """x.select(dim, i) for a run-time i: a `tensor.extract_slice`, i.e. the numpy view
        `x[i]` after bufferization (see `torch_control_flow.select_view`); negative i counts
        from the end."""
        return select_view(self.b, x, dim, index, self.result())

    # -- views (docs/contracts.md: they bufferize to memref views, never to copies) ---------

    def slice_view(
        self, x: SSAValue, offsets: Sequence[int], sizes: Sequence[int], strides: Sequence[int]
    ) -> SSAValue:
        """result = x[offsets : offsets + sizes * strides : strides] per dim, dims the result
        drops having size 1 (a rank-reducing `tensor.extract_slice`: `x[3]`, `x[:, 1:5:2]`).
        Dynamic sizes (-1) are read off `x` (only for full-extent, unit-stride dims)."""
        xt = x.type
        assert isinstance(xt, TensorType)
        dyn_sizes: list[SSAValue | int] = [
            _dim(self.b, x, k) if n == DYNAMIC_INDEX else n for k, n in enumerate(sizes)
        ]
        return self.b.insert(
            tensor.ExtractSliceOp(x, list(offsets), dyn_sizes, list(strides), self.result())
        ).result

    def reshape(self, x: SSAValue, sizes: Sequence[Any] | None = None) -> SSAValue:
        """x viewed with the result's shape: `tensor.collapse_shape` and/or
        `tensor.expand_shape` (reassociations from `reshape_groups`), no copy. `sizes` (view's
        size list) may hold run-time sizes (i64 values): each is checked against x's element
        count, as torch does."""
        xt, rt = x.type, self.result()
        assert isinstance(xt, TensorType)
        src = [None if d == DYNAMIC_INDEX else d for d in xt.get_shape()]
        dst = [None if d == DYNAMIC_INDEX else d for d in rt.get_shape()]
        given = [s if isinstance(s, SSAValue) else None for s in sizes or [None] * len(dst)]
        if src == dst and not any(given):
            return x
        if not src or not dst:  # to or from rank 0: one element, copied (no 0-d reassociation)
            m = AffineMap(len(dst), 0, tuple(AffineConstantExpr(0) for _ in src))
            return self.copy(x, m)
        gin, gout = reshape_groups(src, dst)
        mid: list[int] = []
        for g in gin:
            sizes_in = [xt.get_shape()[k] for k in g]
            mid.append(DYNAMIC_INDEX if DYNAMIC_INDEX in sizes_in else _prod(sizes_in))
        v = x
        if any(len(g) != 1 for g in gin) or len(gin) != len(src):
            v = self.b.insert(
                tensor.CollapseShapeOp(
                    operands=[x],
                    result_types=[TensorType(rt.element_type, mid)],
                    properties={"reassociation": _reassociation(gin)},
                )
            ).results[0]
        v = self._static_groups_checked(v, gout, rt.get_shape())
        expand = any(len(g) != 1 for g in gout) or len(gout) != len(dst)
        dyn: list[SSAValue] = []
        for j, g in enumerate(gout):
            if expand or any(given[k] is not None for k in g):  # sizes needed or to check
                dyn += self._group_sizes(v, j, g, rt.get_shape(), given)
        if expand:
            v = self.b.insert(
                tensor.ExpandShapeOp(v, dyn, _reassociation(gout), list(rt.get_shape()), rt)
            ).results[0]
        elif v.type != rt:  # a static dim viewed with a run-time size (checked above)
            v = self.b.insert(tensor.CastOp(v, rt)).dest
        return v

    def _group_sizes(
        self,
        v: SSAValue,
        j: int,
        g: Sequence[int],
        dst: Sequence[int],
        given: Sequence[SSAValue | None],
    ) -> list[SSAValue]:
        """The run-time sizes of the dynamic result dims `g` split from `v`'s dim `j`: the one
        without a given size is dim j / the static ones (asserted exact); given sizes are
        checked: their product times the static ones must be dim j."""
        dyn = [k for k in g if dst[k] == DYNAMIC_INDEX]
        if not dyn:
            return []
        static = _prod([dst[k] for k in g if dst[k] != DYNAMIC_INDEX])
        n = _dim(self.b, v, j)
        known = [k for k in dyn if given[k] is not None]
        if not known:
            if len(dyn) > 1:
                raise NotImplementedError("reshape to several dims of unknown size from one dim")
            return [self._exact_quotient(n, static)]
        if len(known) != len(dyn):
            raise NotImplementedError("reshape with -1 next to a run-time size in one group")
        out: list[SSAValue] = []
        for k in dyn:
            size = given[k]
            assert size is not None
            out.append(self.b.insert(arith.IndexCastOp(size, IndexType())).result)
        total = out[0]
        for size in out[1:]:
            total = self.b.insert(arith.MuliOp(total, size)).result
        if static != 1:
            c = self.b.insert(arith.ConstantOp.from_int_and_width(static, IndexType())).result
            total = self.b.insert(arith.MuliOp(total, c)).result
        ok = self.b.insert(arith.CmpiOp(total, n, "eq")).result
        self.b.insert(cf.AssertOp(ok, _RESHAPE_NUMEL))
        return out

    def _static_groups_checked(
        self, v: SSAValue, gout: Sequence[Sequence[int]], dst: Sequence[int]
    ) -> SSAValue:
        """`v` (the collapsed input) with its dynamic dims that `dst` groups statically made
        static: each checked at run time (torch: "shape '[2, 8]' is invalid for input of size
        ..."), then a `tensor.cast`."""
        vt = v.type
        assert isinstance(vt, TensorType)
        shape = list(vt.get_shape())
        for j, g in enumerate(gout):
            if shape[j] == DYNAMIC_INDEX and all(dst[k] != DYNAMIC_INDEX for k in g):
                size = _prod([dst[k] for k in g])
                want = self.b.insert(arith.ConstantOp.from_int_and_width(size, IndexType()))
                ok = self.b.insert(arith.CmpiOp(_dim(self.b, v, j), want.result, "eq")).result
                self.b.insert(cf.AssertOp(ok, _RESHAPE_NUMEL))
                shape[j] = size
        if shape == list(vt.get_shape()):
            return v
        return self.b.insert(tensor.CastOp(v, TensorType(vt.element_type, shape))).dest

    def _exact_quotient(self, n: SSAValue, d: int) -> SSAValue:
        """n / d for a run-time size n, asserting d divides it (else the element counts of a
        reshape differ: torch raises, numpy would too, but only after a wrong expand_shape).
        Signed ops on the non-negative sizes: the ones xDSL's interpreter runs too."""
        if d == 1:
            return n
        dv = self.b.insert(arith.ConstantOp.from_int_and_width(d, IndexType())).result
        zero = self.b.insert(arith.ConstantOp.from_int_and_width(0, IndexType())).result
        rem = self.b.insert(arith.RemSIOp(n, dv)).result
        ok = self.b.insert(arith.CmpiOp(rem, zero, "eq")).result
        self.b.insert(cf.AssertOp(ok, _RESHAPE_NUMEL))
        return self.b.insert(arith.DivSIOp(n, dv)).result

    def insert_slices(
        self,
        pieces: Sequence[tuple[SSAValue, Sequence[int | SSAValue]]],
        init: SSAValue | None = None,
    ) -> SSAValue:
        """The result built from `pieces` (tensor, offsets; an offset may be a run-time `index`),
        each a `tensor.insert_slice` into one `tensor.empty` (`init`, or one sized like the
        first piece): after bufferization each piece is copied into a subview of one buffer
        (cat, stack)."""
        rt = self.result()
        sources: list[tuple[SSAValue, int] | None] = [
            (pieces[0][0], k) if pieces else None for k in range(rt.get_num_dims())
        ]
        acc = init if init is not None else empty_like_dims(self.b, rt, sources)
        for t, offsets in pieces:
            tt = t.type
            assert isinstance(tt, TensorType)
            sizes: list[SSAValue | int] = [
                _dim(self.b, t, k) if n == DYNAMIC_INDEX else n
                for k, n in enumerate(tt.get_shape())
            ]
            static_sizes = [DYNAMIC_INDEX if not isinstance(s, int) else s for s in sizes]
            static_offsets = [o if isinstance(o, int) else DYNAMIC_INDEX for o in offsets]
            acc = self.b.insert(
                tensor.InsertSliceOp.get(
                    t,
                    acc,
                    static_sizes,
                    static_offsets,
                    [1] * len(offsets),
                    offsets=[o for o in offsets if not isinstance(o, int)],
                    sizes=[s for s in sizes if not isinstance(s, int)],
                    result_type=rt,
                )
            ).result
        return acc

    def concat_dynamic(self, xs: Sequence[SSAValue], dim: int) -> SSAValue:
        """cat of `xs` along `dim` where some of them have a `?` size there (a loop that grows
        a tensor): offsets and the result's size are summed at run time."""
        rt = self.result()
        et = rt.element_type
        xs = [x if x.type.element_type == et else self.convert(x, et) for x in xs]  # type: ignore[attr-defined]
        offset: SSAValue | int = 0
        pieces: list[tuple[SSAValue, Sequence[int | SSAValue]]] = []
        for x in xs:
            offsets: list[int | SSAValue] = [0] * self.rank(x)
            offsets[dim] = offset
            pieces.append((x, offsets))
            n = x.type.get_shape()[dim]  # type: ignore[attr-defined]
            size = _dim(self.b, x, dim) if n == DYNAMIC_INDEX else n
            offset = self._add_index(offset, size)
        dyn = []
        for k, n in enumerate(rt.get_shape()):
            if n == DYNAMIC_INDEX:
                dyn.append(offset if k == dim else _dim(self.b, xs[0], k))
        init = self.b.insert(tensor.EmptyOp(dyn, rt)).tensor
        return self.insert_slices(pieces, init)

    def _add_index(self, a: SSAValue | int, b: SSAValue | int) -> SSAValue | int:
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        if isinstance(a, int) and a == 0:
            return b
        va, vb = (
            self.b.insert(arith.ConstantOp.from_int_and_width(v, IndexType())).result
            if isinstance(v, int)
            else v
            for v in (a, b)
        )
        return self.b.insert(arith.AddiOp(va, vb)).result

    def gather_rows(self, weight: SSAValue, indices: SSAValue) -> SSAValue:
        """result[i..., j] = weight[indices[i...], j] (embedding): a `linalg.generic` over the
        result reading `indices` through its map and `weight` with `tensor.extract` at a
        computed row (bufferized to `memref.load`, vectorised as `weight[indices]`)."""
        rt = self.result()
        n = rt.get_num_dims()
        idx_map = AffineMap(n, 0, tuple(AffineDimExpr(d) for d in range(n - 1)))
        sources: list[tuple[SSAValue, int] | None] = [(indices, d) for d in range(n - 1)]
        sources.append((weight, 1))
        init = empty_like_dims(self.b, rt, sources)

        def body(o: ArithScalarOps, a: Sequence[SSAValue], bb: Builder) -> SSAValue:
            row = bb.insert(arith.IndexCastOp(cast_scalar(bb, a[0], i64), IndexType())).result
            col = bb.insert(IndexOp(n - 1)).result
            return bb.insert(tensor.ExtractOp(weight, [row, col], rt.element_type)).result

        return self.generic(
            [indices], [idx_map], init, AffineMap.identity(n), ["parallel"] * n, body
        )

    def gather(
        self,
        source: SSAValue,
        axes: Sequence[int | tuple[SSAValue, AffineMap]],
        dims: Sequence[tuple[SSAValue, int] | None],
    ) -> SSAValue:
        """result[i...] = source[s_0, s_1, ...]: source axis j is loop dim `axes[j]` (an int)
        or the element of an index tensor read through its map (`(indices, map)`), a computed
        position vectorised as numpy fancy indexing (index_select, gather, x[idx]). `dims`
        gives each result dim's (tensor, dim) for a dynamic size."""
        rt = self.result()
        n = rt.get_num_dims()
        ins = [a for a in axes if not isinstance(a, int)]
        init = empty_like_dims(self.b, rt, dims)

        def body(o: ArithScalarOps, a: Sequence[SSAValue], bb: Builder) -> SSAValue:
            loaded = iter(a)
            coords = []
            for ax in axes:
                if isinstance(ax, int):
                    coords.append(bb.insert(IndexOp(ax)).result)
                else:
                    i = cast_scalar(bb, next(loaded), i64)
                    coords.append(bb.insert(arith.IndexCastOp(i, IndexType())).result)
            return bb.insert(tensor.ExtractOp(source, coords, rt.element_type)).result

        return self.generic(
            [t for t, _ in ins],  # type: ignore[misc]
            [m for _, m in ins],  # type: ignore[misc]
            init,
            AffineMap.identity(n),
            ["parallel"] * n,
            body,
        )

    def index_put(
        self, x: SSAValue, indices: Sequence[SSAValue], values: SSAValue, accumulate: bool
    ) -> SSAValue:
        """`x[indices] = values` (`+=` with `accumulate`) on x's leading dims: the indices
        broadcast to one shape `B`, negative ones wrapped and all checked against x's sizes at
        run time (elementwise generics), `values` broadcast to `B + x.shape[K:]`, then one
        `scatter.index_put` (bufferized in place into a copy of x; the numpy backend writes it
        as `out[i, j] = v` or `np.add.at`)."""
        xt = x.type
        assert isinstance(xt, TensorType)
        bshape, bsrc = _broadcast_index_shape(indices)
        k = len(indices)
        wrapped = [self._wrap_index(i, bshape, bsrc, (x, d)) for d, i in enumerate(indices)]
        want = TensorType(xt.element_type, [*bshape, *xt.get_shape()[k:]])
        vt = values.type
        assert isinstance(vt, TensorType)
        if vt != want:  # broadcast (and convert) the values to the full update shape
            n = want.get_num_dims()
            dims = [*bsrc, *((x, d) for d in range(k, xt.get_num_dims()))]
            init = empty_like_dims(self.b, want, dims)
            vmap = _broadcast_map(list(vt.get_shape()), list(want.get_shape()))
            ident = AffineMap.identity(n)
            values = self.generic(
                [values], [vmap], init, ident, ["parallel"] * n, lambda o, a, _: a[0]
            )
        return self.b.insert(IndexPutOp(values, x, wrapped, accumulate)).results[0]

    def nonzero(self, x: SSAValue) -> SSAValue:
        """torch's `nonzero`: the count of nonzeros (a reduction to a 0-d i64, read as an
        index) sizes a `tensor.empty` of `count x rank` i64, which `scatter.nonzero` fills
        with their coordinates (the result's `?` dim: a size only the data decides)."""
        xt = x.type
        assert isinstance(xt, TensorType)
        n = xt.get_num_dims()
        zero_d = TensorType(i64, [])
        init = self.b.insert(tensor.EmptyOp([], zero_d)).tensor
        zero = self.b.insert(scalar_constant(0, i64)).result
        acc = self.b.insert(FillOp([zero], [init], [zero_d])).results[0]

        def count(o: ArithScalarOps, a: Sequence[SSAValue], bb: Builder) -> SSAValue:
            nz = ArithScalarOps(bb, xt.element_type).ne(a[0], 0)
            return o.add(cast_scalar(bb, nz, i64), a[1])

        total = self.generic(
            [x], [AffineMap.identity(n)], acc, AffineMap(n, 0, ()), ["reduction"] * n, count
        )
        c = self.b.insert(tensor.ExtractOp(total, [], i64)).result
        rows = self.b.insert(arith.IndexCastOp(c, IndexType())).result
        dest = self.b.insert(new_empty([rows], TensorType(i64, [DYNAMIC_INDEX, n]))).tensor
        return self.b.insert(NonzeroOp(x, dest)).results[0]

    def _wrap_index(
        self,
        idx: SSAValue,
        bshape: Sequence[int],
        bsrc: Sequence[tuple[SSAValue, int] | None],
        size: tuple[SSAValue, int],
    ) -> SSAValue:
        """`idx` broadcast to `bshape` as i64, a negative index `i` read as `i + size` (torch
        wraps them), then checked to lie in [0, size): out of range raises at run time."""
        n = self.b.insert(arith.IndexCastOp(_dim(self.b, *size), i64)).result
        bound_t = TensorType(i64, [])
        empty = self.b.insert(tensor.EmptyOp([], bound_t)).tensor
        bound = self.b.insert(FillOp([n], [empty], [bound_t])).results[0]
        rt = TensorType(i64, list(bshape))
        init = empty_like_dims(self.b, rt, bsrc)
        r = len(bshape)
        imap = _broadcast_map(list(idx.type.get_shape()), list(bshape))  # type: ignore[attr-defined]

        def wrap(o: ArithScalarOps, a: Sequence[SSAValue], bb: Builder) -> SSAValue:
            i = cast_scalar(bb, a[0], i64)
            return o.select(o.lt(i, 0), o.add(i, a[1]), i)

        wrapped = self.generic(
            [idx, bound],
            [imap, AffineMap(r, 0, ())],
            init,
            AffineMap.identity(r),
            ["parallel"] * r,
            lambda o, a, bb: wrap(ArithScalarOps(bb, i64), a, bb),
        )
        self.assert_in_range(
            wrapped, 0, size, f"{self.op_name}: index out of bounds for dimension {size[1]} of self"
        )
        return wrapped


def _broadcast_index_shape(
    indices: Sequence[SSAValue],
) -> tuple[list[int], list[tuple[SSAValue, int] | None]]:
    """The broadcast shape of the index tensors (numpy rules, right-aligned; `?` where a `?`
    meets no static size above 1) and, per dim, an index (tensor, dim) carrying that size."""
    shapes = [list(i.type.get_shape()) for i in indices]  # type: ignore[attr-defined]
    r = max(len(s) for s in shapes)
    out: list[int] = []
    src: list[tuple[SSAValue, int] | None] = []
    for d in range(r):
        size, where = 1, None
        for i, s in zip(indices, shapes, strict=True):
            j = d - (r - len(s))
            if j < 0 or s[j] == 1:
                continue
            if size == 1 or (size == DYNAMIC_INDEX and s[j] != DYNAMIC_INDEX):
                size, where = s[j], (i, j)
        out.append(size)
        src.append(where)
    return out, src


def _prod(xs: Sequence[int]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _reassociation(groups: Sequence[Sequence[int]]) -> Attribute:
    from xdsl.dialects.builtin import ArrayAttr, IntegerAttr

    return ArrayAttr([ArrayAttr([IntegerAttr(k, i64) for k in g]) for g in groups])


def _reduction_identity(kind: str, et: Attribute) -> float | int | bool:
    if kind == "add":
        return 0
    if kind == "mul":
        return 1
    if _is_float(et):
        return float("-inf") if kind == "max" else float("inf")
    if et == i1:
        return kind == "min"
    width = et.width.data  # type: ignore[attr-defined]
    return -(2 ** (width - 1)) if kind == "max" else 2 ** (width - 1) - 1


# -- the conversion ----------------------------------------------------------------------------


def assert_dims_agree(
    b: Builder, op_name: str, operands: Sequence[tuple[SSAValue, AffineMap]]
) -> None:
    """Check at run time that every operand indexed by a loop dim has the same size along it.

    Verification proves this for static sizes; a `?` size is only assumed to agree (and, as in
    torch-mlir, not to broadcast: xjit never generalises a size-1 dim to `?`). Without the check
    an operand larger than the iteration space would be read partially and silently.
    """
    groups: dict[int, list[tuple[SSAValue, int, int]]] = {}
    for t, m in operands:
        shape = t.type.get_shape()  # type: ignore[attr-defined]
        for j, e in enumerate(m.results):
            if isinstance(e, AffineDimExpr):
                groups.setdefault(e.position, []).append((t, j, shape[j]))
    for pos, members in sorted(groups.items()):
        dynamic = [(t, j) for t, j, size in members if size == DYNAMIC_INDEX]
        static = [size for _, _, size in members if size != DYNAMIC_INDEX]
        if not dynamic or (not static and len(dynamic) == 1):
            continue
        if static:
            reference = b.insert(arith.ConstantOp.from_int_and_width(static[0], IndexType())).result
            rest = dynamic
        else:
            reference, rest = _dim(b, *dynamic[0]), dynamic[1:]
        for t, j in rest:
            ok = b.insert(arith.CmpiOp(_dim(b, t, j), reference, "eq")).result
            b.insert(
                cf.AssertOp(ok, f"{op_name}: operand sizes along loop dimension {pos} do not match")
            )


def assert_nonzero(b: Builder, y: SSAValue, message: str) -> None:
    """A run-time check that the integer scalar or tensor `y` holds no zero (a reduction of
    `y == 0` to one flag for a tensor), failing with `message`."""
    if not isinstance(y.type, TensorType):
        zero = b.insert(scalar_constant(0, y.type)).result
        ok = b.insert(arith.CmpiOp(y, zero, "ne")).result
        b.insert(cf.AssertOp(ok, message))
        return
    n = y.type.get_num_dims()
    flag_t = TensorType(i1, [])
    init = b.insert(tensor.EmptyOp([], flag_t)).tensor
    false = b.insert(scalar_constant(0, i1)).result
    acc = b.insert(FillOp([false], [init], [flag_t])).results[0]

    def any_zero(o: ArithScalarOps, a: Sequence[SSAValue], bb: Builder) -> SSAValue:
        return o.logical_or(ArithScalarOps(bb, y.type.element_type).eq(a[0], 0), a[1])  # type: ignore[attr-defined]

    flag = LinalgBuilder(b, [flag_t], message).generic(
        [y], [AffineMap.identity(n)], acc, AffineMap(n, 0, ()), ["reduction"] * n, any_zero
    )
    found = b.insert(tensor.ExtractOp(flag, [], i1)).result
    true = b.insert(scalar_constant(1, i1)).result
    ok = b.insert(arith.CmpiOp(found, true, "ne")).result  # (not `eq`: not a size check)
    b.insert(cf.AssertOp(ok, message))


def static_info_cast(b: Builder, x: SSAValue, to: Attribute) -> SSAValue:
    """`torch.tensor_static_info_cast` as `tensor.cast` (a no-op when the builtin types agree).
    Shape refinement inserts them where a branch or loop joins sizes to `?`; a cast that makes
    a `?` dim static again is checked at run time (tensor.cast only asserts it)."""
    xt = x.type
    if xt == to:
        return x
    assert isinstance(xt, TensorType) and isinstance(to, TensorType)
    for k, (src, dst) in enumerate(zip(xt.get_shape(), to.get_shape(), strict=True)):
        if src == DYNAMIC_INDEX and dst != DYNAMIC_INDEX:
            want = b.insert(arith.ConstantOp.from_int_and_width(dst, IndexType())).result
            ok = b.insert(arith.CmpiOp(_dim(b, x, k), want, "eq")).result
            b.insert(cf.AssertOp(ok, f"torch.tensor_static_info_cast: dimension {k} is not {dst}"))
    return b.insert(tensor.CastOp(x, to)).dest


# A run-time scalar still takes part in type promotion by its kind (torch: an int tensor plus
# a float scalar computes in float): a stand-in of that kind for the compute-dtype rule.
_SCALAR_KIND_STANDIN: dict[type[Attribute], object] = {
    td.IntType: 0,
    td.FloatType: 0.0,
    td.BoolType: False,
}


def _dtype_arg(v: SSAValue) -> Any:
    c = constant_of(v)
    if c is not UNKNOWN:
        return c
    for kind, standin in _SCALAR_KIND_STANDIN.items():
        if isinstance(v.type, kind):
            return standin
    raise DiagnosticException(
        f"convert-torch-to-linalg: cannot tell the dtype of a run-time scalar of type {v.type}"
    )


# -- the conversion patterns ---------------------------------------------------------------------
# One per torch op kind (aten ops: one for all, driven by their registry entries); the
# control-flow and scalar ones are in passes/torch_control_flow.py. The base class and the type
# conversion are in passes/torch_type_conversion.py.


def _enclosing(op: Operation, kind: type[Operation]) -> Any:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, kind):
        parent = parent.parent_op()
    return parent


def constant_global(op: Operation, value: Attribute, type: Attribute) -> StringAttr:
    """Tensor literals become private constant globals (the linalg-stage contract has no
    tensor-valued `arith.constant`), declared before the function of `op`; the buffers stage
    turns them into `memref.global`s."""
    module = _enclosing(op, ModuleOp)
    fop = _enclosing(op, func.FuncOp)
    taken = {o.sym_name.data for o in module.ops if isinstance(o, ml_program.GlobalOp)}
    i = len(taken)
    while f"__constant_{i}" in taken:
        i += 1
    name = StringAttr(f"__constant_{i}")
    module.body.block.insert_op_before(
        ml_program.GlobalOp(name, type, None, value, StringAttr("private")), fop
    )
    return name


class FuncSignatureConversion(RewritePattern):
    """A function's argument and result types become builtin; its body sees its arguments
    through bridges until the body's ops are converted."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter) -> None:
        if op.is_declaration or not any(
            is_torch_type(t) for t in (*op.function_type.inputs, *op.function_type.outputs)
        ):
            return
        block = op.body.block
        new_types = [convert_type(a.type) for a in block.args]
        for arg, new_type in zip(list(block.args), new_types, strict=True):
            if arg.type == new_type:
                continue
            old_type = arg.type
            new = rewriter.replace_value_with_new_type(arg, new_type)
            bridge = bridge_to(new, old_type, InsertPoint.at_start(block))
            new.replace_uses_with_if(bridge, lambda u, c=bridge.owner: u.operation is not c)
        op.function_type = func.FunctionType.from_lists(
            new_types, [convert_type(t) for t in op.function_type.outputs]
        )


class ReturnConversion(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter) -> None:
        if any(is_torch_type(v.type) for v in op.arguments):
            rewriter.replace(op, func.ReturnOp(*[lowered(v) for v in op.arguments]))


class GlobalSlotConversion(RewritePattern):
    """`torch.global_slot` (a parameter) → a private `ml_program.global` without a value."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: td.GlobalSlotOp, rewriter: PatternRewriter) -> None:
        g = ml_program.GlobalOp(
            op.sym_name, convert_type(op.type), None, None, StringAttr("private")
        )
        rewriter.replace(op, g, [])


class ConstantConversion(TorchConversionPattern):
    op_types = (td.ConstantIntOp, td.ConstantFloatOp, td.ConstantBoolOp)

    def convert(self, op: Any, b: Builder) -> Sequence[SSAValue]:
        ty = convert_type(op.result.type)
        return [b.insert(scalar_constant(op.value.value.data, ty)).result]


class GlobalSlotGetConversion(TorchConversionPattern):
    op_types = (td.GlobalSlotGetOp,)

    def convert(self, op: td.GlobalSlotGetOp, b: Builder) -> Sequence[SSAValue]:
        ty = convert_type(op.result.type)
        return b.insert(ml_program.GlobalLoadConstantOp(op.slot, ty)).results


class TensorLiteralConversion(TorchConversionPattern):
    op_types = (td.ValueTensorLiteralOp,)

    def convert(self, op: td.ValueTensorLiteralOp, b: Builder) -> Sequence[SSAValue]:
        ty = convert_type(op.result.type)
        value = op.value
        if value.type != ty:  # signless builtin element type (si64 -> i64)
            value = type(value)(ty, value.data)
        name = constant_global(op, value, ty)
        return b.insert(ml_program.GlobalLoadConstantOp(SymbolRefAttr(name), ty)).results


class StaticInfoCastConversion(TorchConversionPattern):
    op_types = (td.TensorStaticInfoCastOp,)

    def convert(self, op: td.TensorStaticInfoCastOp, b: Builder) -> Sequence[SSAValue]:
        start = op.prev_op
        out = static_info_cast(b, lowered(op.operand), convert_type(op.result.type))
        _locate_asserts(start, op)
        return [out]


def _tag_origins(start: Operation | None, op: Operation) -> None:
    """Give the linalg ops built for `op` (after `start`) the provenance of `op`."""
    new = start.next_op if start is not None else op.parent_block().first_op  # type: ignore[union-attr]
    loc = origin_loc(op)
    while new is not None and new is not op:
        if new.name.startswith("linalg."):
            new.location = loc
        new = new.next_op


def _user_origin(loc: Attribute | None, name: str | None = None) -> tuple[str, str] | None:
    """(file:line, op name) of the op the user wrote: the innermost name over a file location
    (decomposition nests names: `loc("aten.softmax"("aten.exp"(...)))` is not the user's)."""
    if isinstance(loc, NameLoc):
        return _user_origin(loc.location, name or loc.desc.data.removeprefix("aten."))
    if isinstance(loc, FileLineColLoc):
        return f"{os.path.basename(loc.filename.data)}:{loc.line.data}", name or "?"
    return None


def _locate_asserts(start: Operation | None, op: Operation) -> None:
    """Name the user's line in the run-time size checks built for `op` (after `start`): a
    mismatch at call time then points at the torch op it guards, not only at an op name."""
    origin = _user_origin(op.location, op.name.removeprefix("torch.aten."))
    if origin is None:
        return
    where, name = origin
    new = start.next_op if start is not None else op.parent_block().first_op  # type: ignore[union-attr]
    while new is not None and new is not op:
        if isinstance(new, cf.AssertOp):
            detail = new.msg.data.split(": ", 1)[-1]
            # a size check compares two sizes; other checks (one_hot's class range) test values
            cmp = new.arg.owner
            sizes = isinstance(cmp, arith.CmpiOp) and cmp.predicate.value.data == 0
            what = "size mismatch" if sizes else "run-time check failed"
            new.msg = StringAttr(f"{what} at {where} ({name}): {detail}")
        new = new.next_op


def _int_list_arg(v: SSAValue) -> Any:
    """`operand_arg(v)`, but an int list with run-time elements (`[x.size(0), 2, -1]`) as a
    list of Python ints and the elements' lowered i64 values."""
    owner = v.owner
    if (
        not isinstance(owner, td.PrimListConstructOp)
        or constant_of(v) is not UNKNOWN
        or any(isinstance(e.type, td.ValueTensorType) for e in owner.elements)
    ):
        return operand_arg(v)
    out = []
    for e in owner.elements:
        c = constant_of(e)
        out.append(lowered(e) if c is UNKNOWN else c)
    return out


class AtenConversion(TorchConversionPattern):
    """Every `torch.aten.*` op, from its registry entry: an elementwise `body` becomes a
    `linalg.generic`, a `lower` function builds linalg with a `LinalgBuilder`, and scalar ops
    (`attrs={"scalar": True}`) become `arith` (passes/torch_control_flow.py)."""

    op_types = (td.AtenOp,)

    def convert(self, op: td.AtenOp, b: Builder) -> Sequence[SSAValue]:
        opdef = op.OPDEF
        if opdef.attrs.get("scalar"):  # int/float/bool ops, size.int, Bool.Tensor, ...
            return [lower_scalar_aten(b, op)]
        if opdef.attrs.get("run_time_sizes"):  # int lists whose elements may be run-time ints
            args = [_int_list_arg(v) for v in op.operands]
        else:
            args = [operand_arg(v) for v in op.operands]
        result_types = [convert_type(r.type) for r in op.results]
        start = op.prev_op  # provenance for the fusion report
        if opdef.body is not None:
            outs: Sequence[SSAValue] = [lower_elementwise(b, op, opdef, args, result_types[0])]
        elif opdef.lower is not None:
            out = opdef.lower(LinalgBuilder(b, result_types, op.name), *args)
            outs = out if isinstance(out, tuple) else (out,)
        else:
            hint = " (run torch-decompose first)" if opdef.decompose is not None else ""
            raise DiagnosticException(f"convert-torch-to-linalg: no lowering for '{op.name}'{hint}")
        _tag_origins(start, op)
        _locate_asserts(start, op)
        return outs


class Unconvertible(RewritePattern):
    """Last in line: a torch op no pattern converted is an error (`func.call`: inline first)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.name == "func.call":
            raise DiagnosticException(
                "convert-torch-to-linalg: 'func.call' is not lowered; run the `inline` pass first"
            )
        if op.name.startswith("torch.") and not isinstance(op, PYTHON_VALUE_OPS):
            raise OpLoweringError(f"convert-torch-to-linalg: cannot lower '{op.name}'", op)


def lower_elementwise(
    b: Builder, op: td.AtenOp, opdef: OpDef, args: list[Any], result_type: Attribute
) -> SSAValue:
    """An elementwise op as one `linalg.generic`: its scalar `body` in the op's compute dtype,
    inputs read through numpy-broadcasting indexing maps."""
    assert isinstance(result_type, TensorType) and opdef.compute_dtype is not None
    out_shape = result_type.get_shape()
    metas = [_dtype_arg(v) for v in op.operands]
    compute = element_type(opdef.compute_dtype(*metas))
    tensors = [
        a for a, v in zip(args, op.operands, strict=True) if isinstance(v.type, td.ValueTensorType)
    ]
    maps = []
    dim_sources: list[tuple[SSAValue, int] | None] = [None] * len(out_shape)
    for t in tensors:
        m = _broadcast_map(t.type.get_shape(), out_shape)
        maps.append(map_attr(m))
        for j, e in enumerate(m.results):
            if isinstance(e, AffineDimExpr) and dim_sources[e.position] is None:
                dim_sources[e.position] = (t, j)
    maps.append(map_attr(AffineMap.identity(len(out_shape))))
    assert_dims_agree(b, op.name, [(t, m.data) for t, m in zip(tensors, maps, strict=False)])
    init = empty_like_dims(b, result_type, dim_sources)
    body = Block(arg_types=[t.type.element_type for t in tensors] + [result_type.element_type])
    ops = ArithScalarOps(Builder(InsertPoint.at_end(body)), compute)
    div = opdef.attrs.get("int_divisor")
    if div is not None and not _is_float(compute) and isinstance(args[div], SSAValue):
        assert_nonzero(b, args[div], f"{op.name}: ZeroDivisionError")
        ops.divisor_checked = True
    it = iter(body.args)
    uncast = opdef.attrs.get("uncast", frozenset())  # e.g. `where`'s bool condition
    scalars = [
        (next(it) if i in uncast else ops._val(next(it)))
        if isinstance(v.type, td.ValueTensorType)
        else a
        for i, (a, v) in enumerate(zip(args, op.operands, strict=True))
    ]
    res = ops._val(opdef.body(ops, *scalars), result_type.element_type)
    ops.b.insert(new_yield(res))
    generic = new_generic(
        tensors, [init], Region(body), maps, parallel_iterators(len(out_shape)), [result_type]
    )
    return b.insert(generic).results[0]


# A new op's lowering is a registry entry (`body` or `lower`, see xjit/ops/registry.py); a torch
# op outside the registry gets a pattern here. Order matters only for `Unconvertible`: last.
LOWERING_PATTERNS: tuple[RewritePattern, ...] = (
    FuncSignatureConversion(),
    ReturnConversion(),
    ConstantConversion(),
    GlobalSlotGetConversion(),
    TensorLiteralConversion(),
    StaticInfoCastConversion(),
    AtenConversion(),
    *CONTROL_FLOW_PATTERNS,
    Unconvertible(),
)


@dataclass(frozen=True)
class ConvertTorchToLinalg(ModulePass):
    """Lower the torch dialect to linalg on tensors (see docs/contracts.md): one forward walk
    of conversion patterns (passes/torch_type_conversion.py explains the bridges)."""

    name = "convert-torch-to-linalg"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # Parameters first: constant globals are numbered after them.
        slots = GlobalSlotConversion()
        for o in list(op.body.block.ops):
            slots.match_and_rewrite(o, PatternRewriter(o))
        applier = FirstErrorApplier(list(LOWERING_PATTERNS), dce_enabled=False)
        PatternRewriteWalker(applier, apply_recursively=False).rewrite_module(op)
        if applier.error is not None:
            raise applier.error
        erase_bridges(list(op.walk()))
