// `swift run -c release bench [--json] [--filter NAME] [--threads N] [--quick]`
//
// Measures this machine's multiply-add peak first ("fma-peak", at each thread count), then every
// suite's measures, each reported with its share of the peak at the same thread count.
import CKernels
import Tape
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every suite, in the order they run.
let suites: [Suite] = [sgemmSuite, convolutionSuite, tapeSuite, modelSuite]

let usage = """
    usage: bench [--json] [--filter NAME] [--threads N] [--quick] [--help]
      --json         one JSON object per result on stdout; notes go to stderr
      --filter NAME  run only measures whose name contains NAME (fma-peak is still
                     measured, for % peak)
      --threads N    only this thread count (default: 1 and all CPUs)
      --quick        smaller sizes and fewer repetitions: completes in seconds
      --profile NAME run the first measure whose name contains NAME once under the
                     profiler and print its time per op (forward and backward) instead
      --help         this text
    GFLOP/s come from the median time; % peak divides them by fma-peak's best repetition
    (min time) at the same thread count: noise only ever lowers a peak.

    """

struct Options {
    var json = false
    var filter: String?
    var threads: Int?
    var quick = false
    var profile: String?
}

@MainActor
func fail(_ message: String) -> Never {
    printToStandardError("bench: \(message)\n" + usage)
    exit(2)
}

@MainActor
func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
        switch argument {
        case "--json": options.json = true
        case "--quick": options.quick = true
        case "--help", "-h":
            print(usage, terminator: "")
            exit(0)
        case "--filter":
            guard let value = remaining.popFirst() else { fail("--filter needs a name") }
            options.filter = value
        case "--profile":
            guard let value = remaining.popFirst() else { fail("--profile needs a measure name (or part of one)") }
            options.profile = value
        case "--threads":
            guard let value = remaining.popFirst(), let count = Int(value), (1...256).contains(count) else {
                fail("--threads needs a number from 1 to 256")
            }
            options.threads = count
        default: fail("unknown option '\(argument)'")
        }
    }
    return options
}

@MainActor
func main() {
    let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
    #if DEBUG
    printToStandardError("warning: bench was built in debug mode, its numbers mean little; use `swift run -c release bench`\n")
    #endif
    let allThreads = Int(ck_num_threads())
    let threadCounts = options.threads.map { [$0] } ?? (allThreads > 1 ? [1, allThreads] : [1])
    let timing = options.quick ? Timing.quick : Timing.full
    let kernelSet = String(cString: ck_kernel_set())
    let report = Report(json: options.json, kernelSet: kernelSet)
    func selected(_ measure: Measure) -> Bool { options.filter.map { measure.name.contains($0) } ?? true }

    let peakKind = switch kernelSet {
    case "avx2-fma": "AVX2+FMA ymm (256-bit; the width the kernels use, even if the CPU also has AVX-512)"
    case "neon": "NEON fmla on 128-bit registers, 24 independent chains"
    default: "no AVX2+FMA or NEON: portable 4-lane vector loop, so kernels are measured against that"
    }
    report.note("peak: \(peakKind); sgemm kernel: \(String(cString: ck_sgemm_kernel_name())); CPUs: \(allThreads)")
    report.note("GFLOP/s from the median time; % peak against fma-peak's best repetition at the same thread count in this run")
    report.header()

    func peak(threads: Int) -> Result {
        run(peakMeasure(threads: threads, iterations: options.quick ? 1_000_000 : 5_000_000), timing: timing)
    }
    func best(_ result: Result) -> Double { result.measure.flops / result.min / 1e9 }

    var peaks: [Int: Double] = [:]
    for threads in threadCounts {
        let result = peak(threads: threads)
        peaks[threads] = best(result)
        if selected(result.measure) { report.line(result, peak: best(result)) }
    }
    let config = SuiteConfig(threadCounts: threadCounts, quick: options.quick)
    if let name = options.profile {
        guard let measure = suites.lazy.flatMap({ $0(config) }).first(where: { $0.name.contains(name) }) else {
            fail("no measure's name contains '\(name)'")
        }
        ck_set_num_threads(Int32(measure.threads))
        let body = measure.prepare()
        body()   // warm-up: buffers, thread pool
        let (_, profile) = withProfiling { body() }
        print("profile of \(measure.name), \(measure.threads) thread\(measure.threads == 1 ? "" : "s"), one repetition after a warm-up:")
        print(profile)
        return
    }
    for suite in suites {
        for measure in suite(config) where selected(measure) {
            report.line(run(measure, timing: timing), peak: peaks[measure.threads])
        }
    }
    for checkpointed in [false, true] {
        let batch = options.quick ? 32 : 256
        let name = "peak-rss-mnist-resnet-train-b\(batch)" + (checkpointed ? "-checkpointed" : "")
        guard selected(Measure(name: name, threads: allThreads, flops: 0) { {} }) else { continue }
        ck_set_num_threads(Int32(allThreads))
        let bytes = peakResidentMemory(batch: batch, steps: options.quick ? 1 : 3, checkpointed: checkpointed)
        if options.json {
            print("{\"name\": \(jsonString(name)), \"threads\": \(allThreads), \"kernels\": \(jsonString(kernelSet)), "
                  + "\"peak_rss_bytes\": \(bytes)}")
        } else {
            print(name + ": " + fixed(Double(bytes) / 1_048_576, 1) + " MiB (peak resident set of the process during training"
                  + (checkpointed ? ", blocks recomputed in the backward pass)" : ")"))
        }
    }
    // On a shared machine another process can take a core while the peak is measured; a second
    // measurement at the end tells whether the % peak column can be trusted.
    for threads in threadCounts {
        let again = best(peak(threads: threads)), first = peaks[threads] ?? again
        if abs(again - first) > 0.1 * max(again, first) {
            report.note("note: fma-peak at \(threads) thread(s) was \(fixed(first, 1)) GFLOP/s at the start and "
                        + "\(fixed(again, 1)) at the end: the machine was busy, so % peak is unreliable; run again")
        }
    }
}

main()
