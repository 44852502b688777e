"""Reference for problem.TestDigitsConvNetTorch: PyTorch's mean cross-entropy and its
gradient for Conv2d(1,4,3) -> tanh -> MaxPool2d(2) -> Flatten -> Linear(36,16) -> tanh ->
Linear(16,10) on the embedded digits, read from the CSV here with NumPy, standardised per
pixel (population std, constant pixels set to 0) and reshaped to (N, 1, 8, 8).

stdin: {"csv": path, "theta": [...]}; stdout: {"loss": float, "grad": [...]}.
"""
import json
import sys

import numpy as np
import torch

inp = json.load(sys.stdin)
raw = np.loadtxt(inp["csv"], delimiter=",", skiprows=1)
x, y = raw[:, :64], raw[:, 64].astype(np.int64)
mean, std = x.mean(axis=0), x.std(axis=0)
x = np.where(std > 0, (x - mean) / np.where(std > 0, std, 1), 0.0)
X = torch.tensor(x, dtype=torch.float64).reshape(-1, 1, 8, 8)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3), torch.nn.Tanh(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
    torch.nn.Linear(36, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10)).double()
theta = torch.tensor(inp["theta"], dtype=torch.float64)
off = 0
with torch.no_grad():
    for p in net.parameters():
        p.copy_(theta[off:off + p.numel()].reshape(p.shape))
        off += p.numel()
assert off == theta.numel(), (off, theta.numel())
loss = torch.nn.functional.cross_entropy(net(X), torch.tensor(y))
grads = torch.autograd.grad(loss, list(net.parameters()))
json.dump({"loss": loss.item(), "grad": torch.cat([g.reshape(-1) for g in grads]).tolist()}, sys.stdout)
