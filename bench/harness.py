"""Run one workload: build every implementation, check it against naive numpy, time them all
interleaved. Nothing an implementation does (raise, hang, return wrong values) stops the run:
it becomes the implementation's status, shown in the table."""

from __future__ import annotations

import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from timing import Plan, Timed, TimeLimit, plan_counts, run_interleaved, time_limit, timed
from workloads import Backends, CompileClock, Unsupported, Workload


@dataclass
class Limits:
    compile_s: float  # one trace/script → callable
    call_s: float  # one call during the correctness check
    compile_repeats: int = 1  # builds of a compiled implementation (median compile time)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def as_arrays(out: Any) -> list[np.ndarray]:
    """Outputs of any implementation as a flat list of numpy arrays (copied: hand-opt numpy
    returns buffers it reuses)."""
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in as_arrays(o)]
    if isinstance(out, np.ndarray):
        return [out.copy()]
    if hasattr(out, "detach"):  # torch.Tensor
        return [out.detach().cpu().numpy().copy()]
    if hasattr(out, "numpy"):  # xjit.Tensor
        return [np.array(out.numpy(), copy=True)]
    return [np.asarray(out).copy()]


def compare(
    got: list[np.ndarray], ref: list[np.ndarray], rtol: float, atol: float
) -> tuple[bool, str, float]:
    """(agrees, what differs, max |got - ref|)."""
    if len(got) != len(ref):
        return False, f"{len(got)} outputs, expected {len(ref)}", float("nan")
    worst = 0.0
    for i, (g, r) in enumerate(zip(got, ref)):
        if g.shape != r.shape:
            return (
                False,
                f"output {i}: shape {list(g.shape)}, expected {list(r.shape)}",
                float("nan"),
            )
        if g.dtype != r.dtype:
            return False, f"output {i}: dtype {g.dtype}, expected {r.dtype}", float("nan")
        with np.errstate(all="ignore"):
            diff = np.abs(g.astype(np.float64) - r.astype(np.float64))
        err = float(np.nanmax(diff)) if diff.size else 0.0
        if np.isnan(diff).any():
            err = float("nan")
        worst = max(worst, err) if not np.isnan(err) else err
        scale = max(1.0, float(np.abs(r).max())) if r.size else 1.0
        if not np.allclose(g, r, rtol=rtol, atol=atol * scale, equal_nan=False):
            return (
                False,
                f"output {i}: max |Δ| = {err:.3g} (rtol {rtol:g}, atol {atol * scale:.3g})",
                err,
            )
    return True, "", worst


def _reason(e: BaseException) -> tuple[str, str]:
    """(status, one-line reason) for an exception from building or calling an implementation."""
    text = f"{type(e).__name__}: {e}".splitlines()[0] if str(e) else type(e).__name__
    if len(text) > 160:
        text = text[:157] + "..."
    if isinstance(e, Unsupported):
        return "n/a", str(e)
    if isinstance(e, TimeLimit):
        return "timeout", str(e)
    lowered = text.lower()
    if isinstance(e, (AttributeError, NotImplementedError)) or any(
        s in lowered for s in ("not supported", "unsupported", "not subscriptable", "no attribute")
    ):
        return "unsupported", text
    return "error", text


def _warning_notes(caught: list[warnings.WarningMessage], kind: str) -> list[str]:
    notes: list[str] = []
    for w in caught:
        if kind == "torch" and issubclass(w.category, (DeprecationWarning, FutureWarning)):
            continue  # torch.jit's "deprecated, use torch.compile" on every trace
        line = f"{w.category.__name__}: {str(w.message).splitlines()[0][:140]}"
        if line not in notes:
            notes.append(line)
    return notes


def _generated_source(fn: Any) -> str | None:
    for obj in (getattr(fn, "forward", None), fn):
        src = getattr(obj, "source", None)
        if isinstance(src, str):
            return src
    return None


