extension IdentityMappings {
    /// The paper's thresholds, fixed before any run. Errors are final test errors (after the last
    /// epoch), losses the last epoch's mean training loss; a diverged run counts as chance error
    /// (90%) and infinite loss. "Spread" is the sample standard deviation over seeds.
    public enum Thresholds {
        /// Table 1: the identity shortcut (6.61%) has the lowest error of all shortcut variants.
        /// It holds here when the identity's mean error is the lowest, or above the lowest by at
        /// most this many seed spreads (the larger of the two variants' spreads).
        public static let withinBestSpreads = 1.0
        /// Table 2: full pre-activation (6.37%) ≤ the original (6.61%). Holds when full
        /// pre-activation's mean error is at most the original's plus this many seed spreads
        /// (the paper's own margin, 0.24 points, is within its run-to-run spread).
        public static let preActivationSpreads = 1.0
        /// Table 1: constant scaling (fail; 12.35%) and exclusive gating (fail; 8.70%) are worse
        /// than the identity: each must have a higher mean error than the identity's.
        public static let worseVariants: [Variant] = [.scaledShortcut, .scaledBoth, .exclusiveGating0, .exclusiveGating6]
        /// Table 1: the 1×1-conv shortcut (12.22%), dropout shortcut (fail) and shortcut-only
        /// gating with b_g = 0 (12.86%) are worse than the identity too (side claim).
        public static let otherWorseVariants: [Variant] = [.convolution1x1, .dropoutShortcut, .shortcutGating0]
        /// Convergence of the baselines (original and full pre-activation): the last epoch's mean
        /// training loss within this fraction of the epoch before's (a plateau at the final rate).
        public static let convergedChange = 0.1
    }

    /// Mean and spread over seeds of a variant's final test error and final training loss.
    public struct Summary: Sendable, Equatable {
        /// The final test error (fraction): mean and sample standard deviation over seeds.
        public var error: (mean: Double, spread: Double)
        /// The final training loss: mean and sample standard deviation over seeds (+∞ if any seed diverged).
        public var loss: (mean: Double, spread: Double)
        /// Seeds that diverged.
        public var diverged: Int
        /// Seeds trained.
        public var count: Int

        public static func == (a: Summary, b: Summary) -> Bool {
            a.error == b.error && a.loss == b.loss && a.diverged == b.diverged && a.count == b.count
        }
    }

    /// The summary of `variant`'s runs; nil when it has none.
    public static func summary(_ results: Results, _ variant: Variant) -> Summary? {
        let runs = results.runs(of: variant)
        guard !runs.isEmpty else { return nil }
        let losses = runs.map(\.finalTrainLoss)
        let loss = losses.allSatisfy(\.isFinite) ? meanAndSpread(losses) : (mean: Double.infinity, spread: 0.0)
        return Summary(error: meanAndSpread(runs.map(\.finalTestError)), loss: loss,
                       diverged: runs.filter { $0.divergedInEpoch != nil }.count, count: runs.count)
    }

    static func percent(_ value: Double) -> String { formatted(100 * value, 2) + "%" }
    static func errorText(_ s: Summary) -> String {
        "\(percent(s.error.mean)) ± \(formatted(100 * s.error.spread, 2))" + (s.diverged > 0 ? " (\(s.diverged)/\(s.count) diverged)" : "")
    }

