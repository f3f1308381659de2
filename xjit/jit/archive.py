"""The `.xjit` archive: `save` a compiled module, `load` it back anywhere. See docs/archive.md.

A module is saved as three things, none of them Python:

- its hierarchy (type names, `extra_repr` text, children, parameter and buffer names, methods),
- the torch-dialect IR of its compiled methods,
- its named tensors (parameters and buffers), by dotted path.

All of it goes into one zip: `model.mlir` (the IR, the hierarchy as an attribute of the outer
`builtin.module`), `tensors/<dotted.name>.npy`, and `manifest.json` (format version, method
signatures, a sha256 per entry). Loading reads entries into memory (nothing is extracted), loads
arrays with `allow_pickle=False`, parses and verifies the IR, checks every tensor against the IR,
and compiles the methods with the normal pipeline; the numpy backend only ever turns IR symbol
names into its own identifiers. Anything wrong raises `ArchiveError` and nothing is returned.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xjit._tensor import Tensor
from xjit.nn.module import Module, Parameter

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.ir import Attribute

    from xjit.jit.compiled import CompiledFunction

FORMAT = "xjit-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
IR_ENTRY = "model.mlir"
TENSOR_DIR = "tensors/"
HIERARCHY_ATTR = "xjit.hierarchy"

# Fixed zip metadata: the same module always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
# Entry names a loader accepts: nothing that could be a path outside the archive.
_ENTRY_NAME = re.compile(r"(?:manifest\.json|model\.mlir|tensors/[A-Za-z0-9_.%-]+\.npy)\Z")
_SAFE_CHARS = re.compile(r"[A-Za-z0-9_.-]")
_MAX_TEXT = 256 << 20  # manifest/IR larger than this are refused before they are decompressed
_MAX_NPY_HEADER = 1 << 16
_DTYPES = {"float32", "float64", "int64", "int32", "bool"}


class ArchiveError(Exception):
    """An `.xjit` archive is unreadable, corrupt, tampered with, or from an unsupported version;
    the message says what is wrong. Also raised when a module cannot be saved."""


# ------------------------------------------------------------------------------------------------
# the module model: hierarchy + methods + named tensors


@dataclass
class Node:
    """One module of the hierarchy. Tensor slots map an attribute name to a tensor key (the
    dotted name it is stored under; tied tensors share a key) or None (registered as None)."""

    type: str
    extra_repr: str = ""
    training: bool = True
    methods: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str | None]] = field(default_factory=list)
    buffers: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[tuple[str, Node | None]] = field(default_factory=list)

    def to_py(self) -> dict[str, Any]:
        return {
            "type": self.type, "extra_repr": self.extra_repr, "training": self.training,
            "methods": list(self.methods),
            "parameters": [[n, k] for n, k in self.parameters],
            "buffers": [[n, k] for n, k in self.buffers],
            "children": [[n, c.to_py() if c is not None else None] for n, c in self.children],
        }

    @staticmethod
    def from_py(d: Any, where: str = "<root>", depth: int = 0) -> Node:
        if depth > 200:
            raise ArchiveError("module hierarchy is nested too deeply")
        if not isinstance(d, dict) or set(d) != {
            "type", "extra_repr", "training", "methods", "parameters", "buffers", "children"
        }:
            raise ArchiveError(f"module hierarchy: malformed entry for module {where}")

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
        return Node(d["type"], d["extra_repr"], d["training"], list(methods),
                    tensors["parameters"], tensors["buffers"], children)


def _attr_name_ok(name: Any) -> bool:
    # As torch's add_module/register_*: a non-empty string without dots.
    return isinstance(name, str) and name != "" and "." not in name


@dataclass
class MethodSpec:
    """What the archive needs of one compiled method (a `CompiledFunction` provides all of it)."""

    torch_ir: ModuleOp
    params: dict[str, Tensor]
    arg_names: list[str]
    output_spec: Any


def compiled_methods(module: Module) -> dict[str, CompiledFunction]:
    """The compiled methods of one module (not of its children), by method name.

    A module type opts in with `_compiled_methods()`; a module whose `forward` is a
    `CompiledFunction` (e.g. `TracedModule`) needs nothing more."""
    from xjit.jit.compiled import CompiledFunction

    hook = getattr(type(module), "_compiled_methods", None)
    if hook is not None:
        return dict(hook(module))
    fwd = getattr(type(module), "forward", None)
    if isinstance(fwd, property):
        value = module.forward
        if isinstance(value, CompiledFunction):
            return {"forward": value}
    return {}


# ------------------------------------------------------------------------------------------------
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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _xjit_version() -> str:
    import xjit

    return getattr(xjit, "__version__", "unknown")


# ------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------
# output structure and signatures


def _spec_to_py(spec: Any) -> dict[str, Any]:
    from xjit.frontends.trace import OutputSpec

    if not isinstance(spec, OutputSpec):
        raise ArchiveError(f"cannot save an output structure of type {type(spec).__name__}")
    d: dict[str, Any] = {"kind": spec.kind}
    if spec.kind != "tensor":
        d["children"] = [_spec_to_py(c) for c in spec.children]
    return d


def _spec_from_py(d: Any, depth: int = 0) -> Any:
    from xjit.frontends.trace import OutputSpec

    if depth > 100 or not isinstance(d, dict) or d.get("kind") not in ("tensor", "tuple", "list"):
        raise ArchiveError("manifest: malformed output structure")
    if d["kind"] == "tensor":
        if set(d) != {"kind"}:
            raise ArchiveError("manifest: malformed output structure")
        return OutputSpec("tensor")
    if set(d) != {"kind", "children"} or not isinstance(d["children"], list):
        raise ArchiveError("manifest: malformed output structure")
    return OutputSpec(d["kind"], tuple(_spec_from_py(c, depth + 1) for c in d["children"]))


def _spec_leaves(spec: Any) -> int:
    return 1 if spec.kind == "tensor" else sum(_spec_leaves(c) for c in spec.children)


def _type_sig(t: Any) -> dict[str, Any]:
    """Shape/dtype of a `!torch.vtensor` type, as the manifest records it."""
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


# ------------------------------------------------------------------------------------------------
# save


def _describe(module: Module) -> tuple[Node, dict[str, Tensor], dict[str, MethodSpec]]:
    """The hierarchy, the named tensors and the compiled methods of `module`."""
    keys: dict[int, str] = {}
    # Keys as `named_parameters()`/`named_buffers()` give them, so they match the IR's slots.
    for name, p in module.named_parameters():
        keys.setdefault(id(p), name)
    for name, b in module.named_buffers():
        keys.setdefault(id(b), name)
    tensors: dict[str, Tensor] = {}
    methods: dict[str, MethodSpec] = {}

    def node(m: Module, prefix: str) -> Node:
        def slot(name: str, t: Tensor | None) -> tuple[str, str | None]:
            if t is None:
                return name, None
            key = keys.setdefault(id(t), f"{prefix}{name}")
            tensors[key] = t
            return name, key

        for n in list(m._parameters) + list(m._buffers) + list(m._modules):
            if not _attr_name_ok(n):
                raise ArchiveError(f"cannot save: attribute name {n!r} of {prefix or '<root>'}")
        own = compiled_methods(m)
        for mname, cf in own.items():
            if not _attr_name_ok(mname):
                raise ArchiveError(f"cannot save: method name {mname!r}")
            methods[prefix + mname] = MethodSpec(
                cf.torch_ir, dict(cf.params), list(cf.arg_names), cf.output_spec
            )
        return Node(
            type=m._get_name(),
            extra_repr=m.extra_repr(),
            training=bool(m.training),
            methods=list(own),
            parameters=[slot(n, t) for n, t in m._parameters.items()],
            buffers=[slot(n, t) for n, t in m._buffers.items()],
            children=[
                (n, node(c, f"{prefix}{n}.") if c is not None else None)
                for n, c in m._modules.items()
            ],
        )

    root = node(module, "")
    # Tensors a method binds but the hierarchy does not hold (e.g. registered elsewhere).
    for qname, spec in methods.items():
        for slot_name, t in spec.params.items():
            held = tensors.get(slot_name)
            if held is None:
                tensors[slot_name] = t
            elif held is not t and held.numpy() is not t.numpy():
                raise ArchiveError(
                    f"cannot save: method {qname} binds a tensor '{slot_name}' that is not the "
                    "module's tensor of that name"
                )
    return root, tensors, methods


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _print_ir(outer: ModuleOp) -> str:
    from xdsl.dialects.builtin import UnknownLoc
    from xdsl.printer import Printer

    # Source locations are printed when there are any; `loc(unknown)` everywhere is noise.
    located = any(not isinstance(op.location, UnknownLoc) for op in outer.walk())
    s = io.StringIO()
    Printer(stream=s, print_debuginfo=located).print_op(outer)
    s.write("\n")
    return s.getvalue()


def archive_entries(module: Module) -> dict[str, bytes]:
    """Every entry of the archive of `module`, by name (manifest included)."""
    from xdsl.dialects.builtin import ModuleOp, StringAttr

    from xjit.dialects.torch import GlobalSlotOp

    if not isinstance(module, Module):
        raise TypeError(f"save expects a compiled xjit module, got {type(module).__name__}")
    root, tensors, methods = _describe(module)
    if not methods:
        raise ArchiveError(
            f"cannot save {module._get_name()}: it has no compiled methods "
            "(trace or script it first)"
        )
    inner = []
    sigs: dict[str, Any] = {}
    for qname, spec in methods.items():
        m = spec.torch_ir.clone()
        fop = _func_of(m, qname.rsplit(".", 1)[-1])
        if fop is None:
            raise ArchiveError(f"cannot save: the IR of method {qname} has no function of that name")
        slots = {}
        for op in m.ops:
            if isinstance(op, GlobalSlotOp):
                slots[op.sym_name.data] = op.type
                if op.sym_name.data not in tensors:
                    raise ArchiveError(f"cannot save: no tensor for global slot @{op.sym_name.data}")
        m.properties["sym_name"] = StringAttr(qname)
        inner.append(m)
        ins = fop.function_type.inputs.data
        outs = fop.function_type.outputs.data
        if len(spec.arg_names) != len(ins):
            raise ArchiveError(f"cannot save: method {qname} has {len(ins)} arguments but "
                               f"{len(spec.arg_names)} argument names")
        sigs[qname] = {
            "inputs": [{"name": n, **_type_sig(t)} for n, t in zip(spec.arg_names, ins)],
            "outputs": [_type_sig(t) for t in outs],
            "output_structure": _spec_to_py(spec.output_spec),
            "tensors": sorted(slots),
        }
    outer = ModuleOp(inner, attributes={HIERARCHY_ATTR: _to_attr(root.to_py())})
    entries: dict[str, bytes] = {IR_ENTRY: _print_ir(outer).encode("utf-8")}
    tensor_info: dict[str, Any] = {}
    for key in sorted(tensors):
        a = tensors[key].numpy()
        if a.dtype.name not in _DTYPES:
            raise ArchiveError(f"cannot save tensor '{key}' of dtype {a.dtype}")
        ename = entry_name(key)
        entries[ename] = _npy_bytes(a)
        tensor_info[key] = {"entry": ename, "shape": list(a.shape), "dtype": a.dtype.name}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "xjit_version": _xjit_version(),
        "ir": IR_ENTRY,
        "methods": sigs,
        "tensors": tensor_info,
        "entries": {
            n: {"sha256": _sha256(b), "size": len(b)} for n, b in sorted(entries.items())
        },
    }
    entries[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    return entries


def write_zip(entries: Mapping[str, bytes], path: str | os.PathLike[str]) -> None:
    """Write `entries` as a deterministic zip at `path`, atomically: a temporary file in the
    same directory, fsync'd, then renamed over `path`. On any failure `path` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w") as z:
                for name in sorted(entries):
                    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                    info.external_attr = _FILE_MODE
                    info.create_system = 3  # unix, whatever the host
                    # Arrays stored (cheap to read); text deflated.
                    info.compress_type = (
                        zipfile.ZIP_STORED if name.endswith(".npy") else zipfile.ZIP_DEFLATED
                    )
                    z.writestr(info, entries[name])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def save(module: Module, path: str | os.PathLike[str]) -> None:
    """Save a compiled module (traced or scripted) to `path` as an `.xjit` archive."""
    write_zip(archive_entries(module), path)


