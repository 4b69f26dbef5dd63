"""numpy reference for engine/benches/step.rs: one training step (forward +
backward, all parameter gradients) of the same models, hand-written.
Prints `<model> <median ms per step>`. Usage: step_ref.py mlp|cnn|dcgan [iters]."""
import sys
import time

import numpy as np

B = 64
rng = np.random.default_rng(0)


def xent_grad(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = -(z[np.arange(B), labels] - np.log(s[:, 0])).mean()
    d = e / s
    d[np.arange(B), labels] -= 1.0
    return loss, d / B


def linear(fan_in, fan_out):
    b = 1.0 / np.sqrt(fan_in)
    return (rng.uniform(-b, b, (fan_out, fan_in)).astype(np.float32),
            rng.uniform(-b, b, fan_out).astype(np.float32))


def mlp_step(p, x, y):
    w1, b1, w2, b2 = p
    h = x @ w1.T + b1
    r = np.maximum(h, 0)
    logits = r @ w2.T + b2
    loss, d = xent_grad(logits, y)
    gw2 = d.T @ r
    gb2 = d.sum(0)
    dr = d @ w2
    dh = dr * (h > 0)
    gw1 = dh.T @ x
    gb1 = dh.sum(0)
    return loss, (gw1, gb1, gw2, gb2)


def im2col(x, k):
    # x [B, C, H, W] -> [B, OH, OW, C*k*k] (stride 1, no padding)
    b, c, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    s = x.strides
    v = np.lib.stride_tricks.as_strided(x, (b, oh, ow, c, k, k), (s[0], s[2], s[3], s[1], s[2], s[3]))
    return v.reshape(b * oh * ow, c * k * k), oh, ow


def col2im(dcol, shape, k):
    b, c, h, w = shape
    oh, ow = h - k + 1, w - k + 1
    d = dcol.reshape(b, oh, ow, c, k, k)
    dx = np.zeros(shape, np.float32)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + oh, j:j + ow] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx


def conv_fwd(x, w, b):
    cout, cin, k, _ = w.shape
    col, oh, ow = im2col(x, k)
    out = col @ w.reshape(cout, -1).T + b
    return out.reshape(x.shape[0], oh, ow, cout).transpose(0, 3, 1, 2), col


def conv_bwd(dout, x, col, w, need_dx):
    cout, cin, k, _ = w.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, cout)
    gw = (d.T @ col).reshape(w.shape)
    gb = d.sum(0)
    dx = col2im(d @ w.reshape(cout, -1), x.shape, k) if need_dx else None
    return gw, gb, dx


