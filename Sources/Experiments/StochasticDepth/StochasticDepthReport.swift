import Plot
import Training

extension StochasticDepth {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        report.columns(["variant", "seed", "epoch", "train_loss", "test_loss", "test_error", "epoch_seconds", "blocks_per_step"])
        let variants: [(label: String, run: (Pair) -> Run)] = [("constant depth", \.constant), ("stochastic depth", \.stochastic)]
        for pair in results.pairs {
            for (label, run) in variants {
                let r = run(pair)
                for e in r.epochTrainLoss.indices {
                    report.row([label, pair.seed, e + 1, r.epochTrainLoss[e], r.epochTestLoss[e], r.epochTestError[e], r.epochSeconds[e], r.blocksPerStep])
                }
            }
        }
        let side = 28 / setup.data.downsampling
        report.text("He et al.'s CIFAR ResNet-\(setup.depth) (L = \(results.blocks) two-convolution blocks y = relu(x + bn2(conv2(relu(bn1(conv1 x))))), "
                    + "\(setup.widths.map(String.init).joined(separator: "/")) channels, option-A shortcuts, one input channel) trained twice "
                    + "from the same initial weights on the same batches: with constant depth, and with stochastic depth — block l's branch "
                    + "survives each mini-batch with p_l = 1 − (l/L)(1 − \(formatted(Double(setup.finalSurvival), 1))) (Eq. (4)), a dropped "
                    + "block is y = relu(x) = x and records no ops, and at test time each branch is scaled by p_l (Eq. (5)). Data: the first "
                    + "\(setup.data.train) Fashion-MNIST training images (\(side)×\(side), normalised, no augmentation), test error on the first "
                    + "\(setup.data.test) test images after every epoch. \(setup.epochs) epochs, batch \(setup.batchSize), SGD momentum "
                    + "\(formatted(Double(setup.momentum), 1)), weight decay \(setup.weightDecay), rate "
                    + "\(formatted(Double(setup.learningRate), 2)) divided by 10 at epochs \(setup.milestones.map(String.init).joined(separator: " and ")) "
                    + "(the paper's 250 and 375 of 500). Time per epoch: \(setup.timing). Seeds \(setup.seeds.map(String.init).joined(separator: ", ")); "
                    + "mean ± sample std over seeds.")
        report.text()
        var rows: [[String]] = []
        for (label, run) in variants {
            let runs = results.pairs.map(run)
            rows.append([label, label == "constant depth" ? "\(results.blocks)" : formatted(results.expectedDepth, 2),
                         meanAndSpreadText(runs.map(\.blocksPerStep), 2), meanAndSpreadText(runs.map(\.secondsPerEpoch), 2),
                         meanAndSpreadText(runs.map { $0.epochTrainLoss.last ?? .nan }, 4),
                         meanAndSpreadText(runs.map { $0.epochTestLoss.last ?? .nan }, 4),
                         meanAndSpreadText(runs.map { 100 * $0.finalTestError }, 2),
                         meanAndSpreadText(runs.map { 100 * ($0.epochTestError.min() ?? .nan) }, 2)])
        }
        report.table(header: ["variant", "expected depth Σp_l", "branches per step", "seconds per epoch", "final training loss",
                              "final test loss", "final test error (%)", "lowest test error (%)"], rows: rows)
        let overfit = overfitting(results)
        report.text("Overfitting criterion (fixed in advance): the constant-depth net's mean test loss ends ≥ "
                    + "\(formatted(Thresholds.overfitFactor, 2))× its lowest while its training loss still falls. Measured: "
                    + "\(formatted(overfit.ratio, 2))× (lowest at epoch \(overfit.epoch)), training loss \(overfit.trainingFell ? "falling" : "not falling").")
        report.text()

