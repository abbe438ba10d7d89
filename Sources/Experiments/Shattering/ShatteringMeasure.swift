import Instruments
import Models
import NN
import Tape

extension ShatteredGradients {
    /// The correlations of one net's input gradients along the grid.
    public struct Correlations: Codable, Sendable, Equatable {
        /// The paper's measure (figure 2's autocorrelation function): r(d) = Σᵢ (gᵢ − ḡ)(gᵢ₊d − ḡ) / Σᵢ (gᵢ − ḡ)²,
        /// d = 0 … maxLag; nil when the gradient is constant along the grid up to rounding.
        public var autocorrelation: [Double]?
        /// The earlier, uncentred measure: Σᵢ gᵢgᵢ₊₁ / √(Σᵢ gᵢ² · Σᵢ gᵢ₊₁²) (the cosine between the gradient and its shift).
        public var lag1Cosine: Double
        /// std(g)/rms(g) along the grid: 0 for a constant gradient (a linear net).
        public var relativeSpread: Double
        /// The gradients themselves, kept for the first seed at the largest depth (for the plot).
        public var gradients: [Double]?

        /// r(1), nil for a constant gradient.
        public var lag1: Double? { autocorrelation.flatMap { $0.count > 1 ? $0[1] : nil } }

        init(_ shattering: GradientShattering, keepGradients: Bool) {
            autocorrelation = shattering.correlation.autocorrelation
            lag1Cosine = shattering.correlation.lagCorrelation[1]
            let g = shattering.gradients, n = Double(g.count)
            let mean = g.reduce(0, +) / n
            let meanSquare = g.reduce(0) { $0 + $1 * $1 } / n
            relativeSpread = meanSquare > 0 ? (Swift.max(0, meanSquare - mean * mean) / meanSquare).squareRoot() : 0
            gradients = keepGradients ? g : nil
        }

        /// Hand-made correlations (tests).
        public init(autocorrelation: [Double]?, lag1Cosine: Double, relativeSpread: Double) {
            (self.autocorrelation, self.lag1Cosine, self.relativeSpread, gradients) = (autocorrelation, lag1Cosine, relativeSpread, nil)
        }
    }

    /// One net (architecture, depth, seed).
    public struct Measurement: Codable, Sendable, Equatable {
        /// The architecture measured.
        public var architecture: Architecture
        /// Rectifier layers L (residual blocks for the pre-activation resnets).
        public var depth: Int
        /// The seed of the weights and biases.
        public var seed: UInt64
        /// With BatchNorm: through the batch statistics; without: the only gradient there is.
        public var batchStatistics: Correlations
        /// With BatchNorm only: the grid's batch statistics frozen.
        public var frozenStatistics: Correlations?

        /// One net's correlations.
        public init(architecture: Architecture, depth: Int, seed: UInt64, batchStatistics: Correlations, frozenStatistics: Correlations?) {
            (self.architecture, self.depth, self.seed) = (architecture, depth, seed)
            (self.batchStatistics, self.frozenStatistics) = (batchStatistics, frozenStatistics)
        }

        /// The correlations under `convention` (nets without BatchNorm have one gradient).
        public func correlations(_ convention: BatchNormGradient) -> Correlations {
            convention == .frozenStatistics ? frozenStatistics ?? batchStatistics : batchStatistics
        }
    }

    /// Every net's correlations.
    public struct Results: Codable, Sendable, Equatable {
        /// Grid points (the noise floor of the autocorrelation is about 1/√N).
        public var gridPoints: Int
        /// Depths measured, as in the setup.
        public var depths: [Int]
        /// One measurement per architecture, depth and seed.
        public var measurements: [Measurement]

        /// The measurements on a grid of `gridPoints` inputs.
        public init(gridPoints: Int, depths: [Int], measurements: [Measurement]) {
            (self.gridPoints, self.depths, self.measurements) = (gridPoints, depths, measurements)
        }

        /// The measurements of `architecture` at `depth`, one per seed.
        public func select(_ architecture: Architecture, depth: Int) -> [Measurement] {
            measurements.filter { $0.architecture == architecture && $0.depth == depth }
        }
    }

    /// The net of `architecture` with `depth` rectifier layers: plain and post-activation nets
    /// are DeepNetwork's input unit (the first rectifier layer) and depth − 1 more; pre-activation
    /// resnets a linear input map and `depth` blocks x + β·(W·ρ(BN(x)) + b).
    public static func network(_ architecture: Architecture, depth: Int, setup: Setup, seed: UInt64) -> DeepNetwork {
        let looksLinear = architecture == .looksLinear
        let preActivation = architecture.isResidual && architecture != .postActivationResnetBatchNorm
        var configuration = DeepNetworkConfiguration(
            inputs: 1, outputs: 1, depth: preActivation ? depth : depth - 1, width: setup.width,
            nonlinearity: looksLinear ? .crelu : .relu, normalization: architecture.hasBatchNorm ? .batch : .none,
            shortcutSpan: architecture.isResidual ? 1 : nil, residualScale: Float(architecture.branchScale.value(depth: depth)),
            weightInitializer: looksLinear ? .looksLinear() : .kaimingNormal(),
            biasStandardDeviation: looksLinear ? 0 : Float(setup.biasStandardDeviation))
        if preActivation { configuration.form = .preActivation }
        return DeepNetwork(configuration, seed: seed)
    }

    /// The grid of `setup`.
    static func grid(_ setup: Setup) -> [Float] {
        gridPoints(from: Float(setup.gridLower), to: Float(setup.gridUpper), count: setup.gridPoints)
    }

    /// One net's correlations.
    public static func measure(_ architecture: Architecture, depth: Int, seed: UInt64, setup: Setup, keepGradients: Bool) -> Measurement {
        let grid = grid(setup)
        func correlations(_ convention: BatchNormGradient) -> Correlations {
            // A fresh net per convention: the frozen convention rewrites the running statistics.
            let net = network(architecture, depth: depth, setup: setup, seed: seed)
            return Correlations(shatteredGradients(of: net, grid: grid, maxLag: setup.maxLag, batchNorm: convention, seed: seed),
                                keepGradients: keepGradients)
        }
        return Measurement(architecture: architecture, depth: depth, seed: seed, batchStatistics: correlations(.throughBatchStatistics),
                           frozenStatistics: architecture.hasBatchNorm ? correlations(.frozenStatistics) : nil)
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        func seeds(_ architecture: Architecture) -> [UInt64] { architecture.hasBatchNorm ? setup.batchNormSeeds : setup.seeds }
        run.plan(units: setup.architectures.reduce(0) { $0 + seeds($1).count * setup.depths.count })
        var measurements: [Measurement] = []
        for architecture in setup.architectures {
            for depth in setup.depths {
                for seed in seeds(architecture) {
                    let keep = depth == setup.depths.last && seed == seeds(architecture).first
                    measurements.append(try run.unit("\(architecture.rawValue) depth \(depth) seed \(seed)") {
                        measure(architecture, depth: depth, seed: seed, setup: setup, keepGradients: keep)
                    })
                }
            }
        }
        return Results(gridPoints: setup.gridPoints, depths: setup.depths, measurements: measurements)
    }
}
