"""Writes mnist_resnet.safetensors and resnet20.safetensors: PyTorch golden values for
GoldenTests.swift (whole models, training and evaluation mode).

Run from anywhere with a Python that has torch and safetensors:

    python Tests/ModelsTests/Fixtures/make_model_fixtures.py

The models are written here from their published PyTorch code (nothing is downloaded):

  mnist_resnet   Fleuret's MNIST ResNet (AMMI "6.5 Residual networks", slides 11-12):
                 relu(conv0 1x1, bias) -> 25 ResBlocks (conv1 3x3 pad 1 bias, bn1, relu, conv2,
                 bn2, += x, relu) -> AvgPool2d(28) -> relu -> view -> Linear(16, 10).
  resnet20       the widely used PyTorch CIFAR ResNet (akamaster/pytorch_resnet_cifar10,
                 resnet.py): conv1 3x3 16 no bias, bn1, relu, 3 x 3 BasicBlocks (16/32/64,
                 stride 2 entering layers 2 and 3) with the option A LambdaLayer shortcut
                 F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes//4, planes//4)), avg_pool2d over
                 the whole map, Linear(64, 10). akamaster's `linear` is saved as `fc`.

Weights: PyTorch's initialisation (akamaster's kaiming_normal_ for resnet20), then every
BatchNorm gets random affine parameters, running statistics calibrated on a separate random
batch and then perturbed (so evaluation mode is neither the identity nor training mode), and a
random num_batches_tracked. Finally the BN biases (and conv0's bias) that feed a ReLU are
shifted per channel, by at most 0.17, so that no training-mode ReLU input lies within MARGIN of
0 (keep_relu_inputs_away_from_zero explains why the gradients need it).

Every reference value is computed in float64 from the float32 weights and inputs (exact
casts) and stored as F32, so it is the exact result up to one final rounding; the script
prints how far PyTorch's own float32 computation lies from it (the float32 noise floor that
GoldenTests' tolerances are chosen against).

Contents of each file (F32 unless noted):

  <PyTorch state-dict names>          all parameters and buffers (num_batches_tracked I64),
                                      loaded by `Layer.load` after dropping the golden.* keys
  golden.input                        [4, C, H, W] images
  golden.labels [4] I64               class indices
  golden.logits.eval [4, 10]          model.eval() forward
  golden.logits.train [4, 10]         model.train() forward (after the eval forward, which
                                      changes nothing)
  golden.loss.train []                F.cross_entropy (mean) of the training logits
  golden.grad.<parameter>             d loss / d parameter from that training pass; all
                                      parameters for mnist_resnet, a representative subset
                                      for resnet20 (file size)
  golden.after.<bn>.running_mean|running_var|num_batches_tracked (I64)
                                      every BatchNorm's buffers after that one training
                                      forward (momentum 0.1, unbiased variance)
"""

import contextlib
import copy
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)
MARGIN = 1e-3  # no training-mode ReLU input closer to its kink than this (see below)
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- Fleuret's MNIST ResNet

