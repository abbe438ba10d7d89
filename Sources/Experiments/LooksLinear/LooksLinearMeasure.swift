import Datasets
import Models
import NN
import Tape
import Training

extension LooksLinear {
    /// One trained net: a net, depth, learning rate and seed.
    public struct Run: Codable, Sendable, Equatable {
        /// The net trained.
        public var net: Net
        /// Hidden layers (0 for the linear model).
        public var depth: Int
        /// SGD's initial learning rate.
        public var learningRate: Float
        /// The seed of the initialisation and the batch order.
        public var seed: UInt64
        /// Whether training stopped on a NaN or infinite loss, gradient or weight.
        public var diverged: Bool
        /// Mean cross-entropy over the training images after training, evaluation mode (NaN when diverged).
        public var trainLoss: Double
        /// Training and test accuracy after training, evaluation mode (NaN when diverged).
        public var trainAccuracy: Double
        /// … as fractions correct.
        public var testAccuracy: Double
        /// The training loss over steps: means over consecutive steps, ending at `curveSteps`.
        public var curve: [Double]
        /// … the step (from 1) each mean of `curve` ends at.
        public var curveSteps: [Int]

        /// A run's figures.
        public init(net: Net, depth: Int, learningRate: Float, seed: UInt64, diverged: Bool, trainLoss: Double,
                    trainAccuracy: Double, testAccuracy: Double, curve: [Double] = [], curveSteps: [Int] = []) {
            (self.net, self.depth, self.learningRate, self.seed, self.diverged) = (net, depth, learningRate, seed, diverged)
            (self.trainLoss, self.trainAccuracy, self.testAccuracy) = (trainLoss, trainAccuracy, testAccuracy)
            (self.curve, self.curveSteps) = (curve, curveSteps)
        }
    }

    /// Every run of the setup.
    public struct Results: Codable, Sendable, Equatable {
        /// Hidden layers of the deep nets, as in the setup.
        public var depths: [Int]
        /// SGD's learning rates searched.
        public var learningRates: [Float]
        /// One run per net, depth (0 only for the linear model), learning rate and seed.
        public var runs: [Run]

        /// Every run of a setup.
        public init(depths: [Int], learningRates: [Float], runs: [Run]) {
            (self.depths, self.learningRates, self.runs) = (depths, learningRates, runs)
        }
    }

    /// The net `net` with `depth` hidden layers for `inputs` pixels and 10 classes, initialised
    /// from `seed` as the setup says (see `Setup.initialization`); the ResNet in the pre-activation
    /// form (a post-activation block ends in a ReLU, so its stream's mean grows with every block and a
    /// 100-layer one falls below the linear model). Deep nets are `DeepNetwork`s
    /// (the input unit and depth − 1 more hidden layers, then a linear head); the linear model is
    /// one `Linear`. Both take flat [N, inputs] rows.
    public static func network(_ net: Net, depth: Int, inputs: Int, setup: Setup, seed: UInt64) -> Layer {
        if net == .linear {
            var random = SplitMix64(seed: seed)
            let linear = Linear(inputs, 10, weightInitializer: .pytorchDefault, using: &random)
            linear.bias!.value = Tensor.zeros([10])
            return linear
        }
        precondition(depth >= 1, "looks-linear: a deep net needs at least one hidden layer, got \(depth)")
        let (nonlinearity, width, initializer): (Nonlinearity, Int, Initializer) = switch net {
        case .looksLinear: (.crelu, setup.creluWidth, .looksLinear())
        case .creluRandom: (.crelu, setup.creluWidth, .kaimingNormal(gain: 1))
        case .reluKaiming, .resNet, .linear: (.relu, setup.reluWidth, .kaimingNormal())
        }
        var configuration = DeepNetworkConfiguration(
            inputs: inputs, outputs: 10, depth: depth - 1, width: width, nonlinearity: nonlinearity,
            normalization: net == .resNet ? .batch : .none, shortcutSpan: net == .resNet ? setup.resNetShortcutSpan : nil,
            weightInitializer: initializer, biasStandardDeviation: 0)
        if net == .resNet { configuration.form = .preActivation }
        let network = DeepNetwork(configuration, seed: seed)
        network.output.bias!.value = Tensor.zeros([10])
        return network
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        let images = try run.data.images(setup.data, for: name)
        let configurations = setup.nets.flatMap { net in (net.isDeep ? setup.depths : [0]).map { (net, $0) } }
        run.plan(units: configurations.count * setup.learningRates.count * setup.seeds.count)
        var runs: [Run] = []
        for (net, depth) in configurations {
            for learningRate in setup.learningRates {
                for seed in setup.seeds {
                    let key = "\(net.rawValue)\(net.isDeep ? " depth \(depth)" : "") lr \(learningRate) seed \(seed)"
                    runs.append(try run.unit(key) { () -> Run in
                        let model = Sequential(Flatten(), network(net, depth: depth, inputs: images.train.pixelsPerImage, setup: setup, seed: seed))
                        let trained = try trainToEnd(model, train: images.train, test: images.test, setup: setup, learningRate: learningRate, seed: seed, run: run)
                        return Run(net: net, depth: depth, learningRate: learningRate, seed: seed, diverged: trained.diverged,
                                   trainLoss: trained.train.loss, trainAccuracy: trained.train.accuracy, testAccuracy: trained.test.accuracy,
                                   curve: trained.curve, curveSteps: trained.curveSteps)
                    })
                }
            }
        }
        return Results(depths: setup.depths, learningRates: setup.learningRates, runs: runs)
    }

    /// What `trainToEnd` found.
    public struct TrainedModel: Sendable {
        /// Whether training stopped on a NaN or infinite loss, gradient or weight.
        public var diverged: Bool
        /// Loss and accuracy after training, evaluation mode (NaN when diverged).
        public var train: (loss: Double, accuracy: Double), test: (loss: Double, accuracy: Double)
        /// Step losses averaged over consecutive steps, and the step each mean ends at.
        public var curve: [Double], curveSteps: [Int]
    }

    /// Trains `model` with `Trainer` as the setup says (SGD with momentum, per-step cosine decay,
    /// the data set's normalisation, data order and forward generator from `seed`) and evaluates it on the
    /// training and test images. A divergence ends the run and is recorded, not thrown.
    public static func trainToEnd(_ model: Layer, train trainSet: ImageSet, test testSet: ImageSet, setup: Setup, learningRate: Float, seed: UInt64,
                                  run: ExperimentRun? = nil) throws -> TrainedModel {
        let options = TrainingOptions(epochs: setup.epochs, batchSize: setup.batchSize, learningRate: learningRate,
                                      momentum: setup.momentum, schedule: .cosine, seed: seed, normalization: setup.data.dataSet.normalization)
        let trainer = try Trainer(model: model, train: trainSet, test: testSet, options: options)
        let totalSteps = setup.epochs * trainer.batchesPerEpoch
        let binSize = Swift.max(1, totalSteps / Swift.max(1, setup.curveBins))
        let (losses, diverged) = try trainRecordingLosses(trainer, experiment: name, run: run)
        let (curve, curveSteps) = binnedMeans(losses, binSize: binSize)
        guard !diverged else { return TrainedModel(diverged: true, train: (.nan, .nan), test: (.nan, .nan), curve: curve, curveSteps: curveSteps) }
        let train = trainer.evaluate(trainSet), test = trainer.evaluate(testSet)
        return TrainedModel(diverged: false, train: (Double(train.loss), Double(train.accuracy)),
                            test: (Double(test.loss), Double(test.accuracy)), curve: curve, curveSteps: curveSteps)
    }
}

