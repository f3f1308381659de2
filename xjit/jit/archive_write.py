"""Saving an `.xjit` archive: describe a module (hierarchy, compiled or scripted methods,
named tensors), build its entries, and write them as a deterministic zip, atomically (a failed
save leaves no file and keeps an existing one)."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xjit._tensor import Tensor
from xjit.errors import FrontendError
from xjit.frontends.signature import OutputSpec
from xjit.jit.api import TracedFunction, set_archive_writer
from xjit.jit.archive_format import (
    _DTYPES,
    _VARIANT_SEP,
    FORMAT,
    FORMAT_VERSION,
    HIERARCHY_ATTR,
    IR_ENTRY,
    MANIFEST,
    ArchiveError,
    Node,
    _attr_name_ok,
    _encode_default,
    _func_of,
    _sha256,
    _spec_to_py,
    _to_attr,
    _type_sig,
    _xjit_version,
    entry_name,
    extra_entry_name,
)
from xjit.jit.compiled import CompiledFunction, resolve_params
from xjit.jit.script_api import ScriptModule, _Scripted, _ScriptMethod
from xjit.nn.module import Module
from xjit.ops.types import ShapeError

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp


# Fixed zip metadata: the same module always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_MAX_VARIANT_ARGS = 2  # Optional arguments whose variants are all saved (4 kinds each)


def _current(s: Any, params: dict[str, Any]) -> dict[str, Any]:
    """A scripted graph's parameters as the module holds them now (its graph keeps the ones
    it was scripted with: `m.fc = Linear(...)` after scripting rebinds them)."""
    owner_of = getattr(type(s), "_param_owner", None)  # (script_api._Scripted's)
    owner = owner_of(s) if owner_of is not None else None
    return dict(params) if owner is None else resolve_params(owner, params, s.__dict__["_name"])


@dataclass
class MethodSpec:
    """What the archive needs of one compiled method: a `CompiledFunction` (kind "trace": a fixed
    signature) or the generic graph of a scripted module/function (kind "script": specialised per
    call signature after loading, as before saving; `defaults` are its default arguments and
    `variants` its graphs for other None/non-None optional arguments, by `{arg: type}`)."""

    torch_ir: ModuleOp
    params: dict[str, Tensor]
    arg_names: list[str]
    output_spec: Any
    kind: str = "trace"
    dynamic_shapes: bool = False  # trace: other shapes compile variants (compiled.py)
    defaults: dict[str, Any] = field(default_factory=dict)
    variants: list[tuple[dict[str, str], MethodSpec]] = field(default_factory=list)
    # An imported program's forward (archive_imported.ImportedFunction): its (args, kwargs)
    # structure and the symbolic dims it checks; None/() for every other method.
    input_spec: Any = None
    dim_constraints: tuple[Any, ...] = ()
    # A scripted module's forward: the module state its graph was compiled for (script_api
    # `_state_key`: training flags, plain attribute values), checked at every call after loading.
    state: dict[str, Any] | None = None
    # A traced method with guards or nested arguments/dict results (archive_trace.py): its
    # argument structures and guards (None for every other method).
    trace: dict[str, Any] | None = None
    # A scripted module's forward that reads `training`: its graphs for the other states
    # `.train()`/`.eval()` give (each with its own `state` and variants).
    alternatives: list[MethodSpec] = field(default_factory=list)

    def irs(self, qname: str) -> list[tuple[str, MethodSpec]]:
        """Every method IR this method saves, by IR name: the graph, its variants (`forward#1`),
        the graphs for other training states (`forward#t1`) and their variants (`forward#t1#1`)."""
        out: list[tuple[str, MethodSpec]] = [(qname, self)]
        out += [(f"{qname}{_VARIANT_SEP}{i}", v) for i, (_, v) in enumerate(self.variants, 1)]
        for j, alt in enumerate(self.alternatives, 1):
            out += alt.irs(f"{qname}{_VARIANT_SEP}t{j}")
        return out

    @staticmethod
    def of_compiled(cf: CompiledFunction) -> MethodSpec:
        output_spec, trace = cf.output_spec, None
        if isinstance(cf, TracedFunction) and (
            cf.guards or not isinstance(output_spec, OutputSpec)
        ):
            # lazy: the trace record needs the tracing frontend, loaded already by any trace
            from xjit.jit import archive_trace

            output_spec = archive_trace.plain_output_spec(output_spec)
            trace = archive_trace.trace_record(cf)
        return MethodSpec(
            cf.torch_ir,
            cf.bound_params(),  # (a rebound parameter: the current one)
            list(cf.arg_names),
            output_spec,
            dynamic_shapes=getattr(cf, "_dispatch", None) is not None,
            input_spec=getattr(cf, "input_spec", None),
            dim_constraints=tuple(getattr(cf, "dim_constraints", ())),
            trace=trace,
        )

    @staticmethod
    def of_scripted(s: Any, alternatives: bool = True) -> MethodSpec:
        """What a scripted module/function's calls are specialised from (script_api._Scripted):
        its generic graph, the graphs for other kinds of optional arguments and, if it reads
        `training`, for the other states `.train()`/`.eval()` give."""
        g = s._g()  # the graph for the module's current training flags and attribute values
        if g.module is None:  # compiled per call signature only (nn.LSTM: ranks, split sizes)
            why = g.deferred_by
            raise ArchiveError(
                f"cannot save {s.__dict__['_name']}: it has no generic graph (its code is "
                "compiled per call signature, e.g. for the inputs' ranks and sizes); trace it "
                "(xjit.jit.trace) and save the trace" + (f"\nwhy: {why}" if why else "")
            )
        if getattr(g, "tuple_params", None):
            raise ArchiveError(
                f"cannot save {s.__dict__['_name']}: a scripted function with Tuple[...] "
                "parameters is not supported (the archive has one argument per parameter)"
            )
        spec = MethodSpec(
            g.module,
            _current(s, g.params),
            list(g.arg_names),
            g.output_spec,
            kind="script",
            defaults=dict(g.defaults),
            state=_module_state(s, g) if isinstance(s, Module) else None,
        )
        for kinds, v in _kinds_variants(s):
            spec.variants.append(
                (
                    kinds,
                    MethodSpec(
                        v.module,
                        _current(s, v.params),
                        list(v.arg_names),
                        v.output_spec,
                        kind="script",
                        defaults=dict(v.defaults),
                    ),
                )
            )
        if alternatives and spec.state is not None and "training" in spec.state:
            spec.alternatives = _training_alternatives(s)
        return spec


def _training_alternatives(s: Any) -> list[MethodSpec]:
    """The graphs of scripted module `s` with every module in training mode and in eval mode
    (those that differ from its current state): TorchScript reads `training` at run time, so a
    loaded module must run after `.train()`/`.eval()`. The flags are restored afterwards."""
    mods = list(s.modules())
    flags = [m.training for m in mods]
    out = []
    try:
        for mode in (True, False):
            if all(f == mode for f in flags):
                continue
            s.train(mode)
            try:
                out.append(MethodSpec.of_scripted(s, alternatives=False))
            except (ArchiveError, FrontendError, ShapeError, TypeError, ValueError):
                continue  # that state does not script: calls in it fail after loading too
    finally:
        for m, f in zip(mods, flags, strict=True):
            m.training = f
    return out


_STATE_TYPES = (bool, int, float, str, type(None))


def _encode_state_value(where: str, v: Any) -> Any:
    """A plain attribute value as JSON: `["int", 5]`, `["tuple", ["int", 1], ["str", "a"]]`."""
    if isinstance(v, (list, tuple)):
        return [type(v).__name__, *(_encode_state_value(where, x) for x in v)]
    if isinstance(v, dict) and all(type(k) in (str, int) for k in v):  # Dict[str|int, T]
        items = v.items()
        return [
            "dict",
            *([_encode_state_value(where, k), _encode_state_value(where, x)] for k, x in items),
        ]
    if type(v) not in _STATE_TYPES:
        raise ArchiveError(
            f"cannot save: the scripted graph depends on attribute {where} of type "
            f"{type(v).__name__} (only bool/int/float/str/None and lists/tuples/dicts of them)"
        )
    return [type(v).__name__, v]


def _module_state(s: Module, g: Any) -> dict[str, Any] | None:
    """What a scripted module's graph `g` was compiled for besides its arguments (script_api
    `_state_key`): the training flags of every module if it reads `training`, and the values of
    the plain attributes it read. None if it depends on neither."""
    reads_training = bool(getattr(g, "reads_training", False))
    attrs = []
    for path, name in getattr(g, "attr_reads", ()):
        m = s
        for part in path.split(".") if path else []:
            m = m._modules[part]
        where = f"{path}.{name}" if path else name
        attrs.append([path, name, _encode_state_value(where, getattr(m, name, None))])
    if not reads_training and not attrs:
        return None
    state: dict[str, Any] = {"attributes": attrs}
    if reads_training:
        state["training"] = [bool(m.training) for m in s.modules()]
    return state


def _kinds_variants(s: Any) -> list[tuple[dict[str, str], Any]]:
    """The graphs a scripted callable compiles when an argument's None-ness differs from its
    generic graph: those already compiled, and for up to `_MAX_VARIANT_ARGS` arguments that are
    None in the generic graph every kind they can be called with (the ones that compile)."""
    # lazy: the torch dialect loads only when a graph is written, not with xjit.jit
    from xjit.dialects import torch as td

    g = s.__dict__["_generic"]
    fop = _func_of(g.module, s.__dict__["_entry"])
    found: dict[tuple[tuple[str, str], ...], Any] = dict(s.__dict__.get("_by_kinds", {}))
    none_args = [
        n
        for n, a in zip(g.arg_names, fop.body.block.args, strict=True)
        if isinstance(a.type, td.NoneType)
    ]
    if 0 < len(none_args) <= _MAX_VARIANT_ARGS:
        import itertools

        options = [
            None,
            td.ValueTensorType.of(None, None),
            td.IntType(),
            td.FloatType(),
            td.BoolType(),
        ]
        for combo in itertools.product(options, repeat=len(none_args)):
            kinds = {n: t for n, t in zip(none_args, combo, strict=True) if t is not None}
            key = tuple(sorted((k, str(v)) for k, v in kinds.items()))
            if not kinds or key in found:
                continue
            try:
                found[key] = s.__dict__["_compile_ir"](kinds)
            except Exception:  # a kind the function does not accept: calls with it fail anyway
                continue
    return [(dict(k), found[k]) for k in sorted(found)]


def scripted_methods(module: Any) -> dict[str, Any]:
    """The scripted methods (script_api._Scripted objects) of one module, by method name: a
    `ScriptModule`'s forward, or what a module type returns from `_scripted_methods()`."""
    hook = getattr(type(module), "_scripted_methods", None)
    if hook is not None:
        return dict(hook(module))
    return {"forward": module} if isinstance(module, ScriptModule) else {}


