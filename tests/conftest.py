"""Session-wide pytest policy: a skip is a failure unless a documented optional dependency is
missing (docs/contributing.md, "Skips").

A skip hides whatever the test checks, so a test may skip only through
`pytest.skip(optional_dependency_missing("dot"))` (or `pytest.importorskip` of a module named
below) for a dependency listed in OPTIONAL_DEPENDENCIES. Any other skip -- an `importorskip` of
xjit's own modules, a `skip` in an `except`, a `skipif` -- turns the run's exit status into 1 and
is listed at the end of the report.
"""

from __future__ import annotations

import os
import re

import pytest

# The persistent compile cache (xjit/jit/compile_cache.py) is off for the suite, including the
# subprocesses it starts: tests stay independent of each other and of the user's cache.
# tests/test_compile_cache.py turns it on per test, in a tmp directory.
os.environ["XJIT_CACHE"] = "0"
# Every compile verifies the IR after every pass (production verifies once, at the end).
os.environ["XJIT_VERIFY_EACH_PASS"] = "1"

# name -> what it is and which tests need it. Keep in step with docs/contributing.md.
OPTIONAL_DEPENDENCIES: dict[str, str] = {
    "dot": "Graphviz's `dot` executable, to render graphs to images",
}

_PREFIX = "optional dependency missing: "
_IMPORT = re.compile(r"^could not import '([\w.]+)'")

_unexpected: list[tuple[str, str]] = []


def optional_dependency_missing(name: str, detail: str = "") -> str:
    """The skip reason for a missing optional dependency `name` (one of OPTIONAL_DEPENDENCIES)."""
    assert name in OPTIONAL_DEPENDENCIES, f"document {name!r} in OPTIONAL_DEPENDENCIES first"
    return _PREFIX + name + (f" ({detail})" if detail else "")


def skip_is_allowed(reason: str) -> bool:
    """Whether a skip reason names a documented optional dependency."""
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(_PREFIX):
        return reason[len(_PREFIX) :].split(" ", 1)[0] in OPTIONAL_DEPENDENCIES
    m = _IMPORT.match(reason)
    return bool(m) and m.group(1) in OPTIONAL_DEPENDENCIES


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):  # (path, line, reason)
        return str(report.longrepr[2])
    return str(report.longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # xfails are reported as skipped too; they are governed by xfail_strict instead
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if not skip_is_allowed(reason):
            _unexpected.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _unexpected:
        terminalreporter.section("unexpected skips (a failure: see tests/conftest.py)", red=True)
        for nodeid, reason in _unexpected:
            terminalreporter.line(f"{nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
