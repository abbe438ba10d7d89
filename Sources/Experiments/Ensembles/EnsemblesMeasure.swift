import Datasets
import Instruments
import Models
import NN
import Tape
import Training

extension Ensembles {
    /// How one network trained: per epoch, the running training loss and error and the test error after it.
    public struct TrainingRecord: Codable, Sendable, Equatable {
        /// Running mean training loss (cross-entropy, training mode) of each epoch.
        public var trainLoss: [Double]
        /// Running training error of each epoch: the fraction of its training images misclassified.
        public var trainError: [Double]
        /// Test error (fraction misclassified, evaluation mode) after each epoch.
        public var testError: [Double]
        /// Training stopped on a non-finite loss, gradient or weight.
        public var diverged: Bool
        /// Mean seconds of a training step (forward, backward, update), wall-clock.
        public var secondsPerStep: Double

        /// One network's training record.
        public init(trainLoss: [Double], trainError: [Double], testError: [Double], diverged: Bool = false, secondsPerStep: Double = 0) {
            (self.trainLoss, self.trainError, self.testError) = (trainLoss, trainError, testError)
            (self.diverged, self.secondsPerStep) = (diverged, secondsPerStep)
        }
    }

    /// §6, Fig. 6: the gradient at the first block's input carried by paths of each length k = 0 … n.
    public struct PathGradients: Codable, Sendable, Equatable {
        /// ‖∂loss/∂x₀‖ of one path of length k: mean and spread over the sampled paths (Fig. 6b).
        public var gradientNorm: [Double]
        /// … and the standard deviation of ‖∂loss/∂x₀‖ over those paths, per length k.
        public var gradientSpread: [Double]
        /// C(n, k)/2ⁿ: the share of paths of length k, Binomial(n, ½) (Fig. 6a).
        public var pathShare: [Double]
        /// C(n, k)·‖g_k‖ normalised to sum to 1: the share of the total gradient magnitude (Fig. 6c).
        public var gradientShare: [Double]

        /// The path decomposition, indexed by path length k = 0 … n.
        public init(gradientNorm: [Double], gradientSpread: [Double], pathShare: [Double], gradientShare: [Double]) {
            (self.gradientNorm, self.gradientSpread, self.pathShare, self.gradientShare) = (gradientNorm, gradientSpread, pathShare, gradientShare)
        }
    }

    /// Errors that must equal the intact error exactly: the lesion switches' invariants.
    public struct Invariants: Codable, Sendable, Equatable {
        /// Deleting the empty set of blocks.
        public var noDeletion: Double
        /// The intact net again after every lesion and reordering (all switches restored).
        public var afterRestoring: Double
        /// Swapping zero pairs (the identity permutation).
        public var noSwap: Double

        /// The three invariant errors.
        public init(noDeletion: Double, afterRestoring: Double, noSwap: Double) {
            (self.noDeletion, self.afterRestoring, self.noSwap) = (noDeletion, afterRestoring, noSwap)
        }
    }

    /// The trained ResNet's lesions (test errors as fractions).
    public struct ResidualLesions: Codable, Sendable, Equatable {
        /// The seed of the net's initialisation and training.
        public var seed: UInt64
        /// How the ResNet trained.
        public var training: TrainingRecord
        /// Test error of the trained net with every block in place.
        public var intactError: Double
        /// Whether block b downsamples (stride 2, option-A shortcut): reported separately (§4.1).
        public var downsampling: [Bool]
        /// The error with block b deleted (y = shortcut(x)), for every block b (Fig. 3b).
        public var singleDeletion: [Double]
        /// For each of the setup's `deletionCounts` k, the error of each random draw of k deleted blocks (Fig. 5a).
        public var randomDeletion: [[Double]]
        /// For each of the setup's `swapCounts` k, the error of each draw of k random swaps (Fig. 5b) …
        public var swaps: [[Double]]
        /// … and the Kendall τ between the new block order and the original.
        public var swapKendallTau: [[Double]]
        /// Errors that must equal `intactError` exactly (the lesion switches' checks).
        public var invariants: Invariants
        /// The gradient carried by paths of each length (§6, Fig. 6).
        public var paths: PathGradients

        /// One trained ResNet's lesions.
        public init(seed: UInt64, training: TrainingRecord, intactError: Double, downsampling: [Bool], singleDeletion: [Double],
                    randomDeletion: [[Double]], swaps: [[Double]], swapKendallTau: [[Double]], invariants: Invariants, paths: PathGradients) {
            (self.seed, self.training, self.intactError, self.downsampling) = (seed, training, intactError, downsampling)
            (self.singleDeletion, self.randomDeletion, self.swaps, self.swapKendallTau) = (singleDeletion, randomDeletion, swaps, swapKendallTau)
            (self.invariants, self.paths) = (invariants, paths)
        }
    }

