"""The forwards `xjit.jit.script` compiles for xjit.nn's attention and transformer modules
(xjit/nn/transformer.py), in the scriptable subset: the eager forwards check arguments in Python
and model torch's fused fast paths (taken only with autograd off), which compiled code cannot
decide. These read the same module attributes and parameters (torch's names) and compute torch's
ordinary path, as `torch.jit.script` of torch.nn's modules computes it with autograd on.

Written in the TorchScript language: Optional masks refined by `is None`, bool masks applied as
`-inf`, float masks added, `is_causal` hints, batch_first and unbatched inputs. Ranks are
run-time values (`query.dim() == 3`, so the graph is generic and saves); a mask's dtype is known
while compiling (a graph per mask dtype); `need_weights` and `average_attn_weights` are
compiled per value (`per_value`: they decide the result's structure). torch's argument checks
(ranks, mask shapes) raise at run time with torch's messages. Not for eager use.
"""

from __future__ import annotations

import math

import xjit as torch
from xjit._tensor import Tensor
from xjit.nn import functional as F
from xjit.nn.script_marks import per_value


@per_value("need_weights", "average_attn_weights")
def mha_forward(
    self,  # noqa: ANN001
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """nn.MultiheadAttention: (attn_output, attn_weights or None); torch's
    F.multi_head_attention_forward on sequence-first inputs, dropout the identity in eval."""
    rank = query.dim()
    if rank != 3 and rank != 2:
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {rank}-D query tensor"
        )
    if key.dim() != rank or value.dim() != rank:
        raise AssertionError(
            f"For {rank}-D `query`, expected `key` and `value` to be {rank}-D but found "
            f"{key.dim()}-D and {value.dim()}-D tensors respectively"
        )
    if query.size(-1) != self.embed_dim:
        raise AssertionError(
            f"was expecting embedding dimension of {self.embed_dim}, but got {query.size(-1)}"
        )
    batched = rank == 3
    if batched and self.batch_first:
        query = query.transpose(1, 0)
        key = key.transpose(1, 0)
        value = value.transpose(1, 0)
    if not batched:
        query = query.unsqueeze(1)
        key = key.unsqueeze(1)
        value = value.unsqueeze(1)
    tgt_len = query.size(0)
    bsz = query.size(1)
    src_len = key.size(0)
    e = self.embed_dim
    heads = self.num_heads
    head_dim = self.head_dim
    if self._qkv_same_embed_dim:
        w = self.in_proj_weight
        q = F.linear(query, w[0:e], None)
        k = F.linear(key, w[e : 2 * e], None)
        v = F.linear(value, w[2 * e : 3 * e], None)
    else:
        q = F.linear(query, self.q_proj_weight, None)
        k = F.linear(key, self.k_proj_weight, None)
        v = F.linear(value, self.v_proj_weight, None)
    if self.in_proj_bias is not None:
        b = self.in_proj_bias
        q = q + b[0:e]
        k = k + b[e : 2 * e]
        v = v + b[2 * e : 3 * e]
    q = q.reshape(tgt_len, bsz * heads, head_dim).transpose(0, 1)
    k = k.reshape(src_len, bsz * heads, head_dim).transpose(0, 1)
    v = v.reshape(src_len, bsz * heads, head_dim).transpose(0, 1)
    scores = torch.bmm(q * math.sqrt(1.0 / float(head_dim)), k.transpose(1, 2))
    # torch: an is_causal hint without a key padding mask or weights attends causally
    # whatever attn_mask holds; a padding mask or weights use attn_mask as it is
    causal = is_causal and key_padding_mask is None and not need_weights
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if causal:
        ones = torch.ones(tgt_len, src_len, dtype=torch.bool)
        scores = scores.masked_fill(ones.triu(1), float("-inf"))
    elif attn_mask is not None:
        # (size(-2)/size(-1): valid for either rank in the branch not taken)
        if attn_mask.dim() == 2:
            if attn_mask.size(0) != tgt_len or attn_mask.size(-1) != src_len:
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is ({attn_mask.size(0)}, "
                    f"{attn_mask.size(-1)}), but should be ({tgt_len}, {src_len})."
                )
        elif attn_mask.dim() == 3:
            if (
                attn_mask.size(0) != bsz * heads
                or attn_mask.size(-2) != tgt_len
                or attn_mask.size(-1) != src_len
            ):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is ({attn_mask.size(0)}, "
                    f"{attn_mask.size(-2)}, {attn_mask.size(-1)}), but should be "
                    f"({bsz * heads}, {tgt_len}, {src_len})."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    if key_padding_mask is not None:
        # (bsz, src_len), or (src_len) unbatched: a transposed mask must not reshape silently
        if (
            key_padding_mask.dim() != rank - 1
            or key_padding_mask.size(0) != (bsz if batched else src_len)
            or key_padding_mask.size(-1) != src_len
        ):
            raise AssertionError(
                f"expecting key_padding_mask shape of ({bsz}, {src_len}) (batched) or "
                f"({src_len}) (unbatched), but got a {key_padding_mask.dim()}-D mask of "
                f"size(0) {key_padding_mask.size(0)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        scores = scores.reshape(bsz, heads, tgt_len, src_len)
        if key_padding_mask.dtype == torch.bool:
            scores = scores.masked_fill(kpm, float("-inf"))
        else:
            scores = scores + kpm
        scores = scores.reshape(bsz * heads, tgt_len, src_len)
    attn = F.softmax(scores, -1)
    if not need_weights and (attn_mask is not None or key_padding_mask is not None):
        # torch goes through scaled_dot_product_attention: a query whose every key is
        # masked gets 0, where the plain softmax gives NaN
        masked_row = scores.amax(-1, keepdim=True) == float("-inf")
        attn = attn.masked_fill(masked_row, 0.0)
    # (the identity in eval; training mode fails to compile: xjit is inference only)
    attn = F.dropout(attn, self.dropout, self.training)
    out = torch.bmm(attn, v).transpose(0, 1).reshape(tgt_len * bsz, e)
    out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(tgt_len, bsz, e)
    if not batched:
        out = out.squeeze(1)
    elif self.batch_first:
        out = out.transpose(1, 0)
    if not need_weights:
        return out, None
    weights = attn.reshape(bsz, heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights


def encoder_layer_forward(
    self,  # noqa: ANN001
    src: Tensor,
    src_mask: Tensor | None = None,
    src_key_padding_mask: Tensor | None = None,
    is_causal: bool = False,
) -> Tensor:
    """nn.TransformerEncoderLayer: self-attention then feed-forward, each with a residual
    and a LayerNorm (before the block when norm_first)."""
    x = src
    if self.norm_first:
        h = self.norm1(x)
        a = self.self_attn(
            h,
            h,
            h,
            attn_mask=src_mask,
            key_padding_mask=src_key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        x = x + self.dropout1(a)
        h = self.norm2(x)
        x = x + self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(h)))))
    else:
        a = self.self_attn(
            x,
            x,
            x,
            attn_mask=src_mask,
            key_padding_mask=src_key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        x = self.norm1(x + self.dropout1(a))
        f = self.linear2(self.dropout(self.activation(self.linear1(x))))
        x = self.norm2(x + self.dropout2(f))
    return x


def decoder_layer_forward(
    self,  # noqa: ANN001
    tgt: Tensor,
    memory: Tensor,
    tgt_mask: Tensor | None = None,
    memory_mask: Tensor | None = None,
    tgt_key_padding_mask: Tensor | None = None,
    memory_key_padding_mask: Tensor | None = None,
    tgt_is_causal: bool = False,
    memory_is_causal: bool = False,
) -> Tensor:
    """nn.TransformerDecoderLayer: self-attention, attention over `memory`, feed-forward."""
    x = tgt
    if self.norm_first:
        h = self.norm1(x)
        a = self.self_attn(
            h,
            h,
            h,
            attn_mask=tgt_mask,
            key_padding_mask=tgt_key_padding_mask,
            is_causal=tgt_is_causal,
            need_weights=False,
        )[0]
        x = x + self.dropout1(a)
        m = self.multihead_attn(
            self.norm2(x),
            memory,
            memory,
            attn_mask=memory_mask,
            key_padding_mask=memory_key_padding_mask,
            is_causal=memory_is_causal,
            need_weights=False,
        )[0]
        x = x + self.dropout2(m)
        h = self.norm3(x)
        x = x + self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(h)))))
    else:
        a = self.self_attn(
            x,
            x,
            x,
            attn_mask=tgt_mask,
            key_padding_mask=tgt_key_padding_mask,
            is_causal=tgt_is_causal,
            need_weights=False,
        )[0]
        x = self.norm1(x + self.dropout1(a))
        m = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=memory_mask,
            key_padding_mask=memory_key_padding_mask,
            is_causal=memory_is_causal,
            need_weights=False,
        )[0]
        x = self.norm2(x + self.dropout2(m))
        f = self.linear2(self.dropout(self.activation(self.linear1(x))))
        x = self.norm3(x + self.dropout3(f))
    return x


