import Experiments
import Foundation
import Testing

/// Whether MNIST is where experiments look for it ($TAPE_DATA, else ../shared/data).
private let hasMNIST = FileManager.default.fileExists(atPath: (ProcessInfo.processInfo.environment["TAPE_DATA"] ?? "../shared/data") + "/mnist")

@Suite("ensembles")
struct EnsemblesTests {
    typealias E = Ensembles

    /// Hand-made results for a net of 3 stages of 4 blocks (n = 12; blocks 5 and 9 downsample) and its plain twin.
    /// - Parameters:
    ///   - singleIncrease: the error added by deleting a non-downsampling block (downsampling ones add 3 points).
    ///   - deletionCurve: mean errors for k = 1, 2, 4, 8 deleted blocks.
    ///   - plainDeletionError: the plain twin's error with any one layer deleted (intact 2%).
    ///   - gradientShare: the share of the gradient per path length 0 … 12.
    func results(intact: Double = 0.01, singleIncrease: Double = 0.002, deletionCurve: [Double] = [0.015, 0.025, 0.045, 0.075],
                 plainDeletionError: Double = 0.88, gradientShare: [Double]? = nil, trainError: Double = 0.002) -> E.Results {
        let n = 12
        let downsampling = (0..<n).map { $0 == 4 || $0 == 8 }
        let single = downsampling.map { intact + ($0 ? 0.03 : singleIncrease) }
        // Short paths: the gradient is spread over lengths 1–4 (mean 2.5), a path's gradient halves per branch.
        let share = gradientShare ?? [0.05, 0.2, 0.3, 0.25, 0.15, 0.05, 0, 0, 0, 0, 0, 0, 0]
        let norms = (0...n).map { pow(0.5, Double($0)) }
        let pathShare = (0...n).map { k in Double((0..<k).reduce(1) { $0 * (n - $1) / ($1 + 1) }) / 4096 }
        let training = E.TrainingRecord(trainLoss: [0.3, 0.01], trainError: [0.1, trainError], testError: [0.03, intact])
        let residual = E.ResidualLesions(
            seed: 0, training: training, intactError: intact, downsampling: downsampling, singleDeletion: single,
            randomDeletion: deletionCurve.map { [$0 - 0.002, $0, $0 + 0.002] },
            swaps: [0.012, 0.015, 0.02].map { [$0, $0] }, swapKendallTau: [[0.95, 0.97], [0.9, 0.92], [0.8, 0.85]],
            invariants: E.Invariants(noDeletion: intact, afterRestoring: intact, noSwap: intact),
            paths: E.PathGradients(gradientNorm: norms, gradientSpread: norms.map { $0 / 10 }, pathShare: pathShare, gradientShare: share))
        // Plain twin: layer 2 of every block and layer 1 of the non-downsampling ones.
        var layers: [E.LayerDeletion] = []
        for b in 0..<n {
            if !downsampling[b] { layers.append(E.LayerDeletion(block: b, layer: 1, error: plainDeletionError)) }
            layers.append(E.LayerDeletion(block: b, layer: 2, error: plainDeletionError))
        }
        let plain = E.PlainLesions(seed: 0, training: training, intactError: 0.02, layerDeletions: layers,
                                   blockDeletion: downsampling.map { $0 ? nil : 0.9 }, afterRestoring: 0.02)
        return E.Results(blocks: n, deletionCounts: [1, 2, 4, 8], swapCounts: [1, 2, 4], convergedTrainingError: 0.01,
                         residual: [residual], plain: [plain])
    }

    @Test func verdictAgrees() {
        let judgement = E.verdict(results())
        #expect(judgement.verdict == .agree, "\(judgement.findings.filter { !$0.holds })")
    }

    @Test func verdictPartly() {
        // Everything central holds, but the nets stopped at 3% training error (not converged): a side finding fails.
        #expect(E.verdict(results(trainError: 0.03)).verdict == .partly)
        // A path's gradient does not decay (flat norms) while the share still comes from short paths: side finding.
        var flat = results()
        flat.residual[0].paths.gradientNorm = Array(repeating: 1, count: 13)
        #expect(E.verdict(flat).verdict == .partly)
    }

