"""`linalg-fuse-elementwise`: producer–consumer fusion of `linalg.generic`s on tensors.

MLIR's `linalg-fuse-elementwise-ops`, for the linalg-on-tensors stage (between
`convert-torch-to-linalg` and `bufferize`). A *producer* is an elementwise generic: all loops
parallel, one result, an output map that is a permutation, a body that never reads its output.
A *consumer* is any generic (elementwise or a reduction) reading the producer's result as an
`ins` operand. Fusing composes the producer's input maps with the consumer's map of that
operand (`producer_in ∘ producer_out⁻¹ ∘ consumer_map`) and inlines the producer's body in
front of the consumer's, so the intermediate tensor disappears. Named ops (`linalg.matmul`,
`fill`) are left alone (they become BLAS calls); `linalg.transpose` is generalised into a
generic first, so a transpose feeding elementwise code becomes a strided read.

**Cost model: duplication.** Fusion must not duplicate expensive work. Fusing a producer into
one consumer while it keeps other users (another op, or `func.return`) recomputes it. That is
allowed only when the producer body is cheap: every op costs `1` (`arith` add/sub/mul/neg,
compare, select, min/max, casts), constants cost `0`, and *expensive* ops (`math.*`: exp, tanh,
log, sqrt, ...; `arith` divisions and remainders) cost `EXPENSIVE`; recomputation is allowed when
the total is at most `max-recompute-cost` (default 4: a handful of adds/muls, never an exp).
When recomputation is refused but the consumer walks every producer element exactly once (its
map of the operand is a permutation of all its loops) and the other users come after it, the
fused op *keeps the producer's result as an extra output* (MLIR's preserved producer results):
e.g. softmax's `exp` is computed once, stored, and summed in the same loop nest.

**Broadcasts.** A producer read through a broadcasting map (the consumer has loops the map
does not use) is evaluated once per consumer iteration in a scalar loop nest. The numpy
backend evaluates every scalar op only over the loops its operands vary along, so such a
producer is still computed once per producer element: with `hoisted-broadcasts=true` (the
default, for the numpy backend) fusion through broadcasts is free; with `false` it follows the
cost rule above (for backends that really recompute).

Provenance: each linalg op's `location` names the torch ops it computes (`convert-torch-to-
linalg` sets `loc("aten.tanh"(...))`); fused ops get a `loc(fused[...])` of their parts, as in
MLIR. Decisions go to an optional `FusionLog` (`collect_fusion_log()`), which the fusion report
(`xjit.passes.fusion_report`) reads.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    AffineMapAttr,
    ArrayAttr,
    FusedLoc,
    IndexType,
    IntegerAttr,
    LocationAttr,
    ModuleOp,
    NameLoc,
    NoneAttr,
    ShapedType,
    StringAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.dialects.linalg.attrs import IteratorType, IteratorTypeAttr
from xdsl.dialects.linalg.ops import GenericOp, IndexOp, TransposeOp, YieldOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineMap
from xdsl.passes import ModulePass

# -- cost model ------------------------------------------------------------------------------

EXPENSIVE = 100
_EXPENSIVE_ARITH = frozenset(
    {
        "arith.divf", "arith.divsi", "arith.divui", "arith.ceildivsi", "arith.ceildivui",
        "arith.floordivsi", "arith.remf", "arith.remsi", "arith.remui",
    }
)


def op_cost(op: Operation) -> int:
    if op.name == "arith.constant" or isinstance(op, YieldOp) or op.name == "linalg.index":
        return 0
    if op.name.startswith("math.") or op.name in _EXPENSIVE_ARITH:
        return EXPENSIVE
    return 1


def _full_rank_ops(op: GenericOp, hoisted: bool) -> list[Operation]:
    """The body ops evaluated once per iteration of *all* loops.

    With `hoisted`, an op whose operands vary only along some loops (they are read through
    broadcasting maps) is evaluated by the numpy backend once per point of those loops, so it
    is not counted: `x - sum / n` costs one subtraction per element, the division is per row.
    """
    body = op.body.block
    if not hoisted:
        return list(body.ops)
    n = len(op.iterator_types.data)
    dims: dict[SSAValue, frozenset[int]] = {}
    for arg, amap in zip(body.args, _maps(op), strict=False):
        dims[arg] = frozenset(amap.used_dims())
    out: list[Operation] = []
    for o in body.ops:
        d: frozenset[int] = frozenset().union(*(dims.get(x, frozenset()) for x in o.operands))
        if o.name == "linalg.index":
            d = frozenset({o.dim.value.data})  # type: ignore[attr-defined]
        for r in o.results:
            dims[r] = d
        if len(d) == n:
            out.append(o)
    return out


def body_cost(op: GenericOp, hoisted: bool = False) -> int:
    """Scalar-op cost of one evaluation of `op`'s body (per element of its iteration space)."""
    return sum(op_cost(o) for o in _full_rank_ops(op, hoisted))


