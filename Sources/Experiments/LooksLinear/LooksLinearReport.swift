import Plot

extension LooksLinear {
    static let colors: [Net: Color] = [.looksLinear: .blue, .creluRandom: .bluishGreen, .reluKaiming: .vermillion,
                                       .resNet: .black, .linear: .gray]

    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depths = results.depths
        let deepNets = setup.nets.filter(\.isDeep)
        let linear = selected(results, net: .linear, depth: 0)

        report.columns(["net", "depth", "learning_rate", "seed", "diverged", "final_train_loss", "train_accuracy", "test_accuracy"])
        for run in results.runs {
            report.row([run.net.rawValue, run.depth, run.learningRate, run.seed, run.diverged, run.trainLoss, run.trainAccuracy, run.testAccuracy])
        }

        let data = setup.data
        report.text("**What was run.** The first \(data.train) \(data.dataSet.rawValue) training images and the first \(data.test) test "
                    + "images\(data.downsampling > 1 ? " (averaged over \(data.downsampling)×\(data.downsampling) squares)" : ""), flattened "
                    + "and normalised. Fully connected nets with \(depths.map(String.init).joined(separator: ", ")) hidden layers and a "
                    + "linear head to 10 logits: plain CReLU nets (\(setup.creluWidth) units, CReLU(z) = [relu(z), relu(−z)] doubles the "
                    + "stream to \(2 * setup.creluWidth)) with the Looks-Linear init and with a random init, plain ReLU nets "
                    + "(\(setup.reluWidth) units, about as many weights per layer), and a ResNet of the same depth and ReLU width "
                    + "(full pre-activation units W·ReLU(BN(x)) as in He et al. 2016, an identity shortcut around every \(setup.resNetShortcutSpan) hidden layers); and softmax regression "
                    + "on the pixels. Each net and depth is trained with every learning rate of "
                    + setup.learningRates.map { formatted(Double($0), 3) }.joined(separator: ", ") + " and \(setup.seeds.count) seeds "
                    + "(init and data order); the tables show the rate with the fewest diverged seeds, then the lowest mean final training "
                    + "loss. Accuracies and losses are measured after training in evaluation mode; mean ± sample std over seeds.")
        report.text()

        // Test accuracy and training loss per depth.
        var rows: [[String]] = []
        for depth in depths {
            rows.append(["\(depth)"] + deepNets.map { net in cell(selected(results, net: net, depth: depth)) })
        }
        if let linear {
            rows.append(["linear model", cell(linear)] + Array(repeating: "", count: Swift.max(0, deepNets.count - 1)))
        }
        report.table(header: ["hidden layers"] + deepNets.map { "\($0.rawValue): test accuracy · training loss (lr)" }, rows: rows)

        // The gain over the linear model as a share of the ResNet's.
        let compared = deepNets.filter { $0 != .resNet }
        if linear != nil && deepNets.contains(.resNet) {
            report.text("Share of the ResNet's test-accuracy gain over the linear model, (acc − acc_linear) / (acc_ResNet − acc_linear): "
                        + "1 is as good as the ResNet of the same depth, 0 no better than the linear model.")
            report.text()
            report.table(header: ["hidden layers"] + compared.map(\.rawValue),
                         rows: depths.map { depth in ["\(depth)"] + compared.map { formatted(gain(results, net: $0, depth: depth), 2) } })
        }

