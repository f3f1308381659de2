"""Regenerate the examples in docs/passes.md and docs/backend.md from the current tree.

    python docs/gen/gen_docs.py            # rewrites both files

Every IR example is the real output of `xjit-opt` (before = the input after the passes that
precede the pass in the pipeline, after = with the pass applied); every generated-code example is
`CompiledFunction.source` of a traced module. Text outside the examples lives in this file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHAIN = """func.func @chain(%x: !torch.vtensor<[4,8],f32>, %b: !torch.vtensor<[8],f32>) -> !torch.vtensor<[4,8],f32> {
  %float2 = torch.constant.float 2.000000e+00
  %int1 = torch.constant.int 1
  %0 = torch.aten.mul.Scalar %x, %float2 : !torch.vtensor<[4,8],f32>, !torch.float -> !torch.vtensor<[4,8],f32>
  %1 = torch.aten.add.Tensor %0, %b, %int1 : !torch.vtensor<[4,8],f32>, !torch.vtensor<[8],f32>, !torch.int -> !torch.vtensor<[4,8],f32>
  %2 = torch.aten.tanh %1 : !torch.vtensor<[4,8],f32> -> !torch.vtensor<[4,8],f32>
  func.return %2 : !torch.vtensor<[4,8],f32>
}
"""

SOFTMAX = """func.func @softmax(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int1 = torch.constant.int 1
  %none = torch.constant.none
  %0 = torch.aten.softmax.int %x, %int1, %none : !torch.vtensor<[2,3],f32>, !torch.int, !torch.none -> !torch.vtensor<[2,3],f32>
  func.return %0 : !torch.vtensor<[2,3],f32>
}
"""

CALLS = """func.func @f(%x: !torch.vtensor<[?,4],f32>) -> !torch.vtensor {
  %0 = torch.tensor_static_info_cast %x : !torch.vtensor<[?,4],f32> to !torch.vtensor
  %1 = func.call @g(%0) : (!torch.vtensor) -> !torch.vtensor
  func.return %1 : !torch.vtensor
}
func.func private @g(%y: !torch.vtensor) -> !torch.vtensor {
  %0 = torch.aten.tanh %y : !torch.vtensor -> !torch.vtensor
  %none = torch.constant.none
  %1 = torch.aten.sum %0, %none : !torch.vtensor, !torch.none -> !torch.vtensor
  %2 = torch.aten.mul.Tensor %0, %1 : !torch.vtensor, !torch.vtensor -> !torch.vtensor
  func.return %2 : !torch.vtensor
}
"""

FOLD = """func.func @fold(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %1 = torch.aten.neg %0 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %2 = torch.aten.tanh %1 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %3 = torch.aten.tanh %1 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %4 = torch.aten.exp %1 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %int1 = torch.constant.int 1
  %5 = torch.aten.add.Tensor %2, %3, %int1 : !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.int -> !torch.vtensor<[3],f32>
  func.return %5 : !torch.vtensor<[3],f32>
}
"""

MASK = """\
torch.global_slot "private" @bias : !torch.vtensor<[3,3],f32>
func.func @f(%x: !torch.vtensor<[3,3],f32>) -> !torch.vtensor<[3,3],f32> {
  %int3 = torch.constant.int 3
  %0 = torch.prim.ListConstruct %int3, %int3 : (!torch.int, !torch.int) -> !torch.list<int>
  %none = torch.constant.none
  %1 = torch.aten.ones %0, %none : !torch.list<int>, !torch.none -> !torch.vtensor<[3,3],f32>
  %int0 = torch.constant.int 0
  %2 = torch.aten.tril %1, %int0 : !torch.vtensor<[3,3],f32>, !torch.int -> !torch.vtensor<[3,3],f32>
  %3 = torch.aten.eq.Scalar %2, %int0 : !torch.vtensor<[3,3],f32>, !torch.int -> !torch.vtensor<[3,3],i1>
  %b = torch.global_slot.get @bias : !torch.vtensor<[3,3],f32>
  %4 = torch.aten.eq.Scalar %b, %int0 : !torch.vtensor<[3,3],f32>, !torch.int -> !torch.vtensor<[3,3],i1>
  %ninf = torch.constant.float 0xfff0000000000000
  %5 = torch.aten.masked_fill.Scalar %x, %3, %ninf : !torch.vtensor<[3,3],f32>, !torch.vtensor<[3,3],i1>, !torch.float -> !torch.vtensor<[3,3],f32>
  %6 = torch.aten.masked_fill.Scalar %5, %4, %ninf : !torch.vtensor<[3,3],f32>, !torch.vtensor<[3,3],i1>, !torch.float -> !torch.vtensor<[3,3],f32>
  func.return %6 : !torch.vtensor<[3,3],f32>
}
"""

L = "convert-torch-to-linalg,canonicalize,cse"
PASSES = [
    # (pass, input, passes before it, description)
    (
        "inline",
        CALLS,
        "",
        """Inlines every `func.call` (calls of traced/scripted submodules and of scripted functions)
