"""Writes nn_parity.safetensors: PyTorch reference values for ParityTests.swift.

Run from anywhere with a Python that has torch and safetensors:

    python Tests/NNTests/Fixtures/make_nn_fixtures.py

Every tensor is F32 (integer configuration and labels are I64). The seed is fixed, so the file
is reproducible up to PyTorch's own kernels. Gradients are taken with a random upstream
cotangent `dy` (never all ones), so a pullback that ignores or mixes up its cotangent fails.

Contents, by prefix:

  conv.<case>.{x, w, b?, dy, y, dx, dw, db?}   F.conv2d; b/db absent for bias-free cases
  conv.<case>.config [9] I64                  stride h w, padding h w, dilation h w, groups,
                                               bias (0/1), 0
  bn.weight, bn.bias [C]                       initial affine parameters (not 1/0)
  bn.step<k>.{x, dy, y, dx, dweight, dbias}    BatchNorm2d training step k = 1, 2, 3 (gradients
                                               zeroed before each step)
  bn.running_mean, bn.running_var [C]          after the three steps
  bn.num_batches_tracked [] I64                3
  bn.eval.{x, dy, y, dx, dweight, dbias}       evaluation mode afterwards (running statistics)
  crelu.{x, dy, y, dx}                         cat(relu(x), relu(-x)) along channels
  shortcutA.<case>.{x, dy, y, dx}              x[:, :, ::2, ::2] then F.pad with planes//4 zero
                                               channels on each side (akamaster LambdaLayer),
                                               16 -> 32 channels
  pool.<case>.{x, dy, y, dx}                   avg_pool2d / max_pool2d / global average pooling
  ce.logits [N, C], ce.labels [N] I64          shared inputs of the cross-entropy cases
  ce.<case>.{seed, loss, dlogits}              F.cross_entropy (mean, sum, label smoothing 0.1,
                                               none), backward from a random `seed`
  prim.<case>.{...}                            log_softmax, batched broadcasting matmul,
                                               sigmoid, tanh, unbiased variance
"""

import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(20240612)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)

out = {}


def put(name, tensor):
    assert name not in out, name
    out[name] = tensor.detach().contiguous().clone()


def leaf(tensor):
    return tensor.detach().clone().requires_grad_(True)


def cotangent(shape):
    # Random (not all ones), so a pullback that ignores its cotangent cannot pass.
    return torch.randn(tuple(shape)) * 0.8 + 0.3


# 1. conv2d --------------------------------------------------------------------------------------

