#!/usr/bin/python3
"""Bring your own gradients: export a PyTorch model's per-example gradients and Hessian for
`sgdprior score --grads`.

The script
  1. builds a small 3-class data set (seeded) and an MLP, nn.Sequential(Linear(p, H), Tanh(),
     Linear(H, K)), in float64;
  2. trains it to the minimum of the mean cross-entropy plus weight decay (λ/2)‖θ‖² by
     full-batch L-BFGS;
  3. writes, in OUT:
       X.npy, y.npy   the data (features, class indices 0..K−1),
       theta.npy      θ, the parameters flattened in model.parameters() order (layer by
                      layer, weight row-major then bias: sgdprior's layout, so the same file
                      works with `sgdprior score --model mlp:H --params theta.npy`),
       G.npy          the N×d per-example gradients of the per-example NLL ℓ_i (row = example;
                      no weight decay: it belongs to the objective, not to the likelihood),
       H.npy          the d×d Hessian of the mean objective (1/N)Σℓ_i + (λ/2)‖θ‖²;
  4. runs `sgdprior score --grads G.npy --hessian H.npy --params theta.npy --weight-decay λ ...`
     and prints its summary (unless --no-run).

Run it with Debian's python3-torch: /usr/bin/python3 export_grads.py --out DIR [--sgdprior PATH].
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def make_data(n, p, k, seed):
    """Gaussian classes with shifted means (seeded)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = rng.standard_normal((n, p)) + 0.8 * np.eye(k, p)[y] * 2.0
    return x, y


def flat(params):
    return torch.cat([q.reshape(-1) for q in params])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--sgdprior", default="sgdprior", help="the sgdprior binary")
    ap.add_argument("--n", type=int, default=150, help="number of examples")
    ap.add_argument("--features", type=int, default=4)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=5)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--damping", type=float, default=1e-8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-run", action="store_true", help="only write the files")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    x_np, y_np = make_data(args.n, args.features, args.classes, args.seed)
    x = torch.tensor(x_np)
    y = torch.tensor(y_np, dtype=torch.long)
    torch.manual_seed(args.seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(args.features, args.hidden), torch.nn.Tanh(), torch.nn.Linear(args.hidden, args.classes))
    params = list(net.parameters())
    lam = args.weight_decay

    def objective():
        nll = torch.nn.functional.cross_entropy(net(x), y)  # mean over examples
        return nll + 0.5 * lam * sum((q * q).sum() for q in params)

    opt = torch.optim.LBFGS(params, lr=1, max_iter=5000, tolerance_grad=1e-13, tolerance_change=0,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    opt.zero_grad()
    objective().backward()
    gnorm = float(flat([q.grad for q in params]).norm())
    print(f"trained: objective {float(objective()):.10g}, ‖∇L‖ = {gnorm:.3g}")

    theta = flat([q.detach() for q in params])
    d = theta.numel()

    # Per-example gradients of ℓ_i (no weight decay), one backward pass per example.
    g = np.empty((args.n, d))
    for i in range(args.n):
        li = torch.nn.functional.cross_entropy(net(x[i:i + 1]), y[i:i + 1], reduction="sum")
        gi = torch.autograd.grad(li, params)
        g[i] = flat(gi).numpy()

    # Hessian of the mean objective, as a function of the flat parameter vector.
    shapes = [q.shape for q in params]

    def objective_flat(t):
        parts, k = [], 0
        for s in shapes:
            m = int(np.prod(s))
            parts.append(t[k:k + m].reshape(s))
            k += m
        w1, b1, w2, b2 = parts
        z = torch.tanh(x @ w1.T + b1) @ w2.T + b2
        return torch.nn.functional.cross_entropy(z, y) + 0.5 * lam * (t * t).sum()

    h = torch.autograd.functional.hessian(objective_flat, theta).numpy()

    np.save(os.path.join(args.out, "X.npy"), x_np)
    np.save(os.path.join(args.out, "y.npy"), y_np.astype(np.float64))
    np.save(os.path.join(args.out, "theta.npy"), theta.numpy())
    np.save(os.path.join(args.out, "G.npy"), g)
    np.save(os.path.join(args.out, "H.npy"), h)
    print(f"wrote X.npy, y.npy, theta.npy, G.npy ({args.n}×{d}) and H.npy ({d}×{d}) in {args.out}")
    if args.no_run:
        return 0

    cmd = [args.sgdprior, "score",
           "--grads", os.path.join(args.out, "G.npy"), "--hessian", os.path.join(args.out, "H.npy"),
           "--params", os.path.join(args.out, "theta.npy"), "--weight-decay", str(lam),
           "--lr", str(args.lr), "--batch", str(args.batch), "--damping", str(args.damping), "--gaussian",
           "--json", os.path.join(args.out, "torch.json")]
    print("running:", " ".join(cmd), flush=True)
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
