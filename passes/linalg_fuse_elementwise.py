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

**Contractions.** A producer that computes something is never fused into a reduction reading
it through a broadcast (`A[i,k] * B[k,j]` summed over k: a matmul, a linear layer, `att @ v`).
The backend calls BLAS for a contraction only while its operands are plain reads; with a fused
LayerNorm, GELU or softmax it would materialise the product over all loops (B·T·N·K elements)
and reduce it with einsum. Materialising the producer once costs one pass over its own, much
smaller, result. Pure copies (a transpose) still fuse: they stay strided views of BLAS operands.

**Policy apart from mechanics**, as MLIR's `FuseElementwiseOps`: `FuseElementwiseOps` is the
pattern (legality in `fusion_problem`, the rewrite in `fuse`), `plan_fusion` the control
function that applies the cost rules above; `_fuse_block` drives the pattern over a block with
a worklist that keeps the pass linear in the graph (the work it does is counted in
`FusionLog.work`).

Provenance: each linalg op's `location` names the torch ops it computes (`convert-torch-to-
linalg` sets `loc("aten.tanh"(...))`); fused ops get a `loc(fused[...])` of their parts, as in
MLIR. Decisions go to an optional `FusionLog` (`collect_fusion_log()`), which the fusion report
(`xjit.passes.fusion_report`) reads.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
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
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue, Use
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineMap
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern

from xjit.passes.op_builders import map_attr, new_generic

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
    # Work done (`_Facts.work`, summed over blocks): a compile-time regression guard counts it.
    work: Counter[str] = field(default_factory=Counter)


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


# A generic's `inputs`/`outputs` accessors decode its `operandSegmentSizes` property with
# `struct` on every access (~3 µs): the pass reads them tens of thousands of times on a large
# graph. The decoded sizes, by the property's bytes (a handful of distinct values).
_SEGMENTS: dict[bytes, tuple[int, ...]] = {}


def _segments(op: GenericOp) -> tuple[int, ...]:
    attr = op.properties["operandSegmentSizes"]
    raw = attr.data.data  # type: ignore[attr-defined]
    sizes = _SEGMENTS.get(raw)
    if sizes is None:
        sizes = _SEGMENTS[raw] = tuple(attr.get_values())  # type: ignore[attr-defined]
    return sizes


def _n_in(op: GenericOp) -> int:
    return _segments(op)[0]


def _n_out(op: GenericOp) -> int:
    return _segments(op)[1]


def _ins(op: GenericOp) -> Sequence[SSAValue]:
    """`op.inputs`, the same values."""
    return op.operands[: _segments(op)[0]]


def _outs(op: GenericOp) -> Sequence[SSAValue]:
    """`op.outputs`, the same values."""
    n_in, n_out = _segments(op)
    return op.operands[n_in : n_in + n_out]


# Affine maps are values (frozen dataclasses): composing or printing equal maps gives equal
# results, so both are memoised (fusing a chain composes and prints the same few maps for
# every pair; each costs more than the lookup).
@functools.lru_cache(maxsize=4096)
def _compose(a: AffineMap, b: AffineMap) -> AffineMap:
    return a.compose(b)


@functools.lru_cache(maxsize=4096)
def _mstr(m: AffineMap) -> str:
    return str(m)


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
    if _n_out(p) != 1 or len(p.results) != 1:
        return "it has several results"
    if not _is_permutation(_maps(p)[_n_in(p)]):
        return "its output map is not a permutation"
    if p.body.block.args[_n_in(p)].uses:
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
        # Work done in this block (a regression test compares graphs of n and 2n ops: each
        # count must double, not quadruple): body ops scanned for facts, body ops cloned or
        # moved into fused ops, uses rewired from one value to another, fusions, and fused-op
        # candidates checked for the verifier's condition. Reported in `FusionLog.work`.
        self.work: Counter[str] = Counter(scanned=0, built=0, rewired=0, fusions=0, checked=0)

    def _scan(self, op: GenericOp) -> None:
        full_rank, full = _scan_body(op, self.hoisted)
        size = n_index = n_extract = 0
        for o in op.body.block.ops:
            size += 1
            n_index += isinstance(o, IndexOp)
            n_extract += o.name == "tensor.extract"
        self.work["scanned"] += size
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


# -- the control function: whether to fuse ---------------------------------------------------


def _read_maps(p: GenericOp, c: GenericOp) -> dict[str, AffineMap]:
    """The consumer's maps through which it reads the producer's result as an input."""
    c_maps, n_in = _maps(c), _n_in(c)
    return {
        _mstr(c_maps[u.index]): c_maps[u.index]
        for u in p.results[0].uses
        if u.operation is c and u.index < n_in
    }


def fusion_problem(producer: GenericOp, consumer: GenericOp, facts: _Facts) -> str | None:
    """Why the fusion pattern cannot fuse `producer` into `consumer` at all (MLIR's
    `areElementwiseOpsFusable`), or None. Cost is not considered here: see `plan_fusion`."""
    p, c = producer, consumer
    problem = producer_problem(p)
    if problem is not None:
        return problem
    if p.parent_block() is not c.parent_block():
        return "producer and consumer are in different blocks"
    if any(u.operation is c and u.index >= _n_in(c) for u in p.results[0].uses):
        return "the consumer writes into it (it is the consumer's init)"
    maps = _read_maps(p, c)
    if not maps:
        return "not an input of the consumer"
    if not _parallel(c) and facts.n_extract_of(p) > 0:
        return (
            "it is a gather (tensor.extract at computed indices), vectorized only in parallel nests"
        )
    if facts.n_index_of(p) > 0:
        inv = _maps(p)[_n_in(p)].inverse_permutation()
        assert inv is not None
        for m in maps.values():
            if not all(
                isinstance(e, AffineDimExpr | AffineConstantExpr) for e in _compose(inv, m).results
            ):
                return "its body reads loop indices (linalg.index) that the consumer's map does not give"
    return None


def plan_fusion(
    producer: GenericOp, consumer: GenericOp, max_cost: int, facts: _Facts
) -> Plan | str:
    """The control function (MLIR's `ControlFusionFn`): a fusion plan for `producer` into
    `consumer`, or the reason there is none. It applies the cost rules of the module
    docstring, in this order:

    0. a producer that computes something (not a pure copy: a transpose stays a strided view)
       is never fused into a reduction that reads it through a broadcast: that consumer is a
       contraction (`A[i,k] * B[k,j]`), which the backend calls BLAS for only while its
       operands are plain reads; fused, it becomes a product materialised over every loop;
    1. a producer read through a broadcast is recomputed per consumer iteration unless the
       backend hoists broadcasts (`facts.hoisted`): refused when it costs more than `max_cost`;
    2. a producer with no other user is fused (nothing is duplicated);
    3. a producer with other users is recomputed when it costs at most `max_cost` and every
       other user could fuse it too (no user materialises it anyway) -- except, when the
       backend hoists broadcasts (numpy), in a reduction that can keep it as an extra output
       (rule 4): numpy evaluates a reduction's operand into a temporary anyway, so the
       producer is written once there instead of computed again (a causal mask's select);
    4. otherwise its result is kept as an extra output of the fused op, if the consumer walks
       its elements one to one and all other users come after the consumer;
    5. otherwise it is refused (fusing would duplicate work).

    Costs come from `facts` (its `hoisted` says which body ops count) and are only computed when
    a rule needs them."""
    p, c = producer, consumer
    problem = fusion_problem(p, c, facts)
    if problem is not None:
        return problem
    maps = _read_maps(p, c)
    others = [u for u in p.results[0].uses if u.operation is not c]

    def what() -> str:
        return ", ".join(expensive_ops(p, facts.hoisted)) or f"{facts.cost_of(p)} scalar ops"

    broadcast = any(m.unused_dims() for m in maps.values())
    if broadcast and not _parallel(c) and facts.size_of(p) > 1:
        return (
            "an operand of a contraction (a reduction reading it through a broadcast): fusing "
            "would turn the matrix product into a broadcast product; it is materialised once"
        )
    if broadcast and not facts.hoisted and facts.cost_of(p) > max_cost:
        return f"read through a broadcast: recomputing it ({what()}) per consumer iteration is too costly"
    if not others:
        return Plan(p, c, False, "through a broadcast" if broadcast else "single consumer")
    block = c.parent_block()
    assert block is not None
    kept = [u for u in others if _materialises(u, block)]
    cheap = facts.cost_of(p) <= max_cost
    if cheap and not kept and facts.hoisted and not _parallel(c):
        # numpy evaluates a reduction's operand into a temporary anyway: recomputing the
        # producer there costs its passes again; kept as an extra output it is written once
        plan = _keep_result_plan(p, c, maps, others, f"{facts.cost_of(p)} scalar ops", facts)
        if isinstance(plan, Plan):
            return plan
    if cheap and not kept:
        return Plan(
            p,
            c,
            False,
            f"recomputed: cheap ({facts.cost_of(p)} scalar ops), {len(others)} other user(s)",
        )
    # Expensive and shared, or materialised anyway for a user that cannot fuse it (a loop
    # body, a return, a named op: recomputing it in the consumer would only add work).
    why = (
        f"{facts.cost_of(p)} scalar ops, materialised anyway for {kept[0].operation.name}"
        if cheap
        else what()
    )
    return _keep_result_plan(p, c, maps, others, why, facts)


def _keep_result_plan(
    p: GenericOp,
    c: GenericOp,
    maps: dict[str, AffineMap],
    others: list[Use],
    why: str,
    facts: _Facts,
) -> Plan | str:
    """Rule 4 of `plan_fusion`: keep the producer's result as an extra output if every element
    is produced exactly once by the consumer's loops and the other users follow the consumer."""
    if len(maps) != 1 or not _is_permutation(next(iter(maps.values()))):
        return (
            f"it has {len(others)} other user(s) and recomputing it ({why}) would duplicate "
            "work; the consumer does not walk its elements one to one, so it cannot be yielded too"
        )
    block = c.parent_block()
    assert block is not None
    if not all(_after(u.operation, c, block, facts) for u in others):
        return f"it has {len(others)} other user(s) before the consumer; recomputing it ({why}) would duplicate work"
    return Plan(
        p,
        c,
        True,
        f"result kept as an extra output ({len(others)} other user(s); {why} not recomputed)",
    )


def _materialises(use: Use, block: Block) -> bool:
    """Does this use need the producer's result as a tensor of its own? Only a generic in the
    same block reading it as an input could fuse it instead (a use nested in a loop body, a
    return, a named op or an init cannot)."""
    op = use.operation
    return not (isinstance(op, GenericOp) and op.parent_block() is block and use.index < _n_in(op))


def _after(op: Operation, anchor: Operation, block: Block, facts: _Facts) -> bool:
    top = facts.top(op)
    if top is None or top is anchor:
        return False
    if top in facts.key and anchor in facts.key:
        return facts.key[top] > facts.key[anchor]
    return block.get_operation_index(top) > block.get_operation_index(anchor)


def _indexing_problem(operands: list[SSAValue], maps: list[AffineMap]) -> str | None:
    """Why a generic over `operands` with indexing `maps` would be rejected by xDSL's linalg
    verifier, which reads the loop ranges off the operand shapes: every loop must index some
    operand dimension on its own (a fused op whose intermediate tensor was the only such
    operand, e.g. one read through an offset map `d0 + 1` from a slice, has none), and each
    operand must be as large as the loops reach into it. None if it is fine."""
    shapes = tuple(
        tuple(v.type.get_shape()) if isinstance(v.type, ShapedType) else () for v in operands
    )
    return _shape_problem(shapes, tuple(maps))


# A function of the shapes and maps only (both values): a chain asks it the same question at
# every fusion.
@functools.lru_cache(maxsize=4096)
def _shape_problem(shapes: tuple[tuple[int, ...], ...], maps: tuple[AffineMap, ...]) -> str | None:
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


# -- the pattern: fusing a producer into a consumer ------------------------------------------


@dataclass
class _Operands:
    """The fused op's operands and maps. `c_slots[i]` says where consumer input `i` went: its
    input slot, or (when it is the producer's result) the consumer's map through which it
    reads it."""

    inputs: list[SSAValue] = field(default_factory=list)
    in_maps: list[AffineMap] = field(default_factory=list)
    slot: dict[tuple[SSAValue, str], int] = field(default_factory=dict)
    c_slots: list[int | AffineMap] = field(default_factory=list)
    outputs: list[SSAValue] = field(default_factory=list)
    out_maps: list[AffineMap] = field(default_factory=list)
    result_types: list[Attribute] = field(default_factory=list)
    keep_map: AffineMap | None = None  # the extra output's map (Plan.keep_result)

    def add_input(self, value: SSAValue, amap: AffineMap) -> int:
        """The input slot reading `value` through `amap` (one per distinct pair)."""
        key = (value, _mstr(amap))
        if key not in self.slot:
            self.slot[key] = len(self.inputs)
            self.inputs.append(value)
            self.in_maps.append(amap)
        return self.slot[key]

    def read_maps(self) -> dict[str, AffineMap]:
        """The consumer maps through which the producer's result is read, each once."""
        return {_mstr(m): m for m in self.c_slots if isinstance(m, AffineMap)}


def _fused_operands(plan: Plan, inv: AffineMap) -> _Operands:
    """The consumer's operands with the producer's result replaced by the producer's inputs,
    read through `producer map ∘ inv ∘ consumer map` (`inv`: the producer's output map
    inverted)."""
    p, c = plan.producer, plan.consumer
    v = p.results[0]
    c_maps, p_maps = _maps(c), _maps(p)
    ops = _Operands(
        outputs=list(_outs(c)),
        out_maps=list(c_maps[_n_in(c) :]),
        result_types=list(c.result_types),
    )
    for i, operand in enumerate(_ins(c)):
        if operand is v:
            ops.c_slots.append(c_maps[i])
            for j, p_in in enumerate(_ins(p)):
                ops.add_input(p_in, _compose(p_maps[j], _compose(inv, c_maps[i])))
        else:
            ops.c_slots.append(ops.add_input(operand, c_maps[i]))
    if plan.keep_result:
        ops.keep_map = next(m for m in ops.c_slots if isinstance(m, AffineMap))
        ops.outputs.append(_outs(p)[0])
        ops.out_maps.append(ops.keep_map)
        ops.result_types.append(v.type)
    return ops


@dataclass
class _Fusion:
    """One fusion being built: the plan, the fused operands, and how the producer's body gets
    into the fused one: moved (`only` is then the one consumer map reading it) when the
    producer dies and is read through one map, else cloned once per reading map."""

    plan: Plan
    ops: _Operands
    inv: AffineMap
    only: AffineMap | None

    @property
    def move(self) -> bool:
        return self.only is not None


def _movable_through(plan: Plan, ops: _Operands, inv: AffineMap, facts: _Facts) -> AffineMap | None:
    """The one consumer map through which the producer's body can be moved rather than cloned:
    the producer dies with this fusion, is read through one map, and its `linalg.index` ops (if
    any) keep their meaning (that map is the producer's own iteration order)."""
    p, c = plan.producer, plan.consumer
    v_maps = ops.read_maps()
    if len(v_maps) != 1:
        return None
    if not (plan.keep_result or all(u.operation is c for u in p.results[0].uses)):
        return None
    only = next(iter(v_maps.values()))
    n_out = len(_maps(p)[_n_in(p)].results)
    if facts.n_index_of(p) == 0 or _compose(inv, only) == AffineMap.identity(n_out):
        return only
    return None


def _fused_facts(fusion: _Fusion, facts: _Facts) -> tuple[int, int, int, int | None, bool | None]:
    """Facts of the fused op from those of its parts, before the bodies change: size, `linalg.
    index` count of the consumer's part, gathers, cost and `full` (None: rescanned on demand)."""
    p, c = fusion.plan.producer, fusion.plan.consumer
    v_maps = fusion.ops.read_maps()
    k = len(v_maps)
    size = facts.size_of(c) + k * facts.size_of(p)
    combinable = not facts.hoisted or (
        all(_is_permutation(m) for m in v_maps.values()) and facts.full_of(p)
    )
    cost = facts.cost_of(c) + k * facts.cost_of(p) if combinable else None
    full = facts.full_of(c) if combinable else None
    n_extract = facts.n_extract_of(c) + k * facts.n_extract_of(p)
    return size, facts.n_index_of(c), n_extract, cost, full


def _base_block(fusion: _Fusion, facts: _Facts) -> Block:
    """The body that becomes the fused one: the producer's when it is moved and the bigger of
    the two (so a chain fused one op at a time moves each op once), else the consumer's."""
    p, c = fusion.plan.producer, fusion.plan.consumer
    if fusion.move and facts.size_of(p) >= facts.size_of(c):
        return p.body.block
    return c.body.block


def _producer_slots(fusion: _Fusion) -> list[int]:
    """The fused input slot of each producer input when its body is moved (-1 when cloned)."""
    p = fusion.plan.producer
    if fusion.only is None:
        return [-1] * _n_in(p)
    p_maps = _maps(p)
    to_c = _compose(fusion.inv, fusion.only)
    return [
        fusion.ops.slot[(p_in, _mstr(_compose(p_maps[j], to_c)))] for j, p_in in enumerate(_ins(p))
    ]


def _reused_args(fusion: _Fusion, base: Block, p_slots: list[int]) -> dict[int, BlockArgument]:
    """The arguments of `base` that read the same input as a fused slot keep it (and their uses:
    rewiring the uses of a shared input in a big body at every fusion would be O(n) each)."""
    p, c = fusion.plan.producer, fusion.plan.consumer
    reuse: dict[int, BlockArgument] = {}
    if base is p.body.block:
        for j in range(_n_in(p)):
            reuse.setdefault(p_slots[j], base.args[j])
        return reuse
    for i, s in enumerate(fusion.ops.c_slots):
        if not isinstance(s, AffineMap):
            reuse.setdefault(s, base.args[i])
    n_inputs = len(fusion.ops.inputs)
    for j in range(_n_out(c)):
        reuse.setdefault(n_inputs + j, base.args[_n_in(c) + j])
    return reuse


def _cloned_producer(
    fusion: _Fusion, new_args: list[BlockArgument]
) -> tuple[dict[str, SSAValue], list[Operation], int]:
    """The producer's body cloned once per consumer map reading it: its value per map, the
    cloned ops, and how many `linalg.index` ops they hold. A producer index becomes the
    consumer loop (or constant) that its map gives."""
    p = fusion.plan.producer
    p_body, p_maps = p.body.block, _maps(p)
    values: dict[str, SSAValue] = {}
    pre_ops: list[Operation] = []
    n_index = 0
    for key, amap in fusion.ops.read_maps().items():
        to_c = _compose(fusion.inv, amap)  # producer loop d = to_c.results[d] over consumer loops
        pm: dict[SSAValue, SSAValue] = {}
        for j, p_in in enumerate(_ins(p)):
            pm[p_body.args[j]] = new_args[fusion.ops.slot[(p_in, _mstr(_compose(p_maps[j], to_c)))]]
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
    return values, pre_ops, n_index


def _fused_body(fusion: _Fusion, facts: _Facts) -> tuple[Block, int]:
    """The fused op's body, detached, and the `linalg.index` ops it gained from the producer.

    The consumer's body is always reused (its ops are moved, never cloned); the producer's is
    moved too when `fusion.move`, into the bigger of the two blocks, else cloned per map."""
    p, c = fusion.plan.producer, fusion.plan.consumer
    p_body, c_body = p.body.block, c.body.block
    base = _base_block(fusion, facts)
    p_slots = _producer_slots(fusion)
    reuse = _reused_args(fusion, base, p_slots)
    p_old, c_old = p_body.args, c_body.args
    p_yield = p_body.last_op
    assert isinstance(p_yield, YieldOp)
    pv = p_yield.operands[0]
    pv_arg = pv.index if isinstance(pv, BlockArgument) and pv.block is p_body else None
    types = [_elem(x) for x in [*fusion.ops.inputs, *fusion.ops.outputs]]
    new_args, stale, created = _reshape_args(base, types, reuse)

    if fusion.move:
        if pv_arg is not None:
            pv = new_args[p_slots[pv_arg]]
        for j in range(_n_in(p)):
            _redirect(p_old[j], new_args[p_slots[j]], facts)
        p_yield.detach()
        p_yield.erase()
        n_index = facts.n_index_of(p)
        values: dict[str, SSAValue] = {_mstr(fusion.only): pv}
        pre_ops = list(p_body.ops) if base is c_body else []
    else:
        values, pre_ops, n_index = _cloned_producer(fusion, new_args)

    for i, s in enumerate(fusion.ops.c_slots):
        _redirect(c_old[i], values[_mstr(s)] if isinstance(s, AffineMap) else new_args[s], facts)
    n_inputs = len(fusion.ops.inputs)
    for j in range(_n_out(c)):
        _redirect(c_old[_n_in(c) + j], new_args[n_inputs + j], facts)
    for arg in stale:
        base.erase_arg(arg)
    if fusion.ops.keep_map is not None:
        c_yield = c_body.last_op
        assert isinstance(c_yield, YieldOp)
        c_body.insert_op_before(
            YieldOp(*c_yield.operands, values[_mstr(fusion.ops.keep_map)]), c_yield
        )
        c_yield.detach()
        c_yield.erase()
    moved = _merge_bodies(base, p_body, c_body, pre_ops)
    facts.work["built"] += len(moved) + created
    region = base.parent
    assert region is not None
    region.detach_block(base)
    return base, n_index


def _merge_bodies(
    base: Block, p_body: Block, c_body: Block, pre_ops: list[Operation]
) -> list[Operation]:
    """Put the consumer's ops after the producer's (moved or cloned `pre_ops`) in `base`."""
    if base is p_body:
        moved = list(c_body.ops)
        for o in moved:
            o.detach()
        p_body.add_ops(moved)
        return moved
    for o in pre_ops:
        if o.parent is not None:
            o.detach()
    if pre_ops:
        c_body.insert_ops_before(pre_ops, c_body.first_op)  # type: ignore[arg-type]
    return pre_ops


def _reshape_args(
    block: Block, types: list[Attribute], reuse: dict[int, BlockArgument]
) -> tuple[list[BlockArgument], list[BlockArgument], int]:
    """Give `block` the arguments `types`, argument `t` being `reuse[t]` (an argument of `block`,
    kept with its uses, its name hint dropped as a fresh one's would be) or a new one, with
    xDSL's block-argument API. Returns the arguments in order, the old ones left over (the
    caller redirects their uses, then erases them) and how many were created. xDSL cannot
    reorder arguments: a reused one out of order becomes a left-over like any other."""
    kept: dict[int, BlockArgument] = {}
    last = -1
    for t in sorted(reuse):
        arg = reuse[t]
        assert arg.block is block and arg.type == types[t]
        if arg.index > last:
            kept[t], last = arg, arg.index
    args: list[BlockArgument] = []
    pos = 0  # where the next new argument goes: right after the previous argument in order
    for t, typ in enumerate(types):
        arg = kept.get(t)
        if arg is None:
            arg = block.insert_arg(typ, pos)
        else:
            arg.name_hint = None
        args.append(arg)
        pos = arg.index + 1
    keep = set(map(id, args))
    stale = [a for a in block.args if id(a) not in keep]
    return args, stale, len(types) - len(kept)


def _redirect(old: SSAValue, new: SSAValue, facts: _Facts) -> None:
    """Uses of `old` now use `new`, which keeps its own name (replace_all_uses_with would give it
    `old`'s: the fused body prints as if it had been built afresh)."""
    if old is new:
        return
    facts.work["rewired"] += old.uses.get_length()
    hint = new.name_hint
    old.replace_all_uses_with(new)
    new.name_hint = hint


def fuse(plan: Plan, facts: _Facts, rewriter: PatternRewriter) -> GenericOp | str:
    """The mechanics: build the fused generic in place of the consumer, erase what became dead.
    Returns the reason instead when the fused op would not verify (nothing is changed).

    Fusing composes the producer's input maps with the consumer's map of its result and puts
    the producer's body in front of the consumer's (moved when the producer dies and is read
    through one map, so fusing a chain one op at a time moves each op once; cloned once per
    map otherwise). Whether to fuse is `plan_fusion`'s business, not this function's."""
    p, c = plan.producer, plan.consumer
    inv = _maps(p)[_n_in(p)].inverse_permutation()
    assert inv is not None
    ops = _fused_operands(plan, inv)
    # The condition the fused op's verifier would reject, checked before anything is built.
    facts.work["checked"] += 1
    problem = _indexing_problem([*ops.inputs, *ops.outputs], ops.in_maps + ops.out_maps)
    if problem is not None:
        return f"the fused op would not verify ({problem})"
    fusion = _Fusion(plan, ops, inv, _movable_through(plan, ops, inv, facts))
    size, n_index, n_extract, cost, full = _fused_facts(fusion, facts)
    body, gained_index = _fused_body(fusion, facts)
    fused = new_generic(
        ops.inputs,
        ops.outputs,
        Region(body),
        [map_attr(m) for m in ops.in_maps + ops.out_maps],
        c.iterator_types,
        ops.result_types,
    )
    v = p.results[0]
    if ops.keep_map is not None:
        rewriter.replace_all_uses_with(v, fused.results[-1])
    key, parts = facts.key.get(c, -1), (facts.parts_of(p), facts.parts_of(c))
    rewriter.replace(c, fused, fused.results[: len(c.results)])
    facts.forget(c)
    facts.work["fusions"] += 1
    facts.key[fused], facts.parts[fused] = key, parts
    facts.size[fused], facts.n_index[fused] = size, n_index + gained_index
    facts.n_extract[fused] = n_extract
    if cost is not None and full is not None:
        facts.cost[fused], facts.full[fused] = cost, full
    if not v.uses:
        rewriter.erase(p)
        facts.forget(p)
    return fused


class FuseElementwiseOps(RewritePattern):
    """MLIR's `FuseElementwiseOps`: fuse into the matched consumer generic the first producer
    generic among its inputs that `control` (the cost rules: `plan_fusion`) accepts, using
    `fuse` (the mechanics). `fused` holds the last fusion, for a driver that requeues
    what it touched; `refused` the pairs the mechanics refused (the fused op would not verify)."""

    def __init__(
        self, control: Callable[[GenericOp, GenericOp], Plan | str], facts: _Facts
    ) -> None:
        self.control = control
        self.facts = facts
        self.refused: dict[tuple[Operation, Operation], str] = {}
        self.fused: _Fused | None = None

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /) -> None:
        self.fused = None
        if not isinstance(op, GenericOp) or op.parent is not self.facts.block:
            return
        for operand in _ins(op):
            p = operand.owner
            if not isinstance(p, GenericOp) or p.parent is not self.facts.block:
                continue
            plan = self.control(p, op)
            if not isinstance(plan, Plan) or (p, op) in self.refused:
                continue
            before = _Fused.before(plan, self.facts)
            done = fuse(plan, self.facts, rewriter)
            if isinstance(done, str):
                self.refused[(p, op)] = done
                continue
            self.fused = replace(before, op=done)
            return


@dataclass(frozen=True)
class _Fused:
    """A fusion done by the pattern: what the driver needs to requeue the ops it affected."""

    plan: Plan
    labels: tuple[_Label, _Label]
    p_key: int
    c_key: int
    p_producers: list[SSAValue]
    op: GenericOp | None = None

    @staticmethod
    def before(plan: Plan, facts: _Facts) -> _Fused:
        p, c = plan.producer, plan.consumer
        return _Fused(
            plan,
            (facts.label(p), facts.label(c)),
            facts.key[p],
            facts.key[c],
            [x for x in _ins(p) if isinstance(x.owner, GenericOp)],
        )


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


def _fuse_block(
    block: Block, max_cost: int, hoisted: bool, log: FusionLog | None
) -> tuple[_Facts, dict[tuple[Operation, Operation], str]]:
    """Apply `FuseElementwiseOps` to a fixpoint, with the decisions of "repeatedly fuse the
    first fusable (consumer, operand) pair in block order", without rescanning the block after
    each fusion (a greedy walker would revisit every op: this driver is linear): consumers wait
    in a heap by position; after a fusion only the consumers whose decision may have changed
    are queued again (the fused op; the users of its results; the other users of a producer
    that stays; and, when the producer dies, users of its producers placed between it and the
    consumer: for them a user before them became one after them). Returns the block's facts
    and the pairs the mechanics refused."""
    facts = _Facts(block, hoisted)
    pattern = FuseElementwiseOps(lambda p, c: plan_fusion(p, c, max_cost, facts), facts)
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
        pattern.match_and_rewrite(c, PatternRewriter(c))
        done = pattern.fused
        if done is None or done.op is None:
            continue
        if log is not None:
            log.fused.append((*done.labels, done.plan.how))
        push(done.op)
        for r in done.op.results:
            push_users(r)
        p = done.plan.producer
        if p.parent is block:
            push_users(p.results[0])
        else:
            for x in done.p_producers:
                push_users(x, done.p_key, done.c_key)
    return facts, pattern.refused


def _record_edges(
    block: Block,
    max_cost: int,
    log: FusionLog,
    refused: dict[tuple[Operation, Operation], str],
    facts: _Facts,
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
                    plan_fusion(p, c, max_cost, facts)
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
                        self._fuse(block, log)

    def _fuse(self, block: Block, log: FusionLog | None) -> None:
        facts, refused = _fuse_block(block, self.max_recompute_cost, self.hoisted_broadcasts, log)
        facts.finish()
        if log is not None:
            log.work.update(facts.work)
            _record_edges(block, self.max_recompute_cost, log, refused, facts)

    @staticmethod
    def _generalize(block: Block) -> None:
        """Transposes that feed a generic become generics (so they fuse into a strided read).

        A transpose feeding only named ops (a matmul's operand) stays: the backend turns it into
        a view passed to BLAS.
        """
        for t in list(block.ops):
            # (a transpose on memrefs has no result: fusion works on tensors, leave it)
            if not isinstance(t, TransposeOp) or not t.results:
                continue
            if not isinstance(t.results[0].type, TensorType):
                continue
            if any(isinstance(u.operation, GenericOp) for u in t.results[0].uses):
                g = generalize_transpose(t)
                block.insert_op_before(g, t)
                t.results[0].replace_all_uses_with(g.results[0])
                t.detach()
                t.erase()


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
