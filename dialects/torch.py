"""The `torch` dialect: torch-mlir's names and printed forms, on xDSL.

Hand-written here: constants, `prim` ops and global slots. Every `torch.aten.*` op class is
generated from its entry in the op registry (`xjit.ops`): operands follow the op's TorchScript
schema, the verifier runs the op's shape/dtype rule, and the printed form is torch-mlir's:

    %2 = torch.aten.add.Tensor %0, %1, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    AnyOf,
    BaseAttr,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, HasCanonicalizationPatternsTrait, Pure, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from xjit.dialects.torch_types import (  # noqa: F401  (re-exported)
    TORCH_TYPES,
    BoolType,
    FloatType,
    IntType,
    ListType,
    NoneType,
    NumberType,
    StrType,
    TupleType,
    ValueTensorType,
    dtype_attr,
    dtype_from_attr,
)
from xjit.ops.registry import UNKNOWN, OpDef, all_ops
from xjit.ops.types import ShapeError, TensorMeta


class TorchCanonicalization(HasCanonicalizationPatternsTrait):
    """Hooks torch ops into upstream `canonicalize`; patterns live in passes/torch_canonicalization.py."""

    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[Any, ...]:
        from xjit.passes.torch_canonicalization import PATTERNS

        return PATTERNS


# -- constants -------------------------------------------------------------------------------


@irdl_op_definition
class ConstantIntOp(IRDLOperation):
    name = "torch.constant.int"
    value = prop_def(IntegerAttr)
    result = result_def(IntType)
    traits = traits_def(ConstantLike(), Pure())

    def __init__(self, value: int):
        super().__init__(properties={"value": IntegerAttr(value, i64)}, result_types=[IntType()])
        self.result.name_hint = f"int{value}".replace("-", "m")

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.value.value.data}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantIntOp:
        op = cls(parser.parse_integer(allow_boolean=False))
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class ConstantFloatOp(IRDLOperation):
    name = "torch.constant.float"
    value = prop_def(FloatAttr)
    result = result_def(FloatType)
    traits = traits_def(ConstantLike(), Pure())

    def __init__(self, value: float):
        super().__init__(
            properties={"value": FloatAttr(value, Float64Type())}, result_types=[FloatType()]
        )
        self.result.name_hint = "float" + (f"{value}".replace("-", "m").replace(".", "_").replace("+", ""))

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_float(self.value.value.data, Float64Type())
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantFloatOp:
        op = cls(parser.parse_float())
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class ConstantBoolOp(IRDLOperation):
    name = "torch.constant.bool"
    value = prop_def(IntegerAttr)
    result = result_def(BoolType)
    traits = traits_def(ConstantLike(), Pure())

    def __init__(self, value: bool):
        super().__init__(
            properties={"value": IntegerAttr(int(value), IntegerType(1))}, result_types=[BoolType()]
        )
        self.result.name_hint = "true" if value else "false"

    def print(self, printer: Printer) -> None:
        printer.print_string(" true" if self.value.value.data else " false")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantBoolOp:
        if parser.parse_optional_keyword("true"):
            value = True
        else:
            parser.parse_keyword("false", " (expected true or false)")
            value = False
        op = cls(value)
        op.attributes |= parser.parse_optional_attr_dict()
        return op


@irdl_op_definition
class ConstantNoneOp(IRDLOperation):
    name = "torch.constant.none"
    result = result_def(NoneType)
    traits = traits_def(ConstantLike(), Pure())
    assembly_format = "attr-dict"

    def __init__(self) -> None:
        super().__init__(result_types=[NoneType()])
        self.result.name_hint = "none"


@irdl_op_definition
class ValueTensorLiteralOp(IRDLOperation):
    """`torch.vtensor.literal(dense<...> : tensor<2xf32>) : !torch.vtensor<[2],f32>`."""

    name = "torch.vtensor.literal"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(ValueTensorType)
    traits = traits_def(ConstantLike(), Pure())
    assembly_format = "`(` $value `)` attr-dict `:` type($result)"

    def __init__(self, value: DenseIntOrFPElementsAttr, result_type: ValueTensorType):
        super().__init__(properties={"value": value}, result_types=[result_type])

    def verify_(self) -> None:
        t = self.value.type
        rt = self.result.type
        assert isinstance(rt, ValueTensorType)
        if not isinstance(t, TensorType) or tuple(t.get_shape()) != rt.sizes:
            raise VerifyException(f"literal of type {t} does not match result type {rt}")


# -- prim ------------------------------------------------------------------------------------


@irdl_op_definition
class PrimListConstructOp(IRDLOperation):
    """`torch.prim.ListConstruct %int3, %int4 : (!torch.int, !torch.int) -> !torch.list<int>`."""

    name = "torch.prim.ListConstruct"
    elements = var_operand_def()
    result = result_def(ListType)
    traits = traits_def(Pure())
    assembly_format = "$elements attr-dict `:` functional-type($elements, $result)"

    def __init__(self, elements: Sequence[SSAValue | Operation], result_type: ListType):
        super().__init__(operands=[elements], result_types=[result_type])

    def verify_(self) -> None:
        rt = self.result.type
        assert isinstance(rt, ListType)
        for e in self.elements:
            if e.type != rt.element_type and not isinstance(rt.element_type, NumberType):
                raise VerifyException(f"list element of type {e.type} in a {rt}")


@irdl_op_definition
class PrimTupleConstructOp(IRDLOperation):
    """`torch.prim.TupleConstruct %0, %1 : !torch.vtensor<..>, !torch.int -> !torch.tuple<..>`."""

    name = "torch.prim.TupleConstruct"
    elements = var_operand_def()
    result = result_def(TupleType)
    traits = traits_def(Pure())
    assembly_format = "$elements attr-dict `:` type($elements) `->` type($result)"

    def __init__(self, elements: Sequence[SSAValue | Operation]):
        types = [SSAValue.get(e).type for e in elements]
        super().__init__(operands=[elements], result_types=[TupleType(types)])

    def verify_(self) -> None:
        rt = self.result.type
        assert isinstance(rt, TupleType)
        if tuple(e.type for e in self.elements) != tuple(rt.contained_types.data):
            raise VerifyException(f"tuple elements {[str(e.type) for e in self.elements]} do not match {rt}")


# -- parameters --------------------------------------------------------------------------------


@irdl_op_definition
class GlobalSlotOp(IRDLOperation):
    """`torch.global_slot @linear.weight : !torch.vtensor<[4,4],f32>`: a parameter or buffer of the
    compiled module, by its dotted name; its value is bound when the module is compiled."""

    name = "torch.global_slot"
    sym_name = prop_def(SymbolNameConstraint())
    sym_visibility = opt_prop_def(StringAttr)
    type = prop_def(Attribute)
    traits = traits_def(SymbolOpInterface())
    assembly_format = "($sym_visibility^)? $sym_name attr-dict `:` $type"

    def __init__(self, sym_name: str, type: Attribute, visibility: str | None = "private"):
        super().__init__(
            properties={
                "sym_name": StringAttr(sym_name),
                "type": type,
                "sym_visibility": StringAttr(visibility) if visibility else None,
            }
        )


@irdl_op_definition
class GlobalSlotGetOp(IRDLOperation):
    """`%0 = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>`.

    Pure: xjit parameters are read-only during a call (inference), so reads may be merged or moved."""

    name = "torch.global_slot.get"
    slot = prop_def(SymbolRefAttr)
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = "$slot attr-dict `:` type($result)"

    def __init__(self, slot: str, result_type: Attribute):
        super().__init__(properties={"slot": SymbolRefAttr(slot)}, result_types=[result_type])
        self.result.name_hint = slot.replace(".", "_")


# -- generated aten ops ------------------------------------------------------------------------

_TENSOR = BaseAttr(ValueTensorType)
_CONSTRAINTS: dict[str, Any] = {
    "Tensor": _TENSOR,
    "Tensor?": AnyOf([BaseAttr(ValueTensorType), BaseAttr(NoneType)]),
    "Tensor[]": BaseAttr(ListType),
    "int": BaseAttr(IntType),
    "int?": AnyOf([BaseAttr(IntType), BaseAttr(NoneType)]),
    "int[]": BaseAttr(ListType),
    "int[]?": AnyOf([BaseAttr(ListType), BaseAttr(NoneType)]),
    "float": BaseAttr(FloatType),
    "float?": AnyOf([BaseAttr(FloatType), BaseAttr(NoneType)]),
    "bool": BaseAttr(BoolType),
    "bool?": AnyOf([BaseAttr(BoolType), BaseAttr(NoneType)]),
    "Scalar": AnyOf([BaseAttr(IntType), BaseAttr(FloatType), BaseAttr(NumberType), BaseAttr(BoolType)]),
    "Scalar?": AnyOf([BaseAttr(IntType), BaseAttr(FloatType), BaseAttr(NumberType), BaseAttr(BoolType), BaseAttr(NoneType)]),
    "ScalarType?": AnyOf([BaseAttr(IntType), BaseAttr(NoneType)]),
    "str": BaseAttr(StrType),
}
# Names IRDL or Operation already use; a schema argument so named gets a trailing underscore.
_RESERVED = {"name", "operands", "results", "regions", "attributes", "properties", "parent",
             "result", "traits", "type", "value", "print", "parse", "verify"}


def field_name(arg_name: str) -> str:
    return f"{arg_name}_" if arg_name in _RESERVED else arg_name


def _class_name(op: OpDef) -> str:
    parts = op.schema.qualified_name.replace("_", ".").split(".")
    return "".join(p[:1].upper() + p[1:] for p in parts if p) + "Op"


def _meta_or_const(v: SSAValue) -> Any:
    """What a shape rule sees for an operand: a TensorMeta, a constant's value, or UNKNOWN."""
    t = v.type
    if isinstance(t, ValueTensorType):
        return t.meta
    owner = v.owner
    if isinstance(owner, (ConstantIntOp, ConstantFloatOp)):
        return owner.value.value.data
    if isinstance(owner, ConstantBoolOp):
        return bool(owner.value.value.data)
    if isinstance(owner, ConstantNoneOp):
        return None
    if isinstance(owner, PrimListConstructOp):
        vals = [_meta_or_const(e) for e in owner.elements]
        return UNKNOWN if any(x is UNKNOWN for x in vals) else vals
    return UNKNOWN


