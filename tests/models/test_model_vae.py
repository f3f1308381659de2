"""pytorch/examples' VAE as its main.py writes it (`encode` -> `fc21`/`fc22`, `reparameterize`
with `torch.randn_like`, `decode` with `torch.sigmoid`, `x.view(-1, 784)`) and its
`loss_function` (BCE with reduction='sum' + KLD). The sampling path differs between libraries
(their random streams differ), so the comparison with PyTorch runs the deterministic form users
write for evaluation (`mu` when not training); the sampled form is checked by its own laws:
a seed repeats it, the compiled code draws fresh noise on each call, and the noise is N(0, 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_oracle import assert_close, check_compiled, twins

import xjit
from xjit.errors import FrontendError


def vae(torch):
    nn = torch.nn
    F = torch.nn.functional

    class VAE(nn.Module):
        def __init__(self, sample_in_eval=False):
            super(VAE, self).__init__()  # noqa: UP008 (the example's spelling)
            self.sample_in_eval = sample_in_eval

            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            if self.training or self.sample_in_eval:
                std = torch.exp(0.5 * logvar)
                eps = torch.randn_like(std)
                return mu + eps * std
            return mu

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    # Reconstruction + KL divergence losses summed over all elements and batch
    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")

        # see Appendix B from VAE paper:
        # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
        # https://arxiv.org/abs/1312.6114
        # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

        return BCE + KLD

    return VAE, loss_function


def _images(seed: int) -> np.ndarray:
    """A batch as the MNIST loader gives it: (N, 1, 28, 28) in [0, 1]."""
    return np.random.default_rng(seed).uniform(0, 1, (3, 1, 28, 28)).astype(np.float32)


def test_vae_deterministic_eval_path(tmp_path) -> None:
    t, x = twins(lambda lib: vae(lib)[0])
    check_compiled(t, x, [(_images(0),), (_images(1),)], tmp_path)


def test_vae_loss_function() -> None:
    t, x = twins(lambda lib: vae(lib)[0])
    a = _images(2)
    with torch.no_grad():
        recon, mu, logvar = t(torch.from_numpy(a))
        want = vae(torch)[1](recon, torch.from_numpy(a), mu, logvar)
    got_outputs = x(xjit.from_numpy(a))
    got = vae(xjit)[1](*got_outputs[:1], xjit.from_numpy(a), *got_outputs[1:])
    assert_close(got, want, "loss")
    traced = xjit.jit.trace(lambda v: vae(xjit)[1](*x(v)[:1], v, *x(v)[1:]), (xjit.from_numpy(a),))
    assert_close(traced(xjit.from_numpy(a)), want, "traced loss")


def test_vae_sampling_path_laws_and_loud_compile_refusal() -> None:
    """`randn_like` eagerly: a seed repeats the draw, each call draws anew, and the noise
    recovered from z is standard normal (one image 64 times: 64 * 20 draws); mu and logvar
    match PyTorch. Compiled code has no random number generator: the trace and the script of
    the sampling path refuse at the model's line, naming the way out."""
    t, x = twins(lambda lib: vae(lib)[0], sample_in_eval=True)
    a = np.repeat(_images(3)[:1], 64, axis=0)
    with torch.no_grad():
        _, mu_t, logvar_t = t(torch.from_numpy(a))
    with xjit.no_grad():
        xjit.manual_seed(7)
        r1, mu, logvar = x(xjit.from_numpy(a))
        r2, _, _ = x(xjit.from_numpy(a))
        xjit.manual_seed(7)
        r3, _, _ = x(xjit.from_numpy(a))
        assert_close((mu, logvar), (mu_t, logvar_t), "mu, logvar")
        np.testing.assert_array_equal(r1.numpy(), r3.numpy())
        assert not np.allclose(r1.numpy(), r2.numpy())
        xjit.manual_seed(7)
        z = x.reparameterize(mu, logvar).numpy()
    eps = (z - mu.numpy()) / np.exp(0.5 * logvar.numpy())
    assert abs(eps.mean()) < 0.1 and abs(eps.std() - 1.0) < 0.1
    assert len({tuple(row) for row in np.round(eps, 5)}) == 64  # each row its own draw
    where = r"test_model_vae.py:\d+:\d+: .*"
    with pytest.raises(Exception, match=where + "rand/randn cannot be compiled.*pass it in"):
        xjit.jit.trace(x, (xjit.from_numpy(a),))
    with pytest.raises(FrontendError, match=where + "randn_like"):
        xjit.jit.script(x)(xjit.from_numpy(a))
