"""torch.nn breadth for model code (issue 12): activations, losses, GroupNorm/InstanceNorm/
RMSNorm, padding modes and modules, PixelShuffle, nearest Upsample, 1-D pooling, distances and
dropout variants. Each module gets torch's weights through state_dict and must match torch in
eager and traced mode, with torch's repr; scripting is checked where xjit scripts it."""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, check, rand

import xjit

X4 = rand(2, 6, 5, 4) * 3


def _same_module(make, *inputs, script: bool = False, init=None) -> None:
    tm = make(pt).eval()
    if init is not None:
        init(tm)
    xm = make(xjit).eval()
    assert repr(xm) == repr(tm)
    assert list(xm.state_dict()) == list(tm.state_dict())
    xm.load_state_dict(
        {k: xjit.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )
    want = tm(*[pt.from_numpy(a.copy()) for a in inputs])
    xs = [xjit.from_numpy(a.copy()) for a in inputs]
    assert_same(xm(*xs), want, "eager")
    assert_same(xjit.jit.trace(xm, tuple(xs))(*xs), want, "traced")
    if script:
        assert_same(xjit.jit.script(xm)(*xs), want, "scripted")


def _randomise(m) -> None:
    with pt.no_grad():
        for p in m.parameters():
            p.copy_(pt.randn(p.shape, generator=pt.Generator().manual_seed(1)))


ACTIVATIONS = [
    ("SELU", ()),
    ("CELU", (0.5,)),
    ("Hardswish", ()),
    ("Hardsigmoid", ()),
    ("Softsign", ()),
    ("LogSigmoid", ()),
    ("Tanhshrink", ()),
    ("Threshold", (0.1, 20.0)),
    ("Hardshrink", ()),
    ("Softshrink", (0.3,)),
    ("Softmin", (1,)),
    ("GLU", (1,)),
    ("PReLU", ()),
]


@pytest.mark.parametrize("name,args", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules(name, args) -> None:
    _same_module(lambda T: getattr(T.nn, name)(*args), X4, script=True)


def test_prelu_per_channel_and_large_inputs() -> None:
    _same_module(lambda T: T.nn.PReLU(6), X4, init=_randomise, script=True)
    big = np.array([-200.0, -30.0, 0.0, 30.0, 200.0], np.float32)
    check(lambda T, x: T.nn.functional.logsigmoid(x), big)  # no overflow for large |x|
    check(lambda T, x: T.nn.functional.selu(x), big)


def test_activation_refusals_match_torch() -> None:
    with pytest.raises(Exception, match="Halving dimension must be even"):
        xjit.nn.functional.glu(xjit.ones(2, 3), 1)
    with pytest.raises(Exception, match="Halving dimension must be even"):
        pt.nn.functional.glu(pt.ones(2, 3), 1)


LOSSES = [
    ("L1Loss", {}, "float"),
    ("MSELoss", {"reduction": "sum"}, "float"),
    ("MSELoss", {"reduction": "none"}, "float"),
    ("SmoothL1Loss", {"beta": 0.5}, "float"),
    ("SmoothL1Loss", {"beta": 0.0}, "float"),
    ("HuberLoss", {"delta": 0.7}, "float"),
    ("BCELoss", {}, "prob"),
    ("BCEWithLogitsLoss", {}, "prob_logits"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, "kl_log"),
    ("CrossEntropyLoss", {}, "index"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, "index"),
    ("CrossEntropyLoss", {"label_smoothing": 0.2, "reduction": "sum"}, "index"),
    ("CrossEntropyLoss", {"ignore_index": 1, "label_smoothing": 0.1}, "index"),
    ("CrossEntropyLoss", {}, "soft"),
    ("CrossEntropyLoss", {"label_smoothing": 0.3}, "soft"),
    ("NLLLoss", {"reduction": "sum"}, "index_logp"),
]


def _loss_inputs(kind: str) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(3)
    x = r.standard_normal((4, 5)).astype(np.float32)
    if kind == "float":
        return x, r.standard_normal((4, 5)).astype(np.float32)
    if kind in ("prob", "prob_logits"):
        t = r.uniform(0, 1, (4, 5)).astype(np.float32)
        return (1 / (1 + np.exp(-x)) if kind == "prob" else x).astype(np.float32), t
    if kind in ("kl", "kl_log"):
        logp = x - np.log(np.exp(x).sum(1, keepdims=True))
        t = r.dirichlet(np.ones(5), 4).astype(np.float32)
        t[0, 0] = 0.0  # a zero target contributes 0 (not nan)
        return logp.astype(np.float32), (np.log(t + 1e-3) if kind == "kl_log" else t).astype(
            np.float32
        )
    if kind == "soft":
        return x, r.dirichlet(np.ones(5), 4).astype(np.float32)
    t = r.integers(0, 5, 4).astype(np.int64)
    if kind == "index_logp":
        return (x - np.log(np.exp(x).sum(1, keepdims=True))).astype(np.float32), t
    return x, t


@pytest.mark.parametrize(
    "name,kwargs,kind", LOSSES, ids=[f"{n}-{k}-{sorted(kw)}" for n, kw, k in LOSSES]
)
def test_loss_modules(name, kwargs, kind) -> None:
    _same_module(lambda T: getattr(T.nn, name)(**kwargs), *_loss_inputs(kind), script=True)


def test_weighted_losses_keep_weights_as_buffers() -> None:
    w = rand(5) ** 2
    _same_module(
        lambda T: T.nn.BCEWithLogitsLoss(
            weight=T.from_numpy(w.copy()), pos_weight=T.from_numpy(w.copy() + 1)
        ),
        *_loss_inputs("prob_logits"),
    )
    _same_module(lambda T: T.nn.BCELoss(weight=T.from_numpy(w.copy())), *_loss_inputs("prob"))
    _same_module(
        lambda T: T.nn.CrossEntropyLoss(weight=T.from_numpy(w.copy())), *_loss_inputs("soft")
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reduction": "none"},
        {"label_smoothing": 0.1},
        {"ignore_index": 0},  # targets are [4, 0, 0, 4]: two rows ignored
        {"ignore_index": 0, "label_smoothing": 0.2},
    ],
)
def test_class_weights_with_index_targets(kwargs) -> None:
    w = rand(5) ** 2 + 0.1
    make = lambda T: T.nn.CrossEntropyLoss(weight=T.from_numpy(w.copy()), **kwargs)  # noqa: E731
    _same_module(make, *_loss_inputs("index"), script=True)
    if "label_smoothing" not in kwargs:
        make = lambda T: T.nn.NLLLoss(weight=T.from_numpy(w.copy()), **kwargs)  # noqa: E731
        _same_module(make, *_loss_inputs("index_logp"), script=True)


def test_class_weights_out_of_range_target_raises_eagerly() -> None:
    x = xjit.zeros(2, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        xjit.nn.functional.nll_loss(x, xjit.tensor([0, 3]), weight=xjit.ones(3))


def _norm_init(m) -> None:
    _randomise(m)
    if getattr(m, "running_mean", None) is not None:
        m.running_mean.normal_()
        m.running_var.uniform_(0.5, 2.0)


NORMS = [
    lambda T: T.nn.GroupNorm(3, 6),
    lambda T: T.nn.GroupNorm(2, 6, affine=False),
    lambda T: T.nn.GroupNorm(3, 6, bias=False),
    lambda T: T.nn.InstanceNorm2d(6),
    lambda T: T.nn.InstanceNorm2d(6, affine=True),
    lambda T: T.nn.InstanceNorm2d(6, affine=True, track_running_stats=True),
    lambda T: T.nn.RMSNorm(4),
    lambda T: T.nn.RMSNorm([5, 4], eps=1e-3),
    lambda T: T.nn.RMSNorm(4, elementwise_affine=False),
]


@pytest.mark.parametrize("make", NORMS, ids=lambda f: "")
def test_norm_modules(make) -> None:
    _same_module(make, X4, init=_norm_init)


def test_instance_norm_1d_unbatched_and_batched() -> None:
    _same_module(lambda T: T.nn.InstanceNorm1d(6, affine=True), X4[:, :, :, 0], init=_norm_init)
    _same_module(lambda T: T.nn.InstanceNorm1d(6), X4[0, :, :, 0])


PADS = [
    lambda T: T.nn.ZeroPad2d((1, 2, 0, 3)),
    lambda T: T.nn.ZeroPad2d(2),
    lambda T: T.nn.ConstantPad1d((2, 1), 3.5),
    lambda T: T.nn.ReflectionPad2d(2),
    lambda T: T.nn.ConstantPad2d(1, -1.0),
    lambda T: T.nn.ReflectionPad2d((1, 2, 3, 1)),
    lambda T: T.nn.ReplicationPad2d((0, 4, 2, 2)),
    lambda T: T.nn.CircularPad2d(1),
]


@pytest.mark.parametrize("make", PADS, ids=lambda f: "")
def test_padding_modules(make) -> None:
    _same_module(make, X4)


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.nn.ReflectionPad1d((3, 2)),
        lambda T: T.nn.ReplicationPad1d(3),
        lambda T: T.nn.CircularPad1d((2, 1)),
    ],
    ids=lambda f: "",
)
def test_padding_modules_1d(make) -> None:
    _same_module(make, X4[0])


