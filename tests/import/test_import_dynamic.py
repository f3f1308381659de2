"""`xjit.from_torch` with dynamic shapes (`torch.export.Dim`) through convolutions, pooling and
sizes computed from symbols: padded conv/pool and transposed convolutions with a dynamic batch,
dynamic spatial sizes (output sizes from a symbolic formula), views and `arange` sized by
symbols, nn.TransformerEncoder with a dynamic batch and sequence length. Each model is compared
with PyTorch on two input sizes, saved and run in a torch-free subprocess (`_check_model`);
what does not decompose is refused at import with its op and source line, and wrong-size
inputs raise naming the input and the expected size."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_from_torch import _check_model
from torch import nn

import xjit
from xjit.frontends.torch_export import TorchImportError
from xjit.frontends.torch_export_ops import UnsupportedOpsError

Dim = torch.export.Dim


class PaddedCNN(nn.Module):
    """Padded conv and pools (max, avg with count_include_pad=False), flattened by
    `x.view(x.size(0), -1)`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        return self.fc(x.view(x.size(0), -1))


class Padded1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3, padding=2)
        self.up = nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1)
        self.pool = nn.AvgPool1d(2)

    def forward(self, x):
        return self.up(self.pool(torch.tanh(self.conv(x))))


class Decoder(nn.Module):
    """Transposed convolutions: stride, padding, output_padding, groups, dilation."""

    def __init__(self) -> None:
        super().__init__()
        self.up1 = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.up2 = nn.ConvTranspose2d(4, 2, 3, stride=1, padding=2, dilation=2)

    def forward(self, x):
        return self.up2(F.relu(self.up1(x)))


class FullyConv(nn.Module):
    """Every spatial op on dynamic H, W: strided padded conv, grouped conv, max/avg pools,
    a stride-1 transposed conv, global average pooling and a flatten by view."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 6, (3, 2), padding=(1, 0), groups=2)
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.up = nn.ConvTranspose2d(6, 4, 3, padding=1)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.avg(self.pool(F.relu(self.conv2(x))))
        x = self.up(x)
        feats = x.view(x.size(0), -1)  # [B, 4 * h * w]: a size from a symbolic formula
        pooled = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(pooled), feats


def _images(*shape: int) -> tuple[torch.Tensor]:
    return (torch.randn(*shape),)


def test_padded_conv_and_pools_with_a_dynamic_batch(tmp_path: Path) -> None:
    torch.manual_seed(21)
    batch = Dim("batch", min=1, max=32)
    sets = [_images(3, 2, 12, 12), _images(6, 2, 12, 12)]
    m = _check_model(PaddedCNN(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "func.func @forward(%x: !torch.vtensor<[?,2,12,12],f32>)" in m.graph
    assert "-> !torch.vtensor<[?,5],f32>" in m.graph


def test_padded_conv1d_and_transposed_conv1d_with_a_dynamic_batch(tmp_path: Path) -> None:
    torch.manual_seed(22)
    batch = Dim("batch", min=2, max=16)
    sets = [_images(2, 3, 9), _images(5, 3, 9)]
    _check_model(Padded1d(), sets, tmp_path, dynamic_shapes=({0: batch},))


def test_transposed_convolutions_with_a_dynamic_batch(tmp_path: Path) -> None:
    torch.manual_seed(23)
    batch = Dim("batch", min=1, max=16)
    sets = [_images(2, 4, 5, 6), _images(7, 4, 5, 6)]
    m = _check_model(Decoder(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "-> !torch.vtensor<[?,2,10,12],f32>" in m.graph


def test_dynamic_spatial_sizes(tmp_path: Path) -> None:
    """Output sizes are symbolic formulas of H and W (`(H - 1) // 2 + 1`, ...): `?` dims whose
    im2col windows count their ends from the input's end. Odd and even sizes both."""
    torch.manual_seed(24)
    b, h, w = Dim("b", min=1, max=8), Dim("h", min=12, max=64), Dim("w", min=12, max=64)
    sets = [_images(2, 3, 16, 12), _images(3, 3, 13, 21)]
    m = _check_model(FullyConv(), sets, tmp_path, dynamic_shapes=({0: b, 2: h, 3: w},))
    assert "func.func @forward(%x: !torch.vtensor<[?,3,?,?],f32>)" in m.graph
    assert "-> (!torch.vtensor<[?,3],f32>, !torch.vtensor<[?,?],f32>)" in m.graph


def test_dynamic_length_conv1d(tmp_path: Path) -> None:
    torch.manual_seed(25)
    length = Dim("length", min=4, max=100)
    sets = [_images(2, 3, 9), _images(2, 3, 20)]
    _check_model(Padded1d(), sets, tmp_path, dynamic_shapes=({2: length},))


def test_wrong_sizes_at_call_time_name_the_input_and_its_constraint(tmp_path: Path) -> None:
    """Sizes outside the Dim's range, or other than the static ones, raise before computing,
    in memory and after loading the archive."""
    torch.manual_seed(26)
    h, w = Dim("h", min=12, max=64), Dim("w", min=12, max=64)
    model = FullyConv().eval()
    m = xjit.from_torch(model, _images(2, 3, 16, 12), dynamic_shapes=({2: h, 3: w},))
    m.save(tmp_path / "m.xjit")
    for f in (m, xjit.jit.load(tmp_path / "m.xjit")):
        with pytest.raises(xjit.jit.ArgumentError, match=r"input 'x' dim 2 is 5, expected a size "):
            f(np.zeros((2, 3, 5, 12), np.float32))
        with pytest.raises(
            xjit.jit.ArgumentError, match=r"dim 3 is 65, expected a size in \[12, 64\]"
        ):
            f(np.zeros((2, 3, 16, 65), np.float32))
        with pytest.raises(xjit.jit.ArgumentError, match=r"expected \[2, 3, \?, \?\]"):
            f(np.zeros((2, 4, 16, 12), np.float32))


