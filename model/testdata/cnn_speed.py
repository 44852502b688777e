#!/usr/bin/python3
"""Time PyTorch's implementations of LeNet-5's covariance product and HVP (float64, CPU).

LeNet-5 as sgdprior's cnn:c6k5p2,max2,c16k5,max2,f120,f84 on 1x28x28 inputs, tanh, 10
classes, mean cross-entropy, on random data: the shapes of BenchmarkCNNLeNet5
(model/cnn_bench_test.go). Prints one line per (method, n): the median of the timed
repetitions in ms. Usage: cnn_speed.py [threads] (default 2, the benchmark's cores).

Covariance product C u = (1/n) sum_i (g_i . u) g_i - gbar (gbar . u), with gbar fixed (as
sgdprior's GradDotSum takes mu = gbar . u as an input):
  vmap_grad   functorch vmap(grad) materialises the n x d per-example gradients G, then
              G^T (G u) / n (chunks of 256 examples, the materialised G of a chunk reused
              for both products, as a careful user would).
  jvp_vjp     the factorised product: J u by forward mode (functorch.jvp of the per-example
              losses), then J^T w by reverse mode (one vjp): two passes, nothing n x d.
HVP (1/n) sum_i H_i v:
  double_bwd  torch.autograd.grad of (grad . v) (double backward).
  fwd_rev     functorch.jvp of the gradient (forward-over-reverse).
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
from functorch import grad, jvp, make_functional, vjp, vmap

torch.set_default_dtype(torch.float64)
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(1)

net = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.Tanh(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
fnet, params = make_functional(net)
d = sum(p.numel() for p in params)
assert d == 61706, d


def nll(z, Y):
    # Cross-entropy written out: F.cross_entropy's backward has no forward-mode derivative
    # in PyTorch 1.13 (nll_loss_backward), which fwd_rev and jvp_vjp need.
    return torch.logsumexp(z, 1) - z.gather(1, Y.unsqueeze(1)).squeeze(1)


def loss_one(p, x, y):
    return nll(fnet(p, x.unsqueeze(0)), y.unsqueeze(0)).sum()


def losses(p, X, Y):
    return nll(fnet(p, X), Y)


def mean_loss(p, X, Y):
    return nll(fnet(p, X), Y).mean()


def split(v):
    out, o = [], 0
    for p in params:
        out.append(v[o:o + p.numel()].view_as(p))
        o += p.numel()
    return tuple(out)


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def timeit(f, reps):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


for n in (256, 4096):
    X = torch.randn(n, 1, 28, 28)
    Y = torch.randint(0, 10, (n,))
    u = torch.randn(d)
    us = split(u)
    gbar = flat(torch.autograd.grad(mean_loss(params, X, Y), params))
    mu = float(gbar @ u)
    pex = vmap(grad(loss_one), in_dims=(None, 0, 0))

    def cov_vmap():
        out = torch.zeros(d)
        for i0 in range(0, n, 256):
            g = pex(params, X[i0:i0 + 256], Y[i0:i0 + 256])
            G = torch.cat([t.reshape(t.shape[0], -1) for t in g], dim=1)
            out += G.T @ ((G @ u - mu) / n)
        return out

    def cov_jvp_vjp():
        _, ju = jvp(lambda *p: losses(p, X, Y), tuple(params), us)
        _, back = vjp(lambda *p: losses(p, X, Y), *params)
        return flat(back((ju - mu) / n))

    def hvp_double():
        g = torch.autograd.grad(mean_loss(params, X, Y), params, create_graph=True)
        return flat(torch.autograd.grad(g, params, grad_outputs=us))

    def hvp_fwd_rev():
        return flat(jvp(lambda *p: grad(lambda q: mean_loss(q, X, Y))(p), tuple(params), us)[1])

    a, b = cov_vmap(), cov_jvp_vjp()
    assert torch.allclose(a, b, rtol=1e-9, atol=1e-12), float((a - b).abs().max())
    h1, h2 = hvp_double(), hvp_fwd_rev()
    assert torch.allclose(h1, h2, rtol=1e-9, atol=1e-12), float((h1 - h2).abs().max())
    reps = 5 if n <= 256 else 3
    for name, f in (("cov vmap_grad", cov_vmap), ("cov jvp_vjp", cov_jvp_vjp),
                    ("hvp double_bwd", hvp_double), ("hvp fwd_rev", hvp_fwd_rev)):
        print(f"{name:16s} n={n:5d} threads={threads}: {timeit(f, reps):9.1f} ms", flush=True)
