"""Expressions: names, constants, attributes, subscripts, operators, comparisons, boolean
short-circuits and conditional expressions."""

from __future__ import annotations

import ast
import builtins
import inspect
import operator
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.ir import Region, SSAValue

from xjit._device import CPU
from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.dialects.torch_types import dtype_attr
from xjit.errors import script_str
from xjit.frontends.builder import vtensor_type
from xjit.frontends.script import str_choice
from xjit.frontends.script.lists import Unrollable, const_of
from xjit.frontends.script.registry_ops import NeedsArgTypes
from xjit.frontends.script.statements import leaves_of, rebuild_like, same_structure
from xjit.frontends.script.str_choice import StrChoice
from xjit.frontends.script.values import ModRef, OptVal, PyDict, PyList, PyObj, PyTuple, describe
from xjit.frontends.signature import meta_of
from xjit.ops.registry import UNKNOWN
from xjit.ops.shape_ops import advanced_index
from xjit.ops.types import DType

_BINOPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.FloorDiv: "floordiv",
    ast.Mod: "remainder",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
    # on tensors only (registry ops; xjit/ops/math_ops.py)
    ast.BitAnd: "bitwise_and",
    ast.BitOr: "bitwise_or",
    ast.BitXor: "bitwise_xor",
    ast.LShift: "bitwise_left_shift",
    ast.RShift: "bitwise_right_shift",
}
_TENSOR_ONLY = frozenset(
    {"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"}
)
_CMPOPS = {ast.Lt: "lt", ast.Gt: "gt", ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}
_OP_SYMBOL = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "floordiv": "//",
    "remainder": "%",
    "pow": "**",
    "matmul": "@",
    "bitwise_and": "&",
    "bitwise_or": "|",
    "bitwise_xor": "^",
    "bitwise_left_shift": "<<",
    "bitwise_right_shift": ">>",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
}
_EXPR_NAMES = {
    "Lambda": "lambdas",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "GeneratorExp": "generators",
    "Set": "sets",
    "Yield": "generators",
    "Await": "async",
    "Starred": "starred expressions",
    "NamedExpr": "walrus assignments",
}


def _is_constant_attribute(m: Any, name: str) -> bool:
    """`torch.jit.Final[...]` class annotations and `__constants__` names: frozen at script
    time, as in TorchScript."""
    if name in getattr(type(m), "__constants__", ()):
        return True
    for klass in type(m).__mro__:
        ann = klass.__dict__.get("__annotations__", {}).get(name)
        if ann is not None:
            return (
                typing.get_origin(ann) is typing.Final
                or ann is typing.Final
                or (isinstance(ann, str) and "Final" in ann)
            )
    return False


def _is_ellipsis(ix: ast.expr) -> bool:
    return isinstance(ix, ast.Constant) and ix.value is Ellipsis


