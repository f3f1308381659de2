"""Types of the `torch` dialect, spelled as torch-mlir spells them.

`!torch.vtensor<[3,4],f32>` (value-semantics tensor; `?` for a dynamic dim; `!torch.vtensor<*,f32>`
for unknown rank, bare `!torch.vtensor` when nothing is known), `!torch.int`, `!torch.float`,
`!torch.bool`, `!torch.none`, `!torch.number`, `!torch.str`, `!torch.list<T>`,
`!torch.tuple<T, ...>`. Inside `list`/`tuple` the element types drop the `!torch.` prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    ArrayAttr,
    Float32Type,
    Float64Type,
    IntAttr,
    IntegerType,
    NoneAttr,
    Signedness,
)
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from xjit.ops import types as T

_DTYPE_TO_MLIR: dict[str, Attribute] = {
    "f32": Float32Type(),
    "f64": Float64Type(),
    "si64": IntegerType(64, Signedness.SIGNED),
    "si32": IntegerType(32, Signedness.SIGNED),
    "i1": IntegerType(1),
}


def dtype_attr(dt: T.DType) -> Attribute:
    return _DTYPE_TO_MLIR[dt.mlir]


def dtype_from_attr(attr: Attribute) -> T.DType | None:
    for name, a in _DTYPE_TO_MLIR.items():
        if a == attr:
            return T.from_mlir(name)
    return None


@irdl_attr_definition
class ValueTensorType(ParametrizedAttribute, TypeAttribute):
    """`!torch.vtensor<[3,?],f32>`: shape (None if unranked) and dtype (None if unknown)."""

    name = "torch.vtensor"

    shape: ArrayAttr[IntAttr] | NoneAttr
    dtype: Attribute

    @staticmethod
    def of(shape: Sequence[int | None] | None, dtype: T.DType | None) -> ValueTensorType:
        s: ArrayAttr[IntAttr] | NoneAttr = (
            NoneAttr()
            if shape is None
            else ArrayAttr([IntAttr(DYNAMIC_INDEX if d is None else d) for d in shape])
        )
        return ValueTensorType(s, NoneAttr() if dtype is None else dtype_attr(dtype))

    @property
    def sizes(self) -> tuple[int | None, ...] | None:
        """The shape with None for dynamic dims, or None when the rank is unknown."""
        if isinstance(self.shape, NoneAttr):
            return None
        return tuple(None if d.data == DYNAMIC_INDEX else d.data for d in self.shape.data)

    @property
    def element_dtype(self) -> T.DType | None:
        return None if isinstance(self.dtype, NoneAttr) else dtype_from_attr(self.dtype)

    @property
    def meta(self) -> T.TensorMeta:
        return T.TensorMeta(self.sizes, self.element_dtype)

    def verify(self) -> None:
        if not isinstance(self.dtype, NoneAttr) and dtype_from_attr(self.dtype) is None:
            raise VerifyException(f"unsupported tensor dtype {self.dtype}")
        if isinstance(self.shape, ArrayAttr):
            for d in self.shape.data:
                if d.data < 0 and d.data != DYNAMIC_INDEX:
                    raise VerifyException(f"invalid tensor dimension {d.data}")

    def print_parameters(self, printer: Printer) -> None:
        if isinstance(self.shape, NoneAttr) and isinstance(self.dtype, NoneAttr):
            return
        printer.print_string("<")
        if isinstance(self.shape, NoneAttr):
            printer.print_string("*")
        else:
            dims = ("?" if d.data == DYNAMIC_INDEX else str(d.data) for d in self.shape.data)
            printer.print_string("[" + ",".join(dims) + "]")
        printer.print_string(",")
        if isinstance(self.dtype, NoneAttr):
            printer.print_string("unk")
        else:
            printer.print_attribute(self.dtype)
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        if parser.parse_optional_punctuation("<") is None:
            return (NoneAttr(), NoneAttr())
        shape: ArrayAttr[IntAttr] | NoneAttr
        if parser.parse_optional_punctuation("*") is not None:
            shape = NoneAttr()
        else:
            dims = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, lambda: parser.parse_shape_dimension(allow_dynamic=True)
            )
            shape = ArrayAttr([IntAttr(d) for d in dims])
        parser.parse_punctuation(",")
        start = parser.pos
        dtype: Attribute = (
            NoneAttr() if parser.parse_optional_keyword("unk") else parser.parse_type()
        )
        if not isinstance(dtype, NoneAttr) and dtype_from_attr(dtype) is None:
            # A located parse error rather than the (unlocated) VerifyException of verify().
            supported = ", ".join(_DTYPE_TO_MLIR)
            parser.raise_error(
                f"unsupported tensor dtype {dtype} (expected one of {supported}, or unk)",
                start,
                parser.pos,
            )
        parser.parse_punctuation(">")
        return (shape, dtype)


def _no_parameters(cls: type[ParametrizedAttribute], parser: AttrParser) -> Sequence[Attribute]:
    # xDSL's default parses `<...>` and then fails building the type with a bare ValueError
    # (`!torch.int<[4],f32>` was an "internal error"): reject the parameters where they start.
    start = parser.pos
    if parser.parse_optional_punctuation("<") is not None:
        parser.raise_error(f"!{cls.name} takes no parameters", start, parser.pos)
    return ()


def _simple_type(type_name: str, doc: str) -> type[ParametrizedAttribute]:
    cls = type(
        type_name.split(".")[1].capitalize() + "Type",
        (ParametrizedAttribute, TypeAttribute),
        {
            "name": type_name,
            "__doc__": doc,
            "__module__": __name__,
            "parse_parameters": classmethod(_no_parameters),
        },
    )
    return irdl_attr_definition(cls)


IntType = _simple_type("torch.int", "`!torch.int`: a 64-bit signed integer (Python int).")
FloatType = _simple_type("torch.float", "`!torch.float`: a 64-bit float (Python float).")
BoolType = _simple_type("torch.bool", "`!torch.bool`.")
NoneType = _simple_type("torch.none", "`!torch.none`: the type of Python's None.")
NumberType = _simple_type("torch.number", "`!torch.number`: an int or a float.")
StrType = _simple_type("torch.str", "`!torch.str`.")

_SIMPLE = {
    "int": IntType,
    "float": FloatType,
    "bool": BoolType,
    "none": NoneType,
    "number": NumberType,
    "str": StrType,
}


def _print_nested(printer: Printer, t: Attribute) -> None:
    if isinstance(t, ParametrizedAttribute) and t.name.startswith("torch."):
        printer.print_string(t.name[len("torch.") :])
        if hasattr(t, "print_parameters") and t.parameters:
            t.print_parameters(printer)  # type: ignore[attr-defined]
    else:
        printer.print_attribute(t)


def _parse_nested(parser: AttrParser) -> Attribute:
    name = parser.parse_optional_identifier()
    if name is None:
        return parser.parse_type()
    if name in _SIMPLE:
        return _SIMPLE[name]()
    if name == "vtensor":
        return ValueTensorType(*ValueTensorType.parse_parameters(parser))
    if name == "list":
        return ListType(*ListType.parse_parameters(parser))
    if name == "tuple":
        return TupleType(*TupleType.parse_parameters(parser))
    parser.raise_error(f"unknown torch type '{name}'")


@irdl_attr_definition
class ListType(ParametrizedAttribute, TypeAttribute):
    """`!torch.list<int>`."""

    name = "torch.list"
    element_type: Attribute

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        _print_nested(printer, self.element_type)
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        parser.parse_punctuation("<")
        t = _parse_nested(parser)
        parser.parse_punctuation(">")
        return (t,)


@irdl_attr_definition
class TupleType(ParametrizedAttribute, TypeAttribute):
    """`!torch.tuple<vtensor<[3],f32>, int>`."""

    name = "torch.tuple"
    contained_types: ArrayAttr[Attribute]

    def __init__(self, types: Sequence[Attribute] | ArrayAttr[Attribute]):
        super().__init__(types if isinstance(types, ArrayAttr) else ArrayAttr(types))

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_list(self.contained_types.data, lambda t: _print_nested(printer, t))
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        types = parser.parse_comma_separated_list(
            parser.Delimiter.ANGLE, lambda: _parse_nested(parser)
        )
        return (ArrayAttr(types),)


TORCH_TYPES = [
    ValueTensorType,
    IntType,
    FloatType,
    BoolType,
    NoneType,
    NumberType,
    StrType,
    ListType,
    TupleType,
]
