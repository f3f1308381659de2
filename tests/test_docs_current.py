"""docs/passes.md and docs/backend.md are what docs/gen/gen_docs.py generates from the current
tree: a change to a pass, the code generator or the prose (which lives in the generator) without
regenerating fails here. Fix: `python docs/gen/gen_docs.py`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "docs" / "gen" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("doc,make", [("passes.md", "passes_md"), ("backend.md", "backend_md")])
def test_generated_docs_are_current(doc: str, make: str) -> None:
    want = getattr(_gen_docs(), make)()
    have = (ROOT / "docs" / doc).read_text()
    assert have == want, f"docs/{doc} is stale: run `python docs/gen/gen_docs.py`"