def expensive_ops(op: GenericOp, hoisted: bool = False) -> list[str]:
    return [o.name for o in _full_rank_ops(op, hoisted) if op_cost(o) >= EXPENSIVE]


# -- provenance ------------------------------------------------------------------------------


def origin_parts(loc: LocationAttr | None) -> list[LocationAttr]:
    """The per-torch-op locations of a (possibly fused) location."""
    if loc is None or isinstance(loc, UnknownLoc):
        return []
    if isinstance(loc, FusedLoc):
        out: list[LocationAttr] = []
        for part in loc.locations.data:  # type: ignore[attr-defined]
            out += origin_parts(part)
        return out
    return [loc]


def fused_location(*locs: LocationAttr | None) -> LocationAttr:
    parts: list[LocationAttr] = []
    for loc in locs:
        parts += origin_parts(loc)
    if not parts:
        return UnknownLoc()
    if len(parts) == 1:
        return parts[0]
    return FusedLoc(ArrayAttr(parts), NoneAttr())


def describe(loc: LocationAttr | None) -> str:
    """`aten.tanh (model.py:12)` for one part; `a + b` for fused ones."""
    parts = origin_parts(loc)
    if not parts:
        return "?"
    return " + ".join(describe_part(p) for p in parts)


def describe_part(loc: LocationAttr) -> str:
    if isinstance(loc, NameLoc):
        inner = loc.location
        name = loc.desc.data
        if isinstance(inner, NameLoc):  # decomposed: aten.mm from aten.linear
            return f"{name} (from {describe_part(inner)})"
        where = _where(inner)
        return f"{name} ({where})" if where else name
    return _where(loc) or str(loc)


def _where(loc: object) -> str:
    filename = getattr(loc, "filename", None)
    line = getattr(loc, "line", None)
    if filename is None or line is None:
        return ""
    return f"{filename.data}:{line.data}"


# -- decision log ----------------------------------------------------------------------------


@dataclass
class FusionLog:
    """What the pass did: fused pairs and the producer→consumer edges it left, with why."""

    fused: list[tuple[str, str, str]] = field(default_factory=list)  # producer, consumer, how
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # producer, consumer, why


_LOG: contextvars.ContextVar[FusionLog | None] = contextvars.ContextVar("xjit_fusion_log", default=None)


def start_fusion_log() -> FusionLog:
    """Collect decisions from now on in this context (for a one-shot CLI run)."""
    log = FusionLog()
    _LOG.set(log)
    return log


@contextlib.contextmanager
def collect_fusion_log() -> Iterator[FusionLog]:
    log = FusionLog()
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


# -- the analysis ----------------------------------------------------------------------------


def _parallel(op: GenericOp) -> bool:
    return all(it.data == IteratorType.PARALLEL for it in op.iterator_types.data)


def _maps(op: GenericOp) -> list[AffineMap]:
    return [m.data for m in op.indexing_maps.data]


def _is_permutation(m: AffineMap) -> bool:
    dims = [e.position for e in m.results if isinstance(e, AffineDimExpr)]
    return len(dims) == len(m.results) == m.num_dims and sorted(dims) == list(range(m.num_dims))


def producer_problem(p: Operation) -> str | None:
    """Why `p` can never be fused into a consumer (None if it is an elementwise producer)."""
    if not isinstance(p, GenericOp):
        kind = {
            "linalg.matmul": "a contraction (named op: becomes one BLAS call)",
            "linalg.fill": "a fill (named op: folded into the reduction it initialises)",
        }.get(p.name, "not a linalg.generic")
        return f"{p.name} is {kind}"
    if not _parallel(p):
        return "it is a reduction (its result exists only after the whole loop)"
    if len(p.outputs) != 1 or len(p.results) != 1:
        return "it has several results"
    if not _is_permutation(_maps(p)[len(p.inputs)]):
        return "its output map is not a permutation"
    if p.body.block.args[len(p.inputs)].uses:
        return "its body reads its output"
    return None


