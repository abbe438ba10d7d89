import Datasets
import Instruments
import Models
import NN
import Tape
import Training

extension HighwayNetworks {
    /// The statistics of one highway layer's gate T(x) over a batch (all images and units).
    public struct GateSummary: Codable, Sendable, Equatable {
        /// Mean gate value T(x), in (0, 1).
        public var mean: Double
        /// Population standard deviation.
        public var standardDeviation: Double
        /// The fraction of gate values below 0.1 (closed: the layer carries its input).
        public var closedFraction: Double
        /// The fraction above 0.9 (open: the layer transforms).
        public var openFraction: Double

        /// A gate's statistics.
        public init(mean: Double, standardDeviation: Double, closedFraction: Double, openFraction: Double) {
            (self.mean, self.standardDeviation, self.closedFraction, self.openFraction) = (mean, standardDeviation, closedFraction, openFraction)
        }

        init(_ statistics: GateStatistics) {
            self.init(mean: statistics.mean, standardDeviation: statistics.standardDeviation,
                      closedFraction: statistics.closedFraction, openFraction: statistics.openFraction)
        }
    }

    /// One trained net: a variant, depth, learning rate and seed.
    public struct Run: Codable, Sendable, Equatable {
        /// The variant's name ("plain", "highway b_T=-6").
        public var variant: String
        /// Layers before the softmax.
        public var depth: Int
        /// SGD's initial learning rate.
        public var learningRate: Float
        /// The seed of the initialisation and the batch order.
        public var seed: UInt64
        /// Whether training stopped on a NaN or infinite loss, gradient or weight.
        public var diverged: Bool
        /// Mean cross-entropy and accuracy over the training images after training, evaluation mode (NaN when diverged).
        public var finalLoss: Double
        /// … and the accuracy (fraction correct).
        public var finalAccuracy: Double
        /// Test accuracy after training (NaN when diverged).
        public var testAccuracy: Double
        /// The training loss over steps: means over consecutive steps, ending at `curveSteps`.
        public var curve: [Double]
        /// … the step (from 1) each mean of `curve` ends at.
        public var curveSteps: [Int]
        /// The gates of every highway layer at initialisation and after training (empty for plain nets).
        public var gatesAtInit: [GateSummary]
        /// … and after training.
        public var gatesTrained: [GateSummary]

        /// A run's figures.
        public init(variant: String, depth: Int, learningRate: Float, seed: UInt64, diverged: Bool, finalLoss: Double,
                    finalAccuracy: Double, testAccuracy: Double, curve: [Double] = [], curveSteps: [Int] = [],
                    gatesAtInit: [GateSummary] = [], gatesTrained: [GateSummary] = []) {
            (self.variant, self.depth, self.learningRate, self.seed, self.diverged) = (variant, depth, learningRate, seed, diverged)
            (self.finalLoss, self.finalAccuracy, self.testAccuracy) = (finalLoss, finalAccuracy, testAccuracy)
            (self.curve, self.curveSteps, self.gatesAtInit, self.gatesTrained) = (curve, curveSteps, gatesAtInit, gatesTrained)
        }
    }

    /// Every run of the setup.
    public struct Results: Codable, Sendable, Equatable {
        /// Layers before the softmax, as in the setup.
        public var depths: [Int]
        /// The net families trained.
        public var variants: [Variant]
        /// SGD's learning rates searched.
        public var learningRates: [Float]
        /// One run per variant, depth, learning rate (only the first for variants that don't search) and seed.
        public var runs: [Run]

        /// Every run of a setup.
        public init(depths: [Int], variants: [Variant], learningRates: [Float], runs: [Run]) {
            (self.depths, self.variants, self.learningRates, self.runs) = (depths, variants, learningRates, runs)
        }
    }

