#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Training

/// Finished units of one experiment, one JSON file each in a directory, with the setup they
/// were measured with (`setup.json`). Files are written to a temporary name and renamed.
public struct UnitStore: Sendable {
    /// The directory holding the unit files.
    public let directory: String

    /// Opens (creating if needed) the store in `directory` for `setup`. A directory whose saved
    /// setup differs is refused with `ExperimentError.setupMismatch`, so units of different
    /// setups never mix.
    public init<Setup: ExperimentSetup>(directory: String, setup: Setup) throws {
        self.directory = directory
        let encoded = try Self.encode(setup)
        let path = directory + "/setup.json"
        if let saved = RunFiles.read(path) {
            guard saved == encoded else { throw ExperimentError.setupMismatch(directory: directory) }
        } else {
            try RunFiles.makeDirectory(directory)
            try RunFiles.writeAtomically(encoded, to: path)
        }
    }

    /// The unit saved as `key`, or nil when there is none. A file that does not decode is an error.
    public func load<Value: Decodable>(_ key: String) throws -> Value? {
        guard let text = RunFiles.read(path(key)) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(Value.self, from: Data(text.utf8)) } catch {
            throw ExperimentError.file("unit file \(path(key)) is unreadable (\(error)); delete it to measure the unit again")
        }
    }

    /// Saves `value` as `key`, atomically.
    public func save<Value: Encodable>(_ value: Value, as key: String) throws {
        try RunFiles.writeAtomically(try Self.encode(value), to: path(key))
    }

    /// One run of the experiment that measured units into this store: its wall-clock and CPU
    /// seconds and how many units it measured.
    public struct RecordedRun: Equatable, Sendable {
        /// Wall-clock seconds of the run.
        public var wallSeconds: Double
        /// User plus system CPU seconds of the run, over all its threads.
        public var cpuSeconds: Double
        /// How many units it measured (not read back).
        public var measuredUnits: Int

        /// A run that took `wallSeconds` and `cpuSeconds` to measure `measuredUnits` units.
        public init(wallSeconds: Double, cpuSeconds: Double, measuredUnits: Int) {
            (self.wallSeconds, self.cpuSeconds, self.measuredUnits) = (wallSeconds, cpuSeconds, measuredUnits)
        }
    }

    /// The runs recorded in `runs.txt` (one "wall-seconds cpu-seconds measured-units" line each),
    /// oldest first; a line that does not parse is an error naming the file.
    public func recordedRuns() throws -> [RecordedRun] {
        guard let text = RunFiles.read(runsPath) else { return [] }
        return try text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let wall = Double(fields[0]), let cpu = Double(fields[1]), let units = Int(fields[2]),
                  wall >= 0, cpu >= 0, units >= 0 else {
                throw ExperimentError.file("\(runsPath): cannot read the line \"\(line)\" (want: wall-seconds cpu-seconds measured-units)")
            }
            return RecordedRun(wallSeconds: wall, cpuSeconds: cpu, measuredUnits: units)
        }
    }

    /// Appends `run` to `runs.txt` (rewritten atomically).
    public func record(_ run: RecordedRun) throws {
        let line = "\(run.wallSeconds) \(run.cpuSeconds) \(run.measuredUnits)\n"
        try RunFiles.writeAtomically((RunFiles.read(runsPath) ?? "") + line, to: runsPath)
    }

    private var runsPath: String { directory + "/runs.txt" }

    /// The file of `key`: characters other than letters, digits, '-' and '.' become '_'.
    func path(_ key: String) -> String {
        let safe = String(key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        return directory + "/" + safe + ".json"
    }

    /// Pretty, key-sorted JSON: the same value always gives the same text.
    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
