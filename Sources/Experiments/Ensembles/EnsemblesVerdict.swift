extension Ensembles {
    /// The paper's thresholds, fixed before any run. Errors are fractions (0.01 = one percentage point).
    public enum Thresholds {
        /// §4.1, Fig. 3b: removing a non-downsampling block from ResNet-110 on CIFAR-10 leads to no "noticeable
        /// change" — the single-deletion curve stays on the intact ≈ 6–7% error line at the plot's scale, i.e. within
        /// about a percentage point. The mean increase over the non-downsampling blocks must be at most this.
        public static let meanSingleDeletionIncrease = 0.01
        /// … and the worst non-downsampling block at most this: far from the drop to chance of every VGG layer (Fig. 3a).
        public static let worstSingleDeletionIncrease = 0.05
        /// Chance error on 10 classes.
        public static let chanceError = 0.9
        /// Fig. 3a: a deletion is fatal when the error passes this fraction of the way from the intact error to
        /// chance (the VGG's errors go all the way to chance).
        public static let fatalFraction = 0.5
        /// A net whose intact test error is above this did not learn enough for its lesions to test anything.
        public static let trainedError = 0.5
        /// §4.3, Fig. 5a/5b, "smoothly": the mean error over draws never falls by more than this from one k to the next …
        public static let monotoneTolerance = 0.01
        /// … and no step between consecutive k carries more than this share of the rise from the intact error to the
        /// error at the largest k (a cliff); a total rise below `monotoneTolerance` counts as flat, hence smooth.
        public static let maximumStepShare = 0.5
        /// §6, Fig. 6c: the gradient-weighted mean path length must be at most this fraction of n. The paper's
        /// effective paths are 5–17 of 54 blocks (centre ≈ 0.2 n), against n/2 for the paths themselves.
        public static let shortPathFraction = 1.0 / 3
        /// §6, Fig. 6b: the gradient magnitude of one path falls exponentially with its length; one path of length
        /// ⌊n/2⌋ must carry at most this fraction of the gradient of the all-shortcut path (length 0).
        public static let pathDecay = 0.1
    }

    /// Mean over seeds of each block's single-deletion error minus the intact error, split into the
    /// non-downsampling and downsampling blocks.
    public static func singleDeletionIncreases(_ results: Results) -> (ordinary: [Double], downsampling: [Double]) {
        guard let first = results.residual.first else { return ([], []) }
        let increases = first.singleDeletion.indices.map { b in mean(results.residual.map { $0.singleDeletion[b] - $0.intactError }) }
        return (increases.indices.filter { !first.downsampling[$0] }.map { increases[$0] },
                increases.indices.filter { first.downsampling[$0] }.map { increases[$0] })
    }

    /// Mean over seeds and draws of each k's errors (`byCount[seed][k][draw]`).
    public static func meanByCount(_ byCount: [[[Double]]]) -> [Double] {
        guard let first = byCount.first else { return [] }
        return first.indices.map { k in mean(byCount.flatMap { $0[k] }) }
    }

    /// Whether errors `intact`, `means…` (k increasing) rise smoothly by the thresholds, with the largest fall
    /// between consecutive values and the largest step's share of the total rise.
    public static func smoothness(intact: Double, means: [Double]) -> (holds: Bool, largestFall: Double, largestStepShare: Double) {
        let curve = [intact] + means
        let steps = zip(curve, curve.dropFirst()).map { $1 - $0 }
        let largestFall = max(0, -(steps.min() ?? 0))
        let rise = (curve.last ?? intact) - intact
        let share = rise > Thresholds.monotoneTolerance ? (steps.max() ?? 0) / rise : 0
        return (largestFall <= Thresholds.monotoneTolerance && share <= Thresholds.maximumStepShare, largestFall, share)
    }

    /// Mean over seeds of Σ_k k · (share of the gradient from paths of length k).
    public static func gradientWeightedPathLength(_ results: Results) -> Double {
        mean(results.residual.map { zip($0.paths.gradientShare.indices, $0.paths.gradientShare).reduce(0) { $0 + Double($1.0) * $1.1 } })
    }

    /// Mean over seeds of ‖g‖ of one path of length ⌊n/2⌋ over ‖g‖ of the length-0 path.
    public static func pathDecayRatio(_ results: Results) -> Double {
        let half = results.blocks / 2
        return mean(results.residual.map { $0.paths.gradientNorm[half] / max($0.paths.gradientNorm[0], .leastNonzeroMagnitude) })
    }

    /// Whether `error` is a fatal lesion of a net whose intact error is `intact`.
    public static func isFatal(_ error: Double, intact: Double) -> Bool {
        error >= intact + Thresholds.fatalFraction * (Thresholds.chanceError - intact)
    }

    /// The mean of `values` (NaN for none).
    static func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

    public static func verdict(_ results: Results) -> Judgement {
        let points = { (value: Double) in formatted(100 * value, 2) }
        let intact = mean(results.residual.map(\.intactError))
        let residualTrained = intact <= Thresholds.trainedError
        let (ordinary, downsampling) = singleDeletionIncreases(results)
        let meanIncrease = mean(ordinary), worstIncrease = ordinary.max() ?? .nan
        var findings = [Finding(
            "deleting a single non-downsampling block from a trained ResNet barely changes its test error (§4.1, Fig. 3b)",
            holds: residualTrained && meanIncrease <= Thresholds.meanSingleDeletionIncrease && worstIncrease <= Thresholds.worstSingleDeletionIncrease,
            evidence: "intact error \(points(intact))%; over its \(ordinary.count) non-downsampling blocks a deletion adds "
                + "\(points(meanIncrease)) points on average and \(points(worstIncrease)) at worst (≤ \(points(Thresholds.meanSingleDeletionIncrease)) "
                + "and ≤ \(points(Thresholds.worstSingleDeletionIncrease)) required\(residualTrained ? "" : "; the ResNet did not train"))")]

        let meanDownsampling = mean(downsampling)
        findings.append(Finding(
            "deleting a downsampling block costs more than deleting another block (the peaks of Fig. 3b)",
            holds: !downsampling.isEmpty && meanDownsampling > meanIncrease,
            evidence: "downsampling blocks add \(points(meanDownsampling)) points on average, the others \(points(meanIncrease))",
            isCentral: false))

        let deletionMeans = meanByCount(results.residual.map(\.randomDeletion))
        let deletion = smoothness(intact: intact, means: deletionMeans)
        findings.append(Finding(
            "the error rises smoothly as more random blocks are deleted (§4.3, Fig. 5a)",
            holds: residualTrained && deletion.holds,
            evidence: "mean error for k = 0, \(results.deletionCounts.map(String.init).joined(separator: ", ")): "
                + ([intact] + deletionMeans).map { points($0) + "%" }.joined(separator: ", ") + "; largest fall \(points(deletion.largestFall)) "
                + "points (≤ \(points(Thresholds.monotoneTolerance)) allowed), largest step \(formatted(100 * deletion.largestStepShare, 0))% of the rise "
                + "(≤ \(formatted(100 * Thresholds.maximumStepShare, 0))% allowed)"))

        let plainIntact = mean(results.plain.map(\.intactError))
        let plainTrained = plainIntact <= Thresholds.trainedError
        let plainLayers = results.plain.flatMap { run in run.layerDeletions.map { (run.intactError, $0.error) } }
        let fatal = plainLayers.filter { isFatal($0.1, intact: $0.0) }.count
        let gentlest = plainLayers.map { $0.1 - $0.0 }.min() ?? .nan
        findings.append(Finding(
            "removing any single layer of the plain twin is fatal (§4.1, Fig. 3a)",
            holds: plainTrained && !plainLayers.isEmpty && fatal == plainLayers.count,
            evidence: "plain twin's intact error \(points(plainIntact))%\(plainTrained ? "" : " (it did not train: nothing to test)"); "
                + "\(fatal) of \(plainLayers.count) single-layer deletions pass \(formatted(100 * Thresholds.fatalFraction, 0))% of the way "
                + "to chance (\(points(Thresholds.chanceError))%); the gentlest adds \(points(gentlest)) points"))

        let swapMeans = meanByCount(results.residual.map(\.swaps))
        let swap = smoothness(intact: intact, means: swapMeans)
        findings.append(Finding(
            "the error rises smoothly as more pairs of blocks are swapped (§4.3, Fig. 5b)",
            holds: residualTrained && swap.holds,
            evidence: "mean error for 0, \(results.swapCounts.map(String.init).joined(separator: ", ")) swaps: "
                + ([intact] + swapMeans).map { points($0) + "%" }.joined(separator: ", ") + "; largest fall \(points(swap.largestFall)) points, "
                + "largest step \(formatted(100 * swap.largestStepShare, 0))% of the rise",
            isCentral: false))

        let n = Double(results.blocks)
        let weighted = gradientWeightedPathLength(results)
        findings.append(Finding(
            "the gradient comes mostly from short paths (§6, Fig. 6c)",
            holds: weighted <= Thresholds.shortPathFraction * n,
            evidence: "gradient-weighted mean path length \(formatted(weighted, 2)) of n = \(results.blocks) blocks (≤ n/3 = "
                + "\(formatted(Thresholds.shortPathFraction * n, 2)) required; a random path has n/2 = \(formatted(n / 2, 1)))"))

        let decay = pathDecayRatio(results)
        findings.append(Finding(
            "a path's gradient magnitude falls fast with its length (§6, Fig. 6b)",
            holds: decay <= Thresholds.pathDecay,
            evidence: "one path of length \(results.blocks / 2) carries \(scientific(decay))× the gradient of the length-0 path "
                + "(≤ \(formatted(Thresholds.pathDecay, 2)) required)",
            isCentral: false))

        let records = results.residual.map(\.training) + results.plain.map(\.training)
        let converged = records.filter { !$0.diverged && ($0.trainError.last ?? 1) <= results.convergedTrainingError }.count
        findings.append(Finding(
            "(premise) both nets trained to convergence",
            holds: converged == records.count,
            evidence: "\(converged) of \(records.count) runs ended the schedule with a running training error ≤ "
                + "\(points(results.convergedTrainingError))% (final: "
                + records.map { $0.diverged ? "diverged" : points($0.trainError.last ?? .nan) + "%" }.joined(separator: ", ") + ")",
            isCentral: false))
        return Judgement(findings)
    }
}