    /// The net of `variant` with `depth` layers before the softmax for `inputs` pixels (a plain
    /// first layer, then depth − 1 highway or plain layers), initialised from `seed` as the
    /// setup says: Kaiming-normal weights (fan-in, gain √2) for every hidden layer, gates
    /// included; zero hidden biases except the gates' b_T; the softmax layer keeps PyTorch's default.
    public static func network(_ variant: Variant, depth: Int, inputs: Int, highwayWidth: Int = 50, seed: UInt64) -> HighwayNetwork {
        precondition(depth >= 2, "highway: a net needs its first layer and at least one more, got depth \(depth)")
        let width = variant.highway ? highwayWidth : HighwayNetwork.plainWidthMatching(depth: depth - 1, inputs: inputs, classes: 10)
        let network = HighwayNetwork(depth: depth - 1, width: width, highway: variant.highway, gateBias: variant.gateBias, inputs: inputs, seed: seed)
        var random = SplitMix64(seed: seed ^ 0x4819_4A7)
        for (name, parameter) in network.namedParameters where !name.hasPrefix("output.") {
            if name.hasSuffix(".weight") {
                parameter.value = Initializer.kaimingNormal().makeTensor(parameter.value.shape, using: &random)
            } else if name.hasSuffix(".bias") {
                parameter.value = Tensor(shape: parameter.value.shape, repeating: name.contains(".gate.") ? variant.gateBias : 0)
            }
        }
        return network
    }

    /// The first `count` images of `set`, normalised and flattened to [count, pixels]: the gate probe.
    static func probe(_ set: ImageSet, count: Int, normalization: Normalization) -> Tensor {
        let n = Swift.min(count, set.count)
        let (mean, std) = (normalization.mean[0], normalization.std[0])
        let pixels = set.images[0..<(n * set.pixelsPerImage)].map { ($0 - mean) / std }
        return Tensor(shape: [n, set.pixelsPerImage], scalars: Array(pixels))
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        let images = try run.data.images(setup.data, for: name)
        let normalization = setup.data.dataSet.normalization
        let probe = probe(images.train, count: setup.gateProbeImages, normalization: normalization)
        func rates(_ variant: Variant) -> [Float] { variant.searchesLearningRate ? setup.learningRates : [setup.learningRates[0]] }
        run.plan(units: setup.variants.reduce(0) { $0 + rates($1).count } * setup.depths.count * setup.seeds.count)
        var runs: [Run] = []
        for variant in setup.variants {
            for depth in setup.depths {
                for learningRate in rates(variant) {
                    for seed in setup.seeds {
                        runs.append(try run.unit("\(variant.name) depth \(depth) lr \(learningRate) seed \(seed)") { () -> Run in
                            let network = network(variant, depth: depth, inputs: images.train.pixelsPerImage, highwayWidth: setup.highwayWidth, seed: seed)
                            let gatesAtInit = gateStatistics(of: network, input: probe).map(GateSummary.init)
                            let trained = try train(network, images: images, setup: setup, learningRate: learningRate, seed: seed, run: run)
                            return Run(variant: variant.name, depth: depth, learningRate: learningRate, seed: seed, diverged: trained.diverged,
                                       finalLoss: trained.trainLoss, finalAccuracy: trained.trainAccuracy, testAccuracy: trained.testAccuracy,
                                       curve: trained.curve, curveSteps: trained.curveSteps, gatesAtInit: gatesAtInit,
                                       gatesTrained: trained.diverged ? [] : gateStatistics(of: network, input: probe).map(GateSummary.init))
                        })
                    }
                }
            }
        }
        return Results(depths: setup.depths, variants: setup.variants, learningRates: setup.learningRates, runs: runs)
    }

    /// Trains `network` with `Trainer` as the setup says (SGD with momentum, per-step cosine decay,
    /// normalised images, data order and forward generator from `seed`), then evaluates it. A
    /// divergence ends the run and is recorded, not thrown.
    static func train(_ network: Layer, images: ExperimentImages, setup: Setup, learningRate: Float, seed: UInt64,
                      run: ExperimentRun) throws -> (diverged: Bool, trainLoss: Double, trainAccuracy: Double, testAccuracy: Double,
                                                      curve: [Double], curveSteps: [Int]) {
        let options = TrainingOptions(epochs: setup.epochs, batchSize: setup.batchSize, learningRate: learningRate, momentum: setup.momentum,
                                      schedule: .cosine, seed: seed, normalization: setup.data.dataSet.normalization)
        let trainer = try Trainer(model: network, train: images.train, test: images.test, options: options)
        let binSize = Swift.max(1, setup.epochs * trainer.batchesPerEpoch / Swift.max(1, setup.curveBins))
        let (losses, diverged) = try trainRecordingLosses(trainer, experiment: name, run: run)
        let (curve, curveSteps) = binnedMeans(losses, binSize: binSize)
        guard !diverged else { return (true, .nan, .nan, .nan, curve, curveSteps) }
        let train = trainer.evaluate(images.train), test = trainer.evaluate(images.test)
        return (false, Double(train.loss), Double(train.accuracy), Double(test.accuracy), curve, curveSteps)
    }
}
