"""The `torch` dialect: torch-mlir's names and printed forms, on xDSL.

Hand-written here: constants, `prim` ops and global slots. Every `torch.aten.*` op class is
generated from its entry in the op registry (`xjit.ops`): operands follow the op's TorchScript
schema, the verifier runs the op's shape/dtype rule, and the printed form is torch-mlir's:

    %2 = torch.aten.add.Tensor %0, %1, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
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
from xdsl.ir import Attribute, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    AnyAttr,
    AnyOf,
    BaseAttr,
    IRDLOperation,
    VerificationContext,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    ConstantLike,
    HasCanonicalizationPatternsTrait,
    HasParent,
    HasShapeInferencePatternsTrait,
    IsTerminator,
    Pure,
    RecursiveMemoryEffect,
    SymbolOpInterface,
    SymbolTable,
)
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
from xjit.ops.registry import UNKNOWN, OpDef, all_ops, lookup
from xjit.ops.types import ShapeError, TensorMeta


class TorchCanonicalization(HasCanonicalizationPatternsTrait):
    """Hooks torch ops into upstream `canonicalize`. The patterns (in torch_canonicalization.py)
    are built on this module's ops: they set `patterns` when imported (xjit.dialects loads them
    with the dialect), so this module does not import them back."""

    patterns: tuple[Any, ...] | None = None

    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[Any, ...]:
        return _registered(cls)


def _registered(trait: Any) -> tuple[Any, ...]:
    """A canonicalization trait's patterns, which must have registered themselves."""
    if trait.patterns is None:
        raise RuntimeError(
            "the torch dialect's canonicalization patterns are not loaded: get the dialect "
            "through xjit.dialects (make_context) or import xjit.dialects.torch_canonicalization"
        )
    return trait.patterns


class TorchShapeInference(HasShapeInferencePatternsTrait):
    """Refines an op's result types from its operands' (for aten ops: the registry's shape
    rule). The patterns (in torch_shape_inference.py) set `patterns` when imported, as the
    canonicalization ones do; driven by `torch-shape-refinement`, which also joins control
    flow, or by upstream `shape-inference` on straight-line code."""

    patterns: tuple[Any, ...] | None = None

    @classmethod
    def get_shape_inference_patterns(cls) -> tuple[Any, ...]:
        if cls.patterns is None:
            raise RuntimeError(
                "the torch dialect's shape inference patterns are not loaded: get the dialect "
                "through xjit.dialects (make_context) or import xjit.dialects.torch_shape_inference"
            )
        return cls.patterns


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
        self.result.name_hint = "float" + (
            f"{value}".replace("-", "m").replace(".", "_").replace("+", "")
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_float(self.value.value.data, Float64Type())
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantFloatOp:
        if parser._current_token.text[:2] in ("0x", "0X"):  # inf/nan: print_float writes bits
            bits = parser.parse_integer(allow_boolean=False, allow_negative=False)
            op = cls(struct.unpack("<d", bits.to_bytes(8, "little"))[0])
        else:
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
class ConstantStrOp(IRDLOperation):
    """`torch.constant.str "tanh"` (torch-mlir's spelling): string arguments such as gelu's
    `approximate` or div's `rounding_mode`, read as Python constants by shape rules and lowerings."""

    name = "torch.constant.str"
    value = prop_def(StringAttr)
    result = result_def(StrType)
    traits = traits_def(ConstantLike(), Pure())

    def __init__(self, value: str):
        super().__init__(properties={"value": StringAttr(value)}, result_types=[StrType()])
        self.result.name_hint = "str"

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.value.data)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantStrOp:
        op = cls(parser.parse_str_literal())
        op.attributes |= parser.parse_optional_attr_dict()
        return op


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
        # The element type must be the result's dtype (integers also signless, as builtin
        # tensors spell them): the lowering keeps the literal's bytes and only retypes them.
        et, dt = t.element_type, rt.dtype
        if (
            rt.element_dtype is not None
            and et != dt
            and not (
                isinstance(et, IntegerType) and isinstance(dt, IntegerType) and et.width == dt.width
            )
        ):
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
            generic_tensor = (  # `!torch.list<vtensor>` holds tensors of any shape and dtype
                isinstance(rt.element_type, ValueTensorType)
                and rt.element_type.sizes is None
                and rt.element_type.element_dtype is None
                and isinstance(e.type, ValueTensorType)
            )
            if (
                e.type != rt.element_type
                and not isinstance(rt.element_type, NumberType)
                and not generic_tensor
            ):
                raise VerifyException(f"list element of type {e.type} in a {rt}")


