import Experiments
import Foundation
import Testing

/// A toy experiment: one unit per seed, each the seed squared; counts its measurements.
enum Squares: Experiment {
    nonisolated(unsafe) static var measured: [UInt64] = []
    static let name = "squares"
    static let paper = Paper("Nobody 2026", title: "Squares", link: "https://example.org")
    static let claim = "squares are non-negative"

    struct Setup: ExperimentSetup {
        var seeds: [UInt64]
        static let quick = Setup(seeds: [1, 2, 3, 4])
        static let full = Setup(seeds: Array(0..<10))
    }

    static func measure(_ setup: Setup, in run: ExperimentRun) throws -> [Double] {
        run.plan(units: setup.seeds.count)
        return try setup.seeds.map { seed in
            try run.unit("seed \(seed)") { () -> Double in
                measured.append(seed)
                return Double(seed * seed)
            }
        }
    }

    static func verdict(_ results: [Double]) -> Judgement {
        Judgement([Finding("non-negative", holds: results.allSatisfy { $0 >= 0 }, evidence: "\(results)")])
    }

    static func report(_ results: [Double], setup: Setup, into report: inout Report) throws {
        report.columns(["seed", "square"])
        for (seed, value) in zip(setup.seeds, results) { report.row([seed, value]) }
    }
}

@Suite("Experiment runs", .serialized)
struct RunnerTests {
    /// Interrupted after two units, a run keeps them; the next run measures only the rest and
    /// gives what a straight run gives.
    @Test func anInterruptedRunContinuesWhereItStopped() throws {
        let directory = NSTemporaryDirectory() + "tape-runner-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        Squares.measured = []
        let store = try UnitStore(directory: directory, setup: Squares.Setup.quick)
        var asked = 0
        let interrupted = ExperimentRun(name: "squares", store: store, isInterruptionRequested: {
            asked += 1
            return Squares.measured.count >= 2
        })
        #expect(throws: ExperimentError.interrupted(experiment: "squares")) { try Squares.measure(.quick, in: interrupted) }
        #expect(Squares.measured == [1, 2] && asked > 0)
        let second = ExperimentRun(name: "squares", store: store, isInterruptionRequested: { false })
        let resumed = try Squares.measure(.quick, in: second)
        #expect(Squares.measured == [1, 2, 3, 4])
        #expect(resumed == [1, 4, 9, 16])
        #expect(second.storedUnits == 2 && second.measuredUnits == 2)
        // A resumed run's runtime sums the recorded runs (here 60 + 90 s wall, 100 + 150 s CPU) and says
        // how many units no run recorded a time for.
        try store.record(UnitStore.RecordedRun(wallSeconds: 60, cpuSeconds: 100, measuredUnits: 1))
        try store.record(UnitStore.RecordedRun(wallSeconds: 90, cpuSeconds: 150, measuredUnits: 2))
        let runs = try store.recordedRuns()
        #expect(runs.map(\.measuredUnits) == [1, 2])
        let sentence = ExperimentClock().runtimeSentence(runs: runs, storedUnits: 2, measuredUnits: 2)
        #expect(sentence.hasPrefix("Runtime 2m30s wall-clock, 4m10s CPU, summed over the 2 runs that measured the 4 units "
                                   + "(1 of them measured by runs that recorded no time); this run took"))
        #expect(!ExperimentClock().runtimeSentence().contains("summed"))
        // A damaged runs.txt is an error naming the file.
        try "60 100\n".write(toFile: directory + "/runs.txt", atomically: true, encoding: .utf8)
        #expect(throws: ExperimentError.self) { try store.recordedRuns() }
        // A store keeps one setup: another one is refused.
        #expect(throws: ExperimentError.setupMismatch(directory: directory)) { try UnitStore(directory: directory, setup: Squares.Setup.full) }
    }

    /// The runner writes the report with the setup verbatim, the verdict and every file.
    @Test func theRunnerWritesTheReport() throws {
        let directory = NSTemporaryDirectory() + "tape-runner-report-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try runExperiment(Squares.self, setup: .quick, options: RunOptions(outputDirectory: directory))
        #expect(outcome.judgement.verdict == .agree)
        #expect(Set(outcome.files) == ["squares.csv", "squares.json", "squares.md"])
        let report = try String(contentsOfFile: directory + "/squares.md", encoding: .utf8)
        #expect(report.contains("\"seeds\" : [") && report.contains("**Verdict: agree.**") && report.contains("✔ non-negative"))
        let csv = try String(contentsOfFile: directory + "/squares.csv", encoding: .utf8)
        #expect(csv == "seed,square\n1,1.0\n2,4.0\n3,9.0\n4,16.0\n")
    }
}

/// Every experiment that trains names itself and the missing directory when its data is absent.
@Test(arguments: ["ensembles", "identity-mappings", "highway", "stochastic-depth", "looks-linear"])
func missingDataIsAClearError(name: String) throws {
    let entry = try #require(ExperimentCatalog.entry(named: name))
    let directory = NSTemporaryDirectory() + "tape-missing-data-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect {
        _ = try entry.run(.quick, options: RunOptions(outputDirectory: directory, dataDirectory: "/nonexistent-tape-data"))
    } throws: { error in
        guard case .missingData(let experiment, let detail)? = error as? ExperimentError else { return false }
        return experiment == name && detail.contains("nonexistent-tape-data")
    }
}
