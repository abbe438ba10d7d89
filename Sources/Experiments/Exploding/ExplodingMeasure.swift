import Instruments
import NN
import Models
import Tape

extension ExplodingGradients {
    /// One architecture: a nonlinearity, with or without BatchNorm, plain or residual.
    public struct Architecture: Codable, Sendable, Equatable {
        /// The activation function of every hidden layer.
        public var nonlinearity: Nonlinearity
        /// BatchNorm in every hidden layer, or none.
        public var normalization: FeatureNormalization
        /// Whether a shortcut spans every hidden layer (the plain net's residual twin).
        public var residual: Bool

        /// An architecture.
        public init(nonlinearity: Nonlinearity, normalization: FeatureNormalization, residual: Bool) {
            (self.nonlinearity, self.normalization, self.residual) = (nonlinearity, normalization, residual)
        }

        /// "relu + BN plain".
        public var label: String {
            "\(nonlinearity.rawValue)\(normalization == .batch ? " + BN" : "") \(residual ? "residual" : "plain")"
        }
    }

    /// GSC(k, 0) of one architecture for every seed.
    public struct Measurement: Codable, Sendable, Equatable {
        /// The architecture measured.
        public var architecture: Architecture
        /// GSC(k, 0) for k = 0 … depth + 1 (the last is the logits), one array per seed.
        public var gscBySeed: [[Double]]
        /// Residual nets only: each block's branch share q_b = ‖R_b‖²/(‖S_b‖² + ‖R_b‖²) of its squared
        /// Jacobian norm (`measureBranchShares`), one array per seed; the effective depth is Σ_b q_b.
        public var branchSharesBySeed: [[Double]]?

        /// One architecture's profiles.
        public init(architecture: Architecture, gscBySeed: [[Double]], branchSharesBySeed: [[Double]]? = nil) {
            (self.architecture, self.gscBySeed, self.branchSharesBySeed) = (architecture, gscBySeed, branchSharesBySeed)
        }

        /// The effective depth Σ_b q_b per seed (nil for plain nets).
        public var effectiveDepthBySeed: [Double]? { branchSharesBySeed?.map { $0.reduce(0, +) } }

        /// The path-length distribution per seed (nil for plain nets).
        public var pathProfiles: [PathContributionProfile]? { branchSharesBySeed?.map { PathContributionProfile(branchShares: $0) } }
    }

    /// One seed of one architecture: the GSC profile and, for residual nets, the branch shares.
    struct Unit: Codable {
        var gsc: [Double]
        var branchShares: [Double]?
    }

    /// Every architecture's GSC profiles.
    public struct Results: Codable, Sendable, Equatable {
        /// Hidden layers of every net.
        public var depth: Int
        /// One measurement per architecture, each plain net followed by its residual twin.
        public var measurements: [Measurement]

        /// The profiles of nets with `depth` hidden layers.
        public init(depth: Int, measurements: [Measurement]) {
            (self.depth, self.measurements) = (depth, measurements)
        }
    }

    /// The architectures of `setup`, each plain one followed by its residual twin.
    static func architectures(_ setup: Setup) -> [Architecture] {
        setup.nonlinearities.flatMap { nonlinearity in
            setup.normalizations.flatMap { normalization in
                [false, true].map { Architecture(nonlinearity: nonlinearity, normalization: normalization, residual: $0) }
            }
        }
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        let architectures = architectures(setup)
        run.plan(units: architectures.count * setup.seeds.count)
        let estimator = JacobianEstimator.randomProjections(count: setup.projections, seed: 7)
        let measurements = try architectures.map { architecture in
            let units = try setup.seeds.map { seed in
                try run.unit("\(architecture.label) seed \(seed)") { () -> Unit in
                    let initializer: Initializer = architecture.nonlinearity == .relu ? .kaimingNormal() : .kaimingNormal(gain: 1)
                    let network = DeepNetwork(DeepNetworkConfiguration(
                        inputs: setup.width, outputs: 10, depth: setup.depth, width: setup.width,
                        nonlinearity: architecture.nonlinearity, normalization: architecture.normalization,
                        shortcutSpan: architecture.residual ? 1 : nil, weightInitializer: initializer), seed: seed)
                    var random = SplitMix64(seed: seed ^ 0xDA7A)
                    let input = Tensor.randomNormal([setup.batch, setup.width], using: &random)
                    let gsc = gradientScaleProfile(of: network, input: input, context: .training(seed: seed), estimator: estimator).lowestToEach
                    // Effective depth (Philipp et al. §6, "ResNets reduce the effective depth"): the branch share of every block's Jacobian.
                    let shares = architecture.residual
                        ? measureBranchShares(of: network, mode: .training, estimator: estimator) { context in
                            network(Variable(input), &context).sum()
                        }
                        : nil
                    return Unit(gsc: gsc, branchShares: shares)
                }
            }
            return Measurement(architecture: architecture, gscBySeed: units.map(\.gsc),
                               branchSharesBySeed: architecture.residual ? units.map { $0.branchShares ?? [] } : nil)
        }
        return Results(depth: setup.depth, measurements: measurements)
    }
}