def test_pad_modes_functional_and_errors() -> None:
    check(lambda T, x: T.nn.functional.pad(x, (2, 2, 1, 1), mode="reflect"), X4)
    check(lambda T, x: T.nn.functional.pad(x, [1, 0], mode="replicate"), X4[0])
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        xjit.nn.functional.pad(xjit.ones(1, 2, 3), (3, 0), mode="reflect")

    class Reflect(xjit.nn.Module):
        def forward(self, x):
            return xjit.nn.functional.pad(x, (1, 1), mode="reflect")

    with pytest.raises(xjit.jit.FrontendError, match="only mode='constant'"):
        xjit.jit.script(Reflect())(xjit.ones(1, 2, 3))


def test_scripted_constant_padding_module() -> None:
    _same_module(lambda T: T.nn.ZeroPad2d((1, 2, 0, 3)), X4, script=True)


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.nn.PixelShuffle(2),
        lambda T: T.nn.Sequential(T.nn.PixelUnshuffle(2), T.nn.PixelShuffle(2)),
        lambda T: T.nn.Upsample(scale_factor=2),
        lambda T: T.nn.Upsample(scale_factor=1.5),
        lambda T: T.nn.Upsample(size=(7, 9)),
        lambda T: T.nn.Upsample(size=3),
    ],
    ids=lambda f: "",
)
def test_pixel_shuffle_and_nearest_upsample(make) -> None:
    _same_module(make, rand(2, 8, 4, 6))


