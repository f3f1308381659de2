"""`xjit.nn`: modules and layers."""

from xjit.nn import functional
from xjit.nn.layers import Linear, ReLU, Sigmoid, Tanh
from xjit.nn.module import Module, Parameter

__all__ = ["Linear", "Module", "Parameter", "ReLU", "Sigmoid", "Tanh", "functional"]
