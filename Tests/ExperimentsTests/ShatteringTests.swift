import Experiments
import Foundation
import Instruments
import Testing

@Suite("shattering")
struct ShatteringTests {
    typealias E = ShatteredGradients
    typealias A = E.Architecture

    static let depths = [1, 2, 4, 8, 16, 32]

    /// Correlations with centred r(1) = `r` (nil: a constant gradient, as in a linear net).
    func correlations(_ r: Double?) -> E.Correlations {
        r.map { E.Correlations(autocorrelation: [1, $0], lag1Cosine: Swift.max($0, 0.5), relativeSpread: 1) }
            ?? E.Correlations(autocorrelation: nil, lag1Cosine: 1, relativeSpread: 0)
    }

    /// Results where every architecture's r(1) at depth L is `law[architecture](L)`, two seeds each.
    func results(_ law: [A: (Double) -> Double?], gridPoints: Int = 256) -> E.Results {
        var measurements: [E.Measurement] = []
        for (architecture, r) in law {
            for depth in Self.depths {
                for seed: UInt64 in [0, 1] {
                    let c = correlations(r(Double(depth)))
                    measurements.append(E.Measurement(architecture: architecture, depth: depth, seed: seed, batchStatistics: c,
                                                      frozenStatistics: architecture.hasBatchNorm ? c : nil))
                }
            }
        }
        return E.Results(gridPoints: gridPoints, depths: Self.depths, measurements: measurements)
    }

    /// The paper's physics: plain nets 0.98·0.6^(L−1) (exponential), BN resnets 0.98/√L, β = 0.1
    /// resnets 0.98·L^−0.05, looks-linear nets linear (constant gradient).
    var paperLaws: [A: (Double) -> Double?] {
        [.plain: { 0.98 * pow(0.6, $0 - 1) }, .plainBatchNorm: { 0.98 * pow(0.6, $0 - 1) },
         .resnetBatchNorm: { 0.98 / $0.squareRoot() }, .resnetBatchNormRescaled: { 0.98 * pow($0, -0.05) },
         .looksLinear: { _ in nil }]
    }

    @Test func verdicts() {
        #expect(E.verdict(results(paperLaws)).verdict == .agree)
        // BN resnets decay, slowly, but as L^−0.1, not 1/√L: a side claim fails.
        var slow = paperLaws
        slow[.resnetBatchNorm] = { 0.98 * pow($0, -0.1) }
        slow[.resnetBatchNormRescaled] = { 0.98 * pow($0, -0.02) }
        #expect(E.verdict(results(slow)).verdict == .partly)
        // Uncentred plain nets that do not shatter: a side claim fails.
        var uncentred = paperLaws
        uncentred[.plain] = { 0.98 * pow(0.99, $0) }
        #expect(E.verdict(results(uncentred)).verdict == .partly)
        // Plain BN nets that keep their correlation (0.99 per layer): the central claim fails.
        var flat = paperLaws
        flat[.plainBatchNorm] = { 0.98 * pow(0.99, $0 - 1) }
        #expect(E.verdict(results(flat)).verdict == .disagree)
        // BN resnets that shatter as fast as plain nets.
        var shattered = paperLaws
        shattered[.resnetBatchNorm] = { 0.98 * pow(0.6, $0 - 1) }
        #expect(E.verdict(results(shattered)).verdict == .disagree)
        // Looks-linear nets whose gradient varies along the grid.
        var curved = paperLaws
        curved[.looksLinear] = { _ in 0.99 }
        #expect(E.verdict(results(curved)).verdict == .disagree)
    }

    @Test func decayFitRecoversTheLaws() {
        let r = results(paperLaws)
        let plain = E.decayFit(r, .plainBatchNorm)!
        #expect(abs(plain.rate - 0.6) < 1e-9 && abs(plain.rateFit - 1) < 1e-9)
        #expect(plain.depths == [1, 2, 4] && plain.firstDepthAtFloor == 8)   // 0.98·0.6⁷ = 0.027 < 2/√256
        let resnet = E.decayFit(r, .resnetBatchNorm)!
        #expect(abs(resnet.exponent + 0.5) < 1e-9 && abs(resnet.exponentFit - 1) < 1e-9)
    }

    /// The quick setup's nets at depth 1 and 16, checked against what the physics fixes:
    ///
    /// - depth 1. The gradient of one rectifier layer is a step function of x (it jumps where a
    ///   rectifier switches). For a sequence c = g − ḡ, Σᵢ cᵢcᵢ₊₁ = ½(2Σc² − c₀² − c²_{N−1} − Σ(cᵢ₊₁ − cᵢ)²), so
    ///   1 − r(1) = (c₀² + c²_{N−1} + Σ(Δg)²) / (2Σc²). One jump of size Δ in the middle of the grid gives
    ///   c = ∓Δ/2, Σc² = NΔ²/4, Σ(Δg)² = Δ²: 1 − r(1) = 3/N exactly. With BatchNorm (statistics frozen)
    ///   every rectifier of the first layer switches at the grid's mean, x = 0, between the two middle
    ///   points: 3/N for every BN net. Without BatchNorm the switches sit at −bᵢ/wᵢ (b ~ N(0, 0.1²),
    ///   w ~ N(0, 2)), mostly near 0, spread over several steps: about 3/N, and we allow 6/N on average.
    /// - looks-linear nets: with zero biases they are exactly linear at init, so the gradient is one
    ///   number along the grid (relative spread 0 up to rounding, uncentred correlation 1) at every depth.
    @Test func quickSetupInvariants() throws {
        var setup = E.Setup.quick
        setup.depths = [1, 16]
        setup.seeds = [0, 1]
        setup.batchNormSeeds = [0]
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        let n = Double(setup.gridPoints)
        for architecture in A.allCases where architecture.hasBatchNorm {
            let r = results.select(architecture, depth: 1)[0].frozenStatistics!.lag1!
            #expect(abs(1 - r - 3 / n) < 1e-4, "\(architecture.rawValue): 1 − r(1) = \(1 - r), 3/N = \(3 / n)")
        }
        for architecture in [A.plain, .resnet] {
            let values = results.select(architecture, depth: 1).map { 1 - $0.batchStatistics.lag1! }
            #expect(values.reduce(0, +) / Double(values.count) <= 6 / n, "\(architecture.rawValue): 1 − r(1) = \(values)")
        }
        for m in results.measurements where m.architecture == .looksLinear {
            #expect(m.batchStatistics.relativeSpread <= 1e-4 && m.batchStatistics.lag1Cosine >= 1 - 1e-6, "depth \(m.depth)")
        }
        // Deep plain BN nets shatter; their resnet twins keep much of the correlation.
        let plain = E.meanLag1(results, .plainBatchNorm, depth: 16)!, resnet = E.meanLag1(results, .resnetBatchNorm, depth: 16)!
        #expect(plain < 0.3 && resnet > plain + 0.3, "plain \(plain), resnet \(resnet)")
    }
}
