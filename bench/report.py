"""The markdown report (stdout / --md) of one run; the JSON report is the run's dict itself."""

from __future__ import annotations

import math
from typing import Any


def fmt_time(s: float | None) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _signed_us(s: float | None) -> str:
    return "—" if s is None else f"{s * 1e6:+.2f} µs"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 100 else f"{r:.0f}×"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _status_text(rec: dict[str, Any]) -> str:
    st = rec["status"]
    if st == "ok":
        check = rec.get("check", "")
        return check if check == "reference" or check.startswith("floor") else "ok"
    if st == "mismatch":
        return f"**{rec['check']}**"
    return f"{st}: {rec['reason']}"


def _met(m: bool | None) -> str:
    return {True: "met", False: "**MISSED**", None: "not measured"}[m]


def render(run: dict[str, Any]) -> str:
    env = run["env"]
    out: list[str] = []
    w = out.append
    mode = "quick (smoke: tiny repeat counts, not for conclusions)" if run["quick"] else "full"
    w(f"# xjit benchmark: {mode} run")
    w("")
    w(f"- {env['when']} · commit {env['commit']} · {run['elapsed_s']:.0f} s in all")
    w(
        f"- python {env['python']} · numpy {env['numpy']} ({env['blas']}) · xdsl {env['xdsl']} · "
        f"torch {env['torch']} · {env['cpus']} CPUs"
    )
    w(f"- threads: {env['threads']}")
    w(
        "- times: median per call over interleaved samples (± is half the inter-quartile range); "
        "ratios divide by the naive-numpy (or hand-opt numpy) median **of this same run**"
    )
    mism = [
        (wl["id"], r["label"])
        for wl in run["workloads"]
        for r in wl["impls"]
        if r["status"] == "mismatch"
    ]
    if mism:
        w("")
        w(
            f"> **WARNING: {len(mism)} implementation(s) disagree with naive numpy** — their times "
            "are shown but are not valid results: " + ", ".join(f"{a}/{b}" for a, b in mism)
        )
    w("")
    w("## Workloads")
    w("")
    for wl in run["workloads"]:
        note = f" ({wl['note']})" if wl.get("note") else ""
        w(f"- **{wl['id']}**: {wl['title']}{note}")
    w("")
    w(
        "| workload | implementation | median | ± | × naive | × hand-opt | compile | check / status |"
    )
    w("|---|---|---:|---:|---:|---:|---:|---|")
    for wl in run["workloads"]:
        for r in wl["impls"]:
            spread = f"{r['spread'] * 100:.0f}%" if r.get("spread") is not None else ""
            w(
                "| "
                + " | ".join(
                    [
                        wl["id"],
                        r["label"],
                        fmt_time(r.get("median_s")),
                        spread,
                        fmt_ratio(r.get("x_naive")),
                        fmt_ratio(r.get("x_hand")),
                        fmt_time(r.get("compile_s")) if "compile_s" in r else "",
                        _cell(_status_text(r)),
                    ]
                )
                + " |"
            )
    w("")
    w("## Targets (issue 6)")
    w("")
    w("| area | target | measured | status |")
    w("|---|---|---:|---|")
    for t in run["targets"]:
        why = f" ({t['why']})" if t.get("why") else ""
        w(
            f"| {t['area']} | {_cell(t['target'])} | {t['measured']} | {_cell(_met(t['met']) + why)} |"
        )
    w("")
    _compile_section(run, w)
    _fresh_section(run, w)
    _overhead_section(run, w)
    _missing_section(run, w)
    return "\n".join(out) + "\n"


def _compile_section(run: dict[str, Any], w: Any) -> None:
    w("## Compile time")
    w("")
    warm = run.get("compiler_warmup", {})
    if warm.get("status") == "ok":
        w(
            f"First compile in this process (a 1-op function; includes importing xDSL and building "
            f"the context): {fmt_time(warm['value'])}. Every other compile time here is measured "
            "after it."
        )
    elif warm:
        w(f"First compile in this process failed: {warm.get('reason')}")
    tw = run.get("torch_warmup", {})
    if tw.get("status") == "ok":
        w(
            f"PyTorch's first `torch.jit.trace` in this process, likewise set apart: "
            f"{fmt_time(tw['value'])}."
        )
    rows = [(wl["id"], r) for wl in run["workloads"] for r in wl["impls"] if "compile_s" in r]
    if rows:
        w("")
        w("| workload | implementation | trace/script → callable (median) | runs |")
        w("|---|---|---:|---|")
        for wid, r in rows:
            runs = ", ".join(fmt_time(t) for t in r.get("compile_runs_s", []))
            w(f"| {wid} | {r['label']} | {fmt_time(r['compile_s'])} | {runs} |")
    sc = run.get("scaling")
    if sc:
        w("")
        w("Straight-line graphs of n elementwise ops (tanh, ×, +, − on 3×4), trace + compile:")
        w("")
        if sc.get("status") not in (None, "ok"):
            w(f"- {sc['status']}: {sc.get('reason')}")
        else:
            w("| ops | trace + compile | per op | check |")
            w("|---:|---:|---:|---|")
            for p in sc["points"]:
                if p["status"] == "ok":
                    w(
                        f"| {p['ops']} | {fmt_time(p['compile_s'])} | "
                        f"{fmt_time(p['compile_s'] / p['ops'])} | {p['check']} |"
                    )
                else:
                    w(f"| {p['ops']} | — | — | {p['status']}: {_cell(p['reason'])} |")
            if sc.get("exponent") is not None:
                local = ", ".join(
                    f"{d['from']}→{d['to']}: {d['k']:.2f}" for d in sc.get("local_exponents", [])
                )
                w("")
                w(
                    f"Fitted exponent (log-log least squares over {sc['exponent_sizes']}): "
                    f"**{sc['exponent']:.2f}**; between neighbouring sizes: {local}."
                )
    w("")