class ResBlock(nn.Module):
    def __init__(self, nb_channels, kernel_size):
        super(ResBlock, self).__init__()
        self.conv1 = nn.Conv2d(nb_channels, nb_channels, kernel_size, padding=(kernel_size - 1) // 2)
        self.bn1 = nn.BatchNorm2d(nb_channels)
        self.conv2 = nn.Conv2d(nb_channels, nb_channels, kernel_size, padding=(kernel_size - 1) // 2)
        self.bn2 = nn.BatchNorm2d(nb_channels)

    def forward(self, x):
        y = self.bn1(self.conv1(x))
        y = F.relu(y)
        y = self.bn2(self.conv2(y))
        y += x
        y = F.relu(y)
        return y


class MNISTResNet(nn.Module):
    def __init__(self, nb_channels, kernel_size, nb_blocks):
        super(MNISTResNet, self).__init__()
        self.conv0 = nn.Conv2d(1, nb_channels, kernel_size=1)
        self.resblocks = nn.Sequential(*(ResBlock(nb_channels, kernel_size) for _ in range(nb_blocks)))
        self.avg = nn.AvgPool2d(kernel_size=28)
        self.fc = nn.Linear(nb_channels, 10)

    def forward(self, x):
        x = F.relu(self.conv0(x))
        x = self.resblocks(x)
        x = F.relu(self.avg(x))
        x = x.view(x.size(0), -1)
        x = self.fc(x)
        return x


# ---------------------------------------------------------------- akamaster's CIFAR ResNet

def _weights_init(m):
    if isinstance(m, nn.Linear) or isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight)


class LambdaLayer(nn.Module):
    def __init__(self, lambd):
        super(LambdaLayer, self).__init__()
        self.lambd = lambd

    def forward(self, x):
        return self.lambd(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            # Option A.
            self.shortcut = LambdaLayer(
                lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class CIFARResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10):
        super(CIFARResNet, self).__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(block, 16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 64, num_blocks[2], stride=2)
        self.linear = nn.Linear(64, num_classes)
        self.apply(_weights_init)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


# ---------------------------------------------------------------- fixtures

def randomize_batch_norms(model, calibration):
    """Random γ, β; running statistics of a calibration batch, perturbed; random counters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.momentum = None  # cumulative average: one batch gives that batch's statistics
        model.train()
        model(calibration)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.1
                std = m.running_var.sqrt()
                m.running_mean.add_(0.2 * std * torch.randn_like(std))
                m.running_var.mul_(torch.empty_like(std).uniform_(0.6, 1.6))
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, ())))


@contextlib.contextmanager
def recording_relu_inputs():
    """Within the block, every F.relu call appends its input to the yielded list."""
    inputs, original = [], F.relu

    def relu(x, inplace=False):
        inputs.append(x.detach().clone())
        return original(x, inplace=inplace)

    F.relu = relu
    try:
        yield inputs
    finally:
        F.relu = original


def training_relu_inputs(model, images):
    """The inputs of every ReLU of a float64 training-mode forward (running stats untouched)."""
    probe = copy.deepcopy(model).double().train()
    with torch.no_grad(), recording_relu_inputs() as inputs:
        probe(images.double())
    return inputs


def nearest_allowed_shift(values, margin):
    """The δ of smallest |δ| with min |values + δ| >= margin."""
    centers = np.sort(-values)
    low, high = centers - margin, centers + margin
    # Merge the forbidden intervals (low_i, high_i) and find the one containing 0, if any.
    start, end = low[0], high[0]
    for a, b in zip(low[1:], high[1:]):
        if a <= end:
            end = max(end, b)
            continue
        if start < 0 < end:
            break
        start, end = a, b
    if not start < 0 < end:
        return 0.0
    return start if -start <= end else end


def keep_relu_inputs_away_from_zero(model, images, controls, margin):
    """Shifts, channel by channel, the additive parameter feeding each ReLU (a BN bias or the
    conv0 bias; `controls` lists them in the order the ReLUs run) so that no training-mode ReLU
    input lies within `margin` of 0 (float64 values).

    A ReLU input within float32 rounding of its kink makes the gradient discontinuous: any
    float32 implementation may route one pixel's gradient differently from the float64
    reference, which moves that BN's parameter gradient by ~1/sqrt(pixels per channel) ≈ 2 %
    and every gradient below it by ~0.5 % (measured on the 25-block MNIST net: 2 such flips
    between PyTorch float32 and float64 with unconditioned weights). The margin is ~20× the
    largest float32 error of any ReLU input PyTorch makes here, so the gradients compared are
    those of a function that is smooth around the reference point. Shifting a control only
    changes the ReLUs after it, so one pass in forward order suffices."""
    assert len(training_relu_inputs(model, images)) == len(controls)
    largest_shift = 0.0
    for index, parameter in enumerate(controls):
        if parameter is None:
            continue
        x = training_relu_inputs(model, images)[index]
        values = x.transpose(0, 1).reshape(x.shape[1], -1).numpy()
        with torch.no_grad():
            for channel in range(values.shape[0]):
                shift = nearest_allowed_shift(values[channel], 1.05 * margin)
                parameter[channel] += shift
                largest_shift = max(largest_shift, abs(shift))
    inputs = training_relu_inputs(model, images)
    worst = min(float(x.abs().min()) for x in inputs)
    assert worst >= margin, worst
    return len(inputs), worst, largest_shift


def relative_error(a, b):
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


def run(model, state, images, labels):
    """Evaluation forward, then one training forward + backward, from `state`."""
    model.load_state_dict(state)
    model.zero_grad(set_to_none=True)
    model.eval()
    with torch.no_grad():
        eval_logits = model(images)
    model.train()
    train_logits = model(images)
    loss = F.cross_entropy(train_logits, labels)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    return eval_logits, train_logits.detach(), loss.detach(), grads, buffers


def make(file_name, model, images, labels, rename, gradient_names):
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    reference = run(model.double(), {k: (v.double() if v.is_floating_point() else v) for k, v in state.items()},
                    images.double(), labels)
    single = run(model.float(), state, images, labels)

    out = {rename(k): v.contiguous() for k, v in state.items()}
    out["golden.input"] = images.contiguous()
    out["golden.labels"] = labels.contiguous()
    eval_logits, train_logits, loss, grads, buffers = reference
    out["golden.logits.eval"] = eval_logits.float().contiguous()
    out["golden.logits.train"] = train_logits.float().contiguous()
    out["golden.loss.train"] = loss.float().reshape(())
    for name in gradient_names:
        out["golden.grad." + rename(name)] = grads[name].float().contiguous()
    for name, value in buffers.items():
        out["golden.after." + rename(name)] = (value.float() if value.is_floating_point() else value).contiguous()

    # The float32 noise floor: PyTorch's own float32 result against the float64 reference.
    print(f"{file_name}: PyTorch float32 vs float64 (max|a-b| / max|b|):")
    print(f"  logits.eval {relative_error(single[0], eval_logits):.2e}   logits.train "
          f"{relative_error(single[1], train_logits):.2e}   loss {relative_error(single[2], loss):.2e}")
    # A bias right before a training-mode BatchNorm has gradient 0 in exact arithmetic.
    vanishing = [n for n in grads if n.endswith(".bias") and float(grads[n].abs().max()) < 1e-12]
    worst = max((relative_error(single[3][n], grads[n]), n) for n in grads if n not in vanishing)
    print(f"  worst gradient {worst[0]:.2e} ({worst[1]})")
    if vanishing:
        worst = max((float(single[3][n].abs().max() / single[3][n[:-4] + "weight"].abs().max()), n) for n in vanishing)
        print(f"  {len(vanishing)} vanishing gradients, worst max|grad| / max|weight grad| {worst[0]:.2e} ({worst[1]})")
    worst = max((relative_error(single[4][n], buffers[n]), n) for n in buffers if "running" in n)
    print(f"  worst running statistic {worst[0]:.2e} ({worst[1]})")
    print(f"  |logits.eval| max {eval_logits.abs().max():.3g}, |logits.train| max {train_logits.abs().max():.3g}, "
          f"loss {loss:.6f}")
    print(f"  eval vs train logits differ by {relative_error(eval_logits, train_logits):.2e}")

    path = os.path.join(HERE, file_name)
    save_file(out, path)
    os.chmod(path, 0o644)
    print(f"  wrote {path}: {len(out)} tensors, {os.path.getsize(path):,} bytes")


def main():
    torch.manual_seed(20250601)
    mnist = MNISTResNet(16, 3, 25)
    randomize_batch_norms(mnist, torch.randn(8, 1, 28, 28))
    images = torch.randn(4, 1, 28, 28)
    # ReLUs: conv0, then bn1 and the post-addition one of every block, then after the pooling.
    controls = [mnist.conv0.bias] + [p for b in mnist.resblocks for p in (b.bn1.bias, b.bn2.bias)] + [None]
    print("mnist_resnet: %d ReLUs, all inputs |x| >= %.2e, largest bias shift %.2e" % keep_relu_inputs_away_from_zero(mnist, images, controls, MARGIN))
    labels = torch.tensor([3, 7, 0, 9], dtype=torch.int64)
    make("mnist_resnet.safetensors", mnist, images, labels, rename=lambda n: n,
         gradient_names=[n for n, _ in mnist.named_parameters()])

    torch.manual_seed(20250602)
    resnet20 = CIFARResNet(BasicBlock, [3, 3, 3])
    randomize_batch_norms(resnet20, torch.randn(8, 3, 32, 32))
    images = torch.randn(4, 3, 32, 32)
    blocks = [b for layer in (resnet20.layer1, resnet20.layer2, resnet20.layer3) for b in layer]
    controls = [resnet20.bn1.bias] + [p for b in blocks for p in (b.bn1.bias, b.bn2.bias)]
    print("resnet20: %d ReLUs, all inputs |x| >= %.2e, largest bias shift %.2e" % keep_relu_inputs_away_from_zero(resnet20, images, controls, MARGIN))
    labels = torch.tensor([1, 4, 8, 2], dtype=torch.int64)
    # Stem, one block per stage (including both stride-2 entries with their option A shortcut),
    # the stage ends, and the head; the large layer3 convolutions only through their BNs.
    subset = ["conv1.weight", "bn1.weight", "bn1.bias",
              "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
              "layer1.2.bn2.weight", "layer1.2.bn2.bias",
              "layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias",
              "layer2.0.bn2.weight", "layer2.0.bn2.bias", "layer2.2.bn2.weight", "layer2.2.bn2.bias",
              "layer3.0.bn1.weight", "layer3.0.bn1.bias", "layer3.0.bn2.weight", "layer3.0.bn2.bias",
              "layer3.2.bn2.weight", "layer3.2.bn2.bias",
              "linear.weight", "linear.bias"]
    make("resnet20.safetensors", resnet20, images, labels,
         rename=lambda n: "fc" + n[len("linear"):] if n.startswith("linear.") else n, gradient_names=subset)


if __name__ == "__main__":
    main()