# ------------------------------------------------------------------------------------------------
# load


class LoadedModule(Module):
    """A module loaded from an archive: the saved hierarchy (same printed form), its parameters
    and buffers, and its compiled methods (`forward` → calling the module)."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        object.__setattr__(self, "_type_name", node.type)
        object.__setattr__(self, "_extra_repr_text", node.extra_repr)
        object.__setattr__(self, "_methods", {})
        object.__setattr__(self, "training", node.training)

    def _compiled_methods(self) -> dict[str, CompiledFunction]:
        return dict(self.__dict__["_methods"])

    @property
    def forward(self) -> CompiledFunction:  # type: ignore[override]
        try:
            return self.__dict__["_methods"]["forward"]
        except KeyError:
            raise AttributeError(f"{self._get_name()} was saved without a forward method") from None

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)

    def __getattr__(self, name: str) -> Any:
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            return methods[name]
        return super().__getattr__(name)

    @property
    def graph(self) -> str:
        return self.forward.graph

    @property
    def code(self) -> str:
        return self.forward.code

    def _get_name(self) -> str:
        return self.__dict__["_type_name"]

    def extra_repr(self) -> str:
        return self.__dict__["_extra_repr_text"]

    def save(self, path: str | os.PathLike[str]) -> None:
        save(self, path)


@dataclass
class _Archive:
    manifest: dict[str, Any]
    entries: dict[str, bytes]


def _read_archive(path: str | os.PathLike[str]) -> _Archive:
    try:
        z = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"{os.fspath(path)}: no such file") from None
    except IsADirectoryError:
        raise ArchiveError(f"{os.fspath(path)}: is a directory") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise ArchiveError(f"not an xjit archive (corrupt or truncated zip: {e})") from None
    with z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        seen: set[str] = set()
        for n in names:
            if n in seen:
                raise ArchiveError(f"duplicate entry '{n}'")
            seen.add(n)
            if not _ENTRY_NAME.match(n):
                raise ArchiveError(f"unexpected entry {n!r} (not part of the xjit format)")
        if MANIFEST not in seen:
            raise ArchiveError(f"not an xjit archive: missing entry '{MANIFEST}'")
        manifest = _parse_manifest(_read_entry(z, z.getinfo(MANIFEST), _MAX_TEXT))
        listed: dict[str, Any] = manifest["entries"]
        for n in names:
            if n != MANIFEST and n not in listed:
                raise ArchiveError(f"unexpected entry '{n}' (not listed in the manifest)")
        sizes = _expected_sizes(manifest)
        entries: dict[str, bytes] = {}
        for n, info in sorted(listed.items()):
            if n not in seen:
                raise ArchiveError(f"missing entry '{n}'")
            zi = z.getinfo(n)
            if zi.file_size != info["size"]:
                raise ArchiveError(
                    f"entry '{n}' has {zi.file_size} bytes, the manifest says {info['size']}"
                )
            data = _read_entry(z, zi, sizes.get(n, _MAX_TEXT))
            if _sha256(data) != info["sha256"]:
                raise ArchiveError(f"checksum mismatch for entry '{n}' (archive modified or corrupt)")
            entries[n] = data
    return _Archive(manifest, entries)


def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ArchiveError(f"entry '{info.filename}' is larger ({info.file_size} bytes) than "
                           f"its content can be ({limit} bytes)")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise ArchiveError(f"entry '{info.filename}' is corrupt: {e}") from None
    except Exception as e:  # zlib.error and the like
        raise ArchiveError(f"entry '{info.filename}' is corrupt: {e}") from None
    if len(data) != info.file_size:
        raise ArchiveError(f"entry '{info.filename}' is corrupt (size mismatch)")
    return data


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        m = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ArchiveError(f"{MANIFEST} is not valid JSON: {e}") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise ArchiveError(f"not an xjit archive ({MANIFEST} does not say format '{FORMAT}')")
    v = m.get("format_version")
    if not isinstance(v, int) or isinstance(v, bool):
        raise ArchiveError(f"{MANIFEST}: missing or malformed format_version")
    if v != FORMAT_VERSION:
        newer = " (written by a newer xjit; upgrade xjit)" if v > FORMAT_VERSION else ""
        raise ArchiveError(
            f"unsupported archive format version {v}; this xjit reads version {FORMAT_VERSION}"
            f"{newer}"
        )
    for key, typ in (("methods", dict), ("tensors", dict), ("entries", dict), ("ir", str)):
        if not isinstance(m.get(key), typ):
            raise ArchiveError(f"{MANIFEST}: missing or malformed '{key}'")
    for n, info in m["entries"].items():
        if not _ENTRY_NAME.match(n) or n == MANIFEST:
            raise ArchiveError(f"{MANIFEST} lists an invalid entry name {n!r}")
        if (
            not isinstance(info, dict)
            or not isinstance(info.get("sha256"), str)
            or not isinstance(info.get("size"), int)
        ):
            raise ArchiveError(f"{MANIFEST}: malformed entry record for '{n}'")
    if m["ir"] not in m["entries"]:
        raise ArchiveError(f"missing entry '{m['ir']}' (the IR)")
    for key, t in m["tensors"].items():
        if (
            not isinstance(key, str)
            or not isinstance(t, dict)
            or t.get("entry") not in m["entries"]
            or t.get("dtype") not in _DTYPES
            or not isinstance(t.get("shape"), list)
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                       for d in t["shape"])
        ):
            raise ArchiveError(f"{MANIFEST}: malformed or missing record for tensor {key!r}")
    return m


def _expected_sizes(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Upper bounds on entry sizes (so a hostile entry cannot make us inflate gigabytes)."""
    out: dict[str, int] = {}
    for t in manifest["tensors"].values():
        n = int(np.prod(t["shape"], dtype=np.int64)) * np.dtype(t["dtype"]).itemsize
        out[t["entry"]] = max(out.get(t["entry"], 0), n + _MAX_NPY_HEADER)
    return out