class SymbolSizes(nn.Module):
    """Sizes computed from symbols: `mul`, `add` and `floordiv` on SymInts, and
    `torch.arange(x.size(1))` with no Dim max."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = nn.Embedding(64, 4)

    def forward(self, x):
        b, t = x.size(0), x.size(1)
        rows = x.reshape(b * t, 4)  # mul
        longer = torch.cat([x, x[:, :1]], 1).view(b, t + 1, 2, 2)  # add
        halves = rows.view(b * t * 2, 2).view(-1, (b * t * 2) // b, 2)  # floordiv
        pos = torch.arange(t)
        return rows.sum(1), longer, halves, x + self.pos(pos), pos * 2


def test_sizes_computed_from_symbols(tmp_path: Path) -> None:
    torch.manual_seed(27)
    b, t = Dim("b", min=1, max=16), Dim("t", min=2, max=64)
    sets = [(torch.randn(2, 3, 4),), (torch.randn(5, 7, 4),)]
    m = _check_model(SymbolSizes(), sets, tmp_path, dynamic_shapes=({0: b, 1: t},))
    for op in ("size", "mul", "add", "floordiv"):
        assert f"torch.aten.{op}.int" in m.graph, op


def test_arange_with_an_unbounded_run_time_end(tmp_path: Path) -> None:
    """torch.arange(x.size(1)) with no Dim max: the run-time end is the result's size."""

    class Positions(nn.Module):
        def forward(self, x):
            t = x.size(1)
            return x * torch.arange(t, dtype=torch.float32), torch.arange(t)

    torch.manual_seed(28)
    sets = [(torch.randn(2, 3),), (torch.randn(2, 11),)]
    m = _check_model(Positions(), sets, tmp_path, dynamic_shapes=({1: Dim("t")},))
    assert "torch.aten.arange.start_step" in m.graph


def _encoder(causal: bool | None) -> nn.Module:
    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

        def forward(self, x):
            mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
            if causal is None:
                return self.enc(x, mask=mask)
            return self.enc(x, mask=mask, is_causal=causal)

    return Encoder()


@pytest.mark.parametrize("causal", [True, False])
def test_transformer_encoder_with_dynamic_batch_and_length(tmp_path: Path, causal: bool) -> None:
    """nn.TransformerEncoder with a causal mask built from the run-time length, is_causal
    given (True: the hint; False: the mask alone), B and T dynamic."""
    torch.manual_seed(29)
    b, t = Dim("b", min=2, max=16), Dim("t", min=2, max=32)
    sets = [(torch.randn(3, 5, 16),), (torch.randn(4, 9, 16),)]
    m = _check_model(_encoder(causal), sets, tmp_path, dynamic_shapes=({0: b, 1: t},))
    assert "!torch.vtensor<[?,?,16],f32>" in m.graph


def test_transformer_encoder_with_a_padding_mask(tmp_path: Path) -> None:
    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

        def forward(self, x, pad):
            return self.enc(x, src_key_padding_mask=pad)

    def inputs(n: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        pad = torch.zeros(n, length, dtype=torch.bool)
        pad[1:, length - 2 :] = True
        return torch.randn(n, length, 16), pad

    torch.manual_seed(30)
    b, t = Dim("b", min=2, max=16), Dim("t", min=3, max=32)
    dyn = ({0: b, 1: t}, {0: b, 1: t})
    _check_model(Encoder(), [inputs(3, 5), inputs(4, 8)], tmp_path, dynamic_shapes=dyn)


def test_transformer_encoder_mask_without_is_causal_fails_in_torch_export() -> None:
    """Without is_causal, nn.TransformerEncoder checks the mask's values
    (`_detect_is_causal_mask`): torch.export itself cannot capture that data-dependent guard,
    and the import reports torch.export's failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TorchImportError, match="torch.export failed .*data-dependent"):
            xjit.from_torch(_encoder(None).eval(), (torch.randn(2, 5, 16),))


class StillRefused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(2, 2, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(2)

    def forward(self, x):
        y = self.up(x)  # zeros inserted: merging two dims of run-time size
        z = self.pool(x)  # window bounds depend on the run-time size
        return y, z, torch.arange(0, x.size(3), 2)  # w: no Dim max


def _line_of(text: str) -> int:
    """The line of StillRefused's source holding `text`."""
    lines, first = inspect.getsourcelines(StillRefused)
    (n,) = [first + i for i, line in enumerate(lines) if text in line]
    return n


def test_what_does_not_decompose_is_listed_with_its_source_line() -> None:
    h, w = Dim("h", min=8, max=64), Dim("w", min=8)
    with pytest.raises(UnsupportedOpsError) as info:
        xjit.from_torch(StillRefused(), _images(2, 2, 10, 12), dynamic_shapes=({2: h, 3: w},))
    text = str(info.value)
    for op, why, line in (
        ("aten.convolution.default", "transposed with a stride > 1 over a spatial", "y = self"),
        ("aten._adaptive_avg_pool2d.default", "an output size other than 1", "z = self"),
        ("aten.arange.start_step", "a step other than 1", "return y, z, torch.arange"),
    ):
        assert op in text and why in text, text
        assert f"test_import_dynamic.py:{_line_of(line)}" in text, text
