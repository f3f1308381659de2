"""Loading an `.xjit` archive: read the zip into memory, validate entries, manifest, arrays
and IR (anything wrong is an `ArchiveError`), then rebuild the module and compile its methods."""

from __future__ import annotations

import functools
import io
import json
import math
import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xjit._tensor import Tensor
from xjit.jit.api import TracedFunction
from xjit.jit.archive_format import (
    _DTYPES,
    EXTRA_DIR,
    FORMAT,
    FORMAT_VERSION,
    HIERARCHY_ATTR,
    IR_ENTRY,
    MANIFEST,
    READABLE_VERSIONS,
    ArchiveError,
    Node,
    _attr_name_ok,
    _decode_default,
    _from_attr,
    _func_of,
    _sha256,
    _spec_from_py,
    _spec_leaves,
    _type_sig,
    extra_entry_name,
)
from xjit.jit.archive_imported import DimConstraint, ImportedFunction
from xjit.jit.archive_loaded import (
    LoadedModule,
    LoadedScriptFunction,
    LoadedScriptModule,
    _init_loaded_script,
)
from xjit.jit.compiled import CompiledFunction
from xjit.jit.script_api import _hashable
from xjit.nn.module import Module, Parameter

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp


# Entry names a loader accepts: nothing that could be a path outside the archive.
_ENTRY_NAME = re.compile(
    r"(?:manifest\.json|model\.mlir|tensors/[A-Za-z0-9_.%-]+\.npy|extra/[A-Za-z0-9_%-]+)\Z"
)
_MAX_TEXT = 256 << 20  # manifest/IR larger than this are refused before they are decompressed
_MAX_NPY_HEADER = 1 << 16
# A compressed entry may inflate at most this much (xjit stores arrays and deflates text, which
# compresses far less): a zip bomb's entry is refused from its sizes, before it is inflated, so
# that what a load holds in memory is bounded by the archive's size, whatever its manifest says.
_MAX_RATIO = 200
_RATIO_FLOOR = 1 << 20  # entries up to this size are never refused for their ratio
_MAX_ELEMENTS = 1 << 62  # a declared tensor with more elements cannot exist (int64 sizes)


@dataclass
class _Archive:
    manifest: dict[str, Any]
    entries: dict[str, bytes]


def _read_archive(path: Any) -> _Archive:
    if hasattr(path, "read") and hasattr(path, "seek"):  # a file object: read it whole
        try:
            path = io.BytesIO(path.read())
        except OSError as e:
            raise ArchiveError(f"cannot read the archive: {e}") from None
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
                raise ArchiveError(
                    f"checksum mismatch for entry '{n}' (archive modified or corrupt)"
                )
            entries[n] = data
    return _Archive(manifest, entries)


def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ArchiveError(
            f"entry '{info.filename}' is larger ({info.file_size} bytes) than "
            f"its content can be ({limit} bytes)"
        )
    if info.file_size > max(_RATIO_FLOOR, _MAX_RATIO * info.compress_size):
        raise ArchiveError(
            f"entry '{info.filename}' inflates {info.compress_size} bytes to {info.file_size} "
            f"(more than {_MAX_RATIO}:1, which xjit never writes): refused unread"
        )
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
    if v not in READABLE_VERSIONS:
        newer = " (written by a newer xjit; upgrade xjit)" if v > FORMAT_VERSION else ""
        raise ArchiveError(
            f"unsupported archive format version {v}; this xjit reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}{newer}"
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
            or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in t["shape"]
            )
        ):
            raise ArchiveError(f"{MANIFEST}: malformed or missing record for tensor {key!r}")
        if math.prod(t["shape"]) > _MAX_ELEMENTS:
            raise ArchiveError(
                f"{MANIFEST}: tensor {key!r} declares an impossible shape {t['shape']}"
            )
    extra = m.get("extra_files", {})
    if not isinstance(extra, dict) or not all(
        isinstance(n, str) and n and e == extra_entry_name(n) and e in m["entries"]
        for n, e in extra.items()
    ):
        raise ArchiveError(f"{MANIFEST}: malformed 'extra_files'")
    if set(extra.values()) != {n for n in m["entries"] if n.startswith(EXTRA_DIR)}:
        raise ArchiveError(f"{MANIFEST}: 'extra_files' and the extra entries disagree")
    return m


