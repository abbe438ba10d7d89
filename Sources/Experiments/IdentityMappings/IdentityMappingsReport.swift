import Plot
import Training

extension IdentityMappings {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        report.columns(["variant", "table", "seed", "epoch", "train_loss", "train_error", "test_error", "test_loss", "warmup_steps", "diverged_in_epoch"])
        for run in results.runs {
            for epoch in run.epochTrainLoss.indices {
                report.row([run.variant.rawValue, run.variant.table, run.seed, epoch + 1, run.epochTrainLoss[epoch], run.epochTrainError[epoch],
                            run.epochTestError[epoch], run.epochTestLoss[epoch], run.warmupSteps, run.divergedInEpoch.map(String.init) ?? ""])
            }
            if run.epochTrainLoss.isEmpty {
                report.row([run.variant.rawValue, run.variant.table, run.seed, 0, "nan", "nan", "nan", "nan", run.warmupSteps, run.divergedInEpoch.map(String.init) ?? ""])
            }
        }
        let present = setup.variants
        let trained = "ResNet-\(setup.depth) (widths \(setup.widths.map(String.init).joined(separator: "/")))"
        report.text("A CIFAR ResNet-\(setup.depth) (\(counted((setup.depth - 2) / 6, "two-convolution unit")) per stage at "
                    + "\(setup.widths.map(String.init).joined(separator: "/")) channels, stride 2 entering stages 2 and 3, global average "
                    + "pool, fc; one input channel) in every variant of the paper's Table 1 (Fig. 2) and Table 2 (Fig. 4), trained with "
                    + "`Trainer` on the first \(setup.data.train) Fashion-MNIST training images (\(28 / setup.data.downsampling)×"
                    + "\(28 / setup.data.downsampling) after \(setup.data.downsampling)×\(setup.data.downsampling) averaging, normalised, "
                    + "no augmentation) for \(setup.epochs) epochs of \(results.stepsPerEpoch) steps (batch \(setup.batchSize)): SGD, "
                    + "momentum \(formatted(Double(setup.momentum), 1)), weight decay \(setup.weightDecay), rate "
                    + "\(formatted(Double(setup.learningRate), 2)) divided by 10 at epochs \(setup.milestones.map(String.init).joined(separator: " and ")) "
                    + "(the paper's 32k and 48k of 64k iterations), after the paper's warm-up at rate \(formatted(Double(setup.warmup.learningRate), 2)) "
                    + "until the training error over the last \(setup.warmup.window) steps is below \(formatted(100 * Double(setup.warmup.untilErrorBelow), 0))% — "
                    + "for every variant, as the paper does (Appendix: \"for all CIFAR experiments we warm up\"). Test error on the first "
                    + "\(setup.data.test) test images after every epoch. Seeds \(setup.seeds.map(String.init).joined(separator: ", ")) "
                    + "(initialisation, data order, dropout); mean ± sample std over seeds. A run whose loss or weights become NaN counts "
                    + "as diverged (error 90%, the paper's \"fail\" is > 20%).")
        report.text()
        var rows: [[String]] = []
        for variant in present {
            guard let s = summary(results, variant) else { continue }
            let runs = results.runs(of: variant)
            let warmup = runs.map { Double($0.warmupSteps) }.reduce(0, +) / Double(runs.count)
            let loss = s.loss.mean.isFinite ? "\(formatted(s.loss.mean, 4)) ± \(formatted(s.loss.spread, 4))" : "diverged"
            rows.append(["\(variant.table)", variant.label, loss, errorText(s), formatted(warmup, 0),
                         variant.paperError.map { formatted($0, 2) + "%" } ?? "fail"])
        }
        report.table(header: ["table", "variant", "final training loss", "test error (%)", "warm-up steps", "paper: ResNet-110 CIFAR-10 error"],
                     rows: rows)

