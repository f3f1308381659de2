"""Named pipelines: `torch-to-loops` runs the whole lowering chain, verifying after each pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from xjit.passes import get_pass

# (stage name shown to users, passes that produce it)
TORCH_TO_LOOPS_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # calls of traced/scripted submodules and scripted functions, then the static shapes they
    # now see (a no-op on call-free, fully typed IR)
    ("inlined", ("inline", "torch-shape-refinement")),
    # tensor ops on constants only (a mask built from sizes) computed once, at compile time;
    # after canonicalize, which turns static sizes into constants
    ("decomposed", ("torch-decompose", "canonicalize", "torch-fold-constants", "cse")),
    ("linalg", ("convert-torch-to-linalg", "canonicalize", "cse")),
    # before fusion, which could merge iteration-independent work into ops on the carried value
    ("batched", ("batch-loop-invariant", "canonicalize", "cse")),
    ("fused", ("linalg-fuse-elementwise", "canonicalize", "cse")),
    ("buffers", ("bufferize",)),
    ("loops", ("convert-linalg-to-loop", "canonicalize", "cse")),
)


def run_passes(
    ctx: Context,
    module: ModuleOp,
    names: Sequence[str],
    after_each: Callable[[str, ModuleOp], None] | None = None,
    verify_each: bool = True,
) -> None:
    for name in names:
        get_pass(name)().apply(ctx, module)
        if verify_each:  # every pass must leave IR that verifies; fail at the pass that broke it
            module.verify()
        if after_each is not None:
            after_each(name, module)


@dataclass(frozen=True)
class TorchToLoops(ModulePass):
    """torch dialect → loop dialect: decompose, canonicalize, lower to linalg on tensors,
    batch iteration-independent work out of loops, fuse elementwise ops, bufferize, lower to
    loop nests."""

    name = "torch-to-loops"

    # False: verify once, at the end (the production compile, CompiledFunction: verifying after
    # each of the ~20 passes was about half of a small model's compile time). xjit-opt and the
    # test suite (tests/conftest.py sets XJIT_VERIFY_EACH_PASS=1) verify after every pass.
    verify_each: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for _, names in TORCH_TO_LOOPS_STAGES:
            run_passes(ctx, op, names, verify_each=self.verify_each)
        if not self.verify_each:
            try:
                op.verify()
            except Exception as e:
                e.add_note("set XJIT_VERIFY_EACH_PASS=1 to find the pass that broke the IR")
                raise
