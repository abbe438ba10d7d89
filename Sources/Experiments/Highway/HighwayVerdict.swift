#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HighwayNetworks {
    /// The paper's thresholds, fixed before any run.
    ///
    /// Fig. 1 (§3.1) plots the best training loss of plain and highway nets of 10, 20, 50 and 100
    /// layers on MNIST: the plain nets' loss rises by orders of magnitude from 10 to 100 layers,
    /// the highway nets' curves lie on top of each other. Depth's cost is measured in nats of
    /// final training loss against the shallowest net; a net whose every seed diverged counts as
    /// chance, ln 10.
    public enum Thresholds {
        /// "Plain networks become much harder to optimize": the deepest plain net's final training
        /// loss exceeds the shallowest's by more than this many nats.
        public static let plainDepthCost = 0.3
        /// "Highway networks … can still be optimized well": at every depth the highway net's loss
        /// exceeds the shallowest's by less than this fraction of the plain nets' cost (the cost
        /// floored at `costFloor`, so a plain cost near 0 does not make the test impossible).
        public static let highwayCostFraction = 0.2
        /// The floor of the plain nets' cost in the highway test, nats.
        public static let costFloor = 0.1
        /// §4.1, Fig. 2 (side claim): in the trained highway net most transform gates are closed —
        /// at the deepest depth at least this fraction of its gate values are below 0.1.
        public static let closedGateFraction = 0.5
    }

    /// One variant at one depth at its best learning rate: the rate with the fewest diverged
    /// seeds, then the lowest mean final training loss (the paper reports the best of a search).
    public static func selected(_ results: Results, variant: String, depth: Int) -> [Run] {
        let groups = results.learningRates.map { rate in
            results.runs.filter { $0.variant == variant && $0.depth == depth && $0.learningRate == rate }
        }.filter { !$0.isEmpty }
        return groups.min { summary($0).isBetter(than: summary($1)) } ?? []
    }

    /// The final training losses of `runs` over seeds (diverged runs counted apart).
    public static func summary(_ runs: [Run]) -> SeedLossSummary {
        SeedLossSummary(runs.map { $0.diverged ? .nan : $0.finalLoss })
    }

    /// The final training loss the verdict uses: the mean over seeds, or ln 10 when all diverged.
    static func loss(_ results: Results, variant: String, depth: Int) -> Double {
        let summary = summary(selected(results, variant: variant, depth: depth))
        return summary.count == 0 || summary.diverged == summary.count ? log(10) : summary.mean
    }

    /// The highway variant the claim is judged on: of those searched over learning rates, the one
    /// with the lowest loss at the deepest depth.
    static func judgedHighway(_ results: Results) -> Variant? {
        guard let deepest = results.depths.max() else { return nil }
        return results.variants.filter { $0.highway && $0.searchesLearningRate }
            .min { loss(results, variant: $0.name, depth: deepest) < loss(results, variant: $1.name, depth: deepest) }
    }

    /// The mean fraction of closed gate values (T < 0.1) over the layers of the first-seed run of
    /// `variant` at `depth`; NaN when it diverged or has no gates.
    public static func closedFraction(_ results: Results, variant: String, depth: Int) -> Double {
        let runs = selected(results, variant: variant, depth: depth).filter { !$0.diverged && !$0.gatesTrained.isEmpty }
        guard let run = runs.min(by: { $0.seed < $1.seed }) else { return .nan }
        return run.gatesTrained.map(\.closedFraction).reduce(0, +) / Double(run.gatesTrained.count)
    }

    public static func verdict(_ results: Results) -> Judgement {
        guard let shallow = results.depths.min(), let deep = results.depths.max(), shallow < deep else {
            return Judgement([Finding("plain nets get harder to optimise with depth; highway nets do not", holds: false,
                                      evidence: "fewer than two depths were measured")])
        }
        let plainCost = loss(results, variant: "plain", depth: deep) - loss(results, variant: "plain", depth: shallow)
        var findings = [Finding(
            "plain networks become much harder to optimize with increasing depth",
            holds: plainCost > Thresholds.plainDepthCost,
            evidence: "final training loss \(formatted(loss(results, variant: "plain", depth: shallow), 4)) at \(shallow) layers, "
                + "\(formatted(loss(results, variant: "plain", depth: deep), 4)) at \(deep): depth costs \(formatted(plainCost, 3)) nats; "
                + "need > \(formatted(Thresholds.plainDepthCost, 2))")]
        guard let highway = judgedHighway(results) else {
            findings.append(Finding("highway networks with up to \(deep) layers can still be optimized well", holds: false,
                                    evidence: "no highway net searched over learning rates was measured"))
            return Judgement(findings)
        }
        let base = loss(results, variant: highway.name, depth: shallow)
        let costs = results.depths.map { loss(results, variant: highway.name, depth: $0) - base }
        let allowed = Thresholds.highwayCostFraction * Swift.max(plainCost, Thresholds.costFloor)
        findings.append(Finding(
            "highway networks with up to \(deep) layers can still be optimized well",
            holds: costs.allSatisfy { $0 < allowed },
            evidence: "\(highway.name): final training loss " + results.depths.map { "\(formatted(loss(results, variant: highway.name, depth: $0), 4)) at \($0)" }
                .joined(separator: ", ") + "; the largest cost of depth \(formatted(costs.max() ?? .nan, 3)) nats, need < "
                + "\(formatted(Thresholds.highwayCostFraction, 2)) × the plain nets' (floored at \(formatted(Thresholds.costFloor, 2))) = \(formatted(allowed, 3))"))
        let closed = closedFraction(results, variant: highway.name, depth: deep)
        findings.append(Finding(
            "in the trained highway net most transform gates are closed (the layers mostly carry their input)",
            holds: closed.isFinite && closed >= Thresholds.closedGateFraction,
            evidence: "\(highway.name) at \(deep) layers: \(closed.isFinite ? formatted(100 * closed, 0) + "%" : "no trained gates") of gate values "
                + "below 0.1; need ≥ \(formatted(100 * Thresholds.closedGateFraction, 0))%",
            isCentral: false))
        return Judgement(findings)
    }
}
