extension LooksLinear {
    /// The paper's thresholds, fixed before any run.
    ///
    /// Fig. 6 of Balduzzi et al. plots CIFAR-10 test accuracy against depth (up to 200 layers):
    /// the plain CReLU nets with Looks-Linear init stay close to the resnets at every depth, while
    /// CReLU nets without it fall away as depth grows. "Close" and "clearly above" are measured
    /// against two baselines trained like the nets: the linear model (what a net that stays linear
    /// reaches) and a ResNet of the same depth and width. The gain of a net at a depth is its
    /// accuracy gain over the linear model as a fraction of the ResNet's:
    /// (acc_net − acc_linear) / (acc_ResNet − acc_linear) — 1 is as good as the ResNet, 0 no
    /// better than the linear model. The fractions do not depend on how hard the data set is,
    /// so they carry over from CIFAR-10 to our MNIST subset.
    public enum Thresholds {
        /// "Clearly above the linear model": at every depth the Looks-Linear net's test error is
        /// at most this fraction of the linear model's (it removes at least a quarter of its errors).
        public static let errorVersusLinear = 0.75
        /// "Close to the ResNet": at every depth the Looks-Linear net keeps at least this fraction
        /// of the ResNet's gain over the linear model (Fig. 6: the LL curve runs a few points
        /// under the resnet curve, far above the linear level).
        public static let gainVersusResNet = 0.75
        /// "Plain nets without Looks-Linear degrade": at the deepest depth a control keeps less
        /// than this fraction of the ResNet's gain (or all its seeds diverge).
        public static let controlGain = 0.5
        /// The accuracy counted for a net whose every seed diverged: chance on 10 classes.
        public static let chanceAccuracy = 0.1
    }

    /// One net at one depth at its best learning rate: the rate with the fewest diverged seeds,
    /// then the lowest mean final training loss (the paper reports tuned nets).
    public struct Selected: Sendable {
        /// The net.
        public var net: Net
        /// Its hidden layers (0 for the linear model).
        public var depth: Int
        /// The selected learning rate.
        public var learningRate: Float
        /// The runs at that rate, one per seed.
        public var runs: [Run]

        /// Final training losses over seeds (diverged runs counted apart).
        public var loss: SeedLossSummary { SeedLossSummary(runs.map { $0.diverged ? .nan : $0.trainLoss }) }
        /// Mean and spread of the test accuracy over the seeds that did not diverge (NaN when all did).
        public var testAccuracy: (mean: Double, spread: Double) {
            let finite = runs.filter { !$0.diverged && !isDivergedLoss($0.trainLoss) }.map(\.testAccuracy)
            return finite.isEmpty ? (.nan, .nan) : meanAndSpread(finite)
        }
        /// The accuracy the verdict uses: the mean, or chance when every seed diverged.
        public var accuracyForVerdict: Double {
            let mean = testAccuracy.mean
            return mean.isFinite ? mean : Thresholds.chanceAccuracy
        }
    }

    /// `net` at `depth` (0 for the linear model) at its best learning rate; nil when not measured.
    public static func selected(_ results: Results, net: Net, depth: Int) -> Selected? {
        let groups = results.learningRates.map { rate in
            results.runs.filter { $0.net == net && $0.depth == depth && $0.learningRate == rate }
        }.filter { !$0.isEmpty }
        let best = groups.min { a, b in
            SeedLossSummary(a.map { $0.diverged ? .nan : $0.trainLoss }).isBetter(than: SeedLossSummary(b.map { $0.diverged ? .nan : $0.trainLoss }))
        }
        return best.map { Selected(net: net, depth: depth, learningRate: $0[0].learningRate, runs: $0) }
    }

    /// The gain of `net` at `depth`: (acc_net − acc_linear) / (acc_ResNet − acc_linear); NaN when
    /// a baseline is missing or the ResNet is not above the linear model.
    public static func gain(_ results: Results, net: Net, depth: Int) -> Double {
        guard let margins = margins(results, net: net, depth: depth), margins.resNet > 0 else { return .nan }
        return margins.net / margins.resNet
    }

    /// acc_net − acc_linear and acc_ResNet − acc_linear at `depth`; nil when a net is missing.
    static func margins(_ results: Results, net: Net, depth: Int) -> (net: Double, resNet: Double)? {
        guard let linear = selected(results, net: .linear, depth: 0), let resNet = selected(results, net: .resNet, depth: depth),
              let subject = selected(results, net: net, depth: depth) else { return nil }
        return (subject.accuracyForVerdict - linear.accuracyForVerdict, resNet.accuracyForVerdict - linear.accuracyForVerdict)
    }

