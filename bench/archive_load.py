"""How slow is loading an `.xjit` archive? Fresh-process `import xjit` against fresh-process
`import xjit; xjit.jit.load(path)` + the first call, on the MyCell archive and on the tutorial's
traced WrapRNN (a traced root calling a scripted loop over a traced cell with a scripted gate;
issue 5's example).

    python bench/archive_load.py [--runs 7]

Prints the medians, their ratio, and where the load time goes (measured in-process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

IMPORT_ONLY = """
import time
t0 = time.perf_counter()
import xjit
print(time.perf_counter() - t0)
"""

# argv: archive, then the shape of each input (e.g. "3,4" "3,4")
LOAD_AND_CALL = """
import sys, time
t0 = time.perf_counter()
import numpy as np
import xjit
m = xjit.jit.load(sys.argv[1])
args = [xjit.from_numpy(np.ones([int(d) for d in s.split(",")], np.float32)) for s in sys.argv[2:]]
m(*args)
assert "scipy" not in sys.modules
print(time.perf_counter() - t0)
"""

BREAKDOWN = """
import sys, time
import numpy as np
t = [time.perf_counter()]
import xjit
t.append(time.perf_counter())
import xjit.jit, xjit.dialects.torch, xjit.passes.pipelines, xjit.backends.numpy  # the compiler
t.append(time.perf_counter())
from xjit.jit import archive as ar
from xjit.jit import compiled as C
a = ar._read_archive(sys.argv[1])
t.append(time.perf_counter())
outer = ar._parse_ir(a.entries["model.mlir"])
t.append(time.perf_counter())
compiles = []
init = C.CompiledFunction.__init__
def timed(self, *args, **kw):
    s = time.perf_counter()
    init(self, *args, **kw)
    compiles.append(time.perf_counter() - s)
C.CompiledFunction.__init__ = timed
m = xjit.jit.load(sys.argv[1])
t.append(time.perf_counter())
args = [xjit.from_numpy(np.ones([int(d) for d in s.split(",")], np.float32)) for s in sys.argv[2:]]
m(*args)
t.append(time.perf_counter())
names = ["import xjit", "import the compiler (xDSL, dialects, passes)", "read + check zip",
         "parse + verify IR", "full load (again: parse, then compile)", "first call"]
for n, a, b in zip(names, t, t[1:]):
    print(f"  {n:<46} {1000 * (b - a):8.1f} ms")
print(f"    of which compiling {len(compiles)} traced method(s) (lowering + codegen): "
      + ", ".join(f"{1000 * c:.1f}" for c in compiles) + " ms")
"""


def _make_archive(path: str) -> None:
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    from mycell import MyCell  # type: ignore[import-not-found]

    import xjit as torch

    torch.manual_seed(0)
    torch.jit.trace(MyCell(), (torch.rand(3, 4), torch.rand(3, 4))).save(path)


def _make_wrap_rnn_archive(path: str) -> None:
    """The tutorial's `traced` WrapRNN (examples/intro_tutorial.py, run quietly)."""
    import contextlib
    import io
    import runpy

    with contextlib.redirect_stdout(io.StringIO()):
        g = runpy.run_path(os.path.join(HERE, "..", "examples", "intro_tutorial.py"))
    g["traced"].save(path)


ARCHIVES = (  # name, maker, input shapes, what it is
    ("mycell", _make_archive, ("3,4", "3,4"), "MyCell: Linear(4, 4) + tanh"),
    (
        "wrapped_rnn",
        _make_wrap_rnn_archive,
        ("10,3,4",),
        "tutorial WrapRNN: traced, calls a scripted loop over a traced cell + scripted gate",
    ),
)


def _fresh(script: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def _wall(script: str, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, make, shapes, _ in ARCHIVES:
            paths[name] = os.path.join(d, f"{name}.xjit")
            make(paths[name])
            _fresh(LOAD_AND_CALL, paths[name], *shapes)  # warm the OS file cache and .pyc files
        imp = [_fresh(IMPORT_ONLY) for _ in range(args.runs)]
        wall_imp = [_wall(IMPORT_ONLY) for _ in range(args.runs)]
        mi, wi = statistics.median(imp), statistics.median(wall_imp)
        print(
            f"in-process time / whole process (interpreter start-up included), median of "
            f"{args.runs} fresh processes:"
        )
        print(f"  import xjit                     {1000 * mi:8.1f} ms {1000 * wi:8.1f} ms")
        for name, _, shapes, what in ARCHIVES:
            path = paths[name]
            load = [_fresh(LOAD_AND_CALL, path, *shapes) for _ in range(args.runs)]
            wall = [_wall(LOAD_AND_CALL, path, *shapes) for _ in range(args.runs)]
            ml, wl = statistics.median(load), statistics.median(wall)
            print(f"\n{name}.xjit: {os.path.getsize(path)} bytes ({what})")
            print(
                f"  import xjit + load + 1st call   {1000 * ml:8.1f} ms {1000 * wl:8.1f} ms   "
                f"ratio {ml / mi:5.1f}x / {wl / wi:5.1f}x"
            )
            print("  where the load goes (one fresh process):")
            print(
                subprocess.run(
                    [sys.executable, "-c", BREAKDOWN, path, *shapes],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout,
                end="",
            )


if __name__ == "__main__":
    main()
