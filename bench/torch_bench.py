#!/usr/bin/python3
"""PyTorch side of sgdprior's speed benchmarks (run by `go run ./bench`; see BENCHMARKS.md,
section "speed").

    /usr/bin/python3 bench/torch_bench.py --dir DIR --threads T [--out results.json] [--only a,b]

Reads the inputs that `gobench -prepare` wrote into DIR (the same data, θ and vectors the Go
side uses), runs each workload in float64 with T intra-op threads, and writes the results
(torch_<workload>.npy) beside them so that the harness can compare them with sgdprior's.
Set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to T as well (the harness does): Debian's
torch multiplies matrices with OpenBLAS, whose thread count torch.set_num_threads does not
control.

    /usr/bin/python3 bench/torch_bench.py --dir DIR --threads T --serve

--serve reads requests on stdin, one a line, and answers each with one JSON line: "list"
with {"workloads": [[name, impl], ...]}, "run NAME IMPL MINTIME" (seconds) with one
measurement. The harness keeps one server per thread setting and sends the requests of its
rounds, so that every implementation of a workload runs next to the others.

Every workload is timed the same way as on the Go side: one warm-up call, then repetitions
until --mintime seconds have passed (at least one); a warm-up longer than 5 x mintime is the
measurement itself. The best and the median are reported. Several implementations are timed
for most workloads and each is reported, so the harness can take PyTorch's best. The
harness counts the flops (bench/table.go); the factorised covariance product below makes 3
products of the first layer's size (X W1^T, X U1^T, (D1 w)^T X), as sgdprior's GradDotSum:

  cov_N    u -> Cu, C the population covariance of the N per-example gradients:
           "perex_vmap"   per-example gradients from functorch vmap(grad), in chunks of 256
                          rows, copied into a contiguous 256 x d matrix P (allocated once),
                          then a = P u and P^T [a, 1] (two matrix-vector passes):
                          Cu = (1/N) sum_i a_i g_i - (gbar.u) gbar;
           "perex_outer"  the same with the outer-product trick (one batched forward and
                          backward pass, weight gradients D_l[i] (x) A_{l-1}[i] broadcast
                          into P), the fastest way found to materialise them;
           "factor"       the factorisation sgdprior uses (one forward/backward pass,
                          per-layer products with the activations and errors).
  gram_N   the N x N matrix g_i.g_j: "perex_*" materialise all N per-example gradients
           (N x d, allocated once) and multiply P P^T; "factor" is
           sum_l (D_l D_l^T) o (A_{l-1} A_{l-1}^T + 1).
  hvp_N    (1/N) sum_i H_i v: "double_backward" (autograd.grad twice) and "fwd_over_rev"
           (functorch jvp of grad).
  chains_* 64 SGD chains batched in one tensor, B = 32 indices per chain drawn with
           replacement (torch.randint) each step: "manual" (closed-form gradients with bmm)
           and "autograd" (autograd.grad of the sum of the chains' losses).
  gemm_peak  torch.mm on 2048 x 2048 float64 matrices.

LeNet-5 (the spec in inputs.json, tanh, max pooling; nn.Conv2d/nn.Linear layout) on the
first N MNIST images as 1 x 28 x 28:
  lenet_cov_N   "perex_vmap"  functorch vmap(grad) per-example gradients in chunks of 256,
                              as cov_N; "perex_unfold" the same rows from one batched pass,
                              the convolutions' weight gradients as per-example
                              D_i U_i^T from the unfolded input (torch unfold + einsum, as
                              BackPACK); "jvp_vjp" the factorised product without
                              per-example gradients: a = J u by forward-mode jvp of the
                              per-example losses, then J^T w by one vjp.
  lenet_gram_256  "perex_vmap", "perex_unfold": P P^T from the materialised rows.
  lenet_hvp_N   "double_backward" and "fwd_over_rev", as hvp_N.
  chains_lenet  64 chains batched: "vmap" (functorch vmap over the chains of grad of each
                chain's batch loss; functorch turns the convolutions into grouped ones) and
                "grouped" (the chains' convolutions written as one grouped convolution,
                groups = chains, and the dense layers with bmm; autograd of the sum of the
                chains' losses).
"""

import argparse
import gc
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

try:
    from functorch import grad as ft_grad, jvp as ft_jvp, vmap as ft_vmap
