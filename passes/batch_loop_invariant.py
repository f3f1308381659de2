"""`batch-loop-invariant`: batch iteration-independent work out of sequential `scf.for` loops.

Runs on the linalg-on-tensors stage, *before* `linalg-fuse-elementwise`: fusion may merge an
iteration-independent producer into a consumer that reads the loop-carried value (in an RNN,
the bias add of `linear(x[i])` into `tanh(. + h)`), which would hide the independent part;
batched first, the hoisted ops are then fused with each other before the loop, and the ops
left in the loop with each other.

Inside an `scf.for %i = %lb to %ub step 1` (lb loop-invariant, step the constant 1), walking
the ops directly in the loop body (not those nested in `scf.if`: they may not run), a value is

- *invariant* when it is defined outside the loop;
- *batched* `(B, d)` when it equals `B[..., i - lb, ...]` (index along dim `d`) for a tensor `B`
  defined before the loop whose dim `d` has the trip count `N = max(ub - lb, 0)` as extent:
  a unit-stride `tensor.extract_slice %X[.., %i, ..][.., 1, ..]` of an invariant `%X` that drops
  exactly that dim (`B` is `%X` itself, or its slice `[.., lb, ..][.., N, ..]`), or a result of
  a batched op.

An op is

- *hoisted* as it is when all its operands (and the values its regions capture) are invariant
  and it is pure and cannot trap when the loop runs 0 times: arith/math (no integer division),
  `tensor.empty`/`dim`, `ml_program.global_load_const`, linalg ops on tensors, and
  `tensor.extract`/`extract_slice` whose indices are static and in bounds;
- *batched* when it is a `linalg.generic` (or `linalg.matmul`/`transpose`, generalised first,
  or `linalg.fill`) with every operand invariant or batched and at least one batched: a new
  generic before the loop gets one extra leading parallel loop `t` of extent `N`; maps of
  batched operands gain `t` at their batched dim, invariant inputs ignore it, `linalg.index k`
  becomes `linalg.index k+1`; an invariant init becomes a fresh `[N, ...]` tensor (an empty
  one, or a fill of the same value, or a broadcast copy when the body reads other init values).

Inside the loop, each use of a batched value becomes a view of the batched tensor at `i - lb`
(`tensor.extract_slice`, a `memref.subview` after bufferization), and a `tensor.extract` of it
reads the batched tensor directly. All hoisted work is pure and reads in-bounds data (the
slices cover `lb .. ub`, exactly what the loop would read), so it is safe when the loop runs
0 times; it costs one pass over the T slices, which the loop would have made anyway.

Loops with another step are left alone (a strided batch would need a strided view). Inner
loops are processed first, so work hoisted out of an inner loop can be batched over the outer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.builder import Builder, InsertPoint
from xdsl.context import Context
from xdsl.dialects import arith, ml_program, scf, tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AffineMapAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    TensorType,
)
from xdsl.dialects.linalg.attrs import IteratorTypeAttr
from xdsl.dialects.linalg.ops import FillOp, GenericOp, IndexOp, MatmulOp, TransposeOp, YieldOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, Region, SSAValue
from xdsl.ir.affine import AffineDimExpr, AffineMap
from xdsl.passes import ModulePass

from xjit.passes.linalg_fuse_elementwise import generalize_transpose

_TRAPPING = frozenset(
    {
        "arith.divsi",
        "arith.divui",
        "arith.ceildivsi",
        "arith.ceildivui",
        "arith.floordivsi",
        "arith.remsi",
        "arith.remui",
    }
)
_LINALG_ON_TENSORS = (GenericOp, FillOp, MatmulOp, TransposeOp)


def _strip_casts(v: SSAValue) -> SSAValue:
    while isinstance(v.owner, arith.IndexCastOp):
        v = v.owner.input
    return v


def _const_index(v: SSAValue) -> int | None:
    """The value of an integer constant, seen through `arith.index_cast`s."""
    op = _strip_casts(v).owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def _shift(m: AffineMap, insert_at: int | None) -> AffineMap:
    """`m` over one more leading dim `t` (old dims shifted by one); with `insert_at`, `t` is
    inserted as a result at that position."""
    shifted = [
        e.replace_dims_and_symbols([AffineDimExpr(k + 1) for k in range(m.num_dims)], [])
        for e in m.results
    ]
    if insert_at is not None:
        shifted.insert(insert_at, AffineDimExpr(0))
    return AffineMap(m.num_dims + 1, 0, tuple(shifted))


def _with_dim(t: TensorType, at: int, size: int) -> TensorType:
    shape = list(t.get_shape())
    shape.insert(at, size)
    return TensorType(t.element_type, shape)


def generalize_matmul(op: MatmulOp) -> GenericOp:
    """`linalg.matmul` as a generic: loops (m, n, k), C[m, n] += A[m, k] * B[k, n]."""
    a, b = op.inputs
    c = op.outputs[0]
    ets = {t.type.element_type for t in (a, b, c)}  # type: ignore[attr-defined]
    assert len(ets) == 1, "generalize_matmul: mixed element types"
    (et,) = ets
    block = Block(arg_types=[et, et, et])
    x, y, acc = block.args
    if isinstance(et, IntegerType | IndexType):
        mul: Operation = arith.MuliOp(x, y)
        add: Operation = arith.AddiOp(mul.results[0], acc)
    else:
        mul = arith.MulfOp(x, y)
        add = arith.AddfOp(mul.results[0], acc)
    block.add_ops([mul, add, YieldOp(add.results[0])])
    d0, d1, d2 = AffineDimExpr(0), AffineDimExpr(1), AffineDimExpr(2)
    maps = [AffineMap(3, 0, (d0, d2)), AffineMap(3, 0, (d2, d1)), AffineMap(3, 0, (d0, d1))]
    g = GenericOp(
        [a, b],
        [c],
        Region(block),
        [AffineMapAttr(m) for m in maps],
        [IteratorTypeAttr.parallel(), IteratorTypeAttr.parallel(), IteratorTypeAttr.reduction()],
        list(op.result_types),
    )
    g.location = op.location
    return g


@dataclass
class Batched:
    """An in-loop value equal to `tensor[..., t, ...]` (`t` at dim `dim`)."""

    tensor: SSAValue
    dim: int


class _LoopBatcher:
    def __init__(self, loop: scf.ForOp) -> None:
        self.loop = loop
        self.body = loop.body.block
        self.iv = self.body.args[0]
        self.before = Builder(InsertPoint.before(loop))
        self.batched: dict[SSAValue, Batched] = {}
        self.from_slice: set[Operation] = set()  # in-loop slices at %i, kept for other users
        self.fresh_clones: dict[SSAValue, SSAValue] = {}
        self.created: list[Operation] = []
        self._trip: SSAValue | None = None
        self._t: SSAValue | None = None
        self.changed = False

    def emit(self, op: Operation) -> Operation:
        self.before.insert(op)
        self.created.append(op)
        return op

    # -- where values live -------------------------------------------------------------------

    def inside(self, v: SSAValue) -> bool:
        op: Operation | None
        if isinstance(v, BlockArgument):
            op = v.block.parent_op()
        else:
            assert isinstance(v, OpResult)
            op = v.op
        while op is not None:
            if op is self.loop:
                return True
            op = op.parent_op()
        return False

    def invariant(self, v: SSAValue) -> bool:
        return not self.inside(v)

    def fresh(self, v: SSAValue) -> bool:
        """An in-loop `tensor.empty`, or `linalg.fill` of one, from invariant sizes and value:
        a fresh buffer per iteration, fine as the init of a hoisted or batched op."""
        op = v.owner
        if not isinstance(op, Operation) or op.parent_block() is not self.body:
            return False
        if isinstance(op, tensor.EmptyOp):
            return all(self.invariant(s) for s in op.operands)
        if isinstance(op, FillOp):
            init = op.outputs[0]
            return self.invariant(op.inputs[0]) and (self.invariant(init) or self.fresh(init))
        return False

    def hoist_fresh(self, v: SSAValue) -> SSAValue:
        """An invariant copy (before the loop) of the fresh init `v`; invariant `v` as it is."""
        if self.invariant(v):
            return v
        if v not in self.fresh_clones:
            op = v.owner
            if isinstance(op, FillOp):
                init = self.hoist_fresh(op.outputs[0])
                new = self.emit(FillOp([op.inputs[0]], [init], [init.type]))
            else:
                assert isinstance(op, tensor.EmptyOp)
                new = self.emit(tensor.EmptyOp(list(op.operands), op.tensor.type))
            new.location = op.location  # type: ignore[union-attr]
            self.fresh_clones[v] = new.results[0]
        return self.fresh_clones[v]

    def captures_invariant(self, op: Operation) -> bool:
        """Every value the regions of `op` read from outside `op` is loop-invariant."""
        for inner in op.walk():
            if inner is op:
                continue
            for v in inner.operands:
                owner = v.owner
                owner_op = owner.parent_op() if isinstance(owner, Block) else owner
                if owner_op is not None and (owner_op is op or op.is_ancestor(owner_op)):
                    continue
                if self.inside(v):
                    return False
        return True

    # -- the trip count and the batch index ------------------------------------------------

    @property
    def trip(self) -> SSAValue:
        """N = max(ub - lb, 0), built before the loop."""
        if self._trip is None:
            lb, ub = self.loop.lb, self.loop.ub
            n = self.static_trip()
            size = _strip_casts(ub)
            if n != DYNAMIC_INDEX:
                self._trip = self.emit(arith.ConstantOp.from_int_and_width(n, IndexType())).results[
                    0
                ]
            elif _const_index(lb) == 0 and isinstance(size.owner, tensor.DimOp):
                self._trip = size  # a size: never negative
            else:
                diff = ub if _const_index(lb) == 0 else self.emit(arith.SubiOp(ub, lb)).results[0]
                zero = self.emit(arith.ConstantOp.from_int_and_width(0, IndexType())).results[0]
                self._trip = self.emit(arith.MaxSIOp(diff, zero)).results[0]
        return self._trip

    def static_trip(self) -> int:
        clb, cub = _const_index(self.loop.lb), _const_index(self.loop.ub)
        if clb is not None and cub is not None:
            return max(cub - clb, 0)
        return DYNAMIC_INDEX

    @property
    def t(self) -> SSAValue:
        """i - lb, at the top of the loop body."""
        if self._t is None:
            if _const_index(self.loop.lb) == 0:
                self._t = self.iv
            else:
                sub = arith.SubiOp(self.iv, self.loop.lb)
                self.body.insert_op_before(sub, self.body.first_op)  # type: ignore[arg-type]
                self._t = sub.result
        return self._t

    def same_extent(self, src: SSAValue, dim: int) -> bool:
        """Is dim `dim` of the invariant `src` exactly N long (lb is 0)?"""
        size = src.type.get_shape()[dim]  # type: ignore[attr-defined]
        n = self.static_trip()
        if n != DYNAMIC_INDEX:
            return size == n
        ub = _strip_casts(self.loop.ub)
        dim_op = ub.owner
        return (
            isinstance(dim_op, tensor.DimOp)
            and dim_op.source == src
            and _const_index(dim_op.index) == dim
        )

    # -- classification ----------------------------------------------------------------------

    def hoistable(self, op: Operation) -> bool:
        """Pure, invariant, safe to run when the loop runs 0 times, worth moving."""
        if not op.results or all(not r.uses for r in op.results):
            return False
        if isinstance(op, tensor.EmptyOp | FillOp):
            return False  # fresh per-iteration inits stay (see `fresh`)
        if not self.captures_invariant(op):
            return False
        if isinstance(op, _LINALG_ON_TENSORS):
            ins, outs = _ins_outs(op)
            return (
                all(self.invariant(v) for v in ins)
                and all(self.invariant(v) or self.fresh(v) for v in outs)
                and not any(o.name in _TRAPPING for o in op.walk())
            )
        if not all(self.invariant(v) for v in op.operands):
            return False
        if isinstance(op, tensor.ExtractOp | tensor.ExtractSliceOp):
            return self._static_in_bounds(op)
        if isinstance(op, tensor.DimOp | ml_program.GlobalLoadConstantOp):
            return True
        if op.dialect_name() in ("arith", "math") and not op.regions:
            return op.name not in _TRAPPING
        return False

    @staticmethod
    def _static_in_bounds(op: tensor.ExtractOp | tensor.ExtractSliceOp) -> bool:
        src = op.tensor if isinstance(op, tensor.ExtractOp) else op.source
        shape = src.type.get_shape()  # type: ignore[attr-defined]
        if isinstance(op, tensor.ExtractOp):
            idx = [_const_index(v) for v in op.indices]
            return all(i is not None and 0 <= i < n for i, n in zip(idx, shape, strict=True))
        if op.offsets or op.sizes:
            return False
        offs, sizes = op.static_offsets.get_values(), op.static_sizes.get_values()
        return all(
            0 <= o and n >= 0 and o + s <= n for o, s, n in zip(offs, sizes, shape, strict=True)
        )

    def slice_at_iv(self, op: tensor.ExtractSliceOp) -> Batched | None:
        """`%X[.., %i, ..][.., 1, ..]` of an invariant `%X`, dropping exactly that dim."""
        if not self.invariant(op.source) or op.strides:
            return None
        if any(s != 1 for s in op.static_strides.get_values()):
            return None
        if not all(self.invariant(v) for v in op.sizes):
            return None
        dyn_offsets = list(op.offsets)
        if sum(1 for v in dyn_offsets if v == self.iv) != 1:
            return None
        if not all(v == self.iv or self.invariant(v) for v in dyn_offsets):
            return None
        static_offs = list(op.static_offsets.get_values())
        static_sizes = list(op.static_sizes.get_values())
        src_t, res_t = op.source.type, op.result.type
        assert isinstance(src_t, TensorType) and isinstance(res_t, TensorType)
        dyn_pos = [p for p, s in enumerate(static_offs) if s == DYNAMIC_INDEX]
        dim = dyn_pos[dyn_offsets.index(self.iv)]
        if static_sizes[dim] != 1 or res_t.get_num_dims() != src_t.get_num_dims() - 1:
            return None
        kept = [s for p, s in enumerate(static_sizes) if p != dim]
        if any(s != r for s, r in zip(kept, res_t.get_shape(), strict=True) if s != DYNAMIC_INDEX):
            return None
        full = (
            all(o == 0 for p, o in enumerate(static_offs) if p != dim)
            and all(
                s == n and s != DYNAMIC_INDEX
                for p, (s, n) in enumerate(zip(static_sizes, src_t.get_shape(), strict=True))
                if p != dim
            )
            and _const_index(self.loop.lb) == 0
            and self.same_extent(op.source, dim)
        )
        if full:
            return Batched(op.source, dim)
        # B = X[.., lb, ..][.., N, ..]: the rows lb .. ub-1 that the loop reads
        dyn = iter(dyn_offsets)
        offsets: list[SSAValue | int] = []
        for s in static_offs:
            if s == DYNAMIC_INDEX:
                v = next(dyn)
                offsets.append(self.loop.lb if v == self.iv else v)
            else:
                offsets.append(s)
        dyn_s = iter(op.sizes)
        sizes: list[SSAValue | int] = [
            next(dyn_s) if s == DYNAMIC_INDEX else s for s in static_sizes
        ]
        n = self.static_trip()
        sizes[dim] = self.trip if n == DYNAMIC_INDEX else n
        rt = _with_dim(res_t, dim, n)
        b = self.emit(tensor.ExtractSliceOp(op.source, offsets, sizes, [1] * len(sizes), rt))
        return Batched(b.results[0], dim)

    def batchable(self, op: Operation) -> bool:
        if not isinstance(op, _LINALG_ON_TENSORS) or not op.results:
            return False
        if isinstance(op, MatmulOp) and not _uniform_element_type(op):
            return False
        if any(o.name in _TRAPPING for o in op.walk()):
            return False
        ins, outs = _ins_outs(op)
        if not all(v in self.batched or self.invariant(v) for v in ins):
            return False
        if not all(v in self.batched or self.invariant(v) or self.fresh(v) for v in outs):
            return False
        if isinstance(op, FillOp) and outs[0] not in self.batched:
            return False  # an invariant fill is a fresh init, not work to batch
        return any(v in self.batched for v in op.operands) and self.captures_invariant(op)

    # -- rewriting ---------------------------------------------------------------------------

    def hoist(self, op: Operation) -> None:
        _, outs = _ins_outs(op) if isinstance(op, _LINALG_ON_TENSORS) else ((), ())
        for k, v in enumerate(op.operands):
            if v in outs and not self.invariant(v):
                op.operands[k] = self.hoist_fresh(v)
        op.detach()
        self.loop.parent_block().insert_op_before(op, self.loop)  # type: ignore[union-attr]
        self.changed = True

    def batched_init(self, init: SSAValue, reads: bool) -> SSAValue:
        """A fresh [N, ...] version of the invariant (or fresh) init tensor `init`."""
        t = init.type
        assert isinstance(t, TensorType)
        src = init.owner
        n = self.static_trip()
        rt = _with_dim(t, 0, n)
        dyn: list[SSAValue] = [self.trip] if n == DYNAMIC_INDEX else []
        if isinstance(src, FillOp | tensor.EmptyOp) and not self.invariant(init):
            base = self.hoist_fresh(init)  # its sizes are invariant
        else:
            base = init
        for k, size in enumerate(t.get_shape()):
            if size == DYNAMIC_INDEX:
                idx = self.emit(arith.ConstantOp.from_int_and_width(k, IndexType())).results[0]
                dyn.append(self.emit(tensor.DimOp(base, idx)).results[0])
        empty = self.emit(tensor.EmptyOp(dyn, rt)).results[0]
        if not reads or isinstance(src, tensor.EmptyOp):
            return empty
        if isinstance(src, FillOp):
            return self.emit(FillOp([src.inputs[0]], [empty], [rt])).results[0]
        # a broadcast copy of the init's values over t
        r = t.get_num_dims()
        block = Block(arg_types=[t.element_type, t.element_type])
        block.add_op(YieldOp(block.args[0]))
        maps = [
            AffineMap(r + 1, 0, tuple(AffineDimExpr(k + 1) for k in range(r))),
            AffineMap.identity(r + 1),
        ]
        g = GenericOp(
            [base],
            [empty],
            Region(block),
            [AffineMapAttr(m) for m in maps],
            [IteratorTypeAttr.parallel()] * (r + 1),
            [rt],
        )
        return self.emit(g).results[0]

    def batch(self, op: Operation) -> None:
        if isinstance(op, FillOp):
            out = self.batched[op.outputs[0]]
            new = self.emit(FillOp([op.inputs[0]], [out.tensor], [out.tensor.type]))
            new.location = op.location
            self.batched[op.results[0]] = Batched(new.results[0], out.dim)
            return
        if isinstance(op, MatmulOp):
            g = generalize_matmul(op)
        elif isinstance(op, TransposeOp):
            g = generalize_transpose(op)
        else:
            assert isinstance(op, GenericOp)
            g = op
        maps = [m.data for m in g.indexing_maps.data]
        n_in = len(g.inputs)
        new_maps: list[AffineMap] = []
        ins: list[SSAValue] = []
        for v, m in zip(g.inputs, maps[:n_in], strict=True):
            bv = self.batched.get(v)
            ins.append(v if bv is None else bv.tensor)
            new_maps.append(_shift(m, None if bv is None else bv.dim))
        outs: list[SSAValue] = []
        out_dims: list[int] = []
        for v, m, arg in zip(g.outputs, maps[n_in:], g.body.block.args[n_in:], strict=True):
            bv = self.batched.get(v)
            if bv is None:
                bv = Batched(self.batched_init(v, bool(arg.uses)), 0)
            outs.append(bv.tensor)
            out_dims.append(bv.dim)
            new_maps.append(_shift(m, bv.dim))
        region = g.body.clone()
        for inner in list(region.walk()):
            if isinstance(inner, IndexOp):
                _replace_op(inner, IndexOp(inner.dim.value.data + 1))
        iters = [IteratorTypeAttr.parallel(), *g.iterator_types.data]
        new = GenericOp(
            ins, outs, region, [AffineMapAttr(m) for m in new_maps], iters, [o.type for o in outs]
        )
        new.location = op.location
        self.emit(new)
        for r, nr, d in zip(op.results, new.results, out_dims, strict=True):
            self.batched[r] = Batched(nr, d)
        if g is not op:
            g.erase(safe_erase=False)

    def slice_in_loop(self, v: SSAValue, bv: Batched, at: Operation) -> SSAValue:
        """`bv.tensor[.., t, ..]` as a rank-reducing view, inserted before `at`."""
        bt = bv.tensor.type
        rt = v.type
        assert isinstance(bt, TensorType) and isinstance(rt, TensorType)
        b = Builder(InsertPoint.before(at))
        offsets: list[SSAValue | int] = [0] * bt.get_num_dims()
        offsets[bv.dim] = self.t
        sizes: list[SSAValue | int] = []
        for k, size in enumerate(bt.get_shape()):
            if k == bv.dim:
                sizes.append(1)
            elif size == DYNAMIC_INDEX:
                idx = b.insert(arith.ConstantOp.from_int_and_width(k, IndexType())).result
                sizes.append(b.insert(tensor.DimOp(bv.tensor, idx)).result)
            else:
                sizes.append(size)
        op = tensor.ExtractSliceOp(bv.tensor, offsets, sizes, [1] * len(sizes), rt)
        return b.insert(op).result

    def rewrite_uses(self) -> None:
        """Uses left in the loop read the batched tensors at t; batched ops are erased, last
        first (so a batched op's use by another batched op is gone before it is looked at)."""
        for op in reversed(list(self.body.ops)):
            if op in self.from_slice or not any(r in self.batched for r in op.results):
                continue
            for r in op.results:
                bv = self.batched.get(r)
                if bv is None or not r.uses:
                    continue
                view: SSAValue | None = None
                for use in list(r.uses):
                    user = use.operation
                    if isinstance(user, tensor.ExtractOp) and user.tensor == r:
                        idx = list(user.indices)
                        idx.insert(bv.dim, self.t)
                        _replace_op(user, tensor.ExtractOp(bv.tensor, idx, user.result.type))
                        continue
                    if view is None:
                        view = self.slice_in_loop(r, bv, op)
                    user.operands[use.index] = view
            _erase_if_dead(op)

    def cleanup(self) -> None:
        """Erase what became dead: fresh inits left in the loop (linalg ops have no memory
        effects in xDSL, so dce would keep them), and unused ops built before the loop."""
        for op in reversed(list(self.body.ops)):
            if op in self.from_slice or isinstance(op, (*_LINALG_ON_TENSORS, tensor.EmptyOp)):
                _erase_if_dead(op)
        for op in reversed(self.created):
            _erase_if_dead(op)

    def run(self) -> bool:
        if _const_index(self.loop.step) != 1:
            return False
        if not self.invariant(self.loop.lb) or not self.invariant(self.loop.ub):
            return False
        for op in list(self.body.ops):
            if isinstance(op, scf.YieldOp):
                continue
            if self.hoistable(op):
                self.hoist(op)
            elif isinstance(op, tensor.ExtractSliceOp) and (bv := self.slice_at_iv(op)) is not None:
                self.batched[op.result] = bv
                self.from_slice.add(op)
            elif self.batchable(op):
                self.batch(op)
                self.changed = True
        if self.changed:
            self.rewrite_uses()
        self.cleanup()
        return self.changed


def _ins_outs(op: Operation) -> tuple[Sequence[SSAValue], Sequence[SSAValue]]:
    return op.inputs, op.outputs  # type: ignore[attr-defined]


def _uniform_element_type(op: MatmulOp) -> bool:
    return len({v.type.element_type for v in op.operands}) == 1  # type: ignore[attr-defined]


def _erase_if_dead(op: Operation) -> None:
    if op.parent is not None and all(not r.uses for r in op.results):
        op.detach()
        op.erase()


def _replace_op(old: Operation, new: Operation) -> None:
    block = old.parent_block()
    assert block is not None
    block.insert_op_before(new, old)
    for o, n in zip(old.results, new.results, strict=True):
        o.replace_all_uses_with(n)
    old.detach()
    old.erase()


@dataclass(frozen=True)
class BatchLoopInvariant(ModulePass):
    """Hoist loop-invariant ops and batch iteration-independent ones out of `scf.for` loops."""

    name = "batch-loop-invariant"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        loops = [o for o in op.walk() if isinstance(o, scf.ForOp)]
        for loop in reversed(loops):  # inner loops first
            _LoopBatcher(loop).run()
