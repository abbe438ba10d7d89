import Models

/// Philipp, Song & Carbonell, "The exploding gradient problem demystified — definition,
/// prevalence, impact, origin, tradeoffs, and solutions" (2018, arXiv:1712.05577).
public enum ExplodingGradients: Experiment {
    public static let name = "exploding"
    public static let paper = Paper("Philipp et al. 2018", title: "The exploding gradient problem demystified",
                                    link: "https://arxiv.org/abs/1712.05577")
    public static let claim = "the gradient scale coefficient (GSC) grows exponentially with depth in a range of popular plain "
        + "MLP architectures (ReLU, tanh, SELU, with and without batch normalization); residual connections reduce it"

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// Hidden layers of every net.
        public var depth: Int
        /// Units per hidden layer (and input dimension).
        public var width: Int
        /// Gaussian inputs per batch (BatchNorm in training mode over this batch).
        public var batch: Int
        /// Random projections per example for the Jacobian's quadratic-mean norm.
        public var projections: Int
        /// The nonlinearities compared.
        public var nonlinearities: [Nonlinearity]
        /// Whether each is measured without and with BatchNorm.
        public var normalizations: [FeatureNormalization]
        /// Weights Kaiming-normal with gain √2 for ReLU and 1 for tanh and SELU; biases zero.
        public var initialization: String
        /// Gradients through BatchNorm's batch statistics (what backward gives).
        public var batchNormGradient: String
        public var seeds: [UInt64]

        public static let quick = Setup(depth: 16, width: 24, batch: 16, projections: 2, nonlinearities: [.relu, .tanh, .selu],
                                        normalizations: [.none, .batch], initialization: initialization,
                                        batchNormGradient: "through the batch statistics", seeds: [0, 1])
        public static let full = Setup(depth: 50, width: 100, batch: 64, projections: 8, nonlinearities: [.relu, .tanh, .selu],
                                       normalizations: [.none, .batch], initialization: initialization,
                                       batchNormGradient: "through the batch statistics", seeds: [0, 1, 2])
        static let initialization = "weights Kaiming-normal (gain √2 for ReLU, 1 for tanh and SELU), biases zero"
    }
}
