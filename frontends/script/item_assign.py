"""`x[index] = v` and `x[index] op= v` in scripted code: the new value of the whole tensor as
functional ops (`slice_scatter` / `select_scatter` back up through the slices and ints of the
index, `masked_fill` for a boolean mask, `index_put` for integer tensor indices), then `x` rebound to it under the alias rule of
aliasing.py (refused where another name, a view, an argument or a parameter would miss it)."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
from xdsl.ir import SSAValue

from xjit.dialects import torch as td
from xjit.frontends.script import aliasing
from xjit.frontends.script.registry_ops import NeedsArgTypes
from xjit.frontends.script.values import PyList, PyObj, describe


def assign_item(fc: Any, target: ast.Subscript, value: Any, how: str, node: ast.AST) -> None:
    if not isinstance(target.value, ast.Name):
        raise fc.error(
            target, "unsupported: item assignment to anything but a variable (`x[i] = v`)"
        )
    name = target.value.id
    x = fc.env.get(name)
    if not (isinstance(x, SSAValue) and isinstance(x.type, td.ValueTensorType)):
        raise fc.error(target, f"unsupported: item assignment to a {describe(x)}")
    idxs = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
    if len(idxs) == 1 and not isinstance(idxs[0], (ast.Slice, ast.Constant)):
        i = fc.expr(idxs[0])
        if isinstance(i, SSAValue) and isinstance(i.type, td.ValueTensorType):
            new = _masked(fc, x, i, value, idxs[0])
            aliasing.rebind_update(fc, {name}, x, new, how, node)
            return
    if len(idxs) > 1 and all(not isinstance(ix, (ast.Slice, ast.Constant)) for ix in idxs):
        ts = [fc.expr(ix) for ix in idxs]
        if all(isinstance(t, SSAValue) and isinstance(t.type, td.ValueTensorType) for t in ts):
            new = _index_put(fc, x, ts, value, node)  # x[i, j] = v: tensor indices
            aliasing.rebind_update(fc, {name}, x, new, how, node)
            return
    steps: list[tuple[str, SSAValue, list[Any]]] = []
    adv: dict[int, SSAValue] = {}  # integer tensor indices among ints and slices, by dim
    y = _views(fc, x, idxs, steps, adv)
    new = _as_tensor(fc, value, x, node)
    if adv:
        new = _put_at(fc, y, adv, new, node)
    elif y.type.meta.shape is not None:  # type: ignore[attr-defined]
        new = fc.registry_call("expand", [new, _sizes(fc, y, node)], {}, node)
    else:
        # y's rank is not known here (torch.zeros(n, d) with run-time sizes, `x.to(dt)` of an
        # argument): broadcast to it all the same, or a scalar into a row fails to verify
        # once shape refinement knows the row; expand_as still rejects a value too big
        new = fc.registry_call("expand_as", [new, y], {}, node)
    for kind, parent, args in reversed(steps):
        if kind == "unsqueeze":
            new = fc.registry_call("squeeze", [new, *args], {}, node)
        elif kind == "select" and not _known(args[1]):
            new = _select_scatter_at_run_time(fc, parent, new, args[0], args[1], node)
        elif kind == "slice" and not all(_known(a) for a in args[1:]):
            raise fc.error(node, "unsupported: assigning into a slice with run-time bounds")
        else:
            new = fc.registry_call(f"{kind}_scatter", [parent, new, *args], {}, node)
    aliasing.rebind_update(fc, {name}, x, new, how, node)


def _views(
    fc: Any, x: SSAValue, idxs: list[ast.expr], steps: list[Any], adv: dict[int, SSAValue]
) -> SSAValue:
    """The ints, slices, None and `...` of the index applied, each view noted in `steps`; the
    integer tensor indices left in `adv`, by the dim of the view they index."""
    ell = [k for k, ix in enumerate(idxs) if isinstance(ix, ast.Constant) and ix.value is ...]
    if len(ell) > 1:
        raise fc.error(idxs[ell[1]], "an index can only have a single ellipsis ('...')")
    head, tail = (idxs[: ell[0]], idxs[ell[0] + 1 :]) if ell else (idxs, [])
    v, dim = x, 0
    for ix in head:
        v, dim = _one(fc, v, ix, dim, 1, steps, adv)
    dim = -1
    for ix in reversed(tail):
        v, dim = _one(fc, v, ix, dim, -1, steps, adv)
    return v


def _one(
    fc: Any,
    v: SSAValue,
    ix: ast.expr,
    dim: int,
    step: int,
    steps: list[Any],
    adv: dict[int, SSAValue],
) -> tuple[SSAValue, int]:
    if isinstance(ix, ast.Slice):
        args: list[Any] = [dim]
        for part in (ix.lower, ix.upper):
            args.append(None if part is None else fc.as_int(fc.expr(part), part))
        args.append(1 if ix.step is None else fc.as_int(fc.expr(ix.step), ix.step))
        if ix.lower is None and ix.upper is None and ix.step is None:
            return v, dim + step
        steps.append(("slice", v, args))
        return fc.registry_call("slice", [v, *args], {}, ix), dim + step
    if isinstance(ix, ast.Constant) and ix.value is None:
        steps.append(("unsqueeze", v, [dim]))
        return fc.registry_call("unsqueeze", [v, dim], {}, ix), dim + step
    i = fc.expr(ix)
    if isinstance(i, SSAValue) and isinstance(i.type, td.ValueTensorType):
        dt = i.type.meta.dtype
        if dt is None and fc.mc.deferrable:
            raise NeedsArgTypes("a tensor index needs its dtype", fc.loc(ix))
        if dt is not None and dt.kind == 1:  # x[0, idx] = v
            if i.type.meta.shape is None:
                fc.need_rank(i, ix, "assigning through a tensor index")
            if i.type.meta.shape:
                adv[dim] = i
                return v, dim + step
    if not (isinstance(i, SSAValue) and isinstance(i.type, td.IntType)):
        raise fc.error(
            ix,
            f"unsupported: assigning through an index that is a {describe(i)} (ints, slices, "
            "None, ..., integer tensors of rank >= 1 and a whole boolean mask are supported)",
        )
    steps.append(("select", v, [dim, i]))
    return fc.registry_call("select", [v, dim, i], {}, ix), dim + (0 if step > 0 else step)


def _put_at(
    fc: Any, y: SSAValue, adv: dict[int, SSAValue], value: SSAValue, node: ast.AST
) -> SSAValue:
    """`y[..., i, ..., j, ...] = value` with tensor indices `adv` and full slices elsewhere, as
    torch lays it out (shape_ops._index_put): the indexed dims moved to the front for
    `index_put`, the value's broadcast index dims moved with them where torch keeps them in
    place (adjacent indices after dim 0), and the dims moved back."""
    shape = y.type.meta.shape  # type: ignore[attr-defined]
    if shape is None:
        fc.need_rank(y, node, "assigning through a tensor index")
    rank = len(shape)
    norm = {d % rank if rank else d: i for d, i in adv.items()}
    pos = sorted(norm)
    ishapes = [norm[p].type.meta.shape for p in pos]  # type: ignore[attr-defined]
    rest = [d for d in range(rank) if d not in norm]
    if any(s is None or None in s for s in ishapes) or any(shape[d] is None for d in rest):
        raise fc.error(node, "unsupported: assigning through tensor indices of unknown sizes")
    bshape = list(np.broadcast_shapes(*ishapes))
    nb = len(bshape)
    front = [shape[d] for d in rest]
    c = fc.b.constant
    if pos == list(range(pos[0], pos[0] + len(pos))) and pos[0] > 0:
        p0 = pos[0]
        full = front[:p0] + bshape + front[p0:]
        value = fc.registry_call("expand", [value, fc.new_list([c(n) for n in full])], {}, node)
        perm = [*range(p0, p0 + nb), *range(p0), *range(p0 + nb, nb + len(rest))]
        value = fc.registry_call("permute", [value, fc.new_list([c(p) for p in perm])], {}, node)
    perm_y = pos + rest
    moved = perm_y != list(range(rank))
    if moved:
        y = fc.registry_call("permute", [y, fc.new_list([c(p) for p in perm_y])], {}, node)
    out = fc.registry_call("index_put", [y, fc.new_list([norm[p] for p in pos]), value], {}, node)
    if moved:
        inverse = [perm_y.index(d) for d in range(rank)]
        out = fc.registry_call("permute", [out, fc.new_list([c(p) for p in inverse])], {}, node)
    return out  # type: ignore[no-any-return]


def _as_tensor(fc: Any, value: Any, like: SSAValue, node: ast.AST) -> SSAValue:
    """The assigned value as a tensor of `like`'s dtype (torch casts it)."""
    dt = like.type.meta.dtype  # type: ignore[attr-defined]
    if dt is None and fc.mc.deferrable:  # compile per argument types, where it is known
        raise NeedsArgTypes("item assignment needs the tensor's dtype", fc.loc(node))
    if dt is None:
        raise fc.error(node, "unsupported: item assignment to a tensor of unknown dtype")
    if isinstance(value, SSAValue) and isinstance(value.type, td.ValueTensorType):
        if value.type.meta.dtype != dt:
            return fc.registry_call("to", [value, PyObj(dt)], {}, node)  # type: ignore[no-any-return]
        return value
    if isinstance(value, SSAValue) and isinstance(
        value.type, (td.IntType, td.FloatType, td.BoolType)
    ):
        return fc.registry_call("full", [PyList([]), value], {"dtype": PyObj(dt)}, node)  # type: ignore[no-any-return]
    raise fc.error(node, f"unsupported: assigning a {describe(value)} into a tensor")


