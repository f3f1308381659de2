"""The `forward` of a program imported through `torch.export` (frontends/torch_export.py), as it
is built in memory and rebuilt from an archive: called with the exported (nested) input
structure, and guarding the symbolic dims of its inputs as torch.export does.

The compiled code only sees `?` dims, and numpy broadcasts a size 1 against any size: without
these checks a batch of 1 against a batch of 4 would give numbers where PyTorch refuses. They run
on every call, flat (`xjit-run`, `forward(*tensors)`) or structured (`module(*args)`), and the
archive carries them in its manifest (docs/archive.md). No torch import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xjit._tensor import Tensor
from xjit.jit.archive_format import MANIFEST, ArchiveError
from xjit.jit.compiled import ArgumentError, CompiledFunction

_MAX_SYMBOL_LEN = 200


@dataclass(frozen=True)
class DimConstraint:
    """One symbolic dim of the inputs: where it occurs ((flat input index, dim), ...), each
    occurrence must have the same size, within [min, max] (None: unbounded)."""

    symbol: str
    occurrences: tuple[tuple[int, int], ...]
    min: int | None = None
    max: int | None = None

    def to_py(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "occurrences": [[i, d] for i, d in self.occurrences],
            "min": self.min,
            "max": self.max,
        }

    @staticmethod
    def from_py(d: Any, where: str, ranks: list[int | None]) -> DimConstraint:
        """Strictly validated: `ranks` are the ranks of the method's inputs (from its IR)."""
        bad = ArchiveError(f"{MANIFEST}: malformed dim_constraints of method {where}")
        if not isinstance(d, dict) or set(d) != {"symbol", "occurrences", "min", "max"}:
            raise bad
        sym, occ, lo, hi = d["symbol"], d["occurrences"], d["min"], d["max"]
        if not isinstance(sym, str) or not sym or len(sym) > _MAX_SYMBOL_LEN:
            raise bad
        if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (lo, hi)):
            raise bad
        if not isinstance(occ, list) or not occ:
            raise bad
        pairs = []
        for p in occ:
            if not (
                isinstance(p, list)
                and len(p) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in p)
                and 0 <= p[0] < len(ranks)
                and ranks[p[0]] is not None
                and 0 <= p[1] < ranks[p[0]]  # type: ignore[operator]
            ):
                raise bad
            pairs.append((p[0], p[1]))
        return DimConstraint(sym, tuple(pairs), lo, hi)


def check_dims(
    name: str, arg_names: tuple[str, ...], constraints: tuple[DimConstraint, ...], shapes: list[Any]
) -> None:
    """Raise an ArgumentError naming the input, dim and expected size or range where `shapes`
    (one per flat input) break a constraint."""
    for c in constraints:
        (i0, d0), *rest = c.occurrences
        v = shapes[i0][d0]
        for i, d in rest:
            w = shapes[i][d]
            if w != v:
                raise ArgumentError(
                    f"{name}() input '{arg_names[i]}' dim {d} is {w}, expected {v}: it is the "
                    f"symbolic dim {c.symbol}, which input '{arg_names[i0]}' dim {d0} sets to {v}"
                )
        if (c.min is not None and v < c.min) or (c.max is not None and v > c.max):
            lo = c.min if c.min is not None else "-inf"
            hi = c.max if c.max is not None else "inf"
            raise ArgumentError(
                f"{name}() input '{arg_names[i0]}' dim {d0} is {v}, expected a size in "
                f"[{lo}, {hi}]: the range of its symbolic dim {c.symbol} (dynamic_shapes)"
            )


class ImportedFunction(CompiledFunction):
    """A compiled imported `forward`: `f(*tensors)` takes the flat inputs (pytree order),
    `f.call_structured(*args, **kwargs)` the exported structure; both check the symbolic dims."""

    def __init__(
        self,
        *args: Any,
        input_spec: Any,
        dim_constraints: tuple[DimConstraint, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.input_spec = input_spec
        self.dim_constraints = tuple(dim_constraints)

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.arg_names):  # say where each flat input goes (xjit-run)
            where = ", ".join(
                f"{n} = {p}" for n, p in zip(self.arg_names, leaf_paths(self.input_spec))
            )
            raise ArgumentError(
                f"{self.name}() expected {len(self.arg_names)} arguments, the tensors of the "
                f"model's inputs in order ({where}), got {len(args)}"
            )
        if self.dim_constraints:
            shapes = [getattr(a, "shape", None) for a in args]
            ranks = [len(m.shape) if m.shape is not None else None for m in self.input_metas]
            # Wrong kinds or ranks: the compiled function's own checks say so.
            if all(s is not None and len(s) == r for s, r in zip(shapes, ranks, strict=True)):
                check_dims(self.name, self.arg_names, self.dim_constraints, shapes)
        return super().__call__(*args)

    def call_structured(self, *args: Any, **kwargs: Any) -> Any:
        flat: list[Tensor] = []
        flatten_input(self.input_spec, (args, kwargs), "inputs", flat, self.name)
        return self(*flat)


def flatten_input(spec: Any, v: Any, where: str, out: list[Tensor], name: str = "forward") -> None:
    """Check `v` against the exported input structure and append its tensors to `out` (numpy
    arrays become Tensors)."""
    kind = spec.kind
    if kind == "tensor":
        if isinstance(v, np.ndarray):
            v = Tensor(v)
        if not isinstance(v, Tensor):
            raise ArgumentError(f"{name}() {where} must be a Tensor, got {type(v).__name__}")
        out.append(v)
    elif kind == "none":
        if v is not None:
            raise ArgumentError(f"{name}() {where} must be None, got {type(v).__name__}")
    elif kind == "dict":
        keys = spec.keys
        if not isinstance(v, dict) or set(v) != set(keys):
            got = sorted(map(str, v)) if isinstance(v, dict) else type(v).__name__
            raise ArgumentError(
                f"{name}() {where} must be a dict with keys {list(keys)}, got {got}"
            )
        for k, c in zip(keys, spec.children, strict=True):
            flatten_input(c, v[k], f"{where}[{k!r}]", out, name)
    else:
        if not isinstance(v, (tuple, list)) or len(v) != len(spec.children):
            n = len(v) if isinstance(v, (tuple, list)) else type(v).__name__
            raise ArgumentError(
                f"{name}() {where} must be a {kind} of {len(spec.children)} items, got {n}"
            )
        for i, (c, x) in enumerate(zip(spec.children, v, strict=True)):
            flatten_input(c, x, f"{where}[{i}]", out, name)


def leaf_paths(spec: Any, where: str = "") -> list[str]:
    """Where each tensor of the `(args, kwargs)` structure sits: `args[0]`, `args[1]['h']`."""
    if not where:  # the root: (args, kwargs)
        args, kwargs = spec.children
        return leaf_paths(args, "args") + leaf_paths(kwargs, "kwargs")
    if spec.kind == "tensor":
        return [where]
    if spec.kind == "none":
        return []
    keys = spec.keys if spec.kind == "dict" else range(len(spec.children))
    return [
        p
        for k, c in zip(keys, spec.children, strict=True)
        for p in leaf_paths(c, f"{where}[{k!r}]")
    ]