        // Figure: test accuracy and training loss against depth, and the deepest nets' training curves.
        let size = (width: 420.0, height: 340.0)
        var figure = Figure(rows: 1, columns: 3, title: "Plain and residual nets on \(data.train) \(data.dataSet.rawValue) images, "
                                + "\(setup.epochs) epoch\(setup.epochs == 1 ? "" : "s") of SGD (best learning rate per net and depth; mean ± std over seeds)",
                            panelWidth: size.width, panelHeight: size.height)
        figure[0, 0] = Chart(title: "test accuracy (\(data.test) images)", xLabel: "hidden layers", yLabel: "accuracy",
                             xScale: .log10, yRange: 0...1, width: size.width, height: size.height)
        figure[0, 1] = Chart(title: "final training loss", xLabel: "hidden layers", yLabel: "training cross-entropy",
                             xScale: .log10, yScale: .log10, width: size.width, height: size.height)
        let deepest = depths.max() ?? 0
        figure[0, 2] = Chart(title: "training loss, \(deepest) hidden layers", xLabel: "step", yLabel: "training cross-entropy",
                             yScale: .log10, width: size.width, height: size.height)
        let x = depths.map(Double.init)
        for net in deepNets {
            let chosen = depths.map { selected(results, net: net, depth: $0) }
            let accuracy = chosen.map { $0?.testAccuracy ?? (.nan, .nan) }
            let loss = chosen.map { $0?.loss }
            figure[0, 0].line(x: x, y: accuracy.map(\.mean), spread: accuracy.map(\.spread), name: net.rawValue, color: colors[net])
            figure[0, 1].line(x: x, y: loss.map { $0?.mean ?? .nan }, spread: loss.map { $0?.spread ?? .nan }, name: net.rawValue, color: colors[net])
            if let group = selected(results, net: net, depth: deepest) { curve(group, into: &figure[0, 2], color: colors[net]) }
        }
        if let linear, let low = x.first, let high = x.last {
            let accuracy = linear.testAccuracy.mean, loss = linear.loss.mean
            figure[0, 0].line(x: [low, high], y: [accuracy, accuracy], name: Net.linear.rawValue, color: colors[.linear], style: .dashed)
            figure[0, 1].line(x: [low, high], y: [loss, loss], name: Net.linear.rawValue, color: colors[.linear], style: .dashed)
            curve(linear, into: &figure[0, 2], color: colors[.linear], style: .dashed)
        }
        figure[0, 0].legend = .bottomLeft
        figure[0, 1].legend = .hidden
        figure[0, 2].legend = .hidden
        report.figure(figure, suffix: "depth", caption: "test accuracy, training loss and training curves against depth")

        // Our numbers beside the paper's, and where the setup departs.
        let ll = depths.compactMap { selected(results, net: .looksLinear, depth: $0) }
        if let first = ll.first, let last = ll.last, let linear {
            report.text("**Beside the paper.** Fig. 6 of Balduzzi et al. shows CIFAR-10 test accuracy of convnets up to 200 layers: the "
                        + "plain CReLU nets with Looks-Linear init stay close to the resnets at every depth, CReLU nets without it fall "
                        + "away with depth. Here the Looks-Linear nets reach \(percent(first.accuracyForVerdict)) at \(first.depth) and "
                        + "\(percent(last.accuracyForVerdict)) at \(last.depth) hidden layers, against \(percent(linear.accuracyForVerdict)) "
                        + "for the linear model"
                        + (selected(results, net: .resNet, depth: last.depth).map { " and \(percent($0.accuracyForVerdict)) for the \(last.depth)-layer ResNet" } ?? "")
                        + ".")
            report.text()
        }
        report.text("**Where this departs from the paper.** MNIST digits (a subset) and fully connected nets instead of CIFAR-10 "
                    + "convnets, \(setup.epochs) epoch\(setup.epochs == 1 ? "" : "s") instead of a full schedule, "
                    + (deepest < 200 ? "depths up to \(deepest) instead of 200 (a 200-layer BatchNorm ResNet costs about a CPU-minute "
                        + "per run here, and the grid needs one per learning rate and seed), " : "")
                    + "and a \(setup.learningRates.count)-point learning-rate search: the budget is 2 CPU cores (the data directory "
                    + "holds no CIFAR-10 either). Our plain nets have no BatchNorm, so the Looks-Linear nets rely on their "
                    + "initialisation alone; the ResNet baseline has BatchNorm, as resnets do, in the full pre-activation form (a first "
                    + "run with post-activation units, each branch ending in a ReLU, fell to 82.7% at 100 layers, below the linear model: "
                    + "the stream's mean grows with every block). The thresholds are shares of the "
                    + "linear-to-ResNet accuracy gap, which carry over between data sets better than absolute accuracies would.")
        report.text()
    }

    /// "97.12% ± 0.10 · 0.0345 ± 0.0012 (0.01)" for a selected net.
    static func cell(_ chosen: Selected?) -> String {
        guard let chosen else { return "—" }
        let accuracy = chosen.testAccuracy
        let accuracyText = accuracy.mean.isFinite ? "\(formatted(100 * accuracy.mean, 2))% ± \(formatted(100 * accuracy.spread, 2))" : "—"
        return "\(accuracyText) · \(chosen.loss.text()) (\(formatted(Double(chosen.learningRate), 3)))"
    }

    /// The mean training curve over the seeds that finished.
    static func curve(_ chosen: Selected, into chart: inout Chart, color: Color?, style: LineStyle = .solid) {
        let finished = chosen.runs.filter { !$0.diverged }
        guard let steps = finished.first?.curveSteps, !steps.isEmpty else { return }
        let summaries = steps.indices.map { i in meanAndSpread(finished.compactMap { i < $0.curve.count ? $0.curve[i] : nil }) }
        chart.line(x: steps.map(Double.init), y: summaries.map(\.mean), name: chosen.net.rawValue, color: color, style: style)
    }
}
