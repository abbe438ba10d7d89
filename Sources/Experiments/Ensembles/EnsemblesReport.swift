import Plot

extension Ensembles {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let n = results.blocks, depth = 6 * setup.blocksPerStage + 2
        let percent = { (value: Double) in formatted(100 * value, 2) }
        let percentSpread = { (values: [Double]) in meanAndSpreadText(values.map { 100 * $0 }, 2) }
        let signedPoints = { (value: Double) in (value >= 0 ? "+" : "−") + formatted(100 * abs(value), 2) + " points" }
        writeCSV(results, into: &report)

        // Training.
        report.text("**Training.** Both nets are trained by `Trainer` (SGD, momentum \(formatted(Double(setup.momentum), 1)), weight decay "
                    + "\(setup.weightDecay), batch \(setup.batchSize), learning rate \(formatted(Double(setup.learningRate), 2)) "
                    + "divided by 10 at epochs \(setup.milestones.map(String.init).joined(separator: ", ")) of \(setup.epochs)"
                    + (setup.warmupWindow > 0 ? ", He et al.'s warm-up at 0.01 until the training error over \(setup.warmupWindow) steps is below 80%" : "")
                    + ", no augmentation). Converged means: the schedule ran to its end (the last epochs at the smallest rate) and the "
                    + "last epoch's running training error is ≤ \(percent(setup.convergedTrainingError))%; the test error per epoch shows "
                    + "whether it still moved.")
        report.text()
        var trainingRows: [[String]] = []
        for (label, records) in [("ResNet-\(depth)", results.residual.map(\.training)), ("plain-\(depth)", results.plain.map(\.training))] {
            for (seed, record) in zip(setup.seeds, records) {
                trainingRows.append([label, "\(seed)", record.diverged ? "diverged" : formatted(record.trainLoss.last ?? .nan, 4),
                                     percent(record.trainError.last ?? .nan) + "%",
                                     record.testError.map { percent($0) }.joined(separator: " → ") + "%",
                                     (!record.diverged && (record.trainError.last ?? 1) <= setup.convergedTrainingError) ? "yes" : "no",
                                     formatted(record.secondsPerStep, 3)])
            }
        }
        report.table(header: ["net", "seed", "final training loss", "final training error", "test error after each epoch", "converged",
                              "s per step"], rows: trainingRows)

        // Single deletions (§4.1, Fig. 3).
        let intact = results.residual.map(\.intactError), plainIntact = results.plain.map(\.intactError)
        let (ordinary, downsampling) = singleDeletionIncreases(results)
        let plainLayerIncreases = results.plain.flatMap { run in run.layerDeletions.map { $0.error - run.intactError } }
        report.text("**Deleting one block (§4.1, Fig. 3).** Deleting block b switches its branch off: y = relu(shortcut(x)), which is "
                    + "y = x for the \(ordinary.count) non-downsampling blocks (x ≥ 0 after the previous ReLU) and y = relu(pad(subsample(x))) "
                    + "for the \(downsampling.count) downsampling blocks, which are reported separately as in the paper. The plain twin "
                    + "has no shortcut; deleting one of its layers (conv + BN, and the ReLU after it, which is then the identity) replaces "
                    + "it by the identity, possible for the \(results.plain.first?.layerDeletions.count ?? 0) of its \(2 * n) block "
                    + "layers whose input and output shapes agree (the paper deletes single VGG layers).")
        report.text()
        report.table(header: ["", "intact test error", "one layer or block deleted: mean increase", "worst increase", "fatal deletions"], rows: [
            ["ResNet-\(depth), non-downsampling blocks", percentSpread(intact) + "%", signedPoints(mean(ordinary)), signedPoints(ordinary.max() ?? .nan),
             "\(ordinaryFatalCount(results)) of \(ordinary.count * results.residual.count)"],
            ["ResNet-\(depth), downsampling blocks", "", signedPoints(mean(downsampling)), signedPoints(downsampling.max() ?? .nan), ""],
            ["plain-\(depth), single layers", percentSpread(plainIntact) + "%", signedPoints(mean(plainLayerIncreases)), signedPoints(plainLayerIncreases.max() ?? .nan),
             "\(results.plain.flatMap { run in run.layerDeletions.filter { isFatal($0.error, intact: run.intactError) } }.count) of \(plainLayerIncreases.count)"],
        ])
        var blockRows: [[String]] = []
        for b in 0..<n {
            let down = results.residual.first?.downsampling[b] ?? false
            let plainBlock = results.plain.compactMap { $0.blockDeletion[b] }
            let layer = { (l: Int) -> String in
                let errors = results.plain.compactMap { run in run.layerDeletions.first { $0.block == b && $0.layer == l }?.error }
                return errors.isEmpty ? "—" : percentSpread(errors) + "%"
            }
            blockRows.append(["\(b + 1)", "\(b / setup.blocksPerStage + 1)\(down ? " (downsampling)" : "")",
                              percentSpread(results.residual.map { $0.singleDeletion[b] }) + "%",
                              plainBlock.isEmpty ? "—" : percentSpread(plainBlock) + "%", layer(1), layer(2)])
        }
        report.text("Test error with one block (ResNet) or one block or layer (plain twin) deleted, mean ± std over seeds:")
        report.text()
        report.table(header: ["block", "stage", "ResNet: block deleted", "plain: block deleted", "plain: layer 1 deleted", "plain: layer 2 deleted"],
                     rows: blockRows)
        report.figure(singleDeletionFigure(results, depth: depth), suffix: "single",
                      caption: "Test error with one layer of the plain twin or one block of the ResNet deleted (Fig. 3)")

