"""The generated numpy source of every bench model, for the golden-source refactoring guard.

`collect()` compiles each bench workload's `xjit_compiled` implementation (bench/workloads.py),
the compile-scaling chain (bench/models.py) and the tutorial's models (tests/models.py) and
returns their generated numpy source by name. tests/test_golden_sources.py compares it with the
committed copies in tests/golden/.

Regenerate the goldens ONLY for an intended change of the generated code (never to make a
refactoring pass), then read the diff before committing it:

    python tests/golden_sources.py          # rewrites tests/golden/*.py.txt
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
BENCH = TESTS.parent / "bench"


def _source(fn: Any) -> str:
    for obj in (getattr(fn, "forward", None), fn):
        src = getattr(obj, "source", None)
        if isinstance(src, str):
            return src
        variants = getattr(obj, "variants", None)  # scripted: compiled at its first call
        if variants:
            return str(variants[0].source)
    raise TypeError(f"{fn!r} has no generated source")


def _bench_sources() -> dict[str, Callable[[], str]]:
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))  # after tests/: bench/models.py must not shadow tests/models.py
    import workloads as W  # bench/workloads.py

    B = W.load_backends(configure_torch=False)  # leave torch's global state to the tests
    out: dict[str, Callable[[], str]] = {}
    for build in W.GROUPS.values():
        made = build(B, np.random.default_rng(0))
        for w in made if isinstance(made, list) else [made]:
            impl = next(i for i in w.impls if i.key == "xjit_compiled")
            out[f"bench-{w.id}"] = lambda impl=impl: _source(impl.build())
    T, M = B.xjit, B.xm
    out["bench-chain-16"] = lambda: _source(
        T.jit.trace(M.make_chain(16), (T.randn(3, 4), T.randn(3, 4)))
    )
    return out


def _tutorial_sources() -> dict[str, Callable[[], str]]:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import models  # tests/models.py

    import xjit as torch

    x, h = torch.rand(3, 4), torch.rand(3, 4)

    def rnn() -> str:
        gate = torch.jit.script(models.MyDecisionGate())
        loop = torch.jit.script(models.MyRNNLoop(torch.jit.trace(models.MyGatedCell(gate), (x, h))))
        return _source(torch.jit.trace(models.WrapRNN(loop), (torch.rand(10, 3, 4),)))

    return {
        "tutorial-mycell": lambda: _source(torch.jit.trace(models.MyCell(), (x, h))),
        "tutorial-rnn": rnn,
    }


def collect() -> dict[str, str]:
    """Name -> generated numpy source, for every model the goldens cover."""
    builders = {**_bench_sources(), **_tutorial_sources()}
    return {name: make() for name, make in builders.items()}


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.py.txt"


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    sources = collect()
    for old in GOLDEN.glob("*.py.txt"):
        if old.name.removesuffix(".py.txt") not in sources:
            old.unlink()
    for name, src in sources.items():
        golden_path(name).write_text(src)
    print(f"wrote {len(sources)} golden sources to {GOLDEN}")


if __name__ == "__main__":
    main()
