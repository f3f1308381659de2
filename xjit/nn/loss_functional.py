"""torch.nn.functional's regression and binary losses, written as torch defines them over
registry ops (so tracing records their ops): `mse_loss`, `l1_loss`, `smooth_l1_loss`,
`huber_loss`, `binary_cross_entropy(_with_logits)`, `kl_div`, and `cross_entropy` with class
probabilities or label smoothing. For evaluation: xjit has no autograd.

Written in the TorchScript language (typed parameters, `x.where`), so that `xjit.jit.script`
of a loss module compiles these very functions: `reduction` is a str, compiled per value."""

from __future__ import annotations

from typing import Any

from xjit import _creation
from xjit._dispatch import call
from xjit._tensor import Tensor
from xjit.nn.script_marks import script_as


def _reduce(loss: Tensor, reduction: str, weight: Tensor | None = None) -> Tensor:
    """torch's `reduction=` of the elementwise loss (times `weight`, if given): itself, its
    mean, or its sum."""
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_legacy(name: str, size_average: bool | None, reduce_: bool | None) -> bool:
    """Refuses torch's deprecated `size_average`/`reduce` (True otherwise: a scripted function
    returns a value)."""
    if size_average is not None or reduce_ is not None:
        raise NotImplementedError(f"{name}: size_average/reduce are deprecated; use reduction=")
    return True


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    _check_legacy("mse_loss", size_average, reduce)
    d = input - target
    loss = d * d
    return _reduce(loss, reduction, weight)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    _check_legacy("l1_loss", size_average, reduce)
    loss = (input - target).abs()
    return _reduce(loss, reduction, weight)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d²/β where |d| < β, else |d| − β/2 (l1_loss for β = 0, as torch)."""
    _check_legacy("smooth_l1_loss", size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0.0:
        return _reduce(d, reduction)
    loss = (d * d * (0.5 / beta)).where(d < beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 d² where |d| ≤ δ, else δ (|d| − δ/2)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    loss = (d * d * 0.5).where(d <= delta, (d - 0.5 * delta) * delta)
    return _reduce(loss, reduction, weight)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """−(t log x + (1 − t) log(1 − x)), each log clamped at −100 as torch does."""
    _check_legacy("binary_cross_entropy", size_average, reduce)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    log_x = input.log().clamp_min(-100.0)
    log_1mx = (1 - input).log().clamp_min(-100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    return _reduce(loss, reduction, weight)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """(1 − t) x + w_t (log(1 + e^−|x|) + max(−x, 0)), w_t = 1 + (pos_weight − 1) t: torch's
    overflow-free form."""
    _check_legacy("binary_cross_entropy_with_logits", size_average, reduce)
    if target.size() != input.size():
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})"
        )
    softplus_neg = (-input.abs()).exp().log1p() + (-input).clamp_min(0.0)
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    return _reduce(loss, reduction, weight)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """target · (log target − input), 0 where target is 0; `reduction='batchmean'` divides the
    sum by the batch size (torch's 'mean' averages every element)."""
    _check_legacy("kl_div", size_average, reduce)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        safe_log = target.where(target > 0, 1.0).log()
        loss = (target * (safe_log - input)).where(target > 0, 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.size(0) if input.dim() != 0 else 1)
    return _reduce(loss, reduction)


def soft_cross_entropy(
    logp: Tensor, target: Tensor, weight: Tensor | None, reduction: str, label_smoothing: float
) -> Tensor:
    """cross_entropy with class probabilities as `target` (the same shape as the input)."""
    n_classes = logp.size(1)
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:  # (classes last, to broadcast against the weights)
        loss = -(prod.movedim(1, -1) * weight).sum(-1)
    else:
        loss = -prod.sum(1)
    if reduction == "mean":
        return loss.sum() / (logp.numel() // n_classes) if logp.dim() > 1 else loss.sum()
    return _reduce(loss, reduction)


_REDUCTION = {"none": 0, "mean": 1, "sum": 2}  # torch's Reduction enum, as aten::nll_loss takes it


def _reduction_code(reduction: str) -> int:
    if reduction not in _REDUCTION:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTION[reduction]


def _nll_op(input: Any, target: Any, ignore_index: int, reduction: str) -> tuple[str, list[Any]]:
    return "nll_loss", [input, target, None, _reduction_code(reduction), ignore_index]


@script_as(_nll_op)
def _nll(input: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor:
    """aten::nll_loss without class weights (a registry op: (N, C) inputs)."""
    name, args = _nll_op(input, target, ignore_index, reduction)
    return call(name, *args)


def _target_weights(logp: Tensor, target: Tensor, weight: Tensor, ignore_index: int) -> Tensor:
    """Each (N, C) row's target-class weight, 0 where ignored (or out of range: aten::nll_loss
    raises on that eagerly and gives NaN compiled)."""
    hit = target.unsqueeze(1) == _creation.arange(logp.size(1))
    w = weight.where(hit, 0.0).sum(1)
    return w.where(target != ignore_index, 0.0)


def _weighted_mean(
    loss: Tensor, logp: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int
) -> Tensor:
    """torch's mean of a class-index loss: the rows' losses summed over the sum of the non-ignored
    targets' class weights (their count without weights)."""
    if weight is None:
        return loss.sum() / (target != ignore_index).sum()
    return loss.sum() / _target_weights(logp, target, weight, ignore_index).sum()


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """−input[n, target[n]] (times the target class's weight), torch's (N, C) nll_loss; a
    weighted mean divides by the sum of the non-ignored targets' weights, as torch."""
    _check_legacy("nll_loss", size_average, reduce)
    if weight is None:
        return _nll(input, target, ignore_index, reduction)
    w = _target_weights(input, target, weight, ignore_index)
    loss = _nll(input, target, ignore_index, "none") * w
    if reduction == "mean":
        return _weighted_mean(loss, input, target, weight, ignore_index)
    return _reduce(loss, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the class dim, then nll_loss (class-index targets) or the weighted sum
    against class probabilities (a floating target of the input's shape); label smoothing as
    torch's."""
    if label_smoothing < 0.0 or label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    logp = input.log_softmax(1 if input.dim() > 1 else 0)
    if target.is_floating_point():
        _check_legacy("cross_entropy", size_average, reduce)
        return soft_cross_entropy(logp, target, weight, reduction, label_smoothing)
    nll = nll_loss(logp, target, weight, size_average, ignore_index, reduce, reduction)
    if label_smoothing == 0.0:
        return nll
    return _smoothed_cross_entropy(
        logp, target, nll, weight, ignore_index, reduction, label_smoothing
    )


def _smoothed_cross_entropy(
    logp: Tensor,
    target: Tensor,
    nll: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """(1 − ε) · nll + ε/C · Σ_c −w_c log p_c over the non-ignored targets, torch's label
    smoothing for class-index targets (a weighted mean divides by the targets' weights)."""
    n_classes = logp.size(1)
    keep = target != ignore_index
    if weight is None:
        smooth = -logp.sum(1)
    else:
        smooth = -(logp * weight).sum(1)
    smooth = smooth.where(keep, 0.0)
    if reduction == "mean":
        smooth = _weighted_mean(smooth, logp, target, weight, ignore_index)
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
