import Experiments
import Instruments
import Models
import NN
import Plot
import Tape
import Training

// Huang, Sun, Liu, Sedra & Weinberger, "Deep Networks with Stochastic Depth", ECCV 2016
// (https://arxiv.org/abs/1603.09382): during training each residual block's branch survives a
// mini-batch with probability pₗ = 1 − (l/L)(1 − p_L) (linear decay, p_L = 0.5, eq. (4)) and is
// otherwise skipped (y = relu(x)); at test time every branch runs, scaled by pₗ (eq. (5)). The
// expected depth is Σ pₗ ≈ 3L/4, so an epoch takes about 25% less time (section 4: "training time
// ... reduced by around 25%"), and the test error is lower than with constant depth.

let stochasticDepthExperiment = Experiment(
    name: "stochastic-depth",
    claim: "stochastic depth (linear decay to p_L = 0.5) cuts training time per epoch by about 25% (expected depth ≈ 3L/4) and lowers the test error vs constant depth",
    run: runStochasticDepth)

private struct StochasticDepthSetup {
    let channels: Int, blocks: Int, downsampling: Int
    let trainImages: Int, testImages: Int
    let schedule: ShortMNISTSchedule
    let finalSurvival: Float = 0.5

    init(quick: Bool) {
        if quick {
            (channels, blocks, downsampling, trainImages, testImages) = (4, 6, 2, 640, 128)
            schedule = ShortMNISTSchedule(epochs: 1, batchSize: 16, learningRate: 0.01)
        } else {
            (channels, blocks, downsampling, trainImages, testImages) = (16, 25, 1, 6000, 2000)
            schedule = ShortMNISTSchedule(epochs: 4, batchSize: 16, learningRate: 0.01)
        }
    }
}

/// One training run's measurements.
private struct DepthRun {
    var log: ShortTrainingLog
    /// The mean number of branches computed per training step.
    var blocksPerStep: Double
    var testError: Double, testLoss: Double
    /// The summed step times (forward, backward and update) of an epoch, averaged over epochs.
    var secondsPerEpoch: Double { log.epochSeconds.reduce(0, +) / Double(max(1, log.epochSeconds.count)) }
    /// Seconds of training after each step.
    var stepTimes: [Double] {
        var total = 0.0
        return log.stepSeconds.map { total += $0; return total }
    }
}