def test_interpolate_refuses_other_modes() -> None:
    with pytest.raises(NotImplementedError, match="mode='bicubic'"):
        xjit.nn.functional.interpolate(xjit.ones(1, 1, 2, 2), scale_factor=2, mode="bicubic")


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda T: T.nn.AvgPool1d(3), (2, 4, 10)),
        (lambda T: T.nn.AvgPool1d(3, stride=2, padding=1), (2, 4, 9)),
        (lambda T: T.nn.AdaptiveAvgPool1d(5), (2, 4, 10)),
        (lambda T: T.nn.AdaptiveAvgPool1d(1), (4, 7)),
    ],
    ids=lambda f: "",
)
def test_pooling_1d(make, shape) -> None:
    _same_module(make, rand(*shape))


def test_distances() -> None:
    a, b = rand(4, 6), rand(4, 6, seed=1)
    _same_module(lambda T: T.nn.CosineSimilarity(), a, b)
    _same_module(lambda T: T.nn.CosineSimilarity(dim=0, eps=1e-3), a, b)
    _same_module(lambda T: T.nn.PairwiseDistance(), a, b)
    _same_module(lambda T: T.nn.PairwiseDistance(p=1.0, keepdim=True), a, b)


@pytest.mark.parametrize(
    "name,x",
    [
        ("Dropout1d", X4[0]),
        ("Dropout2d", X4),
        ("Dropout3d", X4[None]),
        ("AlphaDropout", X4),
        ("FeatureAlphaDropout", X4),
    ],
)
def test_dropout_variants_are_the_identity_in_eval(name, x) -> None:
    _same_module(lambda T: getattr(T.nn, name)(0.3), x)


