"""torch.nn breadth, second round: 3-D conv nets (Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d,
AdaptiveAvgPool3d, BatchNorm3d), EmbeddingBag, Bilinear, LocalResponseNorm, Unfold/Fold,
ChannelShuffle, Softmax2d. Each module gets torch's weights through state_dict and must match
torch 2.13 in eager and traced mode (and scripted where xjit scripts it), with torch's repr and
state_dict keys; default initialisation has torch's shapes, dtypes and bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, check, rand

import xjit


def _same_module(make, *inputs, script: bool = False, trace: bool = True) -> None:
    tm = make(pt).eval()
    with pt.no_grad():  # non-trivial batch-norm statistics and parameters
        for _name, b in tm.named_buffers():
            if b.is_floating_point():
                b.copy_(pt.rand(b.shape, generator=pt.Generator().manual_seed(2)) + 0.5)
    xm = make(xjit).eval()
    assert repr(xm) == repr(tm)
    assert list(xm.state_dict()) == list(tm.state_dict())
    xm.load_state_dict(
        {k: xjit.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )
    want = tm(*[pt.from_numpy(a.copy()) for a in inputs])
    xs = [xjit.from_numpy(a.copy()) for a in inputs]
    assert_same(xm(*xs), want, "eager")
    if trace:
        assert_same(xjit.jit.trace(xm, tuple(xs))(*xs), want, "traced")
    if script:
        assert_same(xjit.jit.script(xm)(*xs), want, "scripted")


X5 = rand(2, 4, 6, 7, 5)

MODULES_3D = [
    ("Conv3d", lambda T: T.nn.Conv3d(4, 6, 3), X5),
    (
        "Conv3d-strided-grouped",
        lambda T: T.nn.Conv3d(4, 6, (2, 3, 1), (2, 1, 1), (1, 0, 1), (1, 2, 1), groups=2),
        X5,
    ),
    ("Conv3d-same-nobias", lambda T: T.nn.Conv3d(4, 2, 2, padding="same", bias=False), X5),
    ("Conv3d-unbatched", lambda T: T.nn.Conv3d(4, 3, 2), X5[0]),
    ("ConvTranspose3d", lambda T: T.nn.ConvTranspose3d(4, 3, (2, 3, 2), stride=(2, 1, 2)), X5),
    (
        "ConvTranspose3d-grouped",
        lambda T: T.nn.ConvTranspose3d(4, 6, 2, 2, 1, output_padding=1, groups=2),
        X5,
    ),
    ("MaxPool3d", lambda T: T.nn.MaxPool3d(2), X5),
    (
        "MaxPool3d-padded-ceil",
        lambda T: T.nn.MaxPool3d(
            (3, 2, 2), (2, 1, 2), padding=1, dilation=(1, 2, 1), ceil_mode=True
        ),
        X5,
    ),
    ("AvgPool3d", lambda T: T.nn.AvgPool3d(2), X5),
    (
        "AvgPool3d-padded-ceil-exclusive",
        lambda T: T.nn.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        X5,
    ),
    ("AvgPool3d-divisor", lambda T: T.nn.AvgPool3d((2, 3, 2), divisor_override=5), X5),
    ("AdaptiveAvgPool3d", lambda T: T.nn.AdaptiveAvgPool3d((3, 4, 2)), X5),
    ("AdaptiveAvgPool3d-divides", lambda T: T.nn.AdaptiveAvgPool3d((3, 7, 1)), X5),
    ("AdaptiveAvgPool3d-None", lambda T: T.nn.AdaptiveAvgPool3d((None, 2, 4)), X5),
    ("AdaptiveAvgPool3d-1", lambda T: T.nn.AdaptiveAvgPool3d(1), X5),
    ("BatchNorm3d", lambda T: T.nn.BatchNorm3d(4), X5),
]


@pytest.mark.parametrize("make,x", [m[1:] for m in MODULES_3D], ids=[m[0] for m in MODULES_3D])
def test_3d_modules_match_torch(make, x) -> None:
    _same_module(make, x)


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.nn.Conv3d(4, 3, 2, stride=2),
        lambda T: T.nn.MaxPool3d(2),
        lambda T: T.nn.AvgPool3d(2),
        lambda T: T.nn.ConvTranspose3d(4, 2, 2, stride=2),
        lambda T: T.nn.AdaptiveAvgPool3d((3, 2, 2)),
    ],
    ids=["conv", "maxpool", "avgpool", "convtranspose", "adaptive"],
)
def test_3d_modules_script(make) -> None:
    _same_module(make, X5, script=True, trace=False)


def test_3d_functionals_match_torch() -> None:
    w = rand(6, 2, 2, 3, 2, seed=1)
    b = rand(6, seed=2)
    check(lambda T, x, w, b: T.nn.functional.conv3d(x, w, b, 1, 1, 1, 2), X5, w, b)
    check(lambda T, x, w: T.nn.functional.conv3d(x, w, None, 2, "valid", 1, 2), X5, w)
    wt = rand(4, 3, 2, 2, 2, seed=3)
    check(lambda T, x, w: T.nn.functional.conv_transpose3d(x, w, None, 2, 1, 1), X5, wt)
    check(lambda T, x: T.nn.functional.max_pool3d(x, 3, 2, 1), X5)
    check(lambda T, x: T.nn.functional.avg_pool3d(x, (1, 2, 3), None, (0, 1, 1)), X5)
    check(lambda T, x: T.nn.functional.adaptive_avg_pool3d(x, (4, 3, 3)), X5)


def test_3d_shape_errors_are_loud() -> None:
    with pytest.raises(Exception, match="to have 4 channels"):
        xjit.nn.Conv3d(4, 3, 2)(xjit.ones(2, 4, 5, 5))  # unbatched: 2 channels
    with pytest.raises(Exception, match="conv3d: expected a 4-D"):
        xjit.nn.functional.conv3d(xjit.ones(4, 5, 5), xjit.ones(3, 4, 2, 2, 2))
    with pytest.raises(ValueError, match="expected 5D input"):
        xjit.nn.BatchNorm3d(4).eval()(xjit.ones(2, 4, 5, 5))
    with pytest.raises(Exception, match="max_pool3d: expected a 4-D or 5-D input"):
        xjit.nn.functional.max_pool3d(xjit.ones(4, 5, 5), 2)


def test_default_init_matches_torch_distribution() -> None:
    """Shapes, dtypes and the uniform bounds of torch's default init (kaiming_uniform(√5))."""
    for make, bound in [
        (lambda T: T.nn.Conv3d(4, 6, (2, 3, 2), groups=2), 1 / math.sqrt(2 * 12)),
        (lambda T: T.nn.ConvTranspose3d(4, 6, 2, groups=2), 1 / math.sqrt(3 * 8)),
        (lambda T: T.nn.Bilinear(5, 3, 4), 1 / math.sqrt(5)),
    ]:
        tm, xm = make(pt), make(xjit)
        for (name, tp), (xname, xp) in zip(
            tm.named_parameters(), xm.named_parameters(), strict=True
        ):
            assert name == xname and tuple(tp.shape) == tuple(xp.shape)
            assert xp.dtype == xjit.float32
            a = xp.numpy()
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.5 * bound, name
    bag = xjit.nn.EmbeddingBag(200, 50, padding_idx=3)
    w = bag.weight.numpy()
    assert w.shape == (200, 50) and w.dtype == np.float32 and not w[3].any()
    assert abs(w.std() - 1) < 0.05  # N(0, 1), as torch's
    bn = xjit.nn.BatchNorm3d(3)
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


