#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Instruments

extension DemystifyingResNet {
    /// The paper's thresholds, fixed before any run.
    public enum Thresholds {
        /// Span 2 is "depth-invariant" (abstract; Theorem 1's condition number has no L in it):
        /// for every seed, the largest ratio of condition numbers between two depths is at most this
        /// (exact invariance up to Float rounding for the linear and tanh nets at zero).
        public static let invariantRatio = 1.01
        /// The ReLU nets near zero (our extra) are held to "invariant within noise".
        public static let nearlyInvariantRatio = 1.5
        /// Span 1 "explodes" (abstract: "condition number explodes to infinity as the number of layers
        /// grows"): the geometric-mean condition number must grow by at least this from the smallest to
        /// the largest depth — or be set by the zero threshold (eigenvalues just below τ: unbounded in effect).
        public static let explodingGrowth = 2.0
        /// Span 3: "a high-order stationary point": the Hessian is exactly zero (spectral radius ≤ this).
        public static let vanishingRadius = 1e-12
        /// A gradient norm at or below this is zero (a stationary point).
        public static let zeroGradient = 1e-12
        /// Eigenvalues counted as zero although within this factor below τ mark a condition number set by τ.
        public static let nearThresholdFactor = 1000.0
    }

    /// max|λ|/min|λ| over |λ| > τ·max|λ| (nil when H = 0).
    public static func conditionNumber(_ results: Results, _ m: Measurement) -> Double? {
        results.spectrum(m).absoluteConditionNumber
    }

    /// How many eigenvalues are counted as zero although they lie within a factor 1000 below τ:
    /// the threshold then cuts through a continuous spectrum, and τ, not the spectrum, sets the condition number.
    public static func nearThreshold(_ results: Results, _ m: Measurement) -> Int {
        let spectrum = results.spectrum(m), radius = spectrum.spectralRadius
        guard radius > 0 else { return 0 }
        let tau = results.relativeThreshold
        return spectrum.eigenvalues.filter { abs($0) / radius > tau / Thresholds.nearThresholdFactor && abs($0) / radius <= tau }.count
    }

    /// The geometric mean of positive values (nil if any is missing or not positive).
    public static func geometricMean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        guard !present.isEmpty, present.count == values.count, present.allSatisfy({ $0 > 0 }) else { return nil }
        return exp(present.map { log($0) }.reduce(0, +) / Double(present.count))
    }

    /// Per seed, the largest ratio of the condition numbers of `net` with `span` between any two depths
    /// (infinity when one is missing).
    public static func depthVariation(_ results: Results, _ net: Net, span: Int) -> Double {
        let seeds = Set(results.measurements.map(\.seed)).sorted()
        return seeds.map { seed -> Double in
            let values = results.depths.compactMap { depth in
                results.select(net, span: span, depth: depth).first { $0.seed == seed }.flatMap { conditionNumber(results, $0) }
            }
            return values.count == results.depths.count && !values.isEmpty ? values.max()! / values.min()! : .infinity
        }.max() ?? .infinity
    }

    /// Geometric-mean condition number at the largest depth over that at the smallest.
    public static func conditionGrowth(_ results: Results, _ net: Net, span: Int) -> Double? {
        guard let first = results.depths.min(), let last = results.depths.max() else { return nil }
        let a = geometricMean(results.select(net, span: span, depth: first).map { conditionNumber(results, $0) })
        let b = geometricMean(results.select(net, span: span, depth: last).map { conditionNumber(results, $0) })
        return a.flatMap { a in b.map { $0 / a } }
    }

    public static func verdict(_ results: Results) -> Judgement {
        var findings: [Finding] = []
        let exactNets = [Net.linear, .tanh].filter { net in results.measurements.contains { $0.net == net } }
        for net in exactNets {
            let variation = depthVariation(results, net, span: 2)
            findings.append(Finding(
                "span 2: the condition number at the zero initial point is depth-invariant (\(net.rawValue))",
                holds: variation <= Thresholds.invariantRatio,
                evidence: "largest per-seed ratio between depths \(variation.isFinite ? formatted(variation, 4) : "∞ (H = 0 or missing)") "
                    + "(need ≤ \(Thresholds.invariantRatio))"))
        }
        if results.measurements.contains(where: { $0.net == .relu }) {
            let variation = depthVariation(results, .relu, span: 2)
            findings.append(Finding(
                "span 2: nearly depth-invariant for ReLU nets near zero (our extra)",
                holds: variation <= Thresholds.nearlyInvariantRatio,
                evidence: "largest per-seed ratio between depths \(variation.isFinite ? formatted(variation, 3) : "∞") (need ≤ \(Thresholds.nearlyInvariantRatio))",
                isCentral: false))
        }
        for net in exactNets {
            let runs = results.measurements.filter { $0.net == net && $0.span == 1 }
            let growth = conditionGrowth(results, net, span: 1)
            let limited = runs.filter { nearThreshold(results, $0) > 0 }.count
            findings.append(Finding(
                "span 1: the condition number explodes with depth (\(net.rawValue))",
                holds: (growth ?? 0) >= Thresholds.explodingGrowth || (limited > 0 && limited == runs.count),
                evidence: "geometric-mean condition number grows ×\(growth.map { formatted($0, 2) } ?? "?") from L = \(results.depths.min() ?? 0) "
                    + "to \(results.depths.max() ?? 0) (need ≥ ×\(Thresholds.explodingGrowth)); \(limited) of \(runs.count) runs have a "
                    + "condition number set by the zero threshold τ"))
        }
        for net in exactNets {
            let radii = results.measurements.filter { $0.net == net && $0.span >= 3 }.map { results.spectrum($0).spectralRadius }
            guard !radii.isEmpty else { continue }
            findings.append(Finding(
                "span ≥ 3: the zero initial point is a high-order stationary point, the Hessian vanishes (\(net.rawValue))",
                holds: radii.allSatisfy { $0 <= Thresholds.vanishingRadius },
                evidence: "largest spectral radius \(scientific(radii.max()!)) over \(radii.count) runs (need ≤ 10⁻¹²)"))
        }
        for net in exactNets {
            let one = results.measurements.filter { $0.net == net && $0.span == 1 }.map(\.gradientNorm)
            let more = results.measurements.filter { $0.net == net && $0.span >= 2 }.map(\.gradientNorm)
            guard !one.isEmpty, !more.isEmpty else { continue }
            findings.append(Finding(
                "the zero point is stationary for span ≥ 2 but not for span 1, where the net is the identity map (\(net.rawValue))",
                holds: one.allSatisfy { $0 > Thresholds.zeroGradient } && more.allSatisfy { $0 <= Thresholds.zeroGradient },
                evidence: "‖∇loss‖ at the initial point: span 1 between \(scientific(one.min()!)) and \(scientific(one.max()!)); "
                    + "span ≥ 2 at most \(more.max()! == 0 ? "0" : scientific(more.max()!))",
                isCentral: false))
        }
        return Judgement(findings)
    }
}