        // k deleted, k swapped (§4.3, Fig. 5).
        let deletionMeans = meanByCount(results.residual.map(\.randomDeletion))
        let swapMeans = meanByCount(results.residual.map(\.swaps))
        report.text("**Deleting and reordering many blocks (§4.3, Fig. 5).** k blocks drawn uniformly among all \(n) (the downsampling "
                    + "ones included), \(setup.draws) draws per k; k random swaps of two blocks of the same stage and shape (the "
                    + "paper's \"compatible dimensionality\", so the downsampling blocks stay in place; a later swap may undo an earlier "
                    + "one), \(setup.draws) draws per k, with the Kendall τ of the new order. Mean ± std over draws (and seeds):")
        report.text()
        report.table(header: ["k"] + results.deletionCounts.map(String.init), rows: [
            ["k blocks deleted"] + results.deletionCounts.indices.map { i in percentSpread(results.residual.flatMap { $0.randomDeletion[i] }) + "%" },
        ])
        report.table(header: ["k"] + results.swapCounts.map(String.init), rows: [
            ["k pairs swapped"] + results.swapCounts.indices.map { i in percentSpread(results.residual.flatMap { $0.swaps[i] }) + "%" },
            ["Kendall τ"] + results.swapCounts.indices.map { i in meanAndSpreadText(results.residual.flatMap { $0.swapKendallTau[i] }, 3) },
        ])
        report.figure(manyFigure(results, intact: mean(intact), deletionMeans: deletionMeans, swapMeans: swapMeans), suffix: "many",
                      caption: "Test error with k random blocks deleted and with k random pairs swapped (Fig. 5)")

        // Paths (§6, Fig. 6).
        let weighted = gradientWeightedPathLength(results)
        let gradientShare = (0...n).map { k in mean(results.residual.map { $0.paths.gradientShare[k] }) }
        let (low, high) = centralRange(gradientShare, mass: 0.9)
        let (pathLow, pathHigh) = centralRange(results.residual.first?.paths.pathShare ?? [], mass: 0.95)
        report.text("**Paths (§6, Fig. 6).** One forward pass of \(setup.pathBatch) test images in evaluation mode; for each length k, "
                    + "‖∂loss/∂x₀‖ (x₀ the first block's input) along a path through k residual branches and the other n − k "
                    + "shortcuts (the paper's sampling: the branch-only Jacobian on the chosen blocks, the shortcut-only one elsewhere), "
                    + "\(setup.pathSamplesPerLength) random paths per length (all when fewer exist), weighted by the C(n, k) paths of that "
                    + "length. 95% of the paths have lengths \(pathLow)–\(pathHigh) (Binomial(\(n), ½)); 90% of the gradient magnitude comes "
                    + "from lengths \(low)–\(high); the gradient-weighted mean length is \(formatted(weighted, 2)) of \(n). The paper, "
                    + "for ResNet-110 (54 blocks): 95% of the paths have lengths 19–35, the gradient comes from paths 5–17 long.")
        report.text()
        report.table(header: ["k"] + (0...n).map(String.init), rows: [
            ["share of paths"] + (0...n).map { k in formatted(results.residual.first?.paths.pathShare[k] ?? .nan, 3) },
            ["‖g‖ of one path"] + (0...n).map { k in scientific(mean(results.residual.map { $0.paths.gradientNorm[k] })) },
            ["share of gradient"] + gradientShare.map { formatted($0, 3) },
        ])
        report.figure(pathFigure(results, gradientShare: gradientShare), suffix: "paths",
                      caption: "Path lengths and the gradient they carry (Fig. 6)")

