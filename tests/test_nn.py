"""`xjit.nn`: registration by attribute assignment, traversal, state dicts, printing and `Linear`,
checked against torch's documented behaviour and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from models import MyCell

import xjit as torch
from xjit import nn


class Net(nn.Module):
    """Own parameters, a buffer and nested submodules, to check names and order."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.fc1 = nn.Linear(2, 3)
        self.register_buffer("running", torch.zeros(3))
        self.inner = MyCell()
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 1, bias=False)
        self.offset = nn.Parameter(torch.zeros(1))


# -- registration -------------------------------------------------------------------------------


def test_parameters_and_submodules_register_on_assignment():
    m = Net()
    assert list(m._parameters) == ["scale", "offset"]
    assert list(m._modules) == ["fc1", "inner", "act", "fc2"]
    assert list(m._buffers) == ["running"]
    assert isinstance(m.scale, nn.Parameter) and isinstance(m.scale, torch.Tensor)
    assert isinstance(m.fc1, nn.Linear)
    assert "scale" not in m.__dict__ and "fc1" not in m.__dict__


def test_named_parameters_dotted_names_in_order():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "scale",
        "offset",
        "fc1.weight",
        "fc1.bias",
        "inner.linear.weight",
        "inner.linear.bias",
        "fc2.weight",  # bias=False: no fc2.bias
    ]
    params = list(m.parameters())
    assert len(params) == 7
    assert params[0] is m.scale and params[2] is m.fc1.weight and params[6] is m.fc2.weight
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale", "offset"]
    assert [n for n, _ in m.named_parameters(prefix="net")][:3] == [
        "net.scale",
        "net.offset",
        "net.fc1.weight",
    ]


def test_named_modules_children_buffers():
    m = Net()
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "inner", "inner.linear", "act", "fc2"]
    assert [n for n, _ in m.named_children()] == ["fc1", "inner", "act", "fc2"]
    assert list(m.children())[1] is m.inner
    assert [n for n, _ in m.named_buffers()] == ["running"]
    assert list(m.buffers())[0] is m.running


def test_shared_parameter_listed_once():
    m = nn.Module()
    a = nn.Linear(2, 2)
    m.a = a
    m.b = a
    assert [n for n, _ in m.named_parameters()] == ["a.weight", "a.bias"]
    tied = nn.Module()
    tied.w = nn.Parameter(torch.ones(2))
    tied.v = tied.w
    assert [n for n, _ in tied.named_parameters()] == ["w"]


def test_overwriting_a_parameter_with_a_parameter_replaces_it():
    m = MyCell()
    new = nn.Parameter(torch.zeros(4, 4))
    m.linear.weight = new
    assert m.linear.weight is new
    assert dict(m.named_parameters())["linear.weight"] is new