except ImportError:  # torch >= 2 ships it as torch.func
    from torch.func import grad as ft_grad, jvp as ft_jvp, vmap as ft_vmap


def load(d, name):
    return torch.from_numpy(np.load(os.path.join(d, name)))


def timeit(f, mintime):
    """Best and median seconds of f over repetitions for at least mintime seconds (at least
    one) after one warm-up call; the warm-up alone is the measurement when it took longer
    than 5 x mintime. The same rule as gobench's."""
    t0 = time.perf_counter()
    f()
    first = time.perf_counter() - t0
    if first > 5 * mintime:
        return first, first, 1
    times = []
    start = time.perf_counter()
    while len(times) < 1 or (time.perf_counter() - start < mintime and len(times) < 200):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2], len(times)


# --- mlp:h on MNIST (tanh, softmax cross-entropy; PyTorch nn.Linear layout) --------------

def split(theta, h, p=784, k=10):
    o = 0
    W1 = theta[o:o + h * p].view(h, p); o += h * p
    b1 = theta[o:o + h]; o += h
    W2 = theta[o:o + k * h].view(k, h); o += k * h
    b2 = theta[o:o + k]; o += k
    assert o == theta.numel()
    return W1, b1, W2, b2


def loss_one(params, x, y):
    W1, b1, W2, b2 = params
    z = W2 @ torch.tanh(W1 @ x + b1) + b2
    return torch.nn.functional.cross_entropy(z.unsqueeze(0), y.unsqueeze(0))


def mean_loss(params, X, y):
    W1, b1, W2, b2 = params
    Z = torch.tanh(X @ W1.T + b1) @ W2.T + b2
    return torch.nn.functional.cross_entropy(Z, y)


def mean_loss_onehot(params, X, onehot):
    """mean_loss written with logsumexp (nll_loss has no forward-mode AD in torch 1.13)."""
    W1, b1, W2, b2 = params
    Z = torch.tanh(X @ W1.T + b1) @ W2.T + b2
    return (torch.logsumexp(Z, 1) - (Z * onehot).sum(1)).mean()


perex_grads = ft_vmap(ft_grad(loss_one), in_dims=(None, 0, 0))


def fwd_bwd(params, X, y):
    """Activations and back-propagated errors D_l = dl_i/dz_l (not divided by n)."""
    W1, b1, W2, b2 = params
    A1 = torch.tanh(torch.addmm(b1, X, W1.T))
    Z2 = torch.addmm(b2, A1, W2.T)
    D2 = torch.softmax(Z2, 1)
    D2[torch.arange(X.shape[0]), y] -= 1
    D1 = (D2 @ W2).mul_(1 - A1 * A1)
    return A1, D1, D2


class PerExample:
    """Per-example gradients of mlp:h written as the rows of a contiguous matrix P (rows x d),
    either with functorch ("vmap": vmap(grad) of the one-example loss) or with the
    outer-product trick ("outer": one batched forward/backward pass, then the weight
    gradients D_l[i] (x) A_{l-1}[i] by broadcasting into P). P is allocated once, outside
    the timed calls."""

    def __init__(self, params, rows, method):
        self.params, self.method = params, method
        self.shapes = [q.shape for q in params]
        self.d = sum(q.numel() for q in params)
        self.P = torch.empty(rows, self.d)

    def views(self, row0, m):
        """Per-layer views of rows row0 .. row0+m-1 of P."""
        out, o = [], 0
        for shp in self.shapes:
            sz = int(np.prod(shp))
            out.append(self.P[row0:row0 + m, o:o + sz].view(m, *shp))
            o += sz
        return out

    def fill(self, X, y, row0=0):
        """Writes the per-example gradients of the rows of X into P from row row0 on."""
        vs = self.views(row0, X.shape[0])
        if self.method == "vmap":
            for v, g in zip(vs, perex_grads(self.params, X, y)):
                v.copy_(g)
            return
        A1, D1, D2 = fwd_bwd(self.params, X, y)
        torch.mul(D1[:, :, None], X[:, None, :], out=vs[0])
        vs[1].copy_(D1)
        torch.mul(D2[:, :, None], A1[:, None, :], out=vs[2])
        vs[3].copy_(D2)


