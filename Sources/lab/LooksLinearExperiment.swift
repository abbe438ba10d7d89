#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Experiments
import Datasets
import Models
import NN
import Plot
import Tape
import Training

// Balduzzi et al., "The Shattered Gradients Problem: If resnets are the answer, then what is the
// question?", ICML 2017 (https://arxiv.org/abs/1702.08591), section 5: with CReLU units and the
// Looks-Linear initialisation (mirrored weights [W, −W], W orthogonal, so the net starts as a
// linear map and its gradients do not shatter) very deep nets train without skip connections,
// where plain ReLU nets degrade with depth.

let looksLinearExperiment = Experiment(
    name: "looks-linear",
    claim: "plain CReLU nets with Looks-Linear init train at depths where plain ReLU nets (Kaiming init) degrade, without shortcuts",
    run: runLooksLinear)

private struct LooksLinearSetup {
    let label: String
    let nonlinearity: Nonlinearity
    let width: Int
    let initializer: Initializer
    let initDescription: String
}

/// Widths chosen so every hidden layer has about as many weights: CReLU layers map 2w → w.
private let looksLinearSetups = [
    LooksLinearSetup(label: "CReLU + Looks-Linear", nonlinearity: .crelu, width: 64, initializer: .looksLinear(),
                     initDescription: "[W, −W] with W orthogonal 64×64 (the first layer semi-orthogonal, 64 × inputs; the head [V, −V] with V semi-orthogonal 10×64)"),
    LooksLinearSetup(label: "CReLU + Kaiming", nonlinearity: .crelu, width: 64, initializer: .kaimingNormal(gain: 1),
                     initDescription: "N(0, 1/fan-in) (variance-preserving for CReLU, whose output keeps the input's norm; the head PyTorch's default)"),
    LooksLinearSetup(label: "ReLU + Kaiming", nonlinearity: .relu, width: 90, initializer: .kaimingNormal(),
                     initDescription: "N(0, 2/fan-in) (He et al.; the head PyTorch's default)"),
]

private struct LooksLinearRun {
    var setup: String, depth: Int, learningRate: Float, seed: UInt64
    var trainLoss: Double, testAccuracy: Double
    var curve: (steps: [Double], losses: [Double])
}

