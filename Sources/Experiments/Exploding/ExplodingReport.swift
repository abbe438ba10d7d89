import Plot

extension ExplodingGradients {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depth = results.depth
        report.columns(["architecture", "seed", "layer", "gsc_to_first_hidden"])
        var chart = Chart(title: "GSC(k, 0) at initialisation, width \(setup.width)", xLabel: "layer k",
                          yLabel: "gradient scale coefficient", yScale: .log10)
        var rows: [[String]] = []
        var pairs: [String] = []   // one colour per nonlinearity and normalisation; residual twins dashed
        for measurement in results.measurements {
            let label = measurement.architecture.label
            let pair = "\(measurement.architecture.nonlinearity.rawValue) \(measurement.architecture.normalization.rawValue)"
            if !pairs.contains(pair) { pairs.append(pair) }
            let color = Color.palette[pairs.firstIndex(of: pair)! % Color.palette.count]
            for (seed, profile) in zip(setup.seeds, measurement.gscBySeed) {
                for (layer, value) in profile.enumerated() { report.row([label, seed, layer, value]) }
            }
            let layers = measurement.gscBySeed[0].indices
            let means = layers.map { k in meanAndSpread(measurement.gscBySeed.map { $0[k] }).mean }
            chart.line(x: layers.map(Double.init), y: means, name: label, color: color, style: measurement.architecture.residual ? .dashed : .solid)
            let growth = growth(measurement, depth: depth)
            let top = meanAndSpread(measurement.gscBySeed.map { $0[depth] })
            let meanField = measurement.architecture == Architecture(nonlinearity: .relu, normalization: .batch, residual: false)
                ? " (mean field \(formatted(batchNormReLUMeanFieldRate, 3)))" : ""
            rows.append([label, "\(scientific(top.mean)) ± \(scientific(top.spread))", formatted(growth.rate, 3) + meanField,
                         formatted(growth.fit, 3)])
        }
        report.text("GSC(k, 0) = ‖∂f_k/∂f_0‖_qm · ‖f_0‖_qm / ‖f_k‖_qm from the first hidden layer f_0 to layer k, Jacobian norms from "
                    + "\(setup.projections) random projections per example, batch means; the per-layer growth rate r fits "
                    + "ln GSC(k, 0) ≈ a + k ln r over k = 1 … \(depth) (seed means of ln GSC).")
        report.text()
        report.table(header: ["architecture", "GSC(\(depth), 0), mean ± std over seeds", "growth rate r per layer", "R² of the fit"],
                     rows: rows)
        report.figure(Figure(single: chart), suffix: "gsc", caption: "GSC against depth")

        // Effective depth of the residual nets (EffectiveDepth.swift).
        let residual = results.measurements.filter { $0.architecture.residual && $0.branchSharesBySeed != nil }
        if !residual.isEmpty {
            report.text("**Effective depth of the residual nets** (the paper's §6: a ResNet behaves like a net as deep as the paths "
                        + "that carry its gradient). Per block b, the branch share q_b = ‖R_b‖²/(‖S_b‖² + ‖R_b‖²) of the squared "
                        + "Jacobian norm (branch R_b, shortcut S_b, on the same batch, BatchNorm in training mode); if paths are "
                        + "orthogonal, the squared gradient splits over paths by the number λ of branches they pass, a "
                        + "Poisson-binomial distribution with mean Σ_b q_b (the effective depth, in blocks of \(depth)) — our reading "
                        + "of the paper's argument, see Sources/Instruments/EffectiveDepth.swift; the paper's own effective depth is "
                        + "the length of the longest paths that still contribute, here the λ below which 90% of the squared gradient "
                        + "lies.")
            report.text()
            report.table(header: ["architecture", "effective depth Σ q_b (mean ± std over seeds)", "λ carrying 90%", "mean q_b, first / last block"],
                         rows: residual.map { m in
                             let depths = m.effectiveDepthBySeed ?? [], profiles = m.pathProfiles ?? []
                             let ninety = profiles.map { Double($0.depth(carrying: 0.9)) }
                             let shares = m.branchSharesBySeed ?? []
                             let first = meanAndSpread(shares.compactMap(\.first)).mean, last = meanAndSpread(shares.compactMap(\.last)).mean
                             return [m.architecture.label, meanAndSpreadText(depths, 2), meanAndSpreadText(ninety, 1),
                                     "\(formatted(first, 3)) / \(formatted(last, 3))"]
                         })
        }
        report.text("**Which architectures the paper expects to explode** (abstract, §3): nets with batch normalization and SeLU nets, "
                    + "believed to solve the problem, still explode (central); plain ReLU, positively homogeneous, keeps its GSC near 1 (side). Where this departs "
                    + "from the paper: Gaussian inputs of width \(setup.width) rather than CIFAR10, \(setup.seeds.count) seeds, and the GSC "
                    + "from \(setup.projections) random projections per example rather than exact Jacobians.")
    }
}