def _types_compatible(expected: TensorMeta, actual: ValueTensorType) -> bool:
    """`actual` may know less than the rule derived (dynamic dims, unknown dtype), never differ."""
    if actual.element_dtype is not None and expected.dtype is not None:
        if actual.element_dtype != expected.dtype:
            return False
    a, e = actual.sizes, expected.shape
    if a is None or e is None:
        return True
    return len(a) == len(e) and all(x is None or y is None or x == y for x, y in zip(a, e))


def verify_with_rule(op: IRDLOperation, opdef: OpDef) -> None:
    args = [_meta_or_const(v) for v in op.operands]
    if any(a is UNKNOWN for a in args):
        return  # non-constant scalar args: the rule cannot run; operand types were checked by IRDL
    if any(isinstance(a, TensorMeta) and a.dtype is None for a in args):
        return
    try:
        expected = opdef.shape(*args)
    except ShapeError as e:
        raise VerifyException(f"{op.name}: {e}") from None
    except NotImplementedError:
        return
    exp = expected if isinstance(expected, tuple) else (expected,)
    for r, e in zip(op.results, exp):
        if isinstance(r.type, ValueTensorType) and not _types_compatible(e, r.type):
            shape = "*" if e.shape is None else "[" + ",".join("?" if d is None else str(d) for d in e.shape) + "]"
            raise VerifyException(
                f"{op.name}: result type {r.type} does not match the inferred "
                f"{shape},{e.dtype.mlir if e.dtype else 'unk'}"
            )


