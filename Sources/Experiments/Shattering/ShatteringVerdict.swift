#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Instruments

extension ShatteredGradients {
    /// The paper's thresholds, fixed before any run.
    public enum Thresholds {
        /// Plain nets decay exponentially (Theorem 1: correlation 2^−L, a factor 1/2 per layer, for
        /// inputs whose rectifiers are co-active with probability 1/4). Neighbouring grid points
        /// are co-active more often than that, so we ask for a per-layer factor q ≤ 0.9 (0.9⁵⁰ ≈ 0.005)
        /// rather than 1/2, fitted as ln r̄(1) ≈ a + L·ln q over the depths above the noise floor …
        public static let plainMaximumRate = 0.9
        /// … with the log-linear fit explaining this much of ln r̄(1)'s variance.
        public static let minimumFit = 0.8
        /// Theorem 3 (β = 1): correlation ∼ 1/√L, a power law L^p with p = −1/2. The band around −1/2
        /// accepted for the fitted exponent p of ln r̄(1) ≈ a + p·ln L.
        public static let batchNormExponent = -0.5
        /// … and the half-width of that band: p within −1/2 ± 0.3.
        public static let exponentBand = 0.3
        /// "Decays, but slowly": the BN resnet's exponent must be negative (p ≤ −0.02: it decays),
        /// and its r̄(1) must stay above the plain BN net's and above the noise floor at every depth ≥ 4.
        public static let decayingExponent = -0.02
        /// The depth from which the BN resnet's r̄(1) is compared with the plain BN net's and the noise floor.
        public static let comparedFromDepth = 4
        /// The noise floor of a seed-mean autocorrelation of N grid points: 2/√N (white noise gives r(d) ≈ N(−1/N, 1/N)).
        public static func noiseFloor(gridPoints: Int) -> Double { 2 / Double(gridPoints).squareRoot() }
        /// Looks-linear nets at init with zero biases are linear: the gradient is one number along
        /// the grid, up to Float rounding (relative spread ≤ 10⁻⁴, uncentred lag-1 correlation ≥ 1 − 10⁻⁶).
        public static let linearSpread = 1e-4
        /// … and the uncentred lag-1 correlation (`lag1Cosine`) at least this.
        public static let linearCosine = 1 - 1e-6
    }

