import Datasets
import Experiments
import Foundation
import Models
import NN
import Tape
import Testing
import Training

@Suite("stochastic-depth")
struct StochasticDepthTests {
    typealias E = StochasticDepth

    /// A run with final test error `error`, `seconds` per epoch; its test loss falls to 0.3 at epoch 3 and
    /// ends at `finalTestLoss` while the training loss keeps falling.
    func run(error: Double, seconds: Double, blocks: Double, finalTestLoss: Double = 0.45) -> E.Run {
        E.Run(epochTrainLoss: [1.0, 0.5, 0.2, 0.05, 0.01], epochTestLoss: [0.8, 0.5, 0.3, 0.35, finalTestLoss],
              epochTestError: [0.3, 0.2, 0.15, error + 0.01, error], epochSeconds: Array(repeating: seconds, count: 5), blocksPerStep: blocks)
    }

    /// 27 blocks, Σ p_l = (3·27 − 1)/4 = 20; stochastic depth `saving` faster and `errorChange` lower or higher
    /// in each of 3 seeds (or `errorChanges[seed]`).
    func results(errorChange: Double, saving: Double, measuredBlocks: Double = 20.1, constantFinalTestLoss: Double = 0.45,
                 errorChanges: [Double]? = nil) -> E.Results {
        E.Results(blocks: 27, expectedDepth: 20, pairs: (0..<3).map { seed in
            let base = 0.16 + 0.005 * Double(seed)
            return E.Pair(seed: UInt64(seed), constant: run(error: base, seconds: 10, blocks: 27, finalTestLoss: constantFinalTestLoss),
                          stochastic: run(error: base + (errorChanges?[seed] ?? errorChange), seconds: 10 * (1 - saving), blocks: measuredBlocks))
        })
    }

    @Test func expectedDepthFormula() {
        // Σ_{l=1}^{L} (1 − l/(2L)) = L − (L + 1)/4 = (3L − 1)/4: 20 for L = 27, 40.25 ≈ 40 for the paper's L = 54.
        #expect(E.linearDecayExpectedDepth(blocks: 27) == 20)
        #expect(E.linearDecayExpectedDepth(blocks: 54) == 40.25)
        for depth in [14, 20, 56] {
            let network = CIFARResNet(depth: depth, configuration: CIFARConfiguration(), widths: [2, 2, 2], seed: 0)
            network.enableStochasticDepth(finalSurvival: 0.5, linearDecay: true, scaling: .testTime)
            let blocks = network.residualBlocks.count
            #expect(abs(Double(network.expectedDepth) - E.linearDecayExpectedDepth(blocks: blocks)) < 1e-4)
        }
    }

    @Test func verdicts() {
        // The paper's picture: 1.2 points lower error, 25% faster, overfitting constant-depth net.
        #expect(E.verdict(results(errorChange: -0.012, saving: 0.25)).verdict == .agree)
        // The constant-depth net never overfits (its test loss ends at its lowest): a side finding fails.
        #expect(E.verdict(results(errorChange: -0.012, saving: 0.25, constantFinalTestLoss: 0.3)).verdict == .partly)
        // The measured branches per step far from Σ p_l: a side finding fails.
        #expect(E.verdict(results(errorChange: -0.012, saving: 0.25, measuredBlocks: 24)).verdict == .partly)
        // Lower on average but inside the seed noise: differences −2, +1.5, −0.5 points, mean −0.33, standard error
        // std/√3 = 1.04: the (central) error finding fails although the time saving holds, so disagree.
        let noisy = E.verdict(results(errorChange: 0, saving: 0.25, errorChanges: [-0.02, 0.015, -0.005]))
        #expect(noisy.verdict == .disagree && !noisy.findings[0].holds && noisy.findings[1].holds)
        // The same spread shifted down by 2 points (mean −2.33 < −1.04): agree.
        #expect(E.verdict(results(errorChange: 0, saving: 0.25, errorChanges: [-0.04, -0.005, -0.025])).verdict == .agree)
        // Higher test error with stochastic depth: disagree.
        #expect(E.verdict(results(errorChange: 0.01, saving: 0.25)).verdict == .disagree)
        // No time saved: disagree.
        #expect(E.verdict(results(errorChange: -0.012, saving: 0.02)).verdict == .disagree)
    }

    /// Trains `network` a few steps on synthetic data with stochastic-depth draws from the trainer's generator.
    func trained(_ network: CIFARResNet, steps: Int = 4) throws -> [[Float]] {
        let data = syntheticImages(count: 64, seed: 4)
        let trainer = try Trainer(model: network, train: data, test: data,
                                  options: TrainingOptions(epochs: 10, batchSize: 16, learningRate: 0.05, seed: 7, prefetch: false))
        for _ in 0..<steps { _ = try trainer.step() }
        return network.parameters.map(\.value.scalars)
    }

    @Test func survivalOneEqualsConstantDepthBitForBit() throws {
        var setup = E.Setup.quick
        let constant = try trained(E.network(setup, stochastic: false, inputChannels: 1, seed: 3))
        setup.finalSurvival = 1
        let survivalOne = try trained(E.network(setup, stochastic: true, inputChannels: 1, seed: 3))
        #expect(constant == survivalOne)
        // …while p_L = 0.5 changes the training.
        setup.finalSurvival = 0.5
        #expect(try trained(E.network(setup, stochastic: true, inputChannels: 1, seed: 3)) != constant)
    }

    @Test func activeBlocksAverageTheExpectedDepth() {
        // 6 blocks, linear decay to 0.5: Σ p_l = 4.25; the Bernoulli count's std is √Σp(1−p) ≈ 0.99, so over 300 passes
        // the mean is within 0.2 of 4.25 with overwhelming probability (0.2 ≈ 3.5 standard errors).
        let network = E.network(.quick, stochastic: true, inputChannels: 1, seed: 0)
        #expect(network.residualBlocks.count == 6 && abs(network.expectedDepth - 4.25) < 1e-6)
        var context = ForwardContext.training(seed: 11)
        let input = Variable(Tensor.randomNormal([2, 1, 8, 8], using: &context.random))
        var total = 0
        for _ in 0..<300 {
            _ = withoutGradient { network(input, &context) }
            total += network.residualBlocks.filter(\.lastForwardUsedBranch).count
        }
        #expect(abs(Double(total) / 300 - 4.25) < 0.2, "\(Double(total) / 300) blocks per pass")
        // At test time every block runs.
        var evaluation = ForwardContext.evaluation
        _ = withoutGradient { network(input, &evaluation) }
        #expect(network.residualBlocks.allSatisfy { $0.lastForwardUsedBranch })
    }

    @Test(.enabled(if: fashionMNISTAvailable, "needs Fashion-MNIST in ../shared/data or $TAPE_DATA"))
    func quickSetupInvariants() throws {
        var setup = E.Setup.quick
        setup.seeds = [0]
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        #expect(results.blocks == 6 && abs(results.expectedDepth - 4.25) < 1e-6)
        let pair = results.pairs[0]
        #expect(pair.constant.blocksPerStep == 6)
        #expect(pair.stochastic.blocksPerStep > 2.5 && pair.stochastic.blocksPerStep < 5.5)
        for run in [pair.constant, pair.stochastic] {
            #expect(run.epochTrainLoss.count == setup.epochs && run.epochTestError.count == setup.epochs)
            #expect(run.epochSeconds.allSatisfy { $0 > 0 })
            #expect(run.epochTestError.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(run.epochTrainLoss.last! < run.epochTrainLoss.first!)
        }
        #expect(!E.verdict(results).findings.isEmpty)
    }
}
