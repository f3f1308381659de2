"""`torch.nn.utils.rnn`: `pad_sequence`, and `PackedSequence` with `pack_padded_sequence`,
`pad_packed_sequence` and `pack_sequence`, which `nn.RNN`/`LSTM`/`GRU` accept in eager mode.

A PackedSequence holds the time steps of sequences sorted by decreasing length, each step's
active sequences only (`batch_sizes[t]` of them), as torch lays it out. The lengths it encodes
are values, not shapes: a trace or a script of a recurrent layer refuses a packed input
(padding the batch and selecting each sequence's last state by its length is the traceable
alternative)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from xjit._dispatch import call
from xjit._tensor import Tensor
from xjit.nn.conv_functional import pad


class PackedSequence(NamedTuple):
    """torch's PackedSequence fields: `data` [sum of lengths, *], `batch_sizes` (int64, one
    per time step), and the permutation to and from length order (None when the input was
    already sorted)."""

    data: Any
    batch_sizes: Any
    sorted_indices: Any = None
    unsorted_indices: Any = None

    def lengths(self) -> list[int]:
        """Each sequence's length, in sorted (decreasing-length) order."""
        sizes = [int(b) for b in self.batch_sizes.numpy()]
        n = sizes[0] if sizes else 0
        return [sum(1 for b in sizes if b > i) for i in range(n)]

    @property
    def is_cuda(self) -> bool:
        return False

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))


def _long(values: Sequence[int]) -> Tensor:
    return Tensor(np.asarray(list(values), dtype=np.int64))


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


def pack_padded_sequence(
    input: Any, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Packs a padded batch [T, B, *] ([B, T, *] with `batch_first`) of sequences of
    `lengths` (a list or a 1-D tensor), as torch's."""
    sizes = [int(v) for v in (lengths.numpy() if isinstance(lengths, Tensor) else lengths)]
    if any(v <= 0 for v in sizes):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if len(sizes) != input.shape[1 if not batch_first else 0]:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(sizes)} "
            f"(batch_size={input.shape[0 if batch_first else 1]})"
        )
    x = input.transpose(0, 1) if batch_first else input
    if max(sizes) > x.shape[0]:
        raise RuntimeError(
            f"pack_padded_sequence: a length {max(sizes)} exceeds the padded length {x.shape[0]}"
        )
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(sizes, sizes[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    else:
        order = sorted(range(len(sizes)), key=lambda i: -sizes[i])  # stable, as torch's sort
        sorted_indices = _long(order)
        unsorted_indices = _long(np.argsort(order))
        x = x.index_select(1, sorted_indices)
        sizes = [sizes[i] for i in order]
    batch_sizes = [sum(1 for v in sizes if v > t) for t in range(sizes[0])]
    data = call("cat", [x[t, :b] for t, b in enumerate(batch_sizes)], 0)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Any, Any]:
    """The inverse of `pack_padded_sequence`: (padded batch, lengths as int64), in the
    original batch order."""
    sizes = [int(b) for b in sequence.batch_sizes.numpy()]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    padded = time_major(sequence, steps, padding_value)
    lengths = _long(sequence.lengths())
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices)
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def time_major(sequence: PackedSequence, steps: int, padding_value: float) -> Any:
    """[steps, B, *] in sorted order, each step's inactive sequences `padding_value`."""
    sizes = [int(b) for b in sequence.batch_sizes.numpy()]
    batch, data, rows, at = sizes[0], sequence.data, [], 0
    feature_pad = [0, 0] * (data.dim() - 1)
    for t in range(steps):
        b = sizes[t] if t < len(sizes) else 0
        step = data[at : at + b]
        at += b
        rows.append(pad(step, [*feature_pad, 0, batch - b], value=padding_value))
    return call("stack", rows, 0)


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Packs tensors [L_i, *] (`enforce_sorted`: in decreasing length order)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Any]:
    """The tensors [L_i, *] a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, : int(n)] for i, n in enumerate(lengths.numpy())]