callees first, and erases the private callees; recursion is an error. Written for xjit (xDSL has no
inliner). Runs first, before shape refinement, as the `inlined` stage of `torch-to-loops`
(passes/pipelines.py).""",
    ),
    (
        "torch-shape-refinement",
        CALLS,
        "inline",
        """Propagates static shapes and dtypes through a torch-dialect function once its argument types
are known: each aten op's result becomes what its registry shape rule derives (never less precise
than before; `?` dims stay `?` where the rule cannot know them), `prim.If` results join both
branches, `prim.Loop` carried types iterate to a fixpoint, casts are inserted where a more precise
value flows into a less precise place and removed where trivial. With `strict` (used by
automatic dynamic shapes, docs/shapes.md) a contradiction is an error naming the op.

How: shape inference is a trait of the ops. Every aten op, `tensor_static_info_cast` and the
tuple ops carry `TorchShapeInference` (dialects/torch.py, xDSL's
`HasShapeInferencePatternsTrait`), whose patterns (dialects/torch_shape_inference.py) retype one
op's results in place from its operands: an aten op through its registry shape rule, with scalar
operands evaluated through their registry folds (so `x.reshape((x.size(0), -1))` keeps its rank
once `x`'s shape is known). The pass is the driver: it applies them in program order and does
what needs more than one op (the `prim.If` join, the `prim.Loop` fixpoint). Upstream
`shape-inference` applies the same patterns, enough for straight-line code. A new op needs
nothing here: its `shape=` rule is picked up by the trait.""",
    ),
    (
        "torch-decompose",
        SOFTMAX,
        "",
        """Rewrites composite ops (those whose registry entry has `decompose=`) into simpler torch ops, using
the same Python decomposition that runs eagerly in tests: softmax → amax/sub/exp/sum/div,
layer_norm → mean/var/…, linear → t/mm/add. `torch-decompose{ops="torch.aten.linear"}` limits it.""",
    ),
    (
        "canonicalize",
        FOLD,
        "",
        """Upstream xDSL pass. Torch ops take part through their folders and canonicalization patterns
(declared in the registry: `involution=True` folds `neg(neg(x))`, `identity=(...)` drops `x + 0`),
together with dead-code removal of pure ops.""",
    ),
    (
        "torch-fold-constants",
        MASK,
        "",
        """Computes at compile time the tensor ops whose operands are all constants (each registry op's
eager semantics, through the torch interpreter) and replaces what the rest of the graph reads by
`torch.vtensor.literal`s: a causal mask built in `forward` from sizes is one boolean literal
instead of `ones`/`tril`/`eq` on every call. Never folded: global slots (parameters and buffers
are bound by reference at run time, so `load_state_dict` and in-place updates reach the next
call; the buffer's mask below stays), random ops, results over `max_elements` (65536), a value
returned (directly or through a possible view: literals are read-only program arrays), ops
inside control flow. A factory read directly (`ones`, `arange`) stays an op. Runs after the
`decomposed` stage's `canonicalize` (static sizes are constants by then); `xjit.jit.freeze`
turns parameters and buffers into literals, so after it the buffer's mask folds too.""",
    ),
    (
        "cse",
        FOLD,
        "canonicalize",
        """Upstream xDSL common-subexpression elimination: identical pure ops (here the two `tanh`s)
become one.""",
    ),
    (
        "convert-torch-to-linalg",
        CHAIN,
        "",
        """Lowers the torch dialect to linalg on tensors (docs/contracts.md): elementwise ops become
`linalg.generic` whose body is the registry's scalar `body` as arith/math, broadcasting is an
indexing map, reductions use reduction iterators, contractions become `linalg.matmul`, `?` dims
come from `tensor.dim` and size `tensor.empty`, control flow becomes `scf`; a
`tensor_static_info_cast` (where refinement joined branch/loop shapes to `?`) is a `tensor.cast`.

How: conversion patterns, as torch-mlir's TorchToLinalg (`OpConversionPattern` + a
`TypeConverter`), on xDSL's `PatternRewriteWalker`. `convert_type`
(passes/torch_type_conversion.py) maps `!torch.vtensor<[3,?],f32>` → `tensor<3x?xf32>`,
`!torch.int/float/bool` → `i64/f64/i1`. Each torch op kind has one `RewritePattern`
(`TorchConversionPattern` subclasses: function signatures, returns, constants, parameters,
literals, casts, every aten op in `AtenConversion`; `prim.If`/`prim.Loop`/their terminators,
scalar ops and unpacking in passes/torch_control_flow.py). A pattern reads its operands'
builtin values through *bridges* (`builtin.unrealized_conversion_cast` from a converted value
back to its torch type, left by the producer's pattern) and replaces its own results by new
bridges, so unconverted users still see torch types. One forward walk converts producers before
users and a loop op before its body (the loop's new block arguments are builtin); the bridges,
unused at the end, are erased. A torch op no pattern converts fails the pass by name.

**Where a new op's lowering goes**: an aten op's lowering is its registry entry (an elementwise
`body=`, or `lower=` building linalg with `LinalgBuilder`, or `decompose=` into other ops for
`torch-decompose`): `AtenConversion` picks it up, no pattern needed. A torch op outside the
registry (a new `prim` op) gets a `TorchConversionPattern` subclass, listed in
`LOWERING_PATTERNS` (passes/convert_torch_to_linalg.py) before `Unconvertible`.""",
    ),
    (
        "batch-loop-invariant",
        None,
        "",
        """Hoists loop-invariant ops out of `scf.for` loops and batches iteration-independent ones (work that
reads only `xs[i]`, not the carried state) into one op over all iterations before the loop —
e.g. the RNN's linear layer becomes one matmul over all time steps. (Owned by the hoisting work;
see its lit test `lit_tests/passes/batch-loop-invariant.mlir` for examples.)""",
    ),
    (
        "linalg-fuse-elementwise",
        CHAIN,
        L,
        """Producer–consumer fusion of elementwise `linalg.generic`s (MLIR's `linalg-fuse-elementwise-ops`
semantics): indexing maps are composed and bodies inlined, through broadcasts and into
reductions; a producer with several consumers is fused only when recomputing it is cheap.
`xjit-opt --fusion-report` / `CompiledFunction.fusion_report()` say what fused and why not.
As in MLIR, policy is apart from mechanics: the `FuseElementwiseOps` pattern checks legality
(`fusion_problem`) and does the rewrite (`fuse`); the control function `plan_fusion` decides,
by the documented cost rules, whether to fuse, recompute or keep the producer's result.""",
    ),
    (
        "bufferize",
        CHAIN,
        L + ",linalg-fuse-elementwise",
        """Linalg on tensors → linalg on memrefs: `tensor.empty` becomes `memref.alloc` (with `?` sizes as
operands), globals become `memref.global`, an op writes in place into its `outs` buffer when
nothing reads that buffer later; views become `memref.subview`.""",
    ),
    (
        "convert-linalg-to-loop",
        CHAIN,
        L + ",linalg-fuse-elementwise,bufferize",
        """Linalg on memrefs → xjit's `loop` dialect: each linalg op is one `loop.nest` over its iteration
space (bounds from constants or `memref.dim`), with `loop.load`/`loop.store` carrying the indexing
maps, which the numpy backend turns into vectorized array expressions. Views are folded into the
loads that read them.""",
    ),
    (
        "convert-loop-to-scf",
        CHAIN,
        L + ",linalg-fuse-elementwise,bufferize,convert-linalg-to-loop",
        """`loop.nest` → upstream `scf.for` nests with `memref.load`/`memref.store` and index arithmetic,
so xDSL's interpreter can run the loops stage (`xjit.backends.interpreter.run_interpreted`): the
tests' independent oracle. `scatter.nonzero` becomes such a nest over its source carrying the
next row of its result as an `iter_args` count (an `scf.if` stores a nonzero's coordinates).""",
    ),
    (
        "torch-to-loops",
        CHAIN,
        "",
        """The whole chain as one pass (passes/pipelines.py): decompose, canonicalize/cse, lower to linalg,
batch loop-invariant work, fuse, bufferize, lower to loop nests, verifying after every pass.""",
    ),
]


