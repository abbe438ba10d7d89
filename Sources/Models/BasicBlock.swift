import NN
import Tape

// The two-convolution residual block, once for every network that uses it: the MNIST ResNet of
// Fleuret's lecture, the CIFAR ResNets and torchvision's ResNet-18/34. He, Zhang, Ren, Sun,
// "Deep Residual Learning for Image Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385):
//   basic block, eq. (1):  y = relu(F(x) + x),  F = bn2(conv2(relu(bn1(conv1(x)))))
//   projection,  eq. (2):  y = relu(F(x) + W_s·x) where the shape changes (option B) or always (C)
// The three networks differ only in the convolutions (kernel, bias, initialisation) and in the
// shortcut's child name, which `BasicBlock.Style` names. Activation placements of He et al.,
// "Identity Mappings in Deep Residual Networks", ECCV 2016 (https://arxiv.org/abs/1603.05027),
// figure 4 (a)–(e); (e) full pre-activation, eq. (3): y = x + conv2(relu(bn2(conv1(relu(bn1(x)))))).

/// Where BatchNorm and ReLU sit relative to the addition (He et al. 2016, figure 4).
public enum ActivationPlacement: String, Sendable, CaseIterable {
    /// (a) y = relu(x + bn2(conv2(relu(bn1(conv1 x)))))
    case original
    /// (b) y = relu(bn2(x + conv2(relu(bn1(conv1 x)))))
    case batchNormAfterAddition
    /// (c) y = x + relu(bn2(conv2(relu(bn1(conv1 x)))))
    case reluBeforeAddition
    /// (d) y = x + bn2(conv2(relu(bn1(conv1(relu x)))))
    case reluOnlyPreActivation
    /// (e) y = x + conv2(relu(bn2(conv1(relu(bn1 x))))); where the shape changes relu(bn1 x)
    /// feeds both the branch and the projection shortcut (the authors' resnet-pre-act.lua).
    case fullPreActivation
}

/// The two-convolution residual block (conv1 → bn1 → relu → conv2 → bn2, plus shortcut), in any
/// activation placement, shortcut kind and merge. Children are named as in PyTorch:
/// `conv1`, `bn1`, `conv2`, `bn2` (full pre-activation: `bn1`, `conv1`, `bn2`, `conv2`), the
/// shortcut layer under `style.shortcutName` (`shortcut` for full pre-activation), `gate`.
public final class BasicBlock: ResidualBlock {
    /// How a network makes and names the block's layers.
    public struct Style: Sendable {
        /// The side k of both k×k convolutions (odd; padding (k − 1)/2 keeps the size).
        public var kernelSize: Int
        /// Whether the convolutions have biases.
        public var convolutionBias: Bool
        /// The convolutions' weight initialiser (also of a bare 1×1 projection).
        public var initializer: Initializer
        /// The shortcut layer's child name in the state dict.
        public var shortcutName: String

        /// - Parameters: as the properties of the same names.
        public init(kernelSize: Int, convolutionBias: Bool, initializer: Initializer, shortcutName: String) {
            precondition(kernelSize % 2 == 1, "BasicBlock: kernel size must be odd, got \(kernelSize)")
            (self.kernelSize, self.convolutionBias, self.initializer, self.shortcutName) = (kernelSize, convolutionBias, initializer, shortcutName)
        }

        /// Fleuret's lecture: k×k convolutions with bias, PyTorch's default initialisation, `shortcut`.
        public static func lecture(kernelSize: Int = 3) -> Style {
            Style(kernelSize: kernelSize, convolutionBias: true, initializer: .pytorchDefault, shortcutName: "shortcut")
        }

        /// The PyTorch CIFAR ResNet: 3×3 convolutions without bias, Kaiming-normal (fan-in), `downsample`.
        public static let cifar = Style(kernelSize: 3, convolutionBias: false, initializer: .kaimingNormal(), shortcutName: "downsample")

        /// torchvision's `BasicBlock`: 3×3 without bias, Kaiming-normal (fan-out), `downsample`.
        public static let torchvision = Style(kernelSize: 3, convolutionBias: false, initializer: .kaimingNormal(fanOut: true),
                                              shortcutName: "downsample")
    }

