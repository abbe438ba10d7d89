import Models

/// Li, Jiao, Han & Weissman, "Demystifying ResNet" (2016, arXiv:1611.01186).
public enum DemystifyingResNet: Experiment {
    public static let name = "hessian"
    public static let paper = Paper("Li et al. 2016", title: "Demystifying ResNet", link: "https://arxiv.org/abs/1611.01186")
    public static let claim = "with or without nonlinearities, by adding shortcuts that have depth two, the condition number of the "
        + "Hessian of the loss at the zero initial point is depth-invariant; shortcuts of higher depth give an extremely flat "
        + "(high-order) stationary point initially, and shortcuts of depth 1 are essentially equivalent to no shortcuts, whose "
        + "condition number explodes to infinity as the number of layers grows"

    /// The nets compared at (or near) the zero initial point.
    public enum Net: String, Codable, Sendable, CaseIterable {
        /// Linear units, hidden weights exactly zero: the paper's model.
        case linear = "linear at zero"
        /// tanh units (tanh(0) = 0, tanh′(0) = 1), hidden weights exactly zero.
        case tanh = "tanh at zero"
        /// ReLU units, hidden weights N(0, (10⁻⁶·√(2/width))²): at exactly zero every ReLU branch has zero
        /// derivative, so we take the limit from a tiny random point (an extra).
        case relu = "ReLU near zero"

        /// The hidden units' activation function.
        public var nonlinearity: Nonlinearity {
            switch self {
            case .linear: return .linear
            case .tanh: return .tanh
            case .relu: return .relu
            }
        }

        /// The hidden weights' standard deviation relative to Kaiming's √(2/fan-in); 0 for exactly zero.
        public var scale: Float { self == .relu ? 1e-6 : 0 }
    }

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// Units per hidden layer, input and output dimension.
        public var width: Int
        /// Gaussian inputs x ~ N(0, I) of the mean-squared-error loss.
        public var batch: Int
        /// Hidden layers L.
        public var depths: [Int]
        /// Shortcut spans k: a shortcut y = x + F(x) around every k hidden layers.
        public var spans: [Int]
        /// The nets compared (linear, tanh, ReLU).
        public var nets: [Net]
        /// Eigenvalues with |λ| ≤ τ·max|λ| count as zero.
        public var relativeThreshold: Double
        /// W_in, W_out random orthogonal and fixed; targets y = A·x from a teacher A with N(0, 1/width) entries; biases zero.
        public var model: String
        public var seeds: [UInt64]

        public static let quick = Setup(width: 2, batch: 16, depths: [6, 12], spans: [1, 2, 3], nets: Net.allCases,
                                        relativeThreshold: 1e-5, model: model, seeds: [0, 1])
        public static let full = Setup(width: 4, batch: 64, depths: [6, 12, 18, 24, 30, 36], spans: [1, 2, 3], nets: Net.allCases,
                                       relativeThreshold: 1e-5, model: model, seeds: [0, 1, 2])
        static let model = "x → W_in → L hidden units u(h) = act(W·h) with a shortcut around every k → W_out; W_in, W_out random "
            + "orthogonal and fixed, all biases zero and fixed; loss: mean squared error to y = A·x; Hessian over the hidden "
            + "(branch) weights only, exact by double backward, eigenvalues by cyclic Jacobi in Double"
    }
}
