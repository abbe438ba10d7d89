import Models
import Training

extension StochasticDepth {
    /// One variant's training from one seed.
    public struct Run: Codable, Sendable, Equatable {
        /// Mean training loss of each epoch (training mode: dropped blocks for stochastic depth).
        public var epochTrainLoss: [Double]
        /// Test loss and error after each epoch (every block, scaled by p_l).
        public var epochTestLoss: [Double]
        /// … the test error as a fraction misclassified.
        public var epochTestError: [Double]
        /// The summed step seconds of each epoch (wall-clock; not deterministic).
        public var epochSeconds: [Double]
        /// Residual branches computed per training step, averaged over all steps.
        public var blocksPerStep: Double

        /// A run's figures.
        public init(epochTrainLoss: [Double], epochTestLoss: [Double], epochTestError: [Double], epochSeconds: [Double], blocksPerStep: Double) {
            (self.epochTrainLoss, self.epochTestLoss, self.epochTestError) = (epochTrainLoss, epochTestLoss, epochTestError)
            (self.epochSeconds, self.blocksPerStep) = (epochSeconds, blocksPerStep)
        }

        /// Seconds per epoch, averaged over epochs.
        public var secondsPerEpoch: Double { epochSeconds.reduce(0, +) / Double(max(1, epochSeconds.count)) }
        /// The test error after the last epoch.
        public var finalTestError: Double { epochTestError.last ?? .nan }
    }

    /// Both variants trained from one seed, side by side.
    public struct Pair: Codable, Sendable, Equatable {
        /// The seed both variants start from.
        public var seed: UInt64
        /// The constant-depth net (every block in every step).
        public var constant: Run
        /// The stochastic-depth net (linear decay to p_L).
        public var stochastic: Run

        /// The two variants trained from `seed`.
        public init(seed: UInt64, constant: Run, stochastic: Run) {
            (self.seed, self.constant, self.stochastic) = (seed, constant, stochastic)
        }
    }

    /// Every seed's pair, with the depth figures.
    public struct Results: Codable, Sendable, Equatable {
        /// Residual blocks L.
        public var blocks: Int
        /// Σ p_l of the stochastic net.
        public var expectedDepth: Double
        /// One pair per seed.
        public var pairs: [Pair]

        /// The pairs of a net with `blocks` blocks and expected depth `expectedDepth`.
        public init(blocks: Int, expectedDepth: Double, pairs: [Pair]) {
            (self.blocks, self.expectedDepth, self.pairs) = (blocks, expectedDepth, pairs)
        }
    }

    /// The network of `setup` for `seed`, with stochastic depth when `stochastic`.
    public static func network(_ setup: Setup, stochastic: Bool, inputChannels: Int, seed: UInt64) -> CIFARResNet {
        var configuration = CIFARConfiguration()
        configuration.inputChannels = inputChannels
        let network = CIFARResNet(depth: setup.depth, configuration: configuration, widths: setup.widths, seed: seed)
        if stochastic { network.enableStochasticDepth(finalSurvival: setup.finalSurvival, linearDecay: setup.linearDecay, scaling: .testTime) }
        return network
    }

    /// The training options of `setup` for `seed` (the same for both variants: same batches).
    public static func options(_ setup: Setup, seed: UInt64) -> TrainingOptions {
        TrainingOptions(epochs: setup.epochs, batchSize: setup.batchSize, learningRate: setup.learningRate, momentum: setup.momentum,
                        weightDecay: setup.weightDecay, schedule: .multiStep(setup.milestones), seed: seed,
                        normalization: setup.data.dataSet.normalization)
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        let images = try run.data.images(setup.data, for: name)
        run.plan(units: setup.seeds.count)
        let pairs = try setup.seeds.map { seed in
            try run.unit("constant and stochastic depth seed \(seed)") {
                try trainPair(setup, seed: seed, images: images, interrupted: run.isInterruptionRequested)
            }
        }
        let probe = network(setup, stochastic: true, inputChannels: 1, seed: 0)
        return Results(blocks: probe.residualBlocks.count, expectedDepth: Double(probe.expectedDepth), pairs: pairs)
    }

    /// Trains the constant-depth and the stochastic-depth net from the same initial weights on the
    /// same batches, their steps interleaved.
    static func trainPair(_ setup: Setup, seed: UInt64, images: ExperimentImages, interrupted: () -> Bool) throws -> Pair {
        let networks = [false, true].map { network(setup, stochastic: $0, inputChannels: images.train.channels, seed: seed) }
        let trainers = try networks.map { try Trainer(model: $0, train: images.train, test: images.test, options: options(setup, seed: seed)) }
        var runs = [Run](repeating: Run(epochTrainLoss: [], epochTestLoss: [], epochTestError: [], epochSeconds: [], blocksPerStep: 0), count: 2)
        var branches = [0, 0], steps = [0, 0]
        while !trainers[0].isFinished {
            var index = 0, finished = [false, false]
            while !(finished[0] && finished[1]) {
                for v in index % 2 == 0 ? [0, 1] : [1, 0] where !finished[v] {
                    if interrupted() { throw ExperimentError.interrupted(experiment: name) }
                    if try trainers[v].step() == nil {
                        finished[v] = true
                    } else {
                        branches[v] += networks[v].residualBlocks.filter(\.lastForwardUsedBranch).count
                        steps[v] += 1
                    }
                }
                index += 1
            }
            for v in 0..<2 {
                let figures = trainers[v].epochFigures
                runs[v].epochTrainLoss.append(figures.lossSum / Double(figures.images))
                runs[v].epochSeconds.append(figures.stepSeconds)
                let test = trainers[v].evaluate(images.test)
                runs[v].epochTestLoss.append(Double(test.loss))
                runs[v].epochTestError.append(1 - Double(test.accuracy))
            }
        }
        for v in 0..<2 { runs[v].blocksPerStep = Double(branches[v]) / Double(max(1, steps[v])) }
        return Pair(seed: seed, constant: runs[0], stochastic: runs[1])
    }
}
