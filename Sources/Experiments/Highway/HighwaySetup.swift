/// Srivastava, Greff & Schmidhuber, "Training Very Deep Networks" (NIPS 2015, arXiv:1507.06228),
/// §3.1 and Fig. 1: on MNIST, thin plain nets (71 units per layer) optimise worse and worse as
/// depth grows from 10 to 100 layers, while highway nets of about the same size (50 units per
/// layer), y = H(x)·T(x) + x·(1 − T(x)) with the transform gate T = σ(W_T·x + b_T) biased
/// negative, train as well at 100 layers as at 10; §4.1 and Fig. 2: in trained highway nets most
/// transform gates are closed most of the time (the layer mostly carries its input).
public enum HighwayNetworks: Experiment {
    public static let name = "highway"
    public static let paper = Paper("Srivastava et al. 2015", title: "Training Very Deep Networks", link: "https://arxiv.org/abs/1507.06228")
    public static let claim = "plain networks become much harder to optimize with increasing depth, while highway networks with up to "
        + "100 layers can still be optimized well (§3.1, Fig. 1)"

    /// A net family: plain, or highway with an initial gate bias.
    public struct Variant: Codable, Sendable, Equatable {
        /// "plain", "highway b_T=-6".
        public var name: String
        /// Highway layers (else plain ReLU layers of the width matching the highway net's parameter count).
        public var highway: Bool
        /// The initial transform-gate bias b_T (unused for plain nets).
        public var gateBias: Float
        /// Trained with every learning rate of the setup (else with the first only).
        public var searchesLearningRate: Bool

        /// A variant.
        public init(name: String, highway: Bool, gateBias: Float, searchesLearningRate: Bool) {
            (self.name, self.highway, self.gateBias, self.searchesLearningRate) = (name, highway, gateBias, searchesLearningRate)
        }
    }

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// The images: the first `train` MNIST training images (the claim is about optimisation:
        /// training loss) and `test` test images (test accuracy, reported only).
        public var data: DataSubset
        /// Layers before the softmax: a plain first layer, then depth − 1 highway or plain layers.
        public var depths: [Int]
        /// Units per highway layer (the paper's 50); plain twins take the width whose parameter
        /// count is closest to the highway net's (71 in the paper, 70 at 100 layers here).
        public var highwayWidth: Int
        /// The nets: plain, highway with b_T = −6 (both searched), highway with b_T = −2 (the first
        /// learning rate only). The paper searched b_T in [−1, −10] per net.
        public var variants: [Variant]
        /// How weights and biases start.
        public var initialization: String
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
        /// Training images the gate statistics T(x) are measured on, at init and after training.
        public var gateProbeImages: Int
        /// Points of each training-loss curve (means over consecutive steps).
        public var curveBins: Int
        public var seeds: [UInt64]

        public static let quick = Setup(
            data: DataSubset(.mnist, train: 1_024, test: 512, downsampling: 2), depths: [2, 6], highwayWidth: 50, variants: variants,
            initialization: initialization, learningRates: [0.05], epochs: 2, batchSize: 32, momentum: 0.9, schedule: schedule,
            gateProbeImages: 128, curveBins: 8, seeds: [0, 1])
        public static let full = Setup(
            data: DataSubset(.mnist, train: 8_000, test: 2_000), depths: [10, 20, 50, 100], highwayWidth: 50, variants: variants,
            initialization: initialization, learningRates: [0.01, 0.03, 0.1], epochs: 4, batchSize: 100, momentum: 0.9,
            schedule: schedule, gateProbeImages: 1_000, curveBins: 50, seeds: [0, 1, 2])

        static let variants = [
            Variant(name: "plain", highway: false, gateBias: 0, searchesLearningRate: true),
            Variant(name: "highway b_T=-6", highway: true, gateBias: -6, searchesLearningRate: true),
            Variant(name: "highway b_T=-2", highway: true, gateBias: -2, searchesLearningRate: false),
        ]
        static let initialization = "every hidden weight (first layer, plain layers, highway transforms H and gates T) Kaiming normal "
            + "N(0, 2/fan-in) (He et al.); every hidden bias zero except the gate biases b_T; the softmax layer PyTorch's default "
            + "U(±1/√fan-in); no BatchNorm"
        static let schedule = "cosine decay from the learning rate to 0 over all steps (per step); no weight decay; cross-entropy"
    }
}