@dataclass
class Plan:
    producer: GenericOp
    consumer: GenericOp
    keep_result: bool  # the fused op also yields the producer's result (other users remain)
    how: str


def plan_fusion(
    p: GenericOp, c: GenericOp, max_cost: int, hoisted_broadcasts: bool
) -> Plan | str:
    """A fusion plan for producer `p` into consumer `c`, or the reason there is none."""
    problem = producer_problem(p)
    if problem is not None:
        return problem
    if p.parent_block() is not c.parent_block():
        return "producer and consumer are in different blocks"
    v = p.results[0]
    n_in = len(c.inputs)
    in_uses = [u for u in v.uses if u.operation is c and u.index < n_in]
    if any(u.operation is c and u.index >= n_in for u in v.uses):
        return "the consumer writes into it (it is the consumer's init)"
    if not in_uses:
        return "not an input of the consumer"
    if not _parallel(c) and any(o.name == "tensor.extract" for o in p.body.block.ops):
        return "it is a gather (tensor.extract at computed indices), vectorised only in parallel nests"
    c_maps = _maps(c)
    maps = {str(c_maps[u.index]): c_maps[u.index] for u in in_uses}
    if any(isinstance(o, IndexOp) for o in p.body.block.ops):
        inv = _maps(p)[len(p.inputs)].inverse_permutation()
        assert inv is not None
        for m in maps.values():
            if not all(isinstance(e, AffineDimExpr | AffineConstantExpr) for e in inv.compose(m).results):
                return "its body reads loop indices (linalg.index) that the consumer's map does not give"
    others = [u for u in v.uses if u.operation is not c]
    cost = body_cost(p, hoisted_broadcasts)
    cheap = cost <= max_cost
    what = ", ".join(expensive_ops(p, hoisted_broadcasts)) or f"{cost} scalar ops"
    broadcast = any(m.unused_dims() for m in maps.values())
    if broadcast and not hoisted_broadcasts and not cheap:
        return f"read through a broadcast: recomputing it ({what}) per consumer iteration is too costly"
    if not others:
        return Plan(p, c, False, "through a broadcast" if broadcast else "single consumer")
    if cheap:
        return Plan(p, c, False, f"recomputed: cheap ({cost} scalar ops), {len(others)} other user(s)")
    # Expensive and shared: keep its result as an extra output if every element is produced
    # exactly once by the consumer's loops and the other users follow the consumer.
    block = c.parent_block()
    assert block is not None
    if len(maps) != 1 or not _is_permutation(next(iter(maps.values()))):
        return (
            f"it has {len(others)} other user(s) and recomputing it ({what}) would duplicate "
            "work; the consumer does not walk its elements one to one, so it cannot be yielded too"
        )
    if not all(_after(u.operation, c, block) for u in others):
        return f"it has {len(others)} other user(s) before the consumer; recomputing it ({what}) would duplicate work"
    return Plan(p, c, True, f"result kept as an extra output ({len(others)} other user(s); {what} not recomputed)")


def _after(op: Operation, anchor: Operation, block: Block) -> bool:
    top = op
    while top.parent_block() is not block:
        parent = top.parent_op()
        if parent is None:
            return False
        top = parent
    return top is not anchor and block.get_operation_index(top) > block.get_operation_index(anchor)


# -- the rewrite -----------------------------------------------------------------------------


