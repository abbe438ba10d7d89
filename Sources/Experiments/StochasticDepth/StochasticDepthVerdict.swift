extension StochasticDepth {
    /// The paper's thresholds, fixed before any run.
    public enum Thresholds {
        /// Table 2: training time 20h42m → 15h7m on CIFAR-10 (27% less), ≈ the 25% of the expected
        /// depth 3L/4 (§3). Holds when the time per epoch falls by at least this fraction (60% of
        /// the claimed 25%: our stem, fc, optimiser update and data loading do not shrink with depth).
        public static let minimumTimeSaving = 0.15
        /// Table 1: lower test error with stochastic depth (6.41% → 5.25% on CIFAR-10+, 27.22% →
        /// 24.98% on CIFAR-100+, 1.80% → 1.75% on SVHN). Holds when the mean over seeds of
        /// (stochastic − constant) final test error is below this by at least its standard error
        /// (sample std / √seeds): a difference inside the seed noise does not count. (The bare
        /// sign test, used until the first full run, passed −0.17 ± 1.89 points over 5 seeds.)
        public static let maximumErrorDifference = 0.0
        /// §3: the expected depth under linear decay to 0.5 is (3L − 1)/4; the measured branches per
        /// step must be within this fraction of Σ p_l.
        public static let depthTolerance = 0.05
        /// The constant-depth net must overfit for the comparison to mean what the paper's does
        /// (Fig. 3): its final test loss at least this factor above its lowest, while its training
        /// loss kept falling (final training loss below the one at the test loss's minimum).
        public static let overfitFactor = 1.1
    }

    /// (3L − 1)/4: Σ_{l=1}^{L} (1 − l/(2L)), the expected depth under linear decay to p_L = 0.5.
    public static func linearDecayExpectedDepth(blocks: Int) -> Double { (3 * Double(blocks) - 1) / 4 }

    /// Means over seeds, epoch by epoch.
    static func meanCurve(_ curves: [[Double]]) -> [Double] {
        guard let count = curves.map(\.count).min() else { return [] }
        return (0..<count).map { e in curves.map { $0[e] }.reduce(0, +) / Double(curves.count) }
    }

    /// The constant-depth net's overfitting: (final / lowest test loss, lowest's epoch from 1,
    /// whether the training loss fell after it), on the mean curves over seeds.
    public static func overfitting(_ results: Results) -> (ratio: Double, epoch: Int, trainingFell: Bool) {
        let test = meanCurve(results.pairs.map(\.constant.epochTestLoss)), train = meanCurve(results.pairs.map(\.constant.epochTrainLoss))
        guard let lowest = test.indices.min(by: { test[$0] < test[$1] }), let last = test.last else { return (.nan, 0, false) }
        return (last / test[lowest], lowest + 1, train.last! < train[lowest])
    }

    /// Final test error, stochastic minus constant depth, paired per seed: mean, sample spread and
    /// standard error (spread / √seeds; 0 for one seed), as fractions.
    public static func errorDifference(_ results: Results) -> (mean: Double, spread: Double, standardError: Double) {
        let differences = results.pairs.map { $0.stochastic.finalTestError - $0.constant.finalTestError }
        let (mean, spread) = meanAndSpread(differences)
        return (mean, spread, differences.count > 1 ? spread / Double(differences.count).squareRoot() : 0)
    }

    /// Whether stochastic depth lowers the test error beyond the seed noise: the mean paired
    /// difference is below `Thresholds.maximumErrorDifference` by at least its standard error.
    public static func lowersError(_ results: Results) -> Bool {
        let difference = errorDifference(results)
        return difference.mean + difference.standardError < Thresholds.maximumErrorDifference
    }

    /// 1 − stochastic / constant seconds per epoch, mean over seeds.
    public static func timeSaving(_ results: Results) -> Double {
        meanAndSpread(results.pairs.map { 1 - $0.stochastic.secondsPerEpoch / $0.constant.secondsPerEpoch }).mean
    }

    public static func verdict(_ results: Results) -> Judgement {
        guard !results.pairs.isEmpty else {
            return Judgement([Finding("stochastic depth lowers the test error", holds: false, evidence: "no runs")])
        }
        let difference = errorDifference(results)
        let constantError = meanAndSpread(results.pairs.map(\.constant.finalTestError)).mean
        let stochasticError = meanAndSpread(results.pairs.map(\.stochastic.finalTestError)).mean
        let lowerInSeeds = results.pairs.filter { $0.stochastic.finalTestError < $0.constant.finalTestError }.count
        var findings = [Finding(
            "stochastic depth lowers the test error against constant depth (Table 1)",
            holds: lowersError(results),
            evidence: "final test error \(formatted(100 * stochasticError, 2))% with stochastic depth, \(formatted(100 * constantError, 2))% "
                + "with constant depth; paired difference \(formatted(100 * difference.mean, 2)) ± \(formatted(100 * difference.spread, 2)) "
                + "points (standard error \(formatted(100 * difference.standardError, 2))), lower in \(lowerInSeeds) of \(results.pairs.count) seeds; "
                + "must be below 0 by at least one standard error (paper: −1.16 on CIFAR-10+)")]
        let saving = timeSaving(results)
        findings.append(Finding(
            "stochastic depth reduces the training time by about 25% (Table 2)",
            holds: saving >= Thresholds.minimumTimeSaving,
            evidence: "time per epoch \(formatted(100 * saving, 1))% lower (paired mean over seeds); need ≥ "
                + "\(formatted(100 * Thresholds.minimumTimeSaving, 0))% (paper: 27%; expected-depth prediction "
                + "\(formatted(100 * (1 - results.expectedDepth / Double(results.blocks)), 1))%)"))
        let formula = linearDecayExpectedDepth(blocks: results.blocks)
        let measured = meanAndSpread(results.pairs.map(\.stochastic.blocksPerStep)).mean
        findings.append(Finding(
            "the expected depth under linear decay to p_L = 0.5 is (3L − 1)/4 ≈ 3L/4 (§3)",
            holds: abs(results.expectedDepth - formula) < 1e-3 && abs(measured / results.expectedDepth - 1) <= Thresholds.depthTolerance,
            evidence: "L = \(results.blocks): Σ p_l = \(formatted(results.expectedDepth, 3)), (3L − 1)/4 = \(formatted(formula, 3)); "
                + "measured \(formatted(measured, 2)) branches per step (within \(formatted(100 * Thresholds.depthTolerance, 0))% required)",
            isCentral: false))
        let overfit = overfitting(results)
        findings.append(Finding(
            "the constant-depth net overfits (Fig. 3), so there is something for stochastic depth to regularise",
            holds: overfit.ratio >= Thresholds.overfitFactor && overfit.trainingFell,
            evidence: "its mean test loss ends at \(formatted(overfit.ratio, 2))× its lowest (epoch \(overfit.epoch)), training loss "
                + "\(overfit.trainingFell ? "falling" : "not falling") after that; need ≥ \(formatted(Thresholds.overfitFactor, 2))× and falling",
            isCentral: false))
        return Judgement(findings)
    }
}