# -- EmbeddingBag --------------------------------------------------------------------------------

IDX = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], np.int64)
OFFSETS = np.array([0, 3, 3, 7], np.int64)  # bag 1 is empty


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 5])
def test_embedding_bag_offsets(mode, padding_idx) -> None:
    _same_module(
        lambda T: T.nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx), IDX, OFFSETS
    )


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input(mode) -> None:
    _same_module(lambda T: T.nn.EmbeddingBag(10, 4, mode=mode), IDX.reshape(2, 5))


def test_embedding_bag_include_last_offset_and_weights() -> None:
    offsets = np.array([0, 2, 2, 6, 10], np.int64)
    _same_module(lambda T: T.nn.EmbeddingBag(10, 3, include_last_offset=True), IDX, offsets)
    psw = rand(10, seed=4)
    _same_module(lambda T: T.nn.EmbeddingBag(10, 3, mode="sum"), IDX, OFFSETS, psw)
    w = rand(10, 3, seed=5)
    check(
        lambda T, i, o, w, p: T.nn.functional.embedding_bag(
            i, w, o, mode="sum", per_sample_weights=p, include_last_offset=True
        ),
        IDX,
        offsets,
        w,
        psw,
    )
    check(lambda T, i, w: T.nn.functional.embedding_bag(i, w, mode="max"), IDX.reshape(5, 2), w)
    got = xjit.nn.EmbeddingBag.from_pretrained(xjit.from_numpy(w), mode="sum")
    want = pt.nn.EmbeddingBag.from_pretrained(pt.from_numpy(w), mode="sum")
    assert repr(got) == repr(want)
    assert_same(got(xjit.from_numpy(IDX.reshape(2, 5))), want(pt.from_numpy(IDX.reshape(2, 5))))


def test_embedding_bag_refusals() -> None:
    bag = xjit.nn.EmbeddingBag(10, 3)
    i, o = xjit.from_numpy(IDX), xjit.from_numpy(OFFSETS)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(i, o, xjit.ones(10))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        bag(i)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        bag(i.reshape(2, 5), o)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        bag(i, xjit.tensor([1, 3]))
    with pytest.raises(IndexError, match="index out of range"):
        bag(xjit.tensor([0, 10]), xjit.tensor([0]))
    with pytest.raises(NotImplementedError, match="max_norm"):
        xjit.nn.EmbeddingBag(10, 3, max_norm=1.0)