def _fresh_section(run: dict[str, Any], w: Any) -> None:
    imp, load = run.get("import"), run.get("load")
    if not imp and not load:
        return
    w("## Fresh processes")
    w("")
    if imp:
        if imp.get("status") == "ok":
            w(
                f"- `import xjit`: {fmt_time(imp['import_s'])} (median of {imp.get('runs', 1)}; "
                f"`import numpy` alone: {fmt_time(imp.get('numpy_import_s'))}); xDSL imported: "
                f"**{'yes' if imp['xdsl_imported'] else 'no'}**"
            )
            w(
                f"- then the first `jit.trace(MyCell)` in that process (cold, imports the compiler): "
                f"{fmt_time(imp.get('cold_trace_s'))}, its first call {fmt_time(imp.get('cold_first_call_s'))}"
            )
            w(
                f"- import + first trace, empty compile cache (cold): "
                f"{fmt_time(imp.get('cold_total_s'))}; a second process with the cache filled "
                f"(warm): import + trace {fmt_time(imp.get('warm_total_s'))}, the trace alone "
                f"{fmt_time(imp.get('warm_trace_s'))}"
            )
            w(
                f"- `torch.jit.trace(MyCell)` in a fresh process: {fmt_time(imp.get('torch_trace_s'))} "
                f"(import torch + trace {fmt_time(imp.get('torch_total_s'))})"
            )
        else:
            w(f"- `import xjit`: {imp.get('status')}: {imp.get('reason')}")
    if load:
        if load.get("status") == "ok":
            w(
                f"- archive ({load.get('saved_with')}, {load.get('archive_bytes')} bytes): "
                f"`xjit.jit.load` {fmt_time(load['load_s'])}, first call "
                f"{fmt_time(load['first_call_s'])}, second call {fmt_time(load['second_call_s'])}; "
                f"import xjit {fmt_time(load['import_s'])}; xDSL imported by load: "
                f"{'yes' if load['xdsl_imported_after_load'] else 'no'}; output agrees with the "
                f"saving process: {'yes' if load['agrees'] else '**NO**'}"
            )
        else:
            w(f"- archive load + first call: {load.get('status')}: {load.get('reason')}")
    w("")


def _overhead_section(run: dict[str, Any], w: Any) -> None:
    ov = run.get("overhead")
    if not ov:
        return
    w("## Per-call overhead (compiled MyCell, 3×4 inputs)")
    w("")
    if ov.get("status") == "ok":
        lo, hi = ov.get("overhead_iqr_s", [None, None])
        w(
            f"- compiled module `traced(x, h)`: {fmt_time(ov['module_call_s'])}; generated numpy "
            f"function on arrays: {fmt_time(ov['generated_call_s'])}; naive numpy: "
            f"{fmt_time(ov['naive_s'])}"
        )
        w(
            f"- **overhead of the module call: {_signed_us(ov['overhead_s'])} per call** (median "
            f"of {ov.get('samples')} back-to-back sample differences; quartiles "
            f"{_signed_us(lo)} … {_signed_us(hi)}: an interval spanning 0 means no measurable "
            "overhead)"
        )
    else:
        w(f"- {ov.get('status')}: {ov.get('reason')}")
    w("")


def _missing_section(run: dict[str, Any], w: Any) -> None:
    lines: list[str] = []
    for wl in run["workloads"]:
        for r in wl["impls"]:
            if r["status"] not in ("ok", "mismatch"):
                lines.append(f"- {wl['id']} / {r['label']}: {r['status']}: {r['reason']}")
            for note in r.get("warnings", []):
                lines.append(f"- {wl['id']} / {r['label']}: warned {note}")
    if lines:
        w("## Not run, not supported yet, warnings")
        w("")
        out = []
        for ln in lines:
            if ln not in out:
                out.append(ln)
        for ln in out:
            w(ln)
        w("")
