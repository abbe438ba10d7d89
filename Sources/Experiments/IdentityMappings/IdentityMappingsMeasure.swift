import Models
import Training

extension IdentityMappings {
    /// One variant trained from one seed.
    public struct Run: Codable, Sendable, Equatable {
        /// The row of Tables 1 and 2 trained.
        public var variant: Variant
        /// The seed of the initialisation and the batch order.
        public var seed: UInt64
        /// Mean training loss (cross-entropy, training mode) of each finished epoch.
        public var epochTrainLoss: [Double]
        /// Fraction of each epoch's training images misclassified (before each step's update).
        public var epochTrainError: [Double]
        /// Test error and loss after each finished epoch (running BatchNorm statistics).
        public var epochTestError: [Double]
        /// … and the test loss (cross-entropy).
        public var epochTestLoss: [Double]
        /// The training loss binned over steps, `curvePointsPerEpoch` means per epoch: the paper's
        /// training curves (Fig. 3, 6).
        public var curve: [Double]
        /// Steps trained at the warm-up rate.
        public var warmupSteps: Int
        /// The epoch (from 1) in which the loss or a weight became NaN or infinite; nil if none.
        public var divergedInEpoch: Int?

        /// A run's figures.
        public init(variant: Variant, seed: UInt64, epochTrainLoss: [Double], epochTrainError: [Double], epochTestError: [Double],
                    epochTestLoss: [Double], curve: [Double], warmupSteps: Int, divergedInEpoch: Int? = nil) {
            (self.variant, self.seed, self.epochTrainLoss, self.epochTrainError) = (variant, seed, epochTrainLoss, epochTrainError)
            (self.epochTestError, self.epochTestLoss, self.curve) = (epochTestError, epochTestLoss, curve)
            (self.warmupSteps, self.divergedInEpoch) = (warmupSteps, divergedInEpoch)
        }

        /// The last epoch's mean training loss; +∞ for a diverged run.
        public var finalTrainLoss: Double { divergedInEpoch == nil ? epochTrainLoss.last ?? .infinity : .infinity }
        /// The test error after the last epoch; 0.9 (chance on 10 classes) for a diverged run.
        public var finalTestError: Double { divergedInEpoch == nil ? epochTestError.last ?? 0.9 : 0.9 }
    }

    /// Every variant's runs.
    public struct Results: Codable, Sendable, Equatable {
        /// Every run, one per variant and seed.
        public var runs: [Run]
        /// Optimiser steps per epoch.
        public var stepsPerEpoch: Int

        /// The runs, with `stepsPerEpoch` steps per epoch.
        public init(runs: [Run], stepsPerEpoch: Int) {
            (self.runs, self.stepsPerEpoch) = (runs, stepsPerEpoch)
        }

        /// The runs of `variant`, in seed order.
        public func runs(of variant: Variant) -> [Run] { runs.filter { $0.variant == variant } }
    }

    /// The training options of `setup` for `seed`: SGD with momentum and weight decay, the rate
    /// divided by 10 at the milestones, the warm-up, the data set's normalisation.
    public static func options(_ setup: Setup, seed: UInt64) -> TrainingOptions {
        TrainingOptions(epochs: setup.epochs, batchSize: setup.batchSize, learningRate: setup.learningRate, momentum: setup.momentum,
                        weightDecay: setup.weightDecay, schedule: .multiStep(setup.milestones), warmup: setup.warmup.warmup,
                        seed: seed, normalization: setup.data.dataSet.normalization)
    }

    /// The network of `variant` for `seed`.
    public static func network(_ variant: Variant, setup: Setup, inputChannels: Int, seed: UInt64) -> CIFARResNet {
        CIFARResNet(depth: setup.depth, configuration: variant.configuration(inputChannels: inputChannels), widths: setup.widths, seed: seed)
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        let images = try run.data.images(setup.data, for: name)
        run.plan(units: setup.variants.count * setup.seeds.count)
        var runs: [Run] = []
        for variant in setup.variants {
            for seed in setup.seeds {
                runs.append(try run.unit("\(variant.rawValue) seed \(seed)") {
                    try train(variant, seed: seed, setup: setup, images: images, interrupted: run.isInterruptionRequested)
                })
            }
        }
        let stepsPerEpoch = (images.train.count + setup.batchSize - 1) / setup.batchSize
        return Results(runs: runs, stepsPerEpoch: stepsPerEpoch)
    }

    /// Trains one variant from one seed with `Trainer`, recording the training-loss curve and the
    /// test error after every epoch.
    static func train(_ variant: Variant, seed: UInt64, setup: Setup, images: ExperimentImages,
                      interrupted: () -> Bool) throws -> Run {
        let network = network(variant, setup: setup, inputChannels: images.train.channels, seed: seed)
        let trainer = try Trainer(model: network, train: images.train, test: images.test, options: options(setup, seed: seed))
        var result = Run(variant: variant, seed: seed, epochTrainLoss: [], epochTrainError: [], epochTestError: [], epochTestLoss: [],
                         curve: [], warmupSteps: 0)
        var warmupOver = false
        do {
            while !trainer.isFinished {
                var losses: [Double] = []
                let figures = try trainer.trainEpoch { step in
                    if interrupted() { throw ExperimentError.interrupted(experiment: name) }
                    losses.append(Double(step.loss))
                    if !warmupOver { result.warmupSteps += 1 }
                    if !trainer.isWarmingUp { warmupOver = true }
                }
                result.curve += binnedMeans(losses, bins: setup.curvePointsPerEpoch)
                result.epochTrainLoss.append(figures.lossSum / Double(figures.images))
                result.epochTrainError.append(1 - Double(figures.correct) / Double(figures.images))
                let test = trainer.evaluate(images.test)
                result.epochTestError.append(1 - Double(test.accuracy))
                result.epochTestLoss.append(Double(test.loss))
            }
        } catch TrainingError.diverged(let epoch, _, _) {
            result.divergedInEpoch = epoch
        }
        return result
    }
}