# -- Bilinear, LocalResponseNorm, Unfold/Fold, ChannelShuffle, Softmax2d ------------------------


def test_bilinear() -> None:
    _same_module(lambda T: T.nn.Bilinear(5, 3, 4), rand(6, 5), rand(6, 3, seed=1))
    _same_module(lambda T: T.nn.Bilinear(5, 3, 2, bias=False), rand(2, 3, 5), rand(2, 3, 3))
    check(
        lambda T, a, b, w: T.nn.functional.bilinear(a, b, w),
        rand(4, 2),
        rand(4, 3),
        rand(5, 2, 3, seed=3),
    )


@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 7, 4, 3), (2, 6, 3, 2, 2)])
def test_local_response_norm(shape) -> None:
    x = rand(*shape)
    _same_module(lambda T: T.nn.LocalResponseNorm(3), x)
    _same_module(lambda T: T.nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0), x)


UNFOLD = [
    ((2,), {}),
    (((2, 3),), {"dilation": 2, "padding": 1, "stride": (1, 2)}),
    ((3,), {"padding": (1, 0), "stride": 2}),
]


@pytest.mark.parametrize("args,kwargs", UNFOLD)
def test_unfold_fold(args, kwargs) -> None:
    x = rand(2, 3, 7, 8)
    _same_module(lambda T: T.nn.Unfold(*args, **kwargs), x)
    _same_module(lambda T: T.nn.Unfold(*args, **kwargs), x[0])  # unbatched
    cols = pt.nn.functional.unfold(pt.from_numpy(x), *args, **kwargs).numpy()
    _same_module(lambda T: T.nn.Fold((7, 8), *args, **kwargs), cols)
    _same_module(lambda T: T.nn.Fold((7, 8), *args, **kwargs), cols[0])
    # non-finite values stay where they are (no 0 * inf from an identity kernel)
    x[0, 1, 2, 3] = np.inf
    check(lambda T, a: T.nn.functional.unfold(a, *args, **kwargs), x)
    cols = pt.nn.functional.unfold(pt.from_numpy(x), *args, **kwargs).numpy()
    check(lambda T, a: T.nn.functional.fold(a, (7, 8), *args, **kwargs), cols)


def test_fold_refusals() -> None:
    with pytest.raises(RuntimeError, match="match the calculated number of sliding blocks"):
        xjit.nn.functional.fold(xjit.ones(1, 12, 5), (4, 5), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        xjit.nn.functional.fold(xjit.ones(1, 10, 12), (4, 5), 2)


def test_channel_shuffle_and_softmax2d() -> None:
    _same_module(lambda T: T.nn.ChannelShuffle(3), rand(2, 6, 3, 2))
    _same_module(lambda T: T.nn.ChannelShuffle(2), rand(2, 4, 5))
    check(lambda T, x: T.nn.functional.channel_shuffle(x, 2), rand(1, 4, 2, 2, 2))
    _same_module(lambda T: T.nn.Softmax2d(), rand(2, 6, 3, 2), script=True)
    _same_module(lambda T: T.nn.Softmax2d(), rand(6, 3, 2))
    with pytest.raises(ValueError, match="3D or 4D"):
        xjit.nn.Softmax2d()(xjit.ones(2, 3))
    with pytest.raises(RuntimeError, match="divisible by groups"):
        xjit.nn.ChannelShuffle(4)(xjit.ones(1, 6, 2, 2))


def test_embedding_bag_trace_reads_offsets_at_run_time() -> None:
    """The trace keeps offsets and indices symbolic: other values of the same shapes (an
    include_last_offset ending before the input's end, too) give torch's result."""
    for include_last in (False, True):
        tm = pt.nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=include_last)
        xm = xjit.nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=include_last)
        xm.load_state_dict({"weight": xjit.from_numpy(tm.weight.detach().numpy().copy())})
        traced = xjit.jit.trace(xm, (xjit.from_numpy(IDX), xjit.from_numpy(OFFSETS)))
        idx, offsets = IDX[::-1].copy(), np.array([0, 1, 6, 8], np.int64)
        want = tm(pt.from_numpy(idx), pt.from_numpy(offsets))
        assert_same(traced(xjit.from_numpy(idx), xjit.from_numpy(offsets)), want, "traced")


@pytest.mark.parametrize(
    "module,inputs",
    [
        (lambda: xjit.nn.Unfold(2), (xjit.ones(1, 2, 3, 3),)),
        (lambda: xjit.nn.Fold((3, 3), 2), (xjit.ones(1, 8, 4),)),
        (lambda: xjit.nn.EmbeddingBag(10, 3), (xjit.tensor([[1, 2], [3, 4]]),)),
    ],
    ids=["Unfold", "Fold", "EmbeddingBag"],
)
def test_unscriptable_modules_refuse_loudly(module, inputs) -> None:
    with pytest.raises(xjit.jit.FrontendError, match=r"\.py:\d+:\d+: error"):
        xjit.jit.script(module().eval())(*inputs)