def test_overwriting_a_parameter_with_a_tensor_is_an_error():
    # torch: TypeError "cannot assign 'torch.FloatTensor' as parameter 'weight' (torch.nn.Parameter
    # or None expected)"; silently dropping the parameter would lose it from state_dict.
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = torch.zeros(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = 3
    assert isinstance(lin.weight, nn.Parameter)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_overwriting_a_submodule_or_buffer_with_wrong_kind_is_an_error():
    m = Net()
    with pytest.raises(TypeError, match="child module 'fc1'"):
        m.fc1 = 3
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = [1, 2, 3]
    m.running = torch.ones(3)  # a tensor may replace a buffer
    np.testing.assert_array_equal(m.running.numpy(), np.ones(3))
    assert [n for n, _ in m.named_buffers()] == ["running"]
    m.fc1 = None  # None unregisters the child (torch keeps the key with None)
    assert m.fc1 is None
    assert "fc1.weight" not in dict(m.named_parameters())
    m.fc1 = nn.Linear(2, 3)
    assert "fc1.weight" in dict(m.named_parameters())


def test_parameter_replaces_a_plain_attribute_and_a_module_replaces_a_buffer():
    m = nn.Module()
    m.x = 3
    assert m.x == 3 and "x" in m.__dict__
    m.x = nn.Parameter(torch.ones(1))
    assert "x" not in m.__dict__ and list(m._parameters) == ["x"]
    m.register_buffer("b", torch.zeros(1))
    m.b = nn.ReLU()
    assert list(m._buffers) == [] and list(m._modules) == ["b"]


def test_plain_tensor_attribute_is_not_registered():
    m = nn.Module()
    m.t = torch.ones(2)
    assert list(m.named_parameters()) == [] and list(m.named_buffers()) == []
    assert list(m.state_dict()) == []
    assert isinstance(m.t, torch.Tensor)


def test_none_parameter():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert "bias" in lin._parameters  # registered, as torch does, but with no value
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == ["weight"]
    m = MyCell()
    m.linear.bias = None  # assigning None to a parameter keeps the slot empty
    assert m.linear.bias is None
    assert [n for n, _ in m.named_parameters()] == ["linear.weight"]


def test_register_buffer():
    m = nn.Module()
    m.register_buffer("mean", torch.tensor([1.0, 2.0]))
    m.register_buffer("empty", None)
    assert [n for n, _ in m.named_buffers()] == ["mean"]
    assert list(m.parameters()) == []
    np.testing.assert_array_equal(m.mean.numpy(), [1.0, 2.0])
    assert m.empty is None
    assert list(m.state_dict()) == ["mean"]


def test_delattr_unregisters():
    m = Net()
    del m.scale
    del m.fc1
    del m.running
    assert "scale" not in dict(m.named_parameters())
    assert "fc1" not in dict(m.named_children())
    assert list(m.named_buffers()) == []
    with pytest.raises(AttributeError):
        m.scale  # noqa: B018


def test_missing_attribute_error():
    with pytest.raises(AttributeError, match="'MyCell' object has no attribute 'nope'"):
        MyCell().nope  # noqa: B018


def test_assign_parameter_before_super_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(torch.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()

    class BadModule(nn.Module):
        def __init__(self):
            self.sub = nn.ReLU()
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        BadModule()


def test_forward_required():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(torch.ones(1))


# -- state_dict --------------------------------------------------------------------------------


def test_state_dict_keys_values_and_sharing():
    m = Net()
    sd = m.state_dict()
    assert list(sd) == [
        "scale",
        "offset",
        "running",
        "fc1.weight",
        "fc1.bias",
        "inner.linear.weight",
        "inner.linear.bias",
        "fc2.weight",
    ]
    np.testing.assert_array_equal(sd["fc1.weight"].numpy(), m.fc1.weight.numpy())
    assert sd["fc1.weight"].shape == (3, 2)
    # like torch (detached tensors on the same storage), entries share the parameters' memory
    assert np.shares_memory(sd["fc1.weight"].numpy(), m.fc1.weight.numpy())


def test_load_state_dict_round_trip_and_in_place_update():
    torch.manual_seed(0)
    src, dst = MyCell(), MyCell()
    w_before = dst.linear.weight.numpy()  # obtained before loading
    param_before = dst.linear.weight
    dst.load_state_dict(src.state_dict())
    assert dst.linear.weight is param_before  # same Parameter object ...
    np.testing.assert_array_equal(w_before, src.linear.weight.numpy())  # ... updated in place
    np.testing.assert_array_equal(dst.linear.bias.numpy(), src.linear.bias.numpy())
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    np.testing.assert_array_equal(dst(x, h)[0].numpy(), src(x, h)[0].numpy())


def test_load_state_dict_accepts_numpy_and_casts():
    m = MyCell()
    new_w = np.arange(16, dtype=np.float64).reshape(4, 4)
    m.load_state_dict({"linear.weight": new_w, "linear.bias": [1, 2, 3, 4]})
    assert m.linear.weight.dtype == torch.float32
    np.testing.assert_array_equal(m.linear.weight.numpy(), new_w)
    np.testing.assert_array_equal(m.linear.bias.numpy(), [1.0, 2.0, 3.0, 4.0])


def test_load_state_dict_strict_missing_and_unexpected():
    m = MyCell()
    sd = m.state_dict()
    del sd["linear.bias"]
    with pytest.raises(RuntimeError, match=r"missing keys \['linear.bias'\]"):
        m.load_state_dict(sd)
    sd = dict(m.state_dict())
    sd["linear.extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError, match=r"unexpected keys \['linear.extra'\]"):
        m.load_state_dict(sd)


def test_load_state_dict_non_strict_loads_what_matches():
    m = MyCell()
    bias_before = m.linear.bias.numpy().copy()
    w = torch.ones(4, 4)
    m.load_state_dict({"linear.weight": w, "other": torch.zeros(2)}, strict=False)
    np.testing.assert_array_equal(m.linear.weight.numpy(), np.ones((4, 4)))
    np.testing.assert_array_equal(m.linear.bias.numpy(), bias_before)


def test_load_state_dict_shape_mismatch():
    m = MyCell()
    sd = dict(m.state_dict())
    sd["linear.weight"] = torch.zeros(4, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for linear.weight.*\[4, 3\].*\[4, 4\]"):
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"linear.weight": torch.zeros(4, 3)}, strict=False)


def test_load_state_dict_buffers():
    m = Net()
    sd = dict(m.state_dict())
    sd["running"] = torch.tensor([1.0, 2.0, 3.0])
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m.running.numpy(), [1.0, 2.0, 3.0])


# -- printing ----------------------------------------------------------------------------------


def test_mycell_repr():
    assert repr(MyCell()) == (
        "MyCell(\n  (linear): Linear(in_features=4, out_features=4, bias=True)\n)"
    )


def test_nested_repr_indentation():
    assert repr(Net()) == (
        "Net(\n"
        "  (fc1): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (inner): MyCell(\n"
        "    (linear): Linear(in_features=4, out_features=4, bias=True)\n"
        "  )\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )


def test_leaf_reprs():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Tanh()) == "Tanh()"
    assert repr(nn.Module()) == "Module()"


def test_extra_repr_with_children():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.Tanh()

        def extra_repr(self):
            return "k=1"

    assert repr(WithExtra()) == "WithExtra(\n  k=1\n  (act): Tanh()\n)"


def test_parameter_repr():
    p = nn.Parameter(torch.tensor([0.5, 0.25]))
    assert repr(p) == "Parameter containing:\ntensor([0.5000, 0.2500])"


# -- train / eval ------------------------------------------------------------------------------


def test_train_eval_flags_recursive():
    m = Net()
    assert m.training and all(s.training for s in m.modules())
    assert m.eval() is m
    assert not m.training and not any(s.training for s in m.modules())
    assert not m.inner.linear.training
    assert m.train() is m
    assert all(s.training for s in m.modules())
    m.train(False)
    assert not m.fc2.training


# -- Linear ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fin, fout", [(4, 4), (16, 3), (1, 5)])
def test_linear_init_range_and_shapes(fin, fout):
    lin = nn.Linear(fin, fout)
    assert lin.in_features == fin and lin.out_features == fout
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert w.shape == (fout, fin) and b.shape == (fout,)
    assert w.dtype == np.float32 and b.dtype == np.float32
    bound = 1.0 / math.sqrt(fin)
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert np.unique(w).size > 1  # actually random, not constant


def test_linear_init_covers_the_range():
    w = nn.Linear(100, 200).weight.numpy()
    bound = 0.1
    assert np.abs(w).max() <= bound
    assert w.min() < -0.9 * bound and w.max() > 0.9 * bound  # uniform, not e.g. normal * small
    assert abs(float(w.mean())) < 0.01


def test_linear_init_is_seeded():
    torch.manual_seed(5)
    a = nn.Linear(3, 3)
    torch.manual_seed(5)
    b = nn.Linear(3, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())


def test_linear_forward_against_numpy():
    lin = nn.Linear(4, 3)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    w, b = lin.weight.numpy().astype(np.float64), lin.bias.numpy().astype(np.float64)
    out = lin(torch.from_numpy(x))
    assert out.shape == (5, 3) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)


def test_linear_without_bias():
    lin = nn.Linear(4, 2, bias=False)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    out = lin(torch.from_numpy(x))
    np.testing.assert_allclose(
        out.numpy(), x.astype(np.float64) @ lin.weight.numpy().T, rtol=1e-5, atol=1e-6
    )


def test_activation_modules():
    x = np.array([[-2.0, 0.0, 3.0]], np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(nn.ReLU()(t).numpy(), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(nn.Tanh()(t).numpy(), np.tanh(x.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(
        nn.Sigmoid()(t).numpy(), 1 / (1 + np.exp(-x.astype(np.float64))), rtol=1e-6
    )


def test_mycell_forward():
    cell = MyCell()
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    h = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    w, b = (
        cell.linear.weight.numpy().astype(np.float64),
        cell.linear.bias.numpy().astype(np.float64),
    )
    a, c = cell(torch.from_numpy(x), torch.from_numpy(h))
    assert a is c
    np.testing.assert_allclose(a.numpy(), np.tanh(x @ w.T + b + h), rtol=1e-5, atol=1e-6)
