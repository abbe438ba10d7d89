import Instruments
import Models

/// Balduzzi, Frean, Leary, Lewis, Ma & McWilliams, "The Shattered Gradients Problem: If resnets
/// are the answer, then what is the question?" (ICML 2017, arXiv:1702.08591).
public enum ShatteredGradients: Experiment {
    public static let name = "shattering"
    public static let paper = Paper("Balduzzi et al. 2017", title: "The Shattered Gradients Problem: If resnets are the answer, then what is the question?",
                                    link: "https://arxiv.org/abs/1702.08591")
    public static let claim = "the correlation between gradients in standard feedforward networks decays exponentially with depth "
        + "(2^−L, Theorem 1), whereas in resnets with batch normalization it decays sublinearly, as 1/√L (Theorem 3); "
        + "β-rescaling the residual branches reduces the decay further, and the looks-linear initialization prevents shattering"

    /// How a residual branch is scaled: y = x + β·F(x).
    public enum BranchScale: Codable, Sendable, Equatable, Hashable {
        /// β = 1.
        case one
        /// A fixed β (the paper's figure 2c: β = 0.1, after Szegedy et al. 2016).
        case constant(Double)
        /// β = 1/√L for a net of L blocks (an extra: Theorem 3 then predicts no decay).
        case inverseSquareRootOfDepth

        /// β for a net of `depth` blocks.
        public func value(depth: Int) -> Double {
            switch self {
            case .one: return 1
            case .constant(let beta): return beta
            case .inverseSquareRootOfDepth: return 1 / Double(depth).squareRoot()
            }
        }

        /// "β = 0.1".
        public var label: String {
            switch self {
            case .one: return "β = 1"
            case .constant(let beta): return "β = \(formatted(beta, 2))"
            case .inverseSquareRootOfDepth: return "β = 1/√L"
            }
        }
    }

    /// One architecture of the comparison.
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// A feedforward rectifier net without normalisation: x_l = ρ(W_l·x_{l−1} + b_l).
        case plain = "plain ReLU"
        /// The paper's mean-centred feedforward net (figure 1b: "the 24-layer net uses mean-centering"),
        /// with BatchNorm before the rectifier: x_l = ρ(BN(W_l·x_{l−1} + b_l)).
        case plainBatchNorm = "plain ReLU + BN"
        /// The paper's resnet without BatchNorm (Theorem 2): x_l = x_{l−1} + W_l·ρ(x_{l−1}) + b_l.
        case resnet = "ResNet"
        /// The paper's resnet with BatchNorm (Theorem 3, β = 1): x_l = x_{l−1} + W_l·ρ(BN(x_{l−1})) + b_l.
        case resnetBatchNorm = "ResNet + BN"
        /// β-rescaled (figure 2c, Theorem 3): x_l = x_{l−1} + 0.1·(W_l·ρ(BN(x_{l−1})) + b_l).
        case resnetBatchNormRescaled = "ResNet + BN, β = 0.1"
        /// Extra: β = 1/√L.
        case resnetBatchNormInverseSqrtDepth = "ResNet + BN, β = 1/√L (extra)"
        /// Extra, the earlier block: ReLU before the addition, x_l = x_{l−1} + ρ(BN(W_l·x_{l−1} + b_l)).
        case postActivationResnetBatchNorm = "post-activation ResNet + BN (extra)"
        /// Looks-linear CReLU net (§4): orthogonal W, mirrored [W, −W], zero biases.
        case looksLinear = "plain CReLU, looks-linear"

        /// Whether the net has BatchNorm (then both gradient conventions are measured).
        public var hasBatchNorm: Bool {
            switch self {
            case .plainBatchNorm, .resnetBatchNorm, .resnetBatchNormRescaled, .resnetBatchNormInverseSqrtDepth, .postActivationResnetBatchNorm: return true
            case .plain, .resnet, .looksLinear: return false
            }
        }

        /// Whether the net is a resnet (its depth counts residual blocks).
        public var isResidual: Bool {
            switch self {
            case .plain, .plainBatchNorm, .looksLinear: return false
            default: return true
            }
        }

        /// The branch scale β.
        public var branchScale: BranchScale {
            switch self {
            case .resnetBatchNormRescaled: return .constant(0.1)
            case .resnetBatchNormInverseSqrtDepth: return .inverseSquareRootOfDepth
            default: return .one
            }
        }
    }

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// Units per hidden layer (the paper: 200 rectifiers, §2).
        public var width: Int
        /// Hidden layers (residual blocks for resnets) measured.
        public var depths: [Int]
        /// Grid points in [gridLower, gridUpper] (the paper: 256 points in [−2, 2], §2).
        public var gridPoints: Int
        /// The grid's lowest scalar input (the paper: −2).
        public var gridLower: Double
        /// The grid's highest scalar input (the paper: 2).
        public var gridUpper: Double
        /// The architectures compared.
        public var architectures: [Architecture]
        /// Weights Kaiming-normal N(0, 2/fan-in) (He et al., the paper's σ² = 2/N); biases N(0, σ_b²)
        /// with this σ_b (zero for looks-linear); the head PyTorch-default; BatchNorm γ = 1, β = 0.
        public var biasStandardDeviation: Double
        /// The initialisation, in words (printed into the report).
        public var initialization: String
        /// How BatchNorm's gradient is taken: both conventions are measured for every BN net.
        public var batchNormGradient: String
        /// Lags of the autocorrelation function kept (figure 2 shows lags up to about 10).
        public var maxLag: Int
        /// Seeds for nets without BatchNorm (they vary most between seeds).
        public var seeds: [UInt64]
        /// Seeds for nets with BatchNorm.
        public var batchNormSeeds: [UInt64]

        public static let quick = Setup(width: 32, depths: [1, 2, 4, 8, 16], gridPoints: 128, gridLower: -2, gridUpper: 2,
                                        architectures: Architecture.allCases, biasStandardDeviation: 0.1,
                                        initialization: initialization, batchNormGradient: batchNormGradient, maxLag: 8,
                                        seeds: [0, 1, 2, 3], batchNormSeeds: [0, 1])
        public static let full = Setup(width: 200, depths: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 50], gridPoints: 256, gridLower: -2,
                                       gridUpper: 2, architectures: Architecture.allCases, biasStandardDeviation: 0.1,
                                       initialization: initialization, batchNormGradient: batchNormGradient, maxLag: 16,
                                       seeds: Array(0..<20), batchNormSeeds: Array(0..<10))
        static let initialization = "weights Kaiming-normal N(0, 2/fan-in), biases N(0, 0.1²), head PyTorch-default; looks-linear: "
            + "orthogonal W mirrored as [W, −W], zero biases; BatchNorm γ = 1, β = 0, training mode over the grid"
        static let batchNormGradient = "both: through the batch statistics (d Σₙ yₙ / dx_m, what backward gives) and with the grid's "
            + "batch statistics frozen (∂y_m/∂x_m, the convention of the paper's §3 analysis)"
    }
}
