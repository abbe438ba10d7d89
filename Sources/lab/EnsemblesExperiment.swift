import Experiments
import Datasets
import Instruments
import Models
import NN
import Plot
import Tape
import Training

// Veit, Wilber & Belongie, "Residual Networks Behave Like Ensembles of Relatively Shallow
// Networks", NIPS 2016 (https://arxiv.org/abs/1605.06431): a trained ResNet survives the deletion
// of any single block (section 4, figure 3) and degrades smoothly as more are deleted (figure 5a),
// while deleting any layer of a plain network is fatal; unrolled, a ResNet of n blocks has 2ⁿ
// paths whose lengths follow Binomial(n, ½), and almost all of the gradient comes from paths far
// shorter than the network (section 6, figure 6).

let ensemblesExperiment = Experiment(
    name: "ensembles",
    claim: "deleting one residual block barely hurts a trained ResNet while deleting any plain layer is fatal; the gradient comes mostly from short paths",
    run: runEnsembles)

private struct EnsemblesSetup {
    let channels: Int, blocks: Int, shallowBlocks: Int, downsampling: Int
    let trainImages: Int, testImages: Int
    let schedule: ShortMNISTSchedule
    /// k ≥ 2 for random deletions (k = 0 is the intact net, k = 1 the mean over single deletions).
    let randomDeletionCounts: [Int], randomDeletionSamples: Int
    let pathBatch: Int, pathSamplesPerLength: Int

    init(quick: Bool) {
        if quick {
            (channels, blocks, shallowBlocks, downsampling, trainImages, testImages) = (4, 6, 3, 2, 480, 128)
            schedule = ShortMNISTSchedule(epochs: 1, batchSize: 16, learningRate: 0.01)
            (randomDeletionCounts, randomDeletionSamples) = ([2, 3, 4], 2)
            (pathBatch, pathSamplesPerLength) = (4, 3)
        } else {
            (channels, blocks, shallowBlocks, downsampling, trainImages, testImages) = (16, 25, 6, 1, 5000, 250)
            schedule = ShortMNISTSchedule(epochs: 3, batchSize: 16, learningRate: 0.01)
            (randomDeletionCounts, randomDeletionSamples) = ([2, 3, 4, 6, 8, 12, 16, 20], 2)
            (pathBatch, pathSamplesPerLength) = (8, 6)
        }
    }
}

/// One of the networks lesioned.
private struct LesionedNetwork {
    let label: String
    let residual: Bool
    let blocks: Int
    let color: Color
    let style: LineStyle
}

/// One trained network's lesion measurements (errors as fractions).
private struct LesionResult {
    var baseline: Double
    var deleteOne: [Double]
    var deleteRandom: [SampleSummary]

    /// The error with k = 0, 1, counts… blocks deleted: the intact net, every single deletion, the random draws.
    var byCount: [[Double]] { [[baseline], deleteOne] + deleteRandom.map(\.values) }
}

/// Mean ± std over seeds of a network's lesion results, in percent.
private struct LesionSummary {
    let baseline: (mean: Double, spread: Double)
    let deleteOne: [(mean: Double, spread: Double)]
    /// By k = 0, 1, counts…: spread over seeds and draws together.
    let byCount: [(mean: Double, spread: Double)]
    let trainLoss: (mean: Double, spread: Double)

    init(_ runs: [LesionResult], trainLosses: [Double]) {
        baseline = meanAndSpread(runs.map { 100 * $0.baseline })
        deleteOne = runs[0].deleteOne.indices.map { b in meanAndSpread(runs.map { 100 * $0.deleteOne[b] }) }
        byCount = runs[0].byCount.indices.map { i in meanAndSpread(runs.flatMap { $0.byCount[i].map { 100 * $0 } }) }
        trainLoss = meanAndSpread(trainLosses)
    }

    /// Single deletions that push the error past the midpoint between the intact net's error and chance (90%).
    var fatalDeletions: Int { deleteOne.filter { $0.mean > (baseline.mean + 90) / 2 }.count }
    var increases: [Double] { deleteOne.map { $0.mean - baseline.mean } }
    var meanIncrease: Double { increases.reduce(0, +) / Double(increases.count) }
}

