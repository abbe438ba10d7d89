import Models
import NN
import Training

/// He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual Networks" (ECCV 2016,
/// arXiv:1603.05027). With y = h(x) + F(x), x' = f(y), a signal reaches every earlier unit
/// directly only when the shortcut h and the after-addition f are identities (§2, Eq. (4)–(5)).
/// Table 1 / Fig. 2 (ResNet-110 on CIFAR-10): constant scaling, gating, 1×1-convolution and
/// dropout shortcuts all train worse than the identity; Table 2 / Fig. 4: of the activation
/// placements, full pre-activation has the lowest error.
public enum IdentityMappings: Experiment {
    public static let name = "identity-mappings"
    public static let paper = Paper("He et al. 2016", title: "Identity Mappings in Deep Residual Networks",
                                    link: "https://arxiv.org/abs/1603.05027")
    public static let claim = "identity shortcuts train best: constant scaling, exclusive gating, shortcut-only gating, 1×1 "
        + "convolution and dropout shortcuts all give higher training loss and test error (Table 1); of the activation "
        + "placements, full pre-activation is best and ReLU before addition is worse than the original (Table 2)"

    /// One row of the paper's Table 1 (shortcut variants, Fig. 2) or Table 2 (activation placements, Fig. 4).
    public enum Variant: String, Codable, Sendable, CaseIterable {
        /// Fig. 2(a) / 4(a): y = relu(x + F(x)), option A (zero-padded) where the shape changes.
        case original
        /// Fig. 2(b), λ = 0.5 on the shortcut only: y = relu(0.5·x + F(x)). Paper: fail.
        case scaledShortcut = "scaled-shortcut"
        /// Fig. 2(b), λ = 0.5 on both: y = relu(0.5·x + 0.5·F(x)). Paper: 12.35%.
        case scaledBoth = "scaled-both"
        /// Fig. 2(c), exclusive gating y = g·F + (1 − g)·x, g = σ(1×1 conv(x) + b_g), b_g = 0. Paper: fail.
        case exclusiveGating0 = "exclusive-gating-0"
        /// Exclusive gating with b_g = −6 (the paper's best exclusive gate). Paper: 8.70%.
        case exclusiveGating6 = "exclusive-gating-6"
        /// Fig. 2(d), shortcut-only gating y = F + (1 − g)·x, b_g = 0. Paper: 12.86%.
        case shortcutGating0 = "shortcut-gating-0"
        /// Shortcut-only gating with b_g = −6. Paper: 6.91%.
        case shortcutGating6 = "shortcut-gating-6"
        /// Fig. 2(e), a 1×1 convolution on every shortcut. Paper: 12.22%.
        case convolution1x1 = "conv-1x1-shortcut"
        /// Fig. 2(f), dropout (ratio 0.5) on the shortcut. Paper: fail.
        case dropoutShortcut = "dropout-shortcut"
        /// Fig. 4(b), BN after addition. Paper: 8.17%.
        case batchNormAfterAddition = "bn-after-addition"
        /// Fig. 4(c), ReLU before addition. Paper: 7.84%.
        case reluBeforeAddition = "relu-before-addition"
        /// Fig. 4(d), ReLU-only pre-activation. Paper: 6.71%.
        case reluOnlyPreActivation = "relu-only-preactivation"
        /// Fig. 4(e), full pre-activation, Eq. (3)-style unit y = x + conv(relu(bn(conv(relu(bn x)))). Paper: 6.37%.
        case fullPreActivation = "full-preactivation"

        /// 1 for Table 1 (shortcuts), 2 for Table 2 (placements); the original is in both.
        public var table: Int {
            switch self {
            case .batchNormAfterAddition, .reluBeforeAddition, .reluOnlyPreActivation, .fullPreActivation: 2
            default: 1
            }
        }

        /// The paper's label.
        public var label: String {
            switch self {
            case .original: "original (identity)"
            case .scaledShortcut: "scaling 0.5·x + F"
            case .scaledBoth: "scaling 0.5·x + 0.5·F"
            case .exclusiveGating0: "exclusive gating, b_g = 0"
            case .exclusiveGating6: "exclusive gating, b_g = −6"
            case .shortcutGating0: "shortcut-only gating, b_g = 0"
            case .shortcutGating6: "shortcut-only gating, b_g = −6"
            case .convolution1x1: "1×1 conv shortcut"
            case .dropoutShortcut: "dropout shortcut (0.5)"
            case .batchNormAfterAddition: "BN after addition"
            case .reluBeforeAddition: "ReLU before addition"
            case .reluOnlyPreActivation: "ReLU-only pre-activation"
            case .fullPreActivation: "full pre-activation"
            }
        }

        /// The paper's CIFAR-10 test error (%) of ResNet-110 (Table 1, 2); nil where it says "fail" (> 20%).
        public var paperError: Double? {
            switch self {
            case .original: 6.61
            case .scaledShortcut, .exclusiveGating0, .dropoutShortcut: nil
            case .scaledBoth: 12.35
            case .exclusiveGating6: 8.70
            case .shortcutGating0: 12.86
            case .shortcutGating6: 6.91
            case .convolution1x1: 12.22
            case .batchNormAfterAddition: 8.17
            case .reluBeforeAddition: 7.84
            case .reluOnlyPreActivation: 6.71
            case .fullPreActivation: 6.37
            }
        }

