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


def gelu(input: Any, approximate: str = "none") -> Any:
    if approximate != "none":
        raise NotImplementedError(f"gelu(approximate={approximate!r}): only 'none' is supported")
    return call("gelu", input)


def softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    return call("softmax", input, dim, dtype)


def log_softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    return call("log_softmax", input, dim, dtype)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
    ns = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    return call("layer_norm", input, ns, weight, bias, float(eps))


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if training and p > 0:
        raise NotImplementedError(
            "dropout in training mode is not supported (xjit is inference only): call .eval()"
        )
    return input


def embedding(input: Any, weight: Any) -> Any:
    raise NotImplementedError("embedding is not supported yet (no gather op in the registry)")
