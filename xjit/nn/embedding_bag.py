"""`nn.EmbeddingBag` / `F.embedding_bag` (modes sum, mean, max; `offsets`,
`include_last_offset`, `per_sample_weights`, `padding_idx`).

A bag is a run of the flattened indices; which bag an index belongs to is a [bags, indices]
mask computed from `offsets` by comparisons, so the reductions are a matmul (sum, mean) and a
masked `amax` (max): registry ops, traced like any other code, with no Python loop over
offset values (a trace would have frozen them). Empty bags give zeros, as torch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit import _creation, _dispatch
from xjit.nn.module import Module, Parameter, factory_kwargs

_MODES = ("sum", "mean", "max")


def _check_values(input: Any, offsets: Any | None, n_emb: int) -> None:
    """torch's checks on index and offset values; eager only (a trace must not read values)."""
    if _dispatch.current_recorder() is not None:
        return
    idx = input.numpy()
    if idx.size and (idx.min() < 0 or idx.max() >= n_emb):
        raise IndexError(
            f"embedding_bag: index out of range in self (indices must be in [0, {n_emb}))"
        )
    if offsets is None:
        return
    off = offsets.numpy()
    if off.size and off[0] != 0:
        raise ValueError(
            f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {int(off[0])}"
        )
    if np.any(np.diff(off) < 0) or (off.size and off[-1] > idx.size):
        raise ValueError(
            f"embedding_bag: offsets must be non-decreasing and at most input.size(0) "
            f"({idx.size}), got {off.tolist()}"
        )


def embedding_bag(
    input: Any,
    weight: Any,
    offsets: Any = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Any = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Any:
    """`F.embedding_bag`: per bag, the sum / mean / max of the rows of `weight` its indices pick
    (rows equal to `padding_idx` left out, and out of the mean's count)."""
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None:
        raise NotImplementedError(
            "embedding_bag(max_norm=...) renormalises weight in place: not supported"
        )
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "the Pytorch GitHub."
        )
    if per_sample_weights is not None and list(per_sample_weights.shape) != list(input.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not "
            f"None, then it must have the same shape as the input ({list(input.shape)})"
        )
    n_emb = weight.shape[0]
    if padding_idx is not None:
        if not -n_emb <= padding_idx < n_emb:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx %= n_emb
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                f"if input is 2D, then offsets has to be None, as input is treated is a "
                f"mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets).__name__}"
            )
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}"
        )
    if input.dtype.is_floating_point or (offsets is not None and offsets.dtype.is_floating_point):
        raise TypeError("embedding_bag: input and offsets must be integer tensors")
    if input.dim() == 2:
        _check_values(input.reshape(-1), None, n_emb)
        member = (input != padding_idx) if padding_idx is not None else input >= 0
        return _reduce(rows_of(weight, input), member, mode, per_sample_weights)
    _check_values(input, offsets, n_emb)
    member = _bag_members(input, offsets, include_last_offset)
    if padding_idx is not None:
        member = member & (input != padding_idx).unsqueeze(0)
    rows = rows_of(weight, input)  # [N, D]
    if mode == "max":  # [B, N, D] masked: the bags' rows are not contiguous blocks
        return _reduce(rows.unsqueeze(0), member, mode, None)
    m = member.to(weight.dtype)
    if per_sample_weights is not None:
        m = m * per_sample_weights.to(weight.dtype).unsqueeze(0)
    out = m.matmul(rows)  # [B, N] @ [N, D]
    if mode == "mean":
        out = out / member.sum(1).to(weight.dtype).clamp(min=1.0).unsqueeze(1)
    return out


def rows_of(weight: Any, input: Any) -> Any:
    """weight's rows picked by input, shaped [*input.shape, D]."""
    return _dispatch.call("embedding", weight, input)


def _bag_members(input: Any, offsets: Any, include_last: bool) -> Any:
    """[B, N] bool: index j is in bag b. Bag b runs from offsets[b] to the next offset (the last
    bag to the end, or with include_last_offset to offsets[-1]); positions come from a cumsum
    over the input, and the end of the last bag is the largest int64, so no size is read here
    (a trace keeps them symbolic)."""
    offsets = offsets.long()
    if include_last:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        end = _dispatch.call("full_like", offsets[:1], 2**63 - 1)
        starts, ends = offsets, _dispatch.call("cat", [offsets[1:], end], 0)
    pos = (input.long() * 0 + 1).cumsum(0) - 1  # [N]: 0, 1, ..
    pos = pos.unsqueeze(0)
    return (pos >= starts.unsqueeze(1)) & (pos < ends.unsqueeze(1))


def _reduce(rows: Any, member: Any, mode: str, per_sample_weights: Any) -> Any:
    """rows [B, L, D] (or [1, L, D], shared by all bags), member [B, L] -> [B, D]."""
    keep = member.unsqueeze(2)
    if mode == "max":
        out = rows.masked_fill(~keep, float("-inf")).amax(1)
        return out.masked_fill(~member.any(1).unsqueeze(1), 0.0)  # empty bags: zeros
    m = member.to(rows.dtype)
    if per_sample_weights is not None:
        m = m * per_sample_weights.to(rows.dtype)
    out = (rows * m.unsqueeze(2)).sum(1)
    if mode == "mean":
        out = out / member.sum(1).to(rows.dtype).clamp(min=1.0).unsqueeze(1)
    return out


class EmbeddingBag(Module):
    """Bags of embeddings reduced by sum, mean or max (weight ~ N(0, 1), as torch)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Any = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if max_norm is not None:
            raise NotImplementedError("EmbeddingBag(max_norm=...) is not supported")
        if mode not in _MODES:
            raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            w = _creation.generator().standard_normal((num_embeddings, embedding_dim))
            w = w.astype("float32")
            if padding_idx is not None:
                w[padding_idx] = 0
        else:
            w = np.asarray(_weight.numpy() if hasattr(_weight, "numpy") else _weight)
            if w.shape != (num_embeddings, embedding_dim):
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim"
                )
        self.weight = Parameter(w)
        factory_kwargs(self, device, dtype)

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
        )

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Any = None) -> Any:
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
