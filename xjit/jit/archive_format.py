"""What an `.xjit` archive holds and how it is spelled: format version, entry names, the
module hierarchy (`Node`), checksums, and the encodings shared by save and load (attributes,
output structures, signatures, default arguments). See archive.py and docs/archive.md."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import xjit
from xjit.frontends.signature import OutputSpec

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.ir import Attribute


FORMAT = "xjit-archive"
FORMAT_VERSION = 5  # the newest; an archive is written as the oldest version that holds it
# 1: traced modules only (no kinds, slot keys = slot names); 3: input structure and symbolic-dim
# checks of imported programs (a version-2 reader would ignore them and run unchecked); 4: the
# module state a scripted method was compiled for (`state`: training flags, attribute values),
# checked at every call (an older reader would run it unchecked after `.eval()`); 5: traced
# methods with guards and nested argument structures (archive_trace.py), `_extra_files`.
READABLE_VERSIONS = (1, 2, 3, 4, 5)
MANIFEST = "manifest.json"
IR_ENTRY = "model.mlir"
TENSOR_DIR = "tensors/"
EXTRA_DIR = "extra/"  # `_extra_files`, as torch.jit.save writes them
HIERARCHY_ATTR = "xjit.hierarchy"
_SAFE_CHARS = re.compile(r"[A-Za-z0-9_.-]")
_DTYPES = {"float32", "float64", "int64", "int32", "bool"}
_NODE_KINDS = ("module", "script", "function")
_VARIANT_SEP = "#"  # `forward#1`: a scripted method's graph for other None/non-None arguments


class ArchiveError(Exception):
    """An `.xjit` archive is unreadable, corrupt, tampered with, or from an unsupported version;
    the message says what is wrong. Also raised when a module cannot be saved."""


@dataclass
class Node:
    """One module of the hierarchy. Tensor slots map an attribute name to a tensor key (the
    dotted name it is stored under; tied tensors share a key) or None (registered as None)."""

    type: str
    extra_repr: str = ""
    # "module" (eager or traced: its methods are traced), "script" (a scripted module: `type` is
    # its original name, it prints as a RecursiveScriptModule), "function" (the archive of one
    # traced or scripted function: the root only).
    kind: str = "module"
    training: bool = True
    methods: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str | None]] = field(default_factory=list)
    buffers: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[tuple[str, Node | None]] = field(default_factory=list)

    def to_py(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kind": self.kind,
            "extra_repr": self.extra_repr,
            "training": self.training,
            "methods": list(self.methods),
            "parameters": [[n, k] for n, k in self.parameters],
            "buffers": [[n, k] for n, k in self.buffers],
            "children": [[n, c.to_py() if c is not None else None] for n, c in self.children],
        }

    @staticmethod
    def from_py(d: Any, where: str = "<root>", depth: int = 0) -> Node:
        if depth > 200:
            raise ArchiveError("module hierarchy is nested too deeply")
        keys = {"type", "extra_repr", "training", "methods", "parameters", "buffers", "children"}
        if not isinstance(d, dict) or set(d) not in (keys, keys | {"kind"}):  # no kind: version 1
            raise ArchiveError(f"module hierarchy: malformed entry for module {where}")
        kind = d.get("kind", "module")
        if kind not in _NODE_KINDS:
            raise ArchiveError(f"module hierarchy: malformed kind of module {where}")

        def pairs(key: str) -> list[tuple[str, Any]]:
            v = d[key]
            if not isinstance(v, list) or not all(
                isinstance(p, list) and len(p) == 2 and _attr_name_ok(p[0]) for p in v
            ):
                raise ArchiveError(f"module hierarchy: malformed '{key}' of module {where}")
            return [(p[0], p[1]) for p in v]

        if not isinstance(d["type"], str) or not isinstance(d["extra_repr"], str):
            raise ArchiveError(f"module hierarchy: malformed type of module {where}")
        if not isinstance(d["training"], bool):
            raise ArchiveError(f"module hierarchy: malformed 'training' of module {where}")
        methods = d["methods"]
        if not isinstance(methods, list) or not all(_attr_name_ok(m) for m in methods):
            raise ArchiveError(f"module hierarchy: malformed 'methods' of module {where}")
        tensors = {}
        for key in ("parameters", "buffers"):
            tensors[key] = pairs(key)
            for n, k in tensors[key]:
                if k is not None and not isinstance(k, str):
                    raise ArchiveError(f"module hierarchy: malformed tensor key for {where}.{n}")
        children = []
        for n, c in pairs("children"):
            sub = f"{where}.{n}" if where != "<root>" else n
            children.append((n, None if c is None else Node.from_py(c, sub, depth + 1)))
        if kind == "function" and (
            depth or children or tensors["parameters"] or tensors["buffers"] or len(methods) != 1
        ):
            raise ArchiveError(
                "module hierarchy: a function archive holds one method and nothing else"
            )
        if kind == "script" and methods != ["forward"]:
            raise ArchiveError(
                f"module hierarchy: scripted module {where} must have one method, forward"
            )
        return Node(
            d["type"],
            d["extra_repr"],
            kind,
            d["training"],
            list(methods),
            tensors["parameters"],
            tensors["buffers"],
            children,
        )


def _attr_name_ok(name: Any) -> bool:
    # As torch's add_module/register_*: a non-empty string without dots.
    return isinstance(name, str) and name != "" and "." not in name


# names


def entry_name(key: str) -> str:
    """The zip entry of the tensor stored under `key`: safe characters kept, others %-encoded
    (injective, never a path separator or `..` component)."""
    out = []
    for ch in key:
        if _SAFE_CHARS.match(ch):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return f"{TENSOR_DIR}{''.join(out)}.npy"


def extra_entry_name(name: str) -> str:
    """The zip entry of the `_extra_files` item `name`: every character but [A-Za-z0-9_-]
    %-encoded (injective; never a path, a `.` or `..` component)."""
    out = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch in "_-"):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return EXTRA_DIR + "".join(out)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _xjit_version() -> str:
    return getattr(xjit, "__version__", "unknown")


# Python values <-> builtin MLIR attributes (for the hierarchy inside model.mlir)


def _to_attr(v: Any) -> Attribute:
    from xdsl.dialects.builtin import (
        ArrayAttr,
        DictionaryAttr,
        IntegerAttr,
        IntegerType,
        StringAttr,
        UnitAttr,
        i64,
    )

    if v is None:
        return UnitAttr()
    if isinstance(v, bool):
        return IntegerAttr(int(v), IntegerType(1))
    if isinstance(v, int):
        return IntegerAttr(v, i64)
    if isinstance(v, str):
        return StringAttr(v)
    if isinstance(v, list | tuple):
        return ArrayAttr([_to_attr(x) for x in v])
    if isinstance(v, dict):
        return DictionaryAttr({k: _to_attr(x) for k, x in v.items()})
    raise TypeError(f"cannot store {type(v).__name__} in the hierarchy")


def _from_attr(a: Attribute) -> Any:
    from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, IntegerAttr, StringAttr, UnitAttr

    if isinstance(a, UnitAttr):
        return None
    if isinstance(a, IntegerAttr):
        width = getattr(a.type, "width", None)
        value = a.value.data
        return bool(value) if width is not None and width.data == 1 else value
    if isinstance(a, StringAttr):
        return a.data
    if isinstance(a, ArrayAttr):
        return [_from_attr(x) for x in a.data]
    if isinstance(a, DictionaryAttr):
        return {k: _from_attr(x) for k, x in a.data.items()}
    raise ArchiveError(f"module hierarchy: unexpected attribute {a}")


# output structure and signatures


def _spec_to_py(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, OutputSpec):
        raise ArchiveError(f"cannot save an output structure of type {type(spec).__name__}")
    d: dict[str, Any] = {"kind": spec.kind}
    if spec.kind not in ("tensor", "none"):
        d["children"] = [_spec_to_py(c) for c in spec.children]
    if spec.kind == "dict":
        bad = [k for k in spec.keys if not isinstance(k, str)]
        if bad:
            raise ArchiveError(
                f"cannot save: a dict key {bad[0]!r} of type {type(bad[0]).__name__} (an "
                "archive holds str keys only)"
            )
        d["keys"] = list(spec.keys)
    return d


def _spec_from_py(d: Any, depth: int = 0, what: str = "output structure") -> Any:
    kinds = ("tensor", "tuple", "list", "dict", "none", "optional")
    bad = ArchiveError(f"manifest: malformed {what}")
    if depth > 100 or not isinstance(d, dict) or d.get("kind") not in kinds:
        raise bad
    if d["kind"] in ("tensor", "none"):
        if set(d) != {"kind"}:
            raise bad
        return OutputSpec(d["kind"])
    fields = {"kind", "children", "keys"} if d["kind"] == "dict" else {"kind", "children"}
    if set(d) != fields or not isinstance(d["children"], list):
        raise bad
    keys = d.get("keys", [])
    if d["kind"] == "dict" and (
        not isinstance(keys, list)
        or len(keys) != len(d["children"])
        or not all(isinstance(k, str) for k in keys)
        or len(set(keys)) != len(keys)
    ):
        raise bad
    children = tuple(_spec_from_py(c, depth + 1, what) for c in d["children"])
    if d["kind"] == "optional" and len(children) != 1:  # (present, its one value)
        raise bad
    return OutputSpec(d["kind"], children, tuple(keys))


def _spec_leaves(spec: Any) -> int:
    if spec.kind in ("tensor", "none"):
        return int(spec.kind == "tensor")
    return sum(_spec_leaves(c) for c in spec.children) + (spec.kind == "optional")


def _type_sig(t: Any) -> dict[str, Any]:
    """Shape/dtype of a `!torch.vtensor` type, as the manifest records it."""
    # lazy: the torch dialect loads only when there is a graph to describe
    from xjit.dialects.torch_types import ValueTensorType

    if not isinstance(t, ValueTensorType):
        return {"type": str(t)}
    meta = t.meta
    shape = None if meta.shape is None else list(meta.shape)
    return {"shape": shape, "dtype": meta.dtype.name if meta.dtype is not None else None}


def _func_of(module: ModuleOp, name: str) -> Any:
    from xdsl.dialects import func

    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    return None


def _encode_default(name: str, v: Any) -> dict[str, Any]:
    if v is None:
        return {"type": "none"}
    if isinstance(v, bool):
        return {"type": "bool", "value": v}
    if isinstance(v, int):
        return {"type": "int", "value": v}
    if isinstance(v, float):
        return {"type": "float", "value": repr(v)}  # exact, and inf/nan are not JSON
    raise ArchiveError(
        f"cannot save: default value of argument '{name}' is a "
        f"{type(v).__name__} (only None, bool, int and float are supported)"
    )


def _decode_default(where: str, d: Any) -> Any:
    if isinstance(d, dict) and d.get("type") == "none" and set(d) == {"type"}:
        return None
    if not isinstance(d, dict) or set(d) != {"type", "value"}:
        raise ArchiveError(f"{MANIFEST}: malformed default of {where}")
    t, v = d["type"], d["value"]
    if t == "bool" and isinstance(v, bool):
        return v
    if t == "int" and isinstance(v, int) and not isinstance(v, bool):
        return v
    if t == "float" and isinstance(v, str):
        try:
            return float(v)  # float() parses numbers only
        except ValueError:
            pass
    raise ArchiveError(f"{MANIFEST}: malformed default of {where}")