def encoder_forward(
    self,  # noqa: ANN001
    src: Tensor,
    mask: Tensor | None = None,
    src_key_padding_mask: Tensor | None = None,
    is_causal: bool | None = None,
) -> Tensor:
    """nn.TransformerEncoder: the layers in turn, then `norm` if given. torch's causal-mask
    detection (is_causal None) only confirms a mask that is already causal: the numbers are
    the mask's, so the layers get is_causal=False then."""
    causal = False
    if is_causal is not None:
        causal = is_causal
    output = src
    for mod in self.layers:
        output = mod(
            output, src_mask=mask, is_causal=causal, src_key_padding_mask=src_key_padding_mask
        )
    if self.norm is not None:
        output = self.norm(output)
    return output


def decoder_forward(
    self,  # noqa: ANN001
    tgt: Tensor,
    memory: Tensor,
    tgt_mask: Tensor | None = None,
    memory_mask: Tensor | None = None,
    tgt_key_padding_mask: Tensor | None = None,
    memory_key_padding_mask: Tensor | None = None,
    tgt_is_causal: bool | None = None,
    memory_is_causal: bool = False,
) -> Tensor:
    """nn.TransformerDecoder: the layers in turn, then `norm` if given."""
    causal = False
    if tgt_is_causal is not None:
        causal = tgt_is_causal
    output = tgt
    for mod in self.layers:
        output = mod(
            output,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=causal,
            memory_is_causal=memory_is_causal,
        )
    if self.norm is not None:
        output = self.norm(output)
    return output