    /// One deletable layer of the plain twin: conv + BN (+ the ReLU after it, which is then the identity on its
    /// non-negative input), replaced by the identity. Only layers whose input and output shapes agree can go.
    public struct LayerDeletion: Codable, Sendable, Equatable {
        /// The block (0-based) and its layer (1: conv1/bn1, 2: conv2/bn2).
        public var block: Int
        /// … the layer within the block (1 or 2) …
        public var layer: Int
        /// … and the test error with that layer deleted.
        public var error: Double

        /// The deletion of layer `layer` of block `block`, with its test error.
        public init(block: Int, layer: Int, error: Double) { (self.block, self.layer, self.error) = (block, layer, error) }
    }

    /// The trained plain twin's lesions.
    public struct PlainLesions: Codable, Sendable, Equatable {
        /// The seed of the net's initialisation and training.
        public var seed: UInt64
        /// How the plain twin trained.
        public var training: TrainingRecord
        /// Test error of the trained plain twin with every layer in place.
        public var intactError: Double
        /// Every single layer whose shapes allow it deleted in turn (the paper's Fig. 3a on VGG).
        public var layerDeletions: [LayerDeletion]
        /// Each non-downsampling block (both its layers) deleted, as for the ResNet; nil for downsampling blocks.
        public var blockDeletion: [Double?]
        /// The intact error again after every lesion (hooks removed).
        public var afterRestoring: Double

        /// One trained plain twin's lesions.
        public init(seed: UInt64, training: TrainingRecord, intactError: Double, layerDeletions: [LayerDeletion],
                    blockDeletion: [Double?], afterRestoring: Double) {
            (self.seed, self.training, self.intactError, self.layerDeletions) = (seed, training, intactError, layerDeletions)
            (self.blockDeletion, self.afterRestoring) = (blockDeletion, afterRestoring)
        }
    }

    /// Everything measured, one entry per seed.
    public struct Results: Codable, Sendable, Equatable {
        /// n: blocks of the ResNet (3 × blocks per stage).
        public var blocks: Int
        /// k for "k random blocks deleted" (Fig. 5a), the setup's `deletionCounts`.
        public var deletionCounts: [Int]
        /// k for "k random pairs of blocks swapped" (Fig. 5b), the setup's `swapCounts`.
        public var swapCounts: [Int]
        /// The schedule's end criterion (see `Setup.convergedTrainingError`).
        public var convergedTrainingError: Double
        /// The ResNet's lesions, one per seed.
        public var residual: [ResidualLesions]
        /// The plain twin's lesions, one per seed.
        public var plain: [PlainLesions]

        /// Every seed's lesions of the ResNet with n = `blocks` blocks and of its plain twin.
        public init(blocks: Int, deletionCounts: [Int], swapCounts: [Int], convergedTrainingError: Double,
                    residual: [ResidualLesions], plain: [PlainLesions]) {
            (self.blocks, self.deletionCounts, self.swapCounts) = (blocks, deletionCounts, swapCounts)
            (self.convergedTrainingError, self.residual, self.plain) = (convergedTrainingError, residual, plain)
        }
    }

    /// The ResNet (or its plain twin) of `setup`, seeded.
    public static func makeNetwork(_ setup: Setup, residual: Bool, seed: UInt64) -> CIFARResNet {
        var configuration = CIFARConfiguration(shortcut: .zeroPad(.split), placement: .original, residual: residual)
        configuration.inputChannels = 1
        return CIFARResNet(depth: 6 * setup.blocksPerStage + 2, configuration: configuration, widths: setup.widths, seed: seed)
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        run.plan(units: 2 * setup.seeds.count)
        let images = try run.data.images(setup.data, for: name)
        var residual: [ResidualLesions] = [], plain: [PlainLesions] = []
        for seed in setup.seeds {
            residual.append(try run.unit("ResNet-\(6 * setup.blocksPerStage + 2) seed \(seed)") {
                try measureResidual(setup, images: images, seed: seed, run: run)
            })
            plain.append(try run.unit("plain-\(6 * setup.blocksPerStage + 2) seed \(seed)") {
                try measurePlain(setup, images: images, seed: seed, run: run)
            })
        }
        return Results(blocks: 3 * setup.blocksPerStage, deletionCounts: setup.deletionCounts, swapCounts: setup.swapCounts,
                       convergedTrainingError: setup.convergedTrainingError, residual: residual, plain: plain)
    }

