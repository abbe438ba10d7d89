import Datasets
import NN
import SafeTensors
import Tape
import Testing
@testable import Training

/// A small MLP on 28×28 one-channel images, its weights drawn from `seed`.
func tinyMLP(seed: UInt64) -> Sequential {
    var random = SplitMix64(seed: seed)
    return Sequential([Flatten(), Linear(784, 16, using: &random), ReLU(), Linear(16, 10, using: &random)])
}

/// Classifies every image as class 1 (wrong: every label is 0) for its first `wrongCalls`
/// training forward passes and as class 0 (right) afterwards, whatever it learns: the training
/// error of each step is known by construction. A bias parameter gives SGD something to update.
final class ScriptedClassifier: Layer {
    let bias = Parameter(Tensor.zeros([2]))
    let wrongCalls: Int
    var calls = 0

    init(wrongCalls: Int) { self.wrongCalls = wrongCalls }

    override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        calls += 1
        let favoured = calls <= wrongCalls ? 1 : 0
        let n = input.shape[0]
        let logits = Tensor(shape: [n, 2], scalars: (0..<(2 * n)).map { $0 % 2 == favoured ? 10 : 0 })
        return Variable(logits) + bias.variable
    }

    override var ownParameters: [(String, Parameter)] { [("bias", bias)] }
}

/// `count` 1×2×2 images, all of class 0 (of 2).
func constantClassSet(count: Int) -> ImageSet {
    ImageSet(name: "class-0", images: [Float](repeating: 0.5, count: count * 4), labels: [Int](repeating: 0, count: count),
             channels: 1, height: 2, width: 2, classCount: 2)
}

@Suite("General trainer")
struct GeneralTrainerTests {
    func mlpOptions() -> TrainingOptions {
        TrainingOptions(epochs: 3, batchSize: 8, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4, schedule: .cosine, seed: 7,
                        normalization: .mnist)
    }

    @Test func aSequentialModelTrainsAndItsLossFalls() throws {
        let trainer = try Trainer(model: tinyMLP(seed: 1), train: syntheticSet(count: 80, seed: 3), test: syntheticSet(count: 40, seed: 4),
                                  options: mlpOptions())
        let before = trainer.evaluate(trainer.test)
        var epochLosses: [Float] = []
        var stepSeconds = 0.0
        while !trainer.isFinished {
            let figures = try trainer.trainEpoch { stepSeconds += $0.seconds }
            #expect(figures.images == 80 && figures.steps == 10)
            epochLosses.append(figures.evaluation.loss)
        }
        let after = trainer.evaluate(trainer.test)
        #expect(epochLosses[2] < epochLosses[0] && after.loss < before.loss && after.accuracy > 0.8, "\(epochLosses), \(before) → \(after)")
        #expect(stepSeconds > 0 && trainer.epochFigures.stepSeconds > 0 && trainer.epochFigures.stepSeconds <= stepSeconds)
    }

