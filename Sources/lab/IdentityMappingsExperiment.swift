import Experiments
import Models
import NN
import Plot
import Tape
import Training

// He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
// (https://arxiv.org/abs/1603.05027): with y = h(x) + F(x), x' = f(y), gradients reach every
// earlier unit directly only when the shortcut h and the after-addition f are identities.
// Table 1 (ResNet-110 on CIFAR-10): scaling, gating, 1×1-convolution and dropout shortcuts all
// train worse than the identity; table 2: of the activation placements (figure 4), full
// pre-activation (BN and ReLU before each weight layer, nothing after the addition) is best.

let identityMappingsExperiment = Experiment(
    name: "identity-mappings",
    claim: "identity shortcuts train better than scaled, gated, 1×1-conv or dropout shortcuts; full pre-activation is the best placement",
    run: runIdentityMappings)

/// One row of the paper's table 1 or 2.
private struct ShortcutVariant {
    let label: String
    /// "shortcut" (table 1) or "placement" (table 2).
    let table: String
    let shortcut: ShortcutKind
    let merge: ResidualMerge
    let placement: ActivationPlacement
    /// The paper's CIFAR-10 test error (%) for ResNet-110, nil for "fail".
    let paperError: Double?
}

// Our gates multiply the shortcut by g = σ(W·x + b) where the paper multiplies it by 1 − g_paper
// with g_paper = σ(W·x + b_g): b = −b_g gives the same initial gate (the random W is symmetric).
private let shortcutVariants = [
    ShortcutVariant(label: "identity (original)", table: "shortcut", shortcut: .zeroPad(.split), merge: .sum, placement: .original, paperError: 6.61),
    ShortcutVariant(label: "constant scaling, 0.5·x + F", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .scaled(shortcut: 0.5, branch: 1), placement: .original, paperError: nil),
    ShortcutVariant(label: "constant scaling, 0.5·x + 0.5·F", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .scaled(shortcut: 0.5, branch: 0.5), placement: .original, paperError: 12.35),
    ShortcutVariant(label: "exclusive gating, b_g = 0", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .exclusiveGating(gateBias: 0), placement: .original, paperError: nil),
    ShortcutVariant(label: "exclusive gating, b_g = −6", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .exclusiveGating(gateBias: 6), placement: .original, paperError: 8.70),
    ShortcutVariant(label: "shortcut-only gating, b_g = 0", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .shortcutGating(gateBias: 0), placement: .original, paperError: 12.86),
    ShortcutVariant(label: "shortcut-only gating, b_g = −6", table: "shortcut", shortcut: .zeroPad(.split),
                    merge: .shortcutGating(gateBias: 6), placement: .original, paperError: 6.91),
    ShortcutVariant(label: "1×1 conv shortcut", table: "shortcut", shortcut: .convolution1x1, merge: .sum, placement: .original, paperError: 12.22),
    ShortcutVariant(label: "dropout shortcut (0.5)", table: "shortcut", shortcut: .dropout(probability: 0.5), merge: .sum,
                    placement: .original, paperError: nil),
    ShortcutVariant(label: "BN after addition", table: "placement", shortcut: .zeroPad(.split), merge: .sum,
                    placement: .batchNormAfterAddition, paperError: 8.17),
    ShortcutVariant(label: "ReLU before addition", table: "placement", shortcut: .zeroPad(.split), merge: .sum,
                    placement: .reluBeforeAddition, paperError: 7.84),
    ShortcutVariant(label: "ReLU-only pre-activation", table: "placement", shortcut: .zeroPad(.split), merge: .sum,
                    placement: .reluOnlyPreActivation, paperError: 6.71),
    ShortcutVariant(label: "full pre-activation", table: "placement", shortcut: .zeroPad(.split), merge: .sum,
                    placement: .fullPreActivation, paperError: 6.37),
]

private struct IdentityMappingsSetup {
    let depth: Int, widths: [Int], downsampling: Int
    let trainImages: Int, testImages: Int
    let schedule: ShortMNISTSchedule

    init(quick: Bool) {
        if quick {
            (depth, widths, downsampling, trainImages, testImages) = (8, [4, 8, 8], 2, 320, 128)
            schedule = ShortMNISTSchedule(epochs: 1, batchSize: 32, learningRate: 0.1)
        } else {
            (depth, widths, downsampling, trainImages, testImages) = (32, [8, 16, 32], 1, 5000, 2000)
            schedule = ShortMNISTSchedule(epochs: 2, batchSize: 64, learningRate: 0.1)
        }
    }
}

private struct VariantRun {
    let log: ShortTrainingLog
    let testError: Double
}