def cov_perex(pe, X, y, u, chunk=256):
    """Cu = (1/n) sum_i (g_i.u) g_i - (gbar.u) gbar, from the materialised rows."""
    n = X.shape[0]
    acc = torch.zeros(pe.d, 2)
    t = 0.0
    for i0 in range(0, n, chunk):
        m = min(chunk, n - i0)
        pe.fill(X[i0:i0 + m], y[i0:i0 + m])
        P = pe.P[:m]
        a = P @ u
        t += float(a.sum())
        acc += P.T @ torch.stack([a, torch.ones(m)], 1)
    return acc[:, 0] / n - (t / n) * (acc[:, 1] / n)


def gram_perex(pe, X, y, chunk=256):
    """G = P P^T with every example's gradient materialised (pe has n rows)."""
    n = X.shape[0]
    for i0 in range(0, n, chunk):
        pe.fill(X[i0:i0 + chunk], y[i0:i0 + chunk], i0)
    P = pe.P[:n]
    return P @ P.T


def cov_factor(params, X, y, U):
    n = X.shape[0]
    W1, b1, W2, b2 = params
    U1, ub1, U2, ub2 = U
    A1, D1, D2 = fwd_bwd(params, X, y)
    a = ((X @ U1.T) * D1).sum(1) + D1 @ ub1 + ((A1 @ U2.T) * D2).sum(1) + D2 @ ub2
    w = (a - a.mean()) / n
    return [(D1 * w[:, None]).T @ X, D1.T @ w, (D2 * w[:, None]).T @ A1, D2.T @ w]


def gram_factor(params, X, y):
    A1, D1, D2 = fwd_bwd(params, X, y)
    return (D1 @ D1.T) * (X @ X.T + 1) + (D2 @ D2.T) * (A1 @ A1.T + 1)


def hvp_double_backward(params, X, y, V):
    ps = [q.detach().requires_grad_(True) for q in params]
    g = torch.autograd.grad(mean_loss(ps, X, y), ps, create_graph=True)
    return torch.autograd.grad(g, ps, grad_outputs=V)


def hvp_fwd_over_rev(params, X, onehot, V):
    return ft_jvp(lambda *ps: ft_grad(mean_loss_onehot)(ps, X, onehot), tuple(params), tuple(V))[1]


# --- LeNet-5 (cnn:c6k5p2,max2,c16k5,max2,f120,f84) ------------------------------------------

LENET_CONVS = ((6, 1, 5, 2), (16, 6, 5, 0))  # (out, in, kernel, padding), each then max2
LENET_DENSE = ((120, 400), (84, 120), (10, 84))  # (out, in)


def lenet_shapes():
    shp = []
    for o, i, k, _ in LENET_CONVS:
        shp += [(o, i, k, k), (o,)]
    for o, i in LENET_DENSE:
        shp += [(o, i), (o,)]
    return shp


def lenet_split(theta):
    out, o = [], 0
    for shp in lenet_shapes():
        sz = int(np.prod(shp))
        out.append(theta[o:o + sz].view(*shp))
        o += sz
    assert o == theta.numel()
    return out


def lenet_logits(params, X):
    """Logits of a batch X (n, 1, 28, 28)."""
    h = X
    for l, (_, _, _, pad) in enumerate(LENET_CONVS):
        h = torch.nn.functional.max_pool2d(torch.tanh(torch.nn.functional.conv2d(h, params[2 * l], params[2 * l + 1], padding=pad)), 2)
    h = h.flatten(1)
    nc = 2 * len(LENET_CONVS)
    for l in range(len(LENET_DENSE)):
        h = torch.nn.functional.linear(h, params[nc + 2 * l], params[nc + 2 * l + 1])
        if l < len(LENET_DENSE) - 1:
            h = torch.tanh(h)
    return h


def lenet_losses(params, X, onehot):
    """Per-example NLL, written with logsumexp (forward-mode AD works through it)."""
    Z = lenet_logits(params, X)
    return torch.logsumexp(Z, 1) - (Z * onehot).sum(1)


def lenet_loss_one(params, x, y):
    z = lenet_logits(params, x.unsqueeze(0))
    return torch.nn.functional.cross_entropy(z, y.unsqueeze(0))


lenet_perex_grads = ft_vmap(ft_grad(lenet_loss_one), in_dims=(None, 0, 0))


