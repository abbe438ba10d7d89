#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ExplodingGradients {
    /// The paper's thresholds, fixed before any run.
    public enum Thresholds {
        /// Exploding gradients are a GSC that grows exponentially with depth (the paper's definition,
        /// §3: GSC(k, l) ≈ r^(k−l) with r > 1). We count a fitted per-layer rate r = exp(slope of ln
        /// GSC(k, 0) over k) at or above 1.05 (11× over 50 layers, the paper's depth) as exponential growth …
        public static let exponentialRate = 1.05
        /// … when the log-linear fit explains this much of ln GSC's variance over depth. The fit is on
        /// the seed mean of ln GSC at every layer k = 1 … depth: a net growing by r ≥ 1.05 per layer
        /// gains ≥ 0.05 per layer in ln GSC, against seed-to-seed noise of a few hundredths at width 100,
        /// so R² ≥ 0.9 separates steady growth from noise even with 2–3 seeds; a net whose GSC only
        /// wanders (R² < 0.9) is not exploding, whatever its endpoint.
        public static let minimumFit = 0.9
        /// Of the plain architectures, at least this many must explode: the paper's "a range of
        /// popular architectures" (abstract, §3).
        public static let minimumExplodingPlain = 3
        /// The architectures the paper names as exploding although believed to "solve" the problem
        /// (abstract: batch normalization and SeLU; §3): these must explode (central).
        public static let namedExploding: [Architecture] = [
            Architecture(nonlinearity: .relu, normalization: .batch, residual: false),
            Architecture(nonlinearity: .selu, normalization: .none, residual: false),
        ]
        /// Plain ReLU without normalisation is positively homogeneous, and the paper finds no exploding
        /// gradients in it (§3–4: its GSC stays near 1; its problem is a collapsing domain instead): a
        /// side finding that it does not explode.
        public static let notExploding: [Architecture] = [Architecture(nonlinearity: .relu, normalization: .none, residual: false)]
        /// A residual twin "reduces" the GSC when its GSC at the top is at most this fraction of the
        /// plain net's (the paper's §6: ResNets reduce the gradient explosion, by orders of magnitude at depth 50).
        public static let residualReduction = 0.1
    }

    /// The mean-field per-layer GSC growth of a plain BatchNorm-ReLU MLP at initialisation,
    /// √(π/(π − 1)) ≈ 1.21: BatchNorm divides the backward signal by the standard deviation of
    /// ReLU features, √((π − 1)/π) of their root mean square (Yang et al. 2019, "A mean field theory
    /// of batch normalization", arXiv:1902.08129; Philipp et al. measure BN-ReLU's explosion, §3).
    public static let batchNormReLUMeanFieldRate = (Double.pi / (Double.pi - 1)).squareRoot()

    /// ln GSC(k, 0) fitted as a + k·ln r over the hidden layers k = 1 … depth (seed means of ln GSC):
    /// the growth rate r and the fit's R².
    public static func growth(_ measurement: Measurement, depth: Int) -> (rate: Double, fit: Double) {
        let layers = Array(1...depth)
        let logs = layers.map { k in measurement.gscBySeed.map { log($0[k]) }.reduce(0, +) / Double(measurement.gscBySeed.count) }
        let n = Double(layers.count)
        let meanK = layers.reduce(0) { $0 + Double($1) } / n, meanLog = logs.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (k, y) in zip(layers, logs) {
            sxy += (Double(k) - meanK) * (y - meanLog)
            sxx += (Double(k) - meanK) * (Double(k) - meanK)
            syy += (y - meanLog) * (y - meanLog)
        }
        let slope = sxy / sxx
        let fit = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1
        return (exp(slope), fit)
    }

    /// GSC at the top hidden layer, averaged over seeds.
    static func topGSC(_ measurement: Measurement, depth: Int) -> Double {
        measurement.gscBySeed.map { $0[depth] }.reduce(0, +) / Double(measurement.gscBySeed.count)
    }

    public static func verdict(_ results: Results) -> Judgement {
        let depth = results.depth
        let plain = results.measurements.filter { !$0.architecture.residual }
        let exploding = plain.filter {
            let g = growth($0, depth: depth)
            return g.rate >= Thresholds.exponentialRate && g.fit >= Thresholds.minimumFit
        }
        let explodingNames = exploding.map(\.architecture.label).joined(separator: ", ")
        var findings = [Finding(
            "GSC grows exponentially with depth in a range of popular plain architectures",
            holds: exploding.count >= Thresholds.minimumExplodingPlain,
            evidence: "\(exploding.count) of \(plain.count) plain architectures have a per-layer rate ≥ \(Thresholds.exponentialRate) "
                + "with R² ≥ \(Thresholds.minimumFit)" + (exploding.isEmpty ? "" : " (\(explodingNames))")
                + "; need ≥ \(Thresholds.minimumExplodingPlain)")]
        let pairs = exploding.compactMap { p -> (Measurement, Measurement)? in
            var twin = p.architecture
            twin.residual = true
            return results.measurements.first { $0.architecture == twin }.map { (p, $0) }
        }
        let reduced = pairs.filter { topGSC($0.1, depth: depth) <= Thresholds.residualReduction * topGSC($0.0, depth: depth) }
        findings.append(Finding(
            "residual connections reduce the GSC of the exploding architectures",
            holds: !pairs.isEmpty && reduced.count == pairs.count,
            evidence: "the residual twin's GSC(\(depth), 0) is ≤ \(Thresholds.residualReduction)× the plain net's in \(reduced.count) "
                + "of \(pairs.count) exploding architectures"))
        func explodes(_ m: Measurement) -> Bool {
            let g = growth(m, depth: depth)
            return g.rate >= Thresholds.exponentialRate && g.fit >= Thresholds.minimumFit
        }
        let named = Thresholds.namedExploding.compactMap { a in results.measurements.first { $0.architecture == a } }
        if !named.isEmpty {
            let failing = named.filter { !explodes($0) }
            findings.insert(Finding(
                "the architectures believed to solve the problem — batch normalization (ReLU) and SeLU — have exploding gradients",
                holds: failing.isEmpty,
                evidence: named.map { m in
                    let g = growth(m, depth: depth)
                    return "\(m.architecture.label): r = \(formatted(g.rate, 3)), R² \(formatted(g.fit, 2))"
                }.joined(separator: "; ") + " (need r ≥ \(Thresholds.exponentialRate) with R² ≥ \(Thresholds.minimumFit) for each)"), at: 1)
        }
        for m in Thresholds.notExploding.compactMap({ a in results.measurements.first { $0.architecture == a } }) {
            let g = growth(m, depth: depth)
            findings.append(Finding(
                "\(m.architecture.label) (positively homogeneous) does not explode",
                holds: !explodes(m),
                evidence: "r = \(formatted(g.rate, 3)), R² \(formatted(g.fit, 2)) (exploding means r ≥ \(Thresholds.exponentialRate) with R² ≥ \(Thresholds.minimumFit))",
                isCentral: false))
        }
        if let bn = plain.first(where: { $0.architecture.nonlinearity == .relu && $0.architecture.normalization == .batch }) {
            let rate = growth(bn, depth: depth).rate
            findings.append(Finding(
                "a plain BatchNorm-ReLU net's GSC grows by about √(π/(π−1)) ≈ 1.21 per layer (mean field)",
                holds: abs(rate / batchNormReLUMeanFieldRate - 1) <= 0.1,
                evidence: "measured \(formatted(rate, 3)) per layer (within 10% of \(formatted(batchNormReLUMeanFieldRate, 3)) required)",
                isCentral: false))
        }
        return Judgement(findings)
    }
}
