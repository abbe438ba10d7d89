#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Experiments
import Datasets
import Instruments
import Models
import NN
import Plot
import Tape
import Training

// Srivastava, Greff & Schmidhuber, "Training Very Deep Networks", NIPS 2015
// (https://arxiv.org/abs/1507.06228), section 3.1 and figures 1–2: on MNIST, thin plain nets
// (71 units per layer) train worse and worse as depth grows from 10 to 100 layers, while highway
// nets of the same size (50 units per layer) train as well at 100 layers as at 10; most transform
// gates stay nearly closed (the layers mostly carry their input).

let highwayExperiment = Experiment(
    name: "highway",
    claim: "plain nets stop training as depth grows to 100 layers; highway nets of equal size train as well at every depth",
    run: runHighway)

/// A net family: plain, or highway with an initial gate bias.
private struct HighwayVariant {
    let label: String
    let highway: Bool
    let gateBias: Float
    /// Searched over the whole learning-rate grid, or run at its smallest rate only.
    let searched: Bool
}

/// The paper searched the gate bias in [−1, −10] per net; −6 trains at every depth here, −2 (the
/// module's default) is shown for contrast, at the smallest learning rate only.
private let highwayVariants = [
    HighwayVariant(label: "plain", highway: false, gateBias: 0, searched: true),
    HighwayVariant(label: "highway b_T=-6", highway: true, gateBias: -6, searched: true),
    HighwayVariant(label: "highway b_T=-2", highway: true, gateBias: -2, searched: false),
]

private struct HighwayRun {
    var variant: String, depth: Int, learningRate: Float, seed: UInt64
    var finalLoss: Double, finalAccuracy: Double
    var curve: (steps: [Double], losses: [Double])
    var gatesAtInit: [GateStatistics], gatesTrained: [GateStatistics]
}

/// Kaiming-normal weights (fan-in, gain √2) for every hidden layer (first layer, plain layers,
/// highway transforms and gates), zero biases except the gates' `gateBias`; the softmax layer
/// keeps PyTorch's default.
private func initializeHighwayNetwork(_ network: HighwayNetwork, gateBias: Float, seed: UInt64) {
    var random = SplitMix64(seed: seed ^ 0x4819_4A7)
    for (name, parameter) in network.namedParameters where !name.hasPrefix("output.") {
        if name.hasSuffix(".weight") {
            parameter.value = Initializer.kaimingNormal().makeTensor(parameter.value.shape, using: &random)
        } else if name.hasSuffix(".bias") {
            parameter.value = Tensor(shape: parameter.value.shape, repeating: name.contains(".gate.") ? gateBias : 0)
        }
    }
}