def _load_array(key: str, info: Mapping[str, Any], data: bytes) -> np.ndarray:
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # ValueError for object arrays (pickle refused), bad headers, ...
        raise ArchiveError(f"tensor '{key}': not a valid .npy array ({e})") from None
    if not isinstance(a, np.ndarray):
        raise ArchiveError(f"tensor '{key}': not a .npy array")
    if a.dtype.name != info["dtype"] or list(a.shape) != info["shape"]:
        raise ArchiveError(
            f"tensor '{key}': the array is {a.dtype} {list(a.shape)}, the manifest says "
            f"{info['dtype']} {info['shape']}"
        )
    return np.ascontiguousarray(a)


def _parse_ir(text: bytes) -> ModuleOp:
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.parser import Parser
    from xdsl.utils.exceptions import ParseError

    from xjit.dialects import make_context

    try:
        source = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArchiveError(f"{IR_ENTRY} is not UTF-8 text ({e.reason})") from None
    try:
        module = Parser(make_context(), source, IR_ENTRY).parse_module()
    except ParseError as e:
        raise ArchiveError(f"{IR_ENTRY} does not parse: {e.span.get_location()}: {e.msg}") from None
    except Exception as e:  # custom parsers raise VerifyException and friends
        raise ArchiveError(f"{IR_ENTRY} does not parse: {type(e).__name__}: {e}") from None
    if not isinstance(module, ModuleOp):
        raise ArchiveError(f"{IR_ENTRY}: the top-level operation is not a builtin.module")
    try:
        module.verify()
    except Exception as e:
        raise ArchiveError(f"{IR_ENTRY} does not verify: {e}") from None
    return module


