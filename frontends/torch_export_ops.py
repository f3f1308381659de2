"""The FX graph → torch dialect mapping of frontends/torch_export.py.

Every core ATen op either is an op of xjit's registry under the same schema (emitted by name,
its arguments bound by their schema names: `aten.addmm.default` → `torch.aten.addmm`), or has
an exact rewrite into registry ops in `_SPECIAL` below. Nothing here lowers anything: the
registry's lowering is the one `import xjit as torch` models use.

Before emitting anything the whole graph is checked, so one error lists every op that cannot be
imported, with its count and the model source lines (`UnsupportedOpsError`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.builder import InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region, SSAValue

from xjit.dialects import torch as td
from xjit.frontends.builder import TorchBuilder, vtensor_type
from xjit.frontends.torch_export import (
    ImportResult,
    TorchImportError,
    loc_attr,
    source_line,
    tree_to_spec,
)
from xjit.ops import conv_ops
from xjit.ops import types as T
from xjit.ops.registry import REGISTRY, UNKNOWN, OpDef, ensure_loaded


class UnsupportedOpsError(TorchImportError):
    """The program uses ATen ops (or op variants) xjit cannot import yet: all of them, listed."""


def _torch_dtypes() -> dict[Any, T.DType]:
    import torch

    return {
        torch.float32: T.float32,
        torch.float64: T.float64,
        torch.int64: T.int64,
        torch.int32: T.int32,
        torch.bool: T.bool_,
    }


# Arguments torch's schemas carry that mean nothing for values on one CPU device.
_IGNORED_ARGS = {"layout", "device", "pin_memory", "memory_format", "non_blocking"}

# Graph nodes that only assert facts about symbolic sizes (dynamic shapes): no value.
_ASSERTS = {
    "aten._assert_scalar.default",
    "aten.sym_constrain_range_for_size.default",
    "aten.sym_constrain_range.default",
    "aten._assert_tensor_metadata.default",
}

# Python operators on symbolic sizes -> the registry's scalar ops.
_SYM_OPS = {
    operator.add: "aten.add.int",
    operator.sub: "aten.sub.int",
    operator.mul: "aten.mul.int",
    operator.floordiv: "aten.floordiv.int",
    operator.mod: "aten.remainder.int",
}


def _only_asserted(node: Any) -> bool:
    """Whether every use of `node` is (through others) an assert: a data-dependent size
    (`nonzero`'s count) comes with `sym_size`, `ge`/`le` and `_assert_scalar` nodes that check
    its range, which mean nothing for compiled code (a count is in range by construction)."""
    users = list(node.users)
    return bool(users) and all(op_key(u.target) in _ASSERTS or _only_asserted(u) for u in users)


def op_key(target: Any) -> str:
    """`aten.addmm.default` for an OpOverload, the Python name for other callables."""
    if hasattr(target, "_schema") and hasattr(target, "_overloadname"):
        return f"{target.namespace}.{target._opname}.{target._overloadname}"
    return getattr(target, "__name__", str(target))


def _registry_name(key: str) -> str:
    """`aten.addmm.default` -> `torch.aten.addmm`; `aten.add.Tensor` -> `torch.aten.add.Tensor`."""
    ns, name, overload = key.split(".")
    return f"torch.{ns}.{name}" + ("" if overload == "default" else f".{overload}")


def import_program(ep: Any) -> ImportResult:
    """Emit the torch-dialect module of an ExportedProgram (decomposed to core ATen here)."""
    ep = ep.run_decompositions()
    return GraphImporter(ep).run()


class GraphImporter:
    def __init__(self, ep: Any) -> None:
        import torch

        ensure_loaded()
        self.torch = torch
        self.ep = ep
        self.graph = ep.graph
        self.dtypes = _torch_dtypes()
        self.values: dict[Any, Any] = {}
        self.user_inputs: set[Any] = set()  # the USER_INPUT placeholders
        self.block = Block()
        self.b = TorchBuilder(InsertPoint.at_end(self.block))

    # -- checking --------------------------------------------------------------------------------
    def run(self) -> ImportResult:
        self._check_signature()
        params, kinds, slots, arg_names = self._placeholders()  # refuses unsupported dtypes
        self._check_supported()
        for node in self.graph.nodes:
            if node.op == "call_function":
                self.b.loc = loc_attr(node)
                self._emit_node(node)
        out_node = next(n for n in self.graph.nodes if n.op == "output")
        leaves = list(out_node.args[0])
        results = [self._value(x) for x in leaves if x is not None]
        self.b.loc = None
        self.b.insert(func.ReturnOp(*results))
        fop = func.FuncOp(
            "forward",
            ([a.type for a in self.block.args], [r.type for r in results]),
            Region(self.block),
        )
        module = ModuleOp([*slots, fop])
        module.verify()
        spec = self.ep.call_spec
        in_spec, _ = tree_to_spec(spec.in_spec)
        out_spec, _ = tree_to_spec(spec.out_spec, leaves)
        res = ImportResult(
            module, params, kinds, arg_names, in_spec, out_spec, self._module_types()
        )
        res.dim_constraints = self._dim_constraints()
        return res

    def _dim_constraints(self) -> list[tuple[str, list[tuple[int, int]], int | None, int | None]]:
        """Per symbolic dim of the inputs: where it occurs (input index, dim) and its range."""
        where: dict[str, list[tuple[int, int]]] = {}
        for i, node in enumerate(n for n in self.graph.nodes if n in self.user_inputs):
            for d, size in enumerate(node.meta["val"].shape):
                if not isinstance(size, int) and str(size).isidentifier():
                    where.setdefault(str(size), []).append((i, d))
        ranges = {
            str(k): (_finite(r.lower), _finite(r.upper))
            for k, r in self.ep.range_constraints.items()
        }
        return [(sym, occ, *ranges.get(sym, (None, None))) for sym, occ in where.items()]

    def _check_signature(self) -> None:
        from torch.export.graph_signature import InputKind, OutputKind

        sig = self.ep.graph_signature
        for o in sig.output_specs:
            if o.kind != OutputKind.USER_OUTPUT:
                raise TorchImportError(
                    f"cannot import a program with a {o.kind.name} output ({o.target}): "
                    "xjit's imported modules do not mutate their buffers"
                )
        for i in sig.input_specs:
            if i.kind not in (
                InputKind.USER_INPUT,
                InputKind.PARAMETER,
                InputKind.BUFFER,
                InputKind.CONSTANT_TENSOR,
            ):
                raise TorchImportError(f"cannot import a program with a {i.kind.name} input")

    def _check_supported(self) -> None:
        """Raise one UnsupportedOpsError naming every op (or op variant) that cannot be imported,
        with its count and source lines, before anything is emitted."""
        found: dict[str, list[str]] = {}
        for node in self.graph.nodes:
            if node.op != "call_function":
                continue
            problem = self._problem(node)
            if problem is not None:
                found.setdefault(problem, []).append(source_line(node))
        if not found:
            return
        n = sum(len(v) for v in found.values())
        lines = [
            f"cannot import the program: {len(found)} unsupported ATen op"
            f"{'s' if len(found) != 1 else ''} ({n} node{'s' if n != 1 else ''}):"
        ]
        for what, locs in found.items():
            where = ", ".join(dict.fromkeys(locs))
            lines.append(f"  {what} x{len(locs)}  at {where}")
        raise UnsupportedOpsError("\n".join(lines))

    def _problem(self, node: Any) -> str | None:
        """Why `node` cannot be imported (the listing's key), or None."""
        key = op_key(node.target)
        if node.target is operator.getitem or node.target in _SYM_OPS or key in _ASSERTS:
            return None
        if _only_asserted(node):
            return None
        bad = self._bad_dtype(node)
        if bad is not None:
            return f"{key} (dtype {bad})"
        check = _CHECKS.get(key)
        if check is not None:
            why = check(self, node)
            return None if why is None else f"{key} ({why})"
        if key in _SPECIAL:
            return None
        opdef = self._registry_op(node)
        if opdef is None:
            return key
        return self._arg_problem(node, opdef, key)

    def _bad_dtype(self, node: Any) -> str | None:
        vals = node.meta.get("val")
        for v in vals if isinstance(vals, (tuple, list)) else (vals,):
            if isinstance(v, self.torch.Tensor) and v.dtype not in self.dtypes:
                return str(v.dtype).replace("torch.", "")
        return None

    def _arg_problem(self, node: Any, opdef: OpDef, key: str) -> str | None:
        names = {a.name for a in opdef.schema.args}
        bound = self._bind(node)
        for a in node.target._schema.arguments:
            if a.name in names or a.name in _IGNORED_ARGS or a.name not in bound:
                continue
            if bound[a.name] != a.default_value:
                return f"{key} ({a.name}={bound[a.name]!r})"
        return None

    # -- binding ---------------------------------------------------------------------------------
    def _bind(self, node: Any) -> dict[str, Any]:
        """The node's arguments by torch schema name (positional and keyword)."""
        args = node.target._schema.arguments
        out = {a.name: v for a, v in zip(args, node.args)}
        out.update(node.kwargs)
        return out

    def _registry_op(self, node: Any) -> OpDef | None:
        key = op_key(node.target)
        if key.count(".") != 2 or not hasattr(node.target, "_schema"):
            return None
        if key.endswith((".Tensor", ".Tensor_mode")):
            # `mul.Tensor(x, 0.5)`: core ATen keeps the Tensor overload for a Python scalar
            # operand; the registry has it as the Scalar overload, as torch's own API does.
            bound = self._bind(node)
            tensors = [
                bound.get(a.name)
                for a in node.target._schema.arguments
                if a.type.kind() == "TensorType"
            ]
            is_node = [isinstance(t, self.torch.fx.Node) for t in tensors]
            if len(is_node) > 1 and is_node[0] and not all(is_node[1:]):
                # (div.Tensor_mode -> div.Scalar_mode likewise)
                return REGISTRY.get(_registry_name(key.replace(".Tensor", ".Scalar")))
        return REGISTRY.get(_registry_name(key))

    def _convert(self, v: Any) -> Any:
        torch = self.torch
        if isinstance(v, torch.fx.Node):
            return self._value(v)
        if isinstance(v, (list, tuple)):
            return [self._convert(x) for x in v]  # run-time sizes: the builder makes a list
        if isinstance(v, torch.dtype):
            return self.dtypes[v]
        if isinstance(v, (torch.memory_format, torch.layout, torch.device)):
            return None
        return v

    def _value(self, n: Any) -> Any:
        v = self.values.get(n)
        if v is None:
            raise TorchImportError(f"{source_line(n)}: {n.name} has no imported value")
        return v

    # -- placeholders ------------------------------------------------------------------------------
    def _meta(self, val: Any, what: str) -> T.TensorMeta:
        if not isinstance(val, self.torch.Tensor):
            raise TorchImportError(
                f"{what} is a {type(val).__name__}; xjit imports tensor inputs only"
            )
        if val.dtype not in self.dtypes:
            raise TorchImportError(
                f"{what} has dtype {val.dtype}; xjit supports float32, float64, int64, int32 and "
                "bool (convert half-precision models with model.float() before importing)"
            )
        dims = tuple(d if isinstance(d, int) else None for d in val.shape)
        return T.TensorMeta(dims, self.dtypes[val.dtype])

    def _placeholders(self) -> tuple[dict[str, np.ndarray], dict[str, str], list[Any], list[str]]:
        from torch.export.graph_signature import InputKind

        ep = self.ep
        by_name = {s.arg.name: s for s in ep.graph_signature.input_specs}
        params: dict[str, np.ndarray] = {}
        kinds: dict[str, str] = {}
        slots = []
        arg_types, arg_names, user_nodes = [], [], []
        for node in self.graph.nodes:
            if node.op != "placeholder":
                continue
            s = by_name[node.name]
            if s.kind == InputKind.USER_INPUT:
                meta = self._meta(node.meta.get("val"), f"input '{node.name}'")
                arg_types.append(vtensor_type(meta))
                arg_names.append(node.name)
                user_nodes.append(node)
                continue
            name = s.target
            t = ep.state_dict[name] if name in ep.state_dict else ep.constants[name]
            kind = "parameter" if s.kind == InputKind.PARAMETER else "buffer"
            meta = self._meta(t, f"{kind} '{name}'")
            params[name] = t.detach().cpu().contiguous().numpy().copy()
            kinds[name] = kind
            slots.append(td.GlobalSlotOp(name, vtensor_type(meta)))
            self.values[node] = self.b.insert(td.GlobalSlotGetOp(name, vtensor_type(meta))).results[
                0
            ]
        for t in arg_types:
            self.block.insert_arg(t, len(self.block.args))
        self.user_inputs = set(user_nodes)
        for node, arg in zip(user_nodes, self.block.args, strict=True):
            arg.name_hint = node.name
            self.values[node] = arg
        return params, kinds, slots, arg_names

    def _module_types(self) -> dict[str, str]:
        """Submodule path -> PyTorch class name, from the nodes' `nn_module_stack`."""
        out: dict[str, str] = {}
        for node in self.graph.nodes:
            for path, cls in (node.meta.get("nn_module_stack") or {}).values():
                name = cls if isinstance(cls, str) else getattr(cls, "__qualname__", str(cls))
                p = path.replace("L['self'].", "").replace("L['self']", "")
                if p and not p.startswith("_") and "[" not in p and "(" not in p:
                    out.setdefault(p, name.rsplit(".", 1)[-1])
        return out

    # -- emitting ----------------------------------------------------------------------------------
    def _emit_node(self, node: Any) -> None:
        key = op_key(node.target)
        if node.target is operator.getitem:
            src, idx = node.args
            self.values[node] = self._value(src)[idx]
            return
        if key in _ASSERTS or _only_asserted(node):
            return
        if node.target in _SYM_OPS:
            a, b = (self._convert(x) for x in node.args)
            (r,) = self.b.emit(REGISTRY[f"torch.{_SYM_OPS[node.target]}"], [a, b])
            self.values[node] = r
            return
        try:
            special = _SPECIAL.get(key)
            if special is not None:
                results = special(self, node, self._bind(node))
            else:
                opdef = self._registry_op(node)
                assert opdef is not None  # _check_supported
                results = self._emit_registry(opdef, node)
        except TorchImportError:
            raise
        except Exception as e:
            raise TorchImportError(
                f"{source_line(node)}: cannot import {key} ({node.name}): {type(e).__name__}: {e}"
            ) from e
        results = self._check_types(node, results)
        self.values[node] = results[0] if _single_result(node) else tuple(results)

    def _emit_registry(self, opdef: OpDef, node: Any, **overrides: Any) -> tuple[SSAValue, ...]:
        bound = self._bind(node)
        bound.update(overrides)
        args = []
        for a in opdef.schema.args:
            if a.name in bound:
                args.append(self._convert(bound[a.name]))
            elif a.has_default:
                args.append(a.default)
            else:
                raise TorchImportError(f"{opdef.name}: no value for argument '{a.name}'")
        return self.b.emit(opdef, args)

    def emit(self, name: str, *args: Any) -> SSAValue:
        """Emit registry op `name` (`aten.softmax.int`) on converted arguments; its first result."""
        return self.b.emit(REGISTRY[f"torch.{name}"], list(args))[0]

    def _check_types(self, node: Any, results: Sequence[Any]) -> list[Any]:
        """xjit's shape rule must agree with what torch recorded: a dtype or static size that
        differs would compute wrong numbers, so it is an error, not a cast. Where the rule knows
        less (sizes only known at run time), torch's type is given to the value by a
        `torch.tensor_static_info_cast`."""
        vals = node.meta.get("val")
        vals = list(vals) if isinstance(vals, (tuple, list)) else [vals]
        out = list(results)
        for k, (v, r) in enumerate(zip(vals, results)):
            if r is None or not isinstance(v, self.torch.Tensor) or not _is_tensor(r):
                continue
            have = r.type.meta
            want = self._meta(v, node.name)
            dims = have.shape if have.shape is not None else (None,) * len(want.shape)
            same = len(dims) == len(want.shape) and all(
                a is None or b is None or a == b for a, b in zip(dims, want.shape)
            )
            if have.dtype not in (None, want.dtype) or not same:
                raise TorchImportError(
                    f"{source_line(node)}: {op_key(node.target)} ({node.name}): xjit infers "
                    f"{_fmt(have)} where torch computed {_fmt(want)}"
                )
            if have != want:  # knows less, never contradicts
                out[k] = self.b.insert(td.TensorStaticInfoCastOp(r, vtensor_type(want))).results[0]
        return out


def _finite(v: Any) -> int | None:
    if getattr(v, "is_finite", True) is False:  # sympy's oo / int_oo
        return None
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError, AttributeError):  # sympy's (int_)oo
        return None


def _is_tensor(v: SSAValue) -> bool:
    return isinstance(v.type, td.ValueTensorType)


def _single_result(node: Any) -> bool:
    return not isinstance(node.meta.get("val"), (tuple, list))


def _fmt(m: T.TensorMeta) -> str:
    dims = "?" if m.shape is None else ",".join("?" if d is None else str(d) for d in m.shape)
    return f"[{dims}] {m.dtype.name if m.dtype else '?'}"


# -- exact rewrites into registry ops --------------------------------------------------------------
Handler = Callable[[GraphImporter, Any, dict[str, Any]], tuple[Any, ...]]


def _softmax(name: str) -> Handler:
    def emit(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
        return (g.emit(name, g._convert(a["self"]), a["dim"], None),)

    return emit


def _layer_norm(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    c = g._convert
    y = g.emit(
        "aten.layer_norm",
        c(a["input"]),
        c(a["normalized_shape"]),
        c(a["weight"]),
        c(a["bias"]),
        a["eps"],
        True,
    )
    return (y, None, None)  # mean and rstd: _check_layer_norm refuses graphs that read them


def _split_with_sizes(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    x = g._convert(a["self"])
    dim = a.get("dim", 0)
    outs, start = [], 0
    for size in a["split_sizes"]:
        outs.append(g.emit("aten.slice.Tensor", x, dim, start, start + size, 1))
        start += size
    return tuple(outs)


def _split(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    x = g._convert(a["self"])
    dim = a.get("dim", 0)
    total = node.args[0].meta["val"].shape[dim]
    step = a["split_size"]
    return tuple(
        g.emit("aten.slice.Tensor", x, dim, s, min(s + step, total), 1)
        for s in range(0, int(total), step)
    )


def _scalar_tensor(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    dtype = g._convert(a.get("dtype")) or T.float32  # torch's default dtype
    return (g.emit("aten.full", [], a["s"], dtype),)


def _to_copy(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    x = g._convert(a["self"])
    dtype = g._convert(a.get("dtype"))
    if dtype is None:
        return (g.emit("aten.clone", x, None),)
    return (g.emit("aten.to.dtype", x, dtype, False, False, None),)


def _squeeze_dims(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    x = g._convert(a["self"])
    rank = len(node.args[0].meta["val"].shape)
    for d in sorted({d % rank for d in a["dim"]}, reverse=True):
        x = g.emit("aten.squeeze.dim", x, d)
    return (x,)


def _symbolic_as_minus_one(
    g: GraphImporter, node: Any, sizes: list[Any], same_dim: bool
) -> list[Any]:
    """`view(x, [s0, 20])` with `s0` a symbolic size: the registry's shape rules need static
    sizes, so a symbolic entry becomes -1, which computes the same size: for view/reshape when it
    is the only one (numel fixes it), for expand when it is the input's own size there."""
    symbolic = [i for i, s in enumerate(sizes) if not isinstance(s, int)]
    if not symbolic:
        return sizes
    out = list(sizes)
    if same_dim:
        shape = node.args[0].meta["val"].shape
        off = len(sizes) - len(shape)
        for i in symbolic:
            if i >= off and str(shape[i - off]) == str(sizes[i].meta.get("val")):
                out[i] = -1
        return out  # other symbolic sizes are read at run time (aten.size.int)
    # view/reshape: torch recorded the result's shape; with one symbolic dim, -1 there
    # recomputes it from numel. With several, the sizes are read at run time (aten.size.int and
    # int arithmetic); the lowering checks that they fit the element count.
    dims = list(node.meta["val"].shape)
    dyn = [i for i, d in enumerate(dims) if not isinstance(d, int)]
    if 0 in dims:
        raise TorchImportError(f"{source_line(node)}: a view with a symbolic and a zero size")
    if len(dyn) > 1:
        return _minus_one_at_run_time(g, node, sizes)
    return [-1 if i in dyn else int(d) for i, d in enumerate(dims)]


def _minus_one_at_run_time(g: GraphImporter, node: Any, sizes: list[Any]) -> list[Any]:
    """view(x, sizes) with several run-time sizes and a -1: the lowering cannot tell which of
    x's dims the -1 takes next to run-time sizes, so the -1 becomes torch's recorded size
    where that is static, else numel(x) // (the other sizes) computed at run time (the
    lowering asserts that the sizes' product is x's element count, so it is exact or fails)."""
    if -1 not in sizes:
        return sizes
    i = sizes.index(-1)
    recorded = node.meta["val"].shape[i]
    out = list(sizes)
    if isinstance(recorded, int):
        out[i] = recorded
        return out
    x = node.args[0]
    numel: Any = 1
    for d, n in enumerate(x.meta["val"].shape):
        numel = _int_mul(
            g, numel, n if isinstance(n, int) else g.emit("aten.size.int", g._value(x), d)
        )
    others: Any = 1
    for k, v in enumerate(sizes):
        if k != i:
            others = _int_mul(g, others, g._convert(v) if not isinstance(v, int) else v)
    if isinstance(others, int) and others == 0:
        raise TorchImportError(f"{source_line(node)}: a view with a -1 next to a zero size")
    out[i] = g.emit("aten.floordiv.int", numel, others)
    return out


def _int_mul(g: GraphImporter, a: Any, b: Any) -> Any:
    """a * b on sizes: Python ints folded, run-time ones with `aten.mul.int`."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int) and a == 1:
        return b
    if isinstance(b, int) and b == 1:
        return a
    return g.emit("aten.mul.int", a, b)


def _view(name: str, arg: str, same_dim: bool) -> Handler:
    def emit(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
        sizes = _symbolic_as_minus_one(g, node, list(a[arg]), same_dim)
        if same_dim or all(isinstance(s, int) for s in sizes):
            return g._emit_registry(REGISTRY[f"torch.{name}"], node, **{arg: sizes})
        return (_view_run_time_sizes(g, REGISTRY[f"torch.{name}"], a["self"], sizes),)

    return emit


def _view_run_time_sizes(g: GraphImporter, opdef: OpDef, x: Any, sizes: list[Any]) -> SSAValue:
    """view(x, sizes) with several sizes read at run time: the builder's shape rule sees the
    whole list as unknown, so the rule runs here on the list with those elements unknown
    (`?` dims); the lowering reads the sizes and checks them against x's element count."""
    xv = g.b.operand(opdef.schema.args[0], g._convert(x))
    elems = [s if isinstance(s, int) else g._convert(s) for s in sizes]
    sv = g.b.operand(opdef.schema.args[1], elems)
    meta = opdef.shape(xv.type.meta, [s if isinstance(s, int) else UNKNOWN for s in sizes])
    op = td.aten_op_class(opdef.name).create(operands=[xv, sv], result_types=[vtensor_type(meta)])
    g.b.insert(op)
    return op.results[0]


def _new_run_time_dims(g: GraphImporter, node: Any, sizes: list[Any]) -> list[int] | None:
    """The positions where `expand(x, sizes)` (after `_symbolic_as_minus_one`) broadcasts to
    another tensor's run-time size: a new leading dim or a static 1 of x's; None if some
    run-time size is neither (or not a tensor's own size)."""
    shape = node.args[0].meta["val"].shape
    off = len(sizes) - len(shape)
    out = []
    for i, d in enumerate(sizes):
        if isinstance(d, int):
            continue
        if _sym_source(g, d) is None or (i >= off and shape[i - off] != 1):
            return None
        out.append(i)
    return out


def _expand(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """expand(x, sizes); a size that is another tensor's run-time size (an LSTM's weight
    expanded to the batch) broadcasts x with `where(c, x, x)` against a bool tensor of the
    result's shape (`_shaped`): exact for every value, and the lowering knows each dim's source."""
    sizes = _symbolic_as_minus_one(g, node, list(a["size"]), True)
    new = _new_run_time_dims(g, node, sizes) or []
    if not new:
        return g._emit_registry(REGISTRY["torch.aten.expand"], node, size=sizes)
    x = g.emit(
        "aten.expand",
        g._convert(a["self"]),
        [1 if i in new else d for i, d in enumerate(sizes)],
        False,
    )
    cond = g.emit(
        "aten.eq.Scalar", _shaped(g, [d if i in new else 1 for i, d in enumerate(sizes)]), 0
    )
    return (g.emit("aten.where.self", cond, x, x),)


def _check_expand(g: GraphImporter, node: Any) -> str | None:
    sizes = _symbolic_as_minus_one(g, node, list(g._bind(node)["size"]), True)
    if _new_run_time_dims(g, node, sizes) is None:
        return "to a run-time size that is not a tensor's own size or a new/size-1 dim"
    return None


def _any_dim(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """any(x, dim) = sum(x != 0 as int64, dim) > 0 (NaN counts as true, as in torch)."""
    nonzero = g.emit("aten.ne.Scalar", g._convert(a["self"]), 0)
    count = g.emit("aten.to.dtype", nonzero, T.int64, False, False, None)
    dims = a["dim"] if isinstance(a["dim"], (list, tuple)) else [a["dim"]]
    total = g.emit("aten.sum.dim_IntList", count, list(dims), a.get("keepdim", False), None)
    return (g.emit("aten.gt.Scalar", total, 0),)


def _clamp(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """clamp(x, lo, hi) = minimum(maximum(x, lo), hi) with 0-dim bounds of x's dtype (NaN
    propagates through both, as in torch); _check_clamp refuses bounds that would promote."""
    x = g._convert(a["self"])
    dtype = x.type.meta.dtype
    for bound, op in ((a.get("min"), "aten.maximum"), (a.get("max"), "aten.minimum")):
        if bound is not None:
            x = g.emit(op, x, g.emit("aten.full", [], bound, dtype))
    return (x,)


def _sym_source(g: GraphImporter, v: Any) -> tuple[Any, int] | None:
    """(tensor node, dim) whose size the symbolic size `v` is read from (`x.size(0)`), or None."""
    if isinstance(v, g.torch.fx.Node) and op_key(v.target) == "aten.sym_size.int":
        return v.args[0], v.args[1]
    return None


def _full(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """full(size, v) whose size holds run-time sizes (`torch.zeros(x.size(0), 3)` under
    dynamic_shapes): the lowering needs each dynamic dim's source, so the result is `full_like`
    of a tensor of that shape, built by broadcasting: `full(size with 1s, 0)` plus, per run-time
    size `x.size(d)`, `x`'s zeros summed over its other dims ([n]) unsqueezed into place.
    Static sizes are the registry's `full` as they are (`_check_full` refuses other sizes)."""
    size = list(a["size"])
    dtype = g._convert(a.get("dtype"))
    if not any(isinstance(d, g.torch.fx.Node) for d in size):
        return (g.emit("aten.full", size, a["fill_value"], dtype),)
    shape = _shaped(g, size)
    dtype = g.dtypes[node.meta["val"].dtype]  # (torch's, also for an int fill_value)
    return (g.emit("aten.full_like", shape, a["fill_value"], dtype),)


def _empty(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """empty(size): its contents are unspecified, so zeros are one right answer (the seq2seq
    tutorial's `torch.empty(b, 1, dtype=torch.long).fill_(SOS_token)`)."""
    zero = 0 if a.get("dtype") is not None else 0.0  # (no dtype: the default, float32)
    return _full(g, node, {**a, "fill_value": zero})


def _shaped(g: GraphImporter, size: list[Any]) -> Any:
    """A float32 tensor of shape `size`, whose run-time sizes are tensors' own sizes (see
    `_full`): their sources are what the lowering allocates the result by."""
    rank = len(size)
    static = [1 if isinstance(d, g.torch.fx.Node) else d for d in size]
    shape = g.emit("aten.full", static, 0.0, T.float32)
    for i, d in enumerate(size):
        src = _sym_source(g, d)
        if src is None:
            continue
        t, dim = g._value(src[0]), src[1]
        trank = len(src[0].meta["val"].shape)
        dim %= trank
        piece = g.emit("aten.full_like", t, 0.0, T.float32)
        others = [k for k in range(trank) if k != dim]
        if others:
            piece = g.emit("aten.sum.dim_IntList", piece, others, False, None)
        for _ in range(i):
            piece = g.emit("aten.unsqueeze", piece, 0)
        for _ in range(rank - 1 - i):
            piece = g.emit("aten.unsqueeze", piece, -1)
        shape = g.emit("aten.add.Tensor", shape, piece, 1)
    return shape


_MAX_ARANGE = 1 << 24  # the largest upper bound of a run-time arange end (elements)


def _arange(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """arange(0, end, step) whose end is a tensor's own run-time size (`torch.arange(T)` under
    dynamic_shapes): arange to the end's upper bound (from the program's range constraints),
    sliced to the run-time end. `_check_arange` refuses other forms."""
    end = a["end"]
    if not isinstance(end, g.torch.fx.Node):
        return g._emit_registry(REGISTRY["torch.aten.arange.start_step"], node)
    upper = _upper_bound(g, end)
    dtype = g.dtypes[node.meta["val"].dtype]
    if upper is None:  # step 1 (_check_arange): the run-time end is the result's size
        return (g.emit("aten.arange.start_step", 0, g._convert(end), 1, dtype),)
    full = g.emit("aten.arange.start_step", 0, upper, a.get("step", 1), dtype)
    return (g.emit("aten.slice.Tensor", full, 0, 0, g._convert(end), 1),)


def _upper_bound(g: GraphImporter, v: Any) -> int | None:
    """The largest value the symbolic size `v` can take (its Dim's max), if finite and small."""
    sym = getattr(v.meta.get("val"), "node", None)
    rc = g.ep.range_constraints.get(getattr(sym, "expr", None)) if sym is not None else None
    upper = _finite(rc.upper) if rc is not None else None
    return upper if upper is not None and upper <= _MAX_ARANGE else None


def _isnan(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    x = g._convert(a["self"])
    return (g.emit("aten.ne.Tensor", x, x),)  # only NaN differs from itself


def _identity(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    return (g._convert(a["self"]),)


def _rename(name: str) -> Handler:
    """Same schema under another registry name (`_unsafe_view` is `view` on values)."""

    def emit(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
        return g._emit_registry(REGISTRY[f"torch.{name}"], node)

    return emit


def _max_pool2d(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    y = g.emit(
        "aten.max_pool2d",
        g._convert(a["self"]),
        list(a["kernel_size"]),
        list(a.get("stride", [])),
        list(a.get("padding", [0])),
        list(a.get("dilation", [1])),
        a.get("ceil_mode", False),
    )
    return (y, None)  # the indices: _check_first_output_only refuses graphs that read them


def _batch_norm_no_training(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    c = g._convert
    y = g.emit(
        "aten.batch_norm",
        c(a["input"]),
        c(a["weight"]),
        c(a["bias"]),
        c(a["running_mean"]),
        c(a["running_var"]),
        False,
        a["momentum"],
        a["eps"],
        True,
    )
    return (y, None, None)  # saved statistics: _check_first_output_only refuses their use


def _advanced(
    g: GraphImporter, node: Any, indices: list[Any]
) -> tuple[list[int], list[Any], list[int], bool]:
    """The indexed dims of `x[indices]` (None entries: whole dims), their index values, and
    the permutation moving them to the front (as `index.Tensor_hacked_twin` and
    `index_put.hacked_twin` index the leading dims), and whether torch keeps the result's
    index dims in place (adjacent indexed dims) rather than in front."""
    rank = len(node.args[0].meta["val"].shape)
    pos = [k for k, i in enumerate(indices) if i is not None]
    idx = [g._convert(indices[k]) for k in pos]
    perm = pos + [d for d in range(rank) if d not in pos]
    adjacent = pos == list(range(pos[0], pos[0] + len(pos)))
    return pos, idx, perm, adjacent


def _index_rank(node: Any, pos: list[int]) -> int:
    """The rank of the broadcast index shape."""
    return max(len(node.args[1][k].meta["val"].shape) for k in pos)


def _index_tensor(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """`x[:, i]` (`aten.index.Tensor` with None entries): the indexed dims moved to the front,
    indexed there, and the index dims moved to where torch puts them."""
    x = g._convert(a["self"])
    pos, idx, perm, adjacent = _advanced(g, node, a["indices"])
    if perm == list(range(len(perm))):
        return (g.emit("aten.index.Tensor_hacked_twin", x, idx),)
    out = g.emit("aten.index.Tensor_hacked_twin", g.emit("aten.permute", x, perm), idx)
    if adjacent:  # B + rest -> rest[:p0] + B + rest[p0:]
        nb, p0 = _index_rank(node, pos), pos[0]
        n = len(node.meta["val"].shape)
        back = list(range(nb, nb + p0)) + list(range(nb)) + list(range(nb + p0, n))
        out = g.emit("aten.permute", out, back)
    return (out,)


def _index_put(g: GraphImporter, node: Any, a: dict[str, Any]) -> tuple[Any, ...]:
    """`x[:, i] = v` (`aten.index_put` with None entries): as `_index_tensor`, the values laid
    out to match the moved dims, and the result's dims moved back."""
    x, values = g._convert(a["self"]), g._convert(a["values"])
    acc = bool(a.get("accumulate", False))
    pos, idx, perm, adjacent = _advanced(g, node, a["indices"])
    if perm == list(range(len(perm))):
        return (g.emit("aten.index_put.hacked_twin", x, idx, values, acc),)
    rank, nb, p0 = len(perm), _index_rank(node, pos), pos[0]
    if adjacent and p0 > 0:  # values broadcast to rest[:p0] + B + rest[p0:]: B to the front
        shape = list(node.meta["val"].shape)
        bshape = list(g.torch.broadcast_shapes(*(node.args[1][k].meta["val"].shape for k in pos)))
        rest = [shape[d] for d in perm[len(pos) :]]
        values = g.emit("aten.expand", values, rest[:p0] + bshape + rest[p0:], False)
        n = nb + len(rest)
        values = g.emit(
            "aten.permute",
            values,
            list(range(p0, p0 + nb)) + list(range(p0)) + list(range(p0 + nb, n)),
        )
    out = g.emit("aten.index_put.hacked_twin", g.emit("aten.permute", x, perm), idx, values, acc)
    return (g.emit("aten.permute", out, [perm.index(d) for d in range(rank)]),)


_SPECIAL: dict[str, Handler] = {
    "aten.index.Tensor": _index_tensor,
    "aten.index_put.default": _index_put,
    "aten.index_put_.default": _index_put,
    "aten.max_pool2d_with_indices.default": _max_pool2d,
    "aten._native_batch_norm_legit_no_training.default": _batch_norm_no_training,
    "aten._softmax.default": _softmax("aten.softmax.int"),
    "aten._log_softmax.default": _softmax("aten.log_softmax.int"),
    "aten.native_layer_norm.default": _layer_norm,
    "aten.split_with_sizes.default": _split_with_sizes,
    "aten.split.Tensor": _split,
    "aten.scalar_tensor.default": _scalar_tensor,
    "aten._to_copy.default": _to_copy,
    "aten.squeeze.dims": _squeeze_dims,
    "aten.any.dim": _any_dim,
    "aten.any.dims": _any_dim,
    "aten.clamp.default": _clamp,
    "aten.isnan.default": _isnan,
    "aten.full.default": _full,
    "aten.empty.memory_format": _empty,
    "aten.arange.start_step": _arange,
    "aten.alias.default": _identity,
    "aten.detach.default": _identity,
    "aten.lift_fresh_copy.default": _rename("aten.clone"),
    "aten._unsafe_view.default": _view("aten.view", "size", False),
    "aten.view.default": _view("aten.view", "size", False),
    "aten.reshape.default": _view("aten.reshape", "shape", False),
    "aten.expand.default": _expand,
    "aten.sym_size.int": _rename("aten.size.int"),
}


# -- which variants the rewrites accept --------------------------------------------------------------
def _check_softmax(g: GraphImporter, node: Any) -> str | None:
    return "half_to_float=True" if node.args[2] else None


def _check_layer_norm(g: GraphImporter, node: Any) -> str | None:
    for user in node.users:
        if user.target is not operator.getitem or user.args[1] != 0:
            return "its mean/rstd outputs are used"
    return None


def _check_first_output_only(what: str) -> Callable[[GraphImporter, Any], str | None]:
    def check(g: GraphImporter, node: Any) -> str | None:
        for user in node.users:
            if user.target is not operator.getitem or user.args[1] != 0:
                return f"its {what} output is used"
        return None

    return check


def _check_static_sizes(g: GraphImporter, node: Any) -> str | None:
    a = g._bind(node)
    sizes = a.get("split_sizes", [a.get("split_size")])
    dim = a.get("dim", 0)
    total = node.args[0].meta["val"].shape[dim]
    if not all(isinstance(s, int) for s in [*sizes, total]):
        return "symbolic split sizes"
    return None


def _check_to_copy(g: GraphImporter, node: Any) -> str | None:
    a = g._bind(node)
    return None if a.get("device") in (None, g.torch.device("cpu")) else "to another device"


def _check_clamp(g: GraphImporter, node: Any) -> str | None:
    a = g._bind(node)
    x = node.args[0].meta["val"]
    bounds = [b for b in (a.get("min"), a.get("max")) if b is not None]
    if x.dtype.is_floating_point or all(isinstance(b, int) for b in bounds):
        return None
    return "a float bound of an integer tensor"


def _check_full(g: GraphImporter, node: Any) -> str | None:
    sizes = g._bind(node)["size"]
    nodes = [d for d in sizes if isinstance(d, g.torch.fx.Node)]
    if any(_sym_source(g, d) is None for d in nodes):
        return "a size computed at run time other than a tensor's own size"
    return None


def _check_arange(g: GraphImporter, node: Any) -> str | None:
    a = g._bind(node)
    end, start = a["end"], a.get("start", 0)
    if not isinstance(end, g.torch.fx.Node):
        return None
    if start not in (0, None):
        return "a run-time end and a start other than 0"
    if _upper_bound(g, end) is None and a.get("step", 1) != 1:
        return "a run-time end without a finite Dim max (at most 2**24) and a step other than 1"
    return None


def _check_any(g: GraphImporter, node: Any) -> str | None:
    return None if g._bind(node).get("dim") not in (None, []) else "over all dims"


def _input_shape(node: Any) -> list[int | None]:
    """The shape torch recorded for the node's first argument, None where it is symbolic."""
    return [d if isinstance(d, int) else None for d in node.args[0].meta["val"].shape]


def _check_convolution(g: GraphImporter, node: Any) -> str | None:
    a = g._bind(node)
    return conv_ops.conv_dynamic_problem(_input_shape(node), a["transposed"], a["stride"])


def _check_max_pool(g: GraphImporter, node: Any) -> str | None:
    why = _check_first_output_only("indices")(g, node)
    if why is None:
        ceil = g._bind(node).get("ceil_mode", False)
        why = conv_ops.pool_dynamic_problem(_input_shape(node), 2, ceil)
    return why


def _check_avg_pool(g: GraphImporter, node: Any) -> str | None:
    ceil = g._bind(node).get("ceil_mode", False)
    return conv_ops.pool_dynamic_problem(_input_shape(node), 2, ceil)


def _check_adaptive_avg_pool(g: GraphImporter, node: Any) -> str | None:
    return conv_ops.adaptive_dynamic_problem(_input_shape(node), g._bind(node)["output_size"])


_CHECKS: dict[str, Callable[[GraphImporter, Any], str | None]] = {
    # Shapes whose decomposition needs static sizes: refused here, with the source line,
    # rather than failing to lower ("no lowering for 'torch.aten.convolution'").
    "aten.convolution.default": _check_convolution,
    "aten.avg_pool2d.default": _check_avg_pool,
    "aten._adaptive_avg_pool2d.default": _check_adaptive_avg_pool,
    "aten.max_pool2d_with_indices.default": _check_max_pool,
    "aten._native_batch_norm_legit_no_training.default": _check_first_output_only(
        "saved mean/invstd"
    ),
    "aten.clamp.default": _check_clamp,
    "aten.any.dims": _check_any,
    "aten.full.default": _check_full,
    "aten.empty.memory_format": _check_full,
    "aten.expand.default": _check_expand,
    "aten.arange.start_step": _check_arange,
    "aten._softmax.default": _check_softmax,
    "aten._log_softmax.default": _check_softmax,
    "aten.native_layer_norm.default": _check_layer_norm,
    "aten.split_with_sizes.default": _check_static_sizes,
    "aten.split.Tensor": _check_static_sizes,
    "aten._to_copy.default": _check_to_copy,
}
