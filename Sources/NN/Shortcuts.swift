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
    public let inputs: Int, outputs: Int, stride: Int
    public let placement: ZeroPadPlacement

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

/// How a block combines its residual branch F(x) with its shortcut s(x): the He et al. 2016
/// ablations (table 1, figure 2).
public enum ResidualMerge: Sendable, Hashable {
    /// y = F(x) + s(x).
    case sum
    /// y = λ_branch·F(x) + λ_shortcut·s(x) (constant scaling; the paper scales the shortcut by 0.5).
    case scaled(shortcut: Float, branch: Float)
    /// Exclusive gating: y = (1 − g)·F(x) + g·s(x), g = σ(conv1×1(x) + b), b = `gateBias` initially.
    case exclusiveGating(gateBias: Float)
    /// Shortcut-only gating: y = F(x) + g·s(x), g = σ(conv1×1(x) + b).
    case shortcutGating(gateBias: Float)
}

/// The gate of a gated merge: g = σ(W·x + b) with a 1×1 convolution (4-D input) or a linear map.
public final class Gate: Layer {
    let transform: Layer

    public init(inputs: Int, outputs: Int, stride: Int, bias gateBias: Float, convolutional: Bool, using random: inout SplitMix64) {
        if convolutional {
            let conv = Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), using: &random)
            conv.bias!.value = Tensor(shape: [outputs], repeating: gateBias)
            transform = conv
        } else {
            let linear = Linear(inputs, outputs, using: &random)
            linear.bias!.value = Tensor(shape: [outputs], repeating: gateBias)
            transform = linear
        }
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { transform(input, &context).sigmoid() }
    public override var namedChildren: [(String, Layer)] { [("transform", transform)] }
}

/// Combines branch and shortcut outputs according to a `ResidualMerge`.
public func merge(_ kind: ResidualMerge, branch: Variable, shortcut: Variable, gate: Variable?) -> Variable {
    switch kind {
    case .sum:
        return branch + shortcut
    case .scaled(let shortcutScale, let branchScale):
        return branch * branchScale + shortcut * shortcutScale
    case .exclusiveGating:
        let g = gate!
        return (1 - g) * branch + g * shortcut
    case .shortcutGating:
        return branch + gate! * shortcut
    }
}

extension ResidualMerge {
    /// The gate layer this merge needs, if any.
    public func makeGate(inputs: Int, outputs: Int, stride: Int, convolutional: Bool, using random: inout SplitMix64) -> Gate? {
        switch self {
        case .sum, .scaled: nil
        case .exclusiveGating(let bias), .shortcutGating(let bias):
            Gate(inputs: inputs, outputs: outputs, stride: stride, bias: bias, convolutional: convolutional, using: &random)
        }
    }
}

/// A generic residual block y = post(merge(F(x), s(x))) with a branch F, an optional shortcut
/// layer s (identity when nil), an optional gate and an optional activation after the merge.
/// Children are named `branch`, `shortcut`, `gate`, `post`. Models that must match PyTorch names
/// (ResNets) define their own blocks with this same arithmetic.
public final class Residual: Layer {
    public let branch: Layer
    public let shortcut: Layer?
    public let mergeKind: ResidualMerge
    public let gate: Gate?
    public let post: Layer?
    /// When false, the block is skipped entirely: y = post(s(x)) (lesion studies).
    public var isBranchEnabled = true

    public init(branch: Layer, shortcut: Layer? = nil, merge: ResidualMerge = .sum, gate: Gate? = nil, post: Layer? = nil) {
        precondition((gate == nil) == (merge == .sum || { if case .scaled = merge { return true }; return false }()),
                     "Residual: merge \(merge) \(gate == nil ? "needs" : "takes no") gate")
        (self.branch, self.shortcut, self.mergeKind, self.gate, self.post) = (branch, shortcut, merge, gate, post)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        let skip = shortcut.map { $0(input, &context) } ?? input
        guard isBranchEnabled else { return post.map { $0(skip, &context) } ?? skip }
        let combined = merge(mergeKind, branch: branch(input, &context), shortcut: skip, gate: gate.map { $0(input, &context) })
        return post.map { $0(combined, &context) } ?? combined
    }

    public override var namedChildren: [(String, Layer)] {
        [("branch", branch)] + [("shortcut", shortcut), ("gate", gate), ("post", post)].compactMap { name, layer in layer.map { (name, $0) } }
    }
}

/// Highway layer (Srivastava, Greff & Schmidhuber 2015, https://arxiv.org/abs/1505.00387), eq. (3):
///
///     y = T(x)·H(x) + (1 − T(x))·x,   T(x) = σ(W_T·x + b_T),  H(x) = act(W_H·x + b_H)
///
/// Dense (Linear) or convolutional (3×3, padding 1, same channels). The transform-gate bias b_T
/// starts negative (−1 … −3) so the layer first carries its input.
public final class Highway: Layer {
    public let transform: Layer, gate: Layer
    public let activation: Layer
    /// The most recent gate activity T(x), for gate statistics.
    public private(set) var lastGate: Tensor?

    public init(width: Int, convolutional: Bool = false, gateBias: Float = -2, activation: Layer = ReLU(),
                using random: inout SplitMix64) {
        if convolutional {
            transform = Conv2d(width, width, kernelSize: 3, padding: 1, using: &random)
            let gateConv = Conv2d(width, width, kernelSize: 3, padding: 1, using: &random)
            gateConv.bias!.value = Tensor(shape: [width], repeating: gateBias)
            gate = gateConv
        } else {
            transform = Linear(width, width, using: &random)
            let gateLinear = Linear(width, width, using: &random)
            gateLinear.bias!.value = Tensor(shape: [width], repeating: gateBias)
            gate = gateLinear
        }
        self.activation = activation
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        let t = gate(input, &context).sigmoid()
        lastGate = t.value
        let h = activation(transform(input, &context), &context)
        return t * h + (1 - t) * input
    }

    public override var namedChildren: [(String, Layer)] { [("transform", transform), ("gate", gate)] }
}
