#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Models
import Plot

extension HighwayNetworks {
    static let palette: [Color] = [.vermillion, .blue, .orange, .bluishGreen, .reddishPurple]

    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depths = results.depths, variants = results.variants
        let color = Dictionary(uniqueKeysWithValues: variants.enumerated().map { ($0.element.name, palette[$0.offset % palette.count]) })
        let firstSeed = setup.seeds.min() ?? 0
        let data = setup.data
        let inputs = (28 / data.downsampling) * (28 / data.downsampling)

        report.columns(["network", "depth", "learning_rate", "seed", "quantity", "index", "value"])
        for run in results.runs {
            let key: [any CustomStringConvertible] = [run.variant, run.depth, run.learningRate, run.seed]
            for (step, loss) in zip(run.curveSteps, run.curve) { report.row(key + ["train_loss", step, loss]) }
            report.row(key + ["final_train_loss", 0, run.finalLoss])
            report.row(key + ["final_train_accuracy", 0, run.finalAccuracy])
            report.row(key + ["test_accuracy", 0, run.testAccuracy])
            for (layer, gate) in run.gatesAtInit.enumerated() {
                report.row(key + ["gate_mean_init", layer + 1, gate.mean])
                report.row(key + ["gate_std_init", layer + 1, gate.standardDeviation])
            }
            for (layer, gate) in run.gatesTrained.enumerated() {
                report.row(key + ["gate_mean_trained", layer + 1, gate.mean])
                report.row(key + ["gate_std_trained", layer + 1, gate.standardDeviation])
            }
        }

        let plainWidth = HighwayNetwork.plainWidthMatching(depth: (depths.max() ?? 2) - 1, inputs: inputs, classes: 10)
        report.text("**What was run.** The first \(data.train) \(data.dataSet.rawValue) training images"
                    + "\(data.downsampling > 1 ? " (averaged over \(data.downsampling)×\(data.downsampling) squares)" : ""), flattened to "
                    + "\(inputs) inputs and normalised. Nets of \(depths.map(String.init).joined(separator: ", ")) layers before the "
                    + "softmax: a plain first layer Linear(\(inputs) → w) + ReLU, then depth − 1 highway layers y = H(x)·T(x) + x·(1 − T(x)), "
                    + "H = ReLU(W_H·x + b_H), T = σ(W_T·x + b_T) (eq. 3) of width \(setup.highwayWidth), or plain layers ReLU(W·x + b) of the "
                    + "width whose parameter count is closest (\(plainWidth) at \(depths.max() ?? 0) layers; the paper's 71), then the "
                    + "softmax layer. Each net and depth is trained with \(setup.seeds.count) seeds (init and data order) and, for the "
                    + "searched variants, every learning rate of " + setup.learningRates.map { formatted(Double($0), 2) }.joined(separator: ", ")
                    + " (the others with \(formatted(Double(setup.learningRates[0]), 2)) only); the tables show the rate with the fewest "
                    + "diverged seeds, then the lowest mean final training loss. Final loss and accuracy: the whole training subset, "
                    + "evaluation mode, after training. Gates: T(x) over \(setup.gateProbeImages) training images, mean and standard "
                    + "deviation over images and units, per highway layer. Mean ± sample std over seeds.")
        report.text()

        report.table(header: ["depth"] + variants.map { "\($0.name): final training loss (lr) · training accuracy · test accuracy" },
                     rows: depths.map { depth in
                         ["\(depth)"] + variants.map { variant in
                             let group = selected(results, variant: variant.name, depth: depth)
                             guard let first = group.first else { return "—" }
                             let finished = group.filter { !$0.diverged }
                             let train = meanAndSpread(finished.map(\.finalAccuracy)), test = meanAndSpread(finished.map(\.testAccuracy))
                             return "\(summary(group).text()) (\(formatted(Double(first.learningRate), 2)))"
                                 + (finished.isEmpty ? "" : " · \(formatted(100 * train.mean, 2))% · \(formatted(100 * test.mean, 2))%")
                         }
                     })

        report.text("Gate activity of the trained highway nets (seed \(firstSeed)): mean T(x) of the first, middle and last highway layer, "
                    + "and the fraction of gate values below 0.1 (closed: the layer carries its input) over all layers.")
        report.text()
        var gateRows: [[String]] = []
        for variant in variants where variant.highway {
            for depth in depths {
                guard let run = selected(results, variant: variant.name, depth: depth).first(where: { $0.seed == firstSeed }) else { continue }
                let g = run.gatesTrained
                guard !run.diverged, !g.isEmpty else {
                    gateRows.append([variant.name, "\(depth)", "diverged", "", "", ""])
                    continue
                }
                gateRows.append([variant.name, "\(depth)", formatted(g.first!.mean), formatted(g[g.count / 2].mean), formatted(g.last!.mean),
                                 formatted(closedFraction(results, variant: variant.name, depth: depth), 2)])
            }
        }
        report.table(header: ["net", "depth", "T first", "T middle", "T last", "closed (< 0.1)"], rows: gateRows)

