"""TorchScript operator schemas: `aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor`.

torch-mlir generates its ODS from these strings; xjit does the same, so an op's operand order,
types and defaults are written once, in torch's own notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ARG_RE = re.compile(r"^\s*(?P<type>[\w\[\]?]+)\s+(?P<name>\w+)\s*(=\s*(?P<default>.+?))?\s*$")
_SCHEMA_RE = re.compile(
    r"^(?P<ns>\w+)::(?P<name>\w+)(\.(?P<overload>\w+))?\((?P<args>.*)\)\s*->\s*(?P<rets>.+)$"
)

# Argument types xjit understands, as spelled in schemas.
ARG_TYPES = {
    "Tensor",
    "Tensor?",
    "Tensor[]",
    "int",
    "int?",
    "int[]",
    "int[]?",
    "float",
    "float?",
    "bool",
    "bool?",
    "Scalar",
    "Scalar?",
    "ScalarType?",
    "str",
    "str?",
}


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    default: Any = None
    has_default: bool = False
    kwarg_only: bool = False

    @property
    def is_tensor(self) -> bool:
        return self.type in ("Tensor", "Tensor?")

    @property
    def optional(self) -> bool:
        return self.type.endswith("?")


@dataclass(frozen=True)
class Schema:
    namespace: str
    name: str
    overload: str
    args: tuple[Arg, ...]
    returns: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        """`aten.add.Tensor`: the op name below the `torch.` dialect prefix."""
        suffix = f".{self.overload}" if self.overload else ""
        return f"{self.namespace}.{self.name}{suffix}"

    def __str__(self) -> str:
        suffix = f".{self.overload}" if self.overload else ""
        args = []
        star = False
        for a in self.args:
            if a.kwarg_only and not star:
                args.append("*")
                star = True
            d = f"={_fmt_default(a.default)}" if a.has_default else ""
            args.append(f"{a.type} {a.name}{d}")
        rets = self.returns[0] if len(self.returns) == 1 else f"({', '.join(self.returns)})"
        return f"{self.namespace}::{self.name}{suffix}({', '.join(args)}) -> {rets}"


def _fmt_default(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, str):
        return f"'{v}'"  # torch's spelling: str approximate='none'
    return str(v)


def _parse_default(text: str, type_: str) -> Any:
    text = text.strip()
    if text == "None":
        return None
    if text in ("True", "False"):
        return text == "True"
    if text.startswith("["):
        inner = text[1:-1].strip()
        return [int(x) for x in inner.split(",")] if inner else []
    if type_.startswith("int") and re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        return text.strip("\"'")


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_schema(text: str) -> Schema:
    m = _SCHEMA_RE.match(text.strip())
    if m is None:
        raise ValueError(f"malformed operator schema: {text!r}")
    args: list[Arg] = []
    kwarg_only = False
    for part in _split_top(m.group("args")):
        if part.strip() == "*":
            kwarg_only = True
            continue
        am = _ARG_RE.match(part)
        if am is None:
            raise ValueError(f"malformed argument {part!r} in schema {text!r}")
        type_ = am.group("type")
        if type_ not in ARG_TYPES:
            raise ValueError(f"unsupported argument type {type_!r} in schema {text!r}")
        default = am.group("default")
        args.append(
            Arg(
                name=am.group("name"),
                type=type_,
                default=_parse_default(default, type_) if default is not None else None,
                has_default=default is not None,
                kwarg_only=kwarg_only,
            )
        )
    rets_text = m.group("rets").strip()
    if rets_text.startswith("("):
        rets = tuple(r.strip().split()[0] for r in _split_top(rets_text[1:-1]))
    else:
        rets = (rets_text.split()[0],)
    return Schema(m.group("ns"), m.group("name"), m.group("overload") or "", tuple(args), rets)
