"""Reading MLIR text safely: the one place where xjit's tools (`xjit-opt`, `xjit-run`, and
`xjit.jit.load` of an archive's model.mlir) parse and verify IR they did not build.

xDSL's parser is correct on good input but not defensive on hostile input, so every text goes
through `guard_text` first, a linear pre-scan that turns each known pathology into a located
`ParseError`:

- an unterminated (or badly escaped) string literal: xDSL's string regex backtracks
  exponentially on it (30 characters after a lone `"` take 40 s);
- brackets nested deeper than `MAX_NESTING`: the parser, verifier and printer are recursive
  and would die with a `RecursionError`;
- a numeric literal longer than Python's int-to-str limit (4,300 digits): `int()` raises.

Verification adds what xDSL's `verify()` lacks: SSA dominance (a value used before, or by, its
own definition) and the operation that failed, so every error can say `file:line:col`.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
import struct
import sys
from typing import Any

from xdsl.context import Context
from xdsl.dialects import tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    FileLineColLoc,
    Float16Type,
    Float32Type,
    Float64Type,
    ModuleOp,
    TensorType,
)
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue
from xdsl.irdl.dominance import DominanceInfo
from xdsl.parser import Parser
from xdsl.parser.core import ForwardDeclaredValue
from xdsl.traits import NoTerminator
from xdsl.utils.exceptions import ParseError, VerifyException
from xdsl.utils.lexer import Input, Span
from xdsl.utils.mlir_lexer import MLIRTokenKind

# Deep enough for any real program (module > func > nested loops/ifs uses ~10), shallow enough
# that parsing, verifying, every pass and printing stay far below Python's recursion limit
# (xDSL's parser fails at ~150 nested `builtin.module {`).
MAX_NESTING = 100

# The pre-scan's tokens. Strings follow xDSL's lexer exactly (allowed characters and the
# escapes \" \n \t \\ \XX) but with single-character alternatives, so matching is linear.
_SCAN = r"""(?P<str>"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*(?P<endq>")?)""" + (
    r"|(?P<comment>//[^\n]*)|(?P<open>[{(\[])|(?P<close>[})\]])|(?P<num>\d{%d,})"
)


# The op name after an optional `%results =` (custom form) or in quotes (generic form).
_OP_NAME = re.compile(r'(?:[^=\n"]*=\s*)?"?([A-Za-z_][\w.$-]*)')


def _span(text: str, name: str, start: int, end: int | None = None) -> Span:
    return Span(start, start + 1 if end is None else end, Input(text, name))


def guard_text(text: str, name: str) -> None:
    """Raise a located ParseError for input that would hang or crash xDSL's parser."""
    max_digits = sys.get_int_max_str_digits() or 4300
    depth = 0
    for m in re.finditer(_SCAN % (max_digits + 1), text):
        kind, pos = m.lastgroup, m.start()
        if kind in ("str", "endq"):
            if m.group("endq") is None:
                _bad_string(text, name, pos, m.end())
        elif kind == "num":
            raise ParseError(
                _span(text, name, pos),
                f"numeric literal too long ({m.end() - pos} digits; at most {max_digits})",
            )
        elif kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(
                    _span(text, name, pos),
                    f"nesting too deep: more than {MAX_NESTING} levels of brackets",
                )
        elif kind == "close":
            depth = max(depth - 1, 0)


def _bad_string(text: str, name: str, start: int, stop: int) -> None:
    if stop < len(text) and text[stop] == "\\":
        raise ParseError(
            _span(text, name, stop, stop + 2),
            'invalid escape sequence in string literal (allowed: \\" \\n \\t \\\\ \\XX)',
        )
    raise ParseError(_span(text, name, start), "unterminated string literal")