def opt(src: str, passes: str) -> str:
    if not passes:
        return subprocess.run(
            ["xjit-opt"], input=src, text=True, capture_output=True, check=True
        ).stdout
    r = subprocess.run(["xjit-opt", "-p", passes], input=src, text=True, capture_output=True)
    if r.returncode:
        return f"// xjit-opt -p {passes} failed:\n// " + r.stderr.strip().replace("\n", "\n// ")
    return r.stdout


def passes_md() -> str:
    out = [
        "# Passes",
        "",
        "Every pass of the pipeline, xjit's own and the upstream xDSL ones it uses, in pipeline",
        "order (`torch-to-loops`, passes/pipelines.py; `inline` and `torch-shape-refinement` run",
        "first when a module is compiled). Each example is the real output of `xjit-opt`: *before*",
        "is the input after the passes that precede this one, *after* adds the pass",
        "(`xjit-opt in.mlir -p <before>,<pass>`).",
        "",
        "Regenerate after changing a pass: `python docs/gen/gen_docs.py` (writes this file and",
        "docs/backend.md from the current tree).",
        "",
    ]
    for name, src, before, desc in PASSES:
        out += [f"## `{name}`", "", desc, ""]
        if src is None:
            continue
        pre = opt(src, before)
        post = opt(src, f"{before},{name}" if before else name)
        how = f"`-p {before}`" if before else "the input"
        out += [
            f"Before ({how}):",
            "",
            "```mlir",
            pre.rstrip(),
            "```",
            "",
            f"After (`-p {before + ',' if before else ''}{name}`):",
            "",
            "```mlir",
            post.rstrip(),
            "```",
            "",
        ]
    return "\n".join(out) + "\n"


