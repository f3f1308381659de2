"""Refactoring guard: the generated numpy source of every bench model is byte-identical to its
committed golden copy in tests/golden/.

A compiler refactoring (the fusion pass split into a pattern and a control function, moved
helpers, ...) must not change what is generated. The goldens are regenerated
(`python tests/golden_sources.py`, see that module) only for an intended codegen change, with
the diff read and committed alongside it; never to make this test pass after a refactoring.
"""

from __future__ import annotations

import pytest
from golden_sources import collect, golden_path

SOURCES = collect()


def test_every_golden_has_a_model() -> None:
    """A golden whose model went away is stale (regenerate to drop it)."""
    names = {p.name.removesuffix(".py.txt") for p in golden_path("x").parent.glob("*.py.txt")}
    assert names == set(SOURCES)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_generated_source_is_unchanged(name: str) -> None:
    assert SOURCES[name] == golden_path(name).read_text(), (
        f"generated numpy source of {name} differs from {golden_path(name)}"
    )