class LeNetPerExample(PerExample):
    """Per-example gradients of LeNet-5 written into the rows of a contiguous P (rows x d):
    "vmap" with functorch, "unfold" from one batched forward/backward pass (autograd's
    errors at every layer's pre-activation, retained), each convolution's per-example
    weight gradient D_i U_i^T with U_i the unfolded input (torch unfold), the dense layers'
    as outer products."""

    def fill(self, X, y, row0=0):
        vs = self.views(row0, X.shape[0])
        if self.method == "vmap":
            for v, g in zip(vs, lenet_perex_grads(self.params, X, y)):
                v.copy_(g)
            return
        with torch.enable_grad():
            ps = [q.detach() for q in self.params]
            inputs, zs = [], []
            h = X
            for l, (o, i, k, pad) in enumerate(LENET_CONVS):
                inputs.append(h)
                z = torch.nn.functional.conv2d(h, ps[2 * l], ps[2 * l + 1], padding=pad).requires_grad_(True)
                zs.append(z)
                h = torch.nn.functional.max_pool2d(torch.tanh(z), 2)
            h = h.flatten(1)
            nc = 2 * len(LENET_CONVS)
            for l in range(len(LENET_DENSE)):
                inputs.append(h)
                z = torch.nn.functional.linear(h, ps[nc + 2 * l], ps[nc + 2 * l + 1]).requires_grad_(True)
                zs.append(z)
                h = torch.tanh(z) if l < len(LENET_DENSE) - 1 else z
            loss = torch.nn.functional.cross_entropy(h, y, reduction="sum")
            ds = torch.autograd.grad(loss, zs)
        n = X.shape[0]
        for l, (o, i, k, pad) in enumerate(LENET_CONVS):
            U = torch.nn.functional.unfold(inputs[l], k, padding=pad)  # n x (i k k) x positions
            D = ds[l].reshape(n, o, -1)
            torch.bmm(D, U.transpose(1, 2), out=vs[2 * l].view(n, o, i * k * k))
            torch.sum(D, 2, out=vs[2 * l + 1])
        nc, lc = 2 * len(LENET_CONVS), len(LENET_CONVS)
        for l in range(len(LENET_DENSE)):
            torch.mul(ds[lc + l][:, :, None], inputs[lc + l][:, None, :], out=vs[nc + 2 * l])
            vs[nc + 2 * l + 1].copy_(ds[lc + l])


def lenet_cov_jvp_vjp(params, X, onehot, U):
    """Cu = (1/n) J^T (a - mean a), a = J u: one jvp and one vjp of the per-example losses."""
    n = X.shape[0]
    f = lambda *ps: lenet_losses(ps, X, onehot)
    _, a = ft_jvp(f, tuple(params), tuple(U))
    w = (a - a.mean()) / n
    with torch.enable_grad():
        ps = [q.detach().requires_grad_(True) for q in params]
        return torch.autograd.grad(lenet_losses(ps, X, onehot), ps, grad_outputs=w)


def lenet_hvp_double_backward(params, X, y, V):
    ps = [q.detach().requires_grad_(True) for q in params]
    g = torch.autograd.grad(torch.nn.functional.cross_entropy(lenet_logits(ps, X), y), ps, create_graph=True)
    return torch.autograd.grad(g, ps, grad_outputs=V)


def lenet_hvp_fwd_over_rev(params, X, onehot, V):
    mean = lambda ps, X, oh: lenet_losses(ps, X, oh).mean()
    return ft_jvp(lambda *ps: ft_grad(mean)(ps, X, onehot), tuple(params), tuple(V))[1]


class ChainSteps:
    """SGD steps of C chains batched in one (C, d) tensor self.theta, weight decay self.wd
    and learning rate self.lr: from per-part gradients (a list matching self.views) or by
    autograd of the sum of the chains' losses; and the relative difference of the two."""

    def steps_parts(self, n, grads):
        lr, wd = self.lr, self.wd
        with torch.no_grad():
            for _ in range(n):
                idx = self.batch()
                gs = grads(self.theta, idx)
                for q, g in zip(self.views(self.theta), gs):
                    q.mul_(1 - lr * wd).sub_(g, alpha=lr)

    def steps_autograd_of(self, n, loss_sum):
        lr, wd = self.lr, self.wd
        th = self.theta
        for _ in range(n):
            idx = self.batch()
            t = th.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(loss_sum(t, idx), t)
            with torch.no_grad():
                th.mul_(1 - lr * wd).sub_(g, alpha=lr)

    def check_against(self, loss_sum, grads):
        idx = self.batch()
        t = self.theta.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss_sum(t, idx), t)
        gp = torch.cat([x.reshape(self.C, -1) for x in grads(self.theta, idx)], 1)
        return float((g - gp).norm() / g.norm())


