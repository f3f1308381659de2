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
    ("decomposed", ("torch-decompose", "canonicalize", "cse")),
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
) -> None:
    for name in names:
        get_pass(name)().apply(ctx, module)
        module.verify()  # every pass must leave IR that verifies; fail at the pass that broke it
        if after_each is not None:
            after_each(name, module)


@dataclass(frozen=True)
class TorchToLoops(ModulePass):
    """torch dialect → loop dialect: decompose, canonicalize, lower to linalg on tensors,
    batch iteration-independent work out of loops, fuse elementwise ops, bufferize, lower to
    loop nests."""

    name = "torch-to-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for _, names in TORCH_TO_LOOPS_STAGES:
            run_passes(ctx, op, names)