private func runLooksLinear(_ options: ExperimentOptions) throws {
    let quick = options.quick
    let depths = quick ? [2, 6] : [5, 10, 20, 30, 50]
    let data = try loadMNISTSubsets(options, experiment: "looks-linear", train: quick ? 256 : 8_000, test: quick ? 128 : 2_000,
                                    downsampling: quick ? 2 : 1)
    let learningRates: [Float] = quick ? [0.01] : [0.003, 0.01, 0.03]
    let schedule = ShortMNISTSchedule(epochs: quick ? 1 : 4, batchSize: quick ? 32 : 100, learningRate: learningRates[0])
    let inputs = data.train.pixelsPerImage
    var writer = try ExperimentWriter(name: "looks-linear", directory: options.outputDirectory,
                                      csvHeader: "setup,depth,learning_rate,seed,final_train_loss,test_accuracy,first_step_loss")
    var runs: [LooksLinearRun] = []
    for setup in looksLinearSetups {
        for depth in depths {
            for learningRate in learningRates {
                for seed in options.seeds {
                    // `depth` hidden layers: DeepNetwork's input unit and depth − 1 more, then a linear head.
                    let network = DeepNetwork(DeepNetworkConfiguration(inputs: inputs, outputs: 10, depth: depth - 1, width: setup.width,
                                                                       nonlinearity: setup.nonlinearity, weightInitializer: setup.initializer,
                                                                       biasStandardDeviation: 0),
                                              seed: seed)
                    network.output.bias!.value = Tensor.zeros([10])
                    let model = Sequential(Flatten(), network)
                    var runSchedule = schedule
                    runSchedule.learningRate = learningRate
                    let log = trainShortMNIST(model, on: data.train, schedule: runSchedule, seed: seed)
                    let train = Training.evaluate(model, on: data.train, normalization: .mnist, batchSize: 500)
                    let test = Training.evaluate(model, on: data.test, normalization: .mnist, batchSize: 500)
                    let run = LooksLinearRun(setup: setup.label, depth: depth, learningRate: learningRate, seed: seed,
                                             trainLoss: Double(train.loss), testAccuracy: Double(test.accuracy), curve: log.binned(quick ? 4 : 40))
                    runs.append(run)
                    writer.row([setup.label, depth, learningRate, seed, run.trainLoss, run.testAccuracy, log.stepLosses.first ?? .nan])
                    printLine("looks-linear: \(setup.label), \(depth) layers, lr \(learningRate), seed \(seed): training loss "
                              + "\(lossText(run.trainLoss)), test accuracy \(formatted(100 * run.testAccuracy, 2))%")
                }
            }
        }
    }
    // Per setup and depth, the learning rate with the fewest diverged seeds, then the lowest mean final training loss.
    func group(_ setup: String, _ depth: Int) -> [LooksLinearRun] {
        let candidates = learningRates.map { rate in runs.filter { $0.setup == setup && $0.depth == depth && $0.learningRate == rate } }
        return candidates.min { SeedLossSummary($0.map(\.trainLoss)).isBetter(than: SeedLossSummary($1.map(\.trainLoss))) }!
    }
    func lossSummary(_ setup: String, _ depth: Int) -> SeedLossSummary { SeedLossSummary(group(setup, depth).map(\.trainLoss)) }
    func accuracySummary(_ setup: String, _ depth: Int) -> (mean: Double, spread: Double) {
        let finite = group(setup, depth).filter { !isDivergedLoss($0.trainLoss) }.map(\.testAccuracy)
        return finite.isEmpty ? (.nan, .nan) : meanAndSpread(finite)
    }

    let size = (width: 400.0, height: 330.0)
    var figure = Figure(rows: 1, columns: 3, title: "Plain nets on \(data.train.count) MNIST images, \(schedule.epochs) epoch\(schedule.epochs == 1 ? "" : "s") of SGD "
                            + "(best learning rate per net and depth; mean ± std over seeds)",
                        panelWidth: size.width, panelHeight: size.height)
    figure[0, 0] = Chart(title: "final training loss", xLabel: "hidden layers", yLabel: "training cross-entropy", yScale: .log10,
                         width: size.width, height: size.height)
    figure[0, 1] = Chart(title: "test accuracy (\(data.test.count) images)", xLabel: "hidden layers", yLabel: "accuracy",
                         yRange: 0...1, width: size.width, height: size.height)
    figure[0, 2] = Chart(title: "training loss, \(depths.last!) hidden layers", xLabel: "step", yLabel: "training cross-entropy",
                         yScale: .log10, width: size.width, height: size.height)
    let colors: [Color] = [.blue, .bluishGreen, .vermillion]
    for (index, setup) in looksLinearSetups.enumerated() {
        let losses = depths.map { lossSummary(setup.label, $0) }
        let accuracies = depths.map { accuracySummary(setup.label, $0) }
        figure[0, 0].line(x: depths.map(Double.init), y: losses.map(\.mean), spread: losses.map(\.spread), name: setup.label, color: colors[index])
        figure[0, 1].line(x: depths.map(Double.init), y: accuracies.map(\.mean), spread: accuracies.map(\.spread), name: setup.label,
                          color: colors[index])
        let deepest = group(setup.label, depths.last!)
        let steps = deepest[0].curve.steps
        let curve = steps.indices.map { i in SeedLossSummary(deepest.map { $0.curve.losses[i] }) }
        figure[0, 2].line(x: steps, y: curve.map(\.mean), spread: curve.map(\.spread), name: setup.label, color: colors[index])
    }
    figure[0, 1].legend = .hidden
    figure[0, 2].legend = .hidden
    let plotFile = try writer.write(figure, suffix: "depth")

    writer.text("# Looks-Linear initialisation")
    writer.text()
    writer.text("**Claim** (Balduzzi et al. 2017): \(looksLinearExperiment.claim).")
    writer.text()
    writer.text("**Setup.** The first \(data.train.count) MNIST training images and the first \(data.test.count) test images "
                + "(\(data.train.height)×\(data.train.width), flattened to \(inputs) inputs, normalised with the MNIST mean and std). Plain "
                + "fully connected nets, no shortcuts, no BatchNorm: \(depths.map(String.init).joined(separator: ", ")) hidden layers "
                + "u(x) = act(W·x + b), then a linear head to 10 logits. CReLU(z) = [ReLU(z), ReLU(−z)] doubles the width: CReLU "
                + "layers have 64 units (128 outputs, 64·128 weights), ReLU layers 90 units (8,100 weights), so every hidden layer "
                + "has about as many weights. Weights: " + looksLinearSetups.map { "\($0.label) — \($0.initDescription)" }.joined(separator: "; ")
                + ". All biases zero (the head's too), so the Looks-Linear net is exactly linear at initialisation. Training: "
                + "cross-entropy, \(schedule.epochs) epoch\(schedule.epochs == 1 ? "" : "s") of SGD (batch \(schedule.batchSize), momentum "
                + "\(format(schedule.momentum, 1)), no weight decay, learning rate cosine-decayed to 0 over all steps), data order per "
                + "seed; for each net and depth the table shows the learning rate of \(learningRates.map { format($0, 3) }.joined(separator: ", ")) "
                + "with the fewest diverged seeds, then the lowest mean final training loss (a run whose final loss is NaN, infinite or above "
                + "100 counts as diverged and is left out of the means). Final training loss over the whole "
                + "training subset and test accuracy, both in evaluation mode after training. Seeds \(options.seeds.map(String.init).joined(separator: ", ")) "
                + "(init and data order; mean ± sample std).")
    writer.text()
    writer.text("| hidden layers | " + looksLinearSetups.map { "\($0.label): training loss / test accuracy" }.joined(separator: " | ") + " |")
    writer.text("|---|" + looksLinearSetups.map { _ in "---" }.joined(separator: "|") + "|")
    for depth in depths {
        let cells = looksLinearSetups.map { setup -> String in
            let accuracy = accuracySummary(setup.label, depth)
            return "\(lossSummary(setup.label, depth).text()) / "
                + (accuracy.mean.isFinite ? "\(formatted(100 * accuracy.mean, 2))% ± \(formatted(100 * accuracy.spread, 2))" : "—")
                + " (lr \(format(group(setup.label, depth)[0].learningRate, 3)))"
        }
        writer.text("| \(depth) | " + cells.joined(separator: " | ") + " |")
    }
    writer.text()
    writer.text("![depth](\(plotFile))")
    writer.text()
    // A net whose every seed diverged counts as chance level, ln 10.
    func loss(_ setup: String, _ depth: Int) -> Double {
        let summary = lossSummary(setup, depth)
        return summary.diverged == summary.count ? log(10) : summary.mean
    }
    func accuracy(_ setup: String, _ depth: Int) -> Double { accuracySummary(setup, depth).mean }
    let (shallow, deep) = (depths.first!, depths.last!)
    let ll = looksLinearSetups[0].label, crelu = looksLinearSetups[1].label, relu = looksLinearSetups[2].label
    let llHolds = loss(ll, deep) < 2 * loss(ll, shallow) + 0.05
    let reluDegrades = loss(relu, deep) > 2 * loss(relu, shallow) + 0.05
    let llBeatsRelu = loss(ll, deep) < loss(relu, deep)
    writer.text("**Verdict.** From \(shallow) to \(deep) hidden layers the Looks-Linear CReLU nets' training loss goes "
                + "\(formatted(loss(ll, shallow), 4)) → \(formatted(loss(ll, deep), 4)) (test accuracy \(formatted(100 * accuracy(ll, shallow), 2))% → "
                + "\(formatted(100 * accuracy(ll, deep), 2))%): \(llHolds ? "they stay trainable without shortcuts, as claimed" : "they degrade with depth too — disagrees with the claim"). "
                + "The ReLU nets with Kaiming init go \(formatted(loss(relu, shallow), 4)) → \(formatted(loss(relu, deep), 4)) "
                + "(\(formatted(100 * accuracy(relu, shallow), 2))% → \(formatted(100 * accuracy(relu, deep), 2))%): "
                + "\(reluDegrades ? "they degrade with depth, as claimed" : "they do not degrade much in this budget — the contrast the claim rests on is weaker here"); "
                + "at \(deep) layers Looks-Linear \(llBeatsRelu ? "trains to a lower loss than" : "does not beat") ReLU. The CReLU control with a "
                + "random (non-mirrored) init goes \(formatted(loss(crelu, shallow), 4)) → \(formatted(loss(crelu, deep), 4))"
                + (loss(crelu, deep) > 2 * loss(crelu, shallow) + 0.05 && llHolds
                    ? ": it is the mirrored initialisation, not the CReLU nonlinearity, that keeps the plain net trainable."
                    : "."))
    try writer.finish()
}