    /// The branch's layers: conv1 (strided), bn1, conv2, bn2.
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    /// A layer on the shortcut (zero-pad, projection, 1×1 conv, dropout), nil for identity.
    public let shortcut: Layer?
    /// Where BatchNorm and ReLU sit relative to the addition.
    public let placement: ActivationPlacement
    /// How the layers were made and what the shortcut is called.
    public let style: Style

    /// - Parameters:
    ///   - inputs, outputs: channels in and out; `stride` is conv1's (and the shortcut's).
    ///   - shortcut, merge: any NN shortcut variant and He et al. 2016 merge.
    ///   - residual: false builds the plain twin's block, y = post(F(x)).
    ///   - random: draws conv1, conv2, then the shortcut and the gate, in that order.
    public init(inputs: Int, outputs: Int, stride: Int, shortcut kind: ShortcutKind = .zeroPad(.split),
                merge: ResidualMerge = .sum, placement: ActivationPlacement = .original, residual: Bool = true,
                style: Style = .cifar, using random: inout SplitMix64) {
        let kernel = Pair(style.kernelSize, style.kernelSize), padding = Pair((style.kernelSize - 1) / 2, (style.kernelSize - 1) / 2)
        conv1 = Conv2d(inputs, outputs, kernelSize: kernel, stride: Pair(stride, stride), padding: padding, bias: style.convolutionBias,
                       weightInitializer: style.initializer, using: &random)
        conv2 = Conv2d(outputs, outputs, kernelSize: kernel, padding: padding, bias: style.convolutionBias,
                       weightInitializer: style.initializer, using: &random)
        bn1 = BatchNorm2d(placement == .fullPreActivation ? inputs : outputs)
        bn2 = BatchNorm2d(outputs)
        (self.placement, self.style) = (placement, style)
        let useShortcut = residual && kind != .none
        if useShortcut && placement == .fullPreActivation && kind == .projection {
            // The pre-activation reference code projects with a bare strided 1×1 convolution.
            shortcut = inputs != outputs || stride != 1
                ? Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), bias: false,
                         weightInitializer: style.initializer, using: &random)
                : nil
        } else {
            shortcut = useShortcut ? makeShortcut(kind, inputs: inputs, outputs: outputs, stride: stride, using: &random) : nil
        }
        let gate = useShortcut ? merge.makeGate(inputs: inputs, outputs: outputs, stride: stride, convolutional: true, using: &random) : nil
        super.init(hasShortcut: useShortcut, merge: merge, gate: gate)
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        func skip(_ input: Variable, _ context: inout ForwardContext) -> Variable { shortcut.map { $0(input, &context) } ?? input }
        switch placement {
        case .original:
            return combineReLU(shortcut: skip(x, &context), gateInput: x, context: &context, lastBatchNorm: bn2) { c in
                conv2(bn1.normalizedReLU(conv1(x, &c), &c), &c)
            }
        case .batchNormAfterAddition:
            let sum = combine(shortcut: skip(x, &context), gateInput: x, context: &context) { c in
                conv2(bn1.normalizedReLU(conv1(x, &c), &c), &c)
            }
            return bn2.normalizedReLU(sum, &context)
        case .reluBeforeAddition:
            return combine(shortcut: skip(x, &context), gateInput: x, context: &context) { c in
                bn2.normalizedReLU(conv2(bn1.normalizedReLU(conv1(x, &c), &c), &c), &c)
            }
        case .reluOnlyPreActivation:
            return combine(shortcut: skip(x, &context), gateInput: x, context: &context) { c in
                bn2(conv2(bn1.normalizedReLU(conv1(x.relu(), &c), &c), &c), &c)
            }
        case .fullPreActivation:
            let activated = bn1.normalizedReLU(x, &context)
            let shared = shortcut != nil && !(shortcut is ZeroPadShortcut)
            return combine(shortcut: skip(shared ? activated : x, &context), gateInput: x, context: &context) { c in
                conv2(bn2.normalizedReLU(conv1(activated, &c), &c), &c)
            }
        }
    }

    public override var namedChildren: [(String, Layer)] {
        let convs: [(String, Layer)] = placement == .fullPreActivation
            ? [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)]
            : [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        let shortcutName = placement == .fullPreActivation ? "shortcut" : style.shortcutName
        return convs + (shortcut.map { [(shortcutName, $0)] } ?? []) + super.namedChildren
    }
}
