"""`xjit.from_torch` on the word-level Transformer language model of
tests/models/test_model_transformer.py (the same source, built with real PyTorch): torch.export
decomposes nn.TransformerEncoder's attention, and the import must give PyTorch's numbers."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch
from test_from_torch import _check_model

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from test_model_transformer import word_lm  # noqa: E402


def test_word_language_model_from_torch(tmp_path: Path) -> None:
    torch.manual_seed(16)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        # is_causal=True: torch.export cannot trace torch's check that the mask is causal
        # (a data-dependent guard in _detect_is_causal_mask)
        model = word_lm(torch, causal_hint=True)()
    sets = [(torch.randint(0, 17, (7, 3)),), (torch.randint(0, 17, (7, 3)),)]
    m = _check_model(model, sets, tmp_path)
    assert "torch.aten.softmax" in m.graph or "torch.aten._softmax" in m.graph