        // Training curves (the paper's Fig. 3 and 6) and test error per epoch, one column per table.
        var figure = Figure(rows: 2, columns: 2, title: "\(trained) on \(setup.data.train) Fashion-MNIST images, mean over \(setup.seeds.count) seeds",
                            panelWidth: 600, panelHeight: 380)
        let colors: [Color] = [.black, .vermillion, .bluishGreen, .orange, .reddishPurple, .skyBlue, .blue, .gray,
                               Color(red: 0x8C, green: 0x56, blue: 0x3C)]
        for table in [1, 2] {
            let members = [Variant.original] + present.filter { $0.table == table && $0 != .original }
            var loss = Chart(title: table == 1 ? "shortcut variants (Table 1, Fig. 2): training loss" : "activation placements (Table 2, Fig. 4): training loss",
                             xLabel: "epoch", yLabel: "training loss (mean over seeds)", yScale: .log10)
            var error = Chart(title: table == 1 ? "shortcut variants: test error" : "activation placements: test error",
                              xLabel: "epoch", yLabel: "test error (%)")
            for (index, variant) in members.enumerated() {
                let runs = results.runs(of: variant).filter { $0.divergedInEpoch == nil }
                guard let first = runs.first else { continue }
                let style: LineStyle = index == 0 ? .solid : [.dashed, .dotted, .dashDot][index % 3]
                let width = index == 0 ? 2.5 : 1.75
                let color = colors[index % colors.count]
                let points = first.curve.count
                let x = (0..<points).map { (Double($0) + 0.5) / Double(setup.curvePointsPerEpoch) }
                let y = (0..<points).map { i in meanAndSpread(runs.map { $0.curve[i] }).mean }
                loss.line(x: x, y: y, name: variant.label, color: color, style: style, width: width)
                let epochs = first.epochTestError.indices
                error.line(x: epochs.map { Double($0 + 1) }, y: epochs.map { e in 100 * meanAndSpread(runs.map { $0.epochTestError[e] }).mean },
                           name: variant.label, color: color, style: style, width: width)
            }
            loss.legend = .outsideRight
            error.legend = .hidden
            figure[0, table - 1] = loss
            figure[1, table - 1] = error
        }
        report.figure(figure, suffix: "training", caption: "training loss and test error by epoch")

        // Our numbers beside the paper's.
        let original = summary(results, .original)
        report.text("**Against the paper.** The paper's numbers are CIFAR-10 test errors of ResNet-110 (median of 5 runs, 164 "
                    + "epochs). Its claim is relative, so we compare ranks: "
                    + (original.map { o in
                        present.filter { $0 != .original }.compactMap { v -> String? in
                            guard let s = summary(results, v) else { return nil }
                            let ours = s.error.mean / o.error.mean
                            let paper = v.paperError.map { formatted($0 / 6.61, 2) + "×" } ?? "fail"
                            return "\(v.label) \(formatted(ours, 2))× the original's error (paper \(paper))"
                        }.joined(separator: "; ")
                    } ?? "no original run") + ".")
        report.text()
        report.text("**Where this departs from the paper** (compute: 2 CPU cores, ≤ 60 minutes for all \(present.count * setup.seeds.count) runs): "
                    + "a net of depth \(setup.depth) at widths \(setup.widths.map(String.init).joined(separator: "/")) instead of 110 layers at 16/32/64; "
                    + "\(setup.data.train) Fashion-MNIST images at \(28 / setup.data.downsampling)×\(28 / setup.data.downsampling) instead of "
                    + "50,000 CIFAR-10 images with crop-and-flip augmentation; \(setup.epochs) epochs (\(setup.epochs * results.stepsPerEpoch) steps) "
                    + "instead of 64k iterations of batch 128; the warm-up ends by the paper-[1] rule (training error below 80%) rather "
                    + "than after a fixed 400 iterations (a variant whose running training error never falls below 80% stays at 0.01 "
                    + "throughout, where the paper's would switch to 0.1 after 400 iterations: see the warm-up column); mean ± std of \(setup.seeds.count) seeds rather than the median of 5. "
                    + "Effects that compound with depth (a shortcut scaled by 0.5 shrinks the signal by 0.5 per unit: 0.5^54 over "
                    + "ResNet-110's 54 units, 0.5^\((setup.depth - 2) / 2) over our \((setup.depth - 2) / 2)) are much weaker in a shallow "
                    + "net, so milder gaps than the paper's are expected; the paper's \"fail\" rows cannot fail as dramatically.")
        report.text()
    }
}
