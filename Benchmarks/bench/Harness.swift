// The benchmark harness: what a measure is, how it is timed, and how results are printed.
// To add a suite, write a function `(SuiteConfig) -> [Measure]` in its own file and list it in
// `suites` in main.swift.
import CKernels
import Glibc

/// One benchmark: a named piece of work, run at a given thread count and timed per repetition.
struct Measure {
    /// Reported name; `--filter` matches substrings of it.
    let name: String
    /// Threads of the CKernels pool (`ck_set_num_threads`) while it runs.
    let threads: Int
    /// Floating-point operations per repetition; 0 when GFLOP/s make no sense.
    let flops: Double
    /// Items per repetition (images, ops), reported as items per second from the median time.
    var items: (count: Double, unit: String)? = nil
    /// Allocates and fills the inputs (untimed), then returns the body timed once per repetition.
    let prepare: () -> () -> Void
}

/// What a suite is asked to produce.
struct SuiteConfig {
    /// Thread counts to cover (from `--threads`, else 1 and all CPUs).
    let threadCounts: [Int]
    /// `--quick`: smaller sizes, so the whole run takes seconds.
    let quick: Bool
}

/// A family of measures, such as every sgemm size at every thread count.
typealias Suite = (SuiteConfig) -> [Measure]

/// Timings of one measure, in seconds per repetition.
struct Result {
    let measure: Measure
    let median: Double
    let min: Double

    /// Throughput from the median time; nil without a FLOP count.
    var gflops: Double? { measure.flops > 0 ? measure.flops / median / 1e9 : nil }
    /// Items per second from the median time; nil without an item count.
    var itemsPerSecond: Double? { measure.items.map { $0.count / median } }
}

/// How long to warm up and repeat.
struct Timing {
    /// Warm-up runs continue until this much time has passed (at least one run).
    let warmUpSeconds: Double
    /// Repetitions are chosen to take about this long in total...
    let targetSeconds: Double
    /// ...within these bounds.
    let repetitions: ClosedRange<Int>

    static let full = Timing(warmUpSeconds: 0.1, targetSeconds: 0.5, repetitions: 5...1000)
    static let quick = Timing(warmUpSeconds: 0.01, targetSeconds: 0.05, repetitions: 3...200)
}

/// Seconds on the monotonic clock.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Runs `measure`: prepares it with its thread count set, warms up, then times repetitions.
func run(_ measure: Measure, timing: Timing) -> Result {
    ck_set_num_threads(Int32(measure.threads))
    let body = measure.prepare()
    let warmUpStart = now()
    var warmUpRuns = 0
    repeat {
        body()
        warmUpRuns += 1
    } while now() - warmUpStart < timing.warmUpSeconds
    let estimate = (now() - warmUpStart) / Double(warmUpRuns)
    let wanted = Int((timing.targetSeconds / max(estimate, 1e-9)).rounded(.up))
    let repetitions = min(max(wanted, timing.repetitions.lowerBound), timing.repetitions.upperBound)
    var times: [Double] = []
    times.reserveCapacity(repetitions)
    for _ in 0..<repetitions {
        let start = now()
        body()
        times.append(now() - start)
    }
    times.sort()
    let middle = times.count / 2
    let median = times.count % 2 == 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2
    return Result(measure: measure, median: median, min: times[0])
}

nonisolated(unsafe) private var blackHoleSink = 0

/// Makes `value` observable, so the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withUnsafeBytes(of: value) { bytes in
        blackHoleSink &+= bytes.count &+ Int(bytes.first ?? 0)
    }
}

// MARK: - Output

/// Writes `text` to standard error.
func printToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
}

/// `value` with exactly `decimals` digits after the point (no Foundation).
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let units = Int((abs(value) * Double(scale)).rounded())
    let fraction = String(units % scale)
    let digits = decimals > 0 ? "\(units / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction
                              : "\(units)"
    return (value < 0 && units > 0 ? "-" : "") + digits
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    var literal = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": literal += "\\\""
        case "\\": literal += "\\\\"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: literal.unicodeScalars.append(scalar)
        }
    }
    return literal + "\""
}

private func padded(_ text: String, _ width: Int, right: Bool = true) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

/// Prints results as a table (stdout) or as JSON lines (stdout; notes then go to stderr).
struct Report {
    let json: Bool
    /// The C kernel set that ran (`ck_kernel_set`): "avx2-fma", "neon" or "portable". A line above
    /// the table; a "kernels" field in every JSON object.
    let kernelSet: String

    /// A line of context: stdout in table mode, stderr in JSON mode.
    func note(_ text: String) {
        if json { printToStandardError(text + "\n") } else { print(text) }
    }

    func header() {
        guard !json else { return }
        print("kernels: \(kernelSet)")
        print(padded("name", 34, right: false) + padded("threads", 8) + padded("median s", 12) + padded("min s", 12)
              + padded("GFLOP/s", 10) + padded("% peak", 8))
    }

    /// One result; `peak` is fma-peak's best GFLOP/s at the same thread count, if measured.
    func line(_ result: Result, peak: Double?) {
        let fraction = result.gflops.flatMap { gflops in peak.map { gflops / $0 } }
        if json {
            func number(_ value: Double?) -> String { value.flatMap { $0.isFinite ? "\($0)" : nil } ?? "null" }
            print("{\"name\": \(jsonString(result.measure.name)), \"threads\": \(result.measure.threads), "
                  + "\"kernels\": \(jsonString(kernelSet)), \"median_s\": \(number(result.median)), "
                  + "\"min_s\": \(number(result.min)), \"gflops\": \(number(result.gflops)), "
                  + "\"peak_fraction\": \(number(fraction))"
                  + (result.measure.items.map { ", \"\($0.unit)_per_second\": \(number(result.itemsPerSecond))" } ?? "") + "}")
        } else {
            print(padded(result.measure.name, 34, right: false) + padded("\(result.measure.threads)", 8)
                  + padded(fixed(result.median, 6), 12) + padded(fixed(result.min, 6), 12)
                  + padded(result.gflops.map { fixed($0, 1) } ?? "-", 10)
                  + padded(fraction.map { fixed($0 * 100, 1) } ?? "-", 8)
                  + (result.measure.items.map { "  " + fixed(result.itemsPerSecond ?? 0, 0) + " \($0.unit)/s" } ?? ""))
        }
    }
}
