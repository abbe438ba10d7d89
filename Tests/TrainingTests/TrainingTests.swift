#if canImport(Glibc)
import Glibc
#endif
import Datasets
import NN
import SafeTensors
import Tape
import Testing
@testable import Training

/// A small synthetic MNIST-shaped set: class k images are brighter in row band k.
func syntheticSet(count: Int, seed: UInt64) -> ImageSet {
    var random = SplitMix64(seed: seed)
    var images: [Float] = [], labels: [Int] = []
    for index in 0..<count {
        let label = index % 10
        for row in 0..<28 { for _ in 0..<28 {
            images.append(Swift.min(1, random.nextUniform() * 0.3 + (row / 3 == label ? 0.7 : 0)))
        } }
        labels.append(label)
    }
    return ImageSet(name: "synthetic", images: images, labels: labels, channels: 1, height: 28, width: 28, classCount: 10)
}

func configuration() -> TrainingConfiguration {
    var configuration = TrainingConfiguration(model: "highway-mnist-3", dataset: .mnist)
    configuration.epochs = 3
    configuration.batchSize = 8
    configuration.learningRate = 0.05
    configuration.weightDecay = 1e-4
    configuration.schedule = .cosine
    configuration.seed = 5
    return configuration
}

@Suite("Training")
struct TrainingTests {
    @Test func resumeIsBitIdentical() throws {
        let train = syntheticSet(count: 40, seed: 1), test = syntheticSet(count: 20, seed: 2)
        // 5 batches per epoch: 7 + 7 steps cross an epoch boundary on both sides of the resume.
        let straight = try Trainer(configuration(), train: train, test: test)
        for _ in 0..<14 { while try straight.step() == nil {} }
        let first = try Trainer(configuration(), train: train, test: test)
        for _ in 0..<7 { while try first.step() == nil {} }
        let bytes = try first.checkpoint().serializedBytes()
        let resumed = try Trainer.resume(from: SafeTensorsFile(bytes: bytes), train: train, test: test)
        #expect(resumed.epoch == first.epoch && resumed.position == first.position && resumed.globalStep == 7)
        for _ in 0..<7 { while try resumed.step() == nil {} }
        for (a, b) in zip(straight.model.parameters, resumed.model.parameters) {
            #expect(a.value.scalars == b.value.scalars)
        }
        #expect(straight.optimizer.state.keys.sorted() == resumed.optimizer.state.keys.sorted())
        for (key, value) in straight.optimizer.state { #expect(resumed.optimizer.state[key]?.scalars == value.scalars, "\(key)") }
        // A run that is not resumed exactly would differ: one extra step changes the weights.
        _ = try resumed.step()
        #expect(straight.model.parameters[0].value.scalars != resumed.model.parameters[0].value.scalars)
    }

    @Test func trainingLearnsAndEvaluates() throws {
        let trainer = try Trainer(configuration(), train: syntheticSet(count: 80, seed: 3), test: syntheticSet(count: 40, seed: 4))
        let before = trainer.evaluate(trainer.test)
        while !trainer.isFinished { _ = try trainer.step() }
        let after = trainer.evaluate(trainer.test)
        #expect(after.loss < before.loss && after.accuracy > 0.8, "\(before) → \(after)")
    }

    /// Resident memory stays flat over many steps: tapes, saved tensors and batches are freed.
    /// Measured in a child process, where no other test allocates. (The full 10,000-step check
    /// runs with `TAPE_LONG_TESTS=1`.)
    @Test(.enabled(if: RunFiles.exists("/proc/self/statm"), "reads the resident set from /proc/self/statm (Linux)"))
    func memoryStaysFlat() async {
        await #expect(processExitsWith: .success) {
            let steps = ProcessInfoless.environment("TAPE_LONG_TESTS") == "1" ? 10_000 : 600
            var configuration = configuration()
            configuration.epochs = 100_000
            guard let trainer = try? Trainer(configuration, train: syntheticSet(count: 64, seed: 5), test: syntheticSet(count: 8, seed: 6)) else { exit(2) }
            for _ in 0..<100 { _ = try? trainer.step() }
            let start = residentBytes()
            for _ in 0..<steps { _ = try? trainer.step() }
            let growth = residentBytes() - start
            if growth > 4 << 20 {
                print("resident memory grew by \(growth / 1024) KiB over \(steps) steps")
                exit(1)
            }
        }
    }