private func runHighway(_ options: ExperimentOptions) throws {
    let quick = options.quick
    let depths = quick ? [2, 4] : [10, 20, 50, 100]
    let learningRates: [Float] = quick ? [0.05] : [0.01, 0.03, 0.1]
    let data = try loadMNISTSubsets(options, experiment: "highway", train: quick ? 256 : 8_000, test: 1, downsampling: quick ? 2 : 1)
    let schedule = ShortMNISTSchedule(epochs: quick ? 1 : 4, batchSize: quick ? 32 : 100, learningRate: learningRates[0])
    let inputs = data.train.pixelsPerImage
    let probe = normalizedMNISTBatch(data.train, count: quick ? 128 : 1000)
    var writer = try ExperimentWriter(name: "highway", directory: options.outputDirectory,
                                      csvHeader: "network,depth,learning_rate,seed,quantity,index,value")
    var runs: [HighwayRun] = []
    for variant in highwayVariants {
        for depth in depths {
            for learningRate in variant.searched ? learningRates : [learningRates[0]] {
                for seed in options.seeds {
                    // `depth` counts every layer before the softmax: a plain first layer, then depth − 1 highway or plain layers.
                    let network = HighwayNetwork(depth: depth - 1, highway: variant.highway, gateBias: variant.gateBias, inputs: inputs, seed: seed)
                    initializeHighwayNetwork(network, gateBias: variant.gateBias, seed: seed)
                    let gatesAtInit = gateStatistics(of: network, input: probe)
                    var runSchedule = schedule
                    runSchedule.learningRate = learningRate
                    let log = trainShortMNIST(network, on: data.train, schedule: runSchedule, seed: seed)
                    let evaluation = Training.evaluate(network, on: data.train, normalization: .mnist, batchSize: 500)
                    let run = HighwayRun(variant: variant.label, depth: depth, learningRate: learningRate, seed: seed,
                                         finalLoss: Double(evaluation.loss), finalAccuracy: Double(evaluation.accuracy),
                                         curve: log.binned(quick ? 4 : 50), gatesAtInit: gatesAtInit,
                                         gatesTrained: gateStatistics(of: network, input: probe))
                    runs.append(run)
                    let key: [CustomStringConvertible] = [variant.label, depth, learningRate, seed]
                    for (step, loss) in zip(run.curve.steps, run.curve.losses) { writer.row(key + ["train_loss", Int(step), loss]) }
                    writer.row(key + ["final_train_loss", 0, run.finalLoss])
                    writer.row(key + ["final_train_accuracy", 0, run.finalAccuracy])
                    for (layer, gate) in gatesAtInit.enumerated() {
                        writer.row(key + ["gate_mean_init", layer + 1, gate.mean])
                        writer.row(key + ["gate_std_init", layer + 1, gate.standardDeviation])
                    }
                    for (layer, gate) in run.gatesTrained.enumerated() {
                        writer.row(key + ["gate_mean_trained", layer + 1, gate.mean])
                        writer.row(key + ["gate_std_trained", layer + 1, gate.standardDeviation])
                    }
                    printLine("highway: \(variant.label), \(depth) layers, lr \(learningRate), seed \(seed): training loss \(lossText(run.finalLoss))")
                }
            }
        }
    }

    // Per net and depth, the learning rate with the fewest diverged seeds and then the lowest mean
    // final training loss (the paper reports the best of a hyperparameter search).
    func selected(_ variant: String, _ depth: Int) -> [HighwayRun] {
        let candidates = learningRates.map { rate in runs.filter { $0.variant == variant && $0.depth == depth && $0.learningRate == rate } }
            .filter { !$0.isEmpty }
        return candidates.min { SeedLossSummary($0.map(\.finalLoss)).isBetter(than: SeedLossSummary($1.map(\.finalLoss))) }!
    }
    func finalLoss(_ variant: String, _ depth: Int) -> SeedLossSummary { SeedLossSummary(selected(variant, depth).map(\.finalLoss)) }
    let colors: [String: Color] = ["plain": .vermillion, "highway b_T=-6": .blue, "highway b_T=-2": .orange]

    // Loss curves: one panel per depth, plus the final loss against depth.
    let panel = (width: 330.0, height: 300.0)
    var curves = Figure(rows: 1, columns: depths.count + 1,
                        title: "Training loss on \(data.train.count) MNIST images (best learning rate per net and depth, mean ± std over seeds)",
                        panelWidth: panel.width, panelHeight: panel.height)
    for (column, depth) in depths.enumerated() {
        curves[0, column] = Chart(title: "\(depth) layers", xLabel: "step", yLabel: "training cross-entropy", yScale: .log10,
                                  width: panel.width, height: panel.height)
        for variant in highwayVariants {
            let group = selected(variant.label, depth)
            let steps = group[0].curve.steps
            let summaries = steps.indices.map { i in SeedLossSummary(group.map { $0.curve.losses[i] }) }
            curves[0, column].line(x: steps, y: summaries.map(\.mean), spread: summaries.map(\.spread), name: variant.label,
                                   color: colors[variant.label])
        }
        curves[0, column].legend = column == 0 ? .automatic : .hidden
    }
    curves[0, depths.count] = Chart(title: "final training loss", xLabel: "depth (layers)", yLabel: "training cross-entropy",
                                    xScale: .log10, yScale: .log10, width: panel.width, height: panel.height)
    for variant in highwayVariants {
        // Diverged runs are left out of the mean (the table counts them).
        let summaries = depths.map { finalLoss(variant.label, $0) }
        curves[0, depths.count].line(x: depths.map(Double.init), y: summaries.map(\.mean), spread: summaries.map(\.spread),
                                     name: variant.label, color: colors[variant.label])
    }
    curves[0, depths.count].legend = .hidden
    let curvesFile = try writer.write(curves, suffix: "loss")

    // Gates: the mean and the standard deviation of T(x) per layer, at initialisation and after training.
    let firstSeed = options.seeds[0]
    var gates = Figure(rows: 2, columns: depths.count,
                       title: "Gates T(x) per highway layer, seed \(firstSeed) — blue: b_T = −6, orange: b_T = −2; dotted: at init, solid: trained",
                       panelWidth: panel.width, panelHeight: panel.height)
    for (column, depth) in depths.enumerated() {
        gates[0, column] = Chart(title: "\(depth) layers: mean T(x)", xLabel: "highway layer", yLabel: "mean gate activity",
                                 yScale: .log10, yRange: 1e-3...1, width: panel.width, height: panel.height)
        gates[1, column] = Chart(title: "\(depth) layers: std of T(x)", xLabel: "highway layer", yLabel: "standard deviation",
                                 yScale: .log10, yRange: 1e-3...1, width: panel.width, height: panel.height)
        for variant in highwayVariants where variant.highway {
            guard let run = selected(variant.label, depth).first(where: { $0.seed == firstSeed }), !isDivergedLoss(run.finalLoss) else { continue }
            let layers = run.gatesTrained.indices.map { Double($0 + 1) }
            for (row, value) in [(0, \GateStatistics.mean), (1, \GateStatistics.standardDeviation)] {
                gates[row, column].line(x: layers, y: run.gatesAtInit.map { $0[keyPath: value] }, name: "\(variant.label) at init",
                                        color: colors[variant.label], style: .dotted)
                gates[row, column].line(x: layers, y: run.gatesTrained.map { $0[keyPath: value] }, name: "\(variant.label) trained",
                                        color: colors[variant.label])
            }
        }
        gates[0, column].legend = .hidden
        gates[1, column].legend = .hidden
    }
    let gatesFile = try writer.write(gates, suffix: "gates")

    // Report.
    let plainWidth = HighwayNetwork.plainWidthMatching(depth: depths.last! - 1, inputs: inputs, classes: 10)
    let seeds = options.seeds.map(String.init).joined(separator: ", ")
    writer.text("# Highway networks")
    writer.text()
    writer.text("**Claim** (Srivastava et al. 2015): \(highwayExperiment.claim).")
    writer.text()
    writer.text("**Setup.** The first \(data.train.count) MNIST training images (\(data.train.height)×\(data.train.width), flattened to "
                + "\(inputs) inputs, normalised with the MNIST mean and std). Nets of \(depths.map(String.init).joined(separator: ", ")) "
                + "layers before the softmax: a plain first layer Linear(\(inputs) → w) + ReLU, then depth − 1 highway layers "
                + "y = H(x)·T(x) + x·(1 − T(x)), H = ReLU(W_H·x + b_H), T = σ(W_T·x + b_T), of width 50, or plain layers ReLU(W·x + b) "
                + "of the width whose total parameter count is closest (\(plainWidth) at \(depths.last!) layers; the paper's 71), "
                + "then Linear(w → 10). Weights of every hidden layer, gates included, Kaiming normal N(0, 2/fan-in) (He et al.); all "
                + "hidden biases zero except the gate biases b_T = −6 or −2 (the paper searched b_T in [−1, −10] per net); the "
                + "softmax layer keeps PyTorch's default init. No BatchNorm. Training: cross-entropy, \(schedule.epochs) "
                + "epoch\(schedule.epochs == 1 ? "" : "s") of SGD (batch \(schedule.batchSize), momentum \(format(schedule.momentum, 1)), "
                + "no weight decay, learning rate cosine-decayed to 0 over all steps), data order per seed. Plain and b_T = −6 nets: "
                + "for each depth the table shows the learning rate of \(learningRates.map { format($0, 2) }.joined(separator: ", ")) "
                + "with the fewest diverged seeds, then the lowest mean final loss; b_T = −2 nets: learning rate "
                + "\(format(learningRates[0], 2)) only. (The paper ran a 100-run random search over learning rate, momentum, decay, "
                + "activation and gate bias per net and trained for far longer.) Final loss and accuracy: the whole training subset, "
                + "evaluation mode, after training; a run whose final loss is NaN, infinite or above 100 counts as diverged and is left out of the means. "
                + "Gates: T(x) over \(probe.shape[0]) training images, mean and standard deviation over images and units, per layer. "
                + "Seeds \(seeds) (init and data order; mean ± sample std).")
    writer.text()
    writer.text("| depth | " + highwayVariants.map { "\($0.label): final training loss (lr) · accuracy" }.joined(separator: " | ") + " |")
    writer.text("|---|" + highwayVariants.map { _ in "---" }.joined(separator: "|") + "|")
    for depth in depths {
        let cells = highwayVariants.map { variant -> String in
            let group = selected(variant.label, depth)
            let accuracy = meanAndSpread(group.filter { !isDivergedLoss($0.finalLoss) }.map(\.finalAccuracy))
            return "\(finalLoss(variant.label, depth).text()) (\(format(group[0].learningRate, 2)))"
                + (accuracy.mean.isFinite ? " · \(formatted(100 * accuracy.mean, 2))%" : "")
        }
        writer.text("| \(depth) | " + cells.joined(separator: " | ") + " |")
    }
    writer.text()
    writer.text("Gate activity of the trained highway nets (seed \(firstSeed)): mean T(x) of the first, middle and last highway layer, "
                + "and the fraction of gate values below 0.1 (closed: the layer carries its input) over all layers:")
    writer.text()
    writer.text("| net | depth | T first | T middle | T last | closed (< 0.1) |")
    writer.text("|---|---|---|---|---|---|")
    for variant in highwayVariants where variant.highway {
        for depth in depths {
            guard let run = selected(variant.label, depth).first(where: { $0.seed == firstSeed }), !run.gatesTrained.isEmpty else { continue }
            guard !isDivergedLoss(run.finalLoss) else {
                writer.text("| \(variant.label) | \(depth) | diverged | | | |")
                continue
            }
            let g = run.gatesTrained
            let closed = g.map(\.closedFraction).reduce(0, +) / Double(g.count)
            writer.text("| \(variant.label) | \(depth) | \(formatted(g.first!.mean)) | \(formatted(g[g.count / 2].mean)) | "
                        + "\(formatted(g.last!.mean)) | \(formatted(closed, 2)) |")
        }
    }
    writer.text()
    writer.text("![loss](\(curvesFile))")
    writer.text()
    writer.text("![gates](\(gatesFile))")
    writer.text()
    let (shallow, deep) = (depths.first!, depths.last!)
    let plain = (finalLoss("plain", shallow), finalLoss("plain", deep))
    let best = (finalLoss("highway b_T=-6", shallow), finalLoss("highway b_T=-6", deep))
    let weak = (finalLoss("highway b_T=-2", shallow), finalLoss("highway b_T=-2", deep))
    // Depth's cost in nats of training loss; a diverged net counts as chance level, ln 10.
    func cost(_ pair: (SeedLossSummary, SeedLossSummary)) -> Double {
        func value(_ s: SeedLossSummary) -> Double { s.diverged == s.count ? log(10) : s.mean }
        return value(pair.1) - value(pair.0)
    }
    let plainDegrades = cost(plain) > 0.3
    let highwayHolds = cost(best) < 0.2 * Swift.max(cost(plain), 0.1)
    let lastGates = selected("highway b_T=-6", deep).first { $0.seed == firstSeed && !isDivergedLoss($0.finalLoss) }?.gatesTrained ?? []
    let closedDeep = lastGates.isEmpty ? Double.nan : lastGates.map(\.closedFraction).reduce(0, +) / Double(lastGates.count)
    writer.text("**Verdict.** From \(shallow) to \(deep) layers the plain nets' final training loss goes \(plain.0.text()) → "
                + "\(plain.1.text()) (\(plainDegrades ? "they train worse and worse with depth, as claimed" : "no collapse with depth in this budget — disagrees with the claim")); "
                + "the highway nets with b_T = −6 go \(best.0.text()) → \(best.1.text()) "
                + "(\(highwayHolds ? "depth costs them little next to the plain nets, as claimed" : "they degrade with depth too — disagrees with the claim")). "
                + "At \(deep) layers \(formatted(100 * closedDeep, 0))% of their trained gate values are below 0.1: the deep highway net "
                + "mostly carries its input, as the paper reports for its trained nets. "
                + (cost(weak) < 0.2 * Swift.max(cost(plain), 0.1)
                    ? "With b_T = −2 they hold too: \(weak.0.text()) → \(weak.1.text())."
                    : "The claim depends on the gate bias: with b_T = −2 the highway nets go \(weak.0.text()) → \(weak.1.text()) — "
                        + "the carried signal is scaled by about 1 − σ(−2) ≈ \(formatted(1 - 1 / (1 + exp(2.0)), 2)) at every layer, so deep "
                        + "nets start with a vanishing signal and train no better than plain ones."))
    try writer.finish()
}