private func runEnsembles(_ options: ExperimentOptions) throws {
    let setup = EnsemblesSetup(quick: options.quick)
    let data = try loadMNISTSubsets(options, experiment: "ensembles", train: setup.trainImages, test: setup.testImages,
                                    downsampling: setup.downsampling)
    var writer = try ExperimentWriter(name: "ensembles", directory: options.outputDirectory,
                                      csvHeader: "measure,network,seed,index,value,std")
    let n = setup.blocks
    let networks = [
        LesionedNetwork(label: "ResNet", residual: true, blocks: n, color: .blue, style: .solid),
        LesionedNetwork(label: "plain", residual: false, blocks: n, color: .vermillion, style: .dashed),
        LesionedNetwork(label: "shallow plain", residual: false, blocks: setup.shallowBlocks, color: .bluishGreen, style: .dashDot),
    ]
    var results: [String: [LesionResult]] = [:]
    var trainLosses: [String: [Double]] = [:]
    var paths: [PathLengthDecomposition] = []
    for seed in options.seeds {
        for spec in networks {
            let label = spec.label
            let network = MNISTResNet(channels: setup.channels, blocks: spec.blocks, residual: spec.residual,
                                      imageSize: data.train.height, seed: seed)
            let log = trainShortMNIST(network, on: data.train, schedule: setup.schedule, seed: seed)
            let finalLoss = log.finalLoss
            trainLosses[label, default: []].append(finalLoss)
            writer.row(["final_train_loss", label, seed, "", finalLoss, ""])
            let testError = { mnistError(network, on: data.test) }
            let baseline = testError()
            let deleteOne = evaluateDeletingEachBlock(of: network, evaluate: testError)
            let counts = setup.randomDeletionCounts.filter { $0 < spec.blocks }
            let deleteRandom = evaluateDeletingRandomBlocks(of: network, counts: counts, samples: setup.randomDeletionSamples,
                                                            seed: seed, evaluate: testError)
            results[label, default: []].append(LesionResult(baseline: baseline, deleteOne: deleteOne, deleteRandom: deleteRandom))
            writer.row(["test_error", label, seed, "", baseline, ""])
            for (block, error) in deleteOne.enumerated() { writer.row(["delete_one_error", label, seed, block, error, ""]) }
            for (k, summary) in zip(counts, deleteRandom) {
                writer.row(["delete_random_error", label, seed, k, summary.mean, summary.standardDeviation])
            }
            if spec.residual {
                let batch = DataLoader(data.test, batchSize: setup.pathBatch, shuffle: false, normalization: .mnist).batch(epoch: 0, position: 0)
                let images = Variable(Tensor(shape: batch.shape, scalars: batch.images))
                let decomposition = pathLengthDecomposition(of: network, mode: .evaluation, samplesPerLength: setup.pathSamplesPerLength,
                                                            seed: seed) { context in
                    crossEntropy(logits: network(images, &context), labels: batch.labels)
                }
                paths.append(decomposition)
                for k in decomposition.gradientNorms.indices {
                    writer.row(["path_length_fraction", label, seed, k, decomposition.pathLengthDistribution[k], ""])
                    writer.row(["path_gradient_norm", label, seed, k, decomposition.gradientNorms[k].mean,
                                decomposition.gradientNorms[k].standardDeviation])
                    writer.row(["path_contribution", label, seed, k, decomposition.contributionDistribution[k], ""])
                }
            }
            printLine("ensembles: seed \(seed) \(label): train loss \(formatted(finalLoss)), test error \(formatted(100 * baseline, 2))%, "
                      + "\(duration(writer.clock.elapsed)) so far")
        }
    }
    let runtime = writer.clock.runtimeSentence()

    // Lesion plots: each block deleted, k random blocks deleted (means over seeds).
    var lesions = Figure(rows: 1, columns: 2, title: "Lesions of trained networks (\(setup.testImages) test images)",
                         panelWidth: 480, panelHeight: 340)
    lesions[0, 0].title = "one block deleted (dotted: intact net)"
    lesions[0, 0].xAxis.label = "deleted block"
    lesions[0, 1].title = "k random blocks deleted"
    lesions[0, 1].xAxis.label = "blocks deleted"
    for column in 0..<2 {
        lesions[0, column].yAxis.label = "test error (%)"
        lesions[0, column].yAxis.range = 0...100
        lesions[0, column].legend = .bottomRight
    }
    var summaries: [String: LesionSummary] = [:]
    for spec in networks {
        let summary = LesionSummary(results[spec.label]!, trainLosses: trainLosses[spec.label]!)
        summaries[spec.label] = summary
        let name = "\(spec.label) (\(spec.blocks) blocks)"
        let counts = [0, 1] + setup.randomDeletionCounts.filter { $0 < spec.blocks }
        lesions[0, 0].line(x: (1...spec.blocks).map(Double.init), y: summary.deleteOne.map(\.mean), spread: summary.deleteOne.map(\.spread),
                           name: name, color: spec.color, style: spec.style)
        lesions[0, 0].line(x: [1, Double(spec.blocks)], y: [summary.baseline.mean, summary.baseline.mean], color: spec.color, style: .dotted)
        lesions[0, 1].line(x: counts.map(Double.init), y: summary.byCount.map(\.mean), spread: summary.byCount.map(\.spread), name: name,
                           color: spec.color, style: spec.style)
    }
    let lesionFile = try writer.write(lesions, suffix: "lesion")

    // Path-length plots (ResNet only): distribution, gradient per path, total contribution.
    let lengths = (0...n).map(Double.init)
    let gradientNorms = (0...n).map { k in meanAndSpread(paths.map { $0.gradientNorms[k].mean }) }
    let contributions = (0...n).map { k in meanAndSpread(paths.map { $0.contributionDistribution[k] }) }
    let distribution = paths[0].pathLengthDistribution
    var pathFigure = Figure(rows: 1, columns: 3, title: "Paths through the trained ResNet (\(n) blocks, batch of \(setup.pathBatch) test images)",
                            panelWidth: 360, panelHeight: 300)
    pathFigure[0, 0].title = "distribution of path length"
    pathFigure[0, 0].xAxis.label = "path length k"
    pathFigure[0, 0].yAxis.label = "fraction of paths C(n,k)/2ⁿ"
    pathFigure[0, 0].line(x: lengths, y: distribution, name: "paths", marker: .circle)
    pathFigure[0, 1].title = "gradient magnitude of one path"
    pathFigure[0, 1].xAxis.label = "path length k"
    pathFigure[0, 1].yAxis.label = "‖∂loss/∂x₀‖ along one path"
    pathFigure[0, 1].yAxis.scale = .log10
    for (index, decomposition) in paths.enumerated() {
        pathFigure[0, 1].line(x: lengths, y: decomposition.gradientNorms.map(\.mean), name: "seed \(options.seeds[index])",
                              color: Color.palette[index % Color.palette.count])
    }
    pathFigure[0, 2].title = "total gradient magnitude per length"
    pathFigure[0, 2].xAxis.label = "path length k"
    pathFigure[0, 2].yAxis.label = "share of Σ C(n,k)·‖g_k‖"
    pathFigure[0, 2].line(x: lengths, y: contributions.map(\.mean), spread: contributions.map(\.spread), name: "gradient share")
    pathFigure[0, 2].line(x: lengths, y: distribution, name: "share of paths", style: .dashed)
    pathFigure[0, 0].legend = .hidden
    pathFigure[0, 1].legend = paths.count > 1 ? .topRight : .hidden
    pathFigure[0, 2].yAxis.range = 0...((contributions.map { $0.mean + $0.spread } + distribution).max()! * 1.1)
    for column in 0..<3 { pathFigure[0, column].xAxis.range = 0...Double(n) }
    let pathFile = try writer.write(pathFigure, suffix: "paths")

    // Numbers for the verdict.
    let resnet = summaries["ResNet"]!, plain = summaries["plain"]!, shallow = summaries["shallow plain"]!
    let increases = resnet.increases
    let worstIncrease = increases.max()!
    let worstBlock = increases.firstIndex(of: worstIncrease)! + 1
    let cheapBlocks = increases.filter { $0 < 2 }.count
    let meanContribution = contributions.map(\.mean)
    let weightedLength = zip(lengths, meanContribution).reduce(0) { $0 + $1.0 * $1.1 }
    let (lowLength, highLength) = centralRange(meanContribution, mass: 0.9)
    let shortShare = zip(lengths, meanContribution).filter { $0.0 < Double(n) / 2 }.reduce(0) { $0 + $1.1 }
    let onePathRatio = gradientNorms[0].mean / max(gradientNorms[n].mean, .leastNonzeroMagnitude)
    let residualSurvives = resnet.meanIncrease < 2 && worstIncrease < 10
    let shortPaths = weightedLength < Double(n) / 2
    /// Whether a net learned anything (intact error well below chance).
    func trained(_ summary: LesionSummary) -> Bool { summary.baseline.mean < 75 }

    writer.text("# Residual networks behave like ensembles of shallow networks")
    writer.text()
    writer.text("**Claim** (Veit et al. 2016): \(ensemblesExperiment.claim).")
    writer.text()
    writer.text("**Setup.** The seed MNIST ResNet (Fleuret's lecture: 1×1 conv0 → \(n) blocks y = relu(x + bn2(conv2(relu(bn1(conv1 x))))) of "
                + "\(setup.channels) channels with 3×3 convolutions → global average pool → relu → fc), its plain twin (the same "
                + "layers without \"+ x\") and a shallow plain twin of \(setup.shallowBlocks) blocks (\(2 * setup.shallowBlocks + 2) "
                + "weight layers, about the depth of the VGG-style plain net Veit et al. lesion), PyTorch default inits "
                + "(Kaiming-uniform a = √5 weights, uniform ±1/√fan-in biases for every conv and the fc; BatchNorm γ = 1, β = 0). "
                + "All trained from the same seed on the first \(data.train.count) MNIST training images (\(data.train.height)×"
                + "\(data.train.width)\(setup.downsampling > 1 ? ", 2×2-averaged for speed" : ""), normalised with mean 0.1307, std "
                + "0.3081, no augmentation) for \(setup.schedule.summary); BatchNorm in training mode during training (gradients "
                + "through the batch statistics). Lesions and paths are measured in evaluation mode (running statistics, not "
                + "re-estimated after a deletion, as in the paper) on the first \(data.test.count) test images. Deleting block i sets "
                + "it to its shortcut, y = relu(x) = x; for the plain twins the same switch replaces the layer pair by the identity. "
                + "A deletion counts as fatal when it pushes the error past the midpoint between the intact net's error and chance "
                + "(90%). k random blocks: k = 1 is the mean over all single deletions, k ≥ 2 uses \(setup.randomDeletionSamples) "
                + "random subsets per k and seed. Path lengths (ResNet only; a plain net has a single path, through all its blocks): "
                + "‖∂loss/∂x₀‖ (x₀ the first block's input, loss on \(setup.pathBatch) test images) of single paths through k "
                + "residual branches and n − k shortcuts, \(setup.pathSamplesPerLength) random paths per length (all of them when "
                + "fewer exist), weighted by their number C(n, k). Seeds \(options.seeds.map(String.init).joined(separator: ", ")) "
                + "(model init and data order; mean ± sample std over seeds). \(runtime)")
    writer.text()
    writer.text("| network | blocks | final training loss | test error, nothing deleted | one block deleted: mean error (worst) | "
                + "fatal single deletions |")
    writer.text("|---|---|---|---|---|---|")
    for spec in networks {
        let summary = summaries[spec.label]!
        let oneMean = summary.deleteOne.map(\.mean)
        writer.text("| \(spec.label) | \(spec.blocks) | \(formatted(summary.trainLoss.mean)) ± \(formatted(summary.trainLoss.spread)) | "
                    + "\(formatted(summary.baseline.mean, 2)) ± \(formatted(summary.baseline.spread, 2))% | "
                    + "\(formatted(oneMean.reduce(0, +) / Double(oneMean.count), 2))% (\(formatted(oneMean.max()!, 2))%) | "
                    + "\(summary.fatalDeletions) of \(spec.blocks) |")
    }
    writer.text()
    writer.text("Test error (%) with block i deleted (mean over seeds):")
    writer.text()
    writer.text("| network | " + (1...n).map { "\($0)" }.joined(separator: " | ") + " |")
    writer.text("|---|" + (1...n).map { _ in "---" }.joined(separator: "|") + "|")
    for spec in networks {
        let cells = summaries[spec.label]!.deleteOne.map { formatted($0.mean, 1) } + Array(repeating: "", count: n - spec.blocks)
        writer.text("| \(spec.label) | " + cells.joined(separator: " | ") + " |")
    }
    writer.text()
    let counts = [0, 1] + setup.randomDeletionCounts
    writer.text("Test error (%) with k random blocks deleted (mean ± std over seeds and draws):")
    writer.text()
    writer.text("| network | " + counts.map { "k = \($0)" }.joined(separator: " | ") + " |")
    writer.text("|---|" + counts.map { _ in "---" }.joined(separator: "|") + "|")
    for spec in networks {
        let cells = summaries[spec.label]!.byCount.map { "\(formatted($0.mean, 1)) ± \(formatted($0.spread, 1))" }
        writer.text("| \(spec.label) | " + (cells + Array(repeating: "", count: counts.count - cells.count)).joined(separator: " | ") + " |")
    }
    writer.text()
    writer.text("![lesion](\(lesionFile))")
    writer.text()
    writer.text("Gradient by path length (ResNet): mean path length \(formatted(Double(n) / 2, 1)); gradient-weighted mean path length "
                + "\(formatted(weightedLength, 2)); 90% of the gradient magnitude comes from lengths \(lowLength)–\(highLength); "
                + "paths shorter than n/2 carry \(formatted(100 * shortShare, 1))% of it. The path of length 0 (all shortcuts) carries "
                + "\(scientific(onePathRatio))× the gradient of the path through all \(n) branches.")
    writer.text()
    writer.text("| k | " + (0...n).map(String.init).joined(separator: " | ") + " |")
    writer.text("|---|" + (0...n).map { _ in "---" }.joined(separator: "|") + "|")
    writer.text("| share of paths | " + distribution.map { formatted($0, 3) }.joined(separator: " | ") + " |")
    writer.text("| ‖g‖ of one path | " + gradientNorms.map { scientific($0.mean) }.joined(separator: " | ") + " |")
    writer.text("| share of gradient | " + contributions.map { formatted($0.mean, 3) }.joined(separator: " | ") + " |")
    writer.text()
    writer.text("![paths](\(pathFile))")
    writer.text()
    func plainVerdict(_ summary: LesionSummary, _ label: String, blocks: Int) -> String {
        let count = "\(summary.fatalDeletions) of \(blocks) single deletions of the \(label) twin are fatal"
        guard trained(summary) else {
            return count + ", but it hardly trained (intact error \(formatted(summary.baseline.mean, 1))%), so this tests little"
        }
        return count + (summary.fatalDeletions == blocks ? ", as claimed" : " (the claim says all: the rest disagree)")
            + (summary.baseline.mean > 20 ? " — on a weakly trained net (intact error \(formatted(summary.baseline.mean, 1))%)" : "")
    }
    writer.text("**Verdict.** \(trained(resnet) ? "" : "The ResNet itself did not train in this schedule, so the lesion numbers below test nothing. ")"
                + "Deleting one block of the trained ResNet (intact error \(formatted(resnet.baseline.mean, 2))%) raises the test "
                + "error by \(formatted(resnet.meanIncrease, 2)) points on average and by \(formatted(worstIncrease, 2)) at worst (block "
                + "\(worstBlock)); \(cheapBlocks) of \(n) blocks cost less than 2 points: "
                + "\(residualSurvives ? "deleting a block barely hurts, as claimed" : "not \"barely\" for every block — disagrees with the claim (mean ≥ 2 or worst ≥ 10 points)"). "
                + "\(plainVerdict(shallow, "shallow plain", blocks: setup.shallowBlocks)); \(plainVerdict(plain, "\(n)-block plain", blocks: n)); "
                + "the ResNet has \(resnet.fatalDeletions). With k random blocks deleted the ResNet's error goes "
                + "\(formatted(resnet.byCount[0].mean, 1))% → \(formatted(resnet.byCount[1].mean, 1))% → \(formatted(resnet.byCount.last!.mean, 1))% "
                + "for k = 0, 1, \(setup.randomDeletionCounts.filter { $0 < n }.last ?? 1)"
                + "\(isNondecreasing(resnet.byCount.map(\.mean), tolerance: 1) ? ", rising smoothly" : ", not monotonically"). "
                + "The gradient-weighted mean path length is \(formatted(weightedLength, 1)) against \(formatted(Double(n) / 2, 1)) for a "
                + "random path: \(shortPaths ? "the gradient comes mostly from short paths, as claimed" : "not shorter than a typical path (disagrees with the claim)").")
    try writer.finish()
}

/// The shortest contiguous range of indices around the mode holding `mass` of a distribution.
private func centralRange(_ distribution: [Double], mass: Double) -> (Int, Int) {
    guard var low = distribution.indices.max(by: { distribution[$0] < distribution[$1] }) else { return (0, 0) }
    var high = low, total = distribution[low]
    while total < mass * distribution.reduce(0, +) && (low > 0 || high < distribution.count - 1) {
        let left = low > 0 ? distribution[low - 1] : -1, right = high < distribution.count - 1 ? distribution[high + 1] : -1
        if left >= right { low -= 1; total += left } else { high += 1; total += right }
    }
    return (low, high)
}

private func isNondecreasing(_ values: [Double], tolerance: Double) -> Bool {
    zip(values, values.dropFirst()).allSatisfy { $1 >= $0 - tolerance }
}
