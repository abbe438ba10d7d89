import Plot

extension ExplodingGradients {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depth = results.depth
        report.columns(["architecture", "seed", "layer", "gsc_to_first_hidden"])
        var chart = Chart(title: "GSC(k, 0) at initialisation, width \(setup.width)", xLabel: "layer k",
                          yLabel: "gradient scale coefficient", yScale: .log10)
        var rows: [[String]] = []
        for measurement in results.measurements {
            let label = measurement.architecture.label
            for (seed, profile) in zip(setup.seeds, measurement.gscBySeed) {
                for (layer, value) in profile.enumerated() { report.row([label, seed, layer, value]) }
            }
            let layers = measurement.gscBySeed[0].indices
            let means = layers.map { k in meanAndSpread(measurement.gscBySeed.map { $0[k] }).mean }
            chart.line(x: layers.map(Double.init), y: means, name: label, style: measurement.architecture.residual ? .dashed : .solid)
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
    }
}