class Expressions:
    """FunctionCompiler's expression half (compiler.py holds the state)."""

    def expr(self, e: ast.expr) -> Any:
        self.at(e)
        m = getattr(self, "e_" + type(e).__name__, None)
        if m is None:
            raise self.error(
                e,
                f"unsupported expression: {type(e).__name__} "
                f"({_EXPR_NAMES.get(type(e).__name__, 'not in the scriptable subset')})",
            )
        return m(e)

    def e_Constant(self, e: ast.Constant) -> Any:
        v = e.value
        if isinstance(v, (bool, int, float)) or v is None:
            return self.b.constant(v)
        if isinstance(v, str):
            return PyObj(v)
        raise self.error(e, f"unsupported constant {v!r}")

    def e_Name(self, e: ast.Name) -> Any:
        if e.id in self.env:
            return self.env[e.id]
        if e.id in self.globals:
            return self.python_value(self.globals[e.id], e)
        if hasattr(builtins, e.id):
            return PyObj(getattr(builtins, e.id))
        raise self.error(
            e,
            f"undefined name '{e.id}' (variables defined in only one branch of an "
            "if, or only inside a loop, are undefined after it)",
        )

    def python_value(self, v: Any, e: ast.AST) -> Any:
        if isinstance(v, bool) or isinstance(v, (int, float)):
            return self.b.constant(v)
        if v is None:
            return self.b.constant(None)
        if isinstance(v, Tensor):
            return self.tensor_constant(v)
        if isinstance(v, tuple):
            return PyTuple([self.python_value(x, e) for x in v])
        if isinstance(v, list):  # a module attribute or global: a copy, so not to be changed
            return PyList([self.python_value(x, e) for x in v], depth=-1)
        if isinstance(v, dict) and all(isinstance(k, (str, int)) for k in v):
            return PyDict({k: self.python_value(x, e) for k, x in v.items()}, depth=-1)
        return PyObj(v)

    def tensor_constant(self, t: Tensor) -> SSAValue:
        import numpy as np
        from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, TensorType

        a = np.asarray(t.numpy())  # (ascontiguousarray makes a 0-d array 1-d)
        meta = meta_of(t)
        ttype = TensorType(dtype_attr(meta.dtype), a.shape)  # type: ignore[arg-type]
        attr = DenseIntOrFPElementsAttr.from_list(ttype, a.reshape(-1).tolist())  # type: ignore[arg-type]
        return self.b.insert(td.ValueTensorLiteralOp(attr, vtensor_type(meta))).results[0]

    def e_Attribute(self, e: ast.Attribute) -> Any:
        base = self.expr(e.value)
        if isinstance(base, ModRef):
            return self.module_attr(base, e.attr, e)
        if isinstance(base, PyObj):
            try:
                return self.python_value(getattr(base.obj, e.attr), e)
            except AttributeError:
                raise self.error(e, f"{base.obj!r} has no attribute '{e.attr}'") from None
        if isinstance(base, PyList):
            return PyObj(("listmethod", base, e.attr))
        if isinstance(base, PyDict):
            return PyObj(("dictmethod", base, e.attr))
        if isinstance(base, SSAValue) and isinstance(base.type, td.ValueTensorType):
            if e.attr == "shape":
                meta = base.type.meta
                if meta.shape is None:
                    self.need_rank(base, e, ".shape")
                return self.new_list(  # List[int], as TorchScript has it
                    [
                        self.scalar_op("aten.size.int", [base, self.b.constant(d)], e)
                        for d in range(len(meta.shape))
                    ]
                )
            if e.attr == "dtype":
                if base.type.element_dtype is None:
                    self.need_rank(base, e, ".dtype")
                return PyObj(base.type.meta.dtype)
            if e.attr == "ndim":
                return self.scalar_op("aten.dim", [base], e)
            if e.attr in ("T", "mT"):  # registry ops, as the eager properties (issue 12)
                return self.transposed(base, e.attr, e)
            if e.attr == "is_cuda":  # TorchScript's prim::is_cuda; xjit's tensors are on the CPU
                return PyObj(False)
            if e.attr == "device":  # prim::device: `device = idx.device` for a factory's device=
                return PyObj(CPU)
            return PyObj(("method", base, e.attr))
        if isinstance(base, PyTuple) and base.names and e.attr in base.names:
            return base.items[base.names.index(e.attr)]  # r.values of torch.sort's result
        fields = f" (its fields: {', '.join(base.names)})" if getattr(base, "names", None) else ""
        raise self.error(e, f"unsupported: attribute '{e.attr}' of a {describe(base)}{fields}")

    def transposed(self, x: SSAValue, attr: str, e: ast.AST) -> Any:
        """`x.T` (all dims reversed: `permute`) and `x.mT` (the last two: `transpose`)."""
        if attr == "mT":
            two = [self.b.constant(-2), self.b.constant(-1)]
            return self.registry_call("transpose", [x, *two], {}, e)
        if x.type.meta.shape is None:  # type: ignore[attr-defined]
            self.need_rank(x, e, ".T")
        rank = len(x.type.meta.shape)  # type: ignore[attr-defined]
        dims = [self.b.constant(d) for d in reversed(range(rank))]
        return self.registry_call("permute", [x, self.new_list(dims)], {}, e)

    def module_attr(self, ref: ModRef, name: str, e: ast.AST) -> Any:
        m = ref.module
        path = f"{ref.path}.{name}" if ref.path else name
        d = m.__dict__
        if name in d.get("_parameters", {}) or name in d.get("_buffers", {}):
            t = d["_parameters"].get(name) if name in d["_parameters"] else d["_buffers"].get(name)
            if t is None:
                return self.b.constant(None)

            typ = vtensor_type(meta_of(t))
            self.mc.slots[path] = typ
            self.mc.params[path] = t
            return self.b.insert(td.GlobalSlotGetOp(path, typ)).results[0]
        if name in d.get("_modules", {}):
            sub = d["_modules"][name]
            if sub is None:
                return self.b.constant(None)
            return ModRef(sub, path)
        if name == "training":  # compiled per value: ScriptModule recompiles on train()/eval()
            self.mc.reads_training = True
            return self.b.constant(bool(self.mc.training_override.get(id(m), m.training)))
        if name == "forward":
            return PyObj(("method", ref, "forward"))
        if inspect.isfunction(getattr(type(m), name, None)):
            return PyObj(("method", ref, name))
        # the root's plain attributes are read from the ScriptModule (`s.k = 5` is seen)
        holder = self.mc.root_view if ref.path == "" and self.mc.root_view is not None else m
        try:
            v = getattr(holder, name)
        except AttributeError:
            raise self.error(e, f"module {type(m).__name__} has no attribute '{name}'") from None
        if inspect.ismethod(v):
            return PyObj(("method", ref, name))
        if isinstance(v, (bool, int, float, str, Tensor, tuple, list, dict)) or v is None:
            if not isinstance(v, Tensor) and not _is_constant_attribute(m, name):
                # a module attribute, read when the module runs in TorchScript: the graph is
                # compiled per value (script_api keys its compiled graphs by these values)
                if (ref.path, name) not in self.mc.attr_reads:
                    self.mc.attr_reads.append((ref.path, name))
            elif isinstance(v, list):  # a constant list is a tuple in TorchScript
                v = tuple(v)
            return self.python_value(v, e)
        if inspect.isfunction(v):  # a function attribute (TransformerEncoderLayer.activation
            return PyObj(v)  # = F.relu): calls compile as calls of that function
        raise self.error(e, f"unsupported: module attribute '{name}' of type {type(v).__name__}")

    def e_Tuple(self, e: ast.Tuple) -> PyTuple:
        return PyTuple([self.expr(x) for x in e.elts])

    def e_List(self, e: ast.List) -> PyList:
        return self.new_list([self.expr(x) for x in e.elts])

    def e_Subscript(self, e: ast.Subscript) -> Any:
        base = self.expr(e.value)
        if isinstance(base, (PyTuple, PyList)):
            return self.sequence_subscript(base, e)
        if isinstance(base, PyDict):
            return self.dict_get(base, self.expr(e.slice), e)
        if isinstance(base, ModRef):  # self.layers[0], self.d["key"]: resolved while compiling
            return self.module_subscript(base, e)
        if _is_str(base):  # a str constant: indexed and sliced as a tuple of its chars
            r = self.sequence_subscript(PyTuple([PyObj(c) for c in base.obj]), e)
            return PyObj("".join(c.obj for c in r.items)) if isinstance(r, PyTuple) else r
        if isinstance(base, SSAValue) and isinstance(base.type, td.ValueTensorType):
            idxs = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
            ell = [k for k, ix in enumerate(idxs) if _is_ellipsis(ix)]
            if len(ell) > 1:
                raise self.error(e, "an index can only have a single ellipsis ('...')")
            head, tail = (idxs[: ell[0]], idxs[ell[0] + 1 :]) if ell else (idxs, [])
            v = base
            dim = 0
            # tensor indices, applied after the rest; an index expression may subscript too
            # (`x[i[:3], j]`): the enclosing subscript's are kept aside meanwhile
            outer = getattr(self, "adv_indices", {})
            self.adv_indices: dict[int, SSAValue] = {}
            for ix in head:  # left to right from dim 0
                v, dim = self.index_dim(v, ix, dim, 1)
            dim = -1
            for ix in reversed(tail):  # after `...`: right to left from the last dim
                v, dim = self.index_dim(v, ix, dim, -1)
            adv, self.adv_indices = self.adv_indices, outer
            if adv:
                return advanced_index(
                    self.index_call(e),
                    v,
                    adv,
                    lambda t: self.rank_of(t, e),
                )
            return v
        raise self.error(e, f"unsupported: subscripting a {describe(base)}")

    def run_time_index(self, lst: PyList, i: SSAValue, e: ast.AST) -> Any:
        """`xs[i]` for a run-time `i`: a chain of `prim.If (i == k)` over the items (of one
        structure; tensors of different shapes join to `?` dims), negative `i` counting from
        the end, and out of range TorchScript's "list index out of range"."""
        items = lst.items
        if not items or any(leaves_of(x) is None or not same_structure(items[0], x) for x in items):
            raise self.error(
                e,
                f"unsupported: indexing a {describe(lst)} with a run-time int (its items must "
                "be values of one structure)",
            )
        n = self.b.constant(len(items))
        neg = self.scalar_op("aten.lt.int", [i, self.b.constant(0)], e)
        i = self.select_scalar(neg, self.scalar_op("aten.add.int", [i, n], e), i, e)

        def pick(k: int) -> Any:
            c = self.scalar_op("aten.eq.int", [i, self.b.constant(k)], e)

            def other() -> Any:
                if k + 1 < len(items):
                    return pick(k + 1)
                self.emit_raise("list index out of range", None, [])
                return items[k]  # never used: the raise comes first

            tb, tv, _ = self.region(lambda: items[k])
            eb, ev, _ = self.region(other)
            types = self.yield_joined(
                [(tb, leaves_of(tv)), (eb, leaves_of(ev))],
                e,
                lambda j: f"list item {j}",
                lambda vs: td.PrimIfYieldOp(*vs),
            )
            op = self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb)))
            return rebuild_like(tv, iter(op.results))

        return pick(0)

    def index_dim(self, v: SSAValue, ix: ast.expr, dim: int, step: int) -> tuple[Any, int]:
        """One index of `x[...]` applied at `dim`; the next dim (walking by `step`)."""
        if isinstance(ix, ast.Slice):
            args: list[Any] = [v, dim]
            for part in (ix.lower, ix.upper):
                args.append(None if part is None else self.as_int(self.expr(part), part))
            args.append(1 if ix.step is None else self.as_int(self.expr(ix.step), ix.step))
            return self.registry_call("slice", args, {}, ix), dim + step
        if isinstance(ix, ast.Constant) and ix.value is None:  # x[None]: a new dim of size 1
            return self.registry_call("unsqueeze", [v, dim], {}, ix), dim + step
        i = self.expr(ix)
        if isinstance(i, PyList):  # x[[0, 2]]: a constant index tensor
            consts = [td._meta_or_const(x) if isinstance(x, SSAValue) else None for x in i.items]
            if not all(type(c) is int for c in consts):
                raise self.error(ix, "unsupported: a list index of anything but int constants")
            i = self.tensor_constant(Tensor(np.asarray(consts, np.int64)))
        if isinstance(i, SSAValue) and isinstance(i.type, td.ValueTensorType):
            dt = i.type.meta.dtype
            if dt is None and self.mc.deferrable:  # compile per argument types: dtypes known
                raise NeedsArgTypes("a tensor index needs its dtype", self.loc(ix))
            if dt is not None and dt.kind == 0:  # a boolean mask: its nonzero positions
                return v, self.mask_index(v, i, dim, step, ix)
            if dt is None or dt.kind != 1:
                raise self.error(
                    ix,
                    "unsupported: indexing with a tensor that is not known to hold integers "
                    "or booleans",
                )
            # (a 0-d index tensor too: TorchScript places it as numpy does, not as an int
            # the way eager torch does)
            self.adv_indices[dim] = i
            return v, dim + step
        if not (isinstance(i, SSAValue) and isinstance(i.type, td.IntType)):
            raise self.error(ix, f"unsupported: indexing a tensor with a {describe(i)}")
        return self.registry_call("select", [v, dim, i], {}, ix), dim

    def mask_index(self, v: SSAValue, mask: SSAValue, dim: int, step: int, ix: ast.expr) -> int:
        """`x[..., mask, ...]`: the mask covers as many dims of x as it has, from `dim` (walking
        by `step`); each becomes a column of `nonzero(mask)` (a `?` row count: the data's) as a
        tensor index, so `aten.index` gathers the true positions. The next dim is returned."""
        mshape = mask.type.meta.shape  # type: ignore[attr-defined]
        xshape = v.type.meta.shape  # type: ignore[attr-defined]
        if mshape is None:
            self.need_rank(mask, ix, "a boolean mask index")
        if xshape is None:
            self.need_rank(v, ix, "indexing with a boolean mask")
        n = len(mshape)
        if n == 0:
            raise self.error(ix, "unsupported: indexing with a 0-d boolean tensor")
        first = dim if step > 0 else dim - n + 1  # (negative: counted from the end)
        lo = first if first >= 0 else first + len(xshape)
        covered = xshape[lo : lo + n] if 0 <= lo and lo + n <= len(xshape) else None
        if covered is None or None in covered or None in mshape or tuple(covered) != mshape:
            if covered is not None and None not in covered and None not in mshape:
                raise self.error(
                    ix,
                    f"The shape of the mask {list(mshape)} at index {lo} does not match the "
                    f"shape of the indexed tensor {list(xshape)}",
                )
            raise self.error(
                ix,
                "unsupported: a boolean mask index whose sizes or those of the dims it covers "
                "are not known at compile time",
            )
        nz = self.registry_call("nonzero", [mask], {}, ix)
        for j in range(n):
            col = self.registry_call("select", [nz, PyObj(1), PyObj(j)], {}, ix)
            self.adv_indices[first + j] = col
        return dim + n * step

    def index_call(self, e: ast.AST) -> Callable[..., Any]:
        """`call(name, *args)` for `advanced_index`: registry ops emitted here."""
        return lambda name, *args: self.registry_call(
            name, [self.index_arg(a) for a in args], {}, e
        )

    def index_arg(self, a: Any) -> Any:
        """An argument of an op of `advanced_index`: lists as script lists."""
        if isinstance(a, list):
            return self.new_list([self.b.constant(x) if isinstance(x, int) else x for x in a])
        return a

    def rank_of(self, t: SSAValue, e: ast.AST) -> int:
        shape = t.type.meta.shape  # type: ignore[attr-defined]
        if shape is None:
            self.need_rank(t, e, "indexing with tensors")
        return len(shape)

    def as_int(self, v: Any, node: ast.AST) -> SSAValue:
        if isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
            return v
        raise self.error(node, f"expected an int, got a {describe(v)}")

    def e_JoinedStr(self, e: ast.JoinedStr) -> PyObj:
        """An f-string of values known while compiling (one of run-time values is allowed
        only as an exception message: raising.py)."""
        template, values = self.message(e)
        for v in values:  # `f"{n}"` of an int parameter or a size: compiled per its value
            self.defer_to_int_values(v, e, "an f-string of a run-time int")
        consts = [const_of(v) for v in values]  # (scalar constants: `{2.0}`, folded sums)
        if UNKNOWN in consts or any(isinstance(c, (list, tuple)) for c in consts):
            raise Unrollable(  # (a `for` over a constant range unrolls, making them known)
                "unsupported: an f-string of run-time values (only as an exception message)",
                self.loc(e),
            )
        return PyObj(template.format(*(script_str(c) for c in consts)))

    def e_UnaryOp(self, e: ast.UnaryOp) -> Any:
        v = self.expr(e.operand)
        if isinstance(e.op, ast.Not):
            if isinstance(v, PyObj) and isinstance(v.obj, bool):
                return PyObj(not v.obj)
            r = self.scalar_op("aten.__not__", [self.to_bool(v, e)], e)
            self.note_refinement(r, self.refinement(v, False), self.refinement(v, True))
            return r
        if isinstance(e.op, ast.USub):
            c = td._meta_or_const(v) if isinstance(v, SSAValue) else UNKNOWN
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                return self.b.constant(-c)  # -1 stays a constant (list indices, sizes)
            if isinstance(v, SSAValue):
                if isinstance(v.type, td.ValueTensorType):
                    return self.registry_call("neg", [v], {}, e)
                if isinstance(v.type, td.IntType):
                    return self.scalar_op("aten.neg.int", [v], e)
                if isinstance(v.type, td.FloatType):
                    return self.scalar_op("aten.neg.float", [v], e)
        if isinstance(e.op, ast.UAdd):
            return v
        if isinstance(e.op, ast.Invert) and isinstance(v, SSAValue):
            if isinstance(v.type, td.ValueTensorType):
                return self.registry_call("bitwise_not", [v], {}, e)
        raise self.error(e, f"unsupported: unary {type(e.op).__name__} on a {describe(v)}")

    def e_BinOp(self, e: ast.BinOp) -> Any:
        return self.binop(e.op, self.expr(e.left), self.expr(e.right), e)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        name = _BINOPS.get(type(op))
        if name is None:
            raise self.error(node, f"unsupported operator {type(op).__name__}")
        return self.arith(name, a, b, node)

    def arith(self, name: str, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(a, PyObj) and isinstance(a.obj, bool):  # decided while compiling
            a = self.b.constant(a.obj)
        if isinstance(b, PyObj) and isinstance(b.obj, bool):
            b = self.b.constant(b.obj)
        if name == "add" and _both_str(a, b):  # str constants concatenate while compiling
            return PyObj(a.obj + b.obj)
        if name == "mul" and (_is_str(a) or _is_str(b)):  # "ab" * 3, also while compiling
            s, k = (a, b) if _is_str(a) else (b, a)
            return PyObj(s.obj * self.const_index(k, node, "repetition count"))
        if isinstance(a, (PyList, PyTuple)) or isinstance(b, (PyList, PyTuple)):
            r = self.list_binop(name, a, b, node)
            if r is not None:
                return r
        at = a.type if isinstance(a, SSAValue) else None
        bt = b.type if isinstance(b, SSAValue) else None
        if isinstance(at, td.ValueTensorType) or isinstance(bt, td.ValueTensorType):
            if not isinstance(at, td.ValueTensorType):  # scalar OP tensor
                flipped = {
                    "add": "add",
                    "mul": "mul",
                    "bitwise_and": "bitwise_and",
                    "bitwise_or": "bitwise_or",
                    "bitwise_xor": "bitwise_xor",
                    "lt": "gt",
                    "gt": "lt",
                    "le": "ge",
                    "ge": "le",
                    "eq": "eq",
                    "ne": "ne",
                }
                if name in flipped:
                    return self.registry_call(flipped[name], [b, a], {}, node)
                if name == "sub":
                    return self.registry_call("rsub", [b, a], {}, node)
                if name in ("remainder", "pow", "bitwise_left_shift", "bitwise_right_shift"):
                    # aten::remainder.Scalar_Tensor, pow.Scalar, bitwise_left_shift.Scalar_Tensor
                    return self.registry_call(name, [a, b], {}, node)
                if name == "div":
                    return self.registry_call(
                        "mul", [self.registry_call("reciprocal", [b], {}, node), a], {}, node
                    )
                if name == "floordiv" and isinstance(at, (td.IntType, td.FloatType)):
                    return self.scalar_floordiv_tensor(a, b, node)
                raise self.error(node, f"unsupported: {describe(a)} {name} Tensor")
            # Tensor // x is aten::floor_divide (the registry's name; `floordiv` is int // int)
            return self.registry_call(
                "floor_divide" if name == "floordiv" else name, [a, b], {}, node
            )
        if name in _TENSOR_ONLY:
            pass  # scalar bitwise operators: not supported (the error below)
        elif isinstance(at, (td.IntType, td.FloatType, td.BoolType)) and isinstance(
            bt, (td.IntType, td.FloatType, td.BoolType)
        ):
            if isinstance(at, td.BoolType) and isinstance(bt, td.BoolType) and name in ("eq", "ne"):
                return self.scalar_op(f"aten.{name}.bool", [a, b], node)
            if isinstance(at, td.BoolType):
                a = self.scalar_op("aten.Int.bool", [a], node)
            if isinstance(bt, td.BoolType):
                b = self.scalar_op("aten.Int.bool", [b], node)
            if name == "pow":
                return self.scalar_pow(a, b, node)
            if name in ("floordiv", "remainder"):
                if isinstance(a.type, td.IntType) and isinstance(b.type, td.IntType):
                    return self.scalar_op(f"aten.{name}.int", [a, b], node)
                a, b = self.to_float(a, node), self.to_float(b, node)  # scalar_math.py
                return self.scalar_op(f"aten.{name}.float", [a, b], node)
            if name == "matmul":
                raise self.error(node, f"unsupported: @ on {describe(a)} and {describe(b)}")
            if name == "div" or not (
                isinstance(a.type, td.IntType) and isinstance(b.type, td.IntType)
            ):
                a, b = self.to_float(a, node), self.to_float(b, node)
                return self.scalar_op(f"aten.{name}.float", [a, b], node)
            return self.scalar_op(f"aten.{name}.int", [a, b], node)
        msg = f"unsupported: operator '{_OP_SYMBOL.get(name, name)}' on {describe(a)} and {describe(b)}"
        if str_choice.is_str(a) or str_choice.is_str(b):  # a str a loop carries: unrolled over a
            raise Unrollable(msg, self.loc(node))  # constant range, where it is a constant
        raise self.error(node, msg)

    def scalar_floordiv_tensor(self, a: SSAValue, t: SSAValue, node: ast.AST) -> SSAValue:
        """`2 // t` as TorchScript has it: `t` read as a scalar of a's type (IntImplicit /
        FloatImplicit: a 0-d tensor only, an integral one for an int), then the scalar `//`
        (an int division by zero raises). Ranks and dtypes known here are checked here."""
        meta = t.type.meta  # type: ignore[attr-defined]
        if meta.shape is None:
            self.need_rank(t, node, "a scalar // Tensor")
        if meta.shape:
            raise self.error(
                node, "Cannot input a tensor of dimension other than 0 as a scalar argument"
            )
        is_int = isinstance(a.type, td.IntType)
        if meta.dtype is None and self.mc.deferrable:
            raise NeedsArgTypes("a scalar // Tensor needs the tensor's dtype", self.loc(node))
        if is_int and (meta.dtype is None or meta.dtype.kind == 2):
            raise self.error(
                node,
                f"Cannot input a tensor of type {getattr(meta.dtype, 'name', 'unknown')} as an "
                "integral argument",
            )
        kind = "Int" if is_int else "Float"
        v = self.scalar_op(f"aten.{kind}.Tensor", [t], node)
        return self.scalar_op(f"aten.floordiv.{kind.lower()}", [a, v], node)

    def scalar_pow(self, a: SSAValue, b: SSAValue, node: ast.AST) -> SSAValue:
        """`a ** b` on scalars: a float, as TorchScript's `aten::pow.int` / `pow.float` give
        (C's pow; `0 ** -1` raises, scalar_math.py)."""
        return self.float_pow(self.to_float(a, node), self.to_float(b, node), node)

    def select_scalar(self, c: SSAValue, a: SSAValue, b: SSAValue, node: ast.AST) -> SSAValue:
        """`a if c else b` for scalars of one type."""
        tb, tv, _ = self.region(lambda: a)
        eb, ev, _ = self.region(lambda: b)
        types = self.yield_joined(
            [(tb, [tv]), (eb, [ev])], node, lambda i: "the value", lambda vs: td.PrimIfYieldOp(*vs)
        )
        return self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb))).results[0]

    def to_float(self, v: SSAValue, node: ast.AST) -> SSAValue:
        if isinstance(v.type, td.FloatType):
            return v
        return self.scalar_op("aten.Float.int", [v], node)

    def e_Compare(self, e: ast.Compare) -> Any:
        left = self.expr(e.left)
        left_e = e.left
        result: Any = None
        for op, right_e in zip(e.ops, e.comparators, strict=True):
            right = self.expr(right_e)
            opt = _run_time_none_test(left, left_e, right, right_e)
            if isinstance(op, (ast.Is, ast.IsNot)) and opt is not None:  # optionals.py
                r: Any = self.optional_test(opt[0], opt[1], isinstance(op, ast.Is), e)
            elif isinstance(op, (ast.Is, ast.IsNot)):
                c = self.is_none(left, right, e)
                r = PyObj(c if isinstance(op, ast.Is) else not c)
            elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, PyDict):
                r = PyObj((self.dict_key(left, e) in right.items) == isinstance(op, ast.In))
            elif isinstance(op, (ast.In, ast.NotIn)) and _both_str(left, right):
                r = PyObj((left.obj in right.obj) == isinstance(op, ast.In))
            elif isinstance(op, (ast.In, ast.NotIn)):
                r = self.contains(left, right, e)
                if isinstance(op, ast.NotIn):
                    r = (
                        PyObj(not r.obj)
                        if isinstance(r, PyObj)
                        else self.scalar_op("aten.__not__", [r], e)
                    )
            elif _both_str(left, right) and type(op) in _STR_CMP:
                # str constants (literals, str attributes): compared while compiling
                r = PyObj(_STR_CMP[type(op)](left.obj, right.obj))
            elif (isinstance(left, StrChoice) or isinstance(right, StrChoice)) and isinstance(
                op, (ast.Eq, ast.NotEq)
            ):
                if not (str_choice.is_str(left) and str_choice.is_str(right)):
                    raise self.error(e, "unsupported: comparing a run-time str with a non-str")
                r = str_choice.compare(self, left, right, isinstance(op, ast.Eq), e)
            elif _both_dtype(left, right) and isinstance(op, (ast.Eq, ast.NotEq)):
                # `mask.dtype == torch.bool`: dtypes are known while compiling
                r = PyObj((left.obj == right.obj) == isinstance(op, ast.Eq))
            else:
                r = self.arith(_CMPOPS[type(op)], left, right, e)
            result = r if result is None else self.bool_and(result, lambda r=r: r, e)
            left, left_e = right, right_e
        return result

    def is_none(self, a: Any, b: Any, node: ast.AST) -> bool:
        def none(v: Any) -> bool | None:
            if isinstance(v, SSAValue):
                return isinstance(v.type, td.NoneType)
            return (
                None
                if isinstance(v, PyObj) and v.obj is not None
                else v is None or (isinstance(v, PyObj) and v.obj is None)
            )

        na, nb = none(a), none(b)
        if nb is True and na is not None:
            return na
        if na is True and nb is not None:
            return nb
        raise self.error(node, "unsupported: 'is' is only supported against None")

    def e_BoolOp(self, e: ast.BoolOp) -> Any:
        v = self.expr(e.values[0])
        for nxt in e.values[1:]:
            if isinstance(e.op, ast.And):
                v = self.bool_and(v, lambda n=nxt: self.expr(n), e)
            else:
                v = self.bool_or(v, lambda n=nxt: self.expr(n), e)
        return v

    def _short_circuit(self, a: Any, rhs: Callable[[], Any], node: ast.AST, is_and: bool) -> Any:
        if isinstance(a, PyObj) and isinstance(a.obj, bool):
            return rhs() if a.obj == is_and else a
        ca = self.to_bool(a, node)
        k = td._meta_or_const(ca)
        if isinstance(k, bool):  # `self.training or ...` in eval: the right side only if needed,
            return rhs() if k == is_and else ca  # as `if self.training:` drops its branch
        # `y is not None and y.sum() > 0`: the right side sees what the left side refines
        ref_a = self.refinement(ca, is_and)
        ref_r: list[Any] = [{}]

        def right() -> SSAValue:
            r = rhs()
            if isinstance(r, PyObj) and isinstance(r.obj, bool):
                return self.b.constant(r.obj)
            r = self.to_bool(r, node)
            ref_r[0] = self.refinement(r, is_and)
            return r

        right = self.refined(ref_a, right)
        tb, tv, _ = self.region(right if is_and else (lambda: self.b.constant(True)))
        eb, ev, _ = self.region((lambda: self.b.constant(False)) if is_and else right)
        types = self.yield_joined(
            [(tb, [tv]), (eb, [ev])],
            node,
            lambda i: "the condition",
            lambda vs: td.PrimIfYieldOp(*vs),
        )
        out = self.b.insert(td.PrimIfOp(ca, types, Region(tb), Region(eb))).results[0]
        both = {**ref_a, **ref_r[0]}  # a and b true / a or b false: both sides' refinements
        self.note_refinement(out, both if is_and else {}, {} if is_and else both)
        return out

    def bool_and(self, a: Any, rhs: Callable[[], Any], node: ast.AST) -> Any:
        return self._short_circuit(a, rhs, node, True)

    def bool_or(self, a: Any, rhs: Callable[[], Any], node: ast.AST) -> Any:
        return self._short_circuit(a, rhs, node, False)

    def e_IfExp(self, e: ast.IfExp) -> Any:
        c = self.cond(e.test)
        if isinstance(c, bool):
            return self.expr(e.body if c else e.orelse)
        tb, tv, _ = self.region(self.refined(self.refinement(c, True), lambda: self.expr(e.body)))
        eb, ev, _ = self.region(
            self.refined(self.refinement(c, False), lambda: self.expr(e.orelse))
        )
        if self.needs_optional_join(tv, ev):  # `x if c else None`: a run-time Optional
            tv, ev = self.optional_join(tv, ev, (tb, eb), e)
        if str_choice.is_str(tv) and str_choice.is_str(ev) and tv != ev:  # "a" if c else "b"
            tv, ev = str_choice.join(self, tv, ev, e, "the conditional expression")
        lt, le = leaves_of(tv), leaves_of(ev)
        if lt is None or le is None or not same_structure(tv, ev):
            # (in a `for` over a constant range, unrolling may decide the condition)
            raise Unrollable(
                f"unsupported: a conditional expression of {describe(tv)} and {describe(ev)} "
                "under a run-time condition (both must be values, or tuples of the same "
                "structure)",
                self.loc(e),
            )
        types = self.yield_joined(
            [(tb, lt), (eb, le)], e, lambda i: f"value {i}", lambda vs: td.PrimIfYieldOp(*vs)
        )
        op = self.b.insert(td.PrimIfOp(c, types, Region(tb), Region(eb)))
        return rebuild_like(tv, iter(op.results))


def _both_dtype(a: Any, b: Any) -> bool:
    return all(isinstance(v, PyObj) and isinstance(v.obj, DType) for v in (a, b))


_STR_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _is_str(v: Any) -> bool:
    return isinstance(v, PyObj) and isinstance(v.obj, str)


def _both_str(a: Any, b: Any) -> bool:
    return all(isinstance(v, PyObj) and isinstance(v.obj, str) for v in (a, b))


def _run_time_none_test(a: Any, a_e: ast.expr, b: Any, b_e: ast.expr) -> Any:
    """(the Optional, its variable's name or None) when `a is b` tests a run-time Optional
    (optionals.py) against None; None otherwise."""
    for opt, opt_e, other in ((a, a_e, b), (b, b_e, a)):
        none = isinstance(other, SSAValue) and isinstance(other.type, td.NoneType)
        if isinstance(opt, OptVal) and (none or isinstance(other, PyObj) and other.obj is None):
            return opt, opt_e.id if isinstance(opt_e, ast.Name) else None
    return None
