import Datasets
import Experiments
import Foundation
import Models
import NN
import Tape
import Testing

@Suite("highway")
struct HighwayTests {
    typealias E = HighwayNetworks

    static let variants = E.Setup.full.variants
    static let hasMNIST = (try? DataDirectory.resolve()).map { FileManager.default.fileExists(atPath: $0.path("mnist")) } ?? false

    /// Two seeds of `variant` at `depth` with final training loss `loss` (nil: diverged) and, for
    /// highway nets, three gate layers of which `closed` of the values are below 0.1.
    func runs(_ variant: E.Variant, depth: Int, loss: Double?, closed: Double = 0.9) -> [E.Run] {
        let gates = variant.highway ? Array(repeating: E.GateSummary(mean: 0.05, standardDeviation: 0.05, closedFraction: closed, openFraction: 0), count: 3) : []
        return [0, 1].map { seed in
            E.Run(variant: variant.name, depth: depth, learningRate: 0.01, seed: UInt64(seed), diverged: loss == nil,
                  finalLoss: loss ?? .nan, finalAccuracy: 0.9, testAccuracy: 0.9, gatesAtInit: gates, gatesTrained: loss == nil ? [] : gates)
        }
    }

    /// Depths 10 and 100 with the given final losses of the plain and b_T = −6 nets (b_T = −2 fails like a plain net).
    func results(plain: (Double?, Double?), highway: (Double?, Double?), closed: Double = 0.98) -> E.Results {
        let (p, h6, h2) = (Self.variants[0], Self.variants[1], Self.variants[2])
        let all = runs(p, depth: 10, loss: plain.0) + runs(p, depth: 100, loss: plain.1)
            + runs(h6, depth: 10, loss: highway.0, closed: closed) + runs(h6, depth: 100, loss: highway.1, closed: closed)
            + runs(h2, depth: 10, loss: 0.2, closed: 0.5) + runs(h2, depth: 100, loss: 2.3, closed: 0.1)
        return E.Results(depths: [10, 100], variants: Self.variants, learningRates: [0.01], runs: all)
    }

    @Test func verdicts() {
        // The legacy run: plain 0.14 → 1.99, highway 0.066 → 0.072, 98% of its gates closed at 100 layers.
        #expect(E.verdict(results(plain: (0.14, 1.99), highway: (0.066, 0.072))).verdict == .agree)
        // Highway nets train as well at every depth, but their gates stay mostly open: the side claim fails.
        #expect(E.verdict(results(plain: (0.14, 1.99), highway: (0.066, 0.072), closed: 0.2)).verdict == .partly)
        // Plain nets barely suffer from depth (0.06 nats).
        #expect(E.verdict(results(plain: (0.14, 0.20), highway: (0.066, 0.072))).verdict == .disagree)
        // Highway nets degrade too (1.4 nats, far above 0.2 × 1.85).
        #expect(E.verdict(results(plain: (0.14, 1.99), highway: (0.066, 1.5))).verdict == .disagree)
        // Every deep highway seed diverges: counted as chance, ln 10.
        #expect(E.verdict(results(plain: (0.14, 1.99), highway: (0.066, nil))).verdict == .disagree)
        // Every deep plain seed diverges: counted as chance, so the plain nets did degrade.
        #expect(E.verdict(results(plain: (0.14, nil), highway: (0.066, 0.072))).verdict == .agree)
    }

    @Test func closedGateCarriesItsInputUnchanged() {
        var random = SplitMix64(seed: 9)
        let x = Tensor.randomNormal([6, 50], using: &random)
        for (bias, carries) in [(Float(-40), true), (Float(40), false)] {
            let variant = E.Variant(name: "highway", highway: true, gateBias: bias, searchesLearningRate: false)
            let network = E.network(variant, depth: 3, inputs: 20, seed: 1)
            var context = ForwardContext.evaluation
            let y = withoutGradient { network.highwayLayers[0](Variable(x), &context) }.value
            let largest = zip(y.scalars, x.scalars).map { abs($0 - $1) }.max()!
            // T = σ(W_T·x − 40) < 1e-17: y = x to float precision; with +40 the layer transforms (y = ReLU(W_H·x)).
            #expect(carries ? largest <= 1e-6 : largest > 0.1, "bias \(bias): largest change \(largest)")
        }
    }

    @Test func plainTwinsHaveAboutTheHighwayNetsParameterCount() {
        for depth in [10, 100] {
            let highway = E.network(Self.variants[1], depth: depth, inputs: 784, seed: 0)
            let plain = E.network(Self.variants[0], depth: depth, inputs: 784, seed: 0)
            let count = { (net: HighwayNetwork) in net.parameters.reduce(0) { $0 + $1.value.scalars.count } }
            #expect(abs(Double(count(plain)) / Double(count(highway)) - 1) < 0.05, "depth \(depth)")
            #expect(plain.highwayLayers.isEmpty && highway.highwayLayers.count == depth - 1)
        }
    }

    @Test(.enabled(if: HighwayTests.hasMNIST, "needs MNIST in ../shared/data or $TAPE_DATA"))
    func quickSetupGateStatistics() throws {
        let setup = E.Setup.quick
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        #expect(results.runs.count == setup.variants.count * setup.depths.count * setup.seeds.count)
        for run in results.runs {
            #expect(run.finalLoss.isFinite && run.finalLoss > 0 && (0...1).contains(run.finalAccuracy), "\(run)")
            let highway = setup.variants.first { $0.name == run.variant }!.highway
            #expect(run.gatesAtInit.count == (highway ? run.depth - 1 : 0) && run.gatesTrained.count == run.gatesAtInit.count)
            for gate in run.gatesAtInit + run.gatesTrained {
                // σ lies in (0, 1), so its mean too, its std at most 1/2, and closed and open values are disjoint.
                #expect(gate.mean > 0 && gate.mean < 1 && gate.standardDeviation >= 0 && gate.standardDeviation <= 0.5, "\(gate)")
                #expect(gate.closedFraction >= 0 && gate.openFraction >= 0 && gate.closedFraction + gate.openFraction <= 1, "\(gate)")
            }
        }
        // Same seed, same gate weights: at init a gate biased −6 is below the same gate biased −2, layer by layer.
        for depth in setup.depths {
            for seed in setup.seeds {
                let six = results.runs.first { $0.variant == "highway b_T=-6" && $0.depth == depth && $0.seed == seed && $0.learningRate == setup.learningRates[0] }!
                let two = results.runs.first { $0.variant == "highway b_T=-2" && $0.depth == depth && $0.seed == seed }!
                #expect(zip(six.gatesAtInit, two.gatesAtInit).allSatisfy { $0.mean < $1.mean })
            }
        }
    }
}
