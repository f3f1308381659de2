"""`xjit.nn.functional`: the registry's ops under their torch.nn.functional names."""

from __future__ import annotations

import math
from typing import Any

from xjit import _creation
from xjit._dispatch import call
from xjit._tensor import Tensor
from xjit.nn.adaptive_pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
)
from xjit.nn.bilinear import bilinear  # noqa: F401
from xjit.nn.conv_functional import (  # noqa: F401  (torch.nn.functional's conv-net functions)
    _refuse,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    avg_pool2d,
    avg_pool3d,
    batch_norm,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from xjit.nn.conv_functional import pad as _pad
from xjit.nn.distance import cosine_similarity, pairwise_distance  # noqa: F401
from xjit.nn.embedding_bag import embedding_bag  # noqa: F401
from xjit.nn.grid_sample import affine_grid, grid_sample  # noqa: F401
from xjit.nn.loss_functional import (  # noqa: F401  (torch.nn.functional's losses)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from xjit.nn.normalize import normalize, softmin  # noqa: F401
from xjit.nn.norms import group_norm, instance_norm, rms_norm  # noqa: F401
from xjit.nn.pooling1d import avg_pool1d  # noqa: F401
from xjit.nn.script_marks import script_as as _script_as
from xjit.nn.upsampling import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401
from xjit.nn.vision import channel_shuffle, fold, local_response_norm, unfold  # noqa: F401
from xjit.ops import types


def _gelu_op(input: Any, approximate: str = "none") -> tuple[str, list[Any]]:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, not {approximate!r}")
    return "gelu", [input, approximate]


def _inplace(input: Any, result: Any, inplace: bool) -> Any:
    """torch's `inplace=True`: the input tensor itself takes the result, so its aliases see it
    (eager); a trace records the op and rebinds the tensor where no alias could miss that."""
    return input._assign("inplace=True", result) if inplace else result


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    return call("linear", input, weight, bias)


def relu(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("relu", input), inplace)


def tanh(input: Any) -> Any:
    return call("tanh", input)


def sigmoid(input: Any) -> Any:
    return call("sigmoid", input)


@_script_as(_gelu_op)
def gelu(input: Any, approximate: str = "none") -> Any:
    name, args = _gelu_op(input, approximate)
    return call(name, *args)


def softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    return call("softmax", input, dim, dtype)


def log_softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    return call("log_softmax", input, dim, dtype)


def layer_norm(
    input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    ns = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    return call("layer_norm", input, ns, weight, bias, float(eps))


@_script_as(lambda input, p=0.5, training=True, inplace=False: ("dropout", [input, p, training]))
def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    return call("dropout", input, float(p), training)


def _embedding_op(
    input: Any,
    weight: Any,
    padding_idx: int | None = None,
    max_norm: Any = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> tuple[str, list[Any]]:
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) is not supported")
    # padding_idx only changes gradients: the forward is a row gather either way.
    pad = (
        padding_idx % weight.shape[0]
        if isinstance(padding_idx, int) and padding_idx < 0
        else padding_idx
    )
    return "embedding", [weight, input, pad if isinstance(pad, int) else -1]


@_script_as(_embedding_op)
def embedding(
    input: Any,
    weight: Any,
    padding_idx: int | None = None,
    max_norm: Any = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Any:
    name, args = _embedding_op(
        input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse
    )
    return call(name, *args)


# -- activations of issue 12 (registry entries in xjit/ops/composite_ops.py) --------------------
def silu(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("silu", input), inplace)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    return _inplace(input, call("leaky_relu", input, negative_slope), inplace)


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    return _inplace(input, call("elu", input, alpha), inplace)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:
    return _inplace(input, call("hardtanh", input, min_val, max_val), inplace)


@_script_as(
    lambda input, inplace=False: (
        ("hardtanh", [input, 0.0, 6.0])
        if inplace is False
        else _refuse("F.relu6(..., inplace=True) in scripted code: write x = F.relu6(x)")
    )
)
def relu6(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("hardtanh", input, 0.0, 6.0), inplace)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    return call("softplus", input, beta, threshold)


def mish(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("mish", input), inplace)


def selu(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("selu", input), inplace)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    return _inplace(input, call("celu", input, alpha), inplace)


def hardswish(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("hardswish", input), inplace)


def hardsigmoid(input: Any, inplace: bool = False) -> Any:
    return _inplace(input, call("hardsigmoid", input), inplace)


def softsign(input: Any) -> Any:
    return call("softsign", input)


@_script_as(lambda input: ("log_sigmoid", [input]))
def logsigmoid(input: Any) -> Any:
    return call("log_sigmoid", input)


def tanhshrink(input: Any) -> Any:
    return call("tanhshrink", input)


def threshold(input: Any, threshold: float, value: float, inplace: bool = False) -> Any:
    return _inplace(input, call("threshold", input, threshold, value), inplace)


def hardshrink(input: Any, lambd: float = 0.5) -> Any:
    return call("hardshrink", input, lambd)


def softshrink(input: Any, lambd: float = 0.5) -> Any:
    return call("softshrink", input, lambd)


def glu(input: Any, dim: int = -1) -> Any:
    return call("glu", input, dim)


def prelu(input: Any, weight: Any) -> Any:
    return call("prelu", input, weight)


# -- attention (Python over registry ops; nn.MultiheadAttention is in xjit/nn/transformer.py) --
def _causal_mask(tgt_len: int, src_len: int, dtype: Any) -> Tensor:
    """-inf above the diagonal: position i attends to positions <= i."""
    return call("triu", _creation.full((tgt_len, src_len), float("-inf"), dtype=dtype), 1)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the last two dims; a bool `attn_mask` is True where
    attending is allowed (the opposite of MultiheadAttention's masks), as torch. A query whose
    every key is masked gets 0, as torch's."""
    if dropout_p != 0.0:
        raise NotImplementedError(
            "scaled_dot_product_attention: dropout_p > 0 drops weights even in eval mode "
            "(xjit is inference only: pass dropout_p=0.0)"
        )
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported")
    tgt_len, src_len = query.size(-2), key.size(-2)
    factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    scores = call("matmul", query, key.transpose(-2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        scores = scores + _causal_mask(tgt_len, src_len, scores.dtype)
    elif attn_mask is not None:
        if attn_mask.dtype == types.bool_:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    attn = softmax(scores, -1) if attn_mask is None else _safe_softmax(scores)
    return call("matmul", attn, value)


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dim, but 0 (not NaN) along a row masked entirely (all -inf), as
    torch's scaled_dot_product_attention gives since torch 2.5."""
    masked_row = scores.amax(-1, keepdim=True).eq(float("-inf"))
    return softmax(scores, -1).masked_fill(masked_row, 0.0)


pad = _pad  # after embedding's local `pad`, which would shadow the import


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    return call("one_hot", tensor, num_classes)