class LeNetChains(ChainSteps):
    """C chains of SGD on LeNet-5 (mean NLL over B images plus (wd/2)|theta|^2), batched in
    one (C, d) tensor."""

    def __init__(self, X, y, theta0, C, B, lr, wd, seed=1):
        self.X, self.y, self.C, self.B, self.lr, self.wd = X, y, C, B, lr, wd
        self.N = X.shape[0]
        self.gen = torch.Generator().manual_seed(seed)
        self.theta = theta0.repeat(C, 1).contiguous()
        self.theta0 = self.theta.clone()
        self.shapes = lenet_shapes()
        self.batch_loss = lambda ps, Xb, yb: torch.nn.functional.cross_entropy(lenet_logits(ps, Xb), yb)
        self.vgrad = ft_vmap(ft_grad(self.batch_loss), in_dims=(0, 0, 0))

    def reset(self):
        self.theta.copy_(self.theta0)

    def views(self, th):
        out, o = [], 0
        for shp in self.shapes:
            sz = int(np.prod(shp))
            out.append(th[:, o:o + sz].view(th.shape[0], *shp))
            o += sz
        return out

    def batch(self):
        return torch.randint(self.N, (self.C, self.B), generator=self.gen)

    def grads_vmap(self, th, idx):
        return self.vgrad(tuple(self.views(th)), self.X[idx], self.y[idx])

    def loss_sum_grouped(self, th, idx):
        """Sum over chains of each chain's mean NLL: convolutions as one grouped conv."""
        C, B = self.C, self.B
        ps = self.views(th)
        h = self.X[idx].transpose(0, 1).reshape(B, C * 1, 28, 28)  # (B, C*Cin, H, W)
        for l, (o, i, k, pad) in enumerate(LENET_CONVS):
            W = ps[2 * l].reshape(C * o, i, k, k)
            h = torch.nn.functional.max_pool2d(torch.tanh(torch.nn.functional.conv2d(h, W, ps[2 * l + 1].reshape(C * o), padding=pad, groups=C)), 2)
        h = h.reshape(B, C, -1).transpose(0, 1)  # (C, B, 400) in (c, h, w) order per chain
        nc = 2 * len(LENET_CONVS)
        for l in range(len(LENET_DENSE)):
            h = torch.baddbmm(ps[nc + 2 * l + 1][:, None, :], h, ps[nc + 2 * l].transpose(1, 2))
            if l < len(LENET_DENSE) - 1:
                h = torch.tanh(h)
        return torch.nn.functional.cross_entropy(h.reshape(C * B, -1), self.y[idx].reshape(-1), reduction="sum") / B

    def steps_vmap(self, n):
        self.steps_parts(n, self.grads_vmap)

    def steps_grouped(self, n):
        self.steps_autograd_of(n, self.loss_sum_grouped)

    def check(self):
        """The two gradients agree (relative error)."""
        return self.check_against(self.loss_sum_grouped, self.grads_vmap)


# --- chains --------------------------------------------------------------------------------