def _expected_sizes(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Upper bounds on entry sizes (so a hostile entry cannot make us inflate gigabytes)."""
    out: dict[str, int] = {}
    for t in manifest["tensors"].values():
        n = math.prod(t["shape"]) * np.dtype(t["dtype"]).itemsize  # exact: no int64 wrap
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
    return np.require(a, requirements="C")  # (ascontiguousarray makes a 0-d array 1-d)


def _parse_ir(text: bytes) -> ModuleOp:
    from xdsl.dialects.builtin import ModuleOp

    # lazy: the dialects and passes load only when a method is compiled, not with xjit.jit
    from xjit._irtext import IRTextError, parse_and_verify
    from xjit.dialects import make_context

    try:
        source = text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArchiveError(f"{IR_ENTRY} is not UTF-8 text ({e.reason})") from None
    try:
        module = parse_and_verify(make_context(), source, IR_ENTRY)
    except IRTextError as e:
        raise ArchiveError(f"{IR_ENTRY} does not {e.stage}: {e.location}: {e.message}") from None
    if not isinstance(module, ModuleOp):
        raise ArchiveError(f"{IR_ENTRY}: the top-level operation is not a builtin.module")
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


@dataclass
class ScriptGraph:
    """A loaded scripted method's generic graph: the fields of frontends.script.ScriptResult
    (what script_api._Scripted specialises), without importing the scripting frontend."""

    module: ModuleOp
    params: dict[str, Tensor]
    arg_names: list[str]
    defaults: dict[str, Any]
    output_spec: Any
    reads_training: bool = False  # from the method's `state`: checked at every call
    needs_arg_types: bool = False  # not archived: its placeholders stay as compiled
    attr_reads: tuple[tuple[str, str], ...] = ()  # from `state`: values checked at every call
    tuple_params: dict[str, Any] = field(default_factory=dict)  # not archived (none when loaded)
    flat_names: list[str] | None = None
    container_params: dict[str, str] = field(default_factory=dict)  # none (not saved)
    needs_int_values: bool = False  # not archived (such graphs are not saved)
    # not archived: a loaded graph has the defaults, and its run-time check raises for others
    per_value: tuple[str, ...] = ()
    deferred_by: str = ""  # not archived (a graph that has one is not saved)


def _method_slots(
    qname: str, m: ModuleOp, slot_keys: Mapping[str, str], arrays: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """Check the global slots of one method IR against their tensors; returns slot -> type."""
    from xdsl.dialects import func

    # lazy: the dialects and passes load only when a method is compiled, not with xjit.jit
    from xjit.dialects.torch import GlobalSlotGetOp, GlobalSlotOp
    from xjit.dialects.torch_types import ValueTensorType

    slots: dict[str, Any] = {}
    for op in m.ops:
        if isinstance(op, GlobalSlotOp):
            name = op.sym_name.data
            t = op.type
            key = slot_keys.get(name)
            if key is None or key not in arrays:
                raise ArchiveError(f"method {qname}: no tensor for global slot @{name}")
            if not isinstance(t, ValueTensorType) or t.sizes is None or t.element_dtype is None:
                raise ArchiveError(f"method {qname}: global slot @{name} has unsupported type {t}")
            a = arrays[key]
            want = [d for d in t.sizes]
            if list(a.shape) != want or a.dtype != t.element_dtype.np:
                raise ArchiveError(
                    f"tensor '{key}' is {a.dtype} {list(a.shape)} but the IR declares "
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
                raise ArchiveError(
                    f"method {qname}: reads @{ref} as {op.result.type}, declared {slots[ref]}"
                )
    return slots


def _slot_keys(qname: str, sig: Mapping[str, Any]) -> dict[str, str]:
    t = sig.get("tensors")
    if isinstance(t, list) and all(isinstance(k, str) for k in t):  # version 1: slot = key
        return {k: k for k in t}
    if isinstance(t, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in t.items()):
        return dict(t)
    raise ArchiveError(f"{MANIFEST}: malformed tensors of method {qname}")


def _checked_signature(
    qname: str, m: ModuleOp, sig: Any, script: bool
) -> tuple[Any, list[str], Any]:
    """The function of method IR `m`, its argument names and output structure, after checking the
    manifest's record agrees with the IR."""
    # lazy: the dialects and passes load only when a method is compiled, not with xjit.jit
    from xjit.dialects.torch_types import ValueTensorType

    fname = qname.rsplit(".", 1)[-1]
    if not isinstance(sig, dict) or not isinstance(sig.get("inputs"), list):
        raise ArchiveError(f"{MANIFEST}: malformed signature of method {qname}")
    fop = _func_of(m, fname)
    if fop is None or fop.is_declaration:
        raise ArchiveError(f"{IR_ENTRY}: method {qname} has no function @{fname}")
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
    if not all(isinstance(n, str) for n in arg_names) or len(set(arg_names)) != len(arg_names):
        raise ArchiveError(f"{MANIFEST}: malformed argument names of method {qname}")
    if not script and not all(isinstance(t, ValueTensorType) for t in ins):
        raise ArchiveError(f"method {qname}: only tensor arguments are supported")
    spec = _spec_from_py(sig.get("output_structure"))
    if _spec_leaves(spec) != len(outs):
        raise ArchiveError(
            f"{MANIFEST}: the output structure of method {qname} has {_spec_leaves(spec)} "
            f"tensors, the function returns {len(outs)}"
        )
    return fop, arg_names, spec


def _compile_method(
    qname: str,
    m: ModuleOp,
    sig: Any,
    arrays: Mapping[str, np.ndarray],
    tensor_objs: dict[str, Tensor],
) -> CompiledFunction:
    """A traced method: compiled now (a method that does not compile fails the load)."""
    keys = _slot_keys(qname, sig)
    slots = _method_slots(qname, m, keys, arrays)
    fop, arg_names, spec = _checked_signature(qname, m, sig, script=False)
    metas = [t.meta for t in fop.function_type.inputs.data]
    params = {name: tensor_objs[keys[name]] for name in slots}
    dynamic = sig.get("dynamic_shapes", False)
    if not isinstance(dynamic, bool):
        raise ArchiveError(f"{MANIFEST}: malformed dynamic_shapes of method {qname}")
    imported = _imported_fields(qname, sig, fop)
    traced = _trace_fields(qname, sig, fop)
    try:
        if traced is not None:  # guards, nested arguments, dict results: a TracedFunction
            cf = TracedFunction(m, params, metas, arg_names, traced.output_spec, fop.sym_name.data)
            traced.setup(cf, qname)
        elif imported is not None:  # an imported program: structured calls, symbolic dims checked
            in_spec, constraints = imported
            cf = ImportedFunction(
                m,
                params,
                metas,
                arg_names,
                spec,
                fop.sym_name.data,
                input_spec=in_spec,
                dim_constraints=constraints,
            )
        else:
            cf = CompiledFunction(m, params, metas, arg_names, spec, fop.sym_name.data)
    except ArchiveError:
        raise
    except Exception as e:
        raise ArchiveError(f"method {qname} cannot be compiled: {type(e).__name__}: {e}") from None
    if dynamic and hasattr(cf, "enable_dynamic_shapes"):  # as the traced original (api.py)
        cf.enable_dynamic_shapes()
    return cf


def _trace_fields(qname: str, sig: Any, fop: Any) -> Any:
    """A traced method's guards and argument structure (archive_trace.py), or None."""
    if "argument_structure" not in sig and "guards" not in sig:
        return None
    if "input_structure" in sig:
        raise ArchiveError(f"{MANIFEST}: method {qname} is both imported and traced")
    # lazy: guarded traces need the tracing frontend's Guard; other archives load without it
    from xjit.jit.archive_trace import trace_fields

    return trace_fields(qname, sig, fop)


def _imported_fields(qname: str, sig: Any, fop: Any) -> tuple[Any, tuple[Any, ...]] | None:
    """The input structure and symbolic-dim constraints of an imported program's method,
    checked against its IR (None for other methods): the structure is `(args, kwargs)` with one
    tensor leaf per argument, each constraint names existing dims of `?` size."""
    if "input_structure" not in sig and "dim_constraints" not in sig:
        return None
    what = f"input structure of method {qname}"
    spec = _spec_from_py(sig.get("input_structure"), what=what)
    ins = fop.function_type.inputs.data
    if (
        spec.kind != "tuple"
        or [c.kind for c in spec.children] != ["tuple", "dict"]
        or _spec_leaves(spec) != len(ins)
    ):
        raise ArchiveError(f"{MANIFEST}: the {what} disagrees with its IR")
    raw = sig.get("dim_constraints")
    if not isinstance(raw, list):
        raise ArchiveError(f"{MANIFEST}: malformed dim_constraints of method {qname}")
    shapes = [t.meta.shape for t in ins]
    ranks = [len(s) if s is not None else None for s in shapes]
    constraints = tuple(DimConstraint.from_py(d, qname, ranks) for d in raw)
    for c in constraints:
        if any(shapes[i][d] is not None for i, d in c.occurrences):  # type: ignore[index]
            raise ArchiveError(
                f"{MANIFEST}: dim_constraints of method {qname}: symbolic dim {c.symbol} "
                "names a dim of static size"
            )
    return spec, constraints


def _script_graph(
    qname: str,
    m: ModuleOp,
    sig: Any,
    arrays: Mapping[str, np.ndarray],
    tensor_objs: dict[str, Tensor],
) -> Any:
    """A scripted method's generic graph (a frontends.script.ScriptResult), checked: it is
    specialised and compiled per call signature, as before saving."""
    # lazy: the dialects and passes load only when a method is compiled, not with xjit.jit
    from xjit.dialects import make_context
    from xjit.passes.pipelines import run_passes

    keys = _slot_keys(qname, sig)
    slots = _method_slots(qname, m, keys, arrays)
    _, arg_names, spec = _checked_signature(qname, m, sig, script=True)
    raw = sig.get("defaults")
    if not isinstance(raw, dict) or not set(raw) <= set(arg_names):
        raise ArchiveError(f"{MANIFEST}: malformed defaults of method {qname}")
    defaults = {n: _decode_default(f"argument '{n}' of method {qname}", d) for n, d in raw.items()}
    try:  # what every specialisation starts with must work: calls resolve, no recursion
        run_passes(make_context(), m.clone(), ("inline",))
    except Exception as e:
        raise ArchiveError(f"method {qname} cannot be compiled: {type(e).__name__}: {e}") from None
    params = {name: tensor_objs[keys[name]] for name in slots}
    g = ScriptGraph(m, params, arg_names, defaults, spec)
    state = sig.get("state")
    if state is not None:
        attrs = state.get("attributes") if isinstance(state, dict) else None
        if not isinstance(attrs, list) or not all(
            isinstance(a, list) and len(a) == 3 and isinstance(a[0], str) and isinstance(a[1], str)
            for a in attrs
        ):
            raise ArchiveError(f"{MANIFEST}: malformed state of method {qname}")
        g.reads_training = "training" in state
        g.attr_reads = tuple((p, n) for p, n, _ in attrs)
    return g


def _decode_state_value(where: str, v: Any) -> Any:
    """archive_write._encode_state_value, reversed."""
    scalars = {"bool": bool, "int": int, "float": float, "str": str}
    if isinstance(v, list) and v and v[0] in ("list", "tuple"):
        items = [_decode_state_value(where, x) for x in v[1:]]
        return items if v[0] == "list" else tuple(items)
    if isinstance(v, list) and v and v[0] == "dict":
        pairs = [x for x in v[1:] if isinstance(x, list) and len(x) == 2]
        if len(pairs) != len(v) - 1:
            raise ArchiveError(f"{MANIFEST}: malformed dict value of attribute {where}")
        return {_decode_state_value(where, k): _decode_state_value(where, x) for k, x in pairs}
    if isinstance(v, list) and len(v) == 2 and v[0] == "NoneType" and v[1] is None:
        return None
    if isinstance(v, list) and len(v) == 2 and type(v[1]) is scalars.get(v[0]):
        return v[1]
    if isinstance(v, list) and len(v) == 2 and v[0] == "float" and type(v[1]) is int:
        return float(v[1])
    raise ArchiveError(f"{MANIFEST}: malformed value of attribute {where}")


def _restore_state(mod: Module, qname: str, state: Any, check_flags: bool = True) -> None:
    """Give a loaded scripted module the plain attribute values its graph was compiled for (so
    `m.k` reads as before saving) and check the saved training flags against the hierarchy."""
    for path, name, raw in state["attributes"]:
        where = f"{path}.{name}" if path else name
        m = mod
        for part in path.split(".") if path else []:
            m = m._modules.get(part)
            if m is None:
                raise ArchiveError(f"{MANIFEST}: state of {qname} names no module {path!r}")
        value = _decode_state_value(where, raw)
        if (
            not check_flags
            and name in m.__dict__
            and _hashable(m.__dict__[name]) == _hashable(value)
        ):
            continue  # (another state's graph read it too)
        if not _attr_name_ok(name) or name in m.__dict__ or hasattr(type(m), name):
            raise ArchiveError(f"{MANIFEST}: state of {qname}: bad attribute name {where!r}")
        object.__setattr__(m, name, value)
    flags = state.get("training")
    if check_flags and flags is not None and flags != [bool(m.training) for m in mod.modules()]:
        raise ArchiveError(
            f"{MANIFEST}: the training flags in the state of {qname} disagree with the hierarchy"
        )


def _script_ir_names(qname: str, sig: Any, top: bool) -> list[str]:
    """The IR names a scripted method's record refers to (itself, its variants, the graphs for
    its other training states and theirs), its records checked for shape."""
    names = [qname] if top else []
    vs = sig.get("variants", [])
    if not isinstance(vs, list) or not all(
        isinstance(v, dict)
        and isinstance(v.get("ir"), str)
        and isinstance(v.get("kinds"), dict)
        and v["kinds"]
        and all(isinstance(k, str) and isinstance(t, str) for k, t in v["kinds"].items())
        for v in vs
    ):
        raise ArchiveError(f"{MANIFEST}: malformed variants of method {qname}")
    names += [v["ir"] for v in vs]
    states = sig.get("states", [])
    if not isinstance(states, list) or not all(
        isinstance(a, dict) and isinstance(a.get("ir"), str) and isinstance(a.get("state"), dict)
        for a in states
    ):
        raise ArchiveError(f"{MANIFEST}: malformed states of method {qname}")
    if states and not top:
        raise ArchiveError(f"{MANIFEST}: nested states of method {qname}")
    for a in states:
        if a.get("states"):
            raise ArchiveError(f"{MANIFEST}: nested states of method {qname}")
        names += [a["ir"], *_script_ir_names(qname, a, top=False)]
    return names


def _script_method(
    qname: str,
    ir_name: str,
    sig: Any,
    method_ir: dict[str, Any],
    arrays: Mapping[str, np.ndarray],
    tensor_objs: dict[str, Tensor],
) -> tuple[Any, dict[Any, Any], list[Any]]:
    """A scripted method's generic graph, its variants by argument kinds, and the same for each
    of its other training states (`states`)."""
    generic = _script_graph(qname, method_ir[ir_name], sig, arrays, tensor_objs)
    variants = {}
    for v in sig.get("variants", []):
        vkinds = v["kinds"]
        g = _script_graph(qname, method_ir[v["ir"]], {**v, "kind": "script"}, arrays, tensor_objs)
        if (
            g.arg_names != generic.arg_names
            or not set(vkinds) <= set(g.arg_names)
            or any(
                str(t) != vkinds[n]
                for n, t in zip(
                    g.arg_names,
                    _func_of(g.module, qname.rsplit(".", 1)[-1]).function_type.inputs.data,
                )
                if n in vkinds
            )
        ):
            raise ArchiveError(f"{MANIFEST}: variant {v['ir']} disagrees with its IR")
        variants[tuple(sorted(vkinds.items()))] = g
    others = []
    for a in sig.get("states", []):
        alt = _script_method(
            qname, a["ir"], {**a, "kind": "script"}, method_ir, arrays, tensor_objs
        )
        g = alt[0]
        if g.arg_names != generic.arg_names or not g.reads_training or not generic.reads_training:
            raise ArchiveError(f"{MANIFEST}: state graph {a['ir']} disagrees with {qname}")
        others.append(alt)
    return generic, variants, others


def _state_key_of(qname: str, state: Any, g: Any) -> tuple[Any, ...]:
    """script_api._state_key of a module in the saved `state` (for graph `g`)."""
    flags = state.get("training") if isinstance(state, dict) else None
    if not isinstance(flags, list) or not all(isinstance(f, bool) for f in flags):
        raise ArchiveError(f"{MANIFEST}: malformed state of method {qname}")
    key: list[Any] = [tuple(flags)]
    for path, name, raw in state["attributes"]:
        where = f"{path}.{name}" if path else name
        key.append(_hashable(_decode_state_value(where, raw)))
    return tuple(key)


def load(path: Any, _extra_files: dict[str, Any] | None = None) -> Any:
    """Load an `.xjit` archive written by `save` from a file name or a readable binary file
    object; raises `ArchiveError` if anything is wrong. As torch.jit.load, each name of
    `_extra_files` gets the content saved under it (bytes; b"" if there is none)."""
    try:
        ar = _read_archive(path)
        loaded = _load(ar)
    except ArchiveError:
        raise
    except RecursionError:
        raise ArchiveError("archive content is nested too deeply") from None
    except Exception as e:  # a check we did not foresee: still an ArchiveError, never partial
        raise ArchiveError(f"cannot load archive: {type(e).__name__}: {e}") from e
    if _extra_files is not None:
        saved = ar.manifest.get("extra_files", {})
        for name in list(_extra_files):
            entry = saved.get(name) if isinstance(name, str) else None
            _extra_files[name] = ar.entries[entry] if entry is not None else b""
    return loaded


def _load(ar: _Archive) -> Any:
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

    kinds = {prefix + m: node.kind for prefix, node in _iter_nodes(root) for m in node.methods}
    wanted = set(kinds)
    if set(man["methods"]) != wanted:
        raise ArchiveError(
            f"the methods of the hierarchy ({sorted(wanted)}) and the manifest "
            f"({sorted(man['methods'])}) disagree"
        )
    script_irs: dict[str, list[str]] = {}
    for qname in sorted(wanted):
        sig = man["methods"][qname]
        script = isinstance(sig, dict) and sig.get("kind") == "script"
        if (
            not isinstance(sig, dict)
            or sig.get("kind", "trace") not in ("trace", "script")
            or (script != (kinds[qname] == "script" or kinds[qname] == "function" and script))
        ):
            raise ArchiveError(f"{MANIFEST}: malformed or wrong kind of method {qname}")
        script_irs[qname] = _script_ir_names(qname, sig, top=True)[1:] if script else []
    all_irs = wanted | {ir for irs in script_irs.values() for ir in irs}
    if set(method_ir) != all_irs or len(all_irs) != len(wanted) + sum(
        map(len, script_irs.values())
    ):
        raise ArchiveError(
            f"the methods of the manifest ({sorted(all_irs)}) and {IR_ENTRY} "
            f"({sorted(method_ir)}) disagree"
        )
    for m in method_ir.values():
        m.detach()
        m.properties.pop("sym_name", None)  # prints as the module it was saved from

    compiled: dict[str, Any] = {}
    for qname in sorted(wanted):
        sig = man["methods"][qname]
        if sig.get("kind") != "script":
            # The root's traced methods compile now (a failure fails the load); a submodule's on
            # first use (an ArchiveError then), as a scripted method compiles per call signature:
            # `m(x)` of the tutorial's WrapRNN never runs its cell's own traced graph.
            compile_now = functools.partial(
                _compile_method, qname, method_ir[qname], sig, arrays, tensor_objs
            )
            if "." in qname:
                _slot_keys(qname, sig)  # the cheap checks still fail the load
                _method_slots(qname, method_ir[qname], _slot_keys(qname, sig), arrays)
                fop, _, _ = _checked_signature(qname, method_ir[qname], sig, script=False)
                _imported_fields(qname, sig, fop)
                _trace_fields(qname, sig, fop)
                compiled[qname] = compile_now
            else:
                compiled[qname] = compile_now()
            continue
        compiled[qname] = _script_method(qname, qname, sig, method_ir, arrays, tensor_objs)

    def scripted(obj: Any, qname: str) -> Any:
        generic, variants, others = compiled[qname]
        state = man["methods"][qname].get("state")
        if state is not None:
            if not isinstance(obj, Module):
                raise ArchiveError(f"{MANIFEST}: function {qname} cannot have a module state")
            _restore_state(obj, qname, state)
        states = []
        for alt_sig, alt in zip(man["methods"][qname].get("states", []), others, strict=True):
            _restore_state(obj, qname, alt_sig["state"], check_flags=False)
            states.append((_state_key_of(qname, alt_sig["state"], alt[0]), *alt[:2]))
        _init_loaded_script(obj, qname.rsplit(".", 1)[-1], generic, variants, states)
        return obj

    if root.kind == "function":
        (qname,) = root.methods
        if isinstance(compiled[qname], tuple):
            return scripted(LoadedScriptFunction(qname), qname)
        return compiled[qname]

    def build(node: Node, prefix: str) -> LoadedModule:
        mod = LoadedScriptModule(node) if node.kind == "script" else LoadedModule(node)
        for n, key in node.parameters:
            mod.register_parameter(n, tensor_objs[key] if key is not None else None)  # type: ignore[arg-type]
        for n, key in node.buffers:
            mod.register_buffer(n, tensor_objs[key] if key is not None else None)
        for n, c in node.children:
            mod.add_module(n, build(c, f"{prefix}{n}.") if c is not None else None)
        if node.kind == "script":
            scripted(mod, prefix + "forward")
        else:
            mod.__dict__["_methods"].update({m: compiled[prefix + m] for m in node.methods})
        return mod

    return build(root, "")