    /// Whether `net` keeps at least `share` of the ResNet's gain at `depth`: acc_net − acc_linear ≥
    /// share × max(acc_ResNet − acc_linear, 0). A ResNet no better than the linear model asks only
    /// that the net be no worse than the linear model.
    static func keeps(_ results: Results, net: Net, depth: Int, share: Double) -> Bool {
        guard let margins = margins(results, net: net, depth: depth) else { return false }
        return margins.net >= share * Swift.max(margins.resNet, 0)
    }

    public static func verdict(_ results: Results) -> Judgement {
        let depths = results.depths
        let linear = selected(results, net: .linear, depth: 0)
        let looksLinear = depths.map { selected(results, net: .looksLinear, depth: $0) }
        var findings: [Finding] = []

        // 1. Trains at every depth, clearly above the linear model.
        if let linear, looksLinear.allSatisfy({ $0 != nil }) {
            let linearError = 1 - linear.accuracyForVerdict
            let rows = looksLinear.compactMap { $0 }
            let holds = rows.allSatisfy { $0.loss.diverged == 0 && 1 - $0.accuracyForVerdict <= Thresholds.errorVersusLinear * linearError }
            findings.append(Finding(
                "plain CReLU nets with Looks-Linear init train at every depth, clearly above the linear model",
                holds: holds,
                evidence: "test error " + rows.map { "\(percent(1 - $0.accuracyForVerdict)) at \($0.depth)" + ($0.loss.diverged > 0 ? " (\($0.loss.diverged) diverged)" : "") }
                    .joined(separator: ", ") + " against the linear model's \(percent(linearError)); need no divergence and ≤ "
                    + "\(formatted(Thresholds.errorVersusLinear, 2))× the linear model's error at every depth"))
        } else {
            findings.append(Finding("plain CReLU nets with Looks-Linear init train at every depth, clearly above the linear model",
                                    holds: false, evidence: "the Looks-Linear nets or the linear model were not measured"))
        }

        // 2. Close to the ResNet of the same depth.
        let gains = depths.map { gain(results, net: .looksLinear, depth: $0) }
        findings.append(Finding(
            "they come close to a ResNet of the same depth and width",
            holds: !depths.isEmpty && depths.allSatisfy { keeps(results, net: .looksLinear, depth: $0, share: Thresholds.gainVersusResNet) },
            evidence: "share of the ResNet's accuracy gain over the linear model (Looks-Linear / ResNet test accuracy): "
                + zip(depths, gains).map { "\(formatted($0.1, 2)) at \($0.0) (\(accuracyText(results, .looksLinear, $0.0)) / \(accuracyText(results, .resNet, $0.0)))" }
                    .joined(separator: ", ")
                + "; need ≥ \(formatted(Thresholds.gainVersusResNet, 2)) at every depth"
                + (gains.contains { !$0.isFinite } ? " (nan: a baseline is missing, or the ResNet is not above the linear model and the net need only match the linear model)" : "")))

        // 3. Side: without the mirrored init, plain nets degrade with depth.
        if let deepest = depths.max() {
            let controls = [Net.creluRandom, .reluKaiming].filter { selected(results, net: $0, depth: deepest) != nil }
            let controlGains = controls.map { gain(results, net: $0, depth: deepest) }
            findings.append(Finding(
                "plain nets without Looks-Linear (CReLU with a random init, ReLU with Kaiming init) degrade with depth",
                holds: !controls.isEmpty && controls.allSatisfy {
                    margins(results, net: $0, depth: deepest) != nil && !keeps(results, net: $0, depth: deepest, share: Thresholds.controlGain)
                },
                evidence: "share of the ResNet's gain at \(deepest) layers: "
                    + zip(controls, controlGains).map { "\($0.0.rawValue) \(formatted($0.1, 2)) (\(accuracyText(results, $0.0, deepest)))" }
                        .joined(separator: ", ") + "; the ResNet \(accuracyText(results, .resNet, deepest)), the linear model "
                    + accuracyText(results, .linear, 0)
                    + "; need < \(formatted(Thresholds.controlGain, 2)) for each",
                isCentral: false))
        }
        return Judgement(findings)
    }

    /// The verdict's test accuracy of `net` at `depth`, "96.10%" ("—" when not measured).
    static func accuracyText(_ results: Results, _ net: Net, _ depth: Int) -> String {
        selected(results, net: net, depth: depth).map { percent($0.accuracyForVerdict) } ?? "—"
    }

    /// "3.21%".
    static func percent(_ fraction: Double) -> String { formatted(100 * fraction, 2) + "%" }
}