def pool_fwd(x):
    b, c, h, w = x.shape
    v = x.reshape(b, c, h // 2, 2, w // 2, 2)
    m = v.max(axis=(3, 5))
    return m, v


def pool_bwd(dm, v, m):
    mask = v == m[:, :, :, None, :, None]
    return (mask * dm[:, :, :, None, :, None]).reshape(v.shape[0], v.shape[1], v.shape[2] * 2, v.shape[4] * 2)


def cnn_step(p, x, y):
    c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b = p
    a1, col1 = conv_fwd(x, c1w, c1b)
    r1 = np.maximum(a1, 0)
    m1, v1 = pool_fwd(r1)
    a2, col2 = conv_fwd(m1, c2w, c2b)
    r2 = np.maximum(a2, 0)
    m2, v2 = pool_fwd(r2)
    f = m2.reshape(B, -1)
    h1 = f @ f1w.T + f1b
    q1 = np.maximum(h1, 0)
    h2 = q1 @ f2w.T + f2b
    q2 = np.maximum(h2, 0)
    logits = q2 @ f3w.T + f3b
    loss, d = xent_grad(logits, y)
    g3w, g3b = d.T @ q2, d.sum(0)
    d = (d @ f3w) * (h2 > 0)
    g2w, g2b = d.T @ q1, d.sum(0)
    d = (d @ f2w) * (h1 > 0)
    g1w, g1b = d.T @ f, d.sum(0)
    d = (d @ f1w).reshape(m2.shape)
    d = pool_bwd(d, v2, m2) * (a2 > 0)
    gc2w, gc2b, d = conv_bwd(d, m1, col2, c2w, True)
    d = pool_bwd(d, v1, m1) * (a1 > 0)
    gc1w, gc1b, _ = conv_bwd(d, x, col1, c1w, False)
    return loss, (gc1w, gc1b, gc2w, gc2b, g1w, g1b, g2w, g2b, g3w, g3b)


def dcgan_step(p, x, t):
    """ConvTranspose2d(64->32, k4, s2, p1, no bias) as GEMM + col2im,
    BatchNorm (train, running stats), ReLU, MSE against t."""
    w, gamma, beta, rmean, rvar = p
    b, cin, h, wd = x.shape
    cout, k, s, pad = w.shape[1], w.shape[2], 2, 1
    fh, fw = (h - 1) * s + k, (wd - 1) * s + k
    oh, ow = fh - 2 * pad, fw - 2 * pad
    xm = x.transpose(0, 2, 3, 1).reshape(-1, cin)
    cols = (xm @ w.reshape(cin, -1)).reshape(b, h, wd, cout, k, k)
    full = np.zeros((b, cout, fh, fw), np.float32)
    for i in range(k):
        for j in range(k):
            full[:, :, i:i + s * h:s, j:j + s * wd:s] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    y = full[:, :, pad:pad + oh, pad:pad + ow]
    m = b * oh * ow
    mean = y.mean(axis=(0, 2, 3), keepdims=True)
    c = y - mean
    var = (c * c).mean(axis=(0, 2, 3), keepdims=True)
    std = np.sqrt(var + 1e-5)
    xhat = c / std
    out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    new_rmean = 0.9 * rmean + 0.1 * mean.ravel()
    new_rvar = 0.9 * rvar + 0.1 * var.ravel() * m / (m - 1)
    r = np.maximum(out, 0)
    d = r - t
    loss = (d * d).mean()
    da = (2.0 / d.size) * d * (out > 0)
    gbeta = da.sum(axis=(0, 2, 3))
    ggamma = (da * xhat).sum(axis=(0, 2, 3))
    dxh = da * gamma[None, :, None, None]
    dy = (m * dxh - dxh.sum(axis=(0, 2, 3), keepdims=True)
          - xhat * (dxh * xhat).sum(axis=(0, 2, 3), keepdims=True)) / (m * std)
    dfull = np.zeros((b, cout, fh, fw), np.float32)
    dfull[:, :, pad:pad + oh, pad:pad + ow] = dy
    dcols = np.empty((b, h, wd, cout, k, k), np.float32)
    for i in range(k):
        for j in range(k):
            dcols[:, :, :, :, i, j] = dfull[:, :, i:i + s * h:s, j:j + s * wd:s].transpose(0, 2, 3, 1)
    gw = (xm.T @ dcols.reshape(b * h * wd, -1)).reshape(w.shape)
    return loss, (gw, ggamma, gbeta, new_rmean, new_rvar)


def main():
    which = sys.argv[1]
    if which not in ("mlp", "dcgan", "cnn"):
        sys.exit(f"no numpy version of {which}")
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    y = rng.integers(0, 10, B)
    if which == "mlp":
        x = rng.uniform(0, 1, (B, 784)).astype(np.float32)
        p = linear(784, 256) + linear(256, 10)
        step = mlp_step
    elif which == "dcgan":
        x = rng.uniform(0, 1, (B, 64, 8, 8)).astype(np.float32)
        y = rng.uniform(0, 1, (B, 32, 16, 16)).astype(np.float32)
        bw = 1 / np.sqrt(32 * 16)
        p = (rng.uniform(-bw, bw, (64, 32, 4, 4)).astype(np.float32), np.ones(32, np.float32),
             np.zeros(32, np.float32), np.zeros(32, np.float32), np.ones(32, np.float32))
        step = dcgan_step
    else:
        x = rng.uniform(0, 1, (B, 1, 28, 28)).astype(np.float32)
        cb1, cb2 = 1 / np.sqrt(25), 1 / np.sqrt(150)
        p = (rng.uniform(-cb1, cb1, (6, 1, 5, 5)).astype(np.float32), np.zeros(6, np.float32),
             rng.uniform(-cb2, cb2, (16, 6, 5, 5)).astype(np.float32), np.zeros(16, np.float32)) \
            + linear(256, 120) + linear(120, 84) + linear(84, 10)
        step = cnn_step
    for _ in range(10):
        step(p, x, y)
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        step(p, x, y)
        ts.append(time.perf_counter() - t)
    ts.sort()
    print(which, ts[len(ts) // 2] * 1e3)


main()
