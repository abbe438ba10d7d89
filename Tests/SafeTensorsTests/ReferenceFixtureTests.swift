import Testing
@testable import SafeTensors

/// Checks against `referenceFixtureBytes`, a file written by the official Python implementation.
@Suite struct ReferenceFixtureTests {
    @Test func readsEveryTensorAndTheMetadata() throws {
        let file = try SafeTensorsFile(bytes: referenceFixtureBytes)
        #expect(file.names == ["bf16", "bool", "empty", "f16", "f32", "f64", "i32", "i64", "scalar", "u8", "ünïcødé/名前"])
        #expect(file.metadata == ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ü"])

        let f32 = try file.tensor(named: "f32")
        #expect(f32.dtype == .float32 && f32.shape == [2, 3])
        #expect(f32.floats() == [1.5, -2.25, 0, Float(3.0e-39 as Double), .infinity, 65504])

        let f16 = try file.tensor(named: "f16")
        #expect(f16.dtype == .float16 && f16.shape == [8])
        let halfs = f16.floats()
        #expect(halfs == [1, -2, 65504, 0x1p-24, 0x1p-14, .infinity, 0, 0.333251953125])
        #expect(halfs[6].sign == .minus)

        let bf16 = try file.tensor(named: "bf16")
        #expect(bf16.dtype == .bfloat16 && bf16.shape == [5])
        let bfloats = bf16.floats()
        #expect(Array(bfloats.prefix(4)) == [1, -3.140625, .infinity, 0x1p-133])
        #expect(bfloats[4].isNaN)

        let f64 = try file.tensor(named: "f64")
        #expect(f64.dtype == .float64 && f64.shape == [3])
        #expect(f64.floats() == [Float(0.1 as Double), -2.5, .infinity])

        let i64 = try file.tensor(named: "i64")
        #expect(i64.dtype == .int64 && i64.shape == [2, 2])
        #expect(try i64.int64s() == [0, -1, 1 << 62, .min])

        #expect(try file.tensor(named: "i32").int64s() == [-5, 7])
        #expect(try file.tensor(named: "u8").int64s() == [0, 255])
        #expect(try file.tensor(named: "bool").int64s() == [1, 0, 1])
        #expect(file["scalar"]?.shape == [] && file["scalar"]?.floats() == [7])
        #expect(file["empty"]?.shape == [0, 3] && file["empty"]?.bytes == [])
        #expect(file["ünïcødé/名前"]?.floats() == [1])
    }

    /// Writing the same tensors and metadata reproduces the official library's bytes exactly.
    @Test func serializationMatchesTheOfficialWriterByteForByte() throws {
        let file = try SafeTensorsFile(bytes: referenceFixtureBytes)
        #expect(try file.serializedBytes() == referenceFixtureBytes)
    }

    @Test func readsTheFixtureFromDisk() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("reference.safetensors")
        try SafeTensorsFile(bytes: referenceFixtureBytes).write(to: path)
        #expect(try SafeTensorsFile(contentsOf: path) == SafeTensorsFile(bytes: referenceFixtureBytes))
    }
}
