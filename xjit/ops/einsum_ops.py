"""`einsum`: Einstein summation over an equation string, as torch.einsum.

Labels are letters; `...` stands for the leading (broadcast) dims; without `->` the output is
the labels used once, alphabetically, after the `...` dims. A label of size 1 in one operand
broadcasts against a larger size of it elsewhere, as in torch. A label repeated in one operand
takes that operand's diagonal.

Eager and compiled, the operands are contracted left to right, two at a time; a label is
summed in the first step after which no later operand and not the output uses it. Eager, each
step is one `np.einsum` (numpy's path optimiser is slow on batched products); compiled, one
`linalg.generic` (loops: the labels it keeps, then those it sums; body: multiply and
accumulate), which the numpy backend emits as one `np.matmul`/`np.dot` or `np.einsum` call,
never as a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xjit.ops.opdef import UNKNOWN, register
from xjit.ops.types import ShapeError, TensorMeta, from_numpy_dtype

# torch's label order (the implicit output is sorted by it): upper case before lower case
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Einsum:
    """A parsed equation: per operand and for the output, the label of each dim. Labels are
    ints: letters are their index in _LETTERS, `...` dims are 52, 53, ..."""

    inputs: tuple[tuple[int, ...], ...]
    output: tuple[int, ...]
    sizes: dict[int, int | None]  # each label's (broadcast) size


def _term(text: str, rank: int, n_ell: int, equation: str) -> tuple[int, ...]:
    """One operand's (or the output's) labels; `rank` None for the output."""
    if text.count("...") > 1 or "." in text.replace("...", ""):
        raise ShapeError(f"einsum(): invalid subscript {text!r} in equation {equation!r}")
    head, ell, tail = text.partition("...")
    for ch in head + tail:
        if ch not in _LETTERS:
            raise ShapeError(
                f"einsum(): invalid subscript given at index of '{ch}' in the equation "
                f"{equation!r}: subscripts must be in [a-zA-Z]"
            )
    labels = [_LETTERS.index(ch) for ch in head]
    if ell:
        k = n_ell if rank < 0 else rank - len(head) - len(tail)
        if k < 0:
            raise ShapeError(
                f"einsum(): the number of subscripts in the equation ({len(head) + len(tail)}) "
                f"is more than the number of dimensions ({rank}) for operand"
            )
        labels += [52 + n_ell - k + j for j in range(k)]  # right-aligned: they broadcast
    labels += [_LETTERS.index(ch) for ch in tail]
    if rank >= 0 and not ell and len(labels) != rank:
        raise ShapeError(
            f"einsum(): the number of subscripts in the equation ({len(labels)}) does not match "
            f"the number of dimensions ({rank}) for operand and no ellipsis was given"
        )
    return tuple(labels)


def parse(equation: str, shapes: list[tuple[int | None, ...]]) -> Einsum:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(shapes) > len(terms)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    n_ell = 0
    for t, s in zip(terms, shapes, strict=True):
        if "..." in t:
            n_ell = max(n_ell, len(s) - len(t.replace("...", "")))
    inputs = tuple(_term(t, len(s), n_ell, equation) for t, s in zip(terms, shapes, strict=True))
    if arrow:
        output = _term(rhs, -1, n_ell, equation)
        if len(set(output)) != len(output):
            raise ShapeError(f"einsum(): output subscript appears more than once in {equation!r}")
        used = {lab for labs in inputs for lab in labs}
        for lab in output:
            if lab not in used:
                raise ShapeError(
                    f"einsum(): output subscript {_LETTERS[lab]} does not appear in the equation "
                    "for any input operand"
                )
    else:
        counts: dict[int, int] = {}
        for labs in inputs:
            for lab in labs:
                counts[lab] = counts.get(lab, 0) + 1
        ell = tuple(range(52, 52 + n_ell))
        output = ell + tuple(sorted(lab for lab, c in counts.items() if c == 1 and lab < 52))
    sizes: dict[int, int | None] = {}
    for labs, shape in zip(inputs, shapes, strict=True):
        for lab, n in zip(labs, shape, strict=True):
            cur = sizes.get(lab, 1)
            if n is None or cur is None:
                sizes[lab] = None if n != 1 and cur != 1 else (n if cur == 1 else cur)
            elif cur == 1 or n == cur:
                sizes[lab] = n
            elif n != 1:
                raise ShapeError(
                    f"einsum(): operands do not broadcast with remapped shapes (original->"
                    f"remapped): subscript {_label_text(lab)} has sizes {cur} and {n}"
                )
    return Einsum(inputs, output, sizes)


def _label_text(lab: int) -> str:
    return _LETTERS[lab] if lab < 52 else "..."


# -- shape rule and eager ------------------------------------------------------------------------


def _einsum_shape(equation: Any, tensors: list[TensorMeta], path: Any = None) -> TensorMeta:
    if not tensors:
        raise ShapeError("einsum(): must provide at least one operand")
    dtypes = {t.dtype for t in tensors if t.dtype is not None}
    if len(dtypes) > 1:
        raise ShapeError(
            "einsum(): expected all operands to have the same dtype, got "
            f"{', '.join(sorted(d.name for d in dtypes))}"
        )
    dtype = tensors[0].dtype
    if equation is UNKNOWN or any(t.shape is None for t in tensors):
        return TensorMeta(None, dtype)
    e = parse(equation, [t.shape for t in tensors])  # type: ignore[misc]
    return TensorMeta(tuple(e.sizes[lab] for lab in e.output), dtype)


def _einsum_eager(equation: str, tensors: list[np.ndarray], path: Any = None) -> np.ndarray:
    m = _einsum_shape(equation, [TensorMeta(a.shape, from_numpy_dtype(a.dtype)) for a in tensors])
    e = parse(equation, [a.shape for a in tensors])
    ops = []
    for labs, a in zip(e.inputs, tensors, strict=True):
        # size-1 dims of a broadcast label, as stride-0 views (np.einsum broadcasts only `...`)
        target = tuple(e.sizes[lab] if n == 1 else n for lab, n in zip(labs, a.shape, strict=True))
        ops.append(np.broadcast_to(a, target))  # type: ignore[arg-type]
    # the compiled code's pairs, in its order (np.einsum's own path optimiser is slow on
    # batched products)
    cur, labs = ops[0], e.inputs[0]
    steps = pairwise_keeps(e) if len(ops) > 1 else [e.output]
    for i, keep in enumerate(steps, start=1):
        terms = [(cur, labs)] + ([(ops[i], e.inputs[i])] if i < len(ops) else [])
        subs = ",".join("".join(_letter(e, lab) for lab in t) for _, t in terms)
        out = "".join(_letter(e, lab) for lab in keep)
        cur, labs = np.einsum(f"{subs}->{out}", *[a for a, _ in terms]), keep
    return np.asarray(cur, dtype=m.dtype.np)  # type: ignore[union-attr]


def pairwise_keeps(e: Einsum) -> list[tuple[int, ...]]:
    """For operands contracted left to right, two at a time: the labels each step's result
    keeps (the last step's are the output's); a label is summed in the first step after which
    neither a later operand nor the output uses it."""
    keeps: list[tuple[int, ...]] = []
    cur = e.inputs[0]
    for i in range(1, len(e.inputs)):
        if i == len(e.inputs) - 1:
            keep = e.output
        else:
            later = {lab for labs in e.inputs[i + 1 :] for lab in labs} | set(e.output)
            both = list(cur) + [lab for lab in e.inputs[i] if lab not in cur]
            keep = tuple(dict.fromkeys(lab for lab in both if lab in later))
        keeps.append(keep)
        cur = keep
    return keeps


def _letter(e: Einsum, lab: int) -> str:
    """A label's letter in the numpy equation; `...` dims get letters no label uses."""
    if lab < 52:
        return _LETTERS[lab]
    used = {x for labs in (*e.inputs, e.output) for x in labs if x < 52}
    free = [ch for i, ch in enumerate(_LETTERS) if i not in used]
    return free[lab - 52]


