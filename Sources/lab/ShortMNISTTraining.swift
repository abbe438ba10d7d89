import Experiments
import Datasets
import NN
import Tape
import Training

// Short MNIST training runs, shared by the experiments that train (ensembles, highway,
// identity-mappings, looks-linear, stochastic-depth).

/// MNIST subsets: the first images of each split.
struct MNISTSubsets {
    let train: ImageSet, test: ImageSet
}

/// Loads the first `train` training and `test` test images of MNIST from `--data`, `$TAPE_DATA`
/// or ../shared/data, averaged over `downsampling`×`downsampling` squares (2 gives 14×14 images
/// for the quick versions, which run in debug builds); a missing data set is a clear error naming
/// the experiment.
func loadMNISTSubsets(_ options: ExperimentOptions, experiment: String, train: Int, test: Int, downsampling: Int = 1) throws -> MNISTSubsets {
    let directory: DataDirectory
    let trainSet: ImageSet, testSet: ImageSet
    do {
        directory = try DataDirectory.resolve(explicit: options.dataDirectory)
        trainSet = try MNIST.load(.train, from: directory).prefix(train)
        testSet = try MNIST.load(.test, from: directory).prefix(test)
    } catch {
        throw LabError("experiment \(experiment) trains on MNIST and cannot load it: \(error)")
    }
    return MNISTSubsets(train: averagePooled(trainSet, by: downsampling), test: averagePooled(testSet, by: downsampling))
}

/// Each image averaged over non-overlapping `factor`×`factor` squares (a trailing partial row or
/// column is dropped).
private func averagePooled(_ set: ImageSet, by factor: Int) -> ImageSet {
    guard factor > 1 else { return set }
    let (height, width) = (set.height / factor, set.width / factor)
    var pixels = [Float](repeating: 0, count: set.count * set.channels * height * width)
    let scale = 1 / Float(factor * factor)
    for plane in 0..<(set.count * set.channels) {
        let source = plane * set.height * set.width, target = plane * height * width
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for dy in 0..<factor {
                    for dx in 0..<factor { sum += set.images[source + (y * factor + dy) * set.width + x * factor + dx] }
                }
                pixels[target + y * width + x] = sum * scale
            }
        }
    }
    return ImageSet(name: set.name + " (\(height)×\(width))", images: pixels, labels: set.labels, channels: set.channels,
                    height: height, width: width, classCount: set.classCount)
}

/// A short SGD schedule: momentum 0.9, no weight decay, cosine decay of the learning rate to 0
/// over all steps.
struct ShortMNISTSchedule {
    var epochs: Int
    var batchSize: Int
    var learningRate: Float
    var momentum: Float = 0.9

    var summary: String {
        "\(epochs) epoch\(epochs == 1 ? "" : "s") of SGD (batch \(batchSize), momentum \(format(momentum, 1)), no weight decay, "
            + "learning rate \(format(learningRate, 3)) with cosine decay to 0 over all steps)"
    }
}

/// What a short training run recorded.
struct ShortTrainingLog {
    /// The training loss of every step.
    var stepLosses: [Double] = []
    /// Wall-clock seconds of every step (forward, backward, optimiser update).
    var stepSeconds: [Double] = []
    /// Wall-clock seconds of each epoch's steps with data loading (prefetched), no evaluation.
    var epochSeconds: [Double] = []

    /// The mean training loss over the last tenth of the steps.
    var finalLoss: Double {
        let tail = stepLosses.suffix(max(1, stepLosses.count / 10))
        return tail.reduce(0, +) / Double(tail.count)
    }

    /// The step losses averaged in `bins` consecutive groups: (step at the group's end, mean).
    func binned(_ bins: Int) -> (steps: [Double], losses: [Double]) {
        let size = max(1, stepLosses.count / max(bins, 1))
        var steps: [Double] = [], losses: [Double] = []
        for start in stride(from: 0, to: stepLosses.count, by: size) {
            let group = stepLosses[start..<min(start + size, stepLosses.count)]
            steps.append(Double(start + group.count))
            losses.append(group.reduce(0, +) / Double(group.count))
        }
        return (steps, losses)
    }
}

/// The shuffled, normalised MNIST batches of a short run (order from `seed`, batches prefetched).
func shortMNISTLoader(_ train: ImageSet, schedule: ShortMNISTSchedule, seed: UInt64) -> DataLoader {
    DataLoader(train, batchSize: schedule.batchSize, shuffle: true, seed: seed, normalization: .mnist, prefetch: true)
}

/// One model's short SGD run, stepped by the caller one batch at a time (so several models can
/// share batches and interleave their steps): cross-entropy, `schedule`, the forward passes'
/// generator (stochastic depth, dropout) from `seed ^ 0xF0_5EED`.
final class ShortMNISTRun {
    let model: Layer
    let optimizer: SGD
    let cosine: CosineSchedule
    var random: SplitMix64
    var log = ShortTrainingLog()

    init(_ model: Layer, schedule: ShortMNISTSchedule, stepsPerEpoch: Int, seed: UInt64) {
        self.model = model
        optimizer = SGD(parameters: model.parameters, learningRate: schedule.learningRate, momentum: schedule.momentum)
        cosine = CosineSchedule(base: schedule.learningRate, totalSteps: max(1, schedule.epochs * stepsPerEpoch))
        random = SplitMix64(seed: seed ^ 0xF0_5EED)
    }

    /// One optimiser step on `batch`; returns its loss and records the loss and the step's time.
    @discardableResult
    func step(_ batch: Batch) -> Float {
        let start = now()
        var context = ForwardContext(mode: .training, random: random)
        let logits = model(Variable(Tensor(shape: batch.shape, scalars: batch.images)), &context)
        random = context.random
        let loss = crossEntropy(logits: logits, labels: batch.labels)
        optimizer.learningRate = cosine.learningRate(at: log.stepLosses.count)
        model.zeroGradients()
        loss.backward()
        optimizer.step()
        log.stepSeconds.append(now() - start)
        log.stepLosses.append(Double(loss.scalar))
        return loss.scalar
    }
}

/// Trains `model` on normalised MNIST images (data order from `seed`) with a `ShortMNISTRun`.
func trainShortMNIST(_ model: Layer, on train: ImageSet, schedule: ShortMNISTSchedule, seed: UInt64) -> ShortTrainingLog {
    let loader = shortMNISTLoader(train, schedule: schedule, seed: seed)
    let run = ShortMNISTRun(model, schedule: schedule, stepsPerEpoch: loader.batchesPerEpoch, seed: seed)
    for _ in 0..<schedule.epochs {
        let start = now()
        for batch in loader { run.step(batch) }
        run.log.epochSeconds.append(now() - start)
    }
    return run.log
}

/// The test error (fraction misclassified) of `model` on `set` in evaluation mode.
func mnistError(_ model: Layer, on set: ImageSet) -> Double {
    1 - Double(Training.evaluate(model, on: set, normalization: .mnist, batchSize: 250).accuracy)
}

/// The first `count` images of `set`, normalised and flattened to [count, pixels].
func normalizedMNISTBatch(_ set: ImageSet, count: Int) -> Tensor {
    let n = Swift.min(count, set.count)
    let pixels = set.images[0..<(n * set.pixelsPerImage)].map { ($0 - Normalization.mnist.mean[0]) / Normalization.mnist.std[0] }
    return Tensor(shape: [n, set.pixelsPerImage], scalars: Array(pixels))
}