class AtenOp(IRDLOperation):
    """Base of the generated `torch.aten.*` op classes."""

    OPDEF: ClassVar[OpDef]

    def verify_(self) -> None:
        verify_with_rule(self, self.OPDEF)


def _make_aten_op(opdef: OpDef) -> type[IRDLOperation]:
    ns: dict[str, Any] = {
        "name": opdef.name, "OPDEF": opdef, "__module__": __name__,
        "__annotations__": {"OPDEF": ClassVar[OpDef]},
    }
    operand_names = []
    for a in opdef.schema.args:
        fname = field_name(a.name)
        ns[fname] = operand_def(_CONSTRAINTS[a.type])
        operand_names.append(fname)
    rets = opdef.schema.returns
    result_names = ["result"] if len(rets) == 1 else [f"result{i}" for i in range(len(rets))]
    for rn, rt in zip(result_names, rets):
        ns[rn] = result_def(_TENSOR if rt == "Tensor" else Attribute)
    traits = [Pure(), TorchCanonicalization()] if not opdef.attrs.get("impure") else []
    ns["traits"] = traits_def(*traits)
    operands = " `,` ".join(f"${n}" for n in operand_names)
    types = " `,` ".join(f"type(${n})" for n in operand_names)
    rtypes = " `,` ".join(f"type(${n})" for n in result_names)
    ns["assembly_format"] = f"{operands} attr-dict `:` {types} `->` {rtypes}"
    ns["__doc__"] = f"`{opdef.schema}`"
    return irdl_op_definition(type(_class_name(opdef), (AtenOp,), ns))


ATEN_OPS: dict[str, type[IRDLOperation]] = {op.name: _make_aten_op(op) for op in all_ops()}


def aten_op_class(name: str) -> type[IRDLOperation]:
    return ATEN_OPS[name]


Torch = Dialect(
    "torch",
    [
        ConstantIntOp, ConstantFloatOp, ConstantBoolOp, ConstantNoneOp, ValueTensorLiteralOp,
        PrimListConstructOp, PrimTupleConstructOp, GlobalSlotOp, GlobalSlotGetOp,
        *ATEN_OPS.values(),
    ],
    TORCH_TYPES,
)