@irdl_op_definition
class PrimTupleConstructOp(IRDLOperation):
    """`torch.prim.TupleConstruct %0, %1 : !torch.vtensor<..>, !torch.int -> !torch.tuple<..>`."""

    name = "torch.prim.TupleConstruct"
    elements = var_operand_def()
    result = result_def(TupleType)
    traits = traits_def(Pure(), TorchShapeInference())
    assembly_format = "$elements attr-dict `:` type($elements) `->` type($result)"

    def __init__(self, elements: Sequence[SSAValue | Operation]):
        types = [SSAValue.get(e).type for e in elements]
        super().__init__(operands=[elements], result_types=[TupleType(types)])

    def verify_(self) -> None:
        rt = self.result.type
        assert isinstance(rt, TupleType)
        if tuple(e.type for e in self.elements) != tuple(rt.contained_types.data):
            raise VerifyException(
                f"tuple elements {[str(e.type) for e in self.elements]} do not match {rt}"
            )


@irdl_op_definition
class PrimTupleUnpackOp(IRDLOperation):
    """`%0:2 = torch.prim.TupleUnpack %t : !torch.tuple<int, float> -> !torch.int, !torch.float`."""

    name = "torch.prim.TupleUnpack"
    tup = operand_def(TupleType)
    results_ = var_result_def()
    traits = traits_def(Pure(), TorchShapeInference())
    assembly_format = "$tup attr-dict `:` type($tup) `->` type($results_)"

    def __init__(self, tup: SSAValue | Operation):
        t = SSAValue.get(tup).type
        assert isinstance(t, TupleType)
        super().__init__(operands=[tup], result_types=[list(t.contained_types.data)])

    def verify_(self) -> None:
        t = self.tup.type
        assert isinstance(t, TupleType)
        if tuple(r.type for r in self.results_) != tuple(t.contained_types.data):
            raise VerifyException(
                f"results {[str(r.type) for r in self.results_]} do not unpack {t}"
            )


@irdl_op_definition
class PrimListUnpackOp(IRDLOperation):
    """`%0:2 = torch.prim.ListUnpack %l : !torch.list<int> -> !torch.int, !torch.int`
    (fails at run time unless the list has exactly that many elements)."""

    name = "torch.prim.ListUnpack"
    lst = operand_def(ListType)
    results_ = var_result_def()
    assembly_format = "$lst attr-dict `:` type($lst) `->` type($results_)"

    def __init__(self, lst: SSAValue | Operation, n: int):
        t = SSAValue.get(lst).type
        assert isinstance(t, ListType)
        super().__init__(operands=[lst], result_types=[[t.element_type] * n])

    def verify_(self) -> None:
        t = self.lst.type
        assert isinstance(t, ListType)
        for r in self.results_:
            if r.type != t.element_type:
                raise VerifyException(f"result of type {r.type} unpacked from a {t}")


