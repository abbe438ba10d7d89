#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FileSupport

/// Files of a run directory, written atomically (see `AtomicFile`), so a crash or Ctrl-C never
/// leaves half a file.
public enum RunFiles {
    /// Writes `text` to `path` with `AtomicFile.write`; a failure is a `TrainingError` naming
    /// the path and the failing call.
    public static func writeAtomically(_ text: String, to path: String) throws {
        do { try AtomicFile.write(text, to: path) } catch { throw TrainingError(error.description) }
    }

    /// Creates the directory (and parents) if needed.
    public static func makeDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw TrainingError("cannot create directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Whether a file or directory exists at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The whole file as text, or nil when it does not exist.
    public static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Per-epoch metrics, kept as CSV rows and rewritten atomically after each epoch.
public struct MetricsLog {
    /// The CSV header line.
    public static let header = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds,images_per_second"
    /// The data lines written so far, without the header.
    public private(set) var rows: [String] = []
    /// The CSV file (`RUN_DIR/metrics.csv`).
    public let path: String

    /// Continues an existing log (after `--resume`) or starts a new one.
    public init(path: String) {
        self.path = path
        if let text = RunFiles.read(path) {
            rows = text.split(separator: "\n").dropFirst().map(String.init)
        }
    }

    /// Appends one epoch's row and rewrites the file atomically.
    ///
    /// - Parameters:
    ///   - step: the global step count at the end of the epoch.
    ///   - seconds: the epoch's wall-clock time.
    public mutating func append(epoch: Int, step: Int, train: Evaluation, test: Evaluation, learningRate: Float,
                                seconds: Double, imagesPerSecond: Double) throws {
        rows.append("\(epoch),\(step),\(train.loss),\(train.accuracy),\(test.loss),\(test.accuracy),\(learningRate),"
                    + "\(seconds.rounded(toPlaces: 3)),\(imagesPerSecond.rounded(toPlaces: 1))")
        try RunFiles.writeAtomically(([MetricsLog.header] + rows).joined(separator: "\n") + "\n", to: path)
    }

    /// One column as numbers.
    public func column(_ name: String) -> [Double] {
        guard let index = MetricsLog.header.split(separator: ",").firstIndex(where: { $0 == name }) else { return [] }
        return rows.compactMap { row in
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            return index < fields.count ? Double(fields[index]) : nil
        }
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
