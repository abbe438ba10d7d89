/// Balduzzi, Frean, Leary, Lewis, Ma & McWilliams, "The Shattered Gradients Problem: If resnets
/// are the answer, then what is the question?" (ICML 2017, arXiv:1702.08591), §5 and Fig. 6:
/// with CReLU units and the Looks-Linear initialisation — mirrored weights [W, −W] with W
/// orthogonal, so W·CReLU(x) = W·relu(x) − W·relu(−x) = W·x and the whole net starts as a linear
/// map whose gradients do not shatter — plain nets of up to 200 layers train on CIFAR-10 without
/// skip connections, close to resnets and far above what depth does to plain nets without it.
public enum LooksLinear: Experiment {
    public static let name = "looks-linear"
    public static let paper = Paper("Balduzzi et al. 2017", title: "The Shattered Gradients Problem: If resnets are the answer, then what is the question?",
                                    link: "https://arxiv.org/abs/1702.08591")
    public static let claim = "the Looks-Linear initialisation allows to train very deep networks without the addition of "
        + "skip-connections (§5, Fig. 6: plain CReLU nets of up to 200 layers train, close to resnets of the same depth)"

    /// The nets compared at every depth (the linear model has no depth).
    public enum Net: String, Codable, Sendable, CaseIterable {
        /// Plain CReLU net, Looks-Linear init: the paper's proposal.
        case looksLinear = "CReLU + Looks-Linear"
        /// Plain CReLU net with a random, variance-preserving init: the paper's "CReLU without LL" control.
        case creluRandom = "CReLU + Kaiming"
        /// Plain ReLU net with He et al.'s init: the usual feedforward net.
        case reluKaiming = "ReLU + Kaiming"
        /// A residual net of the same depth and width in He et al.'s (2016) full pre-activation
        /// form: units W·ReLU(BN(x)), an identity shortcut around every `resNetShortcutSpan` of
        /// them. The baseline Fig. 6 compares against.
        case resNet = "ResNet (pre-activation BN-ReLU)"
        /// Softmax regression on the pixels: what a net that stays linear could reach.
        case linear = "linear model"

        /// Whether the net has hidden layers (all but the linear model).
        public var isDeep: Bool { self != .linear }
    }

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// The images: the first `train` MNIST training images and `test` test images.
        public var data: DataSubset
        /// Hidden layers of the deep nets (the first maps the pixels to the hidden width).
        public var depths: [Int]
        /// The nets trained.
        public var nets: [Net]
        /// Units of a CReLU layer (its output, the stream, is twice as wide).
        public var creluWidth: Int
        /// Units of a ReLU layer (plain and residual): about the CReLU layer's weight count.
        public var reluWidth: Int
        /// Hidden layers inside one shortcut of the ResNet.
        public var resNetShortcutSpan: Int
        /// How each net's weights and biases start.
        public var initialization: [String]
        /// How the ResNet's BatchNorm is treated.
        public var batchNorm: String
        /// SGD's learning rates searched per net and depth (the best is reported).
        public var learningRates: [Float]
        /// Passes over the training images.
        public var epochs: Int
        /// Training images per SGD step.
        public var batchSize: Int
        /// SGD momentum μ.
        public var momentum: Float
        /// The learning-rate schedule.
        public var schedule: String
        /// Points of each training-loss curve (means over consecutive steps).
        public var curveBins: Int
        public var seeds: [UInt64]

        public static let quick = Setup(
            data: DataSubset(.mnist, train: 1_024, test: 512, downsampling: 2), depths: [2, 6], nets: Net.allCases,
            creluWidth: 16, reluWidth: 22, resNetShortcutSpan: 2, initialization: initialization, batchNorm: batchNorm,
            learningRates: [0.03], epochs: 2, batchSize: 32, momentum: 0.9, schedule: schedule, curveBins: 8, seeds: [0, 1])
        public static let full = Setup(
            data: DataSubset(.mnist, train: 8_000, test: 10_000), depths: [5, 10, 20, 50, 100], nets: Net.allCases,
            creluWidth: 64, reluWidth: 90, resNetShortcutSpan: 2, initialization: initialization, batchNorm: batchNorm,
            learningRates: [0.001, 0.003, 0.01, 0.03], epochs: 4, batchSize: 100, momentum: 0.9, schedule: schedule, curveBins: 40,
            seeds: [0, 1, 2])

        static let initialization = [
            "CReLU + Looks-Linear: hidden weights [W, −W] with W orthogonal (w × w), the first layer semi-orthogonal (w × pixels), "
                + "the head [V, −V] with V semi-orthogonal (10 × w); every bias zero, so the net is exactly linear at initialisation",
            "CReLU + Kaiming: weights N(0, 1/fan-in) (variance-preserving for CReLU, whose output keeps its input's norm), the head "
                + "PyTorch's default U(±1/√fan-in); every bias zero",
            "ReLU + Kaiming and ResNet: weights N(0, 2/fan-in) (He et al.), the head PyTorch's default; every bias zero",
            "linear model: PyTorch's default U(±1/√784) weights, zero bias",
        ]
        static let batchNorm = "ResNet only: BatchNorm before the ReLU and linear map of every hidden unit (full pre-activation, "
            + "He et al. 2016: x + W·ReLU(BN(W·ReLU(BN(x))))), γ = 1, β = 0, gradients through the batch "
            + "statistics in training, running statistics (momentum 0.1) in evaluation; the plain nets have none"
        static let schedule = "cosine decay from the learning rate to 0 over all steps (per step); no weight decay; cross-entropy"
    }
}
