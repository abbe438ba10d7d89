#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Reports training progress: a bar redrawn in place on a terminal, plain periodic lines
/// otherwise (CI logs).
public struct ProgressReporter {
    /// Whether output goes to a terminal (a bar redrawn in place) rather than a log.
    public let isTerminal: Bool
    /// For plain output: at most one line per this many seconds.
    public let lineInterval: Double
    private var lastLine = -Double.infinity

    /// - Parameters:
    ///   - isTerminal: draw a bar in place; by default, whether standard output is a terminal.
    ///   - lineInterval: for plain output, the least number of seconds between lines.
    public init(isTerminal: Bool = isatty(1) != 0, lineInterval: Double = 10) {
        self.isTerminal = isTerminal
        self.lineInterval = lineInterval
    }

    /// - Parameters:
    ///   - startStep: the step this process started the epoch at (> 0 after a resume).
    ///   - elapsed: seconds since `startStep`; `imagesPerSecond` over the same span.
    public mutating func update(epoch: Int, epochs: Int, step: Int, steps: Int, startStep: Int = 0, loss: Float,
                                accuracy: Float, imagesPerSecond: Double, elapsed: Double) {
        let summary = Self.summary(epoch: epoch, epochs: epochs, step: step, steps: steps, startStep: startStep, loss: loss,
                                   accuracy: accuracy, imagesPerSecond: imagesPerSecond, elapsed: elapsed)
        if isTerminal {
            let width = 24, filled = steps > 0 ? width * step / steps : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\u{1B}[2K[\(bar)] \(summary)", terminator: "")
            fflush(nil)
        } else if elapsed - lastLine >= lineInterval || step == steps {
            lastLine = elapsed
            printLine(summary)
        }
    }

    /// The progress line: epoch, step/total, loss, accuracy, images/s and the time left in the
    /// epoch at the rate since `startStep`.
    public static func summary(epoch: Int, epochs: Int, step: Int, steps: Int, startStep: Int = 0, loss: Float,
                               accuracy: Float, imagesPerSecond: Double, elapsed: Double) -> String {
        let remaining = step > startStep ? elapsed / Double(step - startStep) * Double(steps - step) : 0
        return "epoch \(epoch + 1)/\(epochs) step \(step)/\(steps) loss \(format(loss, 4)) acc \(format(accuracy * 100, 2))% "
            + "\(Int(imagesPerSecond)) img/s ETA \(duration(remaining))"
    }

    /// Ends the bar's line before an epoch summary.
    public mutating func finishEpoch() {
        if isTerminal { print("") }
        lastLine = -Double.infinity
    }
}

/// Prints a line and flushes it at once, so logs written to files or pipes show progress live.
public func printLine(_ text: String) {
    print(text)
    fflush(nil)
}

/// Formats with a fixed number of decimals.
public func format(_ value: Float, _ decimals: Int) -> String {
    var scale: Float = 1
    for _ in 0..<decimals { scale *= 10 }
    // Beyond 2⁵³ the fixed-point digits would overflow Int (and Float has 7 significant digits anyway).
    guard value.isFinite, Swift.abs(value) * scale < 0x1p53 else { return "\(value)" }
    let scaled = Int((Swift.abs(value) * scale).rounded())
    let whole = scaled / Int(scale), fraction = scaled % Int(scale)
    let digits = String(fraction)
    return (value < 0 && scaled != 0 ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + String(repeating: "0", count: decimals - digits.count) + digits : "")
}

/// A count and its noun, singular for 1: "1 epoch", "3 epochs", "0 images"; `plural` for nouns
/// that do not take an "s" ("1 batch", "2 batches").
public func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
}

/// "1h02m", "3m05s", "12s".
public func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let total = Int(seconds.rounded())
    if total >= 3600 { return "\(total / 3600)h" + String(format2: (total % 3600) / 60) + "m" }
    if total >= 60 { return "\(total / 60)m" + String(format2: total % 60) + "s" }
    return "\(total)s"
}

extension String {
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}

/// Monotonic seconds.
public func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Ctrl-C handling: the first SIGINT asks the training loop to stop after the current step (it
/// then writes a checkpoint); a second one exits at once.
public enum Interrupt {
    static let requested = Atomic<Bool>(false)

    /// Installs the SIGINT handler (once per process, before training).
    public static func install() {
        // A parent may have left SIGINT blocked (the mask survives exec): unblock it.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        signal(SIGINT) { _ in
            if Interrupt.requested.exchange(true, ordering: .relaxed) { _exit(130) }
        }
    }

    /// Whether Ctrl-C was pressed since `install()`: the training loop stops after this step.
    public static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