def _sizes(fc: Any, y: SSAValue, node: ast.AST) -> PyList:
    shape = y.type.meta.shape  # type: ignore[attr-defined]
    if shape is None:
        fc.need_rank(y, node, "item assignment")
    return fc.new_list(  # type: ignore[no-any-return]
        [
            fc.b.constant(n)
            if n is not None
            else fc.scalar_op("aten.size.int", [y, fc.b.constant(k)], node)
            for k, n in enumerate(shape)
        ]
    )


def _masked(fc: Any, x: SSAValue, mask: SSAValue, value: Any, node: ast.AST) -> SSAValue:
    """`x[mask] = v`: `masked_fill` for a scalar or 0-d `v`, else `index_put` of its rows at
    the mask's nonzero positions (as many as the data decides)."""
    mt = mask.type.meta  # type: ignore[attr-defined]
    if mt.dtype is None and fc.mc.deferrable:
        raise NeedsArgTypes("x[mask] = v needs the mask's dtype", fc.loc(node))
    if mt.dtype is not None and mt.dtype.kind == 1:
        return _index_put(fc, x, [mask], value, node)  # x[idx] = v: an integer index tensor
    if mt.dtype is None or mt.dtype.kind != 0:
        raise fc.error(
            node,
            "unsupported: assigning through a tensor index that is not a boolean mask or an "
            "integer tensor",
        )
    xs = x.type.meta.shape  # type: ignore[attr-defined]
    if xs is None or mt.shape is None:
        fc.need_rank(x, node, "x[mask] = v")
    if isinstance(value, SSAValue) and isinstance(value.type, td.ValueTensorType):
        vs = value.type.meta.shape
        if vs is None:
            fc.need_rank(value, node, "x[mask] = tensor")
        if len(vs) != 0:
            return _mask_rows_put(fc, x, mask, value, node)
    if len(mt.shape) < len(xs):
        dims = [
            fc.b.constant(n)
            if n is not None
            else fc.scalar_op("aten.size.int", [mask, fc.b.constant(k)], node)
            for k, n in enumerate(mt.shape)
        ]
        ones = [fc.b.constant(1)] * (len(xs) - len(mt.shape))
        mask = fc.registry_call("reshape", [mask, fc.new_list(dims + ones)], {}, node)
    return fc.registry_call("masked_fill", [x, mask, value], {}, node)  # type: ignore[no-any-return]