def fuse(plan: Plan) -> GenericOp | str:
    """Build the fused generic (inserted before the consumer); erase what became dead.
    Returns the reason instead when the fused op would not verify (nothing is changed)."""
    p, c = plan.producer, plan.consumer
    v = p.results[0]
    n_in_c, n_in_p = len(c.inputs), len(p.inputs)
    c_maps, p_maps = _maps(c), _maps(p)
    inv = p_maps[n_in_p].inverse_permutation()
    assert inv is not None

    inputs: list[SSAValue] = []
    in_maps: list[AffineMap] = []
    slot: dict[tuple[SSAValue, str], int] = {}

    def add_input(value: SSAValue, amap: AffineMap) -> int:
        key = (value, str(amap))
        if key not in slot:
            slot[key] = len(inputs)
            inputs.append(value)
            in_maps.append(amap)
        return slot[key]

    # Consumer operand i -> new input slot, or the consumer map through which it reads `v`.
    c_slots: list[int | AffineMap] = []
    for i, operand in enumerate(c.inputs):
        if operand is v:
            c_slots.append(c_maps[i])
            for j, p_in in enumerate(p.inputs):
                add_input(p_in, p_maps[j].compose(inv.compose(c_maps[i])))
        else:
            c_slots.append(add_input(operand, c_maps[i]))

    outputs = list(c.outputs)
    out_maps = list(c_maps[n_in_c:])
    result_types = list(c.result_types)
    keep_map: AffineMap | None = None
    if plan.keep_result:
        keep_map = next(m for m in c_slots if isinstance(m, AffineMap))
        outputs.append(p.outputs[0])
        out_maps.append(keep_map)
        result_types.append(v.type)

    out_elems = [_elem(o) for o in outputs]
    block = Block(arg_types=[_elem(x) for x in inputs] + out_elems)
    mapper: dict[SSAValue, SSAValue] = {}
    p_body, c_body = p.body.block, c.body.block
    computed: dict[str, SSAValue] = {}  # producer value per consumer map (cloned once each)

    def producer_value(amap: AffineMap) -> SSAValue:
        key = str(amap)
        if key not in computed:
            pm: dict[SSAValue, SSAValue] = {}
            for j, p_in in enumerate(p.inputs):
                pm[p_body.args[j]] = block.args[slot[(p_in, str(p_maps[j].compose(inv.compose(amap))))]]
            to_c = inv.compose(amap)  # producer loop d = to_c.results[d] over consumer loops
            for op in p_body.ops:
                if isinstance(op, YieldOp):
                    computed[key] = pm.get(op.operands[0], op.operands[0])
                    break
                if isinstance(op, IndexOp):
                    e = to_c.results[op.dim.value.data]
                    new: Operation = (
                        IndexOp(e.position) if isinstance(e, AffineDimExpr)
                        else arith.ConstantOp(IntegerAttr(e.value, IndexType()))  # type: ignore[attr-defined]
                    )
                    pm[op.result] = new.results[0]
                    block.add_op(new)
                    continue
                block.add_op(op.clone(pm))
        return computed[key]

    for i, s in enumerate(c_slots):
        mapper[c_body.args[i]] = producer_value(s) if isinstance(s, AffineMap) else block.args[s]
    for k in range(len(c.outputs)):
        mapper[c_body.args[n_in_c + k]] = block.args[len(inputs) + k]
    for op in c_body.ops:
        if isinstance(op, YieldOp):
            yielded = [mapper.get(x, x) for x in op.operands]
            if keep_map is not None:
                yielded.append(producer_value(keep_map))
            block.add_op(YieldOp(*yielded))
            break
        block.add_op(op.clone(mapper))

    fused = GenericOp(
        inputs, outputs, Region(block), [AffineMapAttr(m) for m in in_maps + out_maps],
        c.iterator_types, result_types,
    )
    fused.location = fused_location(p.location, c.location)
    parent = c.parent_block()
    assert parent is not None
    parent.insert_op_before(fused, c)
    try:  # e.g. xDSL infers loop sizes from operand shapes and may reject offset maps
        fused.verify()
    except Exception as e:  # noqa: BLE001 - any verifier failure means: do not fuse
        fused.detach()
        fused.erase(safe_erase=False)
        return f"the fused op would not verify ({str(e).splitlines()[0]})"
    for old, new in zip(c.results, fused.results, strict=False):
        old.replace_all_uses_with(new)
    if keep_map is not None:
        v.replace_all_uses_with(fused.results[-1])
    c.detach()
    c.erase()
    if not v.uses:
        p.detach()
        p.erase()
    return fused


def _elem(v: SSAValue) -> object:
    t = v.type
    return t.get_element_type() if isinstance(t, ShapedType) else t


def generalize_transpose(op: TransposeOp) -> GenericOp:
    """`linalg.transpose` as a generic with the same indexing maps and a copying body."""
    src, init = op.inputs[0], op.outputs[0]
    block = Block(arg_types=[_elem(src), _elem(init)])
    block.add_op(YieldOp(block.args[0]))
    rank = len(op.get_iterator_types().data)
    g = GenericOp(
        [src], [init], Region(block), list(op.get_indexing_maps().data),
        [IteratorTypeAttr.parallel()] * rank, list(op.result_types),
    )
    g.location = op.location
    return g


# -- the pass --------------------------------------------------------------------------------


def _label(op: Operation) -> str:
    d = describe(op.location)
    return d if d != "?" else op.name