private func runStochasticDepth(_ options: ExperimentOptions) throws {
    let setup = StochasticDepthSetup(quick: options.quick)
    let data = try loadMNISTSubsets(options, experiment: "stochastic-depth", train: setup.trainImages, test: setup.testImages,
                                    downsampling: setup.downsampling)
    var writer = try ExperimentWriter(name: "stochastic-depth", directory: options.outputDirectory,
                                      csvHeader: "variant,seed,expected_depth,blocks_per_step,seconds_per_epoch,images_per_second,"
                                        + "final_train_loss,test_error,test_loss")
    let variants = [("constant depth", false), ("stochastic depth", true)]
    var runs: [String: [DepthRun]] = [:]
    var expectedDepths: [String: Double] = [:]
    for seed in options.seeds {
        // Both variants from the same init, on the same batches, their steps interleaved (the one going first alternating),
        // so the shared machine's changing load affects both alike.
        let networks = variants.map { _, stochastic in
            let network = MNISTResNet(channels: setup.channels, blocks: setup.blocks, imageSize: data.train.height, seed: seed)
            if stochastic { network.enableStochasticDepth(finalSurvival: setup.finalSurvival, linearDecay: true, scaling: .testTime) }
            return network
        }
        let loader = shortMNISTLoader(data.train, schedule: setup.schedule, seed: seed)
        let trainers = networks.map { ShortMNISTRun($0, schedule: setup.schedule, stepsPerEpoch: loader.batchesPerEpoch, seed: seed) }
        var branchesRun = [0, 0]
        for _ in 0..<setup.schedule.epochs {
            let firstStep = trainers[0].log.stepSeconds.count
            for (index, batch) in loader.enumerated() {
                for v in index % 2 == 0 ? [0, 1] : [1, 0] {
                    trainers[v].step(batch)
                    branchesRun[v] += networks[v].residualBlocks.filter(\.lastForwardUsedBranch).count
                }
            }
            for trainer in trainers { trainer.log.epochSeconds.append(trainer.log.stepSeconds[firstStep...].reduce(0, +)) }
        }
        for (v, (label, _)) in variants.enumerated() {
            let network = networks[v], log = trainers[v].log
            expectedDepths[label] = Double(network.expectedDepth)
            let evaluation = Training.evaluate(network, on: data.test, normalization: .mnist, batchSize: 250)
            let run = DepthRun(log: log, blocksPerStep: Double(branchesRun[v]) / Double(max(1, log.stepLosses.count)),
                               testError: 1 - Double(evaluation.accuracy), testLoss: Double(evaluation.loss))
            runs[label, default: []].append(run)
            writer.row([label, seed, Double(network.expectedDepth), run.blocksPerStep, run.secondsPerEpoch,
                        Double(data.train.count) / run.secondsPerEpoch, log.finalLoss, run.testError, run.testLoss])
            printLine("stochastic-depth: seed \(seed) \(label): \(formatted(run.secondsPerEpoch, 1)) s/epoch, "
                      + "\(formatted(run.blocksPerStep, 2)) blocks/step, test error \(formatted(100 * run.testError, 2))%, "
                      + "\(duration(writer.clock.elapsed)) so far")
        }
    }
    let runtime = writer.clock.runtimeSentence()

    var figure = Figure(rows: 1, columns: 2, title: "Seed ResNet (\(setup.blocks) blocks) on \(data.train.count) MNIST images, "
                        + "constant vs stochastic depth", panelWidth: 480, panelHeight: 340)
    figure[0, 0].title = "training loss by step"
    figure[0, 0].xAxis.label = "step"
    figure[0, 0].yAxis.label = "training loss (cross-entropy)"
    figure[0, 0].yAxis.scale = .log10
    figure[0, 1].title = "training loss by wall-clock time"
    figure[0, 1].xAxis.label = "training time (s)"
    figure[0, 1].yAxis.label = "training loss (cross-entropy)"
    figure[0, 1].yAxis.scale = .log10
    let bins = options.quick ? 5 : 20
    let colors: [String: Color] = ["constant depth": .blue, "stochastic depth": .vermillion]
    for (label, stochastic) in variants {
        let seedRuns = runs[label]!
        let curves = seedRuns.map { $0.log.binned(bins) }
        let steps = curves[0].steps
        let losses = steps.indices.map { i in meanAndSpread(curves.map { $0.losses[i] }) }
        let times = steps.map { step in meanAndSpread(seedRuns.map { $0.stepTimes[Int(step) - 1] }).mean }
        let style: LineStyle = stochastic ? .dashed : .solid
        figure[0, 0].line(x: steps, y: losses.map(\.mean), spread: losses.map(\.spread), name: label, color: colors[label], style: style)
        figure[0, 1].line(x: times, y: losses.map(\.mean), spread: losses.map(\.spread), name: label, color: colors[label], style: style)
    }
    let plotFile = try writer.write(figure, suffix: "training")

    struct Summary { let seconds, imagesPerSecond, blocks, loss, error: (mean: Double, spread: Double) }
    var summaries: [String: Summary] = [:]
    for (label, _) in variants {
        let seedRuns = runs[label]!
        summaries[label] = Summary(seconds: meanAndSpread(seedRuns.map(\.secondsPerEpoch)),
                                   imagesPerSecond: meanAndSpread(seedRuns.map { Double(data.train.count) / $0.secondsPerEpoch }),
                                   blocks: meanAndSpread(seedRuns.map(\.blocksPerStep)),
                                   loss: meanAndSpread(seedRuns.map(\.log.finalLoss)),
                                   error: meanAndSpread(seedRuns.map { 100 * $0.testError }))
    }
    let constant = summaries["constant depth"]!, stochastic = summaries["stochastic depth"]!
    let timeSaving = 1 - stochastic.seconds.mean / constant.seconds.mean
    let pairedSavings = meanAndSpread(zip(runs["stochastic depth"]!, runs["constant depth"]!).map { 1 - $0.secondsPerEpoch / $1.secondsPerEpoch })
    let depthSaving = 1 - expectedDepths["stochastic depth"]! / Double(setup.blocks)
    let errorDifferences = meanAndSpread(zip(runs["stochastic depth"]!, runs["constant depth"]!).map { 100 * ($0.testError - $1.testError) })
    let faster = timeSaving >= 0.15
    let moreAccurate = errorDifferences.mean < 0

    writer.text("# Stochastic depth")
    writer.text()
    writer.text("**Claim** (Huang et al. 2016): \(stochasticDepthExperiment.claim).")
    writer.text()
    writer.text("**Setup.** The seed MNIST ResNet (\(setup.blocks) blocks y = relu(x + bn2(conv2(relu(bn1(conv1 x))))) of "
                + "\(setup.channels) channels, 1×1 conv0, global average pool, fc; PyTorch default inits: Kaiming-uniform a = √5 "
                + "weights and uniform ±1/√fan-in biases for every conv and the fc, BatchNorm γ = 1, β = 0), trained from the same "
                + "seed twice: with constant depth, and with stochastic depth, linear decay pₗ = 1 − (l/L)(1 − \(format(setup.finalSurvival, 1))) "
                + "(expected depth Σpₗ = \(formatted(expectedDepths["stochastic depth"]!, 2)) of \(setup.blocks) blocks), one Bernoulli "
                + "draw per block and mini-batch, a dropped block computing y = relu(x) and recording no ops; test-time scaling "
                + "of each branch by pₗ (the paper's eq. (5)). Both on the first \(data.train.count) MNIST training images "
                + "(\(data.train.height)×\(data.train.width)\(setup.downsampling > 1 ? ", 2×2-averaged for speed" : ""), normalised, no "
                + "augmentation) for \(setup.schedule.summary); BatchNorm in training mode during training (gradients through the "
                + "batch statistics), evaluation mode (running statistics) on the first \(data.test.count) test images. Both variants "
                + "train side by side on the same batches, their steps interleaved (which goes first alternates), so the load of "
                + "the 2 cores, shared with other jobs, affects both alike; time per epoch is the sum of one variant's step times "
                + "(forward, backward, SGD update; batches prefetched, no evaluation). Seeds "
                + "\(options.seeds.map(String.init).joined(separator: ", ")) (model init, data order and the drops; mean ± sample std). "
                + runtime)
    writer.text()
    writer.text("| variant | expected depth (blocks) | blocks run per step (measured) | seconds per epoch | images/s | "
                + "final training loss | test error |")
    writer.text("|---|---|---|---|---|---|---|")
    for (label, _) in variants {
        let s = summaries[label]!
        writer.text("| \(label) | \(formatted(expectedDepths[label]!, 2)) | \(formatted(s.blocks.mean, 2)) ± \(formatted(s.blocks.spread, 2)) | "
                    + "\(formatted(s.seconds.mean, 1)) ± \(formatted(s.seconds.spread, 1)) | \(formatted(s.imagesPerSecond.mean, 1)) | "
                    + "\(formatted(s.loss.mean)) ± \(formatted(s.loss.spread)) | \(formatted(s.error.mean, 2)) ± \(formatted(s.error.spread, 2))% |")
    }
    writer.text()
    writer.text("Time saved per epoch: \(formatted(100 * timeSaving, 1))% (paired per seed: \(formatted(100 * pairedSavings.mean, 1)) ± "
                + "\(formatted(100 * pairedSavings.spread, 1))%), against \(formatted(100 * depthSaving, 1))% fewer blocks in expectation. "
                + "Test error, stochastic minus constant, paired per seed: \(formatted(errorDifferences.mean, 2)) ± "
                + "\(formatted(errorDifferences.spread, 2)) points.")
    writer.text()
    writer.text("![training](\(plotFile))")
    writer.text()
    writer.text("**Verdict.** Time per epoch: \(faster ? "stochastic depth saves \(formatted(100 * timeSaving, 0))%, in line with the claimed ~25%" : "only \(formatted(100 * timeSaving, 0))% saved (disagrees with the claimed ~25%)") "
                + "(the expected depth predicts \(formatted(100 * depthSaving, 0))% for the blocks alone). Test error: "
                + (moreAccurate
                    ? "lower with stochastic depth by \(formatted(-errorDifferences.mean, 2)) points, as claimed"
                    : errorDifferences.mean == 0 ? "the same with and without stochastic depth — not lower as claimed"
                    : "higher with stochastic depth by \(formatted(errorDifferences.mean, 2)) points — disagrees with the claim")
                + "\(abs(errorDifferences.mean) < 2 * errorDifferences.spread ? " (within twice the spread over seeds)" : "")."
                + (moreAccurate ? "" : " The paper's gain comes from hundreds of epochs on CIFAR, where stochastic depth "
                    + "regularises; this short schedule mostly measures how fast each variant fits."))
    try writer.finish()
}