CONV_CASES = [
    # name,         x shape,        out, kernel, stride, padding, dilation, groups, bias
    ("s1p0",        (2, 3, 7, 5),   4, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ("s1p1",        (2, 3, 7, 5),   4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ("s2p0",        (2, 3, 7, 5),   4, (3, 3), (2, 2), (0, 0), (1, 1), 1, True),
    ("s2p1",        (2, 3, 7, 5),   4, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    ("groups2",     (2, 4, 6, 5),   6, (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    ("depthwise",   (2, 3, 6, 5),   6, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
    ("dilation2",   (2, 3, 8, 7),   4, (3, 3), (1, 1), (2, 2), (2, 2), 1, True),
    ("nobias",      (2, 3, 7, 5),   5, (3, 3), (1, 1), (1, 1), (1, 1), 1, False),
    ("kernel2x3",   (2, 3, 7, 5),   4, (2, 3), (2, 1), (1, 0), (1, 1), 1, True),
    ("proj1x1s2",   (2, 4, 7, 6),   8, (1, 1), (2, 2), (0, 0), (1, 1), 1, False),
    ("mixed",       (2, 4, 9, 8),   6, (3, 2), (2, 1), (2, 1), (2, 1), 2, False),
]

for name, xshape, outs, kernel, stride, padding, dilation, groups, has_bias in CONV_CASES:
    x = leaf(torch.randn(*xshape))
    w = leaf(torch.randn(outs, xshape[1] // groups, *kernel) * 0.4)
    b = leaf(torch.randn(outs) * 0.5) if has_bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"conv.{name}."
    put(p + "config", torch.tensor([*stride, *padding, *dilation, groups, int(has_bias), 0], dtype=torch.int64))
    put(p + "x", x); put(p + "w", w); put(p + "dy", dy); put(p + "y", y)
    put(p + "dx", x.grad); put(p + "dw", w.grad)
    if has_bias:
        put(p + "b", b); put(p + "db", b.grad)

# 2. BatchNorm2d -----------------------------------------------------------------------------------

C = 3
bn = torch.nn.BatchNorm2d(C)
with torch.no_grad():
    bn.weight.copy_(torch.randn(C) * 0.5 + 1)
    bn.bias.copy_(torch.randn(C) * 0.5)
put("bn.weight", bn.weight); put("bn.bias", bn.bias)
bn.train()
for step, (scale, shift) in enumerate([(1.0, 0.0), (2.5, -1.0), (0.5, 3.0)], start=1):
    bn.zero_grad()
    x = leaf(torch.randn(4, C, 5, 6) * scale + shift + torch.randn(1, C, 1, 1))
    y = bn(x)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"bn.step{step}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)
    put(p + "dweight", bn.weight.grad); put(p + "dbias", bn.bias.grad)
put("bn.running_mean", bn.running_mean); put("bn.running_var", bn.running_var)
put("bn.num_batches_tracked", bn.num_batches_tracked)
bn.eval()
bn.zero_grad()
x = leaf(torch.randn(2, C, 4, 5) * 1.5 + 0.5)
y = bn(x)
dy = cotangent(y.shape)
y.backward(dy)
put("bn.eval.x", x); put("bn.eval.dy", dy); put("bn.eval.y", y); put("bn.eval.dx", x.grad)
put("bn.eval.dweight", bn.weight.grad); put("bn.eval.dbias", bn.bias.grad)

# 3. CReLU -----------------------------------------------------------------------------------------

x = leaf(torch.randn(2, 3, 4, 5))
y = torch.cat([F.relu(x), F.relu(-x)], dim=1)
dy = cotangent(y.shape)
y.backward(dy)
put("crelu.x", x); put("crelu.dy", dy); put("crelu.y", y); put("crelu.dx", x.grad)

# 4. Option-A shortcut (akamaster/pytorch_resnet_cifar10, resnet.py, LambdaLayer) -------------------

planes = 32
for name, xshape in [("even", (2, 16, 8, 8)), ("odd", (1, 16, 7, 5))]:
    x = leaf(torch.randn(*xshape))
    y = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"shortcutA.{name}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)

# 5. Pooling ---------------------------------------------------------------------------------------


def distinct(shape):
    # Distinct values in [-1, 1) (no ties within a window), many negative so that a padding
    # value of 0 would win in max pooling.
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() / n * 2 - 1).reshape(shape) + 0.3 / n


POOL_CASES = [
    ("avg_k2s2", lambda x: F.avg_pool2d(x, 2, 2)),
    ("avg_k3s2p1", lambda x: F.avg_pool2d(x, 3, 2, 1)),
    ("avg_k3s2p1_nopad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("max_k2s2", lambda x: F.max_pool2d(x, 2, 2)),
    ("max_k3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1)),
    ("global_avg", lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1)),
]
for name, pool in POOL_CASES:
    x = leaf(distinct((2, 3, 7, 6)))
    y = pool(x)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"pool.{name}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)

# 6. Cross-entropy ---------------------------------------------------------------------------------

logits = torch.randn(6, 5) * 2
labels = torch.tensor([0, 3, 4, 1, 3, 2], dtype=torch.int64)
put("ce.logits", logits); put("ce.labels", labels)
for name, reduction, smoothing in [("mean", "mean", 0.0), ("sum", "sum", 0.0), ("mean_ls", "mean", 0.1),
                                   ("sum_ls", "sum", 0.1), ("none_ls", "none", 0.1)]:
    z = leaf(logits)
    loss = F.cross_entropy(z, labels, reduction=reduction, label_smoothing=smoothing)
    # A scalar loss gets a random seed in [0.5, 1.5) (not 1), a per-example loss a random vector.
    seed = cotangent(loss.shape) if loss.dim() else torch.rand(()) + 0.5
    loss.backward(seed)
    p = f"ce.{name}."
    put(p + "seed", seed); put(p + "loss", loss); put(p + "dlogits", z.grad)

# 7. Tape primitives -------------------------------------------------------------------------------

# log_softmax along the last axis of [4, 7] and along the middle axis of [2, 5, 3].
for name, shape, dim in [("log_softmax_last", (4, 7), 1), ("log_softmax_mid", (2, 5, 3), 1)]:
    x = leaf(torch.randn(*shape) * 3)
    y = F.log_softmax(x, dim=dim)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"prim.{name}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)

# Batched matmul with broadcasting: [2, 1, 3, 4] @ [5, 4, 6] -> [2, 5, 3, 6].
a = leaf(torch.randn(2, 1, 3, 4))
b = leaf(torch.randn(5, 4, 6))
y = torch.matmul(a, b)
dy = cotangent(y.shape)
y.backward(dy)
put("prim.matmul.a", a); put("prim.matmul.b", b); put("prim.matmul.dy", dy); put("prim.matmul.y", y)
put("prim.matmul.da", a.grad); put("prim.matmul.db", b.grad)

for name, fn in [("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]:
    x = leaf(torch.randn(3, 7) * 3)
    y = fn(x)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"prim.{name}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)

# Unbiased variance over axes (0, 2) of [3, 4, 5] -> [4], and over everything -> [].
for name, dims in [("variance_axes", (0, 2)), ("variance_all", None)]:
    x = leaf(torch.randn(3, 4, 5) * 2 + 1)
    y = torch.var(x, dim=dims, correction=1) if dims is not None else torch.var(x, correction=1)
    dy = cotangent(y.shape)
    y.backward(dy)
    p = f"prim.{name}."
    put(p + "x", x); put(p + "dy", dy); put(p + "y", y); put(p + "dx", x.grad)

for name, tensor in out.items():
    assert tensor.dtype in (torch.float32, torch.int64), (name, tensor.dtype)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_parity.safetensors")
save_file(out, path, metadata={"generator": "make_nn_fixtures.py", "torch": torch.__version__})
print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")