@irdl_op_definition
class PrimRaiseExceptionOp(IRDLOperation):
    """torch-mlir's `torch.prim.RaiseException %msg, %cls : !torch.str, !torch.str` (`%cls` is
    `builtins.ValueError`, or `!torch.none` for an `assert`): running it raises. TorchScript
    builds an f-string message with `aten::format`; here its run-time values are the op's
    trailing operands and `%msg` is the template (`{}` per value):
    `torch.prim.RaiseException %msg, %none, %n : !torch.str, !torch.none, !torch.int`."""

    name = "torch.prim.RaiseException"
    msg = operand_def(StrType)
    cls = operand_def(AnyOf([BaseAttr(StrType), BaseAttr(NoneType)]))
    fmt_args = var_operand_def()
    assembly_format = (
        "$msg `,` $cls (`,` $fmt_args^)? attr-dict `:` type($msg) `,` type($cls) "
        "(`,` type($fmt_args)^)?"
    )

    def __init__(
        self,
        msg: SSAValue | Operation,
        cls: SSAValue | Operation,
        fmt_args: Sequence[SSAValue | Operation] = (),
    ):
        super().__init__(operands=[msg, cls, fmt_args])

    def verify_(self) -> None:
        for v in self.fmt_args:
            if not isinstance(v.type, (IntType, FloatType, BoolType, StrType, ValueTensorType)):
                raise VerifyException(f"cannot format a value of type {v.type} in a message")


@irdl_op_definition
class TensorStaticInfoCastOp(IRDLOperation):
    """`%1 = torch.tensor_static_info_cast %0 : !torch.vtensor<[3,4],f32> to !torch.vtensor`:
    the same tensor seen with more or less static shape/dtype information (never contradicting)."""

    name = "torch.tensor_static_info_cast"
    operand = operand_def(ValueTensorType)
    result = result_def(ValueTensorType)
    traits = traits_def(Pure(), TorchShapeInference())
    assembly_format = "$operand attr-dict `:` type($operand) `to` type($result)"

    def __init__(self, operand: SSAValue | Operation, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        a, b = self.operand.type, self.result.type
        assert isinstance(a, ValueTensorType) and isinstance(b, ValueTensorType)
        if not types_compatible(a, b):
            raise VerifyException(f"cannot cast {a} to {b}: the static information differs")


def types_compatible(a: ValueTensorType, b: ValueTensorType) -> bool:
    """Whether two tensor types may describe the same tensor (unknowns agree with anything)."""
    if (
        a.element_dtype is not None
        and b.element_dtype is not None
        and a.element_dtype != b.element_dtype
    ):
        return False
    x, y = a.sizes, b.sizes
    if x is None or y is None:
        return True
    return len(x) == len(y) and all(p is None or q is None or p == q for p, q in zip(x, y))


# -- control flow ------------------------------------------------------------------------------
# torch-mlir's structured control flow. Both ops have single-block regions ending in their own
# terminator; values defined above may be used inside (no isolation), as in torch-mlir.


@irdl_op_definition
class PrimIfYieldOp(IRDLOperation):
    """`torch.prim.If.yield %x : !torch.vtensor`: the value(s) of one branch of a `torch.prim.If`."""

    name = "torch.prim.If.yield"
    results_ = var_operand_def()
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(PrimIfOp), Pure()))
    assembly_format = "attr-dict ($results_^ `:` type($results_))?"

    def __init__(self, *values: SSAValue | Operation):
        super().__init__(operands=[values])


class PrimIfCanonicalization(HasCanonicalizationPatternsTrait):
    """`prim.If` on a constant condition; the pattern registers itself as TorchCanonicalization's."""

    patterns: tuple[Any, ...] | None = None

    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[Any, ...]:
        return _registered(cls)


