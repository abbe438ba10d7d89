/// Veit, Wilber & Belongie, "Residual Networks Behave Like Ensembles of Relatively Shallow
/// Networks", NIPS 2016 (arXiv:1605.06431).
///
/// - §4.1, Fig. 3: deleting one residual block (its branch, leaving the shortcut: y = x) from a
///   trained ResNet-110 on CIFAR-10 barely changes the test error, except for the downsampling
///   blocks (the peaks of Fig. 3b, reported separately); deleting any single layer of a VGG-style
///   plain net drops it to chance (Fig. 3a).
/// - §4.3, Fig. 5a: deleting k random blocks raises the error smoothly with k; Fig. 5b: swapping
///   k random pairs of blocks of compatible dimensions (downsampling blocks left in place) also
///   degrades it smoothly (measured against the Kendall τ of the new order).
/// - §6, Fig. 6: unrolled, n blocks give 2ⁿ paths whose lengths follow Binomial(n, ½); the
///   gradient magnitude of one path falls exponentially with its length, so the gradient comes
///   mostly from short paths (5–17 blocks of ResNet-110's 54).
public enum Ensembles: Experiment {
    public static let name = "ensembles"
    public static let paper = Paper("Veit et al. 2016", title: "Residual Networks Behave Like Ensembles of Relatively Shallow Networks",
                                    link: "https://arxiv.org/abs/1605.06431")
    public static let claim = "residual networks behave like ensembles of relatively shallow networks: deleting a single residual "
        + "block (other than a downsampling one) from a trained ResNet barely changes its test error, while removing any single layer "
        + "of a plain network is fatal; the error rises smoothly as more blocks are deleted or reordered; and almost all of the "
        + "gradient comes from short paths (5–17 blocks long in a 110-layer ResNet with 54 blocks)"

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// Training and test images. The lesions are evaluated on the test images.
        public var data: DataSubset
        /// n: blocks per stage; the net has 3 stages, 3n blocks and 6n + 2 weight layers (ResNet-110: n = 18).
        public var blocksPerStage: Int
        /// Channels of the three stages (He et al.: 16, 32, 64); the stem is a 3×3 convolution to the first.
        public var widths: [Int]
        /// The network, in words (printed into the report).
        public var architecture: String
        /// Weight and bias initialisation, BatchNorm's initial affine parameters.
        public var initialization: String
        /// How BatchNorm behaves in training and in the lesions.
        public var batchNorm: String
        /// Epochs over the training images.
        public var epochs: Int
        /// Training images per SGD step.
        public var batchSize: Int
        /// SGD's base learning rate, momentum, weight decay.
        public var learningRate: Float
        /// SGD momentum μ (He et al.: 0.9).
        public var momentum: Float
        /// L2 weight decay λ (He et al.: 1e-4).
        public var weightDecay: Float
        /// The learning rate is divided by 10 at these epochs (He et al.'s schedule, scaled to our epochs).
        public var milestones: [Int]
        /// He et al.'s warm-up (§4.2, for ResNet-110): learning rate 0.01 until the training error over the last
        /// `warmupWindow` steps is below 80%; 0 for none.
        public var warmupWindow: Int
        /// Converged means: the schedule ran to its end and the last epoch's running training error is at most this.
        public var convergedTrainingError: Double
        /// k for "k random blocks deleted" (Fig. 5a), drawn among all blocks as the paper does.
        public var deletionCounts: [Int]
        /// Random draws per k (deletions and swaps).
        public var draws: Int
        /// k for "k random pairs of blocks swapped" (Fig. 5b).
        public var swapCounts: [Int]
        /// Test images in the batch whose loss is differentiated for the path decomposition (§6).
        public var pathBatch: Int
        /// Random paths per length k (all of them when C(n, k) is smaller).
        public var pathSamplesPerLength: Int
        public var seeds: [UInt64]

        /// The 50-layer net (n = 8) at a quarter of He et al.'s width on 1000 14×14 MNIST images: the smoke test (debug build).
        public static let quick = Setup(
            data: DataSubset(.mnist, train: 1_000, test: 100, downsampling: 2), blocksPerStage: 8, widths: [4, 8, 16],
            architecture: architecture, initialization: initialization, batchNorm: batchNorm,
            epochs: 3, batchSize: 50, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, milestones: [2], warmupWindow: 0,
            convergedTrainingError: 0.05, deletionCounts: [1, 2, 4, 8], draws: 3, swapCounts: [1, 2, 4], pathBatch: 4,
            pathSamplesPerLength: 2, seeds: [0])

        /// ResNet-50 (n = 8) at half He et al.'s width on 10 000 full-size MNIST images, trained to convergence. A 6-epoch
        /// version (milestones 3, 5) took 16 CPU-minutes in all; the ResNet converged (0.74% training error) but the plain
        /// twin stopped at 5.05%, hence 10 epochs (≈ 23 CPU-minutes, 12–23 minutes on 2 idle cores).
        public static let full = Setup(
            data: DataSubset(.mnist, train: 10_000, test: 1_000), blocksPerStage: 8, widths: [8, 16, 32],
            architecture: architecture, initialization: initialization, batchNorm: batchNorm,
            epochs: 10, batchSize: 64, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, milestones: [5, 8], warmupWindow: 50,
            convergedTrainingError: 0.01, deletionCounts: [1, 2, 3, 4, 6, 8, 10, 12, 16, 20], draws: 20, swapCounts: [1, 2, 3, 4, 6, 8, 12, 16],
            pathBatch: 32, pathSamplesPerLength: 20, seeds: [0])

        static let architecture = "He et al.'s CIFAR ResNet (6n + 2 layers, §4.2 of arXiv:1512.03385) with 1 input channel: 3×3 "
            + "stem convolution → BN → ReLU, three stages of n basic blocks y = relu(x + bn2(conv2(relu(bn1(conv1 x))))) with 3×3 "
            + "convolutions, stride 2 entering stages 2 and 3 with option-A shortcuts (strided subsampling, zero-padded channels), "
            + "global average pool, fully connected layer to 10 classes; the plain twin has the same layers without the shortcuts"
        static let initialization = "convolutions and fc Kaiming-normal (fan-in, gain √2), no convolution biases, fc bias uniform in ±1/√fan-in (PyTorch's default); "
            + "BatchNorm γ = 1, β = 0; the ResNet and its plain twin start from the same seed"
        static let batchNorm = "training mode while training (gradients through the batch statistics, momentum 0.1); lesions, "
            + "reorderings and path gradients in evaluation mode with the running statistics, not re-estimated after a lesion (as in the paper)"
    }
}
