import Experiments
import Foundation
import Models
import Testing

@Suite("exploding")
struct ExplodingTests {
    typealias E = ExplodingGradients

    /// A profile GSC(k, 0) = rate^k for k = 0 … depth + 1.
    func profile(rate: Double, depth: Int) -> [Double] { (0...(depth + 1)).map { pow(rate, Double($0)) } }

    /// Results where the plain nets grow by `plainRates` per layer and each residual twin by `residualRate`.
    func results(plainRates: [Double], residualRate: Double, depth: Int = 50) -> E.Results {
        let nonlinearities: [Nonlinearity] = [.relu, .tanh, .selu]
        var measurements: [E.Measurement] = []
        for (index, rate) in plainRates.enumerated() {
            let nonlinearity = nonlinearities[index % 3], normalization: FeatureNormalization = index < 3 ? .none : .batch
            measurements.append(E.Measurement(architecture: .init(nonlinearity: nonlinearity, normalization: normalization, residual: false),
                                              gscBySeed: [profile(rate: rate, depth: depth), profile(rate: rate, depth: depth)]))
            measurements.append(E.Measurement(architecture: .init(nonlinearity: nonlinearity, normalization: normalization, residual: true),
                                              gscBySeed: [profile(rate: residualRate, depth: depth)]))
        }
        return E.Results(depth: depth, measurements: measurements)
    }

    @Test func growthRateIsTheFittedRatio() {
        let r = results(plainRates: [1.3], residualRate: 1)
        let growth = E.growth(r.measurements[0], depth: 20)
        #expect(abs(growth.rate - 1.3) < 1e-9 && abs(growth.fit - 1) < 1e-9)
    }

    @Test func verdicts() {
        // Four of six plain nets explode at 1.21 per layer (BN-ReLU at the mean-field rate), residual twins stay flat.
        let agree = results(plainRates: [1.0, 1.1, 1.15, 1.21, 1.2, 1.25], residualRate: 1.0)
        #expect(E.verdict(agree).verdict == .agree)
        // Exploding nets, but BN-ReLU far from the mean-field rate: a side claim fails.
        let partly = results(plainRates: [1.0, 1.1, 1.15, 1.6, 1.2, 1.25], residualRate: 1.0)
        #expect(E.verdict(partly).verdict == .partly)
        // No plain net grows: the central claim fails.
        let none = results(plainRates: [1.0, 1.01, 0.99, 1.0, 1.02, 1.0], residualRate: 1.0)
        #expect(E.verdict(none).verdict == .disagree)
        // Plain nets explode but the residual twins explode as much.
        let residualExplodes = results(plainRates: [1.0, 1.1, 1.15, 1.21, 1.2, 1.25], residualRate: 1.25)
        #expect(E.verdict(residualExplodes).verdict == .disagree)
        // Four plain nets explode, but SeLU (named in the paper's abstract) does not: central, disagree.
        let seluFlat = results(plainRates: [1.0, 1.1, 1.0, 1.21, 1.2, 1.25], residualRate: 1.0)
        #expect(E.verdict(seluFlat).verdict == .disagree)
        // Plain ReLU without normalisation explodes too, against the paper's §3–4: a side claim fails.
        let reluExplodes = results(plainRates: [1.2, 1.1, 1.15, 1.21, 1.2, 1.25], residualRate: 1.0)
        #expect(E.verdict(reluExplodes).verdict == .partly)
    }

    /// Effective depth Σ q_b from hand-made branch shares: ½ per block over 4 blocks is 2, and the
    /// path-length distribution is Binomial(4, ½).
    @Test func effectiveDepthFromBranchShares() {
        let m = E.Measurement(architecture: .init(nonlinearity: .relu, normalization: .batch, residual: true),
                              gscBySeed: [[1]], branchSharesBySeed: [[0.5, 0.5, 0.5, 0.5]])
        #expect(m.effectiveDepthBySeed == [2])
        let binomial: [Double] = [1, 4, 6, 4, 1].map { $0 / 16 }
        let distribution: [Double] = m.pathProfiles![0].distribution
        #expect(zip(distribution, binomial).allSatisfy { abs($0 - $1) < 1e-12 } && distribution.count == 5)
        #expect(m.pathProfiles![0].depth(carrying: 0.9) == 3)   // 11/16 < 0.9 ≤ 15/16
    }

    @Test func quickSetupInvariants() throws {
        var setup = E.Setup.quick
        setup.seeds = [0]
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        let relu = results.measurements.first { $0.architecture == .init(nonlinearity: .relu, normalization: .batch, residual: false) }!
        let reluResidual = results.measurements.first { $0.architecture == .init(nonlinearity: .relu, normalization: .batch, residual: true) }!
        // GSC(0, 0) = 1 by definition; a residual BN net's GSC is far below its plain twin's.
        #expect(results.measurements.allSatisfy { $0.gscBySeed.allSatisfy { $0[0] == 1 } })
        #expect(reluResidual.gscBySeed[0][setup.depth] * 10 < relu.gscBySeed[0][setup.depth])
        // Plain BN-ReLU grows exponentially, near the mean-field rate √(π/(π−1)) ≈ 1.21.
        let growth = E.growth(relu, depth: setup.depth)
        #expect(growth.rate > 1.1 && growth.rate < 1.35, "rate \(String(describing: growth.rate))")
        // Residual nets carry branch shares in [0, 1] for each of their blocks, plain nets none; the
        // effective depth lies strictly between 0 (identities) and the number of blocks (plain).
        for m in results.measurements {
            guard m.architecture.residual else { #expect(m.branchSharesBySeed == nil); continue }
            let shares = m.branchSharesBySeed![0]
            #expect(shares.count == setup.depth && shares.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(m.architecture.label)")
            #expect(m.effectiveDepthBySeed![0] > 0 && m.effectiveDepthBySeed![0] < Double(setup.depth), "\(m.architecture.label)")
        }
    }
}