class _HexBits(Parser._TensorLiteralElement):
    """A hex integer in a dense float literal: MLIR's bit pattern (xDSL prints inf and nan so:
    `0xFF800000` is an f32 -inf), which xDSL's parser reads as the integer's value (4.29e9)."""

    def to_type(self, parser: Any, type: Any) -> Any:
        fmts = _FLOAT_BITS.get(builtins.type(type))
        if fmts is None or not isinstance(self.value, int) or self.is_negative:
            return super().to_type(parser, type)
        as_float, as_bits = fmts
        try:
            return struct.unpack(as_float, struct.pack(as_bits, self.value))[0]
        except struct.error:
            parser.raise_error(f"hex literal too wide for {type}", at_position=self.span)


# IEEE types only (bf16's bits are not f16's): the float and the unsigned int of its size
_FLOAT_BITS = {Float16Type: ("<e", "<H"), Float32Type: ("<f", "<I"), Float64Type: ("<d", "<Q")}


class LocatingParser(Parser):
    """The MLIR parser, remembering where each operation starts in the source.

    xDSL attaches a location to an op only when the text spells out `loc(...)`; mlir-opt points
    its verifier errors at the op's source line, so we keep the spans on the side.
    """

    def __init__(self, ctx: Context, text: str, name: str, spans: dict[Operation, Span]) -> None:
        super().__init__(ctx, text, name)
        self._spans = spans

    def parse_operation(self) -> Operation:
        tok = self._current_token.span
        # A plain Span: the token may be a StringLiteral (generic form), which re-validates
        # its text whenever it is copied with another extent.
        start = Span(tok.start, tok.end, tok.input)
        try:
            op = super().parse_operation()
        except VerifyException as e:
            # A custom-format parser checks operand/result type constraints while parsing and
            # raises a VerifyException, which has no location: report it as a located error.
            m = _OP_NAME.match(start.input.content, start.start)
            name = f"'{m.group(1)}' op " if m else ""
            raise ParseError(_point(start), f"{name}{e}") from None
        except (ValueError, OverflowError) as e:
            # Attribute constructors reject values (an i64 literal out of range in a dense
            # literal, ...) with a plain ValueError: the op being parsed is the place.
            m = _OP_NAME.match(start.input.content, start.start)
            name = f"'{m.group(1)}' op " if m else ""
            raise ParseError(_point(start), f"{name}{one_line(str(e))}") from None
        except (IndexError, KeyError, TypeError, AttributeError, AssertionError) as e:
            # Some of xDSL's custom op parsers assume well-formed text (`linalg.fill %r : f32`
            # without `outs` builds its region from no arguments; `linalg.generic` asserts its
            # `iterator_types` is an array): still the op's malformed text.
            m = _OP_NAME.match(start.input.content, start.start)
            name = f"'{m.group(1)}' op " if m else ""
            why = type(e).__name__ + (f": {one_line(str(e))}" if str(e) else "")
            raise ParseError(_point(start), f"{name}malformed custom syntax ({why})") from None
        self._spans[op] = start
        return op

    def _parse_tensor_literal_element(self) -> Parser._TensorLiteralElement:
        el = super()._parse_tensor_literal_element()
        if isinstance(el.value, int) and el.span.text[:2] in ("0x", "0X"):
            return _HexBits(el.is_negative, el.value, el.span)
        return el

    def _parse_block(self) -> Block:
        # xDSL 0.74 forgets where a block was defined when a branch named it first, so a second
        # `^bb1:` after `cf.br ^bb1 ... ^bb1:` crashes (KeyError) instead of being reported:
        # record the definition, and xDSL's own "re-declaration of block" error follows.
        tok = self._current_token
        block = super()._parse_block()
        if tok.kind == MLIRTokenKind.CARET_IDENT:
            self.blocks[tok.text[1:]] = (block, tok.span)
        return block

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        try:
            return super().parse_module(allow_implicit_module)
        except ParseError as e:
            # xDSL reports undefined SSA values at the end of the file; point at the first use.
            if e.msg.startswith("values used but not defined") and self.forward_ssa_references:
                name, refs = next(iter(self.forward_ssa_references.items()))
                users = [u.operation for v in refs.values() for u in v.uses]
                spans = [self._spans[op] for op in users if op in self._spans]
                if spans:
                    first = min(spans, key=lambda sp: sp.start)
                    raise ParseError(first, f"use of undefined value '%{name}'") from None
            raise
        except (ValueError, OverflowError) as e:  # outside any op: an attribute alias
            raise ParseError(_point(self._current_token.span), one_line(str(e))) from None
        except RecursionError:  # guard_text bounds nesting; this is the backstop
            raise ParseError(
                _point(self._current_token.span), "nesting too deep to parse"
            ) from None


