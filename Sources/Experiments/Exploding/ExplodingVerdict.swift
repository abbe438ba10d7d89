#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ExplodingGradients {
    /// The paper's thresholds, fixed before any run.
    public enum Thresholds {
        /// A per-layer GSC growth rate r = exp(slope of ln GSC(k, 0) over k) at or above this
        /// counts as exponential growth (1.05 compounds to 11× over 50 layers).
        public static let exponentialRate = 1.05
        /// The log-linear fit must explain this much of ln GSC's variance over depth.
        public static let minimumFit = 0.9
        /// Of the plain architectures, at least this many must explode: the paper's "a range of
        /// popular architectures".
        public static let minimumExplodingPlain = 3
        /// A residual twin "reduces" the GSC when its GSC at the top is at most this fraction of the plain net's.
        public static let residualReduction = 0.1
    }

    /// The mean-field per-layer GSC growth of a plain BatchNorm-ReLU MLP at initialisation,
    /// √(π/(π − 1)) ≈ 1.21 (the paper's §4 / appendix analysis).
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