@irdl_op_definition
class PrimIfOp(IRDLOperation):
    """torch-mlir's `torch.prim.If`:

    %0 = torch.prim.If %cond -> (!torch.vtensor<[3],f32>) {
      torch.prim.If.yield %x : !torch.vtensor<[3],f32>
    } else {
      torch.prim.If.yield %y : !torch.vtensor<[3],f32>
    }
    """

    name = "torch.prim.If"
    condition = operand_def(BoolType)
    results_ = var_result_def()
    then_region = region_def("single_block")
    else_region = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect(), PrimIfCanonicalization())

    def __init__(
        self,
        condition: SSAValue | Operation,
        result_types: Sequence[Attribute],
        then_region: Region,
        else_region: Region,
    ):
        super().__init__(
            operands=[condition], result_types=[result_types], regions=[then_region, else_region]
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.condition)
        if self.results_:
            printer.print_string(" -> (")
            printer.print_list(self.results_.types, printer.print_attribute)
            printer.print_string(")")
        printer.print_string(" ")
        printer.print_region(self.then_region, print_entry_block_args=False)
        printer.print_string(" else ")
        printer.print_region(self.else_region, print_entry_block_args=False)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> PrimIfOp:
        cond = parser.resolve_operand(parser.parse_unresolved_operand(), BoolType())
        types: list[Attribute] = []
        if parser.parse_optional_punctuation("->") is not None:
            types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        then_region = parser.parse_region()
        parser.parse_keyword("else")
        else_region = parser.parse_region()
        op = cls(cond, types, then_region, else_region)
        op.attributes |= parser.parse_optional_attr_dict()
        return op

    def verify_(self) -> None:
        want = tuple(self.results_.types)
        for which, region in (("then", self.then_region), ("else", self.else_region)):
            term = region.block.last_op
            if not isinstance(term, PrimIfYieldOp):
                raise VerifyException(
                    f"the {which} region of torch.prim.If must end in torch.prim.If.yield"
                )
            got = tuple(v.type for v in term.results_)
            if got != want:
                raise VerifyException(
                    f"the {which} region yields ({', '.join(map(str, got))}), "
                    f"but torch.prim.If returns ({', '.join(map(str, want))})"
                )


@irdl_op_definition
class PrimLoopConditionOp(IRDLOperation):
    """`torch.prim.Loop.condition %continue, iter(%x : !torch.vtensor)`: ends a loop body with
    whether to run another iteration and the next values of the loop-carried variables."""

    name = "torch.prim.Loop.condition"
    should_continue = operand_def(BoolType)
    iter_args = var_operand_def()
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(PrimLoopOp), Pure()))
    assembly_format = (
        "$should_continue `,` `iter` `(` ($iter_args^ `:` type($iter_args))? `)` attr-dict"
    )

    def __init__(self, should_continue: SSAValue | Operation, *iter_args: SSAValue | Operation):
        super().__init__(operands=[should_continue, iter_args])


