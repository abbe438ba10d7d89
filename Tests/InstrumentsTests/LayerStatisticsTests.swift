import Testing
import Instruments
import Models
import NN
import Tape

@Suite("Layer statistics")
struct LayerStatisticsTests {
    @Test func tensorStatisticsAreThePopulationMoments() {
        let s = TensorStatistics(Tensor([1, 2, 3, 6]))
        #expect(s.mean == 3)
        #expect(relativeError(s.standardDeviation, (14.0 / 4).squareRoot()) < 1e-15)   // deviations −2, −1, 0, 3
        #expect(relativeError(s.rootMeanSquare, (50.0 / 4).squareRoot()) < 1e-15)
        #expect(relativeError(s.rootMeanSquare * s.rootMeanSquare, s.mean * s.mean + s.standardDeviation * s.standardDeviation) < 1e-14)
        let samples = SampleSummary([1, 2, 3, 6])
        #expect(samples.mean == 3 && relativeError(samples.standardDeviation, (14.0 / 3).squareRoot()) < 1e-15)
        #expect(SampleSummary([5]).standardDeviation == 0)
    }

    @Test func meanAndSampleStandardDeviationUseBesselsCorrection() {
        let (mean, spread) = meanAndSampleStandardDeviation([1, 2, 3, 6])   // deviations −2, −1, 0, 3
        #expect(mean == 3 && relativeError(spread, (14.0 / 3).squareRoot()) < 1e-15)
        #expect(meanAndSampleStandardDeviation([5]) == (5, 0))
        let none = meanAndSampleStandardDeviation([])
        #expect(none.mean.isNaN && none.standardDeviation.isNaN)
        #expect(SampleSummary([]).mean == 0 && SampleSummary([]).standardDeviation == 0)
    }

    /// Every number against an independent computation on the same net: the hidden
    /// representations by hand, ∂loss/∂(hidden) from `gradients(withRespectTo:)` on the
    /// hand-built graph, and parameter gradients from `backward()`.
    @Test func matchesAHandBuiltForwardAndBackward() {
        var random = SplitMix64(seed: 3)
        let first = Linear(3, 5, using: &random), second = Linear(5, 2, using: &random)
        let net = Sequential(first, ReLU(), second)
        let x = Fixture.batch(4, 3, seed: 4), target = Fixture.batch(4, 2, seed: 5)

        let stats = layerStatistics(of: net) {
            var context = ForwardContext.evaluation
            return meanSquaredError(net(Variable(x), &context), Variable(target))
        }

        var context = ForwardContext.evaluation
        let z = first(Variable(x), &context), h = z.relu(), y = second(h, &context)
        let loss = meanSquaredError(y, Variable(target))
        let (dz, dh, dy) = { let g = loss.gradients(withRespectTo: [z, h, y], retainGraph: true); return (g[0], g[1], g[2]) }()
        loss.backward()

        #expect(relativeError(stats.loss, Double(loss.scalar)) < 1e-6)
        #expect(stats.layers.map(\.name) == ["0", "1", "2", ""])   // call order: the container finishes last
        #expect(stats.layer(named: "1")?.kind == "ReLU")
        for (name, value, gradient) in [("0", z, dz), ("1", h, dh), ("2", y, dy), ("", y, dy)] {
            let record = stats.layer(named: name)!
            #expect(record.output == TensorStatistics(value.value), "layer '\(name)'")
            let expected = TensorStatistics(gradient.value)
            #expect(relativeError(record.outputGradient!.rootMeanSquare, expected.rootMeanSquare) < 1e-6, "layer '\(name)'")
            #expect(relativeError(record.outputGradient!.standardDeviation, expected.standardDeviation) < 1e-6, "layer '\(name)'")
        }
        #expect(stats.parameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        for (record, parameter) in zip(stats.parameters, net.parameters) {
            let norm = parameter.grad!.scalars.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(relativeError(record.gradientNorm, norm) < 1e-6, "\(record.name)")
            #expect(record.relativeGradientNorm > 0)
        }
    }

    @Test func leavesGradientsAloneAndRemovesItsHooks() {
        let net = Fixture.mlp()
        let x = Fixture.batch(3, 3, seed: 6)
        let first = layerStatistics(of: net, input: x, labels: [0, 1, 1], include: { name, _ in name.hasPrefix("blocks") })
        #expect(net.parameters.allSatisfy { $0.grad == nil })
        #expect(first.layers.allSatisfy { $0.name.hasPrefix("blocks") } && first.layer(named: "blocks.2") != nil)
        #expect(first.layer(named: "input") == nil)
        // A second run sees exactly one capture per layer again (no leftover hooks).
        let second = layerStatistics(of: net, input: x, labels: [0, 1, 1], include: { name, _ in name.hasPrefix("blocks") })
        #expect(second.layers.map(\.name) == first.layers.map(\.name))
        #expect(second.layers.map(\.output) == first.layers.map(\.output))
    }

    @Test func aLayerThatDoesNotReachTheLossHasNoGradient() {
        var random = SplitMix64(seed: 7)
        let used = Linear(2, 2, using: &random), unused = Linear(2, 2, using: &random)
        let x = Fixture.batch(2, 2, seed: 8)
        let stats = layerStatistics(of: Sequential(used, unused)) {
            var context = ForwardContext.evaluation
            _ = unused(Variable(x), &context)
            return used(Variable(x), &context).sum()
        }
        #expect(stats.layer(named: "1")?.outputGradient == nil)
        #expect(stats.layer(named: "0")?.outputGradient?.rootMeanSquare == 1)   // ∂Σy/∂y = 1
        #expect(stats.parameters.first { $0.name == "1.weight" }?.gradientNorm == 0)
    }
}