    /// Trains `model` with the general `Trainer` (SGD, He et al.'s step schedule and warm-up), recording every epoch.
    static func train(_ model: Layer, _ label: String, _ images: ExperimentImages, setup: Setup, seed: UInt64,
                      run: ExperimentRun) throws -> TrainingRecord {
        let options = TrainingOptions(
            epochs: setup.epochs, batchSize: setup.batchSize, learningRate: setup.learningRate, momentum: setup.momentum,
            weightDecay: setup.weightDecay, schedule: .multiStep(setup.milestones),
            warmup: setup.warmupWindow > 0 ? Warmup(learningRate: 0.01, untilErrorBelow: 0.8, window: setup.warmupWindow) : nil,
            seed: seed, normalization: setup.data.dataSet.normalization)
        let trainer = try Trainer(model: model, train: images.train, test: images.test, options: options)
        var record = TrainingRecord(trainLoss: [], trainError: [], testError: [])
        var seconds = 0.0, steps = 0
        do {
            while !trainer.isFinished {
                let figures = try trainer.trainEpoch { step in
                    if run.isInterruptionRequested() { throw ExperimentError.interrupted(experiment: name) }
                    if trainer.globalStep == 10 {
                        run.log("\(name): \(label) seed \(seed): \(formatted(step.seconds, 3)) s for step 10 of \(setup.epochs * trainer.batchesPerEpoch)")
                    }
                }
                let epoch = figures.evaluation
                record.trainLoss.append(Double(epoch.loss))
                record.trainError.append(1 - Double(epoch.accuracy))
                record.testError.append(1 - Double(trainer.evaluate(images.test).accuracy))
                (seconds, steps) = (seconds + figures.stepSeconds, steps + figures.steps)
                run.log("\(name): \(label) seed \(seed) epoch \(record.testError.count)/\(setup.epochs): training error "
                        + "\(formatted(100 * record.trainError.last!, 2))%, test error \(formatted(100 * record.testError.last!, 2))%, "
                        + "\(formatted(figures.stepSeconds / Double(max(figures.steps, 1)), 3)) s per step")
            }
        } catch TrainingError.diverged {
            record.diverged = true
        }
        record.secondsPerStep = steps > 0 ? seconds / Double(steps) : 0
        return record
    }

    /// The test error of `model` as it is (evaluation mode, running statistics).
    static func testError(_ model: Layer, _ images: ExperimentImages, _ setup: Setup) -> Double {
        1 - Double(Training.evaluate(model, on: images.test, normalization: setup.data.dataSet.normalization).accuracy)
    }

    static func measureResidual(_ setup: Setup, images: ExperimentImages, seed: UInt64, run: ExperimentRun) throws -> ResidualLesions {
        let network = makeNetwork(setup, residual: true, seed: seed)
        let training = try train(network, "ResNet-\(6 * setup.blocksPerStage + 2)", images, setup: setup, seed: seed, run: run)
        let error = { testError(network, images, setup) }
        let intact = error()
        let blocks = network.residualBlocks
        let downsampling = blocks.map { ($0 as! BasicBlock).shortcut != nil }
        // §4.1, Fig. 3b: each block deleted in turn.
        let single = evaluateDeletingEachBlock(of: network, evaluate: error)
        // §4.3, Fig. 5a: k random blocks deleted, `draws` uniformly random k-subsets per k.
        let deletions = evaluateDeletingRandomBlocks(of: network, counts: setup.deletionCounts, samples: setup.draws,
                                                     seed: seed ^ 0xDE1E7E, evaluate: error).map(\.values)
        // §4.3, Fig. 5b: k random swaps of two blocks of the same stage and shape (downsampling blocks stay).
        let pairs = interchangeableBlockGroups(of: network).flatMap { group in
            group.indices.flatMap { i in group[(i + 1)...].map { (group[i], $0) } }
        }
        var random = SplitMix64(seed: seed ^ 0x5A4B)
        var swaps: [[Double]] = [], taus: [[Double]] = []
        for k in setup.swapCounts {
            var errors: [Double] = [], kendall: [Double] = []
            for _ in 0..<setup.draws {
                var permutation = Array(blocks.indices)
                for _ in 0..<k {
                    let (a, b) = pairs[Int.random(in: 0..<pairs.count, using: &random)]
                    permutation.swapAt(a, b)
                }
                errors.append(withBlocksPermuted(network, permutation, body: error))
                kendall.append(kendallTau(permutation))
            }
            swaps.append(errors)
            taus.append(kendall)
        }
        let invariants = Invariants(noDeletion: withBlocksDeleted(network, [], body: error), afterRestoring: error(),
                                    noSwap: withBlocksPermuted(network, Array(blocks.indices), body: error))
        return ResidualLesions(seed: seed, training: training, intactError: intact, downsampling: downsampling, singleDeletion: single,
                               randomDeletion: deletions, swaps: swaps, swapKendallTau: taus, invariants: invariants,
                               paths: pathGradients(network, images, setup: setup, seed: seed))
    }