def _mask_rows_put(fc: Any, x: SSAValue, mask: SSAValue, value: Any, node: ast.AST) -> SSAValue:
    """`x[mask] = t`, one value row per true: `index_put` at the columns of `nonzero(mask)`,
    whose row count is the data's (a `?`; index_put checks `t` against it at run time)."""
    xs, ms = x.type.meta.shape, mask.type.meta.shape  # type: ignore[attr-defined]
    lead = tuple(xs[: len(ms)])
    if None in lead or None in ms or len(ms) > len(xs) or not ms:
        raise fc.error(node, "unsupported: x[mask] = tensor with sizes unknown at compile time")
    if lead != tuple(ms):
        raise fc.error(
            node,
            f"The shape of the mask {list(ms)} at index 0 does not match the shape of the "
            f"indexed tensor {list(xs)}",
        )
    nz = fc.registry_call("nonzero", [mask], {}, node)
    cols = [fc.registry_call("select", [nz, PyObj(1), PyObj(j)], {}, node) for j in range(len(ms))]
    return _index_put(fc, x, cols, value, node)


def _index_put(fc: Any, x: SSAValue, idx: list[SSAValue], value: Any, node: ast.AST) -> SSAValue:
    """`x[i, j] = v` with integer tensor indices on the leading dims: `index_put`."""
    for i in idx:
        dt = i.type.meta.dtype  # type: ignore[attr-defined]
        if dt is None or dt.kind != 1:
            raise fc.error(
                node,
                "unsupported: several tensor indices that are not all integer tensors "
                "(a boolean mask must be the whole index)",
            )
    new = _as_tensor(fc, value, x, node)
    return fc.registry_call("index_put", [x, fc.new_list(idx), new], {}, node)  # type: ignore[no-any-return]


