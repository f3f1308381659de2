"""Vectorizing one `loop.nest` into whole-array numpy statements.

Every value in the body becomes an array aligned to the nest's iteration space (trailing
aligned, so broadcasting does the rest): loads are views, scalar ops are ufunc calls, stores
write with `out=` or `np.copyto`. Reduction nests become `ufunc.reduce`, `np.matmul` or
`np.einsum`. Whatever does not fit raises `NotVectorizable`, and the caller falls back to
scalar loops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects import memref
from xdsl.dialects.arith import ConstantOp
from xdsl.ir import Attribute, Operation, SSAValue

from xjit.backends.numpy.access import (
    Axis,
    NotVectorizable,
    access_axes,
    affine_src,
    aligned_view,
    arrange,
    base_view,
    full_extent,
    index_srcs,
)
from xjit.backends.numpy.dtypes import (
    constant_src,
    dtype_src,
    identity_value,
    int_width,
    is_bool,
    is_float,
    is_index,
    signed_value,
)
from xjit.backends.numpy.scalar_ops import Expr, is_scalar_op, op_expr
from xjit.dialects.loop import PARALLEL, REDUCTION, LoadOp, NestOp, StoreOp, YieldOp

# Combiners a reduction nest may use, with the ufunc whose `.reduce` implements them.
REDUCERS = {
    "arith.addf": "np.add",
    "arith.addi": "np.add",
    "arith.mulf": "np.multiply",
    "arith.muli": "np.multiply",
    "arith.maximumf": "np.maximum",
    "arith.minimumf": "np.minimum",
    "arith.maxnumf": "np.fmax",
    "arith.minnumf": "np.fmin",
    "arith.maxsi": "np.maximum",
    "arith.minsi": "np.minimum",
    "arith.andi": "np.bitwise_and",
    "arith.ori": "np.bitwise_or",
    "arith.xori": "np.bitwise_xor",
}
# Reducers without an identity in numpy: given one explicitly so empty reductions work.
_NEEDS_INITIAL = {"np.maximum", "np.minimum", "np.fmax", "np.fmin"}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# The plan kind of a nest storing at computed indices (a scatter: `out[i, j] = v`).
SCATTER = "scatter"
# Elements per block when a large elementwise nest runs in blocks (see `_emit_elementwise`).
# Measured on e (tanh(x*a + b) * sigmoid(x) + x, 4M f32, 9 ufunc calls a block), x naive numpy,
# interleaved: 32K 0.66-0.68, 64K 0.52-0.54, 128K 0.49-0.51, 256K 0.48-0.50 — below 64K the
# per-call overhead of the block's ufuncs dominates; 128K (512 KiB a block of f32) keeps a
# block's few arrays within L2 + L3 slices on the 1-2 MiB-L2 machines measured.
CHUNK = 131072
# Elements per block of a reduction whose operand is computed (softmax's exp, layer norm's
# squared deviation), and of a row group (codegen._row_groups: softmax's or layer norm's nests in
# one loop over row blocks): 512 KiB of f32, so a block of input and output stays in a 1-2 MiB L2
# across the group's nests. Measured on 64x1024 and 1024x4096 f32: 16K elements per block is
# slower than no blocking (per-call overhead of ~8 ufunc calls a block), 64K-256K are alike.
RED_CHUNK = 131072
# Float sums along the last axis of at most this many elements use `np.einsum("ij->i", x)`
# instead of `np.add.reduce(x, axis=-1)`: 2.5-4x faster at 4096 f32 columns. einsum adds in
# order into a few SIMD-lane accumulators (worst-case relative error ~ n/8 * eps, 8e-5 at
# n = 16384 in f32) where add.reduce sums pairwise (~ log2(n) * eps); typical (random-sign)
# errors grow as sqrt(n) and stay within float32 test tolerances (rtol 1e-5 relative to the
# row's magnitude). Longer rows keep the pairwise sum.
EINSUM_SUM_MAX = 16384


@dataclass
class NestPlan:
    """What a nest does, decided before any code is written (fill folding needs it)."""

    nest: NestOp
    kind: str  # "parallel" or "reduction"
    stores: list[StoreOp]
    axes: dict[Operation, list[Axis]] = field(default_factory=dict)
    acc_load: LoadOp | None = None
    combiner: Operation | None = None
    contraction: tuple[LoadOp, LoadOp] | None = None
    fill: Attribute | None = None  # value attribute of a constant fill
    # Reduction nests: stores walking every loop (elementwise results computed alongside the
    # reduction, e.g. softmax's exp kept by linalg-fuse-elementwise), written before it.
    extra_stores: list[StoreOp] = field(default_factory=list)

    @property
    def target(self) -> SSAValue:
        return self.stores[0].memref


def _in_body(v: SSAValue, nest: NestOp) -> bool:
    owner = v.owner
    return isinstance(owner, Operation) and owner.parent_block() is nest.body.block


def analyse(nest: NestOp) -> NestPlan:
    """Check the nest is vectorizable and classify it; raises `NotVectorizable`."""
    ops = list(nest.body.block.ops)
    loads = [op for op in ops if isinstance(op, LoadOp)]
    stores = [op for op in ops if isinstance(op, StoreOp)]
    for op in ops:
        if not isinstance(op, LoadOp | StoreOp | YieldOp | ConstantOp) and not is_scalar_op(op):
            raise NotVectorizable(f"{op.name} in a nest body has no vectorized form")
    plan = NestPlan(nest, REDUCTION if REDUCTION in nest.iterator_kinds else PARALLEL, stores)
    plan.axes = {op: access_axes(op, nest) for op in loads + stores}
    if any(a.gather for s in stores for a in plan.axes[s]):
        return _analyse_scatter(plan, loads)
    if plan.kind != PARALLEL and any(a.gather for ld in loads for a in plan.axes[ld]):
        raise NotVectorizable("a gather (load at computed indices) in a reduction nest")
    if not stores:
        return plan
    stored = {s.memref for s in stores}
    if plan.kind == PARALLEL:
        if len(stored) != len(stores):
            raise NotVectorizable("two stores to one buffer in a parallel nest")
        for s in stores:
            covered = {a.iv for a in plan.axes[s] if a.iv is not None}
            if covered != set(range(len(nest.ivs))):
                raise NotVectorizable("a store does not depend on every parallel dim")
        for ld in loads:
            if ld.memref not in stored:
                continue
            st = next(s for s in stores if s.memref == ld.memref)
            if len(stores) > 1 or not _same_access(ld, st) or ops.index(ld) > ops.index(st):
                # Whole-array evaluation would read values the loop had not yet written.
                raise NotVectorizable(
                    f"{ld.name} reads a buffer this nest writes, at another point"
                )
        if len(stores) == 1 and not loads:
            v = stores[0].value
            if isinstance(v.owner, ConstantOp):
                plan.fill = v.owner.value
        return plan
    return _analyse_reduction(plan, loads)


def _analyse_scatter(plan: NestPlan, loads: list[LoadOp]) -> NestPlan:
    """A store at computed indices (`scatter.index_put`): one store, and the target read only
    by an accumulation at the same position (`out[key] += v`, emitted as `np.add.at`)."""
    if len(plan.stores) != 1:
        raise NotVectorizable("a scatter nest with several stores")
    store = plan.stores[0]
    if any(a.gather for ld in loads for a in plan.axes[ld] if ld.memref != store.memref):
        raise NotVectorizable("a scatter nest that also gathers")
    own = [ld for ld in loads if ld.memref == store.memref]
    plan.kind = SCATTER
    if not own:
        return plan
    comb = store.value.owner
    if (
        len(own) != 1
        or not _same_access(own[0], store)
        or not isinstance(comb, Operation)
        or comb.name not in ("arith.addf", "arith.addi")
        or own[0].result not in comb.operands
        or not own[0].result.has_one_use()
    ):
        raise NotVectorizable("a scatter nest reads its target other than to accumulate")
    plan.acc_load, plan.combiner = own[0], comb
    return plan


def _same_access(a: LoadOp | StoreOp, b: LoadOp | StoreOp) -> bool:
    return a.memref == b.memref and a.map == b.map and list(a.indices) == list(b.indices)


def _analyse_reduction(plan: NestPlan, loads: list[LoadOp]) -> NestPlan:
    nest = plan.nest
    every = set(range(len(nest.ivs)))
    full = [s for s in plan.stores if {a.iv for a in plan.axes[s] if a.iv is not None} == every]
    if len(plan.stores) - len(full) == 1 and full:
        extra_bufs = {s.memref for s in full}
        if len(extra_bufs) != len(full) or any(ld.memref in extra_bufs for ld in loads):
            raise NotVectorizable("a reduction nest reads a buffer it writes elementwise")
        plan.extra_stores = full
        plan.stores = [s for s in plan.stores if s not in full]
        if plan.stores[0].memref in extra_bufs:
            raise NotVectorizable("a reduction nest stores its accumulator elementwise too")
    if len(plan.stores) != 1:
        raise NotVectorizable("a reduction nest with several stores")
    store = plan.stores[0]
    kinds = nest.iterator_kinds
    parallel = {p for p, k in enumerate(kinds) if k == PARALLEL}
    walked = [a.iv for a in plan.axes[store] if a.iv is not None]
    if set(walked) != parallel:
        raise NotVectorizable("the reduction's store map does not walk exactly the parallel dims")
    comb = store.value.owner
    if (
        not isinstance(comb, Operation)
        or comb.name not in REDUCERS
        or not _in_body(store.value, nest)
    ):
        raise NotVectorizable("the stored value is not a known combiner of the accumulator")
    accs = [
        o.owner
        for o in comb.operands
        if isinstance(o.owner, LoadOp) and _same_access(o.owner, store) and o.has_one_use()
    ]
    if not accs or not store.value.has_one_use():
        raise NotVectorizable("no read-modify-write of the accumulator")
    acc = accs[0]
    if any(ld.memref == store.memref and ld is not acc for ld in loads):
        raise NotVectorizable("the accumulator buffer is read elsewhere in the reduction")
    plan.acc_load, plan.combiner = acc, comb
    x = _other_operand(comb, acc.result)
    prod = x.owner
    if (
        not plan.extra_stores
        and comb.name in ("arith.addf", "arith.addi")
        and not is_bool(x.type)
        and isinstance(prod, Operation)
        and prod.name in ("arith.mulf", "arith.muli")
        and _in_body(x, nest)
        and all(isinstance(o.owner, LoadOp) and _in_body(o, nest) for o in prod.operands)
        and len(nest.ivs) <= len(_LETTERS)
    ):
        a, b = (o.owner for o in prod.operands)
        dims = {ax.iv for op in (a, b) for ax in plan.axes[op] if ax.iv is not None}
        if dims == set(range(len(nest.ivs))):  # einsum needs every dim on some operand
            plan.contraction = (a, b)  # type: ignore[assignment]
    return plan


def _other_operand(op: Operation, v: SSAValue) -> SSAValue:
    a, b = op.operands
    return b if a is v else a


def region_key(plan: NestPlan) -> tuple:
    """Identifies the region the (single) store of a nest writes, to match fills with reductions."""
    nest, store = plan.nest, plan.stores[0]
    key: list[object] = [store.memref]
    for a in plan.axes[store]:
        if a.iv is None:
            # A constant index is the same element in every nest; one reading values from
            # outside the nest is identified by those values.
            fixed = () if a.expr is not None and not a.expr.used_dims() else tuple(store.indices)
            key.append(("at", str(a.expr), fixed))
            continue
        bound = nest.bounds[a.iv]
        owner = bound.owner
        extent = ("c", owner.value.value.data) if isinstance(owner, ConstantOp) else bound
        if extent == ("c", 1) and a.expr is None:
            key.append(("at", "0", ()))  # a unit axis walked whole is its index 0 (a (64, 1) fill)
            continue
        offset = ("from", str(a.expr), tuple(store.indices)) if a.expr is not None else ()
        key.append((extent, offset))
    return tuple(key)


class NestEmitter:
    """Writes the numpy statements of one vectorizable nest."""

    def __init__(
        self,
        plan: NestPlan,
        name: Callable[[SSAValue], str],
        fresh: Callable[[str], str],
        const: Callable[[str], str] | None = None,
        scalar: Callable[[SSAValue], bool] | None = None,
        alias: Mapping[SSAValue, SSAValue] | None = None,
    ):
        self.plan, self.nest = plan, plan.nest
        # Body values read as another value instead of computed (softmax_shift: `v - m` as `v`).
        self.alias = dict(alias or {})
        # 0-d buffers held as numpy scalars in a variable: read by name, written by assignment.
        self.scalar = scalar or (lambda v: False)
        self.name, self.fresh = name, fresh
        # Names scalar constants at module level (built once, not per call); None: inline.
        self.const = const or (lambda text: text)
        self.n = len(self.nest.ivs)
        self.space = list(range(self.n))
        self.lines: list[str] = []
        self.vals: dict[SSAValue, tuple[Expr, frozenset[int]]] = {}
        self.bounds = [name(b) for b in self.nest.bounds]
        self.chunk: tuple[str, str] | None = None  # (start, stop) names while blocking dim 0
        self.pre: list[str] = []  # lines before the block loop (scratch, loop invariants)

    def emit_rows(
        self, folded_fill: bool, chunk: tuple[str, str], step: int
    ) -> tuple[list[str], list[str]]:
        """This nest's statements for rows `chunk` of dim 0 (one block of a row group, see
        `row_group_step`): (lines before the block loop, lines inside it)."""
        sizes = self._static_sizes()
        assert sizes is not None
        self.chunk = chunk
        if self.plan.kind == PARALLEL:
            self._registers(self.plan.stores, step, sizes)
        else:
            x = _other_operand(self.plan.combiner, self.plan.acc_load.result)  # type: ignore[arg-type, union-attr]
            self._registers(self.plan.extra_stores, step, sizes, also=x)
            self._emit_reduce(folded_fill, x)
        self.chunk = None
        return self.pre, self.lines

    def emit(self, folded_fill: bool) -> list[str]:
        if self.plan.kind == SCATTER:
            self._emit_scatter()
        elif self.plan.kind == PARALLEL:
            self._emit_elementwise(self.plan.stores, allow_chunk=True)
        elif self.plan.contraction is not None:
            self._emit_contraction(folded_fill)
        else:
            self._emit_reduction(folded_fill)
        return self.lines

    # values -------------------------------------------------------------------------------

    def value(self, v: SSAValue) -> tuple[Expr, frozenset[int]]:
        if v in self.vals:
            return self.vals[v]
        if v in self.alias:
            self.vals[v] = self.value(self.alias[v])
            return self.vals[v]
        ivs = self.nest.ivs
        if v in ivs:
            p = ivs.index(v)
            nones = ", None" * (self.n - p - 1)
            rng = f"{self.chunk[0]}, {self.chunk[1]}" if self.chunk and p == 0 else self.bounds[p]
            text = f"np.arange({rng})" + (f"[:{nones}]" if nones else "")
            res = (Expr(text), frozenset({p}))
        elif not _in_body(v, self.nest):
            res = (Expr(self.name(v)), frozenset())
        else:
            op = v.owner
            assert isinstance(op, Operation)
            if isinstance(op, LoadOp) and any(a.gather for a in self.plan.axes[op]):
                res = self._gather(op)
            elif isinstance(op, LoadOp):
                res = self._view(op, self.space, trim=True)
            elif isinstance(op, ConstantOp):
                res = (Expr(self.const(constant_src(op.value))), frozenset())
            else:
                args = [self.value(o) for o in op.operands]
                expr = self._op_expr(op, args)
                res = (expr, frozenset().union(*(a[1] for a in args)))
                if self.chunk is not None and 0 not in res[1]:
                    tmp = self.fresh("t")  # invariant across blocks: computed once, before
                    self.pre.append(f"{tmp} = {expr.text}")
                    res = (Expr(tmp), res[1])
                elif v.has_more_than_one_use():  # computed once, reused by name
                    tmp = self.fresh("t")
                    self.lines.append(f"{tmp} = {expr.text}")
                    res = (Expr(tmp), res[1])
        self.vals[v] = res
        return res

    def _op_expr(self, op: Operation, args: list[tuple[Expr, frozenset[int]]]) -> Expr:
        """`op_expr`, except a float division by a value that varies along fewer loops than
        the dividend (softmax's `e / sum`, layer norm's `x / n`): a multiplication by its
        reciprocal, taken once per divisor element (as PyTorch's CPU softmax does; within
        1 ulp of the quotient, and a multiply is ~1.5x cheaper than a divide). Zeros, infs
        and NaNs give the quotient's results; only a subnormal divisor below 1/FLT_MAX (its
        reciprocal overflows) differs."""
        if op.name == "arith.divf" and len(args) == 2 and args[1][1] < args[0][1]:
            (a, _), (b, _) = args
            inv = f"np.reciprocal({b.text})"
            if isinstance(op.operands[1].owner, ConstantOp):
                inv = self.const(inv)  # a module-level constant, computed once
            return Expr(f"np.multiply({a.text}, {inv})", "np.multiply", (a.text, inv))
        return op_expr(op, [a[0].text for a in args])

    def _gather(self, op: LoadOp | StoreOp) -> tuple[Expr, frozenset[int]]:
        """A load at indices computed in the body: numpy fancy indexing, every index an array
        aligned to the iteration space (broadcasting does the rest). When the computed axes lead
        and the rest walk the innermost loops whole and in order (embedding), `W[idx]`."""
        axes = self.plan.axes[op]
        ivs = set(self.nest.ivs)
        amap = op.map.data
        gathered: list[tuple[Expr, frozenset[int]]] = []
        for a, res in zip(axes, amap.results, strict=True):
            if a.gather:
                gathered.append(self.value(op.indices[res.position]))  # type: ignore[union-attr]
        dims = frozenset().union(*(d for _, d in gathered))
        k = len(gathered)
        rest = axes[k:]
        m = len(rest)
        buf = self.name(op.memref)
        if (
            all(a.gather for a in axes[:k])
            and [a.iv for a in rest] == list(range(self.n - m, self.n))
            and all(a.expr is None for a in rest)
            and all(d < self.n - m for d in dims)
            and all(_full(op, self.nest, j + k) for j in range(m))
        ):
            zeros = ", 0" * m
            # (a 0-d index, e.g. x[j, :, i] with a 0-d j, is a scalar: nothing to strip)
            idx = [f"{e.text}[...{zeros}]" if m and d else e.text for e, d in gathered]
            return Expr(f"{buf}[{', '.join(idx)}]"), dims | frozenset(range(self.n - m, self.n))
        operands = [
            "" if v in ivs else self.name(v) if not _in_body(v, self.nest) else ""
            for v in op.indices
        ]
        parts: list[str] = []
        g = iter(gathered)
        for a in axes:
            if a.gather:
                parts.append(next(g)[0].text)
            elif a.iv is not None:
                e, _ = self.value(self.nest.ivs[a.iv])
                dims |= {a.iv}
                parts.append(
                    e.text if a.expr is None else f"({affine_src(a.expr, operands)} + {e.text})"
                )
            else:
                parts.append(affine_src(a.expr, operands))  # type: ignore[arg-type]
        return Expr(f"{buf}[{', '.join(parts)}]"), dims

    def _emit_scatter(self) -> None:
        """`out[key] = v`, or `np.add.at(out, key, v)` when the nest accumulates (every
        duplicate index adds, as torch's accumulate=True); `key` as a gather's, so the
        leading-dims case is `out[idx] = v`."""
        store = self.plan.stores[0]
        key, _ = self._gather(store)
        buf = self.name(store.memref)
        assert key.text.startswith(f"{buf}[")
        parts = key.text[len(buf) + 1 : -1]
        if self.plan.combiner is not None:
            x = _other_operand(self.plan.combiner, self.plan.acc_load.result)  # type: ignore[union-attr]
            val, _ = self.value(x)
            self.lines.append(f"np.add.at({buf}, ({parts},), {val.text})")
        else:
            val, _ = self.value(store.value)
            self.lines.append(f"{buf}[{parts}] = {val.text}")

    def _view(
        self, op: LoadOp | StoreOp, space: list[int], trim: bool
    ) -> tuple[Expr, frozenset[int]]:
        axes = self.plan.axes[op]
        idx = index_srcs(op, self.nest, axes, self.name)
        text, present = aligned_view(self.name(op.memref), axes, idx, space, trim)
        dims = frozenset(space[q] for q in present)
        if self.chunk is not None and 0 in dims:
            text = f"{text}[{self.chunk[0]}:{self.chunk[1]}]"  # axis 0 of the view walks dim 0
        return Expr(text), dims

    # stores --------------------------------------------------------------------------------

    def _emit_store(self, store: StoreOp) -> None:
        target, _ = self._view(store, self.space, trim=False)
        expr, _ = self.value(store.value)
        if self.scalar(store.memref):
            self.lines.append(f"{self.name(store.memref)} = {_scalar_text(expr)}")
            return
        own = store.value.has_one_use() and expr.ufunc is not None
        if own and not _is_element(self.plan.axes[store]):
            self.lines.append(expr.render(out=target.text))  # the last ufunc writes in place
        else:
            self.lines.append(_assign(target.text, expr.text))

    def operand_text(self, v: SSAValue, chunk: tuple[str, str] | None) -> str:
        """The numpy text of body value `v` (a load), for rows `chunk` of dim 0 when given."""
        self.chunk = chunk
        try:
            return self.value(v)[0].text
        finally:
            self.chunk = None

    def _static_size(self, dim: int) -> int:
        """The constant extent of loop `dim`, or -1."""
        owner = self.nest.bounds[dim].owner
        return owner.value.value.data if isinstance(owner, ConstantOp) else -1  # type: ignore[union-attr]

    def _static_sizes(self) -> list[int] | None:
        sizes = []
        for b in self.nest.bounds:
            owner = b.owner
            if not isinstance(owner, ConstantOp):
                return None
            sizes.append(owner.value.value.data)  # type: ignore[union-attr]
        return sizes

    def _emit_elementwise(self, stores: list[StoreOp], allow_chunk: bool) -> None:
        """Parallel stores as ufunc calls writing with `out=` into *registers*: the store
        targets themselves, or (for blocked nests) chunk-sized scratch arrays, reused once
        their value is dead, so a fused chain allocates no temporaries. Large nests run in
        blocks of about `CHUNK` elements along dim 0, so each input is read from memory once.
        """
        if any(_is_element(self.plan.axes[st]) for st in stores) or self.n == 0:
            for st in stores:
                self._emit_store(st)
            return
        sizes = self._static_sizes()
        step = None
        if allow_chunk and sizes is not None and math.prod(sizes) >= 2 * CHUNK:
            inner = math.prod(sizes[1:])
            step = max(1, CHUNK // max(inner, 1))
            if sizes[0] < 2 * step:
                step = None
        if step is None:
            self._registers(stores, None, sizes)
            return
        assert sizes is not None
        with self._row_blocks(step, sizes[0]):
            self._registers(stores, step, sizes)

    @contextmanager
    def _row_blocks(self, step: int, rows: int) -> Iterator[None]:
        """What is emitted inside runs once per block of `step` rows: `for c0 in range(0, rows,
        step): c1 = c0 + step; ...`, with the block-invariant setup (`self.pre`) before it."""
        c0, c1 = self.fresh("c"), self.fresh("c")
        self.chunk = (c0, c1)
        outer, self.lines = self.lines, []
        try:
            yield
        finally:
            body = [f"{c1} = {c0} + {step}", *self.lines]
            self.chunk = None
            outer += self.pre
            outer.append(f"for {c0} in range(0, {rows}, {step}):")
            outer += ["    " + line for line in body]
            self.lines, self.pre = outer, []

    def _registers(
        self,
        stores: list[StoreOp],
        step: int | None,
        sizes: list[int] | None,
        also: SSAValue | None = None,
    ) -> None:
        """`also`: a value needed after these stores (a blocked reduction's operand), kept live
        in its register to the end of the block."""
        body = list(self.nest.body.block.ops)
        pos = {op: k for k, op in enumerate(body)}
        full = frozenset(self.space)
        # The ops these stores need, in body order.
        needed: set[Operation] = set()
        todo = [st.value.owner for st in stores] + ([also.owner] if also is not None else [])
        while todo:
            o = todo.pop()
            if isinstance(o, Operation) and _in_body(o.results[0], self.nest) and o not in needed:
                needed.add(o)
                todo += [self.alias.get(x, x).owner for x in o.operands]
        last: dict[SSAValue, int] = {}
        for op in body:
            if op in needed or op in stores:
                for x in op.operands:
                    last[self.alias.get(x, x)] = pos[op]
        if also is not None:
            last[also] = len(body)
        targets: dict[StoreOp, str] = {}
        for st in stores:
            targets[st] = self._view(st, self.space, trim=False)[0].text
        # Registers: name -> (dtype, value held, usable until). A target may hold intermediates
        # only until the op computing its own stored value.
        holder: dict[str, SSAValue | None] = {}
        dtype: dict[str, Attribute] = {}
        until: dict[str, int] = {}
        scratch: list[str] = []
        stored_in: dict[SSAValue, list[str]] = {}
        for st in stores:
            t = targets[st]
            stored_in.setdefault(st.value, []).append(t)
            owner = st.value.owner
            def_pos = pos.get(owner, -1) if isinstance(owner, Operation) else -1  # type: ignore[arg-type]
            if t in until:
                until[t] = min(until[t], def_pos)
                continue
            holder[t], until[t] = None, def_pos
            dtype[t] = st.memref.type.element_type  # type: ignore[attr-defined]
        blocked: set[str] = set()
        for op in body:  # the target's old contents, read at the store's own access
            if isinstance(op, LoadOp):  # by name: the codegen may give two buffers one storage
                for st in stores:
                    if self.name(op.memref) == self.name(st.memref):
                        t = targets[st]
                        same = op.map == st.map and list(op.indices) == list(st.indices)
                        if same and holder[t] is None:
                            holder[t] = op.result
                        else:  # read elsewhere, or twice: never a register
                            blocked.add(t)
        ops = [op for op in body if op in needed and not isinstance(op, LoadOp | ConstantOp)]
        for k, op in enumerate(ops):
            v = op.results[0]
            args = [self.value(o) for o in op.operands]
            expr = self._op_expr(op, args)
            dims = frozenset().union(*(a[1] for a in args))
            if self.chunk is not None and 0 not in dims:
                self.value(v)  # a block invariant: hoisted by value()
                continue
            reg = None
            if dims == full and op.name == "arith.select":
                reg = self._pick(op, v, pos, last, holder, dtype, until, stored_in, blocked)
                if reg is not None and holder[reg] is op.operands[2]:
                    # select(c, a, b) over b's own register: a masked fill in place, one pass
                    # writing only where c holds (np.where would make a temporary and copy it)
                    (c, _), (a, _), (b, _) = args
                    self.lines.append(f"np.copyto({b.text}, {a.text}, where={c.text})")
                    holder[reg] = v
                    self.vals[v] = (b, dims)
                    continue
                reg = None
            if dims == full and expr.ufunc is not None:
                reg = self._pick(op, v, pos, last, holder, dtype, until, stored_in, blocked)
                if reg is None and step is not None:
                    reg = self.fresh("s")
                    assert sizes is not None
                    shape = ", ".join(str(d) for d in [step, *sizes[1:]])
                    self.pre.append(f"{reg} = np.empty(({shape},), dtype={dtype_src(v.type)})")
                    scratch.append(reg)
                    holder[reg], dtype[reg], until[reg] = None, v.type, len(body)
            if reg is not None:
                text = reg
                if reg in scratch and sizes is not None and step is not None and sizes[0] % step:
                    text = f"{reg}[:{self.bounds[0]} - {self.chunk[0]}]"  # type: ignore[index]
                self.lines.append(expr.render(out=text))
                holder[reg] = v
                self.vals[v] = (Expr(text), dims)
                continue
            nxt = ops[k + 1] if k + 1 < len(ops) else None
            single = len({u.operation for u in v.uses}) == 1
            if single and nxt is not None and v in nxt.operands and v not in stored_in:
                self.vals[v] = (expr, dims)  # evaluated inline by the very next op
            else:
                tmp = self.fresh("t")
                self.lines.append(f"{tmp} = {expr.text}")
                self.vals[v] = (Expr(tmp), dims)
        for st in stores:
            t = targets[st]
            text, _ = self.value(st.value)
            if text.text != t:
                self.lines.append(_assign(t, text.text))

    def _pick(self, op, v, pos, last, holder, dtype, until, stored_in, blocked) -> str | None:  # noqa: ANN001
        k = pos[op]

        def free(r: str) -> bool:
            if r in blocked:
                return False
            h = holder[r]
            if dtype[r] != v.type or last.get(v, k) > until[r] and r not in stored_in.get(v, ()):
                return False
            return h is None or last.get(h, -1) < k or (last.get(h, -1) == k and h in op.operands)

        for r in stored_in.get(v, ()):
            if free(r):
                return r
        for r in holder:
            if r not in stored_in.get(v, ()) and free(r):
                return r
        return None

    def _reduction_step(self) -> int | None:
        """Rows of dim 0 per block when a reduction's operand is computed (not a plain load)
        and large: the elementwise work and the reduction then run block by block over
        cache-sized scratch registers, not over full-size temporaries."""
        plan = self.plan
        assert plan.combiner is not None and plan.acc_load is not None
        kinds = self.nest.iterator_kinds
        sizes = self._static_sizes()
        x = _other_operand(plan.combiner, plan.acc_load.result)
        if (
            sizes is None
            or self.n < 2
            or kinds[0] != PARALLEL
            or _is_element(self.plan.axes[plan.stores[0]])
        ):
            return None
        if not _in_body(x, self.nest) or isinstance(x.owner, LoadOp | ConstantOp):
            return None
        if any(a.gather for axes in plan.axes.values() for a in axes):
            return None
        inner = math.prod(sizes[1:])
        step = max(1, RED_CHUNK // max(inner, 1))
        return step if sizes[0] >= 2 * step else None

    def _emit_reduction(self, folded: bool) -> None:
        step = self._reduction_step()
        if step is None:
            if self.plan.extra_stores:
                self._emit_elementwise(self.plan.extra_stores, allow_chunk=False)
            self._emit_reduce(folded, None)
            return
        sizes = self._static_sizes()
        assert sizes is not None
        with self._row_blocks(step, sizes[0]):
            x = _other_operand(self.plan.combiner, self.plan.acc_load.result)  # type: ignore[arg-type, union-attr]
            self._registers(self.plan.extra_stores, step, sizes, also=x)
            self._emit_reduce(folded, x)

    def _emit_reduce(self, folded: bool, blocked: SSAValue | None) -> None:
        plan = self.plan
        store, comb = plan.stores[0], plan.combiner
        assert comb is not None and plan.acc_load is not None
        kinds = self.nest.iterator_kinds
        red = [p for p, k in enumerate(kinds) if k == REDUCTION]
        par = [p for p, k in enumerate(kinds) if k == PARALLEL]
        x, xdims = self.value(_other_operand(comb, plan.acc_load.result))
        uf = REDUCERS[comb.name]
        if is_bool(comb.operands[0].type) and uf in ("np.add", "np.multiply"):
            uf = "np.logical_xor" if uf == "np.add" else "np.logical_and"
        dims = list(self.bounds)
        if blocked is not None and self.chunk is not None:  # this block's rows
            dims[0] = f"min({self.chunk[1]}, {self.bounds[0]}) - {self.chunk[0]}"
        full = f"({', '.join(dims)}{',' if self.n == 1 else ''})"
        if (folded and xdims != set(self.space)) or not set(red) <= xdims:
            # Broadcast dims must still be combined once per iteration (and `out=` needs
            # exactly the target's shape), so give the operand the full iteration shape.
            xtext, first = f"np.broadcast_to({x.text}, {full})", 0
        else:
            xtext, first = x.text, min(xdims)
        axis = tuple(p - first for p in red)
        extra = ""
        if uf in _NEEDS_INITIAL:
            extra = f", initial={self._identity(comb)}"
        target, _ = self._view(store, par, trim=False)
        t = target.text
        if self.scalar(store.memref):  # a numpy scalar: assigned, no `out=`
            t = self.name(store.memref)
            reduced = f"{uf}.reduce({xtext}, axis={axis}{extra})"
            self.lines.append(f"{t} = {reduced}" if folded else f"{t} = {uf}({t}, {reduced})")
            return
        if (
            uf == "np.add"
            and red == [self.n - 1]
            and xdims == set(self.space)
            and self.n <= len(_LETTERS)
            and not _is_element(plan.axes[store])
            and dtype_src(comb.results[0].type) in ("np.float32", "np.float64")
            and 0 <= self._static_size(self.n - 1) <= EINSUM_SUM_MAX
        ):
            # A float sum along the last axis: einsum's SIMD loop is 2.5-4x faster than
            # np.add.reduce (see EINSUM_SUM_MAX for the summation order and its error).
            dot = self._row_dot(_other_operand(comb, plan.acc_load.result), blocked)
            if dot is not None:
                self.lines.append(
                    f"{dot[:-1]}, out={t})" if folded else f"np.add({t}, {dot}, out={t})"
                )
                return
            letters = _LETTERS[: self.n]
            call = f'np.einsum("{letters}->{letters[:-1]}", {xtext}'
            self.lines.append(f"{call}, out={t})" if folded else f"np.add({t}, {call}), out={t})")
            return
        if _is_element(plan.axes[store]):  # a single element: numpy scalars, no `out=`
            reduced = f"{uf}.reduce({xtext}, axis={axis}{extra})"
            self.lines.append(_assign(t, reduced if folded else f"{uf}({t}, {reduced})"))
        elif folded:
            self.lines.append(f"{uf}.reduce({xtext}, axis={axis}, out={t}{extra})")
        else:
            self.lines.append(f"{uf}({t}, {uf}.reduce({xtext}, axis={axis}{extra}), out={t})")

    def _row_dot(self, x: SSAValue, blocked: SSAValue | None) -> str | None:
        """`np.vecdot(a, b)` for a last-axis sum of a product `a * b` computed in the body (layer
        norm's squared deviations): one pass over both, no product temporary (3-10x faster
        than multiply + einsum at 64x1024 f32; the same in-order SIMD accumulation as einsum's,
        see EINSUM_SUM_MAX). Only unblocked, and where numpy has vecdot (2.0 and later)."""
        prod = x.owner
        if (
            blocked is not None
            or self.chunk is not None
            or not hasattr(np, "vecdot")
            or not isinstance(prod, Operation)
            or prod.name != "arith.mulf"
            or not _in_body(x, self.nest)
            or not x.has_one_use()
        ):
            return None
        args = [self.value(o) for o in prod.operands]
        if any(d != set(self.space) for _, d in args):
            return None  # a broadcast operand: let einsum see the product's full shape
        return f"np.vecdot({args[0][0].text}, {args[1][0].text})"

    def _identity(self, comb: Operation) -> str:
        t = comb.results[0].type
        ident = identity_value(comb.name, t)
        assert ident is not None
        if is_float(t):
            return "np.inf" if ident > 0 else "-np.inf"
        return repr(int(ident))

    def _emit_contraction(self, folded: bool) -> None:
        plan = self.plan
        assert plan.contraction is not None
        store = plan.stores[0]
        kinds = self.nest.iterator_kinds
        red = [p for p, k in enumerate(kinds) if k == REDUCTION]
        operands = []
        for op in (*plan.contraction, store):
            axes = plan.axes[op]
            view = base_view(self.name(op.memref), index_srcs(op, self.nest, axes, self.name))
            operands.append((view, [a.iv for a in axes if a.iv is not None]))
        (av, ad), (bv, bd), (ov, od) = operands
        mm = _matmul_roles(ad, bd, od, red)
        swapped = _matmul_roles(bd, ad, od, red)
        if swapped is not None and (mm is None or (mm[2] != od and swapped[2] == od)):
            # a*b == b*a: pick the operand order that writes the output without a transpose.
            (av, ad), (bv, bd), mm = (bv, bd), (av, ad), swapped
        if mm is None:  # a stack times one matrix (a loop's batched projection)
            mm = _stacked_matmul_roles(ad, bd, od, red)
            flipped = _stacked_matmul_roles(bd, ad, od, red)
            if mm is None and flipped is not None:
                (av, ad), (bv, bd), mm = (bv, bd), (av, ad), flipped
        if mm is not None:
            am, bm, om = mm
            a, b, o = arrange(av, ad, am), arrange(bv, bd, bm), arrange(ov, od, om)
            k, n = (self._static_size(d) for d in bm) if len(bm) == 2 else (0, 0)
            if (
                len(om) > 2
                and len(bm) == 2
                and om == od
                and folded
                and k > 0
                and n > 0
                and o.isidentifier()
                and isinstance(store.memref.owner, memref.AllocOp)
            ):
                # [T, .., m, k] x [k, n]: one 2-D product over the flattened stack (one BLAS
                # call; the fresh output reshapes to a view, the input to a view if contiguous)
                self.lines.append(f"np.dot({a}.reshape(-1, {k}), {b}, {o}.reshape(-1, {n}))")
                return
            call = f"np.matmul({a}, {b}"
            if (
                folded
                and len(om) == 2
                and o.isidentifier()
                and isinstance(store.memref.owner, memref.AllocOp)
            ):
                # 2-D into a fresh (C-contiguous) buffer: np.dot is the same product with less
                # per-call overhead than matmul (≈0.8 vs 1.5 µs on small operands).
                self.lines.append(f"np.dot({a}, {b}, {o})")
                return
        else:
            subs = ",".join("".join(_LETTERS[d] for d in dims) for dims in (ad, bd))
            o = ov
            call = f'np.einsum("{subs}->{"".join(_LETTERS[d] for d in od)}", {av}, {bv}'
        if _is_element(plan.axes[store]):
            self.lines.append(_assign(o, f"{call})" if folded else f"np.add({o}, {call}))"))
        elif folded:
            self.lines.append(f"{call}, out={o})")
        else:
            self.lines.append(f"np.add({o}, {call}), out={o})")


_COMPARISONS = {
    "np.greater": ">",
    "np.greater_equal": ">=",
    "np.less": "<",
    "np.less_equal": "<=",
    "np.equal": "==",
    "np.not_equal": "!=",
}


def _scalar_text(expr: Expr) -> str:
    """A comparison of numpy scalars as an operator (the same result, a np.bool_, for about
    a twentieth of a ufunc call's cost); anything else as generated."""
    if expr.ufunc in _COMPARISONS and len(expr.args) == 2:
        a, b = expr.args
        return f"{a} {_COMPARISONS[expr.ufunc]} {b}"
    return expr.text


def _full(op: LoadOp, nest: NestOp, axis: int) -> bool:
    """Does `op` walk buffer axis `axis` over its whole extent?"""
    a = op.map.data.results[axis]
    iv = nest.ivs.index(op.indices[a.position])  # type: ignore[union-attr]
    return full_extent(op.memref, axis, nest.bounds[iv])


def _is_element(axes: list[Axis]) -> bool:
    """An access that indexes every axis: its view is a numpy scalar, not an array."""
    return bool(axes) and all(a.iv is None for a in axes)


def _assign(target: str, text: str) -> str:
    """Write `text` into the view `target` (basic indexing assigns in place; transposes copy)."""
    if target.isidentifier():
        return f"{target}[...] = {text}"
    if any(t in target for t in (".T", ".mT", ".transpose(")):
        return f"np.copyto({target}, {text})"  # `.T`/`.transpose(...)` views
    return f"{target} = {text}"


def _matmul_roles(
    a: list[int], b: list[int], o: list[int], red: list[int]
) -> tuple[list[int], list[int], list[int]] | None:
    """Dim orders (batch..., m, k), (batch..., k, n), (batch..., m, n) if this is a matmul."""
    if len(red) != 1:
        return None
    (k,) = red
    sa, sb, so = set(a), set(b), set(o)
    batch = sorted(sa & sb & so)
    m, n = (sa & so) - sb, (sb & so) - sa
    if k not in sa or k not in sb or len(m) != 1 or len(n) != 1:
        return None
    (m1,), (n1,) = m, n
    if sa != set(batch) | {m1, k} or sb != set(batch) | {k, n1} or so != set(batch) | {m1, n1}:
        return None
    return batch + [m1, k], batch + [k, n1], batch + [m1, n1]


def _stacked_matmul_roles(
    a: list[int], b: list[int], o: list[int], red: list[int]
) -> tuple[list[int], list[int], list[int]] | None:
    """Dim orders (lead..., m, k), (k, n), (lead..., m, n) if this is a stack of matrices times
    one matrix (numpy's matmul broadcasts the 2-D operand; flattened, it is one 2-D product)."""
    if len(red) != 1 or len(b) != 2:
        return None
    (k,) = red
    sa, sb, so = set(a), set(b), set(o)
    if k not in sa or k not in sb:
        return None
    (n,) = sb - {k}
    stack = sa - {k}
    if n in sa or len(stack) < 2 or so != stack | {n}:
        return None
    lead = [d for d in o if d in stack]
    return lead + [k], [k, n], lead + [n]


def identity_fill(fill: NestPlan, reduction: NestPlan) -> bool:
    """True if `fill` writes exactly the reduction's target with the combiner's identity."""
    if fill.fill is None or reduction.combiner is None:
        return False
    ident = identity_value(reduction.combiner.name, reduction.combiner.results[0].type)
    value = getattr(fill.fill, "value", None)
    if ident is None or value is None:
        return False
    v = value.data
    if isinstance(v, float) and math.isnan(v):
        return False
    t = fill.fill.type  # type: ignore[attr-defined]
    if isinstance(v, int) and not is_index(t):
        v = signed_value(v, int_width(t))
    return v == ident and region_key(fill) == region_key(reduction)


def row_extent(plan: NestPlan) -> int | None:
    """The static extent of dim 0 if this nest can run in row blocks inside a row group: dim 0
    parallel, static bounds, no contraction, no gathers, every store walking dim 0 once."""
    nest = plan.nest
    if plan.contraction is not None or not nest.ivs or nest.iterator_kinds[0] != PARALLEL:
        return None
    if plan.kind == REDUCTION and len(nest.ivs) < 2:
        return None
    sizes = []
    for b in nest.bounds:
        if not isinstance(b.owner, ConstantOp):
            return None
        sizes.append(b.owner.value.value.data)  # type: ignore[union-attr]
    if any(a.gather for axes in plan.axes.values() for a in axes):
        return None
    for st in [*plan.stores, *plan.extra_stores]:
        if row_axis(plan, st) is None:
            return None
    return sizes[0]


def row_axis(plan: NestPlan, op: LoadOp | StoreOp) -> int | None:
    """The buffer axis an access walks dim 0 on (whole, no offset), if exactly one does."""
    hits = [k for k, a in enumerate(plan.axes[op]) if a.iv == 0]
    if len(hits) != 1 or plan.axes[op][hits[0]].expr is not None:
        return None
    return hits[0]


def row_inner(plan: NestPlan) -> int:
    """Elements per row of dim 0."""
    return math.prod(b.owner.value.value.data for b in plan.nest.bounds[1:])  # type: ignore[union-attr]