def _fuse_block(
    block: Block, max_cost: int, hoisted: bool, log: FusionLog | None,
    refused: dict[tuple[Operation, Operation], str],
) -> None:
    changed = True
    while changed:
        changed = False
        for c in list(block.ops):
            if not isinstance(c, GenericOp) or c.parent is None:
                continue
            for operand in c.inputs:
                p = operand.owner
                if not isinstance(p, GenericOp) or p.parent_block() is not block:
                    continue
                plan = plan_fusion(p, c, max_cost, hoisted)
                if isinstance(plan, Plan) and (p, c) not in refused:
                    labels = (_label(p), _label(c))
                    done = fuse(plan)
                    if isinstance(done, str):
                        refused[(p, c)] = done
                        continue
                    if log is not None:
                        log.fused.append((*labels, plan.how))
                    changed = True
                    break
            if changed:
                break


def _record_edges(
    block: Block, max_cost: int, hoisted: bool, log: FusionLog,
    refused: dict[tuple[Operation, Operation], str],
) -> None:
    """Every linalg→linalg edge that is left after fusion, with the reason it was not fused."""
    for c in block.ops:
        if not c.name.startswith("linalg."):
            continue
        for operand in dict.fromkeys(c.operands):
            p = operand.owner
            if not isinstance(p, Operation) or not p.name.startswith("linalg."):
                continue
            if not isinstance(c, GenericOp):
                why = f"the consumer {c.name} is a named op (not a generic)"
            else:
                plan = plan_fusion(p, c, max_cost, hoisted) if isinstance(p, GenericOp) else producer_problem(p)
                why = plan if isinstance(plan, str) else refused.get((p, c), "fusable (not fused: pass order)")
            if c.name == "linalg.matmul" and p.name == "linalg.fill":
                continue  # the accumulator's initialisation: not a fusion candidate
            log.refused.append((_label(p), _label(c), why or "?"))


@dataclass(frozen=True)
class LinalgFuseElementwise(ModulePass):
    """Fuse elementwise `linalg.generic`s into their consumers (see the module docstring)."""

    name = "linalg-fuse-elementwise"

    max_recompute_cost: int = 4
    hoisted_broadcasts: bool = True
    generalize_transposes: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        log = _LOG.get()
        for f in op.walk():
            if not isinstance(f, func.FuncOp) or f.is_declaration:
                continue
            for region_op in [f, *f.walk()]:
                for region in region_op.regions:
                    for block in region.blocks:
                        if self.generalize_transposes:
                            self._generalize(block)
                        refused: dict[tuple[Operation, Operation], str] = {}
                        _fuse_block(block, self.max_recompute_cost, self.hoisted_broadcasts, log, refused)
                        if log is not None:
                            _record_edges(block, self.max_recompute_cost, self.hoisted_broadcasts, log, refused)

    @staticmethod
    def _generalize(block: Block) -> None:
        """Transposes that feed a generic become generics (so they fuse into a strided read).

        A transpose feeding only named ops (a matmul's operand) stays: the backend turns it into
        a view passed to BLAS.
        """
        for t in list(block.ops):
            if not isinstance(t, TransposeOp) or not isinstance(t.results[0].type, TensorType):
                continue
            if any(isinstance(u.operation, GenericOp) for u in t.results[0].uses):
                g = generalize_transpose(t)
                block.insert_op_before(g, t)
                t.results[0].replace_all_uses_with(g.results[0])
                t.detach()
                t.erase()


def source_of(op: Operation) -> str:
    """Short provenance of an op, for messages."""
    return describe(op.location)


__all__ = [
    "LinalgFuseElementwise", "FusionLog", "collect_fusion_log", "describe", "origin_parts",
    "fused_location", "op_cost", "body_cost",
]


def origin_loc(op: Operation) -> LocationAttr:
    """The location a torch op hands to what it lowers to: `loc("aten.tanh"(<source>))`."""
    loc = op.location if op.location is not None else UnknownLoc()
    return NameLoc(StringAttr(op.name.removeprefix("torch.")), loc)


def tag_origins(block: Block, after: Operation | None, op: Operation) -> None:
    """Give the linalg ops inserted in `block` after `after` the provenance of torch op `op`."""
    new = after.next_op if after is not None else block.first_op
    loc = origin_loc(op)
    while new is not None:
        if new.name.startswith("linalg."):
            new.location = loc
        new = new.next_op