def backend_md() -> str:
    import numpy as np

    import xjit as torch

    def chain(x, a, b):
        return torch.tanh(x * a + b) * torch.sigmoid(x) + x

    tc = torch.jit.trace(chain, tuple(torch.randn(1024, 1024) for _ in range(3)))
    del np
    spec = importlib.util.spec_from_file_location(
        "intro_tutorial", ROOT / "examples" / "intro_tutorial.py"
    )
    tut = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(tut)  # type: ignore[union-attr]
    rnn = tut.traced
    rnn(torch.randn(5, 3, 4))  # another sequence length: the `[?,3,4]` variant (docs/shapes.md)
    dyn = rnn.forward.variants[-1]
    text = BACKEND.format(
        chain=tc.source.rstrip(), rnn=rnn.forward.source.rstrip(), rnn_dyn=dyn.source.rstrip()
    )
    return text


BACKEND = """# The numpy backend

`backends/numpy/` turns a **loops**-stage module (docs/contracts.md) into Python source that calls
numpy, compiles it once, and binds parameters by name (`compile_module`, `NumpyProgram`). The
source of a compiled function is `CompiledFunction.source` (`traced.forward.source`); every stage's IR is
`traced.forward.stages()`.

Regenerate the examples below from the current tree: `python docs/gen/gen_docs.py`.

## How a loop nest becomes numpy

- **Vectorization.** Each `loop.nest` is read as an array expression: its `loop.load`s, whose
  indexing maps say which iteration dims index which array dims, become (broadcast, transposed,
  sliced) numpy views; its `arith`/`math` ops become ufuncs; its `loop.store` becomes the `out=`
  of the last ufunc. Nothing iterates in Python over elements.
- **Reductions and contractions.** A nest with reduction iterators whose body accumulates with
  an associative op becomes `ufunc.reduce(axis=...)` (`np.add.reduce`, `np.maximum.reduce`); the
  fill of its identity element just before it is folded into the reduction (also an `(n, 1)`
  fill: a unit axis is its index 0). A float sum along the last axis of at most 16384 elements
  is `np.einsum("ab->a", x)` (2.5-4x faster than `np.add.reduce`; in-order SIMD accumulation
  instead of pairwise, error bound at `EINSUM_SUM_MAX` in backends/numpy/vectorize.py). A
  multiply-accumulate nest with the shape of a matrix product becomes `np.matmul`/`np.dot`
  (BLAS) or `np.einsum`; transposed arguments and globals are read as `.T` views, never copied.
  A float division by a value varying along fewer loops (softmax's `e / sum`) is a multiply by
  its reciprocal, as PyTorch does. A last-axis sum of a product computed in the body (layer
  norm's `sum((x - mean)**2)`) is one `np.vecdot(t, t)`, with no product temporary (numpy ≥ 2).
- **Softmax without its shift** (`softmax_shift.py`). Softmax's `exp(v - max)` nest is emitted
  twice: `np.exp(v)` (one pass fewer: no broadcast subtract) behind `rt.shift_free(max, hi)`,
  a check that every row max lies in [-16, 80 - ln n], and the shifted form after `else:`. Only
  where the exp and its sum are read by nothing but the quotient `e / sum` (the per-row factor
  e^-max cancels) and the shift is a max-reduction of the same values. The bounds keep `exp`,
  the sum and its reciprocal normal numbers; terms that underflow err by less than FLT_MIN.
  NaN, ±inf and all -inf rows fail the check and take PyTorch's path. In a row-block loop
  each block checks its own rows.
- **Buffer reuse.** Buffers are allocated at first use and reused by liveness; elementwise nests
  write in place (`np.tanh(buf, buf)`) when their input dies there; results are written through
  `out=` so no temporaries are created that a numpy expert would avoid; a select over its
  false value's own buffer (`masked_fill`'s causal mask) is a masked fill in place,
  `np.copyto(buf, value, where=mask)`, not `np.where` and a copy back. 0-d buffers only read
  as scalars (a gate's `y.sum() > 0`) are numpy scalars in variables (`r1 = r0 > _k0`). In
  loop bodies, a branch's copy of a slice of a buffer written before the loop stays a view,
  a branch buffer the iteration only reads is allocated once before the loop, and the carried
  state alternates between two buffers made before the loop (no `np.empty` per step).
  Intermediates of 64 KiB and more that cannot leave the call (no return, yield or call reaches
  them, also through views) come from a per-function arena and are reused by the next call (a
  busy arena, in a recursive or concurrent call, is replaced by a fresh one): fresh
  multi-megabyte arrays pay their page faults on every call.
- **Blocking.** A large fused elementwise nest runs in cache-sized blocks (128K elements): each
  block of the inputs is read once, the whole chain runs on it through small scratch registers,
  and the result is written once (see the chain below). A reduction whose operand is computed
  runs in row blocks over scratch the same way, and consecutive nests whose buffers are all
  accessed by rows (softmax's max, exp + sum and normalisation; layer norm's mean, variance
  and affine output) share one loop over row blocks, so each block stays in cache throughout.
- **Scalar fallback.** A nest the vectorizer cannot express (e.g. an index-dependent body it does
  not recognise) is emitted as scalar Python loops — correct but slow — and reported with a
  warning naming the op and its source line, never silently.
- **Argument guard.** The first line of each function checks dtypes and shapes (one comparison
  per argument for static shapes; rank and static dims for `?` dims, docs/shapes.md); the call
  path adds nothing else per call.

## An elementwise chain: `tanh(x*a + b) * sigmoid(x) + x`, x, a, b of 1024×1024 f32

One fused nest; large, so it runs in blocks with `out=` registers:

```python
{chain}
```

## The tutorial's RNN loop (`WrapRNN`, traced on xs of 10×3×4)

The scripted `for` loop stays a Python `for` whose body is vectorized (the linear layer, the
decision gate's `if`, `tanh`), as traced on its example (T = 10):

```python
{rnn}
```

And the variant compiled for another sequence length, with `xs : [?,3,4]` (the loop bound is
read from `arg0.shape[0]`):

```python
{rnn_dyn}
```
"""


def main() -> None:
    (ROOT / "docs" / "passes.md").write_text(passes_md())
    (ROOT / "docs" / "backend.md").write_text(backend_md())


if __name__ == "__main__":
    main()