@irdl_op_definition
class PrimLoopOp(IRDLOperation):
    """torch-mlir's `torch.prim.Loop`, TorchScript's single loop form: runs while the iteration
    index is below `max_trip_count` and the condition holds (initially `initial_condition`, then
    what the body's `torch.prim.Loop.condition` says). The body's block arguments are the
    iteration index (`!torch.int`, from 0) and the loop-carried values; the results are their
    final values. A Python `for i in range(n)` has `n` and `true`; a `while c` has a huge trip
    count (`9223372036854775807`) and `c`.

        %y = torch.prim.Loop %n, %true, init(%x) {
        ^bb0(%i: !torch.int, %x_iter: !torch.vtensor<[3],f32>):
          ...
          torch.prim.Loop.condition %true, iter(%next : !torch.vtensor<[3],f32>)
        } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
    """

    name = "torch.prim.Loop"
    max_trip_count = operand_def(IntType)
    initial_condition = operand_def(BoolType)
    iter_args_init = var_operand_def()
    results_ = var_result_def()
    body = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect())

    def __init__(
        self,
        max_trip_count: SSAValue | Operation,
        initial_condition: SSAValue | Operation,
        iter_args_init: Sequence[SSAValue | Operation],
        body: Region,
    ):
        types = [SSAValue.get(v).type for v in iter_args_init]
        super().__init__(
            operands=[max_trip_count, initial_condition, iter_args_init],
            result_types=[types],
            regions=[body],
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.max_trip_count)
        printer.print_string(", ")
        printer.print_operand(self.initial_condition)
        printer.print_string(", init(")
        printer.print_list(self.iter_args_init, printer.print_operand)
        printer.print_string(") ")
        printer.print_region(self.body, print_entry_block_args=True)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : (")
        printer.print_list([o.type for o in self.operands], printer.print_attribute)
        printer.print_string(") -> ")
        rtypes = list(self.results_.types)
        if len(rtypes) == 1:
            printer.print_attribute(rtypes[0])
        else:
            printer.print_string("(")
            printer.print_list(rtypes, printer.print_attribute)
            printer.print_string(")")

    @classmethod
    def parse(cls, parser: Parser) -> PrimLoopOp:
        n = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        c = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        parser.parse_keyword("init")
        inits = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        body = parser.parse_region()
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        ftype = parser.parse_function_type()
        operands = parser.resolve_operands([n, c, *inits], ftype.inputs.data, parser.pos)
        op = cls(operands[0], operands[1], operands[2:], body)
        op.attributes |= attrs
        return op

    def verify_(self) -> None:
        carried = tuple(v.type for v in self.iter_args_init)
        if tuple(self.results_.types) != carried:
            raise VerifyException("torch.prim.Loop results must have the types of its init values")
        args = tuple(a.type for a in self.body.block.args)
        if args != (IntType(), *carried):
            raise VerifyException(
                "torch.prim.Loop body arguments must be the iteration index (!torch.int) followed "
                f"by the loop-carried values ({', '.join(map(str, carried))})"
            )
        term = self.body.block.last_op
        if not isinstance(term, PrimLoopConditionOp):
            raise VerifyException("torch.prim.Loop body must end in torch.prim.Loop.condition")
        if tuple(v.type for v in term.iter_args) != carried:
            raise VerifyException(
                "torch.prim.Loop.condition must pass the loop-carried values' types"
            )


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

    # Hand-written rather than `($sym_visibility^)? $sym_name ...`: xDSL's optional group takes
    # the `@name` of a public slot for the visibility, so `torch.global_slot @w : ...` (what
    # the printer emits when there is no visibility) would not parse back.
    def print(self, printer: Printer) -> None:
        if self.sym_visibility is not None:
            printer.print_string(" ")
            printer.print_string_literal(self.sym_visibility.data)
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.type)

    @classmethod
    def parse(cls, parser: Parser) -> GlobalSlotOp:
        visibility = parser.parse_optional_str_literal()
        sym_name = parser.parse_symbol_name().data
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        op = cls(sym_name, parser.parse_type(), visibility)
        op.attributes |= attrs
        return op

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
        hint = slot.replace(".", "_")  # (a Sequential's `0.weight`: no leading digit in a name)
        self.result.name_hint = f"_{hint}" if hint[:1].isdigit() else hint

    def verify_(self) -> None:
        # Reading an undeclared slot would bind nothing when the module is compiled.
        table = self.parent_op()
        while table is not None and not table.has_trait(SymbolTable):
            table = table.parent_op()
        if table is None:
            return  # not inside a module yet (being built): nothing to look the slot up in
        slot = SymbolTable.lookup_symbol(self, self.slot)
        if slot is None:
            raise VerifyException(f"global slot {self.slot} is not declared")
        if not isinstance(slot, GlobalSlotOp):
            raise VerifyException(f"{self.slot} is a {slot.name}, not a torch.global_slot")
        if slot.type != self.result.type:
            raise VerifyException(
                f"global slot {self.slot} has type {slot.type}, but is read as {self.result.type}"
            )


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
    "Scalar": AnyOf(
        [BaseAttr(IntType), BaseAttr(FloatType), BaseAttr(NumberType), BaseAttr(BoolType)]
    ),
    "Scalar?": AnyOf(
        [
            BaseAttr(IntType),
            BaseAttr(FloatType),
            BaseAttr(NumberType),
            BaseAttr(BoolType),
            BaseAttr(NoneType),
        ]
    ),
    "ScalarType?": AnyOf([BaseAttr(IntType), BaseAttr(NoneType)]),
    "str": BaseAttr(StrType),
    "str?": AnyOf([BaseAttr(StrType), BaseAttr(NoneType)]),
}
# Non-tensor returns (`-> int`, `-> bool`, `-> float`) of scalar ops: see xjit/ops/scalar_ops.py.
_RESULT_CONSTRAINTS: dict[str, Any] = {
    "Tensor": _TENSOR,
    "int": BaseAttr(IntType),
    "float": BaseAttr(FloatType),
    "bool": BaseAttr(BoolType),
}
# Names IRDL or Operation already use; a schema argument so named gets a trailing underscore.
_RESERVED = {
    "name",
    "operands",
    "results",
    "regions",
    "attributes",
    "properties",
    "parent",
    "result",
    "traits",
    "type",
    "value",
    "print",
    "parse",
    "verify",
}


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
    if isinstance(owner, ConstantStrOp):
        return owner.value.data
    if isinstance(owner, PrimListConstructOp):
        vals = [_meta_or_const(e) for e in owner.elements]
        return UNKNOWN if any(x is UNKNOWN for x in vals) else vals
    return UNKNOWN


