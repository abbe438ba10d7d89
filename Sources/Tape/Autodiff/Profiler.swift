#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Time per op, forward and backward separately, in the way torch.profiler's `key_averages()`
/// table reads: calls, total and mean time, share of the wall time, bytes moved and GFLOP/s.
///
/// Forward: the time to compute each op's value (every op, recorded or not, goes through the
/// tape's `record`). Backward: the time of each entry's pullback, including the ops it runs
/// (whose own FLOPs count towards it), and the time spent adding cotangents into slots
/// ("accumulate cotangents"). Work outside ops (optimiser steps, data loading, tape bookkeeping)
/// is the difference between the wall time and the ops' total: `untrackedSeconds`.
///
/// Bytes moved are the op's operands and results (forward: inputs and output; backward: the
/// output's cotangent, the saved values and the inputs' cotangents), 4 bytes a float, a lower
/// bound on memory traffic. FLOPs are known for matrix products and convolutions (and their
/// adjoints): 2 × multiply-adds.
public struct Profile: Sendable, CustomStringConvertible {
    /// Which pass an op's time belongs to.
    public enum Phase: String, Sendable {
        /// Computing op values, or running pullbacks and adding cotangents.
        case forward, backward
    }

    /// One op's totals over the profiled region.
    public struct Row: Sendable, Equatable {
        /// The op's name, as recorded ("conv2d", "mul", …).
        public var name: String
        /// Forward or backward.
        public var phase: Phase
        /// How many times it ran.
        public var calls: Int
        /// Total wall-clock seconds.
        public var seconds: Double
        /// Total bytes of operands and results.
        public var bytes: Double
        /// Total floating-point operations, where known.
        public var flops: Double?

        /// GFLOP/s over its total time, where FLOPs are known.
        public var gflops: Double? { flops.map { seconds > 0 ? $0 / seconds / 1e9 : 0 } }
    }

    /// Wall-clock seconds of the whole profiled region.
    public var wallSeconds: Double
    /// Every op and phase, longest total time first.
    public var rows: [Row]

    /// The ops' total time.
    public var trackedSeconds: Double { rows.reduce(0) { $0 + $1.seconds } }
    /// Wall time not spent inside ops.
    public var untrackedSeconds: Double { wallSeconds - trackedSeconds }

    /// The table: one row per op and phase, longest first, then the untracked time and the total.
    public var description: String {
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + padding : padding + text
        }
        func fixed(_ value: Double, _ decimals: Int) -> String {
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            var text = "\(rounded)"
            if let dot = text.firstIndex(of: ".") {
                let have = text.distance(from: dot, to: text.endIndex) - 1
                if have < decimals { text += String(repeating: "0", count: decimals - have) }
            }
            return text
        }
        var lines = [pad("op", 28, left: true) + pad("phase", 9) + pad("calls", 8) + pad("total ms", 11) + pad("mean µs", 11)
                     + pad("% wall", 8) + pad("MB moved", 10) + pad("GFLOP/s", 9)]
        for row in rows {
            lines.append(pad(row.name, 28, left: true) + pad(row.phase.rawValue, 9) + pad("\(row.calls)", 8)
                         + pad(fixed(row.seconds * 1e3, 2), 11) + pad(fixed(row.seconds / Double(max(row.calls, 1)) * 1e6, 1), 11)
                         + pad(fixed(100 * row.seconds / max(wallSeconds, 1e-12), 1), 8) + pad(fixed(row.bytes / 1e6, 1), 10)
                         + pad(row.gflops.map { fixed($0, 1) } ?? "-", 9))
        }
        lines.append(pad("(outside ops)", 28, left: true) + pad("", 17) + pad(fixed(untrackedSeconds * 1e3, 2), 11) + pad("", 11)
                     + pad(fixed(100 * untrackedSeconds / max(wallSeconds, 1e-12), 1), 8))
        lines.append(pad("total (wall)", 28, left: true) + pad("", 17) + pad(fixed(wallSeconds * 1e3, 2), 11))
        return lines.joined(separator: "\n")
    }
}

/// Runs `body` and returns its result with the time per op spent inside it (see `Profile`).
/// Profiles nest: an inner region's ops count in the outer one too.
public func withProfiling<R>(_ body: () throws -> R) rethrows -> (result: R, profile: Profile) {
    let recorder = ProfileRecorder()
    var context = RecordingContext.current
    let outer = context.profiler
    context.profiler = .recorder(recorder, outer: outer)
    let start = monotonicSeconds()
    let result = try RecordingContext.$current.withValue(context, operation: body)
    return (result, recorder.profile(wallSeconds: monotonicSeconds() - start))
}

