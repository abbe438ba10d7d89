import Tape

// Shortcut connections of residual networks. He, Zhang, Ren, Sun, "Deep Residual Learning for
// Image Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385), eq. (1) y = F(x) + x and
// eq. (2) y = F(x) + W_s·x, options A/B/C of section 3.3; and He et al., "Identity Mappings in
// Deep Residual Networks", ECCV 2016 (https://arxiv.org/abs/1603.05027), section 3 and table 1.

/// Where option A puts the zero channels.
public enum ZeroPadPlacement: Sendable {
    /// Half before and half after the input's channels (16→32: 8 zeros, 16 inputs, 8 zeros), as
    /// the widely used PyTorch CIFAR ResNet, so its weights load.
    case split
    /// All zero channels after the input's channels (the Torch fb.resnet convention).
    case append
}

/// The path of a residual block's input to its output.
public enum ShortcutKind: Sendable, Hashable {
    /// No shortcut: a plain network, y = F(x).
    case none
    /// y = F(x) + x (shape changes use option A).
    case identity
    /// Option A: stride subsampling, then zero channels: no parameters.
    case zeroPad(ZeroPadPlacement)
    /// Option B: a strided 1×1 convolution + BatchNorm where the shape changes, identity elsewhere.
    case projection
    /// Option C: the 1×1 convolution + BatchNorm projection on every block.
    case projectionEverywhere
    /// A 1×1 convolution (no BN) on every block (He et al. 2016, table 1 "1×1 conv shortcut").
    case convolution1x1
    /// Dropout on the shortcut (He et al. 2016, table 1 "dropout shortcut").
    case dropout(probability: Float)
}

/// Option A: x[:, :, ::s, ::s] followed by zero channels up to `outputs`.
public final class ZeroPadShortcut: Layer {
    /// Channels in, channels out (≥ in), and s, the spatial subsampling step.
    public let inputs: Int, outputs: Int, stride: Int
    /// Where the outputs − inputs zero channels go.
    public let placement: ZeroPadPlacement

    /// Option A from `inputs` to `outputs` channels with step `stride`; zeros split around the input
    /// by default.
    public init(inputs: Int, outputs: Int, stride: Int, placement: ZeroPadPlacement = .split) {
        precondition(outputs >= inputs && stride >= 1, "ZeroPadShortcut: \(inputs)→\(outputs) channels with stride \(stride)")
        (self.inputs, self.outputs, self.stride, self.placement) = (inputs, outputs, stride, placement)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.rank == 4 && input.shape[1] == inputs, "ZeroPadShortcut: input \(input.shape) for \(inputs) channels")
        let subsampled = stride == 1 ? input : input[.all, .all, .every(stride), .every(stride)]
        let extra = outputs - inputs
        let before = placement == .split ? extra / 2 : 0
        return extra == 0 ? subsampled : subsampled.padded([(0, 0), (before, extra - before), (0, 0), (0, 0)])
    }
}

/// Builds the shortcut layer of one block (nil for identity and for `.none`).
///
/// Projections are `Sequential(Conv2d 1×1 stride s no bias, BatchNorm2d)`, named `0` and `1` as
/// torchvision's `downsample`.
public func makeShortcut(_ kind: ShortcutKind, inputs: Int, outputs: Int, stride: Int, using random: inout SplitMix64) -> Layer? {
    let changesShape = inputs != outputs || stride != 1
    func projection() -> Layer {
        Sequential(Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), bias: false, using: &random), BatchNorm2d(outputs))
    }
    switch kind {
    case .none:
        return nil
    case .identity:
        return changesShape ? ZeroPadShortcut(inputs: inputs, outputs: outputs, stride: stride) : nil
    case .zeroPad(let placement):
        return changesShape ? ZeroPadShortcut(inputs: inputs, outputs: outputs, stride: stride, placement: placement) : nil
    case .projection:
        return changesShape ? projection() : nil
    case .projectionEverywhere:
        return projection()
    case .convolution1x1:
        return Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), bias: false, using: &random)
    case .dropout(let probability):
        return changesShape
            ? Sequential(ZeroPadShortcut(inputs: inputs, outputs: outputs, stride: stride), Dropout(probability: probability))
            : Dropout(probability: probability)
    }
}
