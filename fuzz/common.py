"""What both fuzzers share: a hard per-input time limit, findings and their summary."""

from __future__ import annotations

import hashlib
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Timeout(BaseException):
    """Raised by the alarm of `time_limit`. A BaseException, so that the tools' catch-all
    `except Exception` (which turns a bug into an "internal error" line) cannot swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of wall time (SIGALRM; main thread only). The regex
    engine checks for signals while it backtracks, so a catastrophic match is interrupted too."""

    def _alarm(signum: int, frame: object) -> None:
        raise Timeout(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Finding:
    category: str  # "kind:detail", e.g. "internal-error:RecursionError"; the unit of --allow
    name: str  # which input (generator or seed file and mutation)
    detail: str  # what happened: the command, the message
    text: str  # the failing input itself
    suffix: str = ".mlir"


@dataclass
class Summary:
    tool: str
    allowed: frozenset[str] = frozenset()
    inputs: int = 0
    findings: list[Finding] = field(default_factory=list)
    known: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, finding: Finding) -> None:
        if is_allowed(finding.category, self.allowed):
            self.known[finding.category] += 1
        else:
            self.findings.append(finding)

    def report(self, out_dir: Path | None) -> str:
        lines = [f"{self.tool}: {self.inputs} inputs, {len(self.findings)} findings"]
        for k, n in sorted(self.outcomes.items()):
            lines.append(f"  outcome {k}: {n}")
        for cat, n in sorted(Counter(f.category for f in self.findings).items()):
            lines.append(f"  FINDING {cat}: {n}")
        for cat, n in sorted(self.known.items()):
            lines.append(f"  known (allowed) {cat}: {n}")
        if out_dir is not None and self.findings:
            written = write_findings(self.findings, out_dir)
            lines.append(f"  failing inputs written to {written}")
        return "\n".join(lines)

    @property
    def exit_status(self) -> int:
        return 1 if self.findings else 0


def is_allowed(category: str, allowed: frozenset[str]) -> bool:
    """Whether a finding's category is on the allow-list (exactly: no patterns, so an allowed
    known bug cannot hide a new one)."""
    return category in allowed


def _slug(s: str) -> str:
    return re.sub(r"[^\w.-]+", "_", s)[:80]


def write_findings(findings: list[Finding], out_dir: Path) -> Path:
    """One file per failing input (name: a hash of it) and a .txt beside it saying what failed,
    under out_dir/<category>/."""
    for f in findings:
        d = out_dir / _slug(f.category)
        d.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha1(f.text.encode()).hexdigest()[:12]
        (d / f"{h}{f.suffix}").write_text(f.text)
        (d / f"{h}.txt").write_text(f"{f.name}\n{f.category}\n{f.detail}\n")
    return out_dir


def first_lines(text: str, n: int = 3, width: int = 300) -> str:
    return "\n".join(line[:width] for line in text.strip().splitlines()[:n])


def eprint(*args: object) -> None:
    print(*args, file=sys.stderr)
