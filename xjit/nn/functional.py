"""`xjit.nn.functional`: the registry's ops under their torch.nn.functional names."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    return call("linear", input, weight, bias)


def relu(input: Any) -> Any:
    return call("relu", input)


def tanh(input: Any) -> Any:
    return call("tanh", input)


def sigmoid(input: Any) -> Any:
    return call("sigmoid", input)
