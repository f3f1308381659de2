"""`torch.nn.utils.rnn.pad_sequence`: variable-length sequences padded into one batch.
(`pack_padded_sequence` and `PackedSequence` are not provided: xjit's recurrent layers take
padded batches.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xjit._dispatch import call
from xjit.nn.conv_functional import pad


def pad_sequence(
    sequences: Sequence[Any],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Any:
    """Stack tensors of shape [L_i, *] into [max L, B, *] ([B, max L, *] with `batch_first`),
    padding each at its end (`padding_side="left"`: at its start) with `padding_value`."""
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if len(sequences) == 0:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.size(0) for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.size(0)
        side = [0, extra] if padding_side == "right" else [extra, 0]
        padded.append(pad(s, [0, 0] * (s.dim() - 1) + side, value=padding_value))
    return call("stack", padded, 0 if batch_first else 1)
