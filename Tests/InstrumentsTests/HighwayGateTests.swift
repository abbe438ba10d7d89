import Testing
import Instruments
import Models
import NN
import Tape
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Highway gate statistics")
struct HighwayGateTests {
    @Test func statisticsOfAGateTensor() {
        let s = GateStatistics(Tensor([0.05, 0.5, 0.95, 0.99]))
        #expect(Swift.abs(s.mean - 0.6225) < 1e-7)
        #expect(s.closedFraction == 0.25 && s.openFraction == 0.5)
        #expect(s.standardDeviation == TensorStatistics(Tensor([0.05, 0.5, 0.95, 0.99])).standardDeviation)
    }

    /// With the gate weights zero, T(x) = σ(b_T) for every example and unit.
    @Test func constantGatesFromTheirBias() {
        let net = HighwayNetwork(depth: 3, width: 4, inputs: 5, classes: 2, seed: 1)
        let biases: [Float] = [-3, 0, 3]
        for (layer, bias) in zip(net.highwayLayers, biases) {
            let gate = layer.gate as! Linear
            gate.weight.value = Tensor.zeros(gate.weight.value.shape)
            gate.bias!.value = Tensor(shape: [4], repeating: bias)
        }
        #expect(gateStatistics(of: net.highwayLayers).allSatisfy { $0 == nil })
        let stats = gateStatistics(of: net, input: Fixture.batch(6, 5, seed: 2))
        #expect(stats.count == 3)
        for (s, bias) in zip(stats, biases) {
            let sigma = 1 / (1 + exp(Double(-bias)))
            #expect(Swift.abs(s.mean - sigma) < 1e-6 && s.standardDeviation < 1e-6)
        }
        #expect(stats[0].closedFraction == 1 && stats[0].openFraction == 0)   // σ(−3) = 0.047
        #expect(stats[1].closedFraction == 0 && stats[1].openFraction == 0)   // σ(0) = 0.5
        #expect(stats[2].closedFraction == 0 && stats[2].openFraction == 1)   // σ(3) = 0.953
        #expect(gateStatistics(of: net.highwayLayers).compactMap { $0 } == stats)
    }

    @Test func defaultGatesStartMostlyClosedAndPlainTwinsHaveNone() {
        let net = HighwayNetwork(depth: 4, inputs: 20, classes: 3, seed: 3)   // gate bias −2: σ(−2) ≈ 0.12
        let stats = gateStatistics(of: net, input: Fixture.batch(8, 20, seed: 4))
        #expect(stats.count == 4 && stats.allSatisfy { $0.mean > 0.02 && $0.mean < 0.3 && $0.standardDeviation > 0 })
        #expect(gateStatistics(of: HighwayNetwork(depth: 4, highway: false, inputs: 20, classes: 3), input: Fixture.batch(8, 20, seed: 4)).isEmpty)
    }
}