def _iter_nodes(node: Node, prefix: str = "") -> Iterator[tuple[str, Node]]:
    yield prefix, node
    for n, c in node.children:
        if c is not None:
            yield from _iter_nodes(c, f"{prefix}{n}.")


def _method_ir(outer: ModuleOp) -> dict[str, ModuleOp]:
    from xdsl.dialects.builtin import ModuleOp

    out: dict[str, ModuleOp] = {}
    for op in outer.ops:
        if not isinstance(op, ModuleOp) or op.sym_name is None:
            raise ArchiveError(
                f"{IR_ENTRY}: expected only named builtin.module ops (one per method), "
                f"found {op.name}"
            )
        if op.sym_name.data in out:
            raise ArchiveError(f"{IR_ENTRY}: method @{op.sym_name.data} is defined twice")
        out[op.sym_name.data] = op
    return out


def _compile_method(
    qname: str,
    m: ModuleOp,
    sig: Any,
    arrays: Mapping[str, np.ndarray],
    tensor_objs: dict[str, Tensor],
) -> CompiledFunction:
    from xdsl.dialects import func

    from xjit.dialects.torch import GlobalSlotGetOp, GlobalSlotOp
    from xjit.dialects.torch_types import ValueTensorType
    from xjit.jit.compiled import CompiledFunction

    fname = qname.rsplit(".", 1)[-1]
    if not isinstance(sig, dict) or not isinstance(sig.get("inputs"), list):
        raise ArchiveError(f"{MANIFEST}: malformed signature of method {qname}")
    fop = _func_of(m, fname)
    if fop is None or fop.is_declaration:
        raise ArchiveError(f"{IR_ENTRY}: method {qname} has no function @{fname}")
    # Global slots: each must have a tensor of exactly the slot's type.
    slots: dict[str, Any] = {}
    for op in m.ops:
        if isinstance(op, GlobalSlotOp):
            name = op.sym_name.data
            t = op.type
            if name not in arrays:
                raise ArchiveError(f"method {qname}: no tensor for global slot @{name}")
            if not isinstance(t, ValueTensorType) or t.sizes is None or t.element_dtype is None:
                raise ArchiveError(f"method {qname}: global slot @{name} has unsupported type {t}")
            a = arrays[name]
            want = [d for d in t.sizes]
            if list(a.shape) != want or a.dtype != t.element_dtype.np:
                raise ArchiveError(
                    f"tensor '{name}' is {a.dtype} {list(a.shape)} but the IR declares "
                    f"@{name} as {t.element_dtype.np} {want}"
                )
            slots[name] = t
        elif not isinstance(op, func.FuncOp):
            raise ArchiveError(f"method {qname}: unexpected top-level op {op.name}")
    for op in m.walk():
        if isinstance(op, GlobalSlotGetOp):
            ref = op.slot.root_reference.data
            if ref not in slots:
                raise ArchiveError(f"method {qname}: reads undeclared global slot @{ref}")
            if op.result.type != slots[ref]:
                raise ArchiveError(f"method {qname}: reads @{ref} as {op.result.type}, "
                                   f"declared {slots[ref]}")
    # The signature in the manifest must be the function's.
    ins = fop.function_type.inputs.data
    outs = fop.function_type.outputs.data
    inputs = sig["inputs"]
    if len(inputs) != len(ins) or any(
        not isinstance(i, dict) or {k: v for k, v in i.items() if k != "name"} != _type_sig(t)
        for i, t in zip(inputs, ins)
    ):
        raise ArchiveError(f"{MANIFEST}: the inputs of method {qname} disagree with its IR")
    if sig.get("outputs") != [_type_sig(t) for t in outs]:
        raise ArchiveError(f"{MANIFEST}: the outputs of method {qname} disagree with its IR")
    arg_names = [i.get("name") for i in inputs]
    if not all(isinstance(n, str) for n in arg_names):
        raise ArchiveError(f"{MANIFEST}: malformed argument names of method {qname}")
    if not all(isinstance(t, ValueTensorType) for t in ins):
        raise ArchiveError(f"method {qname}: only tensor arguments are supported")
    spec = _spec_from_py(sig.get("output_structure"))
    if _spec_leaves(spec) != len(outs):
        raise ArchiveError(
            f"{MANIFEST}: the output structure of method {qname} has {_spec_leaves(spec)} "
            f"tensors, the function returns {len(outs)}"
        )
    metas = [t.meta for t in ins]  # type: ignore[union-attr]
    params = {name: tensor_objs[name] for name in slots}
    try:
        return CompiledFunction(m, params, metas, arg_names, spec, fname)
    except ArchiveError:
        raise
    except Exception as e:
        raise ArchiveError(f"method {qname} cannot be compiled: {type(e).__name__}: {e}") from None


