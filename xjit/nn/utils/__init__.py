"""`torch.nn.utils`: the helpers model code calls (`rnn.pad_sequence` and packed sequences,
`parameters_to_vector`, `weight_norm`/`spectral_norm` in eager mode). xjit has no autograd:
`clip_grad_norm_`/`clip_grad_value_` find no gradients to clip, as torch for parameters
without them."""

from xjit.nn.utils import rnn
from xjit.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from xjit.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from xjit.nn.utils.weight_norms import (
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "spectral_norm",
    "vector_to_parameters",
    "weight_norm",
]
