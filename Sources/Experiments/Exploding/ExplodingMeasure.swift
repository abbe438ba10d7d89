import Instruments
import NN
import Models
import Tape

extension ExplodingGradients {
    /// One architecture: a nonlinearity, with or without BatchNorm, plain or residual.
    public struct Architecture: Codable, Sendable, Equatable {
        public var nonlinearity: Nonlinearity
        public var normalization: FeatureNormalization
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
        public var architecture: Architecture
        /// GSC(k, 0) for k = 0 … depth + 1 (the last is the logits), one array per seed.
        public var gscBySeed: [[Double]]

        /// One architecture's profiles.
        public init(architecture: Architecture, gscBySeed: [[Double]]) {
            (self.architecture, self.gscBySeed) = (architecture, gscBySeed)
        }
    }

    /// Every architecture's GSC profiles.
    public struct Results: Codable, Sendable, Equatable {
        public var depth: Int
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
            let profiles = try setup.seeds.map { seed in
                try run.unit("\(architecture.label) seed \(seed)") { () -> [Double] in
                    let initializer: Initializer = architecture.nonlinearity == .relu ? .kaimingNormal() : .kaimingNormal(gain: 1)
                    let network = DeepNetwork(DeepNetworkConfiguration(
                        inputs: setup.width, outputs: 10, depth: setup.depth, width: setup.width,
                        nonlinearity: architecture.nonlinearity, normalization: architecture.normalization,
                        shortcutSpan: architecture.residual ? 1 : nil, weightInitializer: initializer), seed: seed)
                    var random = SplitMix64(seed: seed ^ 0xDA7A)
                    let input = Tensor.randomNormal([setup.batch, setup.width], using: &random)
                    return gradientScaleProfile(of: network, input: input, context: .training(seed: seed), estimator: estimator).lowestToEach
                }
            }
            return Measurement(architecture: architecture, gscBySeed: profiles)
        }
        return Results(depth: setup.depth, measurements: measurements)
    }
}
