"""Writes optimizers.safetensors: PyTorch reference values for OptimizerTests.swift.

Run from anywhere with a Python that has torch and safetensors:

    python Tests/NNTests/Fixtures/make_optimizer_fixtures.py

Contents (all F32):
  x [5,3], y [5,2]                      the fixed batch
  init.W1 [4,3], init.b1 [4], init.W2 [2,4], init.b2 [2]
  <run>.step<k>.<name>                  parameters after step k (1...5) of each run:
      sgd_nesterov   SGD(lr 0.1, momentum 0.9, nesterov, weight_decay 1e-3)
      sgd_dampening  SGD(lr 0.1, momentum 0.9, dampening 0.1)
      adam           Adam(lr 0.01, weight_decay 1e-3)
      adamw          AdamW(lr 0.01, weight_decay 0.05)
  schedule.multistep [20]   MultiStepLR(base 0.1, milestones [4, 10, 10, 15], gamma 0.5)
  schedule.cosine [20]      CosineAnnealingLR(base 0.1, T_max 15, eta_min 0.001)
  schedule.warmup [20]      SequentialLR([LinearLR(start_factor 0.1, total_iters 5),
                                          CosineAnnealingLR(T_max 15, eta_min 0.001)], milestones [5]), base 0.1
      each the learning rate in force at steps 0...19
  clip.before.0 [3,4], clip.before.1 [5]   gradients before clip_grad_norm_(max_norm 1.5)
  clip.after.0, clip.after.1               gradients after it
  clip.total_norm []                       its return value

The loss is mean((tanh(x W1^T + b1) W2^T + b2 - y)^2).
"""

import os
import warnings

import torch
from safetensors.torch import save_file

torch.manual_seed(20240611)

PARAMETER_NAMES = ["W1", "b1", "W2", "b2"]
initial = {
    "W1": torch.randn(4, 3) * 0.5,
    "b1": torch.randn(4) * 0.1,
    "W2": torch.randn(2, 4) * 0.5,
    "b2": torch.randn(2) * 0.1,
}
x = torch.randn(5, 3)
y = torch.randn(5, 2)

tensors = {"x": x, "y": y}
for name in PARAMETER_NAMES:
    tensors[f"init.{name}"] = initial[name]


def loss_of(parameters):
    W1, b1, W2, b2 = parameters
    hidden = torch.tanh(x @ W1.T + b1)
    output = hidden @ W2.T + b2
    return ((output - y) ** 2).mean()


runs = {
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "sgd_dampening": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05),
}
for run, make_optimizer in runs.items():
    parameters = [initial[name].clone().requires_grad_(True) for name in PARAMETER_NAMES]
    optimizer = make_optimizer(parameters)
    for step in range(1, 6):
        optimizer.zero_grad()
        loss_of(parameters).backward()
        optimizer.step()
        for name, parameter in zip(PARAMETER_NAMES, parameters):
            tensors[f"{run}.step{step}.{name}"] = parameter.detach().clone()


def learning_rates(make_scheduler, steps=20):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping the scheduler without real optimizer work
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
    return torch.tensor(rates, dtype=torch.float32)


lr_scheduler = torch.optim.lr_scheduler
tensors["schedule.multistep"] = learning_rates(
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[4, 10, 10, 15], gamma=0.5))
tensors["schedule.cosine"] = learning_rates(
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=15, eta_min=0.001))
tensors["schedule.warmup"] = learning_rates(
    lambda o: lr_scheduler.SequentialLR(o, [
        lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
        lr_scheduler.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
    ], milestones=[5]))

clipped = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
clipped[0].grad = torch.randn(3, 4)
clipped[1].grad = torch.randn(5) * 2
tensors["clip.before.0"] = clipped[0].grad.clone()
tensors["clip.before.1"] = clipped[1].grad.clone()
tensors["clip.total_norm"] = torch.nn.utils.clip_grad_norm_(clipped, max_norm=1.5).reshape([])
tensors["clip.after.0"] = clipped[0].grad.clone()
tensors["clip.after.1"] = clipped[1].grad.clone()

tensors = {name: tensor.contiguous().to(torch.float32) for name, tensor in tensors.items()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.safetensors")
# One metadata entry: safetensors writes several in no fixed order, and the file should not
# change when regenerated.
save_file(tensors, path, metadata={"generator": f"make_optimizer_fixtures.py, torch {torch.__version__}"})
print(f"wrote {len(tensors)} tensors to {path} ({os.path.getsize(path)} bytes)")
