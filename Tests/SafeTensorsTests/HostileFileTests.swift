import Foundation
import SeededRandom
import Testing
@testable import SafeTensors

/// Malformed and malicious inputs must throw a `SafeTensorsError`, never trap.
@Suite struct HostileFileTests {
    /// Expects `bytes` to be rejected as malformed, with `fragment` in the description and,
    /// when given, the offending tensor named.
    private func expectRejected(_ bytes: [UInt8], _ fragment: String, tensor: String? = nil,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: SafeTensorsError.self, sourceLocation: sourceLocation) {
            try SafeTensorsFile(bytes: bytes)
        }
        guard let error else { return }
        #expect(error.kind == .invalidFormat, sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        if let tensor {
            #expect(error.tensorName == tensor, "\(error)", sourceLocation: sourceLocation)
        }
    }

    private func entry(_ dtype: String = "F32", shape: String = "[2]", offsets: String = "[0, 8]") -> String {
        #"{"dtype": "\#(dtype)", "shape": \#(shape), "data_offsets": \#(offsets)}"#
    }

    @Test func everyTruncationIsRejected() throws {
        let bytes = try smallValidFile().serializedBytes()
        for length in 0..<bytes.count {
            #expect(throws: SafeTensorsError.self, "truncated to \(length) bytes") {
                try SafeTensorsFile(bytes: Array(bytes.prefix(length)))
            }
        }
        expectRejected(bytes + [0], "trailing bytes are not allowed")
    }

    @Test func everyTruncationOnDiskIsRejectedAndNamesTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("truncated.safetensors")
        let bytes = try smallValidFile().serializedBytes()
        for length in 0..<bytes.count {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(length))))
            let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: path) }
            #expect(error?.path == path)
            #expect(error?.description.hasPrefix("safetensors file '\(path)'") == true)
        }
    }

    @Test func headerLengthOutOfBounds() {
        expectRejected([], "file is 0 bytes long")
        expectRejected([1, 0, 0], "file is 3 bytes long")
        expectRejected(fileBytes(headerLength: 1 << 63, rest: Array("{}".utf8)), "exceeds the limit of 100000000 bytes")
        expectRejected(fileBytes(headerLength: .max, rest: []), "exceeds the limit")
        expectRejected(fileBytes(headerLength: 100_000_001, rest: []), "exceeds the limit")
        expectRejected(fileBytes(headerLength: 3, rest: Array("{}".utf8)), "exceeds the 2 bytes that follow it")
        expectRejected(fileBytes(headerLength: 0, rest: []), "header must be a JSON object")
    }

    @Test(arguments: ["[]", "\"x\"", "1", " {}", "\n{}", "{} []", "{", "{\"a\":1.5}", "{\"a\":null}", "{\"a\" 1}"])
    func invalidOrNonObjectJSON(header: String) {
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(bytes: fileBytes(header: header)) }
    }

    @Test func invalidUTF8() {
        expectRejected(fileBytes(header: "{\"a\u{FF}\":{}}").map { $0 == 0xC3 ? 0xFF : $0 }, "not valid UTF-8")
        expectRejected(fileBytes(headerLength: 4, rest: [0x7B, 0x22, 0xED, 0xA0]), "not valid UTF-8")
    }

    @Test func entryStructure() {
        let data = [UInt8](repeating: 0, count: 8)
        expectRejected(fileBytes(header: #"{"w": [1]}"#, data: data), "entry must be an object, found an array", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": {"shape": [2], "data_offsets": [0, 8]}}"#, data: data), "missing field 'dtype'", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": {"dtype": "F32", "data_offsets": [0, 8]}}"#, data: data), "missing field 'shape'", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": {"dtype": "F32", "shape": [2]}}"#, data: data), "missing field 'data_offsets'", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": "1"}}"#, data: data),
                       "unexpected field 'extra'", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": {"dtype": 1, "shape": [2], "data_offsets": [0, 8]}}"#, data: data),
                       "dtype must be a string, found an integer", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "2"))}"#, data: data), "shape must be an array of integers", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[\"2\"]"))}"#, data: data), "shape must be an array of integers", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[0]"))}"#, data: data), "data_offsets must hold 2 integers", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[0, 4, 8]"))}"#, data: data), "data_offsets must hold 2 integers", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "{}"))}"#, data: data), "data_offsets must be an array", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry()), "w": \#(entry())}"#, data: data), "duplicate key 'w'")
        expectRejected(fileBytes(header: #"{"w": {"dtype": "F32", "dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: data),
                       "duplicate key 'dtype'")
    }

    @Test(arguments: ["F8_E4M3", "f32", "FLOAT", "", "F32 "])
    func unknownDType(name: String) {
        expectRejected(fileBytes(header: #"{"w": \#(entry(name))}"#, data: [UInt8](repeating: 0, count: 8)),
                       "unsupported dtype '\(name)'", tensor: "w")
    }

    @Test func badShapes() {
        let data = [UInt8](repeating: 0, count: 8)
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[-2]"))}"#, data: data), "shape value -2 is negative", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[9223372036854775808]"))}"#, data: data), "does not fit in 64 bits", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[99999999999999999999999999]"))}"#, data: data), "does not fit", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[4294967296, 4294967296]"))}"#, data: data), "too many elements", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[4611686018427387904, 4611686018427387904, 0]", offsets: "[0, 0]"))}"#),
                       "too many elements", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry("F64", shape: "[4611686018427387904]"))}"#, data: data), "too many bytes", tensor: "w")
    }

    @Test func badOffsets() {
        let data = [UInt8](repeating: 0, count: 8)
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[0, 12]"))}"#, data: data),
                       "data_offsets [0, 12] extend past the end of the 8-byte data buffer", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[8, 0]"))}"#, data: data), "end before they begin", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[-8, 0]"))}"#, data: data), "data_offsets value -8 is negative", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(offsets: "[0, 18446744073709551616]"))}"#, data: data), "does not fit", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[3]"))}"#, data: data),
                       "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8", tensor: "w")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[1]", offsets: "[0, 4]"))}"#, data: data),
                       "cover only the first 4; trailing bytes are not allowed")
        expectRejected(fileBytes(header: #"{"w": \#(entry(shape: "[1]", offsets: "[4, 8]"))}"#, data: data),
                       "leave bytes 0..<4 of the data buffer unused", tensor: "w")
    }

    @Test func overlappingRanges() {
        let data = [UInt8](repeating: 0, count: 12)
        expectRejected(fileBytes(header: #"{"a": \#(entry(offsets: "[0, 8]")), "b": \#(entry(offsets: "[4, 12]"))}"#, data: data),
                       "data_offsets [4, 12] overlap tensor 'a', which ends at byte 8", tensor: "b")
        expectRejected(fileBytes(header: #"{"a": \#(entry(offsets: "[0, 8]")), "b": \#(entry(offsets: "[0, 8]"))}"#, data: data),
                       "overlap tensor")
        expectRejected(fileBytes(header: #"{"a": \#(entry(offsets: "[0, 8]")), "b": \#(entry(shape: "[0]", offsets: "[4, 4]"))}"#, data: data),
                       "overlap tensor 'a'", tensor: "b")
    }

    @Test func emptyTensorsMayShareAnOffset() throws {
        let header = #"{"a": \#(entry(shape: "[0]", offsets: "[8, 8]")), "b": \#(entry()), "c": \#(entry(shape: "[0, 5]", offsets: "[8, 8]"))}"#
        let file = try SafeTensorsFile(bytes: fileBytes(header: header, data: [UInt8](repeating: 0, count: 8)))
        #expect(file.names == ["a", "b", "c"])
    }

    @Test func badMetadata() {
        expectRejected(fileBytes(header: #"{"__metadata__": ["a"]}"#), "__metadata__ must be an object of strings, found an array")
        expectRejected(fileBytes(header: #"{"__metadata__": {"k": 1}}"#), "__metadata__ value for key 'k' must be a string, found an integer")
        expectRejected(fileBytes(header: #"{"__metadata__": {"k": {"x": "y"}}}"#), "value for key 'k' must be a string, found an object")
        expectRejected(fileBytes(header: #"{"__metadata__": {"k": "1", "k": "2"}}"#), "duplicate key 'k'")
        expectRejected(fileBytes(header: #"{"__metadata__": {}, "__metadata__": {}}"#), "duplicate key '__metadata__'")
    }

    @Test func deepNesting() {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectRejected(fileBytes(header: #"{"__metadata__": {"k": \#(nested)}}"#), "nested deeper than")
        expectRejected(fileBytes(header: String(repeating: "{\"a\":", count: 100_000)), "nested deeper than")
    }

    @Test func paddedHeaderIsAccepted() throws {
        let file = try SafeTensorsFile(bytes: fileBytes(header: #"{"w": \#(entry())}"# + "       \n\t ", data: [UInt8](repeating: 0, count: 8)))
        #expect(file["w"]?.floats() == [0, 0])
    }

    /// Random byte flips in the length prefix and header: every result either throws a
    /// `SafeTensorsError` or is a consistent file that round-trips.
    @Test func randomByteFlipsNeverCrash() throws {
        let original = try SafeTensorsFile(bytes: referenceFixtureBytes).serializedBytes()
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8
        var generator = SplitMix64(seed: 0x5AFE_7E45)
        var rejected = 0
        for trial in 0..<600 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                // Mostly the length prefix and header, where parsing happens; sometimes anywhere.
                let limit = trial % 4 == 0 ? bytes.count : headerEnd
                bytes[Int.random(in: 0..<limit, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            }
            do throws(SafeTensorsError) {
                let file = try SafeTensorsFile(bytes: bytes)
                #expect(try SafeTensorsFile(bytes: file.serializedBytes()) == file, "trial \(trial)")
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 300)
    }
}