        let invariantsHold = results.residual.allSatisfy {
            $0.invariants.noDeletion == $0.intactError && $0.invariants.afterRestoring == $0.intactError && $0.invariants.noSwap == $0.intactError
        } && results.plain.allSatisfy { $0.afterRestoring == $0.intactError }
        report.text("**Checks.** Deleting no block, swapping no pair and re-enabling every block after the lesions each "
                    + "\(invariantsHold ? "reproduce the intact error exactly" : "DO NOT reproduce the intact error (a defect)").")
        report.text()
        report.text("**Against the paper.** Veit et al. lesion ResNet-110 (n = 18 blocks per stage, 54 blocks, widths 16/32/64) "
                    + "trained on CIFAR-10 to about 6–7% test error: removing any block but the two downsampling ones leaves the error "
                    + "close to that line (Fig. 3b), while removing any layer of a VGG-15 drops it to chance, ≈ 90% (Fig. 3a); the error "
                    + "grows smoothly with the number of deleted blocks and of swaps (Fig. 5). Ours: ResNet-\(depth) intact "
                    + "\(percent(mean(intact)))%, one non-downsampling block deleted \(signedPoints(mean(ordinary))) on average "
                    + "(worst \(signedPoints(ordinary.max() ?? .nan))), a downsampling block \(signedPoints(mean(downsampling))); "
                    + "plain twin intact \(percent(mean(plainIntact)))%, one layer deleted \(signedPoints(mean(plainLayerIncreases))) on average.")
        report.text()
        report.text("**Departures from the paper** (2 CPU cores, ≤ 60 minutes for everything): \(results.residual.count == 1 ? "one seed" : "\(results.residual.count) seeds"); "
                    + "ResNet-\(depth) (n = \(setup.blocksPerStage)) instead of ResNet-110, at widths \(setup.widths.map(String.init).joined(separator: "/")) "
                    + "instead of 16/32/64; \(setup.data.dataSet.rawValue) (1 channel\(setup.data.downsampling > 1 ? ", \(28 / setup.data.downsampling)×\(28 / setup.data.downsampling) after \(setup.data.downsampling)×\(setup.data.downsampling) averaging" : ", 28×28"), "
                    + "first \(setup.data.train) training and \(setup.data.test) test images) instead of CIFAR-10, no augmentation, "
                    + "\(setup.epochs) epochs instead of He et al.'s 64k iterations; the plain comparison is the ResNet's own plain twin (same "
                    + "layers, BatchNorm included) rather than a 15-layer VGG without BatchNorm, and its deletable layers are those "
                    + "whose shapes agree. The 3×3 stem matters: the seed MNIST ResNet used before had a 1×1 stem, so its first blocks did "
                    + "all the spatial work and could not be deleted.")
        report.text()
    }

    /// Non-downsampling single deletions of the ResNet that are fatal (over seeds).
    static func ordinaryFatalCount(_ results: Results) -> Int {
        results.residual.reduce(0) { count, run in
            count + run.singleDeletion.indices.filter { !run.downsampling[$0] && isFatal(run.singleDeletion[$0], intact: run.intactError) }.count
        }
    }

    static func writeCSV(_ results: Results, into report: inout Report) {
        report.columns(["measure", "net", "seed", "index", "draw", "value"])
        for (label, records) in [("resnet", results.residual.map { ($0.seed, $0.training) }), ("plain", results.plain.map { ($0.seed, $0.training) })] {
            for (seed, record) in records {
                for epoch in record.testError.indices {
                    report.row(["train_loss", label, seed, epoch + 1, "", record.trainLoss[epoch]])
                    report.row(["train_error", label, seed, epoch + 1, "", record.trainError[epoch]])
                    report.row(["test_error", label, seed, epoch + 1, "", record.testError[epoch]])
                }
            }
        }
        for run in results.residual {
            report.row(["intact_error", "resnet", run.seed, "", "", run.intactError])
            for (b, error) in run.singleDeletion.enumerated() {
                report.row([run.downsampling[b] ? "delete_downsampling_block" : "delete_block", "resnet", run.seed, b + 1, "", error])
            }
            for (i, k) in results.deletionCounts.enumerated() {
                for (draw, error) in run.randomDeletion[i].enumerated() { report.row(["delete_random_blocks", "resnet", run.seed, k, draw, error]) }
            }
            for (i, k) in results.swapCounts.enumerated() {
                for (draw, error) in run.swaps[i].enumerated() {
                    report.row(["swap_pairs", "resnet", run.seed, k, draw, error])
                    report.row(["swap_kendall_tau", "resnet", run.seed, k, draw, run.swapKendallTau[i][draw]])
                }
            }
            for k in run.paths.gradientNorm.indices {
                report.row(["path_share", "resnet", run.seed, k, "", run.paths.pathShare[k]])
                report.row(["path_gradient_norm", "resnet", run.seed, k, "", run.paths.gradientNorm[k]])
                report.row(["path_gradient_spread", "resnet", run.seed, k, "", run.paths.gradientSpread[k]])
                report.row(["gradient_share", "resnet", run.seed, k, "", run.paths.gradientShare[k]])
            }
        }
        for run in results.plain {
            report.row(["intact_error", "plain", run.seed, "", "", run.intactError])
            for deletion in run.layerDeletions {
                report.row(["delete_layer_\(deletion.layer)", "plain", run.seed, deletion.block + 1, "", deletion.error])
            }
            for (b, error) in run.blockDeletion.enumerated() {
                if let error { report.row(["delete_block", "plain", run.seed, b + 1, "", error]) }
            }
        }
    }

    /// Fig. 3: (a) the plain twin with one layer deleted, (b) the ResNet with one block deleted; dotted: intact.
    static func singleDeletionFigure(_ results: Results, depth: Int) -> Figure {
        let n = results.blocks
        var figure = Figure(rows: 1, columns: 2, title: "One layer or block deleted at test time", panelWidth: 460, panelHeight: 320)
        var plainChart = Chart(title: "plain-\(depth): one layer deleted", xLabel: "deleted layer (block + layer/2)", yLabel: "test error (%)",
                               yRange: 0...100)
        for (index, run) in results.plain.enumerated() {
            let x = run.layerDeletions.map { Double($0.block + 1) + Double($0.layer - 1) / 2 }
            plainChart.line(x: x, y: run.layerDeletions.map { 100 * $0.error }, name: index == 0 ? "layer deleted" : nil, color: .vermillion,
                            marker: .circle)
            plainChart.line(x: [1, Double(n) + 0.5], y: [100 * run.intactError, 100 * run.intactError], name: index == 0 ? "intact" : nil,
                            color: .gray, style: .dotted)
        }
        plainChart.legend = .bottomRight
        let maxError = (results.residual.flatMap(\.singleDeletion).max() ?? 0.1) * 100
        var residualChart = Chart(title: "ResNet-\(depth): one block deleted", xLabel: "deleted block", yLabel: "test error (%)",
                                  yRange: 0...max(5, (maxError * 1.2).rounded(.up)))
        for (index, run) in results.residual.enumerated() {
            let blocks = run.singleDeletion.indices
            residualChart.line(x: blocks.map { Double($0 + 1) }, y: run.singleDeletion.map { 100 * $0 }, name: index == 0 ? "block deleted" : nil,
                               color: .blue, marker: .circle)
            let down = blocks.filter { run.downsampling[$0] }
            residualChart.scatter(x: down.map { Double($0 + 1) }, y: down.map { 100 * run.singleDeletion[$0] },
                                  name: index == 0 ? "downsampling block" : nil, color: .vermillion, marker: .square, size: 9)
            residualChart.line(x: [1, Double(n)], y: [100 * run.intactError, 100 * run.intactError], name: index == 0 ? "intact" : nil,
                               color: .gray, style: .dotted)
        }
        residualChart.legend = .topRight
        figure[0, 0] = plainChart
        figure[0, 1] = residualChart
        return figure
    }

    /// Fig. 5: (a) error against k deleted blocks, (b) error against the Kendall τ of k swaps.
    static func manyFigure(_ results: Results, intact: Double, deletionMeans: [Double], swapMeans: [Double]) -> Figure {
        var figure = Figure(rows: 1, columns: 2, title: "Many blocks deleted or reordered", panelWidth: 460, panelHeight: 320)
        var deletion = Chart(title: "k random blocks deleted", xLabel: "blocks deleted k", yLabel: "test error (%)", yRange: 0...100)
        let spreads = results.deletionCounts.indices.map { i in meanAndSpread(results.residual.flatMap { $0.randomDeletion[i] }.map { 100 * $0 }).spread }
        deletion.line(x: [0] + results.deletionCounts.map(Double.init), y: ([intact] + deletionMeans).map { 100 * $0 }, spread: [0] + spreads,
                      name: "mean ± std over draws", color: .blue)
        deletion.legend = .topLeft
        var swap = Chart(title: "k random pairs swapped", xLabel: "Kendall τ of the new order", yLabel: "test error (%)", yRange: 0...100)
        let taus = results.residual.flatMap { run in run.swapKendallTau.flatMap { $0 } }
        let errors = results.residual.flatMap { run in run.swaps.flatMap { $0 } }
        swap.scatter(x: taus, y: errors.map { 100 * $0 }, name: "one draw", color: .skyBlue, size: 4)
        let meanTaus = results.swapCounts.indices.map { i in mean(results.residual.flatMap { $0.swapKendallTau[i] }) }
        swap.line(x: [1] + meanTaus, y: ([intact] + swapMeans).map { 100 * $0 }, name: "mean per k", color: .blue, marker: .circle)
        swap.legend = .topRight
        figure[0, 0] = deletion
        figure[0, 1] = swap
        return figure
    }

    /// Fig. 6: (a) the distribution of path lengths, (b) the gradient of one path, (c) the total gradient per length.
    static func pathFigure(_ results: Results, gradientShare: [Double]) -> Figure {
        let n = results.blocks
        let lengths = (0...n).map(Double.init)
        var figure = Figure(rows: 1, columns: 3, title: "Paths through the trained ResNet (\(n) blocks)", panelWidth: 340, panelHeight: 300)
        let pathShare = results.residual.first?.paths.pathShare ?? []
        var distribution = Chart(title: "distribution of path length", xLabel: "path length k", yLabel: "share of paths", xRange: 0...Double(n))
        distribution.line(x: lengths, y: pathShare, name: "C(n,k)/2ⁿ", color: .blue, marker: .circle)
        distribution.legend = .hidden
        var magnitude = Chart(title: "gradient magnitude of one path", xLabel: "path length k", yLabel: "‖∂loss/∂x₀‖", yScale: .log10,
                              xRange: 0...Double(n))
        for (index, run) in results.residual.enumerated() {
            magnitude.line(x: lengths, y: run.paths.gradientNorm, name: "seed \(run.seed)", color: Color.palette[index % Color.palette.count])
        }
        magnitude.legend = results.residual.count > 1 ? .topRight : .hidden
        var total = Chart(title: "total gradient magnitude per length", xLabel: "path length k", yLabel: "share", xRange: 0...Double(n))
        total.line(x: lengths, y: gradientShare, name: "gradient", color: .vermillion)
        total.line(x: lengths, y: pathShare, name: "paths", color: .blue, style: .dashed)
        total.legend = .topRight
        figure[0, 0] = distribution
        figure[0, 1] = magnitude
        figure[0, 2] = total
        return figure
    }

    /// The shortest contiguous range of indices around the mode holding `mass` of a distribution.
    static func centralRange(_ distribution: [Double], mass: Double) -> (Int, Int) {
        guard var low = distribution.indices.max(by: { distribution[$0] < distribution[$1] }) else { return (0, 0) }
        var high = low, total = distribution[low]
        let sum = distribution.reduce(0, +)
        while total < mass * sum && (low > 0 || high < distribution.count - 1) {
            let left = low > 0 ? distribution[low - 1] : -1, right = high < distribution.count - 1 ? distribution[high + 1] : -1
            if left >= right { low -= 1; total += left } else { high += 1; total += right }
        }
        return (low, high)
    }
}