def _point(span: Span) -> Span:
    """One caret at the start of `span`, as mlir-opt marks an op."""
    return Span(span.start, span.start + 1, span.input, span.line_offset)


def parse_module_text(
    ctx: Context,
    text: str,
    name: str,
    spans: dict[Operation, Span] | None = None,
    allow_implicit_module: bool = True,
) -> ModuleOp:
    """Guard, then parse `text`; every failure is a located ParseError. `spans` (if given)
    receives where each op starts, for `locate`."""
    guard_text(text, name)
    parser = LocatingParser(ctx, text, name, {} if spans is None else spans)
    return parser.parse_module(allow_implicit_module)


# ---------------------------------------------------------------------------------- verifying


@dataclasses.dataclass
class InvalidOp(Exception):
    """`op` does not verify: `message` says why (without the op name)."""

    op: Operation | None
    message: str

    def __str__(self) -> str:
        return self.message


def verify_module(module: Operation) -> None:
    """`module.verify()` plus SSA dominance; raises InvalidOp naming the first failing op."""
    for op in module.walk():
        # The parser leaves a name that no op ever defines as a placeholder (xDSL's
        # ForwardDeclaredValue), which the verifier then trips over without a location.
        for i, v in enumerate(op.operands):
            if isinstance(v, ForwardDeclaredValue):
                name = f" (%{v.name_hint})" if v.name_hint else ""
                raise InvalidOp(op, f"operand #{i}{name} is used but never defined")
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
            _verify_regions(op)
            _verify_slice_bounds(op)
        except Exception as e:
            msg = str(e).removeprefix("Operation does not verify: ")
            raise InvalidOp(op, msg) from None
    check_dominance(module)


def _verify_regions(op: Operation) -> None:
    """What `Region.verify` / `Block.verify` check beyond each op (`op.verify` without nested
    ops skips them): a single-block region needs at least its terminator, and so does every
    block of a region of several (mlir-opt: "empty block: expect at least a terminator"; xDSL
    accepted an empty trailing block, and passes that assumed one block crashed on it)."""
    if op.has_trait(NoTerminator):
        return
    for region in op.regions:
        blocks = region.blocks
        if len(blocks) == 1 and blocks.first.first_op is None:
            raise VerifyException(
                f"Operation {op.name} contains empty block in single-block region "
                "that expects at least a terminator"
            )
        for i, block in enumerate(blocks):
            if len(blocks) > 1 and block.first_op is None:
                raise VerifyException(
                    f"empty block #{i} of region #{op.regions.index(region)}: expect at least "
                    "a terminator"
                )


def _verify_slice_bounds(op: Operation) -> None:
    """A tensor slice whose static offsets, sizes and strides reach outside a static dim of the
    tensor it reads or writes is invalid (mlir-opt says so too; xDSL's verifier does not check,
    and the lowering then made loops that index out of bounds)."""
    if isinstance(op, tensor.ExtractSliceOp):
        whole = op.source.type
    elif isinstance(op, tensor.InsertSliceOp):
        whole = op.dest.type
    else:
        return
    assert isinstance(whole, TensorType)
    offsets = op.static_offsets.get_values()
    sizes = op.static_sizes.get_values()
    strides = op.static_strides.get_values()
    shape = whole.get_shape()
    if not len(offsets) == len(sizes) == len(strides) == len(shape):
        raise VerifyException(
            f"expected {len(shape)} offsets, sizes and strides (one per dimension of "
            f"{whole}), got {len(offsets)}, {len(sizes)} and {len(strides)}"
        )
    for d, (o, n, k, dim) in enumerate(zip(offsets, sizes, strides, shape, strict=True)):
        if DYNAMIC_INDEX in (o, n, k):
            continue
        last = o + (n - 1) * k
        if o < 0 or n < 0 or (n > 0 and (last < 0 or (dim != DYNAMIC_INDEX and last >= dim))):
            raise VerifyException(
                f"slice of dimension {d} (offset {o}, size {n}, stride {k}) is out of bounds "
                f"of {whole} (size {'?' if dim == DYNAMIC_INDEX else dim})"
            )


