import NN
import Tape

// The MNIST ResNet of François Fleuret's lecture "6.5 Residual networks" (AMMI, Introduction
// to Deep Learning), after He et al., "Deep Residual Learning for Image Recognition", CVPR 2016
// (https://arxiv.org/abs/1512.03385), eq. (1): y = F(x) + x.
//   block:   y = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)   3×3 convs with bias, padding (k−1)/2
//   network: relu(conv0 1×1) → blocks → avgpool 28×28 → relu → fc
// 25 blocks of 16 channels with 3×3 kernels: 117,802 parameters. Names as the lecture's code:
// conv0.*, resblocks.{i}.conv1|bn1|conv2|bn2.*, fc.*. The plain twin drops "+ x". Blocks are
// `BasicBlock` with the `.lecture` style.

/// The lecture's network; `residual: false` gives its plain twin.
public final class MNISTResNet: Layer, ResidualNetwork {
    /// A 1×1 convolution, input channels → channels, followed by ReLU.
    public let conv0: Conv2d
    /// The residual blocks (25 by default): two k×k convolutions with bias each.
    public let resblocks: Sequential
    /// The head: Linear channels → classes, after average pooling over the whole image and ReLU.
    public let fc: Linear
    /// The side of the square input images (28 by default), the pooling window.
    public let imageSize: Int

    /// The lecture's defaults: 25 blocks of 16 channels, 3×3 kernels, identity shortcuts, 28×28
    /// single-channel images and 10 classes.
    public init(channels: Int = 16, kernelSize: Int = 3, blocks: Int = 25, residual: Bool = true,
                shortcut: ShortcutKind = .identity, merge: ResidualMerge = .sum,
                imageSize: Int = 28, inputChannels: Int = 1, classes: Int = 10, seed: UInt64 = 0) {
        var random = SplitMix64(seed: seed)
        conv0 = Conv2d(inputChannels, channels, kernelSize: 1, using: &random)
        resblocks = Sequential((0..<blocks).map { _ in
            BasicBlock(inputs: channels, outputs: channels, stride: 1, shortcut: shortcut, merge: merge, residual: residual,
                       style: .lecture(kernelSize: kernelSize), using: &random)
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