class Chains(ChainSteps):
    """C chains of SGD on the mean NLL plus (wd/2)|theta|^2, batched in one (C, d) tensor."""

    def __init__(self, kind, X, y, theta0, C, B, lr, wd, seed=1):
        self.kind, self.X, self.C, self.B, self.lr, self.wd = kind, X, C, B, lr, wd
        self.N, self.p = X.shape
        self.y = y
        self.gen = torch.Generator().manual_seed(seed)
        self.theta = theta0.repeat(C, 1).contiguous()
        self.theta0 = self.theta.clone()
        if kind == "logistic":
            self.yf = y.to(torch.float64)
        else:
            self.K = int(y.max()) + 1
            self.h = (theta0.numel() - self.K) // (self.p + 1 + self.K)
            self.onehot = torch.nn.functional.one_hot(y, self.K).to(torch.float64)

    def reset(self):
        self.theta.copy_(self.theta0)

    def views(self, th):
        C, p = th.shape[0], self.p
        if self.kind == "logistic":
            return th[:, :p], th[:, p]
        h, K = self.h, self.K
        o = 0
        W1 = th[:, o:o + h * p].view(C, h, p); o += h * p
        b1 = th[:, o:o + h]; o += h
        W2 = th[:, o:o + K * h].view(C, K, h); o += K * h
        b2 = th[:, o:o + K]
        return W1, b1, W2, b2

    def batch(self):
        return torch.randint(self.N, (self.C, self.B), generator=self.gen)

    def grads_manual(self, th, idx):
        """Mean-loss gradients of every chain on its batch, as a list matching views()."""
        Xb = self.X[idx]  # C x B x p
        B = self.B
        if self.kind == "logistic":
            w, b = self.views(th)
            z = torch.baddbmm(b[:, None, None], Xb, w[:, :, None]).squeeze(2)
            r = (torch.sigmoid(z) - self.yf[idx]) / B
            return [torch.bmm(r[:, None, :], Xb).squeeze(1), r.sum(1)]
        W1, b1, W2, b2 = self.views(th)
        A1 = torch.tanh(torch.baddbmm(b1[:, None, :], Xb, W1.transpose(1, 2)))
        Z2 = torch.baddbmm(b2[:, None, :], A1, W2.transpose(1, 2))
        D2 = torch.softmax(Z2, 2).sub_(self.onehot[idx]).div_(B)
        D1 = torch.bmm(D2, W2).mul_(1 - A1 * A1)
        return [torch.bmm(D1.transpose(1, 2), Xb), D1.sum(1), torch.bmm(D2.transpose(1, 2), A1), D2.sum(1)]

    def loss_sum(self, th, idx):
        """Sum over chains of each chain's mean NLL on its batch."""
        Xb = self.X[idx]
        if self.kind == "logistic":
            w, b = self.views(th)
            z = torch.baddbmm(b[:, None, None], Xb, w[:, :, None]).squeeze(2)
            return torch.nn.functional.binary_cross_entropy_with_logits(z, self.yf[idx], reduction="sum") / self.B
        W1, b1, W2, b2 = self.views(th)
        A1 = torch.tanh(torch.baddbmm(b1[:, None, :], Xb, W1.transpose(1, 2)))
        Z2 = torch.baddbmm(b2[:, None, :], A1, W2.transpose(1, 2))
        return torch.nn.functional.cross_entropy(Z2.reshape(-1, self.K), self.y[idx].reshape(-1), reduction="sum") / self.B

    def steps_manual(self, n):
        self.steps_parts(n, self.grads_manual)

    def steps_autograd(self, n):
        self.steps_autograd_of(n, self.loss_sum)

    def check(self):
        """The manual gradients equal autograd's (relative error)."""
        return self.check_against(self.loss_sum, self.grads_manual)


# --- workloads -----------------------------------------------------------------------------

