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

    /// "Runtime 3m05s wall-clock, 5m40s CPU (load average 2.1 at the end on 2 cores)." CPU time
    /// is what a shared machine's load does not inflate; the load average says how shared it was.
    /// When `storedUnits` of the units were read back from an earlier, interrupted run, the
    /// sentence says so: their measuring time is not in these figures.
    public func runtimeSentence(storedUnits: Int = 0, measuredUnits: Int = 0) -> String {
        var load = [Double](repeating: .nan, count: 1)
        _ = getloadavg(&load, 1)
        let resumed = storedUnits > 0
            ? " This run measured \(measuredUnits) of \(storedUnits + measuredUnits) units; the other \(storedUnits) were read back "
                + "from an earlier run, whose time is not counted here."
            : ""
        return "Runtime \(duration(elapsed)) wall-clock, \(duration(processCPUSeconds() - cpuStart)) CPU (load average "
            + "\(formatted(load[0], 1)) at the end on \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores).\(resumed)"
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