def load(path: str | os.PathLike[str]) -> LoadedModule:
    """Load an `.xjit` archive written by `save`; raises `ArchiveError` if anything is wrong."""
    try:
        return _load(path)
    except ArchiveError:
        raise
    except RecursionError:
        raise ArchiveError("archive content is nested too deeply") from None
    except Exception as e:  # a check we did not foresee: still an ArchiveError, never partial
        raise ArchiveError(f"cannot load archive: {type(e).__name__}: {e}") from e


def _load(path: str | os.PathLike[str]) -> LoadedModule:
    ar = _read_archive(path)
    man = ar.manifest
    outer = _parse_ir(ar.entries[man["ir"]])
    if HIERARCHY_ATTR not in outer.attributes:
        raise ArchiveError(f"{IR_ENTRY}: the outer module has no '{HIERARCHY_ATTR}' attribute")
    root = Node.from_py(_from_attr(outer.attributes[HIERARCHY_ATTR]))
    method_ir = _method_ir(outer)

    # Named tensors: arrays, then one Tensor object per key (a Parameter if any module holds
    # it as a parameter), shared by every module and method that refers to the key.
    arrays = {
        key: _load_array(key, info, ar.entries[info["entry"]])
        for key, info in man["tensors"].items()
    }
    as_param: set[str] = set()
    for _, node in _iter_nodes(root):
        for _n, key in node.parameters + node.buffers:
            if key is not None and key not in arrays:
                raise ArchiveError(f"module hierarchy refers to tensor '{key}', which is not saved")
        as_param.update(k for _, k in node.parameters if k is not None)
    tensor_objs: dict[str, Tensor] = {
        key: Parameter(a) if key in as_param else Tensor(a) for key, a in arrays.items()
    }

    wanted = {prefix + m for prefix, node in _iter_nodes(root) for m in node.methods}
    if set(man["methods"]) != wanted or set(method_ir) != wanted:
        raise ArchiveError(
            f"the methods of the hierarchy ({sorted(wanted)}), the manifest "
            f"({sorted(man['methods'])}) and {IR_ENTRY} ({sorted(method_ir)}) disagree"
        )
    compiled: dict[str, CompiledFunction] = {}
    for qname in sorted(wanted):
        m = method_ir[qname]
        m.detach()
        m.properties.pop("sym_name", None)  # prints as the module it was saved from
        compiled[qname] = _compile_method(qname, m, man["methods"][qname], arrays, tensor_objs)

    def build(node: Node, prefix: str) -> LoadedModule:
        mod = LoadedModule(node)
        for n, key in node.parameters:
            mod.register_parameter(n, tensor_objs[key] if key is not None else None)  # type: ignore[arg-type]
        for n, key in node.buffers:
            mod.register_buffer(n, tensor_objs[key] if key is not None else None)
        for n, c in node.children:
            mod.add_module(n, build(c, f"{prefix}{n}.") if c is not None else None)
        mod.__dict__["_methods"].update({m: compiled[prefix + m] for m in node.methods})
        return mod

    return build(root, "")