def transformer_forward(
    self,  # noqa: ANN001
    src: Tensor,
    tgt: Tensor,
    src_mask: Tensor | None = None,
    tgt_mask: Tensor | None = None,
    memory_mask: Tensor | None = None,
    src_key_padding_mask: Tensor | None = None,
    tgt_key_padding_mask: Tensor | None = None,
    memory_key_padding_mask: Tensor | None = None,
    src_is_causal: bool | None = None,
    tgt_is_causal: bool | None = None,
    memory_is_causal: bool = False,
) -> Tensor:
    """nn.Transformer: the encoder over `src`, the decoder over `tgt` and its memory."""
    batched = src.dim() == 3
    if not self.batch_first and src.size(1) != tgt.size(1) and batched:
        raise RuntimeError("the batch number of src and tgt must be equal")
    if self.batch_first and src.size(0) != tgt.size(0) and batched:
        raise RuntimeError("the batch number of src and tgt must be equal")
    if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
        raise RuntimeError("the feature number of src and tgt must be equal to d_model")
    memory = self.encoder(
        src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
    )
    return self.decoder(
        tgt,
        memory,
        tgt_mask=tgt_mask,
        memory_mask=memory_mask,
        tgt_key_padding_mask=tgt_key_padding_mask,
        memory_key_padding_mask=memory_key_padding_mask,
        tgt_is_causal=tgt_is_causal,
        memory_is_causal=memory_is_causal,
    )


SCRIPTED_FORWARD = {
    "MultiheadAttention": mha_forward,
    "TransformerEncoderLayer": encoder_layer_forward,
    "TransformerDecoderLayer": decoder_layer_forward,
    "TransformerEncoder": encoder_forward,
    "TransformerDecoder": decoder_forward,
    "Transformer": transformer_forward,
}
