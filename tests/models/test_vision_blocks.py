"""torchvision-style blocks (tests/models/vision_blocks.py) against PyTorch on torch's random
weights: eager and traced (model_oracle.compare), and scripted against torch.jit.script where
TorchScript compiles the model (DenseNet's List-or-Tensor input it refuses too)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from model_oracle import assert_close, compare, twins
from vision_blocks import build

import xjit

R = np.random.default_rng(0)
INPUTS: dict[str, tuple[int, ...]] = {
    "MobileNetV2Tiny": (2, 3, 32, 32),
    "SqueezeNetTiny": (2, 3, 35, 35),
    "ShuffleTiny": (2, 3, 32, 32),
    "DenseBlockTiny": (2, 8, 8, 8),
    "InceptionBlock": (2, 8, 10, 10),
    "BasicBlockV": (2, 8, 9, 9),
    "VGGTiny": (2, 3, 32, 32),
    "AlexNetTiny": (2, 3, 67, 67),
}
NOT_TORCHSCRIPT = {"DenseBlockTiny"}


def _builder(name: str) -> Any:
    return lambda lib: build(lib)[name]


@pytest.mark.parametrize("name", list(INPUTS))
def test_eager_traced_and_scripted(name: str) -> None:
    t, x = twins(_builder(name))
    a = R.standard_normal(INPUTS[name]).astype(np.float32)
    compare(t, x, a)
    if name in NOT_TORCHSCRIPT:
        with pytest.raises(Exception):  # noqa: B017, PT011 (torch's own error type varies)
            torch.jit.script(t)
        return
    with torch.no_grad():
        want = torch.jit.script(t)(torch.from_numpy(a.copy()))
    assert_close(xjit.jit.script(x)(xjit.from_numpy(a.copy())), want, "scripted")
