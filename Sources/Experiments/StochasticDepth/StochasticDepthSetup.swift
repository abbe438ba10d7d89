import Models

/// Huang, Sun, Liu, Sedra & Weinberger, "Deep Networks with Stochastic Depth" (ECCV 2016,
/// arXiv:1603.09382). During training each residual block's branch survives a mini-batch with
/// probability p_l = 1 − (l/L)(1 − p_L) (linear decay, §3 Eq. (4), p_L = 0.5) and is otherwise
/// skipped (the block is the identity); at test time every branch runs, scaled by p_l (Eq. (5)).
/// The expected depth is E(L̃) = Σ p_l = (3L − 1)/4 ≈ 3L/4 (§3 "Implementation"), so training
/// takes about 25% less time (Table 2: 20h42m → 15h7m on CIFAR-10, 27% less); the test error is
/// lower than with constant depth (Table 1: 6.41% → 5.25% on CIFAR-10+), because the
/// constant-depth net overfits (Fig. 3: its test error rises late in training).
public enum StochasticDepth: Experiment {
    public static let name = "stochastic-depth"
    public static let paper = Paper("Huang et al. 2016", title: "Deep Networks with Stochastic Depth", link: "https://arxiv.org/abs/1603.09382")
    public static let claim = "training with stochastic depth (linear decay of the survival probability to p_L = 0.5) reduces training "
        + "time substantially — about 25%, the expected depth being 3L/4 — and lowers the test error compared with the same "
        + "ResNet trained with constant depth"

    /// Every number that matters.
    public struct Setup: ExperimentSetup {
        /// Fashion-MNIST (it overfits sooner than MNIST) instead of CIFAR-10 (compute budget); a
        /// small training subset so that the constant-depth net overfits within the budget.
        public var data: DataSubset
        /// The paper's net, He et al.'s CIFAR ResNet (6n + 2 layers, original placement, option A
        /// shortcuts), at depth `depth` (the paper: 110, L = 54 blocks).
        public var depth: Int
        /// Channels of the three stages (the paper: 16/32/64).
        public var widths: [Int]
        /// p_L, the last block's survival probability (the paper: 0.5).
        public var finalSurvival: Float
        /// Linear decay p_l = 1 − (l/L)(1 − p_L) (Eq. (4)); false gives p_l = p_L for all.
        public var linearDecay: Bool
        /// Where the branch is scaled by p_l: "test time" (Eq. (5)).
        public var scaling: String
        /// Passes over the training subset.
        public var epochs: Int
        /// Training images per SGD step.
        public var batchSize: Int
        /// SGD's rate (the paper: 0.1), momentum (0.9), weight decay (1e-4).
        public var learningRate: Float
        /// SGD momentum μ.
        public var momentum: Float
        /// L2 weight decay λ.
        public var weightDecay: Float
        /// Epochs at which the rate is divided by 10: the paper's 250 and 375 of 500 (50%, 75%).
        public var milestones: [Int]
        /// Weights, biases and BatchNorm initial values.
        public var initialization: String
        /// How BatchNorm's gradient is taken.
        public var batchNormGradient: String
        /// How the time per epoch is measured.
        public var timing: String
        public var seeds: [UInt64]

        /// The smoke test: a ResNet-14 (6 blocks) on 14×14 images for a few epochs.
        public static let quick = Setup(
            data: DataSubset(.fashionMNIST, train: 256, test: 256, downsampling: 2), depth: 14, widths: [4, 8, 8], finalSurvival: 0.5,
            linearDecay: true, scaling: scalingText, epochs: 3, batchSize: 32, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4,
            milestones: [2], initialization: initialization, batchNormGradient: batchNormGradient, timing: timing, seeds: [0, 1])

        /// A ResNet-32 (15 blocks) at the paper's widths on 1,000 Fashion-MNIST images, long enough for the
        /// constant-depth net to overfit (one seed in release: test loss 1.15× its lowest by epoch 40), five
        /// seeds for the paired test-error difference; ≈ 400 CPU-seconds per seed in release.
        public static let full = Setup(
            data: DataSubset(.fashionMNIST, train: 1000, test: 2000, downsampling: 2), depth: 32, widths: [16, 32, 64], finalSurvival: 0.5,
            linearDecay: true, scaling: scalingText, epochs: 40, batchSize: 32, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4,
            milestones: [20, 30], initialization: initialization, batchNormGradient: batchNormGradient, timing: timing,
            seeds: [0, 1, 2, 3, 4])

        static let scalingText = "test time: the branch runs raw in training and is multiplied by p_l at test (Eq. (5))"
        static let initialization = "3×3 convolutions (no bias) and the fc weight Kaiming-normal (fan-in, gain √2); fc bias uniform "
            + "±1/√fan-in; BatchNorm γ = 1, β = 0; both variants from the same initial weights"
        static let batchNormGradient = "training mode (batch statistics, gradients through them) while training; running statistics at test"
        static let timing = "the summed wall-clock seconds of an epoch's steps (forward, backward, SGD update; batches prefetched, "
            + "no evaluation); both variants step in turn on the same batches, the one going first alternating, so the load of "
            + "the shared cores affects both alike"
    }
}