    @Test func aGeneralRunResumesBitIdenticallyWithTheModelSuppliedAgain() throws {
        let train = syntheticSet(count: 40, seed: 1), test = syntheticSet(count: 16, seed: 2)
        let straight = try Trainer(model: tinyMLP(seed: 3), train: train, test: test, options: mlpOptions())
        for _ in 0..<13 { while try straight.step() == nil {} }
        let first = try Trainer(model: tinyMLP(seed: 3), train: train, test: test, options: mlpOptions())
        for _ in 0..<6 { while try first.step() == nil {} }
        let bytes = try first.checkpoint().serializedBytes()
        // A differently initialised model of the same shape: the checkpoint's weights replace its own.
        let resumed = try Trainer.resume(from: SafeTensorsFile(bytes: bytes), model: tinyMLP(seed: 99), train: train, test: test)
        #expect(resumed.options == mlpOptions() && resumed.configuration == nil && resumed.globalStep == 6)
        #expect(resumed.epochFigures == first.epochFigures)
        for _ in 0..<7 { while try resumed.step() == nil {} }
        for (a, b) in zip(straight.model.parameters, resumed.model.parameters) { #expect(a.value.scalars == b.value.scalars) }
        #expect(straight.epochFigures.lossSum == resumed.epochFigures.lossSum && straight.epochFigures.correct == resumed.epochFigures.correct)
        // Other data or another architecture are refused with a message naming the problem.
        #expect(throws: TrainingError("the checkpoint was trained with 40 training images but synthetic has 32")) {
            try Trainer.resume(from: SafeTensorsFile(bytes: bytes), model: tinyMLP(seed: 3), train: syntheticSet(count: 32, seed: 1), test: test)
        }
        var random = SplitMix64(seed: 0)
        #expect(throws: (any Error).self) {
            try Trainer.resume(from: SafeTensorsFile(bytes: bytes), model: Sequential([Flatten(), Linear(784, 10, using: &random)]),
                               train: train, test: test)
        }
    }

    /// 9 wrong steps of 2 images, then right ones: with a window of 4 steps and threshold 0.5, the
    /// running error first falls below 50% after step 12 (steps 9–12: one wrong of four; steps
    /// 8–11 are exactly 50%), so steps 1–12 use the warm-up rate and step 13 on the base rate.
    @Test func warmupHoldsTheLowRateUntilTheRunningErrorIsBelowTheThreshold() throws {
        let options = TrainingOptions(epochs: 5, batchSize: 2, learningRate: 0.01, momentum: 0,
                                      warmup: Warmup(learningRate: 0.001, untilErrorBelow: 0.5, window: 4))
        let trainer = try Trainer(model: ScriptedClassifier(wrongCalls: 9), train: constantClassSet(count: 8), test: constantClassSet(count: 2),
                                  options: options)
        var rates: [Float] = [], errors: [Float] = []
        while !trainer.isFinished {
            try trainer.trainEpoch { rates.append($0.learningRate); errors.append(1 - $0.accuracy) }
        }
        #expect(errors == [Float](repeating: 1, count: 9) + [Float](repeating: 0, count: 11))
        #expect(rates == [Float](repeating: 0.001, count: 12) + [Float](repeating: 0.01, count: 8))
        #expect(!trainer.isWarmingUp)

        // The switch state and the window survive a checkpoint: stopped after step 10 (window: steps
        // 7–10, all wrong), resumed, the switch still comes after step 12, not 4 steps after the resume.
        let first = try Trainer(model: ScriptedClassifier(wrongCalls: 9), train: constantClassSet(count: 8), test: constantClassSet(count: 2),
                                options: options)
        for _ in 0..<10 { while try first.step() == nil {} }
        #expect(first.isWarmingUp)
        let script = ScriptedClassifier(wrongCalls: 9)
        script.calls = 10
        let resumed = try Trainer.resume(from: first.checkpoint(), model: script, train: constantClassSet(count: 8), test: constantClassSet(count: 2))
        var resumedRates: [Float] = []
        while resumedRates.count < 3 {
            if let result = try resumed.step() { resumedRates.append(result.learningRate) }
        }
        #expect(resumedRates == [0.001, 0.001, 0.01])
    }

    @Test func aDivergedStepNamesItsEpochAndStepAndIsNotApplied() throws {
        var options = mlpOptions()
        options.learningRate = 1e30
        options.schedule = .constant
        let trainer = try Trainer(model: tinyMLP(seed: 1), train: syntheticSet(count: 40, seed: 3), test: syntheticSet(count: 8, seed: 4),
                                  options: options)
        var goodSteps = 0, lastGood: SafeTensorsFile?, before: [[Float]] = []
        do {
            while !trainer.isFinished {
                lastGood = try trainer.checkpoint()
                before = trainer.model.parameters.map(\.value.scalars)
                if try trainer.step() != nil { goodSteps += 1 }
            }
            Issue.record("a learning rate of 1e30 did not diverge")
        } catch let error as TrainingError {
            guard case .diverged(let epoch, let step, let loss) = error else { throw error }
            #expect(goodSteps < 5 && epoch == 1 && step == goodSteps + 1, "\(error) after \(goodSteps) good steps")
            #expect("\(error)".hasPrefix("training diverged at epoch 1, step \(goodSteps + 1): "))
            // After one step at 10³⁰ the weights are ~10²⁸–10³⁰, so the next logits overflow: the loss
            // is not finite, and the step stops before its update (the weights are those before it).
            #expect(!loss.isFinite && goodSteps == 1)
            #expect(trainer.model.parameters.map(\.value.scalars) == before)
            #expect(lastGood?.metadata["global_step"] == "\(goodSteps)")
        }
        // The trainer refuses to go on or to write the diverged state.
        #expect(throws: TrainingError.self) { try trainer.step() }
        #expect(throws: TrainingError.self) { try trainer.checkpoint() }
    }

    @Test func optionsRoundTripThroughMetadataAndAreValidated() throws {
        var options = mlpOptions()
        options.nesterov = true
        options.warmup = Warmup(learningRate: 0.01, untilErrorBelow: 0.8, window: 20)
        options.augmentation = .padCropFlip
        options.schedule = .multiStep([2, 3])
        #expect(try TrainingOptions(metadata: options.metadata) == options)
        options.normalization = nil
        #expect(try TrainingOptions(metadata: options.metadata) == options)
        #expect(try Warmup(parsing: "0.01:0.8") == Warmup(learningRate: 0.01, untilErrorBelow: 0.8, window: 50))
        #expect(throws: TrainingError.self) { try Warmup(parsing: "0.01") }
        #expect(throws: TrainingError.self) { try Warmup(parsing: "0.01:1.5") }
        var bad = mlpOptions()
        bad.momentum = 0
        bad.nesterov = true
        #expect(throws: TrainingError("Nesterov momentum needs a positive momentum")) { try bad.validate() }
        // A model whose output does not fit the classes is an error naming the shapes, not a crash.
        var random = SplitMix64(seed: 0)
        let narrow = try Trainer(model: Sequential([Flatten(), Linear(784, 3, using: &random)]), train: syntheticSet(count: 8, seed: 1),
                                 test: syntheticSet(count: 8, seed: 1), options: mlpOptions())
        #expect(throws: TrainingError("the model's output has shape [8, 3] for a batch of 8 images; synthetic needs [8, 10] logits (or more classes)")) {
            try narrow.step()
        }
    }

    /// The README's example, with its prints collected instead.
    @Test func theReadmeExampleRuns() throws {
        let myModel = tinyMLP(seed: 1), freshModel = tinyMLP(seed: 2)
        let trainSet = syntheticSet(count: 32, seed: 1), testSet = syntheticSet(count: 16, seed: 2)
        var lines: [String] = []
        let options = TrainingOptions(epochs: 3, batchSize: 64, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4,
                                      schedule: .multiStep([2]), warmup: Warmup(learningRate: 0.01, untilErrorBelow: 0.8),
                                      seed: 0, normalization: .mnist)
        let trainer = try Trainer(model: myModel, train: trainSet, test: testSet, options: options)
        do {
            while !trainer.isFinished {
                let epoch = try trainer.trainEpoch { step in lines.append("\(step.loss) \(step.accuracy) \(step.seconds) \(step.learningRate)") }
                lines.append("\(epoch.evaluation) \(epoch.stepSeconds) \(trainer.evaluate(trainer.test))")
            }
        } catch TrainingError.diverged(let epoch, let step, let loss) {
            lines.append("diverged at epoch \(epoch), step \(step) (loss \(loss))")
        }
        let resumed = try Trainer.resume(from: trainer.checkpoint(), model: freshModel, train: trainSet, test: testSet)
        #expect(lines.count == 6 && resumed.isFinished && resumed.isWarmingUp, "\(lines)")
    }
}
