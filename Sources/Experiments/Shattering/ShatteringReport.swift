#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Instruments
import Plot

extension ShatteredGradients {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depths = results.depths, deepest = depths.max() ?? 0
        let floor = Thresholds.noiseFloor(gridPoints: results.gridPoints)
        let architectures = setup.architectures
        func text(_ value: Double?) -> String { value.map { formatted($0, 3) } ?? "const." }

        report.columns(["architecture", "depth", "seed", "batchnorm_gradient", "acf_lag1_centred", "lag1_cosine_uncentred",
                        "relative_spread", "acf_centred_lags"])
        for m in results.measurements {
            let conventions: [BatchNormGradient] = m.frozenStatistics == nil ? [.throughBatchStatistics] : BatchNormGradient.allCases
            for convention in conventions {
                let c = m.correlations(convention)
                report.row([m.architecture.rawValue, m.depth, m.seed, m.frozenStatistics == nil ? "none" : convention.rawValue,
                            c.lag1.map { "\($0)" } ?? "", c.lag1Cosine, c.relativeSpread,
                            c.autocorrelation.map { $0.map { "\($0)" }.joined(separator: ";") } ?? ""])
            }
        }

        report.text("We take a net with one input x and one output y at initialisation, evaluate dy/dx at \(setup.gridPoints) evenly "
                    + "spaced x in [\(formatted(setup.gridLower, 0)), \(formatted(setup.gridUpper, 0))] (the paper's §2 grid), and "
                    + "measure how correlated the gradients of neighbouring points are. **The paper's measure** is the autocorrelation "
                    + "function of figure 2, centred on the mean gradient: r(d) = Σᵢ (gᵢ − ḡ)(gᵢ₊d − ḡ) / Σᵢ (gᵢ − ḡ)²; we report "
                    + "r(1), averaged over seeds (r̄(1)). Next to it, the uncentred lag-1 cosine Σ gᵢgᵢ₊₁ / √(Σgᵢ² Σgᵢ₊₁²) that this "
                    + "experiment reported before: it stays near 1 whenever the gradient has a large mean, however shattered its "
                    + "fluctuations are. White noise gives r(1) ≈ 0 ± 1/√N; below \(formatted(floor, 3)) (2/√N) we call r̄(1) "
                    + "indistinguishable from it.")
        report.text()
        report.text("The nets (L = rectifier layers): plain x_l = ρ(W_l x_{l−1} + b_l) (Theorem 1), optionally with BatchNorm before ρ; "
                    + "the paper's resnet x_l = x_{l−1} + β·(W_l ρ(BN(x_{l−1})) + b_l) after a linear input map (§3, Theorems 2–3; "
                    + "without BN x_{l−1} + W_l ρ(x_{l−1}) + b_l), with β = 1, β = 0.1 (figure 2c) and, as an extra, β = 1/√L; the "
                    + "earlier post-activation block x_{l−1} + ρ(BN(W_l x_{l−1} + b_l)) as an extra row; and the looks-linear CReLU "
                    + "net (§4). Nets without BN: \(setup.seeds.count) seeds; with BN: \(setup.batchNormSeeds.count) seeds.")
        report.text()

        func depthTable(_ convention: BatchNormGradient, only: (Architecture) -> Bool, value: (Architecture, Int) -> String) {
            report.table(header: ["net"] + depths.map { "L = \($0)" },
                         rows: architectures.filter(only).map { a in [a.rawValue] + depths.map { value(a, $0) } })
        }
        report.text("**r̄(1), the paper's centred autocorrelation at lag 1** (BN nets: batch statistics frozen, the convention of "
                    + "the paper's analysis; \"const.\": the gradient is constant along the grid, so r is undefined — the net is linear):")
        report.text()
        depthTable(.frozenStatistics, only: { _ in true }) { a, d in text(meanLag1(results, a, depth: d)) }
        report.text("**r̄(1) with the gradient through the batch statistics** (what backward gives; BN nets only):")
        report.text()
        depthTable(.throughBatchStatistics, only: \.hasBatchNorm) { a, d in text(meanLag1(results, a, depth: d, .throughBatchStatistics)) }
        report.text("**The earlier uncentred lag-1 cosine** (seed mean; BN nets frozen):")
        report.text()
        depthTable(.frozenStatistics, only: { _ in true }) { a, d in
            let values = results.select(a, depth: d).map { $0.correlations(.frozenStatistics).lag1Cosine }
            return values.isEmpty ? "—" : formatted(values.reduce(0, +) / Double(values.count), 3)
        }

        report.text("**Decay fits** of r̄(1) over the depths where it is above the noise floor: exponential r̄ ≈ c·q^L and power "
                    + "law r̄ ≈ c·L^p, each with its R². The paper: q = 1/2 for plain nets (Theorem 1), q = 3/4 for resnets without "
                    + "BN (Theorem 2), p = −1/2 for BN resnets (Theorem 3), all for pairs of inputs whose rectifiers are independently "
                    + "active; neighbouring grid points share most of their active rectifiers, so their correlation decays with the "
                    + "same form but more slowly.")
        report.text()
        var fitRows: [[String]] = []
        for a in architectures where a != .looksLinear {
            for convention in (a.hasBatchNorm ? [BatchNormGradient.frozenStatistics, .throughBatchStatistics] : [.frozenStatistics]) {
                let name = a.rawValue + (a.hasBatchNorm ? " (\(convention == .frozenStatistics ? "frozen" : "through stats"))" : "")
                if let fit = decayFit(results, a, convention) {
                    fitRows.append([name, "\(fit.depths.first!)–\(fit.depths.last!)", formatted(fit.rate, 3), formatted(fit.rateFit, 2),
                                    formatted(fit.exponent, 3), formatted(fit.exponentFit, 2)])
                } else {
                    fitRows.append([name, "fewer than 2 depths above the floor", "—", "—", "—", "—"])
                }
            }
        }
        report.table(header: ["net", "depths fitted", "q per layer", "R² (exp.)", "exponent p", "R² (power)"], rows: fitRows)