def _refuse_exported(module: Any) -> None:
    """The archive keeps a scripted module's forward only. Its other methods are absent after
    loading (calling one raises AttributeError), except where nn.Module has a method of that
    name (`double`, `float`, `half`, `train`...): a loaded `m.double()` would silently run
    nn.Module's, so such a module is refused by name."""
    if isinstance(module, ScriptModule):
        shadowed = sorted(
            n
            for n, v in module.__dict__.items()
            if isinstance(v, _ScriptMethod) and hasattr(Module, n)
        )
        if shadowed:
            raise ArchiveError(
                f"cannot save: the scripted module's methods {shadowed} (an archive holds a "
                "scripted module's forward only, and after loading these names would be "
                "nn.Module's methods)"
            )


def compiled_methods(module: Module) -> dict[str, CompiledFunction]:
    """The compiled methods of one module (not of its children), by method name.

    A module type opts in with `_compiled_methods()`; a module whose `forward` is a
    `CompiledFunction` (e.g. `TracedModule`) needs nothing more."""
    hook = getattr(type(module), "_compiled_methods", None)
    if hook is not None:
        return dict(hook(module))
    fwd = getattr(type(module), "forward", None)
    if isinstance(fwd, property):
        value = module.forward
        if isinstance(value, CompiledFunction):
            return {"forward": value}
    return {}