def test_scripted_group_and_instance_norm_with_affine_weights() -> None:
    _same_module(lambda T: T.nn.GroupNorm(3, 6), X4, init=_norm_init, script=True)
    _same_module(lambda T: T.nn.InstanceNorm2d(6, affine=True), X4, init=_norm_init, script=True)


def _resnet_block(T):
    class BasicBlock(T.nn.Module):
        def __init__(self, inp: int = 4, planes: int = 8):
            super().__init__()
            self.conv1 = T.nn.Conv2d(inp, planes, 3, 2, 1, bias=False)
            self.bn1 = T.nn.BatchNorm2d(planes)
            self.relu = T.nn.ReLU(inplace=True)
            self.conv2 = T.nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = T.nn.BatchNorm2d(planes)
            self.shortcut = T.nn.Sequential(
                T.nn.Conv2d(inp, planes, 1, 2, bias=False), T.nn.BatchNorm2d(planes)
            )

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)  # in place on a submodule's result: typed per call
            return self.relu(out)

    return BasicBlock


def test_scripted_resnet_block_with_inplace_add_and_relu() -> None:
    tm = _resnet_block(pt)().eval()
    _norm_init(tm.bn1)
    want_script = pt.jit.script(tm)(pt.from_numpy(rand(2, 4, 8, 8)))
    assert_same(want_script, tm(pt.from_numpy(rand(2, 4, 8, 8))), "torchscript")
    _same_module(lambda T: _resnet_block(T)(), rand(2, 4, 8, 8), init=_norm_init, script=True)


REPRS = [
    "LayerNorm(4)",
    "LayerNorm(4, bias=False)",
    "BatchNorm2d(3)",
    "BatchNorm2d(3, bias=False)",
    "BatchNorm1d(3, affine=False)",
    "Conv1d(2, 3, 3, padding='same')",
    "Conv2d(1, 2, 3, stride=2, padding=1, bias=False)",
    "ConvTranspose2d(2, 3, 3)",
    "Linear(2, 3)",
    "Embedding(5, 3, padding_idx=0)",
    "MaxPool2d(2)",
    "AvgPool2d(2)",
    "AdaptiveAvgPool2d(1)",
    "Dropout()",
    "GELU()",
    "Softmax(1)",
    "Flatten()",
    "Unflatten(1, (2, 2))",
    "LSTM(3, 4)",
    "GRU(3, 4, 2, batch_first=True)",
    "MultiheadAttention(4, 2)",
    "ReLU(inplace=True)",
    "LeakyReLU(0.1, inplace=True)",
    "ReLU6(inplace=True)",
]


@pytest.mark.parametrize("spec", REPRS)
def test_module_reprs_match_torch(spec) -> None:
    assert repr(eval(f"xjit.nn.{spec}")) == repr(eval(f"pt.nn.{spec}"))


def test_scripted_pools_distances_and_dropouts() -> None:
    _same_module(lambda T: T.nn.AvgPool1d(3, stride=2, padding=1), rand(2, 4, 9), script=True)
    a, b = rand(4, 6), rand(4, 6, seed=1)
    _same_module(lambda T: T.nn.CosineSimilarity(), a, b, script=True)
    _same_module(lambda T: T.nn.PairwiseDistance(p=1.0, keepdim=True), a, b, script=True)
    _same_module(lambda T: T.nn.Dropout2d(0.3), X4, script=True)
