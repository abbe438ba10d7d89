import NN
import Tape

// The MNIST ResNet of François Fleuret's lecture "6.5 Residual networks" (AMMI, Introduction
// to Deep Learning), after He et al., "Deep Residual Learning for Image Recognition", CVPR 2016
// (https://arxiv.org/abs/1512.03385), eq. (1): y = F(x) + x.
//   block:   y = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)   3×3 convs with bias, padding (k−1)/2
//   network: relu(conv0 1×1) → blocks → avgpool 28×28 → relu → fc
// 25 blocks of 16 channels with 3×3 kernels: 117,802 parameters. Names as the lecture's code:
// conv0.*, resblocks.{i}.conv1|bn1|conv2|bn2.*, fc.*. The plain twin drops "+ x".

/// One block of the lecture's ResNet (or of its plain twin).
public final class MNISTResBlock: ResidualBlock {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    /// A layer on the shortcut (1×1 conv, projection, dropout), nil for identity.
    public let shortcut: Layer?

    /// - Parameters:
    ///   - residual: false builds the plain twin's block.
    ///   - shortcut, merge: any NN shortcut variant and He et al. 2016 merge (identity and sum
    ///     by default, as the lecture).
    public init(channels: Int, kernelSize: Int, residual: Bool, shortcut kind: ShortcutKind = .identity,
                merge: ResidualMerge = .sum, using random: inout SplitMix64) {
        precondition(kernelSize % 2 == 1, "MNISTResBlock: kernel size must be odd, got \(kernelSize)")
        let padding = Pair((kernelSize - 1) / 2, (kernelSize - 1) / 2)
        conv1 = Conv2d(channels, channels, kernelSize: Pair(kernelSize, kernelSize), padding: padding, using: &random)
        bn1 = BatchNorm2d(channels)
        conv2 = Conv2d(channels, channels, kernelSize: Pair(kernelSize, kernelSize), padding: padding, using: &random)
        bn2 = BatchNorm2d(channels)
        let useShortcut = residual && kind != .none
        shortcut = useShortcut ? makeShortcut(kind, inputs: channels, outputs: channels, stride: 1, using: &random) : nil
        let gate = useShortcut ? merge.makeGate(inputs: channels, outputs: channels, stride: 1, convolutional: true, using: &random) : nil
        super.init(hasShortcut: useShortcut, merge: merge, gate: gate)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        let skip = shortcut.map { $0(input, &context) } ?? input
        return combine(shortcut: skip, gateInput: input, context: &context, post: { $0.relu() }) { context in
            bn2(conv2(bn1(conv1(input, &context), &context).relu(), &context), &context)
        }
    }

    public override var namedChildren: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (shortcut.map { [("shortcut", $0)] } ?? []) + super.namedChildren
    }
}

/// The lecture's network; `residual: false` gives its plain twin.
public final class MNISTResNet: Layer, ResidualNetwork {
    public let conv0: Conv2d
    public let resblocks: Sequential
    public let fc: Linear
    public let imageSize: Int

    public init(channels: Int = 16, kernelSize: Int = 3, blocks: Int = 25, residual: Bool = true,
                shortcut: ShortcutKind = .identity, merge: ResidualMerge = .sum,
                imageSize: Int = 28, inputChannels: Int = 1, classes: Int = 10, seed: UInt64 = 0) {
        var random = SplitMix64(seed: seed)
        conv0 = Conv2d(inputChannels, channels, kernelSize: 1, using: &random)
        resblocks = Sequential((0..<blocks).map { _ in
            MNISTResBlock(channels: channels, kernelSize: kernelSize, residual: residual, shortcut: shortcut, merge: merge, using: &random)
        })
        fc = Linear(channels, classes, using: &random)
        self.imageSize = imageSize
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.rank == 4 && input.shape[2] == imageSize && input.shape[3] == imageSize,
                     "MNISTResNet: input \(input.shape), expected [N, C, \(imageSize), \(imageSize)]")
        let features = resblocks(conv0(input, &context).relu(), &context)
        return fc(avgPool2d(features, kernel: Pair(imageSize, imageSize)).relu().flattened(), &context)
    }

    public override var namedChildren: [(String, Layer)] { [("conv0", conv0), ("resblocks", resblocks), ("fc", fc)] }
    public var residualBlocks: [ResidualBlock] { resblocks.layers.map { $0 as! ResidualBlock } }
}
