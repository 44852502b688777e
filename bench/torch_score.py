#!/usr/bin/python3
"""PyTorch version of `sgdprior score --subset M --damping LAMBDA --top-k K` for mlp:h on MNIST
(tanh, softmax cross-entropy; run by `go run ./bench`, see BENCHMARKS.md section "speed").

    /usr/bin/python3 bench/torch_score.py --mnist DIR --params theta.npy --hidden 128 --lr ETA
        --batch B --damping LAMBDA --top-k K --threads T [--subset-from sgdprior.json | --subset M]
        [--out result.json] [--vector-out s_st.npy]

It computes the quantities sgdprior's score computes with its Woodbury solver and default
settings (../score/doc.go, MATH.md sections 2, 4, 5), in float64, the way a careful PyTorch
user would: the factorisation of the per-example gradients (one batched forward/backward
pass gives the activations A_l and errors D_l of every example; no per-example gradient is
materialised), torch.linalg for the dense M x M algebra.

  gradient       mean loss and gradient over all N examples (autograd), grad L = gbar + wd theta;
  noise          C estimated from M examples, C = U U^T with U = c (g_i - gbar_S), c^2 =
                 (N-1)/(N(M-1)); the centred Gram matrix U^T U from the factorisation
                 (sum_l (D D^T) o (A A^T + 1)); torch.linalg.eigvalsh for the top-K
                 eigenvalues and the rank (eigenvalues > 1e-10 lambda_max), subspace
                 iteration for the top 3 eigenvectors y and the noise directions
                 v = U y / sqrt(s); the trace; the noise scale tr C / |gbar|^2;
  scores         (C_B + lambda I)^-1 grad L by Woodbury with the Cholesky factor of
                 lambda/kappa I + U^T U; stationary -(2/eta) A^-1 grad L, likelihood -N gbar, prior;
  commutator     |CH - HC|_F/(|C|_F |H|_F) from 10 Gaussian probes, H v by double backward
                 on the M examples (one graph shared by the probes' products);
  asymmetry      of the seed field's Jacobian from 4 Gaussian probes by the product rule
                 J u = A^-1 [-(2/eta) H u - kappa (dC/du) F], F the stationary score: H u exact
                 by double backward on all N examples (one graph per chunk shared by the 4
                 probes), dC/du F by central differences of the covariance product with step
                 eps^(1/3) max(1, |theta|) (activations at theta +- h u cached), one Woodbury
                 solve at theta per probe;
  mini-batch noise  the projections g_i.v_k of all N examples on the top 3 directions, 2000
                 mini-batches of B drawn without replacement, excess kurtosis and tail index.

The covariance subset is read from sgdprior's JSON (--subset-from), so the deterministic
quantities can be compared with sgdprior's; the probes and mini-batches use torch's own
generator, so the estimates agree only statistically.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with (gzip.open(p) if p.endswith(".gz") else open(p, "rb")) as f:
                b = f.read()
            ndim = b[3]
            shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    sys.exit(f"torch_score: {path}(.gz) not found")


class MLP:
    """mlp:h with tanh and softmax cross-entropy; parameters in PyTorch nn.Linear order."""

    def __init__(self, h, p=784, k=10):
        self.h, self.p, self.k = h, p, k
        self.d = h * p + h + k * h + k

    def split(self, theta):
        h, p, k = self.h, self.p, self.k
        o = 0
        W1 = theta[o:o + h * p].view(h, p); o += h * p
        b1 = theta[o:o + h]; o += h
        W2 = theta[o:o + k * h].view(k, h); o += k * h
        b2 = theta[o:o + k]
        return W1, b1, W2, b2

    def fwd_bwd(self, theta, X, y):
        """Activations A1 and errors D1, D2 (dl_i/dz_l, not divided by n)."""
        W1, b1, W2, b2 = self.split(theta)
        A1 = torch.tanh(torch.addmm(b1, X, W1.T))
        D2 = torch.softmax(torch.addmm(b2, A1, W2.T), 1)
        D2[torch.arange(X.shape[0]), y] -= 1
        D1 = (D2 @ W2).mul_(1 - A1 * A1)
        return A1, D1, D2

    def loss_grad(self, theta, X, y, chunk=8192):
        """Mean loss and mean gradient over the rows (autograd, in chunks)."""
        g = torch.zeros(self.d)
        total = 0.0
        for i0 in range(0, X.shape[0], chunk):
            t = theta.detach().requires_grad_(True)
            W1, b1, W2, b2 = self.split(t)
            Z = torch.tanh(X[i0:i0 + chunk] @ W1.T + b1) @ W2.T + b2
            loss = torch.nn.functional.cross_entropy(Z, y[i0:i0 + chunk], reduction="sum")
            (gc,) = torch.autograd.grad(loss, t)
            g += gc
            total += float(loss)
        n = X.shape[0]
        return total / n, g / n

    def hvps(self, theta, X, y, vs, chunk=15000):
        """[H v for v in vs], H the mean Hessian over the rows: double backward, one graph per
        chunk of rows shared by all directions."""
        out = [torch.zeros(self.d) for _ in vs]
        n = X.shape[0]
        for i0 in range(0, n, chunk):
            t = theta.detach().requires_grad_(True)
            W1, b1, W2, b2 = self.split(t)
            Z = torch.tanh(X[i0:i0 + chunk] @ W1.T + b1) @ W2.T + b2
            loss = torch.nn.functional.cross_entropy(Z, y[i0:i0 + chunk], reduction="sum") / n
            (g,) = torch.autograd.grad(loss, t, create_graph=True)
            for k, v in enumerate(vs):
                (hv,) = torch.autograd.grad(g, t, grad_outputs=v, retain_graph=k + 1 < len(vs))
                out[k] += hv
        return out

    def grad_dot(self, cache, X, u):
        """(g_i . u)_i from cached activations."""
        A1, D1, D2 = cache
        U1, ub1, U2, ub2 = self.split(u)
        return ((X @ U1.T) * D1).sum(1) + D1 @ ub1 + ((A1 @ U2.T) * D2).sum(1) + D2 @ ub2

    def grad_sum(self, cache, X, w):
        """sum_i w_i g_i from cached activations."""
        A1, D1, D2 = cache
        D1w, D2w = D1 * w[:, None], D2 * w[:, None]
        return torch.cat([(D1w.T @ X).flatten(), D1.T @ w, (D2w.T @ A1).flatten(), D2.T @ w])


class Factor:
    """U = c (g_i - gbar_S) for the M covariance examples at theta (C = U U^T)."""

    def __init__(self, net, theta, X, y, c):
        self.net, self.X, self.c = net, X, c
        self.cache = net.fwd_bwd(theta, X, y)
        m = X.shape[0]
        self.mean = net.grad_sum(self.cache, X, torch.full((m,), 1.0 / m))

    def mul_t(self, u):  # U^T u
        return self.c * (self.net.grad_dot(self.cache, self.X, u) - self.mean @ u)

    def mul(self, w):  # U w
        return self.c * (self.net.grad_sum(self.cache, self.X, w) - w.sum() * self.mean)

    def gram(self):
        A1, D1, D2 = self.cache
        X = self.X
        K = (D1 @ D1.T) * (X @ X.T + 1) + (D2 @ D2.T) * (A1 @ A1.T + 1)
        r = K.mean(1)
        return self.c ** 2 * (K - r[:, None] - r[None, :] + r.mean())


def excess_kurtosis(x):
    x = x - x.mean()
    m2 = (x * x).mean()
    return float((x ** 4).mean() / m2 ** 2 - 3)


def tail_index(x):
    n = x.numel()
    k1 = int(math.sqrt(n))
    k2 = n // k1
    xs = x[:k1 * k2].view(k2, k1)
    y = xs.sum(1)
    lx = torch.log(xs[xs != 0].abs()).mean()
    ly = torch.log(y[y != 0].abs()).mean()
    return float(1 / ((ly - lx) / math.log(k1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--damping", type=float, required=True)
    ap.add_argument("--top-k", type=int, default=20)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--subset", type=int, default=4096)
    ap.add_argument("--subset-from", help="sgdprior score's JSON: use its covariance subset")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--vector-out", help="write the stationary score here (.npy)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    stages = {}
    last = [t0]

    def stage(name):
        now = time.perf_counter()
        stages[name] = now - last[0]
        last[0] = now

    gen = torch.Generator().manual_seed(a.seed)

    X = torch.from_numpy(read_idx(os.path.join(a.mnist, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float64) / 255)
    y = torch.from_numpy(read_idx(os.path.join(a.mnist, "train-labels-idx1-ubyte")).astype(np.int64))
    theta = torch.from_numpy(np.load(a.params).astype(np.float64))
    net = MLP(a.hidden)
    N, d, B, eta, lam, wd = X.shape[0], net.d, a.batch, a.lr, a.damping, a.weight_decay
    if a.subset_from:
        with open(a.subset_from) as f:
            idx = torch.tensor(json.load(f)["subset"])
    else:
        idx = torch.randperm(N, generator=gen)[:a.subset].sort().values
    M = idx.numel()
    Xs, ys = X[idx], y[idx]
    kappa = (N - B) / (B * (N - 1))  # sampling without replacement
    c = math.sqrt((N - 1) / (N * (M - 1)))
    out = {"n": N, "d": d, "m": M, "kappa": kappa}

    stage("load")
    # Gradient.
    loss, gbar = net.loss_grad(theta, X, y)
    grad = gbar + wd * theta
    out["loss"] = loss + wd / 2 * float(theta @ theta)
    out["grad_norm"] = float(grad.norm())

    stage("gradient")
    # Noise: the centred Gram matrix and its eigendecomposition.
    fac = Factor(net, theta, Xs, ys, c)
    G = fac.gram()
    stage("gram")
    # Eigenvalues by LAPACK (values only, the faster driver); the top 3 eigenvectors by
    # subspace iteration on a block of 32 (the 33rd eigenvalue is far below the 3rd).
    s = torch.linalg.eigvalsh(G).flip(0)
    Q = torch.linalg.qr(torch.randn(M, 32, generator=gen))[0]
    for it in range(200):
        Q = torch.linalg.qr(G @ Q)[0]
        sv, Yq = torch.linalg.eigh(Q.T @ G @ Q)
        Y = Q @ Yq.flip(1)[:, :3]
        if (G @ Y - Y * sv.flip(0)[:3]).norm(dim=0).max() <= 1e-10 * s[0]:
            break
    out["trace"] = float(G.trace())
    out["trace_batch"] = kappa * out["trace"]
    out["rank"] = int((s > 1e-10 * s[0]).sum())
    out["top_eigenvalues"] = s[:a.top_k].tolist()
    out["noise_scale"] = out["trace"] / float(gbar @ gbar)
    V = torch.stack([fac.mul(Y[:, j]) / math.sqrt(float(s[j])) for j in range(3)], 1)
    stage("eigen")
    # Scores: Woodbury with the Cholesky factor of lambda/kappa I + U^T U.
    Lc = torch.linalg.cholesky(G + (lam / kappa) * torch.eye(M))

    def solve_at_theta(b):
        z = torch.cholesky_solve(fac.mul_t(b)[:, None], Lc)[:, 0]
        return (b - fac.mul(z)) / lam

    s_st = -(2 / eta) * solve_at_theta(grad)
    s_lik = -N * gbar
    s_prior = s_st - s_lik
    out["stationary_norm"], out["likelihood_norm"], out["prior_norm"] = float(s_st.norm()), float(s_lik.norm()), float(s_prior.norm())

    stage("scores")
    # Commutator from 10 probes; H on the covariance examples.
    def apply_c(x):
        return fac.mul(fac.mul_t(x))

    def apply_h(xs):
        return [hv + wd * x for hv, x in zip(net.hvps(theta, Xs, ys, xs), xs)]

    zs = [torch.randn(d, generator=gen) for _ in range(10)]
    hzs = apply_h(zs)
    czs = [apply_c(z) for z in zs]
    hczs = apply_h(czs)
    num = nc = nh = 0.0
    for hz, cz, hcz in zip(hzs, czs, hczs):
        diff = apply_c(hz) - hcz
        num += float(diff @ diff); nc += float(cz @ cz); nh += float(hz @ hz)
    out["commutator"] = math.sqrt(num / 10) / math.sqrt(nc / 10 * nh / 10)

    stage("commutator")
    # Jacobian asymmetry of F(theta) = -(2/eta) A(theta)^-1 grad L(theta), 4 probes, by the
    # product rule: J u = A^-1 [-(2/eta) H u - kappa (dC/du) F].
    h = (2.0 ** -52) ** (1 / 3) * max(1.0, float(theta.norm()))
    ws = [torch.randn(d, generator=gen) for _ in range(4)]
    us = [w / w.norm() for w in ws]
    hus = [hv + wd * u for hv, u in zip(net.hvps(theta, X, y, us), us)]
    jws = []
    for w, u, hu in zip(ws, us, hus):
        fp, fm = Factor(net, theta + h * u, Xs, ys, c), Factor(net, theta - h * u, Xs, ys, c)
        dcf = (fp.mul(fp.mul_t(s_st)) - fm.mul(fm.mul_t(s_st))) / (2 * h)
        jws.append(solve_at_theta(-(2 / eta) * hu - kappa * dcf) * w.norm())
    num = den = 0.0
    for p in range(4):
        for q in range(p + 1, 4):
            x1, x2 = float(ws[p] @ jws[q]), float(ws[q] @ jws[p])
            num += (x1 - x2) ** 2
            den += (x1 * x1 + x2 * x2) / 2
    out["asymmetry_seed"] = math.sqrt(num / den)

    stage("asymmetry")
    # Mini-batch noise along the top 3 directions: projections of all N examples.
    cache_all = net.fwd_bwd(theta, X, y)
    proj = torch.stack([net.grad_dot(cache_all, X, V[:, k]) for k in range(3)], 0)  # 3 x N
    mean = proj.mean(1)
    nb = 2000
    rng = np.random.default_rng(a.seed)  # choice without replacement draws B of N in O(B)
    bidx = torch.from_numpy(np.stack([rng.choice(N, size=B, replace=False) for _ in range(nb)]))  # nb x B
    samples = proj[:, bidx].mean(2) - mean[:, None]
    out["noise_kurtosis"] = [excess_kurtosis(samples[k]) for k in range(3)]
    out["noise_tail_index"] = [tail_index(samples[k]) for k in range(3)]

    stage("minibatch_noise")
    out["stages"] = stages
    out["seconds"] = time.perf_counter() - t0
    out["threads"] = a.threads
    if a.vector_out:
        np.save(a.vector_out, s_st.numpy())
    print(json.dumps(out, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
