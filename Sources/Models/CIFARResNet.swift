import NN
import Tape

// ResNets for CIFAR-10 (6n + 2 layers). He, Zhang, Ren, Sun, "Deep Residual Learning for Image
// Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385), section 4.2:
//   basic block, eq. (1):  y = relu(F(x) + x),  F = bn2(conv2(relu(bn1(conv1(x)))))
//   projection,  eq. (2):  y = relu(F(x) + W_s·x) where the shape changes (option B) or always (C)
//   stem conv 3×3 → 16, three stages of n blocks at 16/32/64 channels (stride 2 entering stages 2
//   and 3), global average pool, fc 64 → 10; option A shortcuts (zero channels) by default.
// Blocks: `BasicBlock` with `.cifar` style, in any activation placement of He et al., "Identity
// Mappings in Deep Residual Networks", ECCV 2016 (https://arxiv.org/abs/1603.05027), figure 4.
// Names as torchvision / the widely used PyTorch CIFAR ResNet: conv1, bn1, layer{1,2,3}.{i}.
// conv1|bn1|conv2|bn2, downsample.0|1 for projections, fc; pre-activation: bn (final) and
// `shortcut` for the projection.

/// Configuration shared by the CIFAR-style residual networks.
public struct CIFARConfiguration: Sendable {
    /// The shortcut; option A (zero channels, split) by default.
    public var shortcut: ShortcutKind = .zeroPad(.split)
    /// How branch and shortcut combine; a sum by default.
    public var merge: ResidualMerge = .sum
    /// Where BatchNorm and ReLU sit (He et al. 2016, figure 4); (a) original by default.
    public var placement: ActivationPlacement = .original
    /// False builds the plain twin (same layers, no shortcuts).
    public var residual = true
    /// Output classes; 10 (CIFAR-10) by default.
    public var classes = 10
    /// Image channels; 3 (RGB) by default.
    public var inputChannels = 3
    /// Start each block's bn2 at γ = 0 (for placements whose branch ends in bn2: every block
    /// then begins as its shortcut).
    public var zeroInitializeLastBatchNorm = false

    /// The configuration with these settings; `inputChannels` and `zeroInitializeLastBatchNorm` keep
    /// their defaults.
    public init(shortcut: ShortcutKind = .zeroPad(.split), merge: ResidualMerge = .sum,
                placement: ActivationPlacement = .original, residual: Bool = true, classes: Int = 10) {
        (self.shortcut, self.merge, self.placement, self.residual, self.classes) = (shortcut, merge, placement, residual, classes)
    }
}

/// The 6n + 2 CIFAR ResNet (20, 32, 44, 56, 110, 1202 layers) and its plain twins.
public final class CIFARResNet: Layer, ResidualNetwork {
    /// The stem: a 3×3 convolution, input channels → widths[0], no bias.
    public let conv1: Conv2d
    /// The stem's BatchNorm (nil for full pre-activation), and the final BatchNorm `bn` before pooling
    /// (full pre-activation only).
    public let bn1: BatchNorm?, finalBatchNorm: BatchNorm?
    /// The stages `layer1`, `layer2`, `layer3` of n blocks each; stages 2 and 3 enter with stride 2.
    public let stages: [Sequential]
    /// The head: Linear widths.last → classes after global average pooling.
    public let fc: Linear

    /// A 6n + 2 layer network (depth 20, 32, 44, 56, 110, 1202…) with stage widths 16/32/64 by default,
    /// Kaiming-normal convolutions and weights drawn from `seed`.
    public init(depth: Int, configuration: CIFARConfiguration = CIFARConfiguration(), widths: [Int] = [16, 32, 64], seed: UInt64 = 0) {
        precondition(depth >= 8 && (depth - 2) % 6 == 0, "CIFARResNet: depth must be 6n + 2, got \(depth)")
        var random = SplitMix64(seed: seed)
        let blocks = (depth - 2) / 6
        let preActivation = configuration.placement == .fullPreActivation
        conv1 = Conv2d(configuration.inputChannels, widths[0], kernelSize: 3, padding: 1, bias: false,
                       weightInitializer: .kaimingNormal(), using: &random)
        bn1 = preActivation ? nil : BatchNorm2d(widths[0])
        var inputs = widths[0]
        stages = widths.enumerated().map { stage, width in
            Sequential((0..<blocks).map { index in
                defer { inputs = width }
                return BasicBlock(inputs: inputs, outputs: width, stride: stage > 0 && index == 0 ? 2 : 1,
                                  shortcut: configuration.shortcut, merge: configuration.merge,
                                  placement: configuration.placement, residual: configuration.residual, using: &random)
            })
        }
        finalBatchNorm = preActivation ? BatchNorm2d(widths[widths.count - 1]) : nil
        fc = Linear(widths[widths.count - 1], configuration.classes, weightInitializer: .kaimingNormal(), using: &random)
        super.init()
        if configuration.zeroInitializeLastBatchNorm {
            for block in residualBlocks { (block as! BasicBlock).bn2.weight!.value = Tensor.zeros([(block as! BasicBlock).bn2.channels]) }
        }
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.rank == 4 && input.shape[1] == conv1.weight.value.shape[1],
                     "CIFARResNet: input \(input.shape), expected [N, \(conv1.weight.value.shape[1]), H, W]")
        var x = conv1(input, &context)
        if let bn1 { x = bn1.normalizedReLU(x, &context) }
        for stage in stages { x = stage(x, &context) }
        if let finalBatchNorm { x = finalBatchNorm.normalizedReLU(x, &context) }
        return fc(globalAvgPool2d(x), &context)
    }

    public override var namedChildren: [(String, Layer)] {
        [("conv1", conv1)] + (bn1.map { [("bn1", $0)] } ?? [])
            + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) }
            + (finalBatchNorm.map { [("bn", $0)] } ?? []) + [("fc", fc)]
    }

    public var residualBlocks: [ResidualBlock] { stages.flatMap { $0.layers.map { $0 as! ResidualBlock } } }
}