def workloads(d, meta):
    """The workloads as {(name, impl): setup}, setup() returning (f, save): f runs the
    workload once and returns its result, save turns that result into the array written
    for the comparison (None: nothing saved). Large buffers (the per-example matrix P) are
    allocated by setup, outside the timed calls, and freed with f."""
    ws = {}
    s = meta["gemm_size"]
    gen = torch.Generator().manual_seed(5)
    A, Bm = torch.randn(s, s, generator=gen), torch.randn(s, s, generator=gen)
    ws[("gemm_peak", "mm")] = lambda: ((lambda: torch.mm(A, Bm)), None)

    h = meta["hidden"]
    X, y = load(d, "X.npy"), load(d, "y.npy").long()
    params = split(load(d, "theta.npy"), h)
    U, V = split(load(d, "u.npy"), h), split(load(d, "v.npy"), h)
    uf = torch.cat([q.flatten() for q in U])
    flat = lambda parts: torch.cat([q.flatten() for q in parts]).numpy()
    nograd = lambda f: (lambda: _nograd(f))
    for n in (meta["n"], meta["m"]):
        Xn, yn = X[:n], y[:n]
        oh = torch.nn.functional.one_hot(yn, 10).to(torch.float64)
        r = min(n, 256)
        for method in ("vmap", "outer"):
            def cov_setup(method=method, Xn=Xn, yn=yn, n=n):
                pe = PerExample(params, min(n, 256), method)
                return nograd(lambda: cov_perex(pe, Xn, yn, uf)), lambda v: v.numpy()
            ws[(f"cov_{n}", "perex_" + method)] = cov_setup
            if n > 256 and method == "vmap":
                continue  # the product P P^T dominates at n = 4096; one materialisation suffices

            def gram_setup(method=method, Xn=Xn, yn=yn, n=n, r=r):
                pe = PerExample(params, n, method)
                return nograd(lambda: gram_perex(pe, Xn, yn)), lambda G: G[:r].numpy()
            ws[(f"gram_{n}", "perex_" + method)] = gram_setup
        ws[(f"cov_{n}", "factor")] = lambda Xn=Xn, yn=yn: (nograd(lambda: cov_factor(params, Xn, yn, U)), flat)
        ws[(f"gram_{n}", "factor")] = lambda Xn=Xn, yn=yn, r=r: (nograd(lambda: gram_factor(params, Xn, yn)), lambda G: G[:r].numpy())
        ws[(f"hvp_{n}", "double_backward")] = lambda Xn=Xn, yn=yn: ((lambda: hvp_double_backward(params, Xn, yn, V)), flat)
        ws[(f"hvp_{n}", "fwd_over_rev")] = lambda Xn=Xn, oh=oh: ((lambda: hvp_fwd_over_rev(params, Xn, oh, V)), flat)

    lenet_workloads(ws, d, meta, X, y)

    for name, kind, pre, lr in (("chains_logistic", "logistic", "bc", meta["lr_logistic"]),
                                ("chains_mlp32", "mlp", "digits", meta["lr_mlp"])):
        steps = int(chain_steps(meta, name)) // meta["chains"]
        chain = {}

        def get(kind=kind, pre=pre, lr=lr, name=name, chain=chain):
            if not chain:
                Xc, yc = load(d, pre + "_X.npy"), load(d, pre + "_y.npy").long()
                ch = Chains(kind, Xc, yc, load(d, pre + "_theta0.npy"), meta["chains"], min(meta["chain_batch"], Xc.shape[0]),
                            lr, meta["weight_decay"])
                err = ch.check()
                if err > 1e-10:
                    sys.exit(f"torch_bench: {name}: manual gradients differ from autograd's (relative error {err:g})")
                chain["ch"] = ch
            return chain["ch"]
        for impl in ("manual", "autograd"):
            def chain_setup(impl=impl, get=get, name=name, steps=steps):
                ch = get()
                f = ch.steps_manual if impl == "manual" else ch.steps_autograd

                def go():
                    ch.reset()
                    f(steps)
                    if not torch.isfinite(ch.theta).all():
                        sys.exit(f"torch_bench: {name}: chains diverged")
                return go, None
            ws[(name, impl)] = chain_setup
    return ws


