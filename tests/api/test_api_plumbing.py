"""What model files hit at import and construction time (issue 12): grad modes, devices and
dtypes, module traversal and conversion, containers, nn.init, buffers, weight tying, and the
0-d / expand / where fixes. PyTorch is the oracle wherever it defines the answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, check, rand

import xjit
from xjit.frontends.trace import TraceError

# -- grad modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lib", [xjit, pt], ids=["xjit", "torch"])
def test_grad_modes_as_context_managers_and_decorators(lib) -> None:
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        with lib.enable_grad():
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()

    @lib.no_grad()
    def f():
        return lib.is_grad_enabled()

    @lib.no_grad
    def g():
        return lib.is_grad_enabled()

    @lib.inference_mode()
    def h():
        return lib.is_grad_enabled()

    @lib.enable_grad()
    def k():
        return lib.is_grad_enabled()

    assert (f(), g(), h(), k()) == (False, False, False, True)
    with lib.inference_mode(False):
        assert lib.is_grad_enabled()
    with lib.set_grad_enabled(False):
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    assert not lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    assert lib.is_grad_enabled()


def test_no_grad_inside_a_traced_forward() -> None:
    class M(xjit.nn.Module):
        @xjit.no_grad()
        def forward(self, x):
            with xjit.no_grad():
                return x * 2

    x = xjit.rand(3)
    np.testing.assert_allclose(xjit.jit.trace(M(), (x,))(x).numpy(), x.numpy() * 2)


# -- devices and dtypes ---------------------------------------------------------------------------


def test_device_objects_match_torch() -> None:
    for spec in ["cpu", "cpu:0", "cuda", "cuda:1"]:
        assert repr(xjit.device(spec)) == repr(pt.device(spec))
        assert str(xjit.device(spec)) == str(pt.device(spec))
    assert xjit.device("cpu") == "cpu" and xjit.device("cpu") == xjit.device("cpu")
    assert xjit.device("cpu", 0) != xjit.device("cpu")
    assert xjit.rand(2).device == xjit.device("cpu")
    assert xjit.rand(2).device.type == "cpu"
    assert not xjit.cuda.is_available() and xjit.cuda.device_count() == 0
    with pytest.raises(RuntimeError):
        xjit.device("tpu")


def test_non_cpu_devices_are_clear_errors() -> None:
    x = xjit.rand(2)
    for call in [
        lambda: x.to("cuda"),
        lambda: x.to(xjit.device("cuda:0")),
        lambda: x.to(device="cuda"),
        lambda: x.cuda(),
        lambda: xjit.zeros(2, device="cuda"),
        lambda: xjit.tensor([1.0], device="mps"),
        lambda: xjit.nn.Linear(2, 2).to("cuda"),
        lambda: xjit.nn.Linear(2, 2).cuda(),
    ]:
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    with pytest.raises(TypeError, match="float16"):
        x.half()


def test_factories_take_device_dtype_requires_grad() -> None:
    def fn(T):
        kw = {"device": T.device("cpu"), "requires_grad": False}
        return (
            T.zeros(2, 3, dtype=T.float64, **kw),
            T.ones((2,), dtype=T.int64, device="cpu"),
            T.full((2, 2), 3.0, **kw),
            T.arange(5, device="cpu"),
            T.arange(1, 7, 2, dtype=T.float32, **kw),
            T.tensor([1, 2], dtype=T.float32, **kw),
            T.empty(2, 3, **kw).shape,
            T.zeros_like(T.ones(2, dtype=T.int32), device="cpu"),
            T.ones_like(T.ones(2), dtype=T.float64, device="cpu"),
            T.full_like(T.ones(2), 7, device="cpu"),
            T.as_tensor([1.5, 2.5], device="cpu"),
        )

    got, want = fn(xjit), fn(pt)
    assert got[6] == tuple(want[6])
    assert_same([g for i, g in enumerate(got) if i != 6], [w for i, w in enumerate(want) if i != 6])
    assert xjit.rand(2, 3, device="cpu").shape == (2, 3)
    assert xjit.randn(4, dtype=xjit.float64, device="cpu").dtype == xjit.float64
    assert xjit.rand_like(xjit.ones(2, 2)).shape == (2, 2)


def test_new_factories_keep_dtype() -> None:
    def fn(T, x):
        return (
            x.new_zeros(2, 3),
            x.new_ones((2,)),
            x.new_full((2, 2), 7),
            x.new_tensor([1, 2]),
            x.new_zeros(2, dtype=T.float32),
            x.new_empty(3).shape,
        )

    got, want = fn(xjit, xjit.ones(1, dtype=xjit.float64)), fn(pt, pt.ones(1, dtype=pt.float64))
    assert got[-1] == tuple(want[-1])
    assert_same(list(got[:-1]), list(want[:-1]))


def test_tensor_conversions_match_torch() -> None:
    a = rand(3, 2) * 3

    def fn(T, x):
        return (
            x.to(T.float64),
            x.to("cpu"),
            x.to(T.device("cpu"), T.int64),
            x.to(dtype=T.int32),
            x.to(T.zeros(1, dtype=T.float64)),
            x.cpu(),
            x.double(),
            x.long(),
            x.int(),
            x.bool(),
            x.double().float(),
            x.type_as(T.zeros(1, dtype=T.int64)),
        )

    check(fn, a)
    x = xjit.from_numpy(a)
    assert x.to("cpu") is x and x.cpu() is x and x.to(xjit.float32) is x
    assert x.is_floating_point() and not x.long().is_floating_point()


def test_autograd_spellings_are_no_ops() -> None:
    x = xjit.tensor([1.5, 2.0])
    assert x.requires_grad_() is x and x.requires_grad is False
    x.requires_grad = True  # accepted, nothing to record
    d = x.detach()
    assert d is not x and np.shares_memory(d.numpy(), x.numpy())
    assert x.grad is None
    assert xjit.tensor(2.5).item() == 2.5 and x.tolist() == [1.5, 2.0]
    assert xjit.nn.Parameter(xjit.ones(2)).requires_grad


# -- module plumbing ------------------------------------------------------------------------------


def _tree(lib):
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)
            self.act = lib.nn.ModuleDict({"relu": lib.nn.ReLU(), "tanh": lib.nn.Tanh()})
            self.register_buffer("scale", lib.ones(3))
            self.register_buffer("cache", lib.zeros(3), persistent=False)

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = lib.nn.ModuleList([Block(), Block()])
            self.heads = lib.nn.ModuleDict([("a", lib.nn.Linear(3, 2)), ("b", lib.nn.Linear(3, 1))])
            self.extra = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.zeros(3)])
            self.table = lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(2, 2))})

        def forward(self, x):
            for b in self.blocks:
                x = b.act["tanh"](b.fc(x)) * b.scale
            return self.heads["a"](x) + self.extra[0] + self.table["w"][0]

    return Net()


def test_traversal_and_state_dict_keys_match_torch() -> None:
    t, x = _tree(pt), _tree(xjit)
    assert [n for n, _ in x.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in x.named_children()] == [n for n, _ in t.named_children()]
    assert [type(m).__name__ for m in x.children()] == [type(m).__name__ for m in t.children()]
    assert len(list(x.modules())) == len(list(t.modules()))
    assert [n for n, _ in x.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in x.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert len(list(x.buffers())) == len(list(t.buffers()))
    sd = t.state_dict()
    assert list(x.state_dict()) == list(sd)  # the non-persistent `cache` is in neither
    x.load_state_dict({k: v.numpy() for k, v in sd.items()})
    assert len(x.heads) == 2 and "a" in x.heads and list(x.heads.keys()) == ["a", "b"]
    assert len(x.extra) == 2 and isinstance(x.extra[1], xjit.nn.Parameter)
    inp = rand(4, 3)
    want = t(pt.from_numpy(inp))
    assert_same(x(xjit.from_numpy(inp)), want)
    assert_same(xjit.jit.trace(x, (xjit.from_numpy(inp),))(xjit.from_numpy(inp)), want)


def test_apply_visits_children_first_like_torch() -> None:
    seen: dict[str, list[str]] = {"t": [], "x": []}
    _tree(pt).apply(lambda m: seen["t"].append(type(m).__name__))
    _tree(xjit).apply(lambda m: seen["x"].append(type(m).__name__))
    assert seen["x"] == seen["t"]


def test_apply_with_init_functions() -> None:
    def init(m):
        if isinstance(m, xjit.nn.Linear):
            xjit.nn.init.zeros_(m.bias)
            xjit.nn.init.constant_(m.weight, 0.5)

    net = _tree(xjit)
    w = net.heads["a"].weight
    assert net.apply(init) is net
    assert net.heads["a"].weight is w  # in place
    assert (w.numpy() == 0.5).all() and (net.heads["a"].bias.numpy() == 0).all()


def test_module_dtype_conversion_keeps_tensors_and_tying() -> None:
    lin = xjit.nn.Linear(3, 2)
    w = lin.weight
    lin.register_buffer("steps", xjit.zeros(1, dtype=xjit.int64))
    assert lin.double() is lin and lin.weight is w and w.dtype == xjit.float64
    assert lin.steps.dtype == xjit.int64  # only floating tensors convert
    assert lin.to(xjit.float32).weight.dtype == xjit.float32
    assert lin.to("cpu") is lin and lin.cpu() is lin and lin.float() is lin
    assert lin.to("cpu", xjit.float64).bias.dtype == xjit.float64
    with pytest.raises(TypeError, match="floating point"):
        lin.to(xjit.int64)


def test_register_buffer_checks() -> None:
    m = xjit.nn.Module()
    m.x = 1
    with pytest.raises(KeyError):
        m.register_buffer("x", xjit.zeros(1))
    with pytest.raises(TypeError):
        m.register_buffer("y", [1.0])


def _tied(lib):
    class LM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(7, 4)
            self.out = lib.nn.Linear(4, 7, bias=False)
            self.out.weight = self.emb.weight  # weight tying

        def forward(self, idx):
            return self.out(self.emb(idx))

    return LM()


def test_weight_tying() -> None:
    t, x = _tied(pt), _tied(xjit)
    sd = t.state_dict()
    assert list(x.state_dict()) == list(sd) == ["emb.weight", "out.weight"]
    assert [n for n, _ in x.named_parameters()] == [n for n, _ in t.named_parameters()]
    x.load_state_dict({k: v.numpy() for k, v in sd.items()})
    assert x.out.weight is x.emb.weight
    xs = x.state_dict()
    assert np.shares_memory(xs["emb.weight"].numpy(), xs["out.weight"].numpy())
    idx = np.array([[1, 2, 6], [0, 3, 3]])
    want = t(pt.from_numpy(idx))
    traced = xjit.jit.trace(x, (xjit.from_numpy(idx),))
    assert traced.graph.count("torch.global_slot ") == 1  # one tensor, bound once
    assert_same(traced(xjit.from_numpy(idx)), want)
    xjit.nn.init.normal_(x.emb.weight)  # updating the shared weight updates both uses
    want2 = (x.emb.weight.numpy()[idx]) @ x.emb.weight.numpy().T
    np.testing.assert_allclose(traced(xjit.from_numpy(idx)).numpy(), want2, rtol=1e-5, atol=1e-6)


# -- nn.init ----------------------------------------------------------------------------------------


def test_init_distributions_follow_torch_formulas() -> None:
    xjit.manual_seed(0)
    w = xjit.nn.Parameter(xjit.zeros(400, 300))
    same = w.numpy()

    def stats(fn, *args, **kw):
        out = fn(w, *args, **kw)
        assert out is w and w.numpy() is same  # in place
        return float(np.abs(same).max()), float(same.std()), float(same.mean())

    fan_in, fan_out = 300, 400
    mx, sd, _ = stats(xjit.nn.init.xavier_uniform_, gain=2.0)
    assert mx <= 2.0 * np.sqrt(6 / (fan_in + fan_out)) and mx > 0.9 * 2 * np.sqrt(6 / 700)
    _, sd, _ = stats(xjit.nn.init.xavier_normal_)
    assert abs(sd - np.sqrt(2 / 700)) < 0.02 * np.sqrt(2 / 700) * 5
    mx, _, _ = stats(xjit.nn.init.kaiming_uniform_, a=np.sqrt(5))
    # torch's Linear init: kaiming_uniform_(a=√5) gives U(-1/√fan_in, 1/√fan_in)
    assert abs(mx - 1 / np.sqrt(fan_in)) < 1e-3
    _, sd, _ = stats(xjit.nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert abs(sd - np.sqrt(2 / fan_out)) < 0.05 * np.sqrt(2 / fan_out)
    mx, sd, mean = stats(xjit.nn.init.trunc_normal_, std=0.02, a=-0.04, b=0.04)
    assert mx <= 0.04 and abs(mean) < 1e-3
    mx, _, _ = stats(xjit.nn.init.uniform_, -0.1, 0.1)
    assert mx <= 0.1
    _, sd, mean = stats(xjit.nn.init.normal_, mean=1.0, std=0.5)
    assert abs(mean - 1) < 0.01 and abs(sd - 0.5) < 0.01
    assert stats(xjit.nn.init.ones_)[2] == 1.0 and stats(xjit.nn.init.zeros_)[0] == 0.0
    assert stats(xjit.nn.init.constant_, 0.25)[2] == 0.25
    for g in ["linear", "relu", "tanh", "sigmoid"]:
        assert xjit.nn.init.calculate_gain(g) == pt.nn.init.calculate_gain(g)
    assert xjit.nn.init.calculate_gain("leaky_relu", 0.2) == pt.nn.init.calculate_gain(
        "leaky_relu", 0.2
    )


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal_init(shape) -> None:
    w = xjit.zeros(*shape)
    xjit.nn.init.orthogonal_(w, gain=2.0)
    flat = w.numpy().reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


# -- the "also found" ----------------------------------------------------------------------


def test_zero_dim_reductions_and_contiguous() -> None:
    check(
        lambda T, x: (
            x.sum(0),
            x.sum(-1, keepdim=True),
            x.amax(0),
            x.amin(-1),
            x.mean(0),
            T.softmax(x, 0),
            x.contiguous(),
        ),
        np.array(3.0, np.float32),
    )
    with pytest.raises(Exception, match="out of range"):
        xjit.tensor(3.0).sum(1)


def test_expand_without_sizes_raises_like_torch() -> None:
    with pytest.raises(TypeError):
        pt.ones(2).expand()
    with pytest.raises(TypeError, match="size"):
        xjit.ones(2).expand()


def test_tensor_where_keeps_self_where_condition_holds() -> None:
    check(lambda T, x: (x.where(x > 0, 0.0), x.where(x < 0, -x)), rand(4, 3))

    class M(xjit.nn.Module):
        def forward(self, x):
            return x.where(x > 0, x * 0.5)

    a = rand(4, 3)
    scripted = xjit.jit.script(M())
    want = pt.from_numpy(a).where(pt.from_numpy(a) > 0, pt.from_numpy(a) * 0.5)
    assert_same(scripted(xjit.from_numpy(a)), want)


class _DtypeMethods(xjit.nn.Module):
    def forward(self, x):
        m = (x > 0).float()
        return m * x, x.long(), x.double(), (x > 0).int(), x.bool(), x.to(xjit.float64)


def test_dtype_methods_scripted() -> None:
    a = rand(3, 4) * 3
    t = pt.from_numpy(a)
    want = ((t > 0).float() * t, t.long(), t.double(), (t > 0).int(), t.bool(), t.double())
    x = xjit.from_numpy(a)
    assert_same(xjit.jit.script(_DtypeMethods())(x), want, "scripted")
    assert_same(xjit.jit.trace(_DtypeMethods(), (x,))(x), want, "traced")


def test_layers_take_device_and_dtype() -> None:
    for lib in (xjit, pt):
        lin = lib.nn.Linear(3, 2, device="cpu", dtype=lib.float64)
        emb = lib.nn.Embedding(4, 2, device=lib.device("cpu"), dtype=lib.float64)
        ln = lib.nn.LayerNorm(3, dtype=lib.float64)
        lstm = lib.nn.LSTM(3, 2, dtype=lib.float64, device="cpu")
        for m in (lin, emb, ln, lstm):
            assert {str(p.dtype) for p in m.parameters()} == {str(lib.float64)}
    with pytest.raises(RuntimeError, match="CPU only"):
        xjit.nn.Linear(3, 2, device="cuda")


def _word_lm(lib):
    nn = lib.nn

    class RNNModel(nn.Module):
        """The word-language-model example's shape: `.data.uniform_` init, an LSTM, tying."""

        def __init__(self, ntoken=10, ninp=4, nhid=4, nlayers=2):
            super().__init__()
            self.drop = nn.Dropout(0.5)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=0.5)
            self.decoder = nn.Linear(nhid, ntoken)
            self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.nhid, self.nlayers = nhid, nlayers

        def init_weights(self):
            initrange = 0.1
            self.encoder.weight.data.uniform_(-initrange, initrange)
            self.decoder.bias.data.zero_()

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output)).view(-1, self.decoder.out_features)
            return lib.nn.functional.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )

    return RNNModel


