import Foundation
@testable import SafeTensors

/// The bytes of a safetensors file with the given header text and data buffer.
func fileBytes(header: String, data: [UInt8] = []) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian, Array.init) + headerBytes + data
}

/// The bytes of a file whose header length prefix is `length`, followed by `rest`.
func fileBytes(headerLength length: UInt64, rest: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: length.littleEndian, Array.init) + rest
}

/// A small valid file: two F32 tensors, one I64 tensor and metadata.
func smallValidFile() throws -> SafeTensorsFile {
    SafeTensorsFile(
        tensors: [
            "weight": try SafeTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]),
            "bias": try SafeTensor(floats: [0.5, -0.5], shape: [2]),
            "steps": try SafeTensor(int64s: [42], shape: []),
        ],
        metadata: ["format": "pt"])
}

/// A fresh empty directory, removed when the value is deinitialized.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "safetensors-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The names of the entries in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String {
        path + "/" + name
    }
}
