import Synchronization

/// Whether ops are recorded, and whether NaN/Inf are watched for: per task (or thread), never
/// global, set only through the scoped functions below. There is no "current tape": each op
/// finds its tape through its inputs, so recording needs no shared state between tasks.
struct RecordingContext: Sendable {
    var gradientsEnabled = true
    var anomalies: AnomalyRecorder?
    /// Where op times go under `withProfiling` (nil: not profiling).
    var profiler: ProfileSink?

    @TaskLocal static var current = RecordingContext()
}

/// Runs `body` without recording: every op result is a constant. Gradients of code inside
/// the scope are not computed (as `torch.no_grad()`).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    var context = RecordingContext.current
    context.gradientsEnabled = false
    return try RecordingContext.$current.withValue(context, operation: body)
}

/// Runs a pullback: recording on or off, anomaly checks of its inner ops off (the backward
/// pass checks the pullback's results and names the op it belongs to), and under profiling its
/// inner ops' FLOPs counted into `flops` instead of timed on their own (the backward pass times
/// the pullback as a whole).
func withPullbackContext<R>(recording enabled: Bool, flops: FlopCounter? = nil, _ body: () throws -> R) rethrows -> R {
    var context = RecordingContext.current
    if context.gradientsEnabled == enabled && context.anomalies == nil && context.profiler == nil { return try body() }
    context.gradientsEnabled = enabled
    context.anomalies = nil
    context.profiler = flops.map { .pullback($0) }
    return try RecordingContext.$current.withValue(context, operation: body)
}

/// The first NaN or infinity produced by an op while anomaly detection was on.
public struct Anomaly: Error, CustomStringConvertible, Sendable {
    /// The pass in which the non-finite value appeared.
    public enum Phase: String, Sendable {
        /// In an op's output, or in the cotangents its pullback returned.
        case forward, backward
    }
    /// The op's name, as recorded ("conv2d", "mul", …).
    public let op: String
    /// Whether the op's output (forward) or its pullback's result (backward) was not finite.
    public let phase: Phase
    /// The shapes of the op's inputs.
    public let inputShapes: [[Int]]
    /// The shape of the op's output.
    public let outputShape: [Int]
    /// The file (`#fileID`) of the call that created the op.
    public let file: String
    /// The line of the call that created the op.
    public let line: UInt

    public var description: String {
        let what = phase == .forward ? "produced" : "received in its pullback"
        return "anomaly: op '\(op)' \(what) NaN or infinity (\(phase.rawValue) pass); input shapes \(inputShapes), "
            + "output shape \(outputShape); op created at \(file):\(line)"
    }
}

/// Keeps the first anomaly. Task-local values are inherited by tasks started inside the scope,
/// which may run ops concurrently, so the slot is behind a lock.
final class AnomalyRecorder: Sendable {
    private let slot = Mutex<Anomaly?>(nil)

    var first: Anomaly? { slot.withLock { $0 } }

    func check(_ tensors: [Tensor], op: StaticString, phase: Anomaly.Phase, inputShapes: [[Int]],
               outputShape: [Int], file: StaticString, line: UInt) {
        guard first == nil, tensors.contains(where: { !$0.isFinite }) else { return }
        let anomaly = Anomaly(op: "\(op)", phase: phase, inputShapes: inputShapes, outputShape: outputShape,
                              file: "\(file)", line: line)
        slot.withLock { if $0 == nil { $0 = anomaly } }
    }
}

/// Runs `body` watching every op's output (forward) and every pullback's result (backward) for
/// NaN or infinity; throws the first `Anomaly` found, naming the op, shapes and the source
/// location where the op was created. Costs a scan of every result: for debugging.
public func withAnomalyDetection<R>(_ body: () throws -> R) throws -> R {
    let recorder = AnomalyRecorder()
    var context = RecordingContext.current
    context.anomalies = recorder
    let result = try RecordingContext.$current.withValue(context, operation: body)
    if let anomaly = recorder.first { throw anomaly }
    return result
}