    @Test func configurationRoundTripsThroughMetadata() throws {
        var original = configuration()
        original.schedule = .multiStep([2, 5])
        original.trainLimit = 100
        #expect(try TrainingConfiguration(metadata: original.metadata) == original)
        original.nesterov = true
        original.warmup = Warmup(learningRate: 0.01, untilErrorBelow: 0.8, window: 30)
        #expect(try TrainingConfiguration(metadata: original.metadata) == original)
        #expect(throws: TrainingError.self) { try ScheduleKind(parsing: "multistep:0") }
        #expect(throws: TrainingError.self) { try ScheduleKind(parsing: "linear") }
        var bad = original
        bad.batchSize = 0
        #expect(throws: TrainingError.self) { try bad.validate() }
    }

    @Test func mismatchedModelAndDataAreRejected() {
        var cifarModel = configuration()
        cifarModel.model = "resnet20"
        #expect(throws: TrainingError.self) { try Trainer(cifarModel, train: syntheticSet(count: 8, seed: 1), test: syntheticSet(count: 8, seed: 1)) }
    }

    @Test func metricsLogIsRewrittenAtomically() throws {
        let path = "/tmp/tape-metrics-\(getpid()).csv"
        defer { unlink(path) }
        var log = MetricsLog(path: path)
        try log.append(epoch: 1, step: 10, train: Evaluation(loss: 1, accuracy: 0.5), test: Evaluation(loss: 2, accuracy: 0.25),
                       learningRate: 0.1, seconds: 1, imagesPerSecond: 100)
        let reread = MetricsLog(path: path)
        #expect(reread.rows.count == 1 && reread.column("test_accuracy") == [0.25])
        #expect(RunFiles.read(path)!.hasPrefix(MetricsLog.header))
    }
}

func residentBytes() -> Int {
    guard let text = RunFiles.read("/proc/self/statm") else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

enum ProcessInfoless {
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

@Test("the progress line's ETA uses the rate since this process started the epoch (after a resume too)")
func progressEstimate() {
    // 100 steps in 100 s since resuming at step 500: 400 steps left take 400 s.
    let resumed = ProgressReporter.summary(epoch: 0, epochs: 6, step: 600, steps: 1000, startStep: 500, loss: 0.25,
                                           accuracy: 0.9, imagesPerSecond: 64, elapsed: 100)
    #expect(resumed == "epoch 1/6 step 600/1000 loss 0.2500 acc 90.00% 64 img/s ETA 6m40s")
    let fresh = ProgressReporter.summary(epoch: 1, epochs: 2, step: 10, steps: 40, loss: 1, accuracy: 0.5,
                                         imagesPerSecond: 128.7, elapsed: 5)
    #expect(fresh.hasSuffix("128 img/s ETA 15s"))
}

@Test("fixed-decimal formatting rounds, signs and survives values beyond Int's range")
func fixedDecimalFormatting() {
    #expect(format(3.14159, 3) == "3.142")
    #expect(format(-0.0004, 3) == "0.000")
    #expect(format(-2.5, 0) == "-3")
    #expect(format(12, 2) == "12.00")
    // A diverged loss: the fixed-point digits would overflow Int, so it is printed as Swift does.
    #expect(format(1e34, 4) == "\(Float(1e34))")
    #expect(format(-Float.greatestFiniteMagnitude, 1) == "\(-Float.greatestFiniteMagnitude)")
    #expect(format(.nan, 2) == "nan")
    #expect(format(.infinity, 2) == "inf")
}

@Test("counts read as English: singular for exactly 1")
func countedNouns() {
    #expect(counted(1, "epoch") == "1 epoch")
    #expect(counted(0, "epoch") == "0 epochs")
    #expect(counted(3, "step") == "3 steps")
    #expect(counted(1, "class", plural: "classes") == "1 class")
    #expect(counted(2, "class", plural: "classes") == "2 classes")
}