def _known(v: Any) -> bool:
    return v is None or isinstance(v, int) or isinstance(td._meta_or_const(v), int)


def _select_scatter_at_run_time(
    fc: Any, x: SSAValue, src: SSAValue, dim: int, i: SSAValue, node: ast.AST
) -> SSAValue:
    """`select_scatter(x, src, dim, i)` for an `i` known only at run time (`out[t] = h` in a
    loop): `where(arange(n) == i, src, x)` with `dim` moved last (so the mask broadcasts
    without knowing the rank); a negative i counts from the end; an out-of-range i raises, as
    in torch (the mask alone would leave x unchanged, silently)."""
    n = fc.scalar_op("aten.size.int", [x, fc.b.constant(dim)], node)
    in_range = fc.scalar_op(
        "aten.__and__.bool",
        [
            fc.scalar_op("aten.ge.int", [i, fc.e_neg(n, node)], node),
            fc.scalar_op("aten.lt.int", [i, n], node),
        ],
        node,
    )
    fc.guard(
        in_range,
        f"IndexError: index {{}} is out of bounds for dimension {dim} with size {{}}",
        [i, n],
        node,
    )
    ar = fc.registry_call("arange", [n], {}, node)
    here = fc.registry_call("eq", [ar, i], {}, node)
    wrapped = fc.registry_call("eq", [ar, fc.scalar_op("aten.add.int", [i, n], node)], {}, node)
    mask = fc.registry_call("where", [here, here, wrapped], {}, node)
    src = fc.registry_call("unsqueeze", [src, dim], {}, node)
    last = [fc.b.constant(dim), fc.b.constant(-1)]
    xt = fc.registry_call("transpose", [x, *last], {}, node)
    st = fc.registry_call("transpose", [src, *last], {}, node)
    out = fc.registry_call("where", [mask, st, xt], {}, node)
    return fc.registry_call("transpose", [out, *last], {}, node)  # type: ignore[no-any-return]