def with_partial_lists(opdef: OpDef, metas: list[Any], operands: Sequence[SSAValue]) -> list[Any]:
    """`metas` (what `_meta_or_const` gave) with, for a rule that takes run-time sizes
    (`attrs["run_time_sizes"]`: view/reshape), each int list holding run-time values as the list
    of its constants and UNKNOWN elsewhere: the result's rank is the list's length."""
    if not opdef.attrs.get("run_time_sizes"):
        return metas
    out = list(metas)
    for i, (m, v) in enumerate(zip(metas, operands, strict=True)):
        owner = v.owner
        if m is UNKNOWN and isinstance(owner, PrimListConstructOp):
            vals = [_meta_or_const(e) for e in owner.elements]
            if all(x is UNKNOWN or (isinstance(x, int) and not isinstance(x, bool)) for x in vals):
                out[i] = vals
    return out


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
        loc = op.location  # a traced or scripted op's user line (file:line)
        where = f"{loc.filename.data}:{loc.line.data}: " if isinstance(loc, FileLineColLoc) else ""
        raise VerifyException(f"{where}{op.name}: {e}") from None
    except NotImplementedError:
        return
    exp = expected if isinstance(expected, tuple) else (expected,)
    for r, e in zip(op.results, exp):
        if isinstance(r.type, ValueTensorType) and not _types_compatible(e, r.type):
            shape = (
                "*"
                if e.shape is None
                else "[" + ",".join("?" if d is None else str(d) for d in e.shape) + "]"
            )
            raise VerifyException(
                f"{op.name}: result type {r.type} does not match the inferred "
                f"{shape},{e.dtype.mlir if e.dtype else 'unk'}"
            )