        // Figure: r̄(1) against depth, log–log, with the paper's rates.
        let x = depths.map(Double.init)
        var logChart = Chart(title: "r̄(1) against depth (BN: statistics frozen); dashed: the paper's rates", xLabel: "depth L",
                             yLabel: "centred lag-1 autocorrelation r̄(1)", xScale: .log10, yScale: .log10,
                             xRange: Double(depths.min() ?? 1)...Double(Swift.max(deepest, 2)), yRange: (floor / 2)...1.2, width: 760, height: 440)
        for (index, a) in architectures.enumerated() where a != .looksLinear {
            logChart.line(x: x, y: depths.map { Swift.max(meanLag1(results, a, depth: $0) ?? .nan, floor / 2) }, name: a.rawValue,
                          color: Color.palette[index % Color.palette.count], marker: .circle)
        }
        logChart.line(x: x, y: depths.map { pow(2, -Double($0)) }, name: "2^−L (Theorem 1)", color: .gray, style: .dashed, width: 1.25)
        logChart.line(x: x, y: depths.map { pow(0.75, Double($0)) }, name: "(3/4)^L (Theorem 2)", color: .gray, style: .dotted, width: 1.25)
        logChart.line(x: x, y: depths.map { 1 / Double($0).squareRoot() }, name: "1/√L (Theorem 3)", color: .black, style: .dashed, width: 1.25)
        logChart.line(x: [x.first ?? 1, x.last ?? 1], y: [floor, floor], name: "noise floor 2/√N", color: .gray, style: .solid, width: 0.75)
        logChart.legend = .outsideRight
        var throughChart = Chart(title: "BN nets, gradient through the batch statistics", xLabel: "depth L", yLabel: "r̄(1)",
                                 yRange: -0.2...1.05, width: 460, height: 440)
        for (index, a) in architectures.enumerated() where a.hasBatchNorm {
            throughChart.line(x: x, y: depths.map { meanLag1(results, a, depth: $0, .throughBatchStatistics) ?? .nan }, name: a.rawValue,
                              color: Color.palette[index % Color.palette.count], marker: .circle)
        }
        throughChart.legend = .hidden
        var correlation = Figure(rows: 1, columns: 2, title: "Gradient correlation between neighbouring grid points", panelWidth: 760, panelHeight: 440)
        correlation[0, 0] = logChart
        correlation[0, 1] = throughChart
        report.figure(correlation, suffix: "correlation",
                      caption: "r̄(1) against depth; values at or below the noise floor are drawn at half of it")

        // Figure: the gradients at the largest depth.
        let grid = (0..<setup.gridPoints).map { setup.gridLower + (setup.gridUpper - setup.gridLower) * Double($0) / Double(setup.gridPoints - 1) }
        let columns = 4, rows = (architectures.count + columns - 1) / columns
        var panels = Figure(rows: rows, columns: columns, title: "dy/dx along the grid at depth \(deepest) (first seed; BN: frozen statistics)",
                            panelWidth: 300, panelHeight: 240)
        for (index, a) in architectures.enumerated() {
            guard let m = results.select(a, depth: deepest).first, let g = m.correlations(.frozenStatistics).gradients else { continue }
            panels[index / columns, index % columns].title = a.rawValue
            panels[index / columns, index % columns].xAxis.label = "x"
            panels[index / columns, index % columns].line(x: grid, y: g, name: "dy/dx")
            panels[index / columns, index % columns].legend = .hidden
        }
        report.figure(panels, suffix: "gradients", caption: "gradients along the grid")

        report.text("**Where this departs from the paper.** The paper's theorems are about the correlation over random weights between "
                    + "gradients at two inputs whose rectifiers are independently active; we measure the paper's empirical quantity "
                    + "instead, the autocorrelation along the grid at lag 1 (figure 2), whose decay has the theorems' form but not "
                    + "their constants, so the thresholds ask for the form (an exponential factor q ≤ \(Thresholds.plainMaximumRate) per "
                    + "layer for plain nets, a power law with exponent \(Thresholds.batchNormExponent) ± \(Thresholds.exponentBand) for BN "
                    + "resnets). The paper's feedforward net is mean-centred (figure 1's caption), as Theorem 1's assumption — each "
                    + "rectifier active for half the inputs, two inputs co-active a quarter of the time — requires; so the central plain "
                    + "net is the BN one, and the uncentred plain ReLU net is a side finding (we first took the uncentred net as the "
                    + "paper's; the first quick run showed it barely shatters, its rectifiers becoming co-active along the whole line). "
                    + "Biases are N(0, \(formatted(setup.biasStandardDeviation, 2))²): a scalar-input ReLU net without biases is "
                    + "positively homogeneous, so its gradient takes only two values along the line (the paper does not give its biases). "
                    + "Width \(setup.width) and depths up to \(deepest) (the paper: 200 and up to 50).")
    }
}
