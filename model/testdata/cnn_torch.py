"""Reference values for model/cnn_torch_test.go: a ConvNet's loss, per-example losses and
gradients (functorch vmap(grad)), its HVP (double backward) and per-example HVPs (double
backward per example), in float64, for the architecture, θ and data read as JSON on stdin."""
import json
import sys

import torch
from functorch import grad, make_functional, vmap

torch.set_default_dtype(torch.float64)
a = json.load(sys.stdin)
Act = torch.nn.Tanh if a["act"] == "tanh" else torch.nn.ReLU
mods = []
for L in a["layers"]:
    t = L["type"]
    if t == "conv":
        mods += [torch.nn.Conv2d(L["cin"], L["cout"], L["k"], stride=L["s"], padding=L["p"]), Act()]
    elif t == "max":
        mods.append(torch.nn.MaxPool2d(L["k"]))
    elif t == "avg":
        mods.append(torch.nn.AvgPool2d(L["k"]))
    elif t == "flatten":
        mods.append(torch.nn.Flatten())
    elif t == "linear":
        mods.append(torch.nn.Linear(L["in"], L["out"]))
        if L["act"]:
            mods.append(Act())
net = torch.nn.Sequential(*mods).double()
fnet, params = make_functional(net)
theta = torch.tensor(a["theta"])
ps, off = [], 0
for p in params:
    k = p.numel()
    ps.append(theta[off:off + k].view(p.shape).clone())
    off += k
assert off == theta.numel(), (off, theta.numel())
C, H, W = a["shape"]
X = torch.tensor(a["X"]).view(-1, C, H, W)
n = X.shape[0]
gauss = a["head"] == "gaussian"
if gauss:
    T = torch.tensor(a["y"]).view(n, 1)
else:
    T = torch.nn.functional.one_hot(torch.tensor([int(v) for v in a["y"]]), a["K"]).double()


def loss1(p, x, t):
    z = fnet(p, x.unsqueeze(0))[0]
    if gauss:
        return 0.5 * (z[0] - t[0]) ** 2 / a["sigma"] ** 2
    return torch.logsumexp(z, 0) - (z * t).sum()


def flat(gs):
    return torch.cat([g.reshape(g.shape[0], -1) for g in gs], 1)


pl = vmap(loss1, in_dims=(None, 0, 0))(ps, X, T)
pg = flat(vmap(grad(loss1), in_dims=(None, 0, 0))(ps, X, T))


def split(v):
    out, o = [], 0
    for p in ps:
        out.append(v[o:o + p.numel()].view(p.shape))
        o += p.numel()
    return out


def hvp(lossfn, v):
    q = [p.clone().requires_grad_(True) for p in ps]
    g = torch.autograd.grad(lossfn(q), q, create_graph=True)
    s = sum((gi * vi).sum() for gi, vi in zip(g, split(v)))
    return torch.cat([h.reshape(-1) for h in torch.autograd.grad(s, q)])


v = torch.tensor(a["v"])
V = torch.tensor(a["V"]).view(n, -1)
hv = hvp(lambda q: sum(loss1(q, X[i], T[i]) for i in range(n)) / n, v)
phv = torch.stack([hvp(lambda q, i=i: loss1(q, X[i], T[i]), V[i]) for i in range(n)])
json.dump({"loss": pl.mean().item(), "perex_loss": pl.tolist(), "perex_grads": pg.reshape(-1).tolist(),
           "hvp": hv.tolist(), "perex_hvp": phv.reshape(-1).tolist()}, sys.stdout)