/// Where an op's time goes while profiling: the region's recorder, or — inside a pullback — a
/// counter that adds the inner ops' FLOPs to the pullback's row (their time is the pullback's).
enum ProfileSink: Sendable {
    indirect case recorder(ProfileRecorder, outer: ProfileSink?)
    case pullback(FlopCounter)
}

/// The totals of one profiled region, behind a lock (tasks started inside the region inherit it).
final class ProfileRecorder: Sendable {
    private struct Key: Hashable { let name: String, phase: Profile.Phase }
    private let rows = Mutex<[Key: Profile.Row]>([:])

    func add(_ name: StaticString, _ phase: Profile.Phase, seconds: Double, bytes: Double, flops: Double?) {
        let key = Key(name: "\(name)", phase: phase)
        rows.withLock { table in
            var row = table[key] ?? Profile.Row(name: key.name, phase: phase, calls: 0, seconds: 0, bytes: 0, flops: nil)
            row.calls += 1
            row.seconds += seconds
            row.bytes += bytes
            if let flops { row.flops = (row.flops ?? 0) + flops }
            table[key] = row
        }
    }

    func profile(wallSeconds: Double) -> Profile {
        let rows = rows.withLock { Array($0.values) }.sorted { $0.seconds != $1.seconds ? $0.seconds > $1.seconds : $0.name < $1.name }
        return Profile(wallSeconds: wallSeconds, rows: rows)
    }
}

/// FLOPs of the ops a pullback runs.
final class FlopCounter: Sendable {
    private let total = Mutex<Double>(0)
    func add(_ flops: Double) { total.withLock { $0 += flops } }
    var flops: Double { total.withLock { $0 } }
}

extension ProfileSink {
    /// Adds one op's forward time to this region and every enclosing one.
    func addForward(_ name: StaticString, seconds: Double, bytes: Double, flops: Double?) {
        switch self {
        case .recorder(let recorder, let outer):
            recorder.add(name, .forward, seconds: seconds, bytes: bytes, flops: flops)
            outer?.addForward(name, seconds: seconds, bytes: bytes, flops: flops)
        case .pullback(let counter):
            if let flops { counter.add(flops) }
        }
    }

    /// Adds one pullback's (or cotangent accumulation's) time to this region and every enclosing one.
    func addBackward(_ name: StaticString, seconds: Double, bytes: Double, flops: Double?) {
        if case .recorder(let recorder, let outer) = self {
            recorder.add(name, .backward, seconds: seconds, bytes: bytes, flops: flops)
            outer?.addBackward(name, seconds: seconds, bytes: bytes, flops: flops)
        }
    }

    /// Whether times are recorded here (not inside a pullback).
    var recordsTimes: Bool {
        if case .recorder = self { return true }
        return false
    }
}

/// 2 × multiply-adds of the ops whose FLOPs are known, from the shapes of their operands.
func knownFlops(_ name: StaticString, inputShapes: [[Int]], outputShape: [Int]) -> Double? {
    func count(_ shape: [Int]) -> Double { Double(shape.reduce(1, *)) }
    switch "\(name)" {
    case "matmul":
        // [..., m, k] · [..., k, n]: k multiply-adds per output element.
        guard let k = inputShapes.first?.last else { return nil }
        return 2 * count(outputShape) * Double(k)
    case "conv2d":
        // Every output element sums C/groups · kH · kW products: the filter's size per output channel.
        guard inputShapes.count >= 2, let outputs = inputShapes[1].first, outputs > 0 else { return nil }
        return 2 * count(outputShape) * count(inputShapes[1]) / Double(outputs)
    case "conv2dBackwardInput":
        // The transposed convolution: as many multiply-adds as the forward one, counted over ∂y.
        guard inputShapes.count >= 2, let outputs = inputShapes[1].first, outputs > 0 else { return nil }
        return 2 * count(inputShapes[0]) * count(inputShapes[1]) / Double(outputs)
    case "conv2dBackwardFilter":
        // ∂W = Σ x ⋆ ∂y: per ∂y element, one product per filter element of its output channel.
        guard inputShapes.count >= 2, let outputs = outputShape.first, outputs > 0 else { return nil }
        return 2 * count(inputShapes[1]) * count(outputShape) / Double(outputs)
    default:
        return nil
    }
}

/// Bytes of Float tensors with these shapes.
func floatBytes(_ shapes: [[Int]]) -> Double {
    shapes.reduce(0) { $0 + 4 * Double($1.reduce(1, *)) }
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
