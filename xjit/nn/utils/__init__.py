"""`torch.nn.utils`: the helpers model code calls outside training (`rnn.pad_sequence`,
`parameters_to_vector`). Gradient clipping and weight/spectral norm need autograd: absent."""

from xjit.nn.utils import rnn
from xjit.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "rnn", "vector_to_parameters"]