        var figure = Figure(rows: 2, columns: 2, title: "ResNet-\(setup.depth) on \(setup.data.train) Fashion-MNIST images: constant vs "
                            + "stochastic depth (mean ± std over \(counted(results.pairs.count, "seed")))", panelWidth: 480, panelHeight: 340)
        let charts = [("training loss", "training loss", true), ("test loss", "test loss", true), ("test error", "test error (%)", false)]
        for (index, (title, yLabel, log)) in charts.enumerated() {
            var chart = Chart(title: "\(title) by epoch", xLabel: "epoch", yLabel: yLabel, yScale: log ? .log10 : .linear)
            for (label, run) in variants {
                let curves = results.pairs.map(run).map { r in
                    index == 0 ? r.epochTrainLoss : index == 1 ? r.epochTestLoss : r.epochTestError.map { 100 * $0 }
                }
                let count = curves.map(\.count).min() ?? 0
                let stats = (0..<count).map { e in meanAndSpread(curves.map { $0[e] }) }
                chart.line(x: (1...max(1, count)).prefix(count).map(Double.init), y: stats.map(\.mean), spread: stats.map(\.spread),
                           name: label, color: label == "constant depth" ? .blue : .vermillion, style: label == "constant depth" ? .solid : .dashed)
            }
            if index == 1 {
                // The first epochs' test loss (running BatchNorm statistics not settled yet) can be hundreds of nats: show
                // the range where overfitting shows, from the lowest value to 4× it.
                let lowest = results.pairs.flatMap { [$0.constant.epochTestLoss, $0.stochastic.epochTestLoss] }.flatMap { $0 }.min() ?? 1
                chart.yAxis.range = (0.8 * lowest)...(4 * lowest)
            }
            chart.legend = index == 0 ? .topRight : .hidden
            figure[index / 2, index % 2] = chart
        }
        var timeChart = Chart(title: "training loss by training time", xLabel: "summed step seconds", yLabel: "training loss", yScale: .log10)
        for (label, run) in variants {
            let runs = results.pairs.map(run)
            let count = runs.map(\.epochSeconds.count).min() ?? 0
            let seconds = (0..<count).map { e in meanAndSpread(runs.map { $0.epochSeconds[...e].reduce(0, +) }).mean }
            let losses = (0..<count).map { e in meanAndSpread(runs.map { $0.epochTrainLoss[e] }).mean }
            timeChart.line(x: seconds, y: losses, name: label, color: label == "constant depth" ? .blue : .vermillion,
                           style: label == "constant depth" ? .solid : .dashed, marker: .circle)
        }
        timeChart.legend = .hidden
        figure[1, 1] = timeChart
        report.figure(figure, suffix: "training", caption: "training and test curves, constant vs stochastic depth")

        let saving = timeSaving(results)
        let predicted = 1 - results.expectedDepth / Double(results.blocks)
        let difference = errorDifference(results)
        report.text("**Against the paper.** Time per epoch \(formatted(100 * saving, 1))% lower with stochastic depth (paper, Table 2: "
                    + "27% on CIFAR-10, 20h42m → 15h7m; the expected depth Σp_l = \(formatted(results.expectedDepth, 2)) of \(results.blocks) "
                    + "blocks predicts \(formatted(100 * predicted, 1))% for the blocks alone, (L + 1)/(4L) → 25% for large L). Final test "
                    + "error, stochastic minus constant, paired per seed: \(formatted(100 * difference.mean, 2)) ± \(formatted(100 * difference.spread, 2)) "
                    + "points (paper, Table 1: 5.25% vs 6.41% on CIFAR-10+, −1.16 points; 24.98% vs 27.22% on CIFAR-100+).")
        report.text()
        if !lowersError(results) {
            // Why the error claim is not decided: how much error the constant-depth net's overfitting costs, and the loss.
            let constantError = results.pairs.map { 100 * $0.constant.finalTestError }
            let constantLowest = results.pairs.map { 100 * ($0.constant.epochTestError.min() ?? .nan) }
            let lowerLoss = results.pairs.filter { ($0.stochastic.epochTestLoss.last ?? .nan) < ($0.constant.epochTestLoss.last ?? .nan) }.count
            let finalLoss = { (run: (Pair) -> Run) in meanAndSpread(results.pairs.map { run($0).epochTestLoss.last ?? .nan }).mean }
            report.text("**Why the error comparison is undecided.** The paired difference is inside the seed noise (standard error "
                        + "\(formatted(100 * difference.standardError, 2)) points). The constant-depth net's test error ends only "
                        + "\(formatted(meanAndSpread(zip(constantError, constantLowest).map { $0 - $1 }).mean, 2)) points above its "
                        + "lowest (mean over seeds), so its overfitting leaves little error for stochastic depth to win back; where the "
                        + "overfitting shows, in the test loss, stochastic depth ends lower in \(lowerLoss) of \(results.pairs.count) seeds "
                        + "(\(formatted(finalLoss { $0.stochastic }, 3)) against \(formatted(finalLoss { $0.constant }, 3))). Deciding the "
                        + "error claim needs a net that overfits in its error, or many more seeds.")
            report.text()
        }
        report.text("**Where this departs from the paper** (compute: 2 CPU cores, ≤ 60 minutes): ResNet-\(setup.depth) (L = \(results.blocks)) "
                    + "at widths \(setup.widths.map(String.init).joined(separator: "/")) instead of ResNet-110 (L = 54) at 16/32/64; "
                    + "\(setup.data.train) Fashion-MNIST images at \(side)×\(side) without augmentation instead of 50,000 CIFAR-10 images "
                    + "with crops and flips — a small training set, so that the constant-depth net overfits within \(setup.epochs) epochs "
                    + "instead of 500; batch \(setup.batchSize) instead of 128. The time saving is wall-clock on shared cores, where the "
                    + "paper's is GPU time; the per-block cost is the same in every stage of this net, as in the paper's.")
        report.text()
    }
}