        /// The network's configuration. Our gate multiplies the shortcut by g' = σ(W·x + b) where
        /// the paper multiplies it by 1 − g = 1 − σ(W·x + b_g); b = −b_g gives the same initial gate
        /// (W is random and symmetric), so b_g = −6 is our bias 6.
        public func configuration(inputChannels: Int) -> CIFARConfiguration {
            var configuration: CIFARConfiguration
            switch self {
            case .original: configuration = CIFARConfiguration()
            case .scaledShortcut: configuration = CIFARConfiguration(merge: .scaled(shortcut: 0.5, branch: 1))
            case .scaledBoth: configuration = CIFARConfiguration(merge: .scaled(shortcut: 0.5, branch: 0.5))
            case .exclusiveGating0: configuration = CIFARConfiguration(merge: .exclusiveGating(gateBias: 0))
            case .exclusiveGating6: configuration = CIFARConfiguration(merge: .exclusiveGating(gateBias: 6))
            case .shortcutGating0: configuration = CIFARConfiguration(merge: .shortcutGating(gateBias: 0))
            case .shortcutGating6: configuration = CIFARConfiguration(merge: .shortcutGating(gateBias: 6))
            case .convolution1x1: configuration = CIFARConfiguration(shortcut: .convolution1x1)
            case .dropoutShortcut: configuration = CIFARConfiguration(shortcut: .dropout(probability: 0.5))
            case .batchNormAfterAddition: configuration = CIFARConfiguration(placement: .batchNormAfterAddition)
            case .reluBeforeAddition: configuration = CIFARConfiguration(placement: .reluBeforeAddition)
            case .reluOnlyPreActivation: configuration = CIFARConfiguration(placement: .reluOnlyPreActivation)
            case .fullPreActivation: configuration = CIFARConfiguration(placement: .fullPreActivation)
            }
            configuration.inputChannels = inputChannels
            return configuration
        }
    }

    /// He et al.'s warm-up, as Codable numbers: a learning rate of 0.01 until the running training
    /// error is below 80% (He et al. 2015, §4.2, "about 400 iterations"), then the schedule's rate.
    public struct WarmupSetup: Codable, Sendable, Equatable {
        /// The warm-up's learning rate (He et al.: 0.01).
        public var learningRate: Float
        /// The warm-up ends once the running training error (a fraction) is below this (He et al.: 0.8).
        public var untilErrorBelow: Float
        /// Steps in the running training error.
        public var window: Int

        /// The trainer's `Warmup` of these numbers.
        public var warmup: Warmup { Warmup(learningRate: learningRate, untilErrorBelow: untilErrorBelow, window: window) }
    }

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// The images: Fashion-MNIST (10 classes, 1 channel) instead of CIFAR-10 (compute budget).
        public var data: DataSubset
        /// The CIFAR ResNet's depth 6n + 2 (the paper: 110).
        public var depth: Int
        /// Channels of the three stages (the paper: 16/32/64).
        public var widths: [Int]
        /// The rows of Tables 1 and 2 trained.
        public var variants: [Variant]
        /// Passes over the training subset.
        public var epochs: Int
        /// Training images per SGD step.
        public var batchSize: Int
        /// SGD's rate after the warm-up (the paper: 0.1), momentum 0.9, weight decay 1e-4 (the paper's).
        public var learningRate: Float
        /// SGD momentum μ.
        public var momentum: Float
        /// L2 weight decay λ.
        public var weightDecay: Float
        /// Epochs at which the rate is divided by 10: the paper's 32k and 48k of 64k iterations, at 50% and 75%.
        public var milestones: [Int]
        /// The paper warms up every CIFAR run ("Following [1], for all CIFAR experiments…", Appendix).
        public var warmup: WarmupSetup
        /// Points per epoch of the binned training-loss curve.
        public var curvePointsPerEpoch: Int
        /// Weights, biases and BatchNorm initial values.
        public var initialization: String
        /// How BatchNorm's gradient is taken.
        public var batchNormGradient: String
        public var seeds: [UInt64]

        /// The smoke test: a ResNet-8 on 320 images at 14×14, three epochs of 20 steps.
        public static let quick = Setup(
            data: DataSubset(.fashionMNIST, train: 320, test: 128, downsampling: 2), depth: 8, widths: [4, 8, 8],
            variants: Variant.allCases, epochs: 3, batchSize: 16, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4,
            milestones: [2], warmup: WarmupSetup(learningRate: 0.01, untilErrorBelow: 0.8, window: 4), curvePointsPerEpoch: 4,
            initialization: initialization, batchNormGradient: batchNormGradient, seeds: [0, 1])

        /// Every variant of Tables 1 and 2, three seeds, sized to ≤ 60 minutes on 2 idle cores in release:
        /// ≈ 70 CPU-seconds per run in release, 39 runs ≈ 45 CPU-minutes.
        public static let full = Setup(
            data: DataSubset(.fashionMNIST, train: 5000, test: 2000, downsampling: 2), depth: 32, widths: [8, 16, 32],
            variants: Variant.allCases, epochs: 12, batchSize: 64, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4,
            milestones: [6, 9], warmup: WarmupSetup(learningRate: 0.01, untilErrorBelow: 0.8, window: 10), curvePointsPerEpoch: 8,
            initialization: initialization, batchNormGradient: batchNormGradient, seeds: [0, 1, 2])

        static let initialization = "3×3 and 1×1 convolutions (no bias) and the fc weight Kaiming-normal (fan-in, gain √2); "
            + "fc bias uniform ±1/√fan-in; gate 1×1 convolutions PyTorch-default weights with the bias b_g; BatchNorm γ = 1, β = 0"
        static let batchNormGradient = "training mode (batch statistics, gradients through them) while training; running statistics at test"
    }
}