    @Test func verdictDisagrees() {
        // Deleting a block costs 4 points: not "barely".
        #expect(E.verdict(results(singleIncrease: 0.04)).verdict == .disagree)
        // A cliff: the error jumps to 80% at k = 8.
        #expect(E.verdict(results(deletionCurve: [0.012, 0.014, 0.02, 0.8])).verdict == .disagree)
        // The plain twin survives a deletion (error 5% against intact 2%).
        #expect(E.verdict(results(plainDeletionError: 0.05)).verdict == .disagree)
        // The gradient comes from long paths (all of it at lengths 8–9 of 12).
        let long = [0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0.0]
        #expect(E.verdict(results(gradientShare: long)).verdict == .disagree)
    }

    @Test func thresholdHelpers() {
        #expect(E.isFatal(0.46, intact: 0.02) && !E.isFatal(0.45, intact: 0.02))   // midpoint of 2% and 90% is 46%
        #expect(E.smoothness(intact: 0.01, means: [0.02, 0.03, 0.05, 0.08]).holds)
        #expect(!E.smoothness(intact: 0.01, means: [0.05, 0.02, 0.05, 0.08]).holds)   // falls by 3 points
        #expect(E.kendallTau([0, 1, 2, 3]) == 1 && E.kendallTau([3, 2, 1, 0]) == -1)
        #expect(abs(E.kendallTau([1, 0, 2, 3]) - 4.0 / 6) < 1e-12)   // one discordant pair of 6
    }

    /// The quick setup: the lesion switches' invariants, and the physics of paths.
    @Test(.enabled(if: hasMNIST, "needs MNIST in ../shared/data or $TAPE_DATA"))
    func quickSetupInvariants() throws {
        let setup = E.Setup.quick
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        let n = 3 * setup.blocksPerStage
        #expect(results.blocks == n && results.residual.count == 1 && results.plain.count == 1)
        let resnet = results.residual[0], plain = results.plain[0]
        // Deleting no block, swapping no pair and re-enabling every block give the intact error exactly.
        #expect(resnet.invariants.noDeletion == resnet.intactError)
        #expect(resnet.invariants.noSwap == resnet.intactError)
        #expect(resnet.invariants.afterRestoring == resnet.intactError)
        #expect(plain.afterRestoring == plain.intactError)
        // Stages 2 and 3 begin with a downsampling block.
        #expect(resnet.downsampling == (0..<n).map { $0 == setup.blocksPerStage || $0 == 2 * setup.blocksPerStage })
        // The plain twin can lose layer 2 of every block and layer 1 of the n − 2 that keep their shape.
        #expect(plain.layerDeletions.count == 2 * n - 2)
        #expect(plain.blockDeletion.filter { $0 == nil }.count == 2)
        // Draws and swaps as set up; swaps keep τ < 1 unless undone; τ = 1 exactly reproduces the intact error.
        #expect(resnet.randomDeletion.map(\.count) == setup.deletionCounts.map { _ in setup.draws })
        for (errors, taus) in zip(resnet.swaps, resnet.swapKendallTau) {
            for (error, tau) in zip(errors, taus) where tau == 1 { #expect(error == resnet.intactError) }
        }
        // Path lengths follow Binomial(n, ½); the gradient shares sum to 1.
        #expect(abs(resnet.paths.pathShare[n / 2] - E.binomialShare(n, n / 2)) < 1e-12)
        #expect(abs(resnet.paths.gradientShare.reduce(0, +) - 1) < 1e-9)
        #expect(resnet.paths.gradientNorm.allSatisfy { $0.isFinite && $0 >= 0 })
        // Every error is a fraction of the test images.
        let errors = [resnet.intactError] + resnet.singleDeletion + resnet.randomDeletion.flatMap { $0 } + plain.layerDeletions.map(\.error)
        #expect(errors.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

extension Ensembles {
    /// C(n, k)/2ⁿ written out for the test.
    static func binomialShare(_ n: Int, _ k: Int) -> Double {
        var value = 1.0
        for i in 0..<k { value = value * Double(n - i) / Double(i + 1) }
        return value / pow(2, Double(n))
    }
}