def test_word_language_model_with_data_init() -> None:
    pt.manual_seed(0)
    t = _word_lm(pt)().eval()
    x = _word_lm(xjit)().eval()
    w = x.encoder.weight.numpy()
    assert np.abs(w).max() <= 0.1 and (x.decoder.bias.numpy() == 0).all()
    assert list(x.state_dict()) == list(t.state_dict())
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert x.encoder.weight.numpy() is w  # loaded in place
    tokens = np.random.default_rng(0).integers(0, 10, (5, 2))
    with pt.no_grad():
        want = t(pt.from_numpy(tokens), t.init_hidden(2))
    got = x(xjit.from_numpy(tokens), x.init_hidden(2))
    assert_same([got[0], *got[1]], [want[0], *want[1]])


def test_in_place_init_is_refused_while_tracing() -> None:
    def f(v):
        v.data.zero_()
        return v * 2

    # (`.data` is a view the trace knows: updating it is refused at the line, as any view's)
    with pytest.raises(TraceError, match=r"test_api_plumbing.py:\d+: in-place `zero_\(\)`"):
        xjit.jit.trace(f, (xjit.ones(2),))
    t = xjit.ones(2, 2)
    assert t.fill_(3.0) is t and (t.numpy() == 3).all()
    t.copy_(xjit.tensor([1.0, 2.0]))
    assert t.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    t.data = xjit.zeros(3)
    assert t.shape == (3,)
