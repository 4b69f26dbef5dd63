#!/usr/bin/env python3
"""A vislab variational autoencoder (`vislab train --model vae`) as a torch.nn.Module.

Written by `vislab export --pytorch`. `build()` returns the network with the
checkpoint's architecture and parameter names, so
    model = build()
    model.load_state_dict(safetensors.torch.load_file("weights.safetensors"), strict=True)
gives the trained model. Images are flattened to [B, pixels] with values in
[0, 1]; vislab trains on binarized pixels (0 or 1) with a Bernoulli decoder.

    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, eps)      # eps ~ N(0, I), [B, latent]
    logits = model.decode_logits(z)          # model.decode(z): probabilities
    recon, kl = elbo_terms(logits, x, mu, logvar)   # nats per image; NELBO = recon + kl

train.py draws fresh weights the way vislab initializes them (kaiming_init).
"""
import json
import math

import torch
from torch import nn
from torch.nn import functional as F

# The checkpoint's metadata: architecture and training recipe.
CONFIG = json.loads(r'''__VISLAB_CONFIG__''')


def sizes(key):
    return [int(v) for v in CONFIG.get(key, "").split(",") if v]


class Vae(nn.Module):
    """vislab's VaeShape (engine/src/vae/net.rs).

    Encoder: [enc_conv1..N: 3x3 stride-2 pad-1 conv + ReLU, flatten] ->
    enc_fc1..M (+ ReLU) -> the heads enc_mu and enc_logvar (no activation).
    Decoder, mirrored: dec_fc1..M (+ ReLU) over the hidden sizes reversed,
    then either dec_out (linear, an MLP VAE) or dec_fc_conv (+ ReLU), the
    4x4 stride-2 pad-1 transposed convs dec_deconvN..2 (+ ReLU) and dec_out
    (a transposed conv to one channel). The decoder's output is logits.
    """

    def __init__(self, pixels, hidden, latent, conv):
        super().__init__()
        self.pixels, self.hidden, self.latent, self.conv = pixels, list(hidden), latent, list(conv)
        if conv:
            # vislab's convolutional VAE reads the pixels as one square channel
            self.side = math.isqrt(pixels)
            if self.side * self.side != pixels or self.side % (1 << len(conv)):
                raise ValueError(f"a convolutional VAE needs a square image with a side divisible by {1 << len(conv)}; got {pixels} pixels")
            self.conv_side = self.side >> len(conv)
            width = conv[-1] * self.conv_side * self.conv_side
        else:
            width = pixels
        # encoder
        cin = 1
        for i, c in enumerate(conv):
            self.add_module(f"enc_conv{i + 1}", nn.Conv2d(cin, c, 3, stride=2, padding=1))
            cin = c
        enc = [width] + self.hidden
        for i in range(len(self.hidden)):
            self.add_module(f"enc_fc{i + 1}", nn.Linear(enc[i], enc[i + 1]))
        self.enc_mu = nn.Linear(enc[-1], latent)
        self.enc_logvar = nn.Linear(enc[-1], latent)
        # decoder
        dec = [latent] + self.hidden[::-1]
        for i in range(len(self.hidden)):
            self.add_module(f"dec_fc{i + 1}", nn.Linear(dec[i], dec[i + 1]))
        if not conv:
            self.dec_out = nn.Linear(dec[-1], pixels)
            return
        self.dec_fc_conv = nn.Linear(dec[-1], width)
        for i in reversed(range(len(conv))):
            cout = conv[i - 1] if i > 0 else 1
            # the last stage (back to one channel) is the output head
            name = f"dec_deconv{i + 1}" if i > 0 else "dec_out"
            self.add_module(name, nn.ConvTranspose2d(conv[i], cout, 4, stride=2, padding=1))

    def encode(self, x):
        """x [B, pixels] (or [B, 1, S, S]) -> (mu, logvar), each [B, latent]."""
        h = x.reshape(len(x), -1)
        if self.conv:
            h = h.reshape(-1, 1, self.side, self.side)
            for i in range(len(self.conv)):
                h = torch.relu(getattr(self, f"enc_conv{i + 1}")(h))
            h = h.flatten(1)
        for i in range(len(self.hidden)):
            h = torch.relu(getattr(self, f"enc_fc{i + 1}")(h))
        return self.enc_mu(h), self.enc_logvar(h)

    def decode_logits(self, z):
        """z [B, latent] -> Bernoulli logits [B, pixels]."""
        h = z
        for i in range(len(self.hidden)):
            h = torch.relu(getattr(self, f"dec_fc{i + 1}")(h))
        if not self.conv:
            return self.dec_out(h)
        h = torch.relu(self.dec_fc_conv(h)).reshape(-1, self.conv[-1], self.conv_side, self.conv_side)
        for i in reversed(range(1, len(self.conv))):
            h = torch.relu(getattr(self, f"dec_deconv{i + 1}")(h))
        return self.dec_out(h).flatten(1)

    def decode(self, z):
        """Pixel probabilities [B, pixels] of latent points z [B, latent]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x, eps=None):
        """(logits, mu, logvar) with z = mu + exp(logvar / 2) * eps; eps is
        drawn from N(0, I) when not given (vislab feeds its own, seeded)."""
        mu, logvar = self.encode(x)
        if eps is None:
            eps = torch.randn_like(mu)
        return self.decode_logits(reparameterize(mu, logvar, eps)), mu, logvar

    def loss(self, x, eps=None):
        """(nelbo, recon, kl) of a batch of binarized images, nats per image."""
        logits, mu, logvar = self(x, eps)
        recon, kl = elbo_terms(logits, x, mu, logvar)
        return recon + kl, recon, kl

    def reconstruct(self, x):
        """Probabilities decoded from the posterior means (vislab's reconstruct: eps = 0)."""
        return self.decode(self.encode(x)[0])


# The output layers: no ReLU follows them (net.rs HEADS).
HEADS = ("enc_mu", "enc_logvar", "dec_out")


def reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def elbo_terms(logits, x, mu, logvar):
    """vislab's two terms, each a mean over the batch (net.rs):
    recon = sum over pixels of BCE(logits, x), the Bernoulli -log p(x | z);
    kl = KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar))."""
    b = len(logits)
    recon = F.binary_cross_entropy_with_logits(logits, x.reshape(b, -1), reduction="sum") / b
    kl = -0.5 * torch.sum(1 + logvar - mu * mu - torch.exp(logvar)) / b
    return recon, kl


def build():
    if CONFIG.get("vislab.arch") != "vae":
        raise ValueError(f"not a VAE checkpoint: vislab.arch = {CONFIG.get('vislab.arch')!r}")
    return Vae(int(CONFIG["vislab.vae.input"]), sizes("vislab.vae.hidden"), int(CONFIG["vislab.vae.latent"]), sizes("vislab.vae.conv"))


if __name__ == "__main__":
    import os

    from safetensors.torch import load_file

    m = build()
    m.load_state_dict(load_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.safetensors")), strict=True)
    print(m)
