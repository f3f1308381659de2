"""How slow is loading an `.xjit` archive? Fresh-process `import xjit` against fresh-process
`import xjit; xjit.jit.load(path)` + the first call, on the MyCell archive.

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

LOAD_AND_CALL = """
import sys, time
t0 = time.perf_counter()
import numpy as np
import xjit
m = xjit.jit.load(sys.argv[1])
x = xjit.from_numpy(np.ones((3, 4), np.float32))
m(x, x)
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
a = ar._read_archive(sys.argv[1])
t.append(time.perf_counter())
outer = ar._parse_ir(a.entries["model.mlir"])
t.append(time.perf_counter())
m = xjit.jit.load(sys.argv[1])
t.append(time.perf_counter())
x = xjit.from_numpy(np.ones((3, 4), np.float32))
m(x, x)
t.append(time.perf_counter())
names = ["import xjit", "import the compiler (xDSL, dialects, passes)", "read + check zip",
         "parse + verify IR", "full load (again: parse, pipeline, codegen)", "first call"]
for n, a, b in zip(names, t, t[1:]):
    print(f"  {n:<46} {1000 * (b - a):8.1f} ms")
"""


def _make_archive(path: str) -> None:
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    from mycell import MyCell  # type: ignore[import-not-found]

    import xjit as torch

    torch.manual_seed(0)
    torch.jit.trace(MyCell(), (torch.rand(3, 4), torch.rand(3, 4))).save(path)


def _fresh(script: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True,
                         text=True).stdout
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
        path = os.path.join(d, "mycell.xjit")
        _make_archive(path)
        _fresh(LOAD_AND_CALL, path)  # warm the OS file cache and .pyc files
        imp = [_fresh(IMPORT_ONLY) for _ in range(args.runs)]
        load = [_fresh(LOAD_AND_CALL, path) for _ in range(args.runs)]
        wall_imp = [_wall(IMPORT_ONLY) for _ in range(args.runs)]
        wall_load = [_wall(LOAD_AND_CALL, path) for _ in range(args.runs)]
        mi, ml = statistics.median(imp), statistics.median(load)
        wi, wl = statistics.median(wall_imp), statistics.median(wall_load)
        print(f"archive: {os.path.getsize(path)} bytes (MyCell: Linear(4, 4) + tanh)")
        print(f"in-process time, median of {args.runs} fresh processes:")
        print(f"  import xjit                     {1000 * mi:8.1f} ms")
        print(f"  import xjit + load + 1st call   {1000 * ml:8.1f} ms   ratio {ml / mi:5.1f}x")
        print("whole process (interpreter start-up included):")
        print(f"  python -c 'import xjit'         {1000 * wi:8.1f} ms")
        print(f"  ... + load + 1st call           {1000 * wl:8.1f} ms   ratio {wl / wi:5.1f}x")
        print("where the load goes (one fresh process):")
        print(subprocess.run([sys.executable, "-c", BREAKDOWN, path], check=True,
                             capture_output=True, text=True).stdout, end="")


if __name__ == "__main__":
    main()