# -- lowering: pairwise contractions ---------------------------------------------------------------


def _einsum_lower(builder: Any, equation: str, xs: list[Any], path: Any = None) -> Any:
    # lazy: xDSL loads only when a program is compiled, not with the op catalog
    from xdsl.dialects.builtin import TensorType
    from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr, AffineMap

    shapes = [tuple(None if n < 0 else n for n in x.type.get_shape()) for x in xs]
    e = parse(equation, shapes)
    et = builder.result().element_type

    def access(labs: tuple[int, ...], shape: tuple, loops: list[int]) -> AffineMap:
        exprs = [
            AffineConstantExpr(0)
            if n == 1 and e.sizes[lab] != 1
            else AffineDimExpr(loops.index(lab))
            for lab, n in zip(labs, shape, strict=True)
        ]
        return AffineMap(len(loops), 0, tuple(exprs))

    def step(ins: list[tuple[Any, tuple[int, ...], tuple]], keep: tuple[int, ...]) -> Any:
        """One linalg.generic: the product of `ins` summed over the labels not in `keep`."""
        seen = list(dict.fromkeys(lab for _, labs, _ in ins for lab in labs))
        summed = [lab for lab in seen if lab not in keep]
        loops = list(keep) + summed
        rt = TensorType(et, [-1 if e.sizes[lab] is None else e.sizes[lab] for lab in keep])
        maps = [access(labs, shape, loops) for _, labs, shape in ins]
        n_out = len(keep)
        out_map = AffineMap(len(loops), 0, tuple(AffineDimExpr(d) for d in range(n_out)))
        iters = ["parallel"] * n_out + ["reduction"] * len(summed)
        if summed:  # an accumulator: zeros, each dynamic size read off an operand that has it
            sources = [_source(ins, lab) for lab in keep]
            init = builder.zeros(rt, sources)

            def body(o: Any, a: Any, _: Any) -> Any:
                prod = a[0]
                for v in a[1:-1]:
                    prod = o.mul(prod, v)
                return o.add(prod, a[-1])
        else:
            init = builder.empty(rt, [(v, m) for (v, _, _), m in zip(ins, maps, strict=True)])

            def body(o: Any, a: Any, _: Any) -> Any:
                prod = a[0]
                for v in a[1 : len(ins)]:
                    prod = o.mul(prod, v)
                return prod

        return builder.generic([v for v, _, _ in ins], maps, init, out_map, iters, body)

    cur = (xs[0], e.inputs[0], shapes[0])
    if len(xs) == 1:
        return step([cur], e.output)
    for i, keep in enumerate(pairwise_keeps(e), start=1):
        v = step([cur, (xs[i], e.inputs[i], shapes[i])], keep)
        cur = (v, keep, tuple(e.sizes[lab] for lab in keep))
    return cur[0]


def _source(ins: list[tuple[Any, tuple[int, ...], tuple]], lab: int) -> tuple[Any, int] | None:
    for v, labs, shape in ins:
        for k, (x, n) in enumerate(zip(labs, shape, strict=True)):
            if x == lab and n != 1:
                return v, k
    return None


register(
    "aten::einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor",
    _einsum_shape,
    eager=_einsum_eager,
    lower=_einsum_lower,
)
