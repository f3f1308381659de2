"""Random TorchScript programs (tests/script_fuzz.py): `xjit.jit.script` against real
`torch.jit.script`, and `xjit.jit.trace` against eager PyTorch where the program has no
data-dependent control flow. A located refusal (a "gap") passes; a wrong value, an internal
error, an unlocated error or a hang fails with the program's source.

Profiles: `HYPOTHESIS_PROFILE=ci` (the default) is small and deterministic; `thorough` runs many
more. A long campaign that collects every failure instead of stopping at the first:
`python tests/script_fuzz.py --seed 0 --count 2000`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from script_fuzz import DrawChooser, RandomChooser, check, generate

pytestmark = pytest.mark.filterwarnings("ignore")

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@given(st.data())
def test_random_program(data: st.DataObject) -> None:
    prog = generate(DrawChooser(data.draw))
    outcomes = check(prog)
    assert all(
        o == "ok" or o in ("torch-refused", "both-raised") or o.startswith("gap: ")
        for o in outcomes
    ), outcomes


@pytest.mark.parametrize("seed", range(4))
def test_seeded_program(seed: int) -> None:
    """A few programs of the campaign's generator, so its path (random choices) stays working."""
    check(generate(RandomChooser(seed)))


def test_generator_mostly_runs() -> None:
    """The generator must produce programs TorchScript compiles and xjit runs, or the fuzz test
    checks nothing: of 20 seeded programs most are compared (not refused by either side)."""
    outcomes = [o for s in range(100, 120) for o in check(generate(RandomChooser(s)))]
    assert sum(o == "ok" for o in outcomes) >= len(outcomes) // 2, outcomes
