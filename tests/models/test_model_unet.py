"""A small UNet written for PyTorch (issue 10: `import xjit as torch`): the down/up block of
/work/repro/zoo2.py (Conv2d, GroupNorm, SiLU, MaxPool2d, nearest Upsample) and a decoder that
upsamples with `F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=...)` (a
float scale, as TorchScript wants) and concatenates the skip connection. Built with torch and
with xjit on the same weights; xjit's eager, traced and scripted outputs are compared with
torch's eager and `torch.jit.script`'s."""

from typing import Any

import numpy as np
import pytest
import torch as pt
from model_oracle import assert_close, compare, twins

import xjit


def build(torch: Any) -> dict[str, Any]:
    nn = torch.nn
    F = torch.nn.functional

    class UNetBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.SiLU(), nn.MaxPool2d(2)
            )
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 3, 3, padding=1)
            )

        def forward(self, x):
            return x + self.up(self.down(x))

    class Decoder(nn.Module):
        def __init__(self, align_corners: bool) -> None:
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.mid = nn.Conv2d(6, 6, 3, padding=1)
            self.out = nn.Conv2d(9, 2, 1)
            self.align_corners = align_corners

        def forward(self, x):
            h = self.mid(self.enc(x))
            if self.align_corners:
                h = F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=True)
            else:
                h = F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False)
            return self.out(torch.cat([h, x], 1))

    return {"UNetBlock": UNetBlock, "Decoder": Decoder}


TORCH, XJIT = build(pt), build(xjit)
CASES = [("UNetBlock", ()), ("Decoder", (False,)), ("Decoder", (True,))]


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_unet_eager_traced_and_scripted_match_torch(name, args) -> None:
    t, x = twins(lambda T: (TORCH if T is pt else XJIT)[name], *args)
    arr = np.random.default_rng(0).standard_normal((2, 3, 8, 10)).astype(np.float32)
    compare(t, x, arr)
    with pt.no_grad():
        want = pt.jit.script(t)(pt.from_numpy(arr.copy()))
    got = xjit.jit.script(x)(xjit.from_numpy(arr.copy()))
    assert_close(got, want, "scripted")
    # another input size: the scripted module compiles again for it
    arr2 = np.random.default_rng(1).standard_normal((1, 3, 6, 4)).astype(np.float32)
    with pt.no_grad():
        want2 = t(pt.from_numpy(arr2.copy()))
    assert_close(xjit.jit.script(x)(xjit.from_numpy(arr2.copy())), want2, "scripted, new size")
