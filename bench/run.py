"""xjit's benchmark: one command, ratios against naive numpy measured in the same run.

    python bench/run.py [--quick] [--only a1,e] [--json out.json] [--md out.md]

Workloads a1 a2 b1 b2 c d e f (issue 6; docs/benchmarks.md), and the extras `compile` (graph-size
scaling), `import` (fresh-process `import xjit`), `load` (fresh-process archive load), `overhead`
(per-call cost of a compiled module), `eager` (eager `x + h` against PyTorch). `--only` takes any of these names (or a workload id such as
f-softmax-64x1024); without it everything runs. The markdown table goes to stdout, progress to
stderr. BLAS runs at one thread: threadpoolctl when installed, otherwise the usual environment
variables, set here before numpy is imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GROUP_NAMES = ["a1", "a2", "b1", "b2", "c", "d", "e", "f", "g", "g2", "h", "h2", "i"]
EXTRA_NAMES = ["compile", "import", "load", "overhead", "eager"]
BLAS_ENV = [
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: tiny repeat counts, small scaling sizes (< 30 s for a1,e)",
    )
    p.add_argument(
        "--only",
        default="",
        help=f"comma list of {', '.join(GROUP_NAMES + EXTRA_NAMES)} or workload ids",
    )
    p.add_argument("--json", metavar="PATH", help="write the full results (all samples) as JSON")
    p.add_argument("--md", metavar="PATH", help="write the markdown report here too")
    p.add_argument(
        "--threads",
        choices=["auto", "threadpoolctl", "env"],
        default="auto",
        help="how BLAS is held at 1 thread (auto: threadpoolctl if installed)",
    )
    p.add_argument(
        "--fail-on-mismatch",
        action="store_true",
        help="exit 1 if any implementation disagrees with naive numpy",
    )
    return p.parse_args(argv)


def limit_threads(how: str, argv: list[str]) -> str | int:
    """Hold BLAS at one thread. Returns the method, or the exit status of a child re-run (env
    variables only work if set before numpy is imported)."""
    if how == "auto":
        how = "threadpoolctl" if importlib.util.find_spec("threadpoolctl") else "env"
    if how == "threadpoolctl":
        return how
    if "numpy" in sys.modules and os.environ.get("XJIT_BENCH_CHILD") != "1":
        env = dict(os.environ, XJIT_BENCH_CHILD="1", **dict.fromkeys(BLAS_ENV, "1"))
        return subprocess.call([sys.executable, str(Path(__file__).resolve()), *argv], env=env)
    for k in BLAS_ENV:
        os.environ[k] = "1"
    return how


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    how = limit_threads(args.threads, argv)
    if isinstance(how, int):
        return how
    t_start = time.perf_counter()
    # Compile times in this process measure the pipeline: with the persistent compile cache on,
    # a repeated build (median of 3, the scaling's best of 3) would time a cache hit. The cache
    # is measured on its own, in fresh processes (extras.fresh_import turns it on there).
    os.environ["XJIT_CACHE"] = "0"

    import numpy as np  # after the thread limit

    sys.path.insert(0, str(HERE))
    import extras
    import report
    import workloads as W
    from harness import Limits, guarded, log, run_workload
    from timing import FULL, QUICK

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    known = set(GROUP_NAMES + EXTRA_NAMES)
    for s in only:
        if s not in known and not s.startswith("f-"):
            print(
                f"run.py: unknown name in --only: {s!r} (known: {', '.join(sorted(known))})",
                file=sys.stderr,
            )
            return 2

    def wanted(name: str, group: str | None = None) -> bool:
        return not only or name in only or (group is not None and group in only)

    limiter = None
    if how == "threadpoolctl":
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=1)
    B = W.load_backends()
    if limiter is not None:  # torch's own OpenMP/MKL pools, loaded after the first limit
        limiter = threadpool_limits(limits=1)
    env = environment(np, B, how)
    plan, limits = (QUICK, Limits(30, 10)) if args.quick else (FULL, Limits(120, 30, 3))
    run: dict = {"quick": args.quick, "only": only, "env": env, "workloads": []}

    # The first compile in a process imports xDSL and builds the context: measured on its own.
    log("compiler warm-up (first trace in this process)")
    T = B.xjit
    run["compiler_warmup"] = guarded("warm-up", lambda: _first_compile(T), limits.compile_s)
    if B.torch is not None:
        run["torch_warmup"] = guarded("torch warm-up", lambda: _first_compile(B.torch))

    for gi, group in enumerate(GROUP_NAMES):
        if not (wanted(group) or any(s.startswith(group + "-") for s in only)):
            continue
        T.manual_seed(0)
        rng = np.random.default_rng([2026, gi])
        try:
            built = W.GROUPS[group](B, rng)
        except Exception as e:  # noqa: BLE001 - a broken workload definition is reported
            log(f"[{group}] could not be set up: {type(e).__name__}: {e}")
            run.setdefault("setup_errors", []).append(f"{group}: {type(e).__name__}: {e}")
            continue
        for wl in built if isinstance(built, list) else [built]:
            if only and not (wanted(wl.id, wl.group)):
                continue
            log(f"[{wl.id}] {wl.title}")
            try:
                run["workloads"].append(run_workload(wl, B, plan, limits))
            except Exception as e:  # noqa: BLE001
                log(f"[{wl.id}] failed: {type(e).__name__}: {e}")
                run.setdefault("setup_errors", []).append(f"{wl.id}: {type(e).__name__}: {e}")

    if wanted("compile"):
        sizes, lim = ([10, 100], 20.0) if args.quick else ([10, 100, 1000, 5000], 60.0)
        log(f"[compile] straight-line graphs of {sizes} ops")
        run["scaling"] = guarded("compile", lambda: extras.compile_scaling(B, sizes, lim))
    repeats = 1 if args.quick else 3
    if wanted("import"):
        log("[import] fresh processes")
        run["import"] = guarded("import", lambda: extras.fresh_import(repeats))
    if wanted("load"):
        log("[load] archive load in a fresh process")
        run["load"] = guarded("load", lambda: extras.archive_load(B, repeats))
    if wanted("overhead"):
        log("[overhead] compiled MyCell vs its generated function")
        run["overhead"] = guarded("overhead", lambda: extras.per_call_overhead(B, plan))

    if wanted("eager"):
        log("[eager] x + h on 3×4 tensors, xjit vs PyTorch")
        run["eager"] = guarded("eager", lambda: extras.eager_add(B, plan))

    run["targets"] = collect_targets(run, W.TUTORIAL)
    run["elapsed_s"] = time.perf_counter() - t_start
    text = report.render(run)
    print(text, end="")
    if args.md:
        Path(args.md).write_text(text)
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(run, indent=1, default=_json_default))
    mismatches = sum(r["status"] == "mismatch" for wl in run["workloads"] for r in wl["impls"])
    return 1 if (args.fail_on_mismatch and mismatches) else 0


def _json_default(o: object) -> object:
    try:
        return float(o)  # numpy scalars
    except (TypeError, ValueError):
        return repr(o)


def _first_compile(T: object) -> float:
    x = T.randn(3, 4)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    T.jit.trace(lambda x: T.tanh(x), (x,))  # type: ignore[attr-defined]
    return time.perf_counter() - t0


def environment(np: object, B: object, how: str) -> dict:
    import platform

    env: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": platform.python_version(),
        "numpy": np.__version__,  # type: ignore[attr-defined]
        "cpus": os.cpu_count(),
        "torch": B.torch.__version__ if B.torch is not None else f"not run: {B.torch_missing}",  # type: ignore[attr-defined]
    }
    try:
        from importlib.metadata import version

        env["xdsl"] = version("xdsl")
    except Exception:  # noqa: BLE001
        env["xdsl"] = "?"
    try:
        cfg = np.show_config(mode="dicts")  # type: ignore[attr-defined]
        blas = cfg["Build Dependencies"]["blas"]
        env["blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001
        env["blas"] = "BLAS unknown"
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=HERE, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        env["commit"] = (rev or "?") + (" (uncommitted changes in the tree)" if dirty else "")
    except Exception:  # noqa: BLE001
        env["commit"] = "?"
    if how == "threadpoolctl":
        from threadpoolctl import threadpool_info

        pools = ", ".join(
            " ".join(str(v) for v in (i.get("internal_api"), i.get("version")) if v)
            + f": {i.get('num_threads')} thread(s)"
            for i in threadpool_info()
        )
        threads = f"threadpoolctl threadpool_limits(1) → {pools or 'no pools found'}"
    else:
        why = (
            "threadpoolctl not installed"
            if importlib.util.find_spec("threadpoolctl") is None
            else "--threads env"
        )
        threads = (
            f"environment: {'='.join(BLAS_ENV[:3])}=1 (and BLIS/VECLIB/NUMEXPR) set "
            f"before numpy was imported ({why})"
        )
        if why == "--threads env":  # threadpoolctl can still confirm what the variables did
            from threadpoolctl import threadpool_info

            seen = ", ".join(
                f"{i.get('internal_api')}: {i.get('num_threads')}" for i in threadpool_info()
            )
            threads += f"; threadpoolctl reads {seen or 'no pools'}"
    if B.torch is not None:  # type: ignore[attr-defined]
        threads += (
            f"; torch.set_num_threads(1) → {B.torch.get_num_threads()} thread(s), "  # type: ignore[attr-defined]
            "grad disabled"
        )
    env["threads"] = threads
    env["threads_method"] = how
    return env


def collect_targets(run: dict, tutorial: tuple[str, ...]) -> list[dict]:
    from report import fmt_ratio, fmt_time

    out: list[dict] = []
    for wl in run["workloads"]:
        labels = {r["key"]: r["label"] for r in wl["impls"]}
        for t in wl["targets"]:
            out.append(
                {
                    "area": wl["id"],
                    "target": f"{labels.get(t['impl'], t['impl'])} {t['describe']}",
                    "measured": fmt_ratio(t["ratio"]),
                    "met": t["met"],
                    "why": t["why"],
                }
            )
    for wl in run["workloads"]:
        if wl["id"] not in tutorial:
            continue
        rec = next((r for r in wl["impls"] if r["key"] == "xjit_compiled"), None)
        if rec is None:
            continue
        c = rec.get("compile_s")
        out.append(
            {
                "area": "compile",
                "target": f"{wl['id']}: {rec['label']} → callable ≤ 0.5 s "
                "(after the warm-up compile)",
                "measured": fmt_time(c),
                "met": None if c is None else c <= 0.5,
                "why": "" if c is not None else rec.get("reason", ""),
            }
        )
    sc = run.get("scaling")
    if sc is not None:
        p1000 = next((p for p in sc.get("points", []) if p["ops"] == 1000), None)
        if p1000 is not None or not run["quick"]:
            ok = p1000 is not None and p1000["status"] == "ok"
            over = p1000 is not None and p1000["status"] == "timeout" and p1000["limit_s"] > 2
            measured = (
                fmt_time(p1000["compile_s"])
                if ok
                else f"> {p1000['limit_s']:.0f} s (cut off)"
                if over
                else "—"
            )
            out.append(
                {
                    "area": "compile",
                    "target": "1,000-op graph ≤ 2 s (issue 14; issue 6: 3 s)",
                    "measured": measured,
                    "met": (p1000["compile_s"] <= 2) if ok else (False if over else None),
                    "why": "" if ok or over else (p1000 or {}).get("reason", sc.get("reason", "")),
                }
            )
        k = sc.get("exponent")
        out.append(
            {
                "area": "compile",
                "target": f"scaling exponent ≤ 1.1 (issue 14; fit over {sc.get('exponent_sizes', '—')} ops)",
                "measured": f"{k:.2f}" if k is not None else "—",
                "met": None if k is None else k <= 1.1,
                "why": "" if k is not None else "fewer than two sizes compiled",
            }
        )
    out += _eager_targets(run)
    imp = run.get("import")
    if imp is not None:
        ok = imp.get("status") == "ok"
        out.append(
            {
                "area": "import",
                "target": "`import xjit` ≤ 0.3 s (fresh process)",
                "measured": fmt_time(imp.get("import_s")) if ok else "—",
                "met": (imp["import_s"] <= 0.3) if ok else None,
                "why": "" if ok else imp.get("reason", ""),
            }
        )
        cold, warm, tt = imp.get("cold_total_s"), imp.get("warm_trace_s"), imp.get("torch_trace_s")
        out.append(
            {
                "area": "compile",
                "target": "cold: `import xjit` + first trace of MyCell (fresh process) ≤ 0.4 s",
                "measured": fmt_time(cold) if ok and cold else "—",
                "met": (cold <= 0.4) if ok and cold else None,
                "why": "" if ok else imp.get("reason", ""),
            }
        )
        out.append(
            {
                "area": "compile",
                "target": "warm compile cache: trace of MyCell (fresh process) ≤ torch.jit.trace's",
                "measured": f"{fmt_time(warm)} vs {fmt_time(tt)}" if warm and tt else "—",
                "met": (warm <= tt) if warm and tt else None,
                "why": "" if warm and tt else "not measured (PyTorch or a child missing)",
            }
        )
        out.append(
            {
                "area": "import",
                "target": "`import xjit` does not import xDSL",
                "measured": ("xDSL imported" if imp.get("xdsl_imported") else "not imported")
                if ok
                else "—",
                "met": (not imp["xdsl_imported"]) if ok else None,
                "why": "" if ok else imp.get("reason", ""),
            }
        )
    return out


def _eager_targets(run: dict) -> list[dict]:
    """Issue 14's eager rows: `x + h` (extras.eager_add) and MyCell (workload a1's eager rows)."""
    from report import fmt_ratio

    out: list[dict] = []
    ea = run.get("eager")
    if ea is not None:
        r = ea.get("ratio_torch")
        out.append(
            {
                "area": "eager",
                "target": "xjit eager `x + h` (3×4) ≤ 1.0× PyTorch eager",
                "measured": fmt_ratio(r) if r else "—",
                "met": None if r is None else r <= 1.0,
                "why": "" if r else ea.get("reason", "PyTorch not importable"),
            }
        )
    a1 = next((wl for wl in run["workloads"] if wl["id"] == "a1"), None)
    if a1 is not None:
        med = {i["key"]: i.get("median_s") for i in a1["impls"]}
        xe, te = med.get("xjit_eager"), med.get("torch_eager")
        r = xe / te if xe and te else None
        out.append(
            {
                "area": "eager",
                "target": "xjit eager MyCell (a1) ≤ 1.0× PyTorch eager",
                "measured": fmt_ratio(r) if r else "—",
                "met": None if r is None else r <= 1.0,
                "why": "" if r else "an eager row was not measured",
            }
        )
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
