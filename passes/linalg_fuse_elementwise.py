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
the total is at most `max-recompute-cost` (default 4: a handful of adds/muls, never an exp),
and only when every other user could fuse it too (a generic in the same block reading it): a
result that is materialised anyway (returned, read in a loop body, a named op's operand) is
never recomputed — reading it costs less than recomputing it from its inputs.
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
import heapq
import itertools
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
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineMap
from xdsl.passes import ModulePass

# -- cost model ------------------------------------------------------------------------------

EXPENSIVE = 100
_EXPENSIVE_ARITH = frozenset(
    {
        "arith.divf",
        "arith.divsi",
        "arith.divui",
        "arith.ceildivsi",
        "arith.ceildivui",
        "arith.floordivsi",
        "arith.remf",
        "arith.remsi",
        "arith.remui",
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
    return _scan_body(op, hoisted)[0]


def _scan_body(op: GenericOp, hoisted: bool) -> tuple[list[Operation], bool]:
    """`_full_rank_ops`, and whether the first yielded value is evaluated over all loops."""
    body = op.body.block
    if not hoisted:
        return list(body.ops), True
    n = len(op.iterator_types.data)
    dims: dict[SSAValue, frozenset[int]] = {}
    for arg, amap in zip(body.args, _maps(op), strict=False):
        dims[arg] = frozenset(amap.used_dims())
    out: list[Operation] = []
    full = n == 0
    for o in body.ops:
        d: frozenset[int] = frozenset().union(*(dims.get(x, frozenset()) for x in o.operands))
        if o.name == "linalg.index":
            d = frozenset({o.dim.value.data})  # type: ignore[attr-defined]
        for r in o.results:
            dims[r] = d
        if len(d) == n:
            out.append(o)
        if isinstance(o, YieldOp) and o.operands:
            full = len(dims.get(o.operands[0], frozenset())) == n
    return out, full


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

    # Labels are rendered when read (str() or a format): a fused op's lists all its parts.
    fused: list[tuple[object, object, str]] = field(default_factory=list)  # producer, consumer, how
    refused: list[tuple[object, object, str]] = field(
        default_factory=list
    )  # producer, consumer, why


_LOG: contextvars.ContextVar[FusionLog | None] = contextvars.ContextVar(
    "xjit_fusion_log", default=None
)


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


# Provenance during the pass: a tree `(producer parts, consumer parts)` whose leaves are the
# locations of the original ops. A fused op's `loc(fused[...])` is built once, when the pass
# leaves the block (building it per fusion copied the growing list of parts: O(n^2) on a chain).
_Parts = LocationAttr | None | tuple["_Parts", "_Parts"]


def _flatten(node: _Parts) -> list[LocationAttr]:
    out: list[LocationAttr] = []
    stack: list[_Parts] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack += (n[1], n[0])
        else:
            out += origin_parts(n)
    return out


def _location(parts: list[LocationAttr]) -> LocationAttr:
    if not parts:
        return UnknownLoc()
    if len(parts) == 1:
        return parts[0]
    return FusedLoc(ArrayAttr(parts), NoneAttr())


class _Label:
    """A fusion-log label, rendered when first read (a fused op's label lists all its parts)."""

    __slots__ = ("_node", "_name", "_text")

    def __init__(self, node: _Parts, name: str) -> None:
        self._node, self._name, self._text = node, name, None

    def __str__(self) -> str:
        if self._text is None:
            parts = _flatten(self._node)
            self._text = " + ".join(describe_part(p) for p in parts) if parts else self._name
            self._node = None
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


# Work done by the pass since the process started (a regression test compares graphs of n and 2n
# ops: each count must double, not quadruple): body ops scanned for facts, body ops cloned or
# moved into fused ops, uses rewired from one value to another, fusions, and fused-op
# candidates checked for the verifier's condition.
WORK = {"scanned": 0, "built": 0, "rewired": 0, "fusions": 0, "checked": 0}


class _Facts:
    """What the pass knows about one block, kept up to date as it fuses, so that no decision
    rescans the block or a (growing) fused body:

    - `key`: the order of the block's ops (a fused op takes its consumer's place and key);
    - per generic, from one scan of its body, or combined from its producer and consumer when
      fusion builds it: `size` (body ops), `n_index` (`linalg.index` ops), `n_extract`
      (`tensor.extract` ops: gathers), `cost` (`body_cost`
      with the pass's `hoisted`) and `full` (its first yielded value varies along all loops);
      `cost`/`full` of a fused op are unknown (rescanned on demand) when a broadcast or
      non-permutation read changes which of its ops are evaluated over all loops;
    - `parts`: provenance trees of fused ops, made locations by `finish()`.

    `scanned` counts body ops scanned and `built` body ops cloned or moved into fused ops:
    both stay linear in the graph (tests/test_fusion.py checks the counts, not times).
    """

    def __init__(self, block: Block, hoisted: bool) -> None:
        self.block = block
        self.hoisted = hoisted
        self.key: dict[Operation, int] = {o: i for i, o in enumerate(block.ops)}
        self.size: dict[Operation, int] = {}
        self.n_index: dict[Operation, int] = {}
        self.n_extract: dict[Operation, int] = {}
        self.cost: dict[Operation, int] = {}
        self.full: dict[Operation, bool] = {}
        self.parts: dict[Operation, _Parts] = {}
        self.scanned = 0
        self.built = 0

    def _scan(self, op: GenericOp) -> None:
        full_rank, full = _scan_body(op, self.hoisted)
        size = n_index = n_extract = 0
        for o in op.body.block.ops:
            size += 1
            n_index += isinstance(o, IndexOp)
            n_extract += o.name == "tensor.extract"
        self.scanned += size
        self.size[op], self.n_index[op], self.n_extract[op], self.full[op] = (
            size,
            n_index,
            n_extract,
            full,
        )
        self.cost[op] = sum(op_cost(o) for o in full_rank)

    def size_of(self, op: GenericOp) -> int:
        if op not in self.size:
            self._scan(op)
        return self.size[op]

    def n_index_of(self, op: GenericOp) -> int:
        if op not in self.n_index:
            self._scan(op)
        return self.n_index[op]

    def n_extract_of(self, op: GenericOp) -> int:
        if op not in self.n_extract:
            self._scan(op)
        return self.n_extract[op]

    def cost_of(self, op: GenericOp) -> int:
        if op not in self.cost:
            self._scan(op)
        return self.cost[op]

    def full_of(self, op: GenericOp) -> bool:
        if op not in self.full:
            self._scan(op)
        return self.full[op]

    def parts_of(self, op: Operation) -> _Parts:
        return self.parts.get(op, op.location)

    def label(self, op: Operation) -> _Label:
        return _Label(self.parts_of(op), op.name)

    def top(self, op: Operation) -> Operation | None:
        """`op`, or the op of this block that holds it."""
        while op.parent is not self.block:
            parent = op.parent_op()
            if parent is None:
                return None
            op = parent
        return op

    def forget(self, op: Operation) -> None:
        for d in (
            self.key,
            self.size,
            self.n_index,
            self.n_extract,
            self.cost,
            self.full,
            self.parts,
        ):
            d.pop(op, None)  # type: ignore[attr-defined]

    def finish(self) -> None:
        """Give the fused ops that remain their `loc(fused[...])`."""
        for op, node in self.parts.items():
            if op.parent is self.block:
                op.location = _location(_flatten(node))
        self.parts.clear()
        WORK["scanned"] += self.scanned
        WORK["built"] += self.built
        self.scanned = self.built = 0


def plan_fusion(
    p: GenericOp,
    c: GenericOp,
    max_cost: int,
    hoisted_broadcasts: bool,
    facts: _Facts | None = None,
) -> Plan | str:
    """A fusion plan for producer `p` into consumer `c`, or the reason there is none.

    With `facts` (the pass), the producer's cost and `linalg.index` count come from there and
    op order from its keys; the cost is only looked at when a rule needs it."""
    problem = producer_problem(p)
    if problem is not None:
        return problem
    if p.parent_block() is not c.parent_block():
        return "producer and consumer are in different blocks"
    v = p.results[0]
    n_in = len(c.inputs)
    in_uses = []
    others = []
    writes = False
    for u in v.uses:
        if u.operation is not c:
            others.append(u)
        elif u.index < n_in:
            in_uses.append(u)
        else:
            writes = True
    if writes:
        return "the consumer writes into it (it is the consumer's init)"
    if not in_uses:
        return "not an input of the consumer"
    if not _parallel(c) and (
        facts.n_extract_of(p) > 0
        if facts is not None
        else any(o.name == "tensor.extract" for o in p.body.block.ops)
    ):
        return (
            "it is a gather (tensor.extract at computed indices), vectorised only in parallel nests"
        )
    c_maps = _maps(c)
    maps = {str(c_maps[u.index]): c_maps[u.index] for u in in_uses}
    if (
        (facts.n_index_of(p) > 0)
        if facts is not None
        else any(isinstance(o, IndexOp) for o in p.body.block.ops)
    ):
        inv = _maps(p)[len(p.inputs)].inverse_permutation()
        assert inv is not None
        for m in maps.values():
            if not all(
                isinstance(e, AffineDimExpr | AffineConstantExpr) for e in inv.compose(m).results
            ):
                return "its body reads loop indices (linalg.index) that the consumer's map does not give"

    def cost() -> int:
        return facts.cost_of(p) if facts is not None else body_cost(p, hoisted_broadcasts)

    def what() -> str:
        return ", ".join(expensive_ops(p, hoisted_broadcasts)) or f"{cost()} scalar ops"

    broadcast = any(m.unused_dims() for m in maps.values())
    if broadcast and not hoisted_broadcasts and cost() > max_cost:
        return f"read through a broadcast: recomputing it ({what()}) per consumer iteration is too costly"
    if not others:
        return Plan(p, c, False, "through a broadcast" if broadcast else "single consumer")
    block = c.parent_block()
    assert block is not None
    kept = [u for u in others if _materialises(u, block)]
    if cost() <= max_cost and not kept:
        return Plan(
            p, c, False, f"recomputed: cheap ({cost()} scalar ops), {len(others)} other user(s)"
        )
    # Expensive and shared, or materialised anyway for a user that cannot fuse it (a loop
    # body, a return, a named op: recomputing it in the consumer would only add work): keep
    # its result as an extra output if every element is produced exactly once by the
    # consumer's loops and the other users follow the consumer.
    if cost() <= max_cost:
        what = lambda: f"{cost()} scalar ops, materialised anyway for {kept[0].operation.name}"  # noqa: E731
    if len(maps) != 1 or not _is_permutation(next(iter(maps.values()))):
        return (
            f"it has {len(others)} other user(s) and recomputing it ({what()}) would duplicate "
            "work; the consumer does not walk its elements one to one, so it cannot be yielded too"
        )
    if not all(_after(u.operation, c, block, facts) for u in others):
        return f"it has {len(others)} other user(s) before the consumer; recomputing it ({what()}) would duplicate work"
    return Plan(
        p,
        c,
        True,
        f"result kept as an extra output ({len(others)} other user(s); {what()} not recomputed)",
    )


def _materialises(use: object, block: Block) -> bool:
    """Does this use need the producer's result as a tensor of its own? Only a generic in the
    same block reading it as an input could fuse it instead (a use nested in a loop body, a
    return, a named op or an init cannot)."""
    op = use.operation  # type: ignore[attr-defined]
    return not (
        isinstance(op, GenericOp) and op.parent_block() is block and use.index < len(op.inputs)
    )  # type: ignore[attr-defined]


def _after(op: Operation, anchor: Operation, block: Block, facts: _Facts | None = None) -> bool:
    top = op
    while top.parent_block() is not block:
        parent = top.parent_op()
        if parent is None:
            return False
        top = parent
    if top is anchor:
        return False
    if facts is not None and top in facts.key and anchor in facts.key:
        return facts.key[top] > facts.key[anchor]
    return block.get_operation_index(top) > block.get_operation_index(anchor)


def _indexing_problem(operands: list[SSAValue], maps: list[AffineMap]) -> str | None:
    """Why a generic over `operands` with indexing `maps` would be rejected by xDSL's linalg
    verifier, which reads the loop ranges off the operand shapes: every loop must index some
    operand dimension on its own (a fused op whose intermediate tensor was the only such
    operand, e.g. one read through an offset map `d0 + 1` from a slice, has none), and each
    operand must be as large as the loops reach into it. None if it is fine."""
    shapes = [tuple(v.type.get_shape()) if isinstance(v.type, ShapedType) else () for v in operands]
    n = maps[0].num_dims if maps else 0
    ranges: list[int | None] = [None] * n
    for shape, m in zip(shapes, maps, strict=True):
        for size, e in zip(shape, m.results, strict=False):
            if isinstance(e, AffineDimExpr) and ranges[e.position] is None:
                ranges[e.position] = size
    for d, r in enumerate(ranges):
        if r is None:
            return (
                f"no operand gives the range of loop d{d}: it is only reached through expressions"
            )
    if any(s < 0 for shape in shapes for s in shape):
        return None  # a dynamic size: checked at run time
    ends = [r - 1 for r in ranges if r is not None]
    starts = [0] * n
    for k, (shape, m) in enumerate(zip(shapes, maps, strict=True)):
        if not shape:
            continue
        for dim, (a, b, size) in enumerate(
            zip(m.eval(starts, []), m.eval(ends, []), shape, strict=True)
        ):
            if size == 0:
                continue
            if min(a, b) < 0:
                return f"operand #{k} would be read at a negative index through {m}"
            reach = max(a, b) + 1
            if isinstance(m.results[dim], AffineDimExpr) and reach != size:
                return f"operand #{k} has size {size} in dimension #{dim}, its loop runs to {reach}"
            if reach > size:
                return f"operand #{k} has size {size} in dimension #{dim}, {m} reaches {reach}"
    return None


# -- the rewrite -----------------------------------------------------------------------------


def fuse(plan: Plan, facts: _Facts | None = None) -> GenericOp | str:
    """Build the fused generic (in place of the consumer); erase what became dead.
    Returns the reason instead when the fused op would not verify (nothing is changed).

    The consumer's body is always reused (its ops are moved, never cloned). The producer's body
    is moved too when the producer dies and is read through one map; the bigger of the two
    blocks becomes the fused body and the smaller one's ops move into it. So fusing a chain
    one op at a time moves each op once, instead of cloning the growing fused body every time.
    A producer that stays (recomputed) or is read through several maps is cloned, once per map.
    """
    p, c = plan.producer, plan.consumer
    parent = c.parent_block()
    assert parent is not None
    own_facts = facts is None
    if facts is None:
        facts = _Facts(parent, False)
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

    # The condition the fused op's verifier would reject, checked before anything is built.
    WORK["checked"] += 1
    problem = _indexing_problem([*inputs, *outputs], in_maps + out_maps)
    if problem is not None:
        return f"the fused op would not verify ({problem})"

    v_maps = {str(m): m for m in c_slots if isinstance(m, AffineMap)}
    k = len(v_maps)
    p_dies = plan.keep_result or all(u.operation is c for u in v.uses)
    only = next(iter(v_maps.values())) if k == 1 else None
    move = (
        p_dies
        and only is not None
        and (
            facts.n_index_of(p) == 0
            or inv.compose(only) == AffineMap.identity(len(p_maps[n_in_p].results))
        )
    )
    # Facts of the fused op, from those of its parts (before the bodies change).
    size = facts.size_of(c) + k * facts.size_of(p)
    combinable = not facts.hoisted or (
        all(_is_permutation(m) for m in v_maps.values()) and facts.full_of(p)
    )
    cost = facts.cost_of(c) + k * facts.cost_of(p) if combinable else None
    full = facts.full_of(c) if combinable else None
    n_index = facts.n_index_of(c)
    n_extract = facts.n_extract_of(c) + k * facts.n_extract_of(p)

    p_body, c_body = p.body.block, c.body.block
    base = p_body if move and facts.size_of(p) >= facts.size_of(c) else c_body
    # The fused body's arguments: those of `base` that read the same input keep their place
    # (and their uses: rewiring the uses of a shared input in a big body at every fusion would
    # be O(n) each); the others are new.
    p_slots = [
        slot[(p_in, str(p_maps[j].compose(inv.compose(only))))] if move and only is not None else -1
        for j, p_in in enumerate(p.inputs)
    ]
    reuse: dict[int, BlockArgument] = {}
    if base is p_body:
        for j in range(n_in_p):
            reuse.setdefault(p_slots[j], p_body.args[j])
    else:
        for i, s in enumerate(c_slots):
            if not isinstance(s, AffineMap):
                reuse.setdefault(s, c_body.args[i])
        for j in range(len(c.outputs)):
            reuse.setdefault(len(inputs) + j, c_body.args[n_in_c + j])
    p_old, c_old = p_body.args, c_body.args
    p_yield = p_body.last_op
    assert isinstance(p_yield, YieldOp)
    pv = p_yield.operands[0]
    pv_arg = pv.index if isinstance(pv, BlockArgument) and pv.block is p_body else None
    new_args = _set_block_args(base, [_elem(x) for x in [*inputs, *outputs]], reuse)

    if move:
        assert only is not None
        if pv_arg is not None:
            pv = new_args[p_slots[pv_arg]]
        for j in range(n_in_p):
            _redirect(p_old[j], new_args[p_slots[j]])
        p_yield.detach()
        p_yield.erase()
        n_index += facts.n_index_of(p)
        values: dict[str, SSAValue] = {str(only): pv}
        pre_ops: list[Operation] = []
    else:
        values = {}  # producer value per consumer map (its body cloned once each)
        pre_ops = []
        for key, amap in v_maps.items():
            pm: dict[SSAValue, SSAValue] = {}
            for j, p_in in enumerate(p.inputs):
                pm[p_old[j]] = new_args[slot[(p_in, str(p_maps[j].compose(inv.compose(amap))))]]
            to_c = inv.compose(amap)  # producer loop d = to_c.results[d] over consumer loops
            for op in p_body.ops:
                if isinstance(op, YieldOp):
                    values[key] = pm.get(op.operands[0], op.operands[0])
                    break
                if isinstance(op, IndexOp):
                    e = to_c.results[op.dim.value.data]
                    if isinstance(e, AffineDimExpr):
                        new: Operation = IndexOp(e.position)
                        n_index += 1
                    else:
                        new = arith.ConstantOp(IntegerAttr(e.value, IndexType()))  # type: ignore[attr-defined]
                    pm[op.result] = new.results[0]
                    pre_ops.append(new)
                    continue
                pre_ops.append(op.clone(pm))

    for i, s in enumerate(c_slots):
        _redirect(c_old[i], values[str(s)] if isinstance(s, AffineMap) else new_args[s])
    for j in range(len(c.outputs)):
        _redirect(c_old[n_in_c + j], new_args[len(inputs) + j])
    if keep_map is not None:
        c_yield = c_body.last_op
        assert isinstance(c_yield, YieldOp)
        c_body.insert_op_before(YieldOp(*c_yield.operands, values[str(keep_map)]), c_yield)
        c_yield.detach()
        c_yield.erase()
    if move and base is p_body:
        moved = list(c_body.ops)
        for o in moved:
            o.detach()
        p_body.add_ops(moved)
    else:
        if move:
            pre_ops = list(p_body.ops)
            for o in pre_ops:
                o.detach()
        moved = pre_ops
        if pre_ops:
            c_body.insert_ops_before(pre_ops, c_body.first_op)  # type: ignore[arg-type]
    facts.built += len(moved) + len(new_args) - len(reuse)
    region = base.parent
    assert region is not None
    region.detach_block(base)

    fused = GenericOp(
        inputs,
        outputs,
        Region(base),
        [AffineMapAttr(m) for m in in_maps + out_maps],
        c.iterator_types,
        result_types,
    )
    parent.insert_op_before(fused, c)
    for old, new_result in zip(c.results, fused.results, strict=False):
        old.replace_all_uses_with(new_result)
    if keep_map is not None:
        v.replace_all_uses_with(fused.results[-1])
    WORK["fusions"] += 1
    facts.key[fused] = facts.key.get(c, -1)
    facts.parts[fused] = (facts.parts_of(p), facts.parts_of(c))
    facts.size[fused], facts.n_index[fused], facts.n_extract[fused] = size, n_index, n_extract
    if cost is not None and full is not None:
        facts.cost[fused], facts.full[fused] = cost, full
    c.detach()
    c.erase()
    facts.forget(c)
    if not v.uses:
        p.detach()
        p.erase()
        facts.forget(p)
    if own_facts:
        facts.finish()
    return fused


def _redirect(old: SSAValue, new: SSAValue) -> None:
    """Uses of `old` now use `new`, which keeps its own name (replace_all_uses_with would give it
    `old`'s: the fused body prints as if it had been built afresh)."""
    if old is new:
        return
    WORK["rewired"] += old.uses.get_length()
    hint = new.name_hint
    old.replace_all_uses_with(new)
    new.name_hint = hint


def _set_block_args(
    block: Block, types: list[Attribute], reuse: dict[int, BlockArgument]
) -> list[BlockArgument]:
    """Give `block` arguments of `types`, argument `t` being `reuse[t]` (an argument of `block`,
    kept with its uses, renamed to nothing as a fresh one would be) or a new one. The arguments
    left out must be redirected by the caller. (xDSL has no public API to reorder block
    arguments; this sets them as Block.__init__ does.)"""
    args: list[BlockArgument] = []
    for t, typ in enumerate(types):
        a = reuse.get(t)
        if a is None:
            a = BlockArgument(typ, block, t)
        else:
            assert a.block is block and a.type == typ
            a.index = t
            a.name_hint = None
        args.append(a)
    block._args = tuple(args)  # pyright: ignore[reportPrivateUsage]
    return args


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
        [src],
        [init],
        Region(block),
        list(op.get_indexing_maps().data),
        [IteratorTypeAttr.parallel()] * rank,
        list(op.result_types),
    )
    g.location = op.location
    return g


# -- the pass --------------------------------------------------------------------------------


def _label(op: Operation) -> str:
    d = describe(op.location)
    return d if d != "?" else op.name


def _fuse_block(
    block: Block,
    max_cost: int,
    hoisted: bool,
    log: FusionLog | None,
    refused: dict[tuple[Operation, Operation], str],
    facts: _Facts | None = None,
) -> _Facts:
    """Fuse to a fixpoint, with the decisions of "repeatedly fuse the first fusable
    (consumer, operand) pair in block order", without rescanning the block after each fusion:
    consumers wait in a heap by position; after a fusion only the consumers whose decision may
    have changed are queued again (the fused op; the users of its results; the other users of
    a producer that stays; and, when the producer dies, users of its producers placed between
    it and the consumer: for them a user before them became one after them)."""
    if facts is None:
        facts = _Facts(block, hoisted)
    heap: list[tuple[int, int, GenericOp]] = []
    queued: set[Operation] = set()
    seq = itertools.count()

    def push(op: Operation | None) -> None:
        if isinstance(op, GenericOp) and op.parent is block and op not in queued:
            queued.add(op)
            heapq.heappush(heap, (facts.key[op], next(seq), op))

    def push_users(value: SSAValue, lo: int = -1, hi: int | None = None) -> None:
        for u in value.uses:
            top = facts.top(u.operation)
            if (
                top is not None
                and lo < facts.key.get(top, -1)
                and (hi is None or facts.key[top] < hi)
            ):
                push(top)

    for op in block.ops:
        push(op)
    while heap:
        _, _, c = heapq.heappop(heap)
        queued.discard(c)
        if c.parent is not block:
            continue
        for operand in c.inputs:
            p = operand.owner
            if not isinstance(p, GenericOp) or p.parent is not block:
                continue
            plan = plan_fusion(p, c, max_cost, hoisted, facts)
            if not isinstance(plan, Plan) or (p, c) in refused:
                continue
            labels = (facts.label(p), facts.label(c))
            p_key, c_key = facts.key[p], facts.key[c]
            p_producers = [x for x in p.inputs if isinstance(x.owner, GenericOp)]
            done = fuse(plan, facts)
            if isinstance(done, str):
                refused[(p, c)] = done
                continue
            if log is not None:
                log.fused.append((*labels, plan.how))
            push(done)
            for r in done.results:
                push_users(r)
            if p.parent is block:
                push_users(p.results[0])
            else:
                for x in p_producers:
                    push_users(x, p_key, c_key)
            break
    return facts


def _record_edges(
    block: Block,
    max_cost: int,
    hoisted: bool,
    log: FusionLog,
    refused: dict[tuple[Operation, Operation], str],
    facts: _Facts | None = None,
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
                plan = (
                    plan_fusion(p, c, max_cost, hoisted, facts)
                    if isinstance(p, GenericOp)
                    else producer_problem(p)
                )
                why = (
                    plan
                    if isinstance(plan, str)
                    else refused.get((p, c), "fusable (not fused: pass order)")
                )
            if c.name == "linalg.matmul" and p.name == "linalg.fill":
                continue  # the accumulator's initialisation: not a fusion candidate
            log.refused.append((_Label(p.location, p.name), _Label(c.location, c.name), why or "?"))


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
            # f.walk() starts with f (each block once: the edges are recorded once). Generic
            # bodies hold scalar code only: nothing to fuse in them.
            for region_op in [o for o in f.walk() if o.regions and not isinstance(o, GenericOp)]:
                for region in region_op.regions:
                    for block in region.blocks:
                        if self.generalize_transposes:
                            self._generalize(block)
                        refused: dict[tuple[Operation, Operation], str] = {}
                        facts = _fuse_block(
                            block, self.max_recompute_cost, self.hoisted_broadcasts, log, refused
                        )
                        facts.finish()
                        if log is not None:
                            _record_edges(
                                block,
                                self.max_recompute_cost,
                                self.hoisted_broadcasts,
                                log,
                                refused,
                                facts,
                            )

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
    "LinalgFuseElementwise",
    "FusionLog",
    "collect_fusion_log",
    "describe",
    "origin_parts",
    "fused_location",
    "op_cost",
    "body_cost",
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