def lenet_workloads(ws, d, meta, X, y):
    """Adds the LeNet-5 workloads to ws (see the module's doc)."""
    params = lenet_split(load(d, "lenet_theta.npy"))
    U, V = lenet_split(load(d, "lenet_u.npy")), lenet_split(load(d, "lenet_v.npy"))
    uf = torch.cat([q.flatten() for q in U])
    flat = lambda parts: torch.cat([q.flatten() for q in parts]).numpy()
    nograd = lambda f: (lambda: _nograd(f))
    X4 = X.view(-1, 1, 28, 28)
    for n in (meta["n"], meta["m"]):
        Xn, yn = X4[:n], y[:n]
        oh = torch.nn.functional.one_hot(yn, 10).to(torch.float64)
        for method in ("vmap", "unfold"):
            def cov_setup(method=method, Xn=Xn, yn=yn, n=n):
                pe = LeNetPerExample(params, min(n, 256), method)
                return nograd(lambda: cov_perex(pe, Xn, yn, uf)), lambda v: v.numpy()
            ws[(f"lenet_cov_{n}", "perex_" + method)] = cov_setup
            if n == meta["n"]:
                def gram_setup(method=method, Xn=Xn, yn=yn, n=n):
                    pe = LeNetPerExample(params, n, method)
                    return nograd(lambda: gram_perex(pe, Xn, yn)), lambda G: G.numpy()
                ws[(f"lenet_gram_{n}", "perex_" + method)] = gram_setup
        ws[(f"lenet_cov_{n}", "jvp_vjp")] = lambda Xn=Xn, oh=oh: (nograd(lambda: lenet_cov_jvp_vjp(params, Xn, oh, U)), flat)
        ws[(f"lenet_hvp_{n}", "double_backward")] = lambda Xn=Xn, yn=yn: ((lambda: lenet_hvp_double_backward(params, Xn, yn, V)), flat)
        ws[(f"lenet_hvp_{n}", "fwd_over_rev")] = lambda Xn=Xn, oh=oh: ((lambda: lenet_hvp_fwd_over_rev(params, Xn, oh, V)), flat)

    chain = {}
    steps = int(chain_steps(meta, "chains_lenet")) // meta["chains"]

    def get():
        if not chain:
            ch = LeNetChains(X4, y, load(d, "lenet_theta.npy"), meta["chains"], meta["chain_batch"], meta["lr_lenet"], meta["weight_decay"])
            err = ch.check()
            if err > 1e-10:
                sys.exit(f"torch_bench: chains_lenet: grouped-convolution gradients differ from vmap's (relative error {err:g})")
            chain["ch"] = ch
        return chain["ch"]
    for impl in ("vmap", "grouped"):
        def chain_setup(impl=impl):
            ch = get()
            f = ch.steps_vmap if impl == "vmap" else ch.steps_grouped

            def go():
                ch.reset()
                f(steps)
                if not torch.isfinite(ch.theta).all():
                    sys.exit("torch_bench: chains_lenet: chains diverged")
            return go, None
        ws[("chains_lenet", impl)] = chain_setup


def chain_steps(meta, name):
    """Chain-steps of one call of a chains workload."""
    key = {"chains_logistic": "steps_logistic", "chains_mlp32": "steps_mlp", "chains_lenet": "steps_lenet"}[name]
    return float(meta["chains"] * meta[key])


def _nograd(f):
    with torch.no_grad():
        return f()


def measure(ws, meta, d, threads, name, impl, mintime):
    """One measurement of a workload (timeit), its result saved beside the inputs."""
    f, save = ws[(name, impl)]()
    out = {}

    def g():
        out["v"] = f()

    best, med, reps = timeit(g, mintime)
    r = {"name": name, "impl": impl, "seconds": best, "median": med, "reps": reps, "threads": threads}
    if name.startswith("chains_"):
        r["rate"], r["unit"] = chain_steps(meta, name) / med, "chain-steps/s"
    if save is not None:
        np.save(os.path.join(d, f"torch_{threads}_{name}_{impl}.npy"), save(out["v"]))
    del f, out
    return r


# --- main ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--out")
    ap.add_argument("--only", default="")
    ap.add_argument("--mintime", type=float, default=2.0)
    ap.add_argument("--serve", action="store_true", help="answer list/run requests on stdin (see above)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var) != str(args.threads):
            print(f"torch_bench: warning: {var}={os.environ.get(var)} differs from --threads {args.threads}", file=sys.stderr)
    d = args.dir
    with open(os.path.join(d, "inputs.json")) as f:
        meta = json.load(f)
    ws = workloads(d, meta)
    if args.serve:
        for line in sys.stdin:
            f = line.split()
            if f == ["list"]:
                print(json.dumps({"workloads": [[n, i] for n, i in ws], "build": "PyTorch " + torch.__version__}), flush=True)
            elif len(f) == 4 and f[0] == "run" and (f[1], f[2]) in ws:
                print(json.dumps(measure(ws, meta, d, args.threads, f[1], f[2], float(f[3]))), flush=True)
                gc.collect()
            else:
                sys.exit(f"torch_bench: bad request {line!r}")
        return
    only = set(s for s in args.only.split(",") if s)
    results = []
    for name, impl in ws:
        if only and name not in only:
            continue
        r = measure(ws, meta, d, args.threads, name, impl, args.mintime)
        results.append(r)
        print(f"{name:18s} {impl:16s} {1e3 * r['seconds']:10.3f} ms  (median {1e3 * r['median']:.3f} ms, {r['reps']} reps)", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"build": "PyTorch " + torch.__version__, "threads": args.threads, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
