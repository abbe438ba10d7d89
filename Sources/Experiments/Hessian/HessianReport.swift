import Instruments
import Plot

extension DemystifyingResNet {
    public static func report(_ results: Results, setup: Setup, into report: inout Report) throws {
        let depths = results.depths, spans = results.spans, width = setup.width
        let tau = results.relativeThreshold
        report.columns(["net", "span", "depth", "seed", "parameters", "gradient_norm", "spectral_radius", "condition_number", "positive",
                        "negative", "near_zero", "smallest_nonzero_relative", "just_below_threshold"])
        for m in results.measurements {
            let s = results.spectrum(m), radius = s.spectralRadius
            let smallest = s.eigenvalues.map(Swift.abs).filter { $0 > s.zeroThreshold }.min().map { $0 / radius }
            report.row([m.net.rawValue, m.span, m.depth, m.seed, m.eigenvalues.count, m.gradientNorm, radius,
                        s.absoluteConditionNumber.map { "\($0)" } ?? "", s.positiveCount, s.negativeCount, s.nearZeroCount,
                        smallest.map { "\($0)" } ?? "", nearThreshold(results, m)])
        }
        func conditions(_ net: Net, _ span: Int, _ depth: Int) -> [Double?] {
            results.select(net, span: span, depth: depth).map { conditionNumber(results, $0) }
        }
        func radius(_ net: Net, _ span: Int, _ depth: Int) -> (mean: Double, spread: Double) {
            meanAndSpread(results.select(net, span: span, depth: depth).map { results.spectrum($0).spectralRadius })
        }
        func nonzeroFraction(_ net: Net, _ span: Int, _ depth: Int) -> Double {
            meanAndSpread(results.select(net, span: span, depth: depth).map { m in
                let s = results.spectrum(m)
                return Double(s.positiveCount + s.negativeCount) / Double(max(1, s.eigenvalues.count))
            }).mean
        }

        report.text("Fully connected nets x → W_in → L hidden layers of width \(width) → W_out, with a shortcut y = x + F(x) around every "
                    + "k = \(spans.map(String.init).joined(separator: ", ")) hidden layers (F = k consecutive units u(h) = act(W·h)). Hidden "
                    + "weights exactly zero for the linear and tanh nets (the paper's zero initial point; tanh(0) = 0, tanh′(0) = 1); for "
                    + "the ReLU nets N(0, (10⁻⁶·√(2/\(width)))²), since at exactly zero every ReLU branch has zero derivative. W_in and "
                    + "W_out random orthogonal and fixed, biases zero. Loss: mean squared error over \(setup.batch) Gaussian inputs with "
                    + "targets from a random linear teacher. The Hessian is taken over the hidden weights only (\(width * width) per "
                    + "layer), exactly (one double-backward pass per row), and diagonalised in Double. Eigenvalues with |λ| ≤ τ·max|λ|, "
                    + "τ = \(scientific(tau)), count as zero; the condition number is max|λ|/min|λ| over the rest (the zero point is a "
                    + "saddle, so the positive part alone would ignore half the curvature). Seeds draw the data, teacher, W_in, W_out "
                    + "and the ReLU nets' directions.")
        report.text()
        func depthTable(_ cell: (Net, Int, Int) -> String) {
            report.table(header: ["net", "k"] + depths.map { "L = \($0)" },
                         rows: setup.nets.flatMap { net in spans.map { span in [net.rawValue, "\(span)"] + depths.map { cell(net, span, $0) } } })
        }
        report.text("**Condition number** max|λ|/min|λ| over |λ| > τ: geometric mean over seeds [min–max]; † marks a condition number "
                    + "set by the zero threshold τ, not by the spectrum (for some seed, eigenvalues counted as zero lie within a factor "
                    + "\(formatted(Thresholds.nearThresholdFactor, 0)) below τ: the threshold cuts through a continuous spectrum); — means H = 0.")
        report.text()
        depthTable { net, span, depth in
            let values = conditions(net, span, depth)
            guard let mean = geometricMean(values) else { return "—" }
            let present = values.compactMap { $0 }
            let dagger = results.select(net, span: span, depth: depth).contains { nearThreshold(results, $0) > 0 } ? "†" : ""
            return "\(scientific(mean)) [\(scientific(present.min()!))–\(scientific(present.max()!))]\(dagger)"
        }
        report.text("**Spectral radius** max|λ| (mean ± std over seeds) and, in brackets, the mean fraction of eigenvalues above τ:")
        report.text()
        depthTable { net, span, depth in
            let r = radius(net, span, depth)
            return "\(r.mean == 0 ? "0" : scientific(r.mean)) ± \(r.spread == 0 ? "0" : scientific(r.spread)) [\(formatted(nonzeroFraction(net, span, depth), 2))]"
        }
        report.text("**Gradient norm ‖∂loss/∂θ‖ at the initial point** (mean over seeds). With span 1 the zero point is the identity map "
                    + "W_out·W_in, which does not fit the teacher, so the gradient is not zero: it is not a stationary point. With "
                    + "span ≥ 2 every branch's derivative with respect to one of its weights carries a factor of another (zero) weight, "
                    + "so the gradient vanishes: a stationary point — a strict saddle for span 2, flat to second order for span ≥ 3.")
        report.text()
        depthTable { net, span, depth in
            let mean = meanAndSpread(results.select(net, span: span, depth: depth).map(\.gradientNorm)).mean
            return mean == 0 ? "0" : scientific(mean)
        }
        let limited = setup.nets.flatMap { net in
            spans.flatMap { span in
                depths.compactMap { depth -> String? in
                    results.select(net, span: span, depth: depth).contains { nearThreshold(results, $0) > 0 } ? "\(net.rawValue) k = \(span) L = \(depth)" : nil
                }
            }
        }
        report.text("**Where τ, not the spectrum, sets the condition number:** "
                    + (limited.isEmpty ? "nowhere in this run." : limited.joined(separator: "; ") + ". There the spectrum runs on continuously "
                       + "below τ, so max|λ|/min|λ| is about 1/τ or the spread of the few eigenvalues above it, and would change with τ: in "
                       + "effect the condition number is unbounded."))
        report.text()

        // Plots: condition number, spectral radius and the nonzero fraction against depth.
        let size = (width: 430.0, height: 360.0)
        var panels = Figure(rows: 1, columns: 3, title: "Hessian of the hidden weights at the initial point (width \(width), geometric mean over seeds)",
                            panelWidth: size.width, panelHeight: size.height)
        panels[0, 0] = Chart(title: "condition number max|λ| / min|λ|, |λ| > τ", xLabel: "depth (hidden layers)", yLabel: "condition number",
                             yScale: .log10, width: size.width, height: size.height)
        panels[0, 1] = Chart(title: "spectral radius max|λ| (mean)", xLabel: "depth (hidden layers)", yLabel: "max |λ|", yScale: .log10,
                             width: size.width, height: size.height)
        panels[0, 2] = Chart(title: "fraction of eigenvalues with |λ| > τ (mean)", xLabel: "depth (hidden layers)", yLabel: "fraction",
                             yRange: 0...1.05, width: size.width, height: size.height)
        let markers: [Int: Marker] = [1: .circle, 2: .square, 3: .triangle]
        let styles: [Net: LineStyle] = [.linear: .solid, .tanh: .dotted, .relu: .dashed]
        let x = depths.map(Double.init)
        for net in setup.nets {
            for span in spans {
                let name = "\(net.rawValue), k = \(span)", color = Color.palette[(span - 1) % Color.palette.count]
                let style = styles[net] ?? .solid
                panels[0, 0].line(x: x, y: depths.map { geometricMean(conditions(net, span, $0)) ?? .nan }, name: name, color: color,
                                  style: style, marker: markers[span])
                panels[0, 1].line(x: x, y: depths.map { radius(net, span, $0).mean }, name: name, color: color, style: style, marker: markers[span])
                panels[0, 2].line(x: x, y: depths.map { nonzeroFraction(net, span, $0) }, name: name, color: color, style: style, marker: markers[span])
            }
        }
        panels[0, 0].legend = .outsideRight
        panels[0, 1].legend = .hidden
        panels[0, 2].legend = .hidden
        report.figure(panels, suffix: "condition", caption: "condition number, spectral radius and nonzero fraction against depth")

        // The spectra at the largest depth, first seed: |λ| / max|λ| in descending order.
        let deepest = depths.max() ?? 0
        var spectra = Figure(rows: 1, columns: setup.nets.count,
                             title: "Sorted |eigenvalues| / max|λ| at depth \(deepest) (first seed); dotted: the threshold τ",
                             panelWidth: 480, panelHeight: 340)
        for (column, net) in setup.nets.enumerated() {
            spectra[0, column] = Chart(title: net.rawValue, xLabel: "rank / number of parameters", yLabel: "|λ| / max|λ|",
                                       yScale: .log10, yRange: 1e-16...2, width: 480, height: 340)
            for span in spans {
                guard let m = results.select(net, span: span, depth: deepest).first else { continue }
                let s = results.spectrum(m)
                guard s.spectralRadius > 0 else { continue }
                let magnitudes = s.eigenvalues.map { Swift.abs($0) / s.spectralRadius }.sorted(by: >)
                let n = Double(magnitudes.count)
                spectra[0, column].line(x: magnitudes.indices.map { Double($0 + 1) / n }, y: magnitudes.map { Swift.max($0, 1e-16) },
                                        name: "k = \(span)", color: Color.palette[(span - 1) % Color.palette.count], marker: nil)
            }
            spectra[0, column].line(x: [0, 1], y: [tau, tau], color: .gray, style: .dotted, width: 1.25)
        }
        report.figure(spectra, suffix: "spectrum", caption: "sorted eigenvalue magnitudes at the largest depth")

        report.text("**Where this departs from the paper.** Our model (fixed W_in and W_out, the Hessian over the residual branches, "
                    + "MSE to a linear teacher) is our reading of the paper's setting; with k = 1 the zero point is the identity map, "
                    + "so this is the Hessian of a plain linear net at the identity initialisation W = I + V, the sense in which the "
                    + "paper calls shortcut 1 \"essentially equivalent to no shortcuts\". Widths \(width) and depths up to \(deepest): "
                    + "the exact Hessian has (L·\(width * width))² entries.")
    }
}