private func runIdentityMappings(_ options: ExperimentOptions) throws {
    let setup = IdentityMappingsSetup(quick: options.quick)
    let data = try loadMNISTSubsets(options, experiment: "identity-mappings", train: setup.trainImages, test: setup.testImages,
                                    downsampling: setup.downsampling)
    var writer = try ExperimentWriter(name: "identity-mappings", directory: options.outputDirectory,
                                      csvHeader: "variant,table,seed,final_train_loss,test_error,diverged")
    var runs: [String: [VariantRun]] = [:]
    for seed in options.seeds {
        for variant in shortcutVariants {
            var configuration = CIFARConfiguration(shortcut: variant.shortcut, merge: variant.merge, placement: variant.placement)
            configuration.inputChannels = 1
            let network = CIFARResNet(depth: setup.depth, configuration: configuration, widths: setup.widths, seed: seed)
            let log = trainShortMNIST(network, on: data.train, schedule: setup.schedule, seed: seed)
            let testError = mnistError(network, on: data.test)
            runs[variant.label, default: []].append(VariantRun(log: log, testError: testError))
            writer.row([variant.label.filter { $0 != "," }, variant.table, seed, log.finalLoss, testError,
                        isDivergedLoss(log.finalLoss)])
            printLine("identity-mappings: seed \(seed) \(variant.label): training loss \(lossText(log.finalLoss)), test error "
                      + "\(formatted(100 * testError, 2))%, \(duration(writer.clock.elapsed)) so far")
        }
    }
    let runtime = writer.clock.runtimeSentence()

    // Training curves, one panel per table.
    let bins = options.quick ? 5 : 20
    let curveColors: [Color] = [.black, .vermillion, .bluishGreen, .orange, .reddishPurple, .skyBlue, .blue, .gray,
                                Color(red: 0x8C, green: 0x56, blue: 0x3C)]
    var figure = Figure(rows: 1, columns: 2, title: "ResNet-\(setup.depth) (widths \(setup.widths.map(String.init).joined(separator: "/"))) "
                        + "on \(data.train.count) MNIST images: training loss", panelWidth: 560, panelHeight: 380)
    for (column, table) in ["shortcut", "placement"].enumerated() {
        figure[0, column].title = table == "shortcut" ? "shortcut variants (table 1)" : "activation placements (table 2)"
        figure[0, column].xAxis.label = "step"
        figure[0, column].yAxis.label = "training loss (mean over seeds)"
        figure[0, column].yAxis.scale = .log10
        let members = table == "shortcut" ? shortcutVariants.filter { $0.table == table }
                                          : [shortcutVariants[0]] + shortcutVariants.filter { $0.table == table }
        for (index, variant) in members.enumerated() {
            let curves = runs[variant.label]!.map { $0.log.binned(bins) }
            let losses = curves[0].steps.indices.map { i in meanAndSpread(curves.map { $0.losses[i] }).mean }
            let style: LineStyle = index == 0 ? .solid : [.dashed, .dotted, .dashDot][index % 3]
            figure[0, column].line(x: curves[0].steps, y: losses, name: variant.label, color: curveColors[index % curveColors.count],
                                   style: style, width: index == 0 ? 2.5 : 1.75)
        }
        figure[0, column].yAxis.range = 0.05...10
        figure[0, column].legend = .outsideRight
    }
    let plotFile = try writer.write(figure, suffix: "training")

    struct Summary { let loss, error: (mean: Double, spread: Double) }
    var summaries: [String: Summary] = [:]
    for variant in shortcutVariants {
        let variantRuns = runs[variant.label]!
        summaries[variant.label] = Summary(loss: meanAndSpread(variantRuns.map(\.log.finalLoss)),
                                           error: meanAndSpread(variantRuns.map { 100 * $0.testError }))
    }
    func rank(_ label: String, among labels: [String], by key: (Summary) -> Double) -> Int {
        let value = key(summaries[label]!)
        return 1 + labels.filter { key(summaries[$0]!) < value }.count
    }
    let shortcutLabels = shortcutVariants.filter { $0.table == "shortcut" }.map(\.label)
    let placementLabels = [shortcutVariants[0].label] + shortcutVariants.filter { $0.table == "placement" }.map(\.label)
    let identityErrorRank = rank(shortcutLabels[0], among: shortcutLabels) { $0.error.mean }
    let identityLossRank = rank(shortcutLabels[0], among: shortcutLabels) { $0.loss.mean.isFinite ? $0.loss.mean : .infinity }
    let preActivationErrorRank = rank("full pre-activation", among: placementLabels) { $0.error.mean }
    let preActivationLossRank = rank("full pre-activation", among: placementLabels) { $0.loss.mean.isFinite ? $0.loss.mean : .infinity }
    let identity = summaries[shortcutLabels[0]]!
    let clearlyWorse = shortcutLabels.dropFirst().filter { label in
        let s = summaries[label]!
        return !(s.error.mean.isFinite) || s.error.mean > identity.error.mean + 2 * max(identity.error.spread, s.error.spread)
    }

    writer.text("# Identity mappings in deep residual networks")
    writer.text()
    writer.text("**Claim** (He et al. 2016): \(identityMappingsExperiment.claim).")
    writer.text()
    writer.text("**Setup.** A CIFAR-style ResNet-\(setup.depth) (\((setup.depth - 2) / 6) two-convolution blocks per stage at widths "
                + "\(setup.widths.map(String.init).joined(separator: "/")), stride 2 entering stages 2 and 3, global average pool, fc) "
                + "with one input channel, on the first \(data.train.count) MNIST training images (\(data.train.height)×\(data.train.width)"
                + "\(setup.downsampling > 1 ? ", 2×2-averaged for speed" : ""), normalised, no augmentation), \(setup.schedule.summary). "
                + "Inits: Kaiming-normal (fan-in, gain √2) 3×3 and 1×1 convolutions without bias and the fc weight, fc bias uniform "
                + "±1/√fan-in, BatchNorm γ = 1, β = 0; gates are 1×1 convolutions with bias (PyTorch default weights, bias b set as "
                + "listed). Where the shape changes the identity shortcut is option A (subsample, zero channels); the 1×1-conv "
                + "variant uses a strided 1×1 conv on every block; the dropout shortcut is inverted dropout with p = 0.5 (identity "
                + "at test time). Gating as in the paper: exclusive y = g·F + (1 − g)·x, shortcut-only y = F + (1 − g)·x with "
                + "g = σ(1×1 conv(x) + b_g) (our gate multiplies the shortcut by σ(… − b_g), the same thing). BatchNorm in training "
                + "mode while training (gradients through the batch statistics), evaluation mode (running statistics) on the first "
                + "\(data.test.count) test images. Final training loss: mean over the last 10% of steps. Seeds "
                + "\(options.seeds.map(String.init).joined(separator: ", ")) (init, data order, dropout; mean ± sample std). \(runtime) The paper's numbers are CIFAR-10 "
                + "test errors of ResNet-110 (median of 5 runs, 164 epochs); \"fail\" means above 20%. A final training loss above 100 "
                + "counts as diverged.")
    writer.text()
    writer.text("| table | variant | final training loss | test error (%) | paper: CIFAR-10 error (%) |")
    writer.text("|---|---|---|---|---|")
    for variant in shortcutVariants {
        let s = summaries[variant.label]!
        let loss = !isDivergedLoss(s.loss.mean) ? "\(formatted(s.loss.mean)) ± \(formatted(s.loss.spread))"
                                                             : "diverged (\(scientific(s.loss.mean)))"
        writer.text("| \(variant.table) | \(variant.label) | \(loss) | "
                    + "\(formatted(s.error.mean, 2)) ± \(formatted(s.error.spread, 2)) | \(variant.paperError.map { formatted($0, 2) } ?? "fail") |")
    }
    writer.text()
    writer.text("![training](\(plotFile))")
    writer.text()
    /// "ranks r by test error (behind A) and r by training loss (behind B)".
    func standing(_ label: String, among labels: [String]) -> String {
        func part(_ key: (Summary) -> Double, _ name: String) -> String {
            let value = key(summaries[label]!)
            let ahead = labels.filter { key(summaries[$0]!) < value }
            return "\(1 + ahead.count) by \(name)" + (ahead.isEmpty ? "" : " (behind \(ahead.joined(separator: "; ")))")
        }
        return part({ $0.error.mean }, "test error") + " and " + part({ $0.loss.mean.isFinite ? $0.loss.mean : .infinity }, "final training loss")
    }
    let failures = shortcutVariants.filter { summaries[$0.label]!.error.mean > 20 }.map(\.label)
    let paperFailures = shortcutVariants.filter { $0.paperError == nil }.map(\.label)
    writer.text("**Verdict.** Among the \(shortcutLabels.count) shortcut variants the identity ranks \(standing(shortcutLabels[0], among: shortcutLabels))"
                + "\(identityErrorRank == 1 && identityLossRank == 1 ? ", as claimed" : identityErrorRank == 1 ? ": first where the paper measures (test error)" : " — the claim says first: disagrees"); "
                + "\(clearlyWorse.count) of \(shortcutLabels.count - 1) alternatives are worse by more than twice the spread over seeds"
                + "\(clearlyWorse.isEmpty ? "" : " (\(clearlyWorse.joined(separator: "; ")))"). Among the placements full pre-activation ranks "
                + "\(standing("full pre-activation", among: placementLabels))"
                + "\(preActivationErrorRank == 1 && preActivationLossRank == 1 ? ", as claimed" : " — the claim says first: disagrees"). "
                + "Above 20% error (the paper's \"fail\"): \(failures.isEmpty ? "none" : failures.joined(separator: "; ")); the paper's failures: "
                + "\(paperFailures.joined(separator: "; ")). Our net is far shallower (\(setup.depth) layers) and trained far shorter than the "
                + "paper's 110 layers for 164 epochs, which shrinks effects that compound with depth and leaves a gate that starts nearly "
                + "closed on the branch (exclusive gating, b_g = −6) few steps to open.")
    try writer.finish()
}
