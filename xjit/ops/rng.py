"""The random generator behind `rand`/`randn` and parameter initialisation (`manual_seed`)."""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind `rand`/`randn` and parameter initialisation."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _rng
