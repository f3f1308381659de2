"""pytorch/examples' DCGAN as its main.py writes it: `weights_init` applied by class name
(`m.__class__.__name__.find('Conv')`), the `Generator` (ConvTranspose2d + BatchNorm2d + ReLU,
Tanh) and the `Discriminator` (Conv2d + BatchNorm2d + LeakyReLU, Sigmoid, `view(-1, 1).squeeze(1)`),
with the `input.is_cuda and self.ngpu > 1` data-parallel branch, at a small width: eager,
traced, scripted, imported with `xjit.from_torch`, saved/loaded, against PyTorch. TorchScript
refuses to compile `nn.parallel.data_parallel`; xjit's script knows `is_cuda` is False (its
tensors are on the CPU), drops that branch and compiles the rest."""

from __future__ import annotations

import numpy as np
import torch
from model_oracle import check_compiled, twins

NZ, NGF, NDF, NC = 8, 4, 4, 3  # the example's 100, 64, 64, 3, scaled down


def dcgan(torch):
    nn = torch.nn
    nz, ngf, ndf, nc = NZ, NGF, NDF, NC

    # custom weights initialization called on netG and netD
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()  # noqa: UP008 (the example's spelling)
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 8),
                nn.ReLU(True),
                # state size. (ngf*8) x 4 x 4
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                # state size. (ngf*4) x 8 x 8
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                # state size. (ngf*2) x 16 x 16
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                # state size. (ngf) x 32 x 32
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh(),
                # state size. (nc) x 64 x 64
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()  # noqa: UP008
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is (nc) x 64 x 64
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf) x 32 x 32
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*2) x 16 x 16
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*4) x 8 x 8
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*8) x 4 x 4
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)

            return output.view(-1, 1).squeeze(1)

    def netG(ngpu=1):  # noqa: N802 (the example's names)
        net = Generator(ngpu)
        net.apply(weights_init)
        return net

    def netD(ngpu=1):  # noqa: N802
        net = Discriminator(ngpu)
        net.apply(weights_init)
        return net

    return netG, netD


def _randomise_bn(t) -> None:
    with torch.no_grad():
        for m in t.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.02)
                m.running_var.uniform_(0.5, 2.0)


def test_weights_init_by_class_name() -> None:
    """Conv2d/ConvTranspose2d weights drawn N(0, 0.02), BatchNorm weights N(1, 0.02): xjit's
    class names must be torch's for `find('Conv')` to pick the same modules."""
    import xjit

    g, d = (f() for f in dcgan(xjit))
    for net in (g, d):
        for m in net.modules():
            name = type(m).__name__
            if "Conv" in name:
                assert abs(float(m.weight.std()) - 0.02) < 0.01, name
            elif "BatchNorm" in name:
                assert abs(float(m.weight.mean()) - 1.0) < 0.02 and float(m.bias.abs().sum()) == 0
    assert sum("ConvTranspose2d" == type(m).__name__ for m in g.modules()) == 5


def test_dcgan_generator(tmp_path) -> None:
    t, x = twins(lambda lib: dcgan(lib)[0])
    _randomise_bn(t)
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    sets = [(rng.standard_normal((2, NZ, 1, 1)).astype(np.float32),) for _ in range(2)]
    check_compiled(t, x, sets, tmp_path, script="xjit", script_save=False)


def test_dcgan_discriminator(tmp_path) -> None:
    t, x = twins(lambda lib: dcgan(lib)[1])
    _randomise_bn(t)
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(1)
    sets = [(np.tanh(rng.standard_normal((3, NC, 64, 64))).astype(np.float32),) for _ in range(2)]
    check_compiled(t, x, sets, tmp_path, script="xjit", script_save=False)
