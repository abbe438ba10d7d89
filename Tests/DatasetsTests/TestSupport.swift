import Foundation
import Testing
import SeededRandom
@testable import Datasets

/// Where the tests find data.
enum TestData {
    /// The committed fixtures: the first 100 MNIST test images and labels, the first 100 digits rows.
    static let fixtures = DataDirectory(root: Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path)

    /// The real data sets (`TAPE_DATA` or `../shared/data`), when this machine has them.
    static let real: DataDirectory? = {
        guard let directory = try? DataDirectory.resolve(),
              FileManager.default.fileExists(atPath: directory.path("mnist/t10k-labels-idx1-ubyte.gz"))
        else { return nil }
        return directory
    }()

    /// Whether the real data sets are present.
    static let hasRealData = real != nil

    /// Bytes of a fixture file, as stored.
    static func fixtureBytes(_ relativePath: String) throws -> [UInt8] {
        try DataFile.readBytes(at: fixtures.path(relativePath))
    }
}

/// A fresh directory under the system's temporary folder, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("DatasetsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `relativePath`, creating folders on the way, and returns the full path.
    @discardableResult
    func write(_ bytes: [UInt8], to relativePath: String) throws -> String {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Makes the folder `relativePath` and returns its full path.
    @discardableResult
    func makeFolder(_ relativePath: String) throws -> String {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

/// The error `body` throws, or `nil` when it succeeds.
func datasetError<T>(_ body: () throws(DatasetError) -> T) -> DatasetError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Expects `body` to throw a `DatasetError` whose description contains every fragment.
func expectFailure<T>(
    _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(DatasetError) -> T
) {
    guard let error = datasetError(body) else {
        Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
        return
    }
    for fragment in fragments {
        #expect(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'",
                sourceLocation: sourceLocation)
    }
}

/// A big-endian 32-bit integer's bytes.
func bigEndian(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
}

/// An IDX images file of `count` `rows`×`columns` images with seeded random pixels.
func makeIDXImages(count: Int, rows: Int, columns: Int, seed: UInt64 = 1) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return bigEndian(IDX.imagesMagic) + bigEndian(UInt32(count)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(columns))
        + (0..<count * rows * columns).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// An IDX labels file holding `labels`.
func makeIDXLabels(_ labels: [UInt8]) -> [UInt8] {
    bigEndian(IDX.labelsMagic) + bigEndian(UInt32(labels.count)) + labels
}