    public static func verdict(_ results: Results) -> Judgement {
        var findings: [Finding] = []
        let present = Variant.allCases.filter { summary(results, $0) != nil }
        let summaries = Dictionary(uniqueKeysWithValues: present.map { ($0, summary(results, $0)!) })
        guard let original = summaries[.original] else {
            return Judgement([Finding("identity shortcuts train best", holds: false, evidence: "no run of the original network")])
        }

        // Table 1: the identity is best among the shortcut variants.
        let shortcutVariants = present.filter { $0.table == 1 }
        let best = shortcutVariants.min { summaries[$0]!.error.mean < summaries[$1]!.error.mean }!
        let bestSummary = summaries[best]!
        let margin = Thresholds.withinBestSpreads * max(original.error.spread, bestSummary.error.spread)
        findings.append(Finding(
            "the identity shortcut has the lowest test error of the shortcut variants (Table 1)",
            holds: original.error.mean <= bestSummary.error.mean + margin,
            evidence: "identity \(errorText(original)); best \(best.label) \(errorText(bestSummary)); "
                + "identity must be at most \(formatted(Thresholds.withinBestSpreads, 0)) seed spread (\(formatted(100 * margin, 2)) points) above the best"))

        // Table 1: scaled and exclusive-gated shortcuts are worse.
        let worse = Thresholds.worseVariants.filter { summaries[$0] != nil }
        let notWorse = worse.filter { summaries[$0]!.error.mean <= original.error.mean }
        findings.append(Finding(
            "constant scaling and exclusive gating give higher test error than the identity (Table 1)",
            holds: !worse.isEmpty && notWorse.isEmpty,
            evidence: worse.map { "\($0.label) \(errorText(summaries[$0]!))" }.joined(separator: "; ")
                + " against the identity's \(percent(original.error.mean)); each must be higher"
                + (notWorse.isEmpty ? "" : " — not higher: \(notWorse.map(\.label).joined(separator: ", "))")))

        // Table 2: full pre-activation is at least as good as the original.
        if let pre = summaries[.fullPreActivation] {
            let margin = Thresholds.preActivationSpreads * max(original.error.spread, pre.error.spread)
            findings.append(Finding(
                "full pre-activation's test error is at most the original's (Table 2)",
                holds: pre.error.mean <= original.error.mean + margin,
                evidence: "full pre-activation \(errorText(pre)), original \(errorText(original)); allowed margin "
                    + "\(formatted(Thresholds.preActivationSpreads, 0)) seed spread (\(formatted(100 * margin, 2)) points)"))
            let placements = present.filter { $0.table == 2 } + [.original]
            let bestPlacement = placements.min { summaries[$0]!.error.mean < summaries[$1]!.error.mean }!
            let placementMargin = Thresholds.withinBestSpreads * max(pre.error.spread, summaries[bestPlacement]!.error.spread)
            findings.append(Finding(
                "full pre-activation has the lowest test error of the activation placements (Table 2)",
                holds: pre.error.mean <= summaries[bestPlacement]!.error.mean + placementMargin,
                evidence: "full pre-activation \(percent(pre.error.mean)); best \(bestPlacement.label) "
                    + "\(percent(summaries[bestPlacement]!.error.mean)); margin \(formatted(100 * placementMargin, 2)) points",
                isCentral: false))
        }

        // Table 2: ReLU before addition is worse than the original.
        if let relu = summaries[.reluBeforeAddition] {
            findings.append(Finding(
                "ReLU before addition gives higher test error than the original (Table 2: 7.84% vs 6.61%)",
                holds: relu.error.mean > original.error.mean,
                evidence: "ReLU before addition \(errorText(relu)), original \(errorText(original))", isCentral: false))
        }

        // Table 1: the other shortcut variants are worse too.
        let others = Thresholds.otherWorseVariants.filter { summaries[$0] != nil }
        if !others.isEmpty {
            let notWorse = others.filter { summaries[$0]!.error.mean <= original.error.mean }
            findings.append(Finding(
                "1×1-conv, dropout and shortcut-only (b_g = 0) gated shortcuts give higher test error than the identity (Table 1)",
                holds: notWorse.isEmpty,
                evidence: others.map { "\($0.label) \(percent(summaries[$0]!.error.mean))" }.joined(separator: "; ")
                    + " against \(percent(original.error.mean))" + (notWorse.isEmpty ? "" : " — not higher: \(notWorse.map(\.label).joined(separator: ", "))"),
                isCentral: false))
        }

        // Fig. 3: the identity's training loss is lowest too (optimisation, not only generalisation).
        let bestLoss = shortcutVariants.min { summaries[$0]!.loss.mean < summaries[$1]!.loss.mean }!
        let lossMargin = Thresholds.withinBestSpreads * max(original.loss.spread, summaries[bestLoss]!.loss.spread)
        findings.append(Finding(
            "the identity shortcut reaches the lowest training loss of the shortcut variants (Fig. 3: the others train worse)",
            holds: original.loss.mean <= summaries[bestLoss]!.loss.mean + lossMargin,
            evidence: "identity \(formatted(original.loss.mean, 4)); lowest \(bestLoss.label) \(formatted(summaries[bestLoss]!.loss.mean, 4)); "
                + "margin \(formatted(lossMargin, 4))", isCentral: false))

        // The baselines converged: a plateau of the training loss at the final rate.
        let baselines = [Variant.original, .fullPreActivation].filter { summaries[$0] != nil }
        let changes = baselines.map { variant in
            results.runs(of: variant).map { run -> Double in
                let losses = run.epochTrainLoss
                guard run.divergedInEpoch == nil, losses.count >= 2 else { return .infinity }
                return abs(losses[losses.count - 1] - losses[losses.count - 2]) / losses[losses.count - 2]
            }.max() ?? .infinity
        }
        findings.append(Finding(
            "the baselines converged: the last epoch's training loss changed by at most \(formatted(100 * Thresholds.convergedChange, 0))% over the epoch before",
            holds: changes.allSatisfy { $0 <= Thresholds.convergedChange },
            evidence: zip(baselines, changes).map { "\($0.label): largest change over seeds \(formatted(100 * $1, 1))%" }.joined(separator: "; "),
            isCentral: false))
        return Judgement(findings)
    }
}