def run_workload(w: Workload, B: Backends, plan: Plan, limits: Limits) -> dict[str, Any]:
    recs: list[dict[str, Any]] = []
    timed_items: list[Timed] = []
    ref: list[list[np.ndarray]] | None = None
    for impl in w.impls:
        rec: dict[str, Any] = {
            "key": impl.key,
            "label": impl.label,
            "kind": impl.kind,
            "status": "ok",
            "reason": "",
            "warnings": [],
        }
        recs.append(rec)
        # build
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                compile_times: list[float] = []
                while True:  # compiled builds repeat (noisy machines), if they are quick
                    CompileClock.seconds = 0.0
                    dt, fn = timed(impl.build, limits.compile_s)
                    compile_times.append(CompileClock.seconds)
                    if (
                        not impl.compiles
                        or len(compile_times) >= limits.compile_repeats
                        or dt > 1.0
                    ):
                        break
                if impl.compiles:
                    rec["compile_s"] = statistics.median(compile_times)
                    rec["compile_runs_s"] = compile_times
            except BaseException as e:  # noqa: BLE001 - reported, never fatal
                if isinstance(e, KeyboardInterrupt):
                    raise
                rec["status"], rec["reason"] = _reason(e)
                rec["traceback"] = traceback.format_exc(limit=8)
        rec["warnings"] = _warning_notes(caught, impl.kind)
        if rec["status"] != "ok":
            log(f"  [{w.id}] {impl.label}: {rec['status']}: {rec['reason']}")
            continue
        src = _generated_source(fn)
        if src is not None:
            rec["generated_source"] = src
        # check on every input set, against naive numpy
        args_sets = [tuple(B.convert(impl.kind, a) for a in inp) for inp in w.inputs]
        call_times: list[float] = []
        outs: list[list[np.ndarray]] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for args in args_sets:
                    t, out = timed(lambda fn=fn, args=args: fn(*args), limits.call_s)
                    call_times.append(t)
                    outs.append(as_arrays(out))
            rec["warnings"] += [
                n for n in _warning_notes(caught, impl.kind) if n not in rec["warnings"]
            ]
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            status, reason = _reason(e)
            rec["status"], rec["reason"] = (
                ("timeout" if status == "timeout" else "error"),
                f"calling it: {reason}",
            )
            rec["traceback"] = traceback.format_exc(limit=8)
            log(f"  [{w.id}] {impl.label}: {rec['status']}: {rec['reason']}")
            if impl.key == "naive":
                raise RuntimeError(f"{w.id}: the reference implementation failed: {reason}") from e
            continue
        rec["first_call_s"] = call_times[0]
        if impl.key == "naive":
            ref = outs
            rec["check"] = "reference"
        elif getattr(impl, "floor", False):  # workloads.FloorImpl: nothing to compare
            rec["check"] = "floor (part of the computation: not checked)"
        else:
            assert ref is not None
            results = [compare(o, r, w.rtol, w.atol) for o, r in zip(outs, ref)]
            bad = [(i, msg) for i, (ok, msg, _) in enumerate(results) if not ok]
            errs = [err for _, _, err in results]
            rec["max_abs_err"] = max(errs) if all(not np.isnan(x) for x in errs) else float("nan")
            if bad:
                i, msg = bad[0]
                rec["status"] = "mismatch"
                rec["check"] = f"MISMATCH on input set {i + 1}/{len(outs)}: {msg}"
                log(f"  [{w.id}] {impl.label}: ** {rec['check']} **")
            else:
                rec["check"] = "ok"
        # warm up (TorchScript's profiling executor specialises over the first calls), estimate
        call = _bind(fn, args_sets[0])
        est = min(call_times[:1] + call_times[1:])
        spent = 0.0
        for _ in range(3):
            if spent > 1.0 or est > 1.0:
                break
            t, _ = timed(call)
            spent += t
            est = min(est, t)
        item = Timed(impl.key, call, est)
        timed_items.append(item)
        plan_counts(item, plan)
        extra = f", compile {rec['compile_s']:.3f} s" if "compile_s" in rec else ""
        log(f"  [{w.id}] {impl.label}: check {rec['check']}{extra}, ~{est * 1e6:.1f} µs/call")
    t0 = time.perf_counter()
    run_interleaved(timed_items, plan)
    by_key = {t.key: t for t in timed_items}
    for rec in recs:
        t = by_key.get(rec["key"])
        if t is not None and t.samples:
            rec.update(
                median_s=t.median,
                spread=t.spread(),
                n_samples=len(t.samples),
                inner=t.inner,
                samples_s=t.samples,
            )
    base = {r["key"]: r.get("median_s") for r in recs}
    for rec in recs:
        m = rec.get("median_s")
        for ref_key in ("naive", "hand", "torch_eager"):
            b = base.get(ref_key)
            rec[f"x_{ref_key}"] = (m / b) if (m and b) else None
    targets = []
    for tg in w.targets:
        rec = next((r for r in recs if r["key"] == tg.impl), None)
        ratio = rec.get(f"x_{tg.ref}") if rec else None
        if rec is None or ratio is None:
            met, why = None, (rec or {}).get("reason") or "not measured"
        elif rec["status"] == "mismatch":
            met, why = False, "output mismatch"
        else:
            met, why = ratio <= tg.bound, ""
        targets.append(
            {
                "impl": tg.impl,
                "ref": tg.ref,
                "bound": tg.bound,
                "describe": tg.describe(),
                "ratio": ratio,
                "met": met,
                "why": why,
            }
        )
    return {
        "id": w.id,
        "group": w.group,
        "title": w.title,
        "note": w.note,
        "impls": recs,
        "targets": targets,
        "timing_s": time.perf_counter() - t0,
    }


def _bind(fn: Callable[..., Any], args: tuple[Any, ...]) -> Callable[[], Any]:
    def call() -> Any:
        return fn(*args)

    return call


def guarded(what: str, f: Callable[[], Any], limit: float | None = None) -> dict[str, Any]:
    """Run a measurement that may fail; a failure becomes {'status', 'reason'}."""
    try:
        with time_limit(limit):
            out = f()
        return out if isinstance(out, dict) else {"status": "ok", "value": out}
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        status, reason = _reason(e)
        log(f"  [{what}] {status}: {reason}")
        return {"status": status, "reason": reason, "traceback": traceback.format_exc(limit=8)}
