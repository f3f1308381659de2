"""Buffer planning for one block of generated code: lazy allocation, reuse by liveness, and
copies that can stay views.

- An allocation is emitted just before the first op that uses it (not where bufferize put it).
- A buffer is *simple* if every use is a `loop.load`/`loop.store` (possibly nested in loops),
  `memref.dim`, `memref.copy` or `memref.dealloc`: no view, call, yield or return can keep it
  alive, so after its last use (by top-level op of this block; a use inside an `scf` loop keeps
  it alive for the whole loop) its storage is free.
- A new allocation takes the storage of a free buffer of the same type (same dynamic sizes),
  or of a simple buffer whose last use is the very nest that first writes the new one, when
  that nest is elementwise (parallel, reading the old buffer only at the element it writes):
  `np.add(buf, bias, out=buf)`. Everything stays allocated per call, so a returned array is
  never shared with a later call.
- A *call-local* allocation of the function's own block (`call_local`: every use, through
  views, is a load, a store or a `memref.dim` outside any `scf` region, so no return, yield,
  call or copy can reach its storage) is taken from the function's arena (`rt.Arena`) instead
  of `np.empty`: the same arrays are reused by the next call. Fresh multi-megabyte arrays cost
  their page faults on every call (LeNet's im2col: 5 MB, half its run time). Storage of a
  call-local buffer is never taken over by one that can escape.
- A parallel nest that only copies a function argument or a global through a permutation into
  a simple buffer written nowhere else (the transpose of a weight feeding a matmul) is not run:
  the buffer's name becomes the view (`g_weight.T`); BLAS reads transposed operands in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import func, memref, scf
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Block, BlockArgument, Operation, SSAValue
from xdsl.ir.affine import AffineDimExpr, AffineMap

from xjit.backends.numpy.vectorize import NestPlan
from xjit.dialects.loop import PARALLEL, LoadOp, NestOp, StoreOp

_SIMPLE_USERS = (LoadOp, StoreOp, memref.DimOp, memref.CopyOp, memref.DeallocOp)


def _top(op: Operation, ops: dict[Operation, int]) -> int | None:
    while op not in ops:
        parent = op.parent_op()
        if parent is None:
            return None
        op = parent
    return ops[op]


@dataclass
class BufferPlan:
    ops: list[Operation]
    plans: dict[Operation, NestPlan | str]
    allocs: dict[Operation, tuple[int, int]] = field(default_factory=dict)  # alloc -> first, last
    simple: set[SSAValue] = field(default_factory=set)
    by_first: dict[int, list[Operation]] = field(default_factory=dict)
    view_copies: dict[Operation, SSAValue] = field(default_factory=dict)  # nest -> target
    local: set[SSAValue] = field(default_factory=set)  # arena-backed (`call_local`)

    def __post_init__(self) -> None:
        index = {op: i for i, op in enumerate(self.ops)}
        for op in self.ops:
            if not isinstance(op, memref.AllocOp):
                continue
            v = op.memref
            at = [_top(u.operation, index) for u in v.uses]
            if not at or any(a is None for a in at):
                continue  # unused, or used outside this block: allocate where it is
            self.allocs[op] = (min(at), max(at))  # type: ignore[type-var]
            self.by_first.setdefault(min(at), []).append(op)  # type: ignore[type-var]
            if all(isinstance(u.operation, _SIMPLE_USERS) for u in v.uses):
                self.simple.add(v)
        for op in self.ops:
            plan = self.plans.get(op)
            if isinstance(op, NestOp) and isinstance(plan, NestPlan):
                target = _view_copy_target(op, plan, self.simple) or yielded_view_copy_target(
                    op, plan
                )
                if target is not None:
                    self.view_copies[op] = target

    def reusable_into(self, new: Operation, at: int, free: list[Operation]) -> Operation | None:
        """A dead (or dying in an elementwise way at op `at`) buffer `new` may take over."""
        t = new.memref.type  # type: ignore[attr-defined]
        sizes = list(new.dynamic_sizes)  # type: ignore[attr-defined]
        for old in free:
            if old.memref.type != t or list(old.dynamic_sizes) != sizes:  # type: ignore[attr-defined]
                continue
            if old.memref in self.local and new.memref not in self.local:  # type: ignore[attr-defined]
                continue  # arena storage must never become a result or outlive the call
            last = self.allocs[old][1]
            if last < at or (
                last == at and self._in_place_ok(self.ops[at], old.memref, new.memref)
            ):  # type: ignore[attr-defined]
                return old
        return None

    def _in_place_ok(self, op: Operation, old: SSAValue, new: SSAValue) -> bool:
        plan = self.plans.get(op)
        if not isinstance(op, NestOp) or not isinstance(plan, NestPlan) or plan.kind != PARALLEL:
            return False
        body = list(op.body.block.ops)
        stores = [o for o in body if isinstance(o, StoreOp) and o.memref == new]
        if len(stores) != 1 or any(isinstance(o, StoreOp) and o.memref == old for o in body):
            return False
        st = stores[0]
        return all(
            o.map == st.map and list(o.indices) == list(st.indices)
            for o in body
            if isinstance(o, LoadOp) and o.memref == old
        )


def call_local(block: Block) -> set[SSAValue]:
    """The allocations of a function's block whose storage cannot outlive one call: every use,
    directly or through view ops (`memref.subview`, `expand_shape`, ...), is a load, a store, a
    `memref.dim` or a copy, none inside an `scf` region (where yields and branch views alias
    buffers). Anything else (return, call, yield, an unknown op) counts as an escape."""
    out: set[SSAValue] = set()
    for op in block.ops:
        if isinstance(op, memref.AllocOp) and not _escapes(op.memref, block):
            out.add(op.memref)
    return out


# `memref.copy` is `np.copyto` (data, never an alias) outside `scf` regions.
_LOCAL_USERS = (
    LoadOp,
    StoreOp,
    memref.DimOp,
    memref.LoadOp,
    memref.StoreOp,
    memref.DeallocOp,
    memref.CopyOp,
)


def _escapes(v: SSAValue, block: Block) -> bool:
    stack = [v]
    while stack:
        for use in stack.pop().uses:
            op = use.operation
            if _in_scf(op, block):
                return True
            if isinstance(op, _LOCAL_USERS):
                continue
            if (
                op.name.startswith(("memref.", "view."))  # view.transpose: xjit's view op
                and not isinstance(op, memref.AllocOp)
                and op.results
                and all(isinstance(r.type, MemRefType) for r in op.results)
            ):
                stack.extend(op.results)  # a view: its uses count as the buffer's
                continue
            return True
    return False


def _in_scf(op: Operation, block: Block) -> bool:
    while op.parent is not block:
        parent = op.parent_op()
        if parent is None:
            return True  # not in this function's block at all
        if parent.name.startswith("scf."):
            return True
        op = parent
    return False


def _never_written(v: SSAValue) -> bool:
    """Function arguments and globals: the contract says generated code never writes them."""
    if isinstance(v.owner, memref.GetGlobalOp):
        return True
    if isinstance(v, BlockArgument):
        parent = v.owner.parent_op() if isinstance(v.owner, Block) else None
        return isinstance(parent, func.FuncOp)
    return False


def _view_copy_target(nest: NestOp, plan: NestPlan, simple: set[SSAValue]) -> SSAValue | None:
    if plan.kind != PARALLEL or len(plan.stores) != 1:
        return None
    st = plan.stores[0]
    body = [o for o in nest.body.block.ops if not o.name == "loop.yield"]
    load = st.value.owner
    if len(body) != 2 or not isinstance(load, LoadOp) or not _never_written(load.memref):
        return None
    target = st.memref
    if target not in simple or not isinstance(target.owner, memref.AllocOp):
        return None
    if st.map.data != AffineMap.identity(len(nest.ivs)) or list(st.indices) != list(nest.ivs):
        return None
    lm = load.map.data
    dims = [e.position for e in lm.results if isinstance(e, AffineDimExpr)]
    if len(dims) != len(lm.results) or sorted(dims) != list(range(lm.num_dims)):
        return None
    if list(load.indices) != list(nest.ivs):
        return None
    # The copy is the only write of the target, and it covers the whole buffer.
    writers = [u.operation for u in target.uses if isinstance(u.operation, StoreOp | memref.CopyOp)]
    if writers != [st] or any(isinstance(u.operation, memref.CopyOp) for u in target.uses):
        return None
    shape = target.type.get_shape()  # type: ignore[attr-defined]
    for b, size in zip(nest.bounds, shape, strict=True):
        c = b.owner
        if size < 0 or getattr(getattr(c, "value", None), "value", None) is None:
            return None
        if c.value.value.data != size:  # type: ignore[union-attr]
            return None
    return target


def yielded_view_copy_target(nest: NestOp, plan: NestPlan) -> SSAValue | None:
    """A copy of a slice of an internal buffer into a buffer an `scf.if` branch yields (the
    RNN's `y if cond else -y` on a projection batched before the loop): bufferize copies
    because a branch result must have an identity layout, but the copy can be the view itself
    when nothing can change either side while the view is live:

    - the source is an allocation whose every use is a load, a store or a `memref.dim` (no
      views, copies, calls or yields can reach its storage), and every store to it is in a nest
      before the op holding this copy in the source's block — nothing writes it afterwards, and
      it stays allocated (a use inside a loop keeps a buffer live for the whole loop);
    - the target is written only by this copy and used otherwise only by `scf.yield`s of
      `scf.if`s whose results are only read by `loop.load`s (results of scf ops are never
      written in place, and the alias never leaves the block that holds the `scf.if`).
    """
    if plan.kind != PARALLEL or len(plan.stores) != 1:
        return None
    st = plan.stores[0]
    body = [o for o in nest.body.block.ops if not o.name == "loop.yield"]
    load = st.value.owner
    if len(body) != 2 or not isinstance(load, LoadOp):
        return None
    target, source = st.memref, load.memref
    if not isinstance(target.owner, memref.AllocOp) or not isinstance(source.owner, memref.AllocOp):
        return None
    if st.map.data != AffineMap.identity(len(nest.ivs)) or list(st.indices) != list(nest.ivs):
        return None
    axes = plan.axes[load]
    walked = [a.iv for a in axes if a.iv is not None]
    if walked != list(range(len(nest.ivs))) or any(
        a.gather or (a.iv is not None and a.expr is not None) for a in axes
    ):
        return None
    shape = target.type.get_shape()  # type: ignore[attr-defined]
    for b, size in zip(nest.bounds, shape, strict=True):
        c = b.owner
        if (
            size < 0
            or getattr(getattr(c, "value", None), "value", None) is None
            or c.value.value.data != size
        ):  # type: ignore[union-attr]
            return None
    for u in target.uses:
        user = u.operation
        if user is st:
            continue
        if isinstance(user, LoadOp):
            continue
        if not isinstance(user, scf.YieldOp) or not isinstance(user.parent_op(), scf.IfOp):
            return None
        result = user.parent_op().results[u.index]  # type: ignore[union-attr]
        if not all(isinstance(r.operation, LoadOp) for r in result.uses):
            return None
    home = source.owner.parent_block()
    if home is None:
        return None
    anchor: Operation | None = nest
    while anchor is not None and anchor.parent_block() is not home:
        anchor = anchor.parent_op()
    if anchor is None:
        return None
    order = {op: k for k, op in enumerate(home.ops)}
    for u in source.uses:
        user = u.operation
        if isinstance(user, LoadOp | memref.DimOp | memref.DeallocOp):
            continue
        if not isinstance(user, StoreOp):
            return None
        top = _top(user, order)
        if top is None or top >= order[anchor]:
            return None
    return target