def _describe(
    module: Any,
) -> tuple[Node, dict[str, Tensor], dict[str, MethodSpec], dict[str, dict[str, str]]]:
    """The hierarchy, the named tensors, the compiled methods of `module` (a Module, or a traced
    or scripted function) and, per method IR (`forward`, `forward#1`), its slot -> tensor key."""
    keys: dict[int, str] = {}
    tensors: dict[str, Tensor] = {}
    methods: dict[str, MethodSpec] = {}

    if isinstance(module, CompiledFunction) or (
        isinstance(module, _Scripted) and not isinstance(module, Module)
    ):  # a traced or scripted function
        name = module.name
        if not _attr_name_ok(name):
            raise ArchiveError(f"cannot save: function name {name!r}")
        spec = (
            MethodSpec.of_compiled(module)
            if isinstance(module, CompiledFunction)
            else MethodSpec.of_scripted(module)
        )
        methods[name] = spec
        root = Node(type=name, kind="function", methods=[name])
    elif isinstance(module, Module):
        # Keys as `named_parameters()`/`named_buffers()` give them, so they match the IR's slots.
        for name, p in module.named_parameters():
            keys.setdefault(id(p), name)
        for name, b in module.named_buffers():
            keys.setdefault(id(b), name)

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
            own = {k: MethodSpec.of_compiled(cf) for k, cf in compiled_methods(m).items()}
            scripted = scripted_methods(m)
            if set(own) & set(scripted):
                raise ArchiveError(
                    f"cannot save: {prefix or '<root>'} has a method that is both "
                    "traced and scripted"
                )
            own.update({k: MethodSpec.of_scripted(sm) for k, sm in scripted.items()})
            for mname in own:
                if not _attr_name_ok(mname):
                    raise ArchiveError(f"cannot save: method name {mname!r}")
                methods[prefix + mname] = own[mname]
            is_script = bool(scripted)
            if is_script and list(own) != ["forward"]:
                raise ArchiveError(
                    f"cannot save: scripted module {prefix or '<root>'} has "
                    f"methods {sorted(own)}; only forward is supported"
                )
            return Node(
                type=m.__dict__.get("_original_name") or m._get_name()
                if is_script
                else m._get_name(),
                extra_repr=m.extra_repr(),
                kind="script" if is_script else "module",
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
    else:
        raise TypeError(
            f"save expects a compiled xjit module or function, got {type(module).__name__}"
        )
    # The tensor each global slot of each method IR binds: a tensor of the hierarchy, by
    # identity (a submodule's method names them relative to itself), else stored under the
    # slot's name.
    by_array = {id(t._a): k for k, t in tensors.items()}
    slot_keys: dict[str, dict[str, str]] = {}
    for qname, spec in methods.items():
        for ir_name, s in spec.irs(qname):
            mapping = slot_keys[ir_name] = {}
            for slot_name, t in sorted(s.params.items()):
                key = keys.get(id(t)) or by_array.get(id(t._a))
                if key is None:
                    held = tensors.get(slot_name)
                    if held is not None and held is not t and held._a is not t._a:
                        raise ArchiveError(
                            f"cannot save: method {qname} binds a tensor '{slot_name}' that is "
                            "not the module's tensor of that name"
                        )
                    key = slot_name
                    tensors[key] = t
                    keys[id(t)] = key
                mapping[slot_name] = key
    return root, tensors, methods, slot_keys


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # (np.require, not np.ascontiguousarray: that makes a 0-d tensor, e.g. a BatchNorm's
    # num_batches_tracked, 1-d, and the load refuses it against the manifest's shape)
    np.save(buf, np.require(a, requirements="C"), allow_pickle=False)
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


def _method_record(
    qname: str, ir_name: str, spec: MethodSpec, m: ModuleOp, slot_keys: dict[str, str]
) -> dict[str, Any]:
    """The manifest's record of one method IR (`m`, already renamed `ir_name`)."""
    # lazy: the torch dialect loads only when a graph is written, not with xjit.jit
    from xjit.dialects.torch import GlobalSlotOp

    fop = _func_of(m, qname.rsplit(".", 1)[-1])
    if fop is None:
        raise ArchiveError(f"cannot save: the IR of method {qname} has no function of that name")
    slots = {op.sym_name.data for op in m.ops if isinstance(op, GlobalSlotOp)}
    missing = sorted(slots - set(slot_keys))
    if missing:
        raise ArchiveError(f"cannot save: no tensor for global slot @{missing[0]}")
    ins = fop.function_type.inputs.data
    outs = fop.function_type.outputs.data
    if len(spec.arg_names) != len(ins):
        raise ArchiveError(
            f"cannot save: method {qname} has {len(ins)} arguments but "
            f"{len(spec.arg_names)} argument names"
        )
    rec: dict[str, Any] = {
        "inputs": [{"name": n, **_type_sig(t)} for n, t in zip(spec.arg_names, ins)],
        "outputs": [_type_sig(t) for t in outs],
        "output_structure": _spec_to_py(spec.output_spec),
        "tensors": {s: slot_keys[s] for s in sorted(slots)},
    }
    if spec.kind == "trace":
        rec["dynamic_shapes"] = spec.dynamic_shapes
    if spec.trace is not None:
        rec.update(spec.trace)
    if spec.input_spec is not None:
        rec["input_structure"] = _spec_to_py(spec.input_spec)
        rec["dim_constraints"] = [c.to_py() for c in spec.dim_constraints]
    if spec.kind == "script":
        rec["kind"] = "script"
        rec["defaults"] = {n: _encode_default(n, v) for n, v in sorted(spec.defaults.items())}
        if spec.state is not None:
            rec["state"] = spec.state
    return rec


def _extra_entries(extra_files: Mapping[str, Any] | None) -> dict[str, bytes]:
    """`_extra_files` ({name: str or bytes}, as torch.jit.save takes them) as entries."""
    out: dict[str, bytes] = {}
    for name, content in (extra_files or {}).items():
        if not isinstance(name, str) or not name:
            raise ArchiveError(f"cannot save: extra file name {name!r} (a non-empty str)")
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ArchiveError(
                f"cannot save: extra file {name!r} is a {type(content).__name__} "
                "(str or bytes expected)"
            )
        out[extra_entry_name(name)] = bytes(content)
    return out


def _records(
    qname: str,
    ir_name: str,
    s: MethodSpec,
    slot_keys: dict[str, dict[str, str]],
    inner: list[Any],
    top: bool,
) -> dict[str, Any]:
    """The manifest record of method IR `ir_name` (its variants' and other states' nested), the
    IR appended to `inner` under that name."""
    # lazy: xDSL loads only when a graph is written
    from xdsl.dialects.builtin import StringAttr

    m = s.torch_ir.clone()
    rec = _method_record(qname, ir_name, s, m, slot_keys[ir_name])
    m.properties["sym_name"] = StringAttr(ir_name)
    inner.append(m)
    if s.kind == "script" and top:
        rec["variants"] = [
            {"ir": f"{ir_name}{_VARIANT_SEP}{i}", "kinds": dict(sorted(kinds.items()))}
            | _records(qname, f"{ir_name}{_VARIANT_SEP}{i}", v, slot_keys, inner, top=False)
            for i, (kinds, v) in enumerate(s.variants, 1)
        ]
    if s.alternatives:
        rec["states"] = [
            {"ir": f"{ir_name}{_VARIANT_SEP}t{j}"}
            | _records(qname, f"{ir_name}{_VARIANT_SEP}t{j}", a, slot_keys, inner, top=True)
            for j, a in enumerate(s.alternatives, 1)
        ]
    return rec


def archive_entries(module: Any, extra_files: Mapping[str, Any] | None = None) -> dict[str, bytes]:
    """Every entry of the archive of `module`, by name (manifest included); `extra_files` are
    stored as they are (`extra/<name>`)."""
    from xdsl.dialects.builtin import ModuleOp

    if (
        not isinstance(module, Module)
        and not hasattr(module, "torch_ir")
        and not hasattr(module, "graph_source")
    ):
        raise TypeError(f"save expects a compiled xjit module, got {type(module).__name__}")
    root, tensors, methods, slot_keys = _describe(module)
    if not methods:
        raise ArchiveError(
            f"cannot save {module._get_name()}: it has no compiled methods "
            "(trace or script it first)"
        )
    inner = []
    sigs: dict[str, Any] = {}
    for qname, spec in methods.items():
        for ir_name, _ in spec.irs(qname):
            if ir_name != qname and ir_name in methods:
                raise ArchiveError(f"cannot save: method {ir_name} clashes with a variant name")

        sigs[qname] = _records(qname, qname, spec, slot_keys, inner, top=True)
    outer = ModuleOp(inner, attributes={HIERARCHY_ATTR: _to_attr(root.to_py())})
    entries: dict[str, bytes] = {IR_ENTRY: _print_ir(outer).encode("utf-8")}
    tensor_info: dict[str, Any] = {}
    for key in sorted(tensors):
        a = tensors[key]._a  # read only: saving does not expose the memory
        if a.dtype.name not in _DTYPES:
            raise ArchiveError(f"cannot save tensor '{key}' of dtype {a.dtype}")
        ename = entry_name(key)
        entries[ename] = _npy_bytes(a)
        tensor_info[key] = {"entry": ename, "shape": list(a.shape), "dtype": a.dtype.name}
    extras = _extra_entries(extra_files)
    entries.update(extras)
    manifest = {
        "format": FORMAT,
        # Checks an older reader would skip silently need a reader that knows them.
        "format_version": FORMAT_VERSION if extras else _format_version(sigs),
        "xjit_version": _xjit_version(),
        "ir": IR_ENTRY,
        "methods": sigs,
        "tensors": tensor_info,
        "entries": {n: {"sha256": _sha256(b), "size": len(b)} for n, b in sorted(entries.items())},
    }
    if extras:
        manifest["extra_files"] = {n: extra_entry_name(n) for n in sorted(extra_files or {})}
    entries[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    return entries


def _format_version(sigs: Mapping[str, Any]) -> int:
    """The oldest version that holds these methods: a reader that would skip a check silently
    must refuse the archive instead."""
    if any(k in rec for rec in sigs.values() for k in ("guards", "argument_structure", "states")):
        return 5  # trace guards, nested arguments
    if any("state" in rec for rec in sigs.values()):
        return 4  # scripted state checks
    if any("input_structure" in rec for rec in sigs.values()):
        return 3
    return 2


def _zip_bytes(entries: Mapping[str, bytes], f: Any) -> None:
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


def write_zip(entries: Mapping[str, bytes], path: Any) -> None:
    """Write `entries` as a deterministic zip at `path`, atomically: a temporary file in the
    same directory, fsync'd, then renamed over `path`. On any failure `path` is untouched.
    A file-like `path` (`io.BytesIO`, an open file) gets the whole zip in one `write`."""
    if hasattr(path, "write"):
        buf = io.BytesIO()
        _zip_bytes(entries, buf)
        path.write(buf.getvalue())
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
        )
    except OSError as e:
        raise _target_error(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            _zip_bytes(entries, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):  # a full disk, a directory in the way, ...
            raise _target_error(e, path) from None
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


def _target_error(e: OSError, path: str) -> OSError:
    """`e` (about the temporary file the archive is written to first) about `path`: the same
    OSError subclass and errno, naming the file the user asked for."""
    err = type(e)(e.errno, e.strerror, path)
    return err if e.errno is not None else OSError(f"cannot write '{path}': {e}")


def save(module: Module, path: Any, _extra_files: Mapping[str, Any] | None = None) -> None:
    """Save a compiled module (traced or scripted) to `path` (a file name or a writable binary
    file object such as `io.BytesIO`) as an `.xjit` archive; `_extra_files` ({name: str or
    bytes}) are stored with it, as by torch.jit.save."""
    _refuse_exported(module)
    write_zip(archive_entries(module, _extra_files), path)


set_archive_writer(save)