    /// §6: one forward pass of a batch of test images in evaluation mode; for each length k, the input gradient
    /// along random paths through k residual branches and n − k shortcuts (`pathLengthDecomposition`).
    static func pathGradients(_ network: CIFARResNet, _ images: ExperimentImages, setup: Setup, seed: UInt64) -> PathGradients {
        let batch = DataLoader(images.test, batchSize: setup.pathBatch, shuffle: false, normalization: setup.data.dataSet.normalization)
            .batch(epoch: 0, position: 0)
        let input = Variable(Tensor(shape: batch.shape, scalars: batch.images))
        let decomposition = pathLengthDecomposition(of: network, mode: .evaluation, samplesPerLength: setup.pathSamplesPerLength,
                                                    seed: seed ^ 0x9A7) { context in
            crossEntropy(logits: network(input, &context), labels: batch.labels)
        }
        return PathGradients(gradientNorm: decomposition.gradientNorms.map(\.mean),
                             gradientSpread: decomposition.gradientNorms.map(\.standardDeviation),
                             pathShare: decomposition.pathLengthDistribution, gradientShare: decomposition.contributionDistribution)
    }

    static func measurePlain(_ setup: Setup, images: ExperimentImages, seed: UInt64, run: ExperimentRun) throws -> PlainLesions {
        let network = makeNetwork(setup, residual: false, seed: seed)
        let training = try train(network, "plain-\(6 * setup.blocksPerStage + 2)", images, setup: setup, seed: seed, run: run)
        let error = { testError(network, images, setup) }
        let intact = error()
        let blocks = network.residualBlocks.map { $0 as! BasicBlock }
        var layers: [LayerDeletion] = []
        var blockDeletion: [Double?] = []
        for (index, block) in blocks.enumerated() {
            let keepsShape = block.conv1.weight.value.shape[0] == block.conv1.weight.value.shape[1] && block.conv1.stride == Pair(1, 1)
            if keepsShape { layers.append(LayerDeletion(block: index, layer: 1, error: withLayerDeleted(block, 1, body: error))) }
            layers.append(LayerDeletion(block: index, layer: 2, error: withLayerDeleted(block, 2, body: error)))
            blockDeletion.append(keepsShape ? withBlocksDeleted(network, [index], body: error) : nil)
        }
        return PlainLesions(seed: seed, training: training, intactError: intact, layerDeletions: layers, blockDeletion: blockDeletion,
                            afterRestoring: error())
    }

    /// Runs `body` with layer 1 (conv1, bn1) or 2 (conv2, bn2) of `block` replaced by the identity; the ReLU that
    /// follows is then the identity too, on the non-negative output of the previous ReLU.
    static func withLayerDeleted<R>(_ block: BasicBlock, _ layer: Int, body: () throws -> R) rethrows -> R {
        let (convolution, normalization): (Layer, Layer) = layer == 1 ? (block.conv1, block.bn1) : (block.conv2, block.bn2)
        let tokens = [convolution.registerForwardHook { _, input, _ in input },
                      normalization.registerForwardHook { _, input, _ in input }]
        defer {
            convolution.removeForwardHook(tokens[0])
            normalization.removeForwardHook(tokens[1])
        }
        return try body()
    }

    /// Kendall's τ between the order `permutation` (position i holds the block that was at permutation[i]) and the
    /// original order: (concordant − discordant pairs) / C(n, 2); 1 for the identity, −1 for the reversal.
    public static func kendallTau(_ permutation: [Int]) -> Double {
        let n = permutation.count
        guard n > 1 else { return 1 }
        var score = 0
        for i in 0..<n {
            for j in (i + 1)..<n { score += permutation[i] < permutation[j] ? 1 : -1 }
        }
        return Double(score) / Double(n * (n - 1) / 2)
    }
}
