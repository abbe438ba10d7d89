#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Training

/// Wall-clock and CPU time since an experiment started, for its report.
public struct ExperimentClock: Sendable {
    private let wallStart = now(), cpuStart = processCPUSeconds()

    /// Starts the clock.
    public init() {}

    /// Wall-clock seconds so far.
    public var elapsed: Double { now() - wallStart }

    /// CPU seconds of this process so far, over all its threads.
    public var cpuElapsed: Double { processCPUSeconds() - cpuStart }

    /// "Runtime 3m05s wall-clock, 5m40s CPU (load average 2.1 at the end on 2 cores)." CPU time
    /// is what a shared machine's load does not inflate; the load average says how shared it was.
    /// `runs` are the recorded runs that measured the units (this one included, when it measured
    /// any): with more than one, or when some units were read back, the times are their sums and
    /// the sentence says over how many runs, and how many units no run recorded a time for.
    public func runtimeSentence(runs: [UnitStore.RecordedRun] = [], storedUnits: Int = 0, measuredUnits: Int = 0) -> String {
        var load = [Double](repeating: .nan, count: 1)
        _ = getloadavg(&load, 1)
        let loadText = "(load average \(formatted(load[0], 1)) at the end on \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores)"
        guard storedUnits > 0 || runs.count > 1 else {
            return "Runtime \(duration(elapsed)) wall-clock, \(duration(cpuElapsed)) CPU \(loadText)."
        }
        let recordedUnits = runs.map(\.measuredUnits).reduce(0, +), total = storedUnits + measuredUnits
        let unrecorded = Swift.max(0, total - recordedUnits)
        return "Runtime \(duration(runs.map(\.wallSeconds).reduce(0, +))) wall-clock, \(duration(runs.map(\.cpuSeconds).reduce(0, +))) CPU, "
            + "summed over the \(runs.count) run\(runs.count == 1 ? "" : "s") that measured the \(total) units"
            + (unrecorded > 0 ? " (\(unrecorded) of them measured by runs that recorded no time)" : "")
            + "; this run took \(duration(elapsed)) \(loadText)."
    }
}

/// User plus system CPU seconds of this process so far, over all its threads.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