        // Loss curves, one panel per depth, and the final loss against depth.
        let panel = (width: 330.0, height: 300.0)
        var curves = Figure(rows: 1, columns: depths.count + 1,
                            title: "Training loss on \(data.train) \(data.dataSet.rawValue) images (best learning rate per net and depth, mean ± std over seeds)",
                            panelWidth: panel.width, panelHeight: panel.height)
        for (column, depth) in depths.enumerated() {
            curves[0, column] = Chart(title: "\(depth) layers", xLabel: "step", yLabel: "training cross-entropy", yScale: .log10,
                                      width: panel.width, height: panel.height)
            for variant in variants {
                let finished = selected(results, variant: variant.name, depth: depth).filter { !$0.diverged }
                guard let steps = finished.first?.curveSteps else { continue }
                let summaries = steps.indices.map { i in meanAndSpread(finished.compactMap { i < $0.curve.count ? $0.curve[i] : nil }) }
                curves[0, column].line(x: steps.map(Double.init), y: summaries.map(\.mean), spread: summaries.map(\.spread),
                                       name: variant.name, color: color[variant.name])
            }
            curves[0, column].legend = column == 0 ? .automatic : .hidden
        }
        curves[0, depths.count] = Chart(title: "final training loss", xLabel: "depth (layers)", yLabel: "training cross-entropy",
                                        xScale: .log10, yScale: .log10, width: panel.width, height: panel.height)
        for variant in variants {
            let summaries = depths.map { summary(selected(results, variant: variant.name, depth: $0)) }
            curves[0, depths.count].line(x: depths.map(Double.init), y: summaries.map(\.mean), spread: summaries.map(\.spread),
                                         name: variant.name, color: color[variant.name])
        }
        curves[0, depths.count].legend = .hidden
        report.figure(curves, suffix: "loss", caption: "training loss of plain and highway nets at each depth")

        // Gates: mean and standard deviation of T(x) per layer, at initialisation and after training.
        var gates = Figure(rows: 2, columns: depths.count,
                           title: "Gates T(x) per highway layer, seed \(firstSeed) — dotted: at init, solid: trained",
                           panelWidth: panel.width, panelHeight: panel.height)
        for (column, depth) in depths.enumerated() {
            gates[0, column] = Chart(title: "\(depth) layers: mean T(x)", xLabel: "highway layer", yLabel: "mean gate activity",
                                     yScale: .log10, yRange: 1e-3...1, width: panel.width, height: panel.height)
            gates[1, column] = Chart(title: "\(depth) layers: std of T(x)", xLabel: "highway layer", yLabel: "standard deviation",
                                     yScale: .log10, yRange: 1e-3...1, width: panel.width, height: panel.height)
            for variant in variants where variant.highway {
                guard let run = selected(results, variant: variant.name, depth: depth).first(where: { $0.seed == firstSeed }),
                      !run.diverged else { continue }
                let layers = run.gatesTrained.indices.map { Double($0 + 1) }
                for (row, value) in [(0, \GateSummary.mean), (1, \GateSummary.standardDeviation)] {
                    gates[row, column].line(x: layers, y: run.gatesAtInit.map { $0[keyPath: value] }, name: "\(variant.name) at init",
                                            color: color[variant.name], style: .dotted)
                    gates[row, column].line(x: layers, y: run.gatesTrained.map { $0[keyPath: value] }, name: "\(variant.name) trained",
                                            color: color[variant.name])
                }
            }
            gates[0, column].legend = column == 0 ? .bottomLeft : .hidden
            gates[1, column].legend = .hidden
        }
        report.figure(gates, suffix: "gates", caption: "transform-gate activity per layer, at initialisation and after training")

        // Beside the paper, and the gate bias.
        if let shallow = depths.min(), let deep = depths.max() {
            report.text("**Beside the paper.** Fig. 1 shows plain nets' best training loss rising by orders of magnitude from 10 to 100 "
                        + "layers while the highway nets' stays put. Here, from \(shallow) to \(deep) layers, the plain nets go "
                        + "\(summary(selected(results, variant: "plain", depth: shallow)).text()) → \(summary(selected(results, variant: "plain", depth: deep)).text())"
                        + variants.filter(\.highway).map { variant in
                            ", \(variant.name) \(summary(selected(results, variant: variant.name, depth: shallow)).text()) → "
                                + summary(selected(results, variant: variant.name, depth: deep)).text()
                        }.joined() + ". The gate bias matters: with b_T = −2 the carried signal is scaled by about 1 − σ(−2) ≈ "
                        + "\(formatted(1 - 1 / (1 + exp(2.0)), 2)) per layer at initialisation, so deep nets start with a vanishing signal; "
                        + "the paper searched b_T in [−1, −10] per net (its Fig. 2 nets used −2 with tanh units).")
            report.text()
        }
        report.text("**Where this departs from the paper.** A subset of MNIST, \(setup.epochs) epoch\(setup.epochs == 1 ? "" : "s") of SGD "
                    + "and a \(setup.learningRates.count)-point learning-rate grid per net, where the paper ran a 100-run random search over learning rate, "
                    + "momentum, decay, activation and gate bias and trained far longer; Kaiming-normal init for every hidden layer. "
                    + "The budget is 2 CPU cores.")
        report.text()
    }
}
