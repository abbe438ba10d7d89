import NN
import Tape

// ImageNet ResNets exactly as torchvision.models.resnet{18,34,50,101,152}. He, Zhang, Ren, Sun,
// "Deep Residual Learning for Image Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385),
// table 1; the bottleneck strides in its 3×3 convolution (torchvision's "ResNet v1.5").
//   stem: conv1 7×7/2 → bn1 → relu → maxpool 3×3/2; layer1…4 at 64/128/256/512 (×4 for
//   bottlenecks); global average pool; fc → 1000. Projections (option B) named downsample.0|1.
//   Initialisation as torchvision: kaiming-normal (fan-out, ReLU) convolutions, BN γ = 1, β = 0.

/// torchvision's `Bottleneck`: 1×1 → 3×3 (stride) → 1×1 with expansion 4.
public final class Bottleneck: ResidualBlock {
    /// conv1 1×1 → width, conv2 3×3 with the stride, conv3 1×1 → 4·width, each followed by its
    /// BatchNorm.
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm, conv3: Conv2d, bn3: BatchNorm
    /// The shortcut layer (1×1 convolution + BatchNorm where the shape changes, by default), or nil
    /// for identity.
    public let downsample: Layer?

    /// A block from `inputs` to 4·`width` channels, striding in the 3×3 convolution (v1.5), with
    /// Kaiming-normal (fan-out) weights; option B projections by default.
    public init(inputs: Int, width: Int, stride: Int, shortcut kind: ShortcutKind = .projection, using random: inout SplitMix64) {
        let outputs = width * 4, initializer = Initializer.kaimingNormal(fanOut: true)
        conv1 = Conv2d(inputs, width, kernelSize: 1, bias: false, weightInitializer: initializer, using: &random)
        bn1 = BatchNorm2d(width)
        conv2 = Conv2d(width, width, kernelSize: 3, stride: Pair(stride, stride), padding: 1, bias: false, weightInitializer: initializer, using: &random)
        bn2 = BatchNorm2d(width)
        conv3 = Conv2d(width, outputs, kernelSize: 1, bias: false, weightInitializer: initializer, using: &random)
        bn3 = BatchNorm2d(outputs)
        downsample = makeShortcut(kind, inputs: inputs, outputs: outputs, stride: stride, using: &random)
        super.init(hasShortcut: kind != .none)
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        combineReLU(shortcut: downsample.map { $0(x, &context) } ?? x, gateInput: x, context: &context, lastBatchNorm: bn3) { c in
            conv3(bn2.normalizedReLU(conv2(bn1.normalizedReLU(conv1(x, &c), &c), &c), &c), &c)
        }
    }

    public override var namedChildren: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
            + (downsample.map { [("downsample", $0)] } ?? [])
    }
}

/// torchvision's ResNet-18/34/50/101/152.
public final class ImageNetResNet: Layer, ResidualNetwork {
    /// The five depths of table 1 of the paper.
    public enum Depth: Int, CaseIterable, Sendable {
        /// ResNet-18 and -34 (basic blocks), ResNet-50, -101 and -152 (bottlenecks): the raw value is
        /// the depth.
        case d18 = 18, d34 = 34, d50 = 50, d101 = 101, d152 = 152

        /// Blocks per stage (table 1 of the paper).
        public var blocks: [Int] {
            switch self {
            case .d18: [2, 2, 2, 2]
            case .d34, .d50: [3, 4, 6, 3]
            case .d101: [3, 4, 23, 3]
            case .d152: [3, 8, 36, 3]
            }
        }

        /// True from ResNet-50 on: bottleneck blocks instead of basic blocks.
        public var usesBottleneck: Bool { rawValue >= 50 }
    }

    /// The stem: conv1 7×7/2, 3 → 64 channels, no bias, and bn1 (then ReLU and a 3×3/2 max pool).
    public let conv1: Conv2d, bn1: BatchNorm
    /// `layer1`…`layer4` at widths 64/128/256/512 (×4 for bottlenecks); stride 2 entering 2 to 4.
    public let stages: [Sequential]
    /// The head: Linear 512 (2048 with bottlenecks) → classes, after global average pooling.
    public let fc: Linear

    /// torchvision's `resnet18()` … `resnet152()` with `classes` outputs (1000) and option B
    /// projections by default; weights drawn from `seed`.
    public init(depth: Depth, classes: Int = 1000, shortcut: ShortcutKind = .projection, seed: UInt64 = 0) {
        var random = SplitMix64(seed: seed)
        let initializer = Initializer.kaimingNormal(fanOut: true)
        conv1 = Conv2d(3, 64, kernelSize: 7, stride: 2, padding: 3, bias: false, weightInitializer: initializer, using: &random)
        bn1 = BatchNorm2d(64)
        var inputs = 64
        stages = [64, 128, 256, 512].enumerated().map { stage, width in
            Sequential((0..<depth.blocks[stage]).map { index in
                let stride = stage > 0 && index == 0 ? 2 : 1
                if depth.usesBottleneck {
                    defer { inputs = width * 4 }
                    return Bottleneck(inputs: inputs, width: width, stride: stride, shortcut: shortcut, using: &random)
                }
                defer { inputs = width }
                return BasicBlock(inputs: inputs, outputs: width, stride: stride, shortcut: shortcut, style: .torchvision, using: &random)
            })
        }
        fc = Linear(inputs, classes, using: &random)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.rank == 4 && input.shape[1] == 3, "ImageNetResNet: input \(input.shape), expected [N, 3, H, W]")
        var x = maxPool2d(bn1.normalizedReLU(conv1(input, &context), &context), kernel: 3, stride: 2, padding: 1)
        for stage in stages { x = stage(x, &context) }
        return fc(globalAvgPool2d(x), &context)
    }

    public override var namedChildren: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) } + [("fc", fc)]
    }

    public var residualBlocks: [ResidualBlock] { stages.flatMap { $0.layers.map { $0 as! ResidualBlock } } }
}