def check_dominance(root: Operation) -> None:
    """Every operand must be defined before its use: earlier in the same block, in an enclosing
    block before the op that holds the use, or in a block that dominates the use's block."""
    infos: dict[Region, DominanceInfo] = {}
    index: dict[Block, dict[Operation, int]] = {}
    for op in root.walk():
        for i, v in enumerate(op.operands):
            why = _not_dominating(v, op, infos, index)
            if why:
                raise InvalidOp(op, f"operand #{i} {why}")


def _not_dominating(
    v: SSAValue,
    user: Operation,
    infos: dict[Region, DominanceInfo],
    index: dict[Block, dict[Operation, int]],
) -> str | None:
    if isinstance(v, BlockArgument):
        def_block, def_op = v.block, None
    else:
        def_op = v.op
        def_block = def_op.parent_block()
    if def_block is None or def_block.parent is None:
        return None  # a detached value: not the text's doing
    region = def_block.parent
    # The ancestor of the use (the user itself or an op around it) in the defining region.
    anc: Operation | None = user
    while anc is not None and (anc.parent is None or anc.parent.parent is not region):
        anc = anc.parent_op()
    if anc is None:
        return "is used outside the region that defines it"
    use_block = anc.parent
    assert use_block is not None
    if def_op is anc:
        return "is the operation's own result (use of a value before it is defined)"
    if use_block is def_block:
        if def_op is None:
            return None
        order = index.get(def_block)
        if order is None:
            order = index[def_block] = {o: k for k, o in enumerate(def_block.ops)}
        if order[def_op] < order[anc]:
            return None
        return "is used before it is defined"
    info = infos.get(region)
    if info is None:
        info = infos[region] = DominanceInfo(region)
    if info.dominates(def_block, use_block):
        return None
    if region.blocks.first is not None and not info.dominates(region.blocks.first, use_block):
        return None  # an unreachable block: dominance says nothing there (as in MLIR)
    return "does not dominate this use (its block does not dominate the user's block)"


def locate(
    op: Operation | None, spans: dict[Operation, Span], name: str, line_offset: int = 0
) -> tuple[str, Span | None]:
    """`file:line:col` of `op` (or of its nearest located ancestor) and a one-caret span there."""
    cur = op
    while cur is not None:
        if cur in spans:
            span = _point(dataclasses.replace(spans[cur], line_offset=line_offset))
            return str(span.get_location()), span
        if isinstance(cur.location, FileLineColLoc):
            loc = cur.location
            return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}", None
        cur = cur.parent_op()
    return name, None


def one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def parse_and_verify(ctx: Context, text: str, name: str) -> ModuleOp:
    """Parse and verify for tools that report one line; raises IRTextError."""
    spans: dict[Operation, Span] = {}
    try:
        module = parse_module_text(ctx, text, name, spans)
    except ParseError as e:
        raise IRTextError("parse", str(e.span.get_location()), one_line(e.msg)) from None
    try:
        verify_module(module)
    except InvalidOp as e:
        where, _ = locate(e.op, spans, name)
        what = f"'{e.op.name}' op " if e.op is not None else ""
        raise IRTextError("verify", where, f"{what}{one_line(e.message)}") from None
    return module


class IRTextError(Exception):
    """MLIR text that does not `parse` or `verify` (the stage), at `location`
    (`file:line:col`, or just the file): `str()` is `location: error: message`."""

    def __init__(self, stage: str, location: str, message: str) -> None:
        super().__init__(f"{location}: error: {message}")
        self.stage, self.location, self.message = stage, location, message