    /// The seed mean of r(1) for `architecture` at `depth` (nil when no seed has a non-constant gradient).
    public static func meanLag1(_ results: Results, _ architecture: Architecture, depth: Int,
                                _ convention: BatchNormGradient = .frozenStatistics) -> Double? {
        let values = results.select(architecture, depth: depth).compactMap { $0.correlations(convention).lag1 }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// A least-squares line y ≈ a + b·x: slope b and R².
    public static func line(_ x: [Double], _ y: [Double]) -> (slope: Double, intercept: Double, fit: Double) {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (u, v) in zip(x, y) { sxy += (u - mx) * (v - my); sxx += (u - mx) * (u - mx); syy += (v - my) * (v - my) }
        let slope = sxx > 0 ? sxy / sxx : .nan
        return (slope, my - slope * mx, syy > 0 && sxx > 0 ? sxy * sxy / (sxx * syy) : 1)
    }

    /// Decay fits of the seed-mean r(1) over the depths where it lies above the noise floor:
    /// exponential (per-layer factor q = e^slope of ln r̄ against L) and power law (exponent p,
    /// the slope of ln r̄ against ln L), each with its R²; nil with fewer than two such depths.
    public struct DecayFit: Sendable, Equatable {
        /// The depths fitted: those before the first at the noise floor.
        public var depths: [Int]
        /// Per-layer factor q = e^slope of ln r̄(1) against L, and the fit's R².
        public var rate: Double, rateFit: Double
        /// Power-law exponent p, the slope of ln r̄(1) against ln L, and the fit's R².
        public var exponent: Double, exponentFit: Double
        /// The first depth whose r̄(1) is at or below the floor (nil if none).
        public var firstDepthAtFloor: Int?
    }

    /// The `DecayFit` of `architecture`'s seed-mean r(1) under `convention`; nil with fewer than
    /// two depths above the noise floor.
    public static func decayFit(_ results: Results, _ architecture: Architecture, _ convention: BatchNormGradient = .frozenStatistics) -> DecayFit? {
        let floor = Thresholds.noiseFloor(gridPoints: results.gridPoints)
        var points: [(Int, Double)] = []
        var firstAtFloor: Int?
        for depth in results.depths {
            guard let r = meanLag1(results, architecture, depth: depth, convention) else { continue }
            if r > floor && firstAtFloor == nil { points.append((depth, r)) } else if firstAtFloor == nil { firstAtFloor = depth }
        }
        guard points.count >= 2 else { return nil }
        let exponential = line(points.map { Double($0.0) }, points.map { log($0.1) })
        let power = line(points.map { log(Double($0.0)) }, points.map { log($0.1) })
        return DecayFit(depths: points.map(\.0), rate: exp(exponential.slope), rateFit: exponential.fit,
                        exponent: power.slope, exponentFit: power.fit, firstDepthAtFloor: firstAtFloor)
    }

    public static func verdict(_ results: Results) -> Judgement {
        let floor = Thresholds.noiseFloor(gridPoints: results.gridPoints)
        let deepest = results.depths.max() ?? 0
        var findings: [Finding] = []
        func text(_ value: Double?) -> String { value.map { formatted($0, 3) } ?? "—" }

        // Theorem 1: plain nets decay exponentially — the paper's feedforward net is mean-centred
        // (figure 1's caption: "the 24-layer net uses mean-centering"; the theorem's rectifiers are
        // active for half the inputs and co-active for a quarter, which centring provides). The
        // uncentred plain ReLU net is a side finding.
        func plainFinding(_ architecture: Architecture, _ claim: String, central: Bool) -> Finding {
            if let plain = decayFit(results, architecture) {
                return Finding(
                    claim, holds: plain.rate <= Thresholds.plainMaximumRate && plain.rateFit >= Thresholds.minimumFit,
                    evidence: "r̄(1) falls by a factor q = \(formatted(plain.rate, 3)) per layer (R² \(formatted(plain.rateFit, 2)) over "
                        + "depths \(plain.depths.map(String.init).joined(separator: ", "))"
                        + (plain.firstDepthAtFloor.map { "; at the noise floor \(formatted(floor, 3)) from depth \($0)" } ?? "")
                        + "); need q ≤ \(Thresholds.plainMaximumRate) with R² ≥ \(Thresholds.minimumFit) (paper: q = 1/2 for independent inputs)",
                    isCentral: central)
            }
            let first = results.depths.first.flatMap { meanLag1(results, architecture, depth: $0) }
            return Finding(claim, holds: first.map { $0 > floor } ?? false,
                           evidence: "r̄(1) = \(text(first)) at depth \(results.depths.first ?? 0) and at the noise floor "
                               + "\(formatted(floor, 3)) from the next depth on: faster than any fit can resolve", isCentral: central)
        }
        findings.append(plainFinding(.plainBatchNorm, "in (mean-centred) feedforward rectifier nets the gradient correlation decays "
                                     + "exponentially with depth (Theorem 1, figure 1b; BN, statistics frozen)", central: true))
        if results.measurements.contains(where: { $0.architecture == .plain }) {
            findings.append(plainFinding(.plain, "without any normalisation, plain rectifier nets also decay exponentially", central: false))
        }

        // Theorem 3: BN resnets decay as a power law, slowly.
        if let resnet = decayFit(results, .resnetBatchNorm) {
            let compared = results.depths.filter { $0 >= Thresholds.comparedFromDepth }
            let above = compared.filter { depth in
                guard let r = meanLag1(results, .resnetBatchNorm, depth: depth) else { return false }
                return r > floor && r > (meanLag1(results, .plainBatchNorm, depth: depth) ?? -1)
            }
            findings.append(Finding(
                "in resnets with batch normalization the correlation decays, but slowly (sublinearly) (Theorem 3)",
                holds: resnet.exponent <= Thresholds.decayingExponent && above.count == compared.count,
                evidence: "frozen-statistics r̄(1) of BN resnets: exponent p = \(formatted(resnet.exponent, 3)) (need ≤ \(Thresholds.decayingExponent)); "
                    + "above the plain BN net's and the noise floor at \(above.count) of \(compared.count) depths ≥ \(Thresholds.comparedFromDepth) "
                    + "(r̄(1) at depth \(deepest): \(text(meanLag1(results, .resnetBatchNorm, depth: deepest))) vs plain BN "
                    + "\(text(meanLag1(results, .plainBatchNorm, depth: deepest))))"))
            findings.append(Finding(
                "the BN resnet's correlation falls as 1/√L (Theorem 3, β = 1)",
                holds: abs(resnet.exponent - Thresholds.batchNormExponent) <= Thresholds.exponentBand,
                evidence: "fitted ln r̄(1) ≈ a + p·ln L over depths \(resnet.depths.first ?? 0)–\(resnet.depths.last ?? 0): p = "
                    + "\(formatted(resnet.exponent, 3)) (R² \(formatted(resnet.exponentFit, 2))); need p within "
                    + "\(Thresholds.batchNormExponent) ± \(Thresholds.exponentBand)",
                isCentral: false))
            if let rescaled = decayFit(results, .resnetBatchNormRescaled) {
                let (rBN, rRescaled) = (meanLag1(results, .resnetBatchNorm, depth: deepest), meanLag1(results, .resnetBatchNormRescaled, depth: deepest))
                findings.append(Finding(
                    "β-rescaled branches (β = 0.1) decay slower still (figure 2c, Theorem 3: ∼ 1/(β√L))",
                    holds: rescaled.exponent > resnet.exponent && (rRescaled ?? -1) >= (rBN ?? 2),
                    evidence: "exponent \(formatted(rescaled.exponent, 3)) against \(formatted(resnet.exponent, 3)); r̄(1) at depth \(deepest) "
                        + "\(text(rRescaled)) against \(text(rBN))",
                    isCentral: false))
            }
            let throughBN = meanLag1(results, .resnetBatchNorm, depth: deepest, .throughBatchStatistics)
            let throughPlain = meanLag1(results, .plainBatchNorm, depth: deepest, .throughBatchStatistics)
            findings.append(Finding(
                "with the gradient through the batch statistics, the BN resnet still keeps more correlation than the plain BN net",
                holds: (throughBN ?? -1) > (throughPlain ?? 2),
                evidence: "r̄(1) at depth \(deepest): \(text(throughBN)) against \(text(throughPlain))", isCentral: false))
        } else {
            findings.append(Finding("in resnets with batch normalization the correlation decays, but slowly (sublinearly) (Theorem 3)",
                                    holds: false, evidence: "r̄(1) of BN resnets is at the noise floor \(formatted(floor, 3)) from depth 2 on"))
        }

        // §4: looks-linear nets do not shatter.
        let linear = results.measurements.filter { $0.architecture == .looksLinear }
        if !linear.isEmpty {
            let worstSpread = linear.map(\.batchStatistics.relativeSpread).max() ?? .nan
            let worstCosine = linear.map(\.batchStatistics.lag1Cosine).min() ?? .nan
            findings.append(Finding(
                "looks-linear initialization prevents shattering",
                holds: worstSpread <= Thresholds.linearSpread && worstCosine >= Thresholds.linearCosine,
                evidence: "the gradient's relative spread std/rms along the grid is at most \(scientific(worstSpread)) (need ≤ "
                    + "\(scientific(Thresholds.linearSpread))) and its uncentred lag-1 correlation at least \(formatted(worstCosine, 7)) "
                    + "over \(linear.count) nets up to depth \(deepest)"))
        }
        return Judgement(findings)
    }
}
