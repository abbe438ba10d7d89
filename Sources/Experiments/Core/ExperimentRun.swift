#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Training

/// An experiment's run: where its units are saved, where its data comes from, and where its
/// progress lines go.
///
/// `measure` passes each finished configuration/seed through `unit(_:_:)`. With a store, a unit
/// already in the store is read back instead of measured again, so running an interrupted
/// experiment again continues where it stopped (Ctrl-C: the unit in progress is dropped, every
/// finished one is kept).
public final class ExperimentRun {
    /// Where finished units are kept; nil keeps nothing (tests).
    public let store: UnitStore?
    /// The data sets, loaded on first use.
    public let data: ExperimentData
    /// Receives progress lines ("shattering: 12/140 units, plain ReLU depth 20 seed 3, ETA 1m20s").
    public let log: (String) -> Void
    /// Asked between units and between training steps; true stops the run with `ExperimentError.interrupted`.
    public let isInterruptionRequested: () -> Bool

    private let name: String
    private var plannedUnits = 0, finishedUnits = 0
    private var measuringSeconds = 0.0
    /// Units measured by this run, and units read back from the store (measured by an earlier run).
    public private(set) var measuredUnits = 0, storedUnits = 0

    /// - Parameters:
    ///   - name: the experiment's name, for progress lines.
    ///   - store: where finished units are kept (nil: nowhere).
    ///   - data: the data sets.
    ///   - log: receives progress lines.
    ///   - isInterruptionRequested: polled between units (default: Ctrl-C through `Interrupt`).
    public init(name: String, store: UnitStore? = nil, data: ExperimentData = ExperimentData(), log: @escaping (String) -> Void = { _ in },
                isInterruptionRequested: @escaping () -> Bool = { Interrupt.isRequested }) {
        (self.name, self.store, self.data, self.log, self.isInterruptionRequested) = (name, store, data, log, isInterruptionRequested)
    }

    /// Announces how many units `measure` will run, for the ETA.
    public func plan(units: Int) {
        plannedUnits = units
    }

    /// The value of the unit `key`: read from the store when it was finished before, else
    /// measured by `body` and saved. `key` must name the unit uniquely within the experiment
    /// (configuration and seed), and the same key must always mean the same measurement.
    public func unit<Value: Codable>(_ key: String, _ body: () throws -> Value) throws -> Value {
        if isInterruptionRequested() { throw ExperimentError.interrupted(experiment: name) }
        if let stored: Value = try store?.load(key) {
            finishedUnits += 1
            storedUnits += 1
            return stored
        }
        let start = now()
        let value = try body()
        try store?.save(value, as: key)   // a finished unit is kept even when Ctrl-C came while it ran
        measuringSeconds += now() - start
        finishedUnits += 1
        measuredUnits += 1
        let remaining = plannedUnits - finishedUnits
        let eta = remaining > 0 ? ", ETA \(duration(measuringSeconds / Double(measuredUnits) * Double(remaining)))" : ""
        log("\(name): \(finishedUnits)\(plannedUnits > 0 ? "/\(plannedUnits)" : "") units, \(key) in \(duration(now() - start))\(eta)")
        return value
    }
}

/// Why an experiment stopped.
public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    /// Ctrl-C: every finished unit is saved; running again continues.
    case interrupted(experiment: String)
    /// A data set could not be loaded.
    case missingData(experiment: String, detail: String)
    /// The output directory holds units of a different setup.
    case setupMismatch(directory: String)
    /// A file could not be read or written.
    case file(String)

    /// The message `lab` prints.
    public var description: String {
        switch self {
        case .interrupted(let experiment):
            return "\(experiment) interrupted; finished units are saved: run the same command again to continue"
        case .missingData(let experiment, let detail):
            return "experiment \(experiment) needs data it cannot load: \(detail)"
        case .setupMismatch(let directory):
            return "\(directory) holds units measured with a different setup; use another --out or delete that directory"
        case .file(let detail):
            return detail
        }
    }
}
