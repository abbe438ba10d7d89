#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Tape
import Testing

@Suite("Profiler")
struct ProfilerTests {
    /// An op whose forward and pullback sleep: the profiler must put it first in each phase.
    func sleepy(_ x: Variable, forward: UInt32, backward: UInt32) -> Variable {
        Variable.record("sleepy", { usleep(forward); return x.value }(), [x], saves: .shapesOnly) { dy, _, _ in
            usleep(backward)
            return [dy]
        }
    }

    @Test func aSleepingOpShowsUpFirst() {
        let x = Variable(Tensor(shape: [64, 64], repeating: 0.5), requiresGradient: true)
        let (_, profile) = withProfiling {
            let y = matmul(sleepy(x, forward: 30_000, backward: 40_000), x).relu().sum()
            y.backward()
        }
        let forward = profile.rows.filter { $0.phase == .forward }, backward = profile.rows.filter { $0.phase == .backward }
        #expect(forward.first?.name == "sleepy" && backward.first?.name == "sleepy")
        let sleepyForward = forward.first { $0.name == "sleepy" }!, sleepyBackward = backward.first { $0.name == "sleepy" }!
        #expect(sleepyForward.calls == 1 && sleepyForward.seconds >= 0.03 && sleepyForward.seconds < 0.5)
        #expect(sleepyBackward.calls == 1 && sleepyBackward.seconds >= 0.04 && sleepyBackward.seconds < 0.5)
        // matmul of two 64×64 matrices: 2·64³ FLOPs forward, and its pullback's two products 2 · 2·64³.
        #expect(forward.first { $0.name == "matmul" }?.flops == Double(2 * 64 * 64 * 64))
        #expect(backward.first { $0.name == "matmul" }?.flops == Double(2 * 2 * 64 * 64 * 64))
        // Forward bytes: two 64×64 inputs and a 64×64 output.
        #expect(forward.first { $0.name == "matmul" }?.bytes == Double(3 * 4 * 64 * 64))
        #expect(profile.description.contains("sleepy") && profile.description.contains("total (wall)"))
    }

    /// A workload made only of ops: their times add up to the wall time, within 20% (the rest is
    /// the tape's bookkeeping between ops), and never exceed it.
    @Test func opTimesAddUpToTheWallTime() {
        var random = SplitMix64(seed: 5)
        let x = Variable(Tensor.randomNormal([8, 32, 32, 32], using: &random), requiresGradient: true)
        let filter = Variable(Tensor.randomNormal([32, 32, 3, 3], using: &random), requiresGradient: true)
        let (_, profile) = withProfiling {
            for _ in 0..<2 {
                let y = conv2d(conv2d(x, filter: filter, padding: 1).relu(), filter: filter, padding: 1)
                y.backward(seed: Tensor(shape: y.shape, repeating: 1))
            }
        }
        #expect(profile.trackedSeconds <= profile.wallSeconds)
        #expect(profile.trackedSeconds >= 0.8 * profile.wallSeconds,
                "tracked \(String(describing: profile.trackedSeconds)) of \(String(describing: profile.wallSeconds)) s")
        let convolution = profile.rows.first { $0.name == "conv2d" && $0.phase == .forward }!
        #expect(convolution.calls == 4)
        // 2 · N·O·H·W · C·3·3 per call.
        #expect(convolution.flops == 4 * 2 * Double(8 * 32 * 32 * 32) * Double(32 * 9))
    }

    @Test func profilingChangesNoResultAndNests() {
        var random = SplitMix64(seed: 6)
        let point = Tensor.randomNormal([3, 5], using: &random)
        func gradient() -> Tensor {
            let x = Variable(point, requiresGradient: true)
            return ((x * x).exp().sum()).gradients(withRespectTo: [x])[0].value
        }
        let plain = gradient()
        let (outer, outerProfile) = withProfiling { () -> (Tensor, Profile) in
            let (inner, innerProfile) = withProfiling { gradient() }
            return (inner, innerProfile)
        }
        #expect(outer.0 == plain)
        let innerMul = outer.1.rows.first { $0.name == "mul" && $0.phase == .forward }
        let outerMul = outerProfile.rows.first { $0.name == "mul" && $0.phase == .forward }
        #expect(innerMul?.calls == 1 && outerMul?.calls == 1)
        // Without profiling nothing is recorded anywhere.
        #expect(RecordingContext.current.profiler == nil)
    }
}
