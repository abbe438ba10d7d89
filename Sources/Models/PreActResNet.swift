import NN
import Tape

// Pre-activation bottleneck ResNets for CIFAR (164 and 1001 layers, 9n + 2). He, Zhang, Ren,
// Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
// (https://arxiv.org/abs/1603.05027), eq. (3) with full pre-activation (figure 4e):
//   y = x + conv3(relu(bn3(conv2(relu(bn2(conv1(relu(bn1(x)))))))))   1×1 → 3×3 → 1×1, width out/4
// As the authors' resnet-pre-act.lua: stem conv 3×3 → 16; stages of n blocks with outputs
// 64/128/256 (stride 2 entering stages 2 and 3); where the shape changes relu(bn1(x)) feeds both
// the branch and the shortcut, a strided 1×1 convolution without bias; a final BN-ReLU, global
// average pool, fc. No convolution has a bias. Names: conv1, layer{1,2,3}.{i}.bn1|conv1|bn2|
// conv2|bn3|conv3|shortcut, bn, fc. The basic-block pre-activation ResNet-110 is
// `CIFARResNet(depth: 110, configuration: .init(shortcut: .projection, placement: .fullPreActivation))`.

/// The full pre-activation bottleneck block.
public final class PreActBottleneck: ResidualBlock {
    /// The branch bn1 → relu → conv1 1×1 (stride) → bn2 → relu → conv2 3×3 → bn3 → relu → conv3 1×1,
    /// of width outputs/4.
    public let bn1: BatchNorm, conv1: Conv2d, bn2: BatchNorm, conv2: Conv2d, bn3: BatchNorm, conv3: Conv2d
    /// The strided 1×1 projection of relu(bn1(x)) where the shape changes, or nil for identity.
    public let shortcut: Conv2d?

    /// A block from `inputs` to `outputs` channels (a multiple of 4); `residual: false` gives the
    /// plain twin.
    public init(inputs: Int, outputs: Int, stride: Int, residual: Bool = true, using random: inout SplitMix64) {
        precondition(outputs % 4 == 0, "PreActBottleneck: outputs must be a multiple of 4, got \(outputs)")
        let width = outputs / 4
        bn1 = BatchNorm2d(inputs)
        conv1 = Conv2d(inputs, width, kernelSize: 1, stride: Pair(stride, stride), bias: false, weightInitializer: .kaimingNormal(), using: &random)
        bn2 = BatchNorm2d(width)
        conv2 = Conv2d(width, width, kernelSize: 3, padding: 1, bias: false, weightInitializer: .kaimingNormal(), using: &random)
        bn3 = BatchNorm2d(width)
        conv3 = Conv2d(width, outputs, kernelSize: 1, bias: false, weightInitializer: .kaimingNormal(), using: &random)
        shortcut = residual && (inputs != outputs || stride != 1)
            ? Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), bias: false, weightInitializer: .kaimingNormal(), using: &random)
            : nil
        super.init(hasShortcut: residual)
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let activated = bn1.normalizedReLU(x, &context)
        let skip = shortcut.map { $0(activated, &context) } ?? x
        return combine(shortcut: skip, gateInput: x, context: &context) { c in
            conv3(bn3.normalizedReLU(conv2(bn2.normalizedReLU(conv1(activated, &c), &c), &c), &c), &c)
        }
    }

    public override var namedChildren: [(String, Layer)] {
        [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2), ("bn3", bn3), ("conv3", conv3)]
            + (shortcut.map { [("shortcut", $0)] } ?? [])
    }
}

/// Pre-activation bottleneck ResNet-164 / ResNet-1001 for CIFAR.
public final class PreActResNet: Layer, ResidualNetwork {
    /// The stem: a 3×3 convolution, 3 → 16 channels, no bias.
    public let conv1: Conv2d
    /// The stages `layer1`, `layer2`, `layer3` with outputs 64/128/256.
    public let stages: [Sequential]
    /// The final BatchNorm (then ReLU and global average pooling).
    public let bn: BatchNorm
    /// The head: Linear 256 → classes.
    public let fc: Linear

    /// Depth 9n + 2 (164, 1001), 10 classes by default; `residual: false` gives the plain twin;
    /// weights drawn from `seed`.
    public init(depth: Int, classes: Int = 10, residual: Bool = true, seed: UInt64 = 0) {
        precondition(depth >= 11 && (depth - 2) % 9 == 0, "PreActResNet: depth must be 9n + 2, got \(depth)")
        var random = SplitMix64(seed: seed)
        let blocks = (depth - 2) / 9
        conv1 = Conv2d(3, 16, kernelSize: 3, padding: 1, bias: false, weightInitializer: .kaimingNormal(), using: &random)
        var inputs = 16
        stages = [64, 128, 256].enumerated().map { stage, width in
            Sequential((0..<blocks).map { index in
                defer { inputs = width }
                return PreActBottleneck(inputs: inputs, outputs: width, stride: stage > 0 && index == 0 ? 2 : 1,
                                        residual: residual, using: &random)
            })
        }
        bn = BatchNorm2d(256)
        fc = Linear(256, classes, using: &random)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.rank == 4 && input.shape[1] == 3, "PreActResNet: input \(input.shape), expected [N, 3, H, W]")
        var x = conv1(input, &context)
        for stage in stages { x = stage(x, &context) }
        return fc(globalAvgPool2d(bn.normalizedReLU(x, &context)), &context)
    }

    public override var namedChildren: [(String, Layer)] {
        [("conv1", conv1)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) } + [("bn", bn), ("fc", fc)]
    }

    public var residualBlocks: [ResidualBlock] { stages.flatMap { $0.layers.map { $0 as! ResidualBlock } } }
}