class AtenOp(IRDLOperation):
    """Base of the generated `torch.aten.*` op classes."""

    OPDEF: ClassVar[OpDef]

    def verify_(self) -> None:
        if self.name.startswith("torch.aten.where."):
            _verify_bool_condition(self)
        verify_with_rule(self, self.OPDEF)

    # One hand-written format for all aten ops, what the declarative
    # `$a `,` $b attr-dict `:` type($a) `,` type($b) `->` type($result)` prints and parses:
    # parsing ~190 declarative formats was most of the cost of importing this module (issue 14,
    # cold start). tests/test_aten_format.py checks it against the declarative one, op by op.
    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list(self.operands, printer.print_operand)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_list([o.type for o in self.operands], printer.print_attribute)
        printer.print_string(" -> ")
        printer.print_list(self.result_types, printer.print_attribute)

    @classmethod
    def parse(cls, parser: Parser) -> AtenOp:
        pos = parser.pos
        unresolved = parser.parse_comma_separated_list(
            Parser.Delimiter.NONE, parser.parse_unresolved_operand
        )
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
        parser.parse_punctuation("->")
        result_types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
        op_def = cls.get_irdl_definition()
        if len(types) != len(op_def.operands) or len(result_types) != len(op_def.results):
            parser.raise_error(
                f"'{cls.name}' expects {len(op_def.operands)} operands and "
                f"{len(op_def.results)} results, got {len(types)} and {len(result_types)}",
                pos,
                parser.pos,
            )
        # What the declarative format checks while parsing (a scalar where a tensor goes).
        context = VerificationContext()
        for t, (_, d) in zip([*types, *result_types], [*op_def.operands, *op_def.results]):
            d.constr.verify((t,), context)
        operands = parser.resolve_operands(unresolved, types, pos)
        return cls.create(operands=operands, result_types=result_types, attributes=attributes)


def _verify_bool_condition(op: IRDLOperation) -> None:
    """torch.where's condition must be a bool tensor (torch raises for any other dtype)."""
    t = op.operands[0].type
    dtype = t.meta.dtype if isinstance(t, ValueTensorType) else None
    if dtype is not None and dtype.name != "bool":
        raise VerifyException(f"{op.name}: the condition must be a bool tensor, got {t}")


def _make_aten_op(opdef: OpDef) -> type[IRDLOperation]:
    ns: dict[str, Any] = {
        "name": opdef.name,
        "OPDEF": opdef,
        "__module__": __name__,
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
        ns[rn] = result_def(_RESULT_CONSTRAINTS.get(rt, AnyAttr()))
    traits = [Pure(), TorchCanonicalization()] if not opdef.attrs.get("impure") else []
    traits.append(TorchShapeInference())
    ns["traits"] = traits_def(*traits)
    ns["__doc__"] = f"`{opdef.schema}`"
    return irdl_op_definition(type(_class_name(opdef), (AtenOp,), ns))


class _AtenOps(Mapping[str, type[IRDLOperation]]):
    """The `torch.aten.*` op classes by op name, each generated from its registry entry on first
    use (issue 14, cold start: a trace needs the classes of the few ops it records, not ~190).
    Iterating builds them all."""

    def __init__(self) -> None:
        self._built: dict[str, type[IRDLOperation]] = {}

    def __getitem__(self, name: str) -> type[IRDLOperation]:
        cls = self._built.get(name)
        if cls is None:
            cls = self._built[name] = _make_aten_op(lookup(name))
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter([op.name for op in all_ops()])

    def __len__(self) -> int:
        return len(all_ops())


ATEN_OPS: Mapping[str, type[IRDLOperation]] = _AtenOps()


def aten_op_class(name: str) -> type[IRDLOperation]:
    return ATEN_OPS[name]


_OTHER_OPS: list[type[IRDLOperation]] = [
    ConstantIntOp,
    ConstantFloatOp,
    ConstantBoolOp,
    ConstantNoneOp,
    ConstantStrOp,
    ValueTensorLiteralOp,
    PrimListConstructOp,
    PrimTupleConstructOp,
    GlobalSlotOp,
    GlobalSlotGetOp,
    TensorStaticInfoCastOp,
    PrimTupleUnpackOp,
    PrimListUnpackOp,
    PrimIfOp,
    PrimIfYieldOp,
    PrimLoopOp,
    PrimLoopConditionOp,
    PrimRaiseExceptionOp,
]
_dialect: Dialect | None = None


def __getattr__(name: str) -> Any:
    # `Torch`, the dialect, lists every op class: built when a context first loads the dialect
    # (to parse IR text), not when the module is imported.
    global _dialect
    if name == "Torch":
        if _dialect is None:
            _dialect = Dialect("torch", [*_OTHER_OPS, *ATEN_OPS.values()], TORCH_TYPES)
        return _dialect
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
