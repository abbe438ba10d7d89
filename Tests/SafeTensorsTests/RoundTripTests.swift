import Testing
@testable import SafeTensors

@Suite struct RoundTripTests {
    @Test func writeThenReadFromDisk() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("model.safetensors")
        let original = SafeTensorsFile(
            tensors: [
                "conv.weight": try SafeTensor(floats: (0..<24).map { Float($0) * 0.5 - 3 }, shape: [2, 3, 2, 2]),
                "labels": try SafeTensor(int64s: [0, -1, .max, .min], shape: [2, 2]),
                "scale": try SafeTensor(floats: [2.5], shape: []),
                "count": try SafeTensor(int64s: [7], shape: []),
                "empty": try SafeTensor(floats: [], shape: [4, 0, 3]),
                "名前/ünïcødé 😀": try SafeTensor(floats: [.infinity, -0.0], shape: [2]),
                "": try SafeTensor(int64s: [1], shape: [1]),
            ],
            metadata: ["format": "pt", "notes": "line\nbreak \"quoted\" 😀", "": ""])
        try original.write(to: path)
        let loaded = try SafeTensorsFile(contentsOf: path)
        #expect(loaded == original)
        #expect(try directory.contents() == ["model.safetensors"])

        #expect(loaded["scale"]?.shape == [])
        #expect(loaded["scale"]?.floats() == [2.5])
        #expect(loaded["empty"]?.shape == [4, 0, 3])
        #expect(loaded["empty"]?.elementCount == 0)
        #expect(try loaded.tensor(named: "labels").int64s() == [0, -1, .max, .min])
        #expect(loaded["名前/ünïcødé 😀"]?.floats().map(\.bitPattern) == [Float.infinity.bitPattern, (-0.0 as Float).bitPattern])
    }

    @Test func inMemoryRoundTripAndOverwrite() throws {
        let file = try smallValidFile()
        let bytes = try file.serializedBytes()
        #expect(try SafeTensorsFile(bytes: bytes) == file)

        let directory = try TemporaryDirectory()
        let path = directory.file("a.safetensors")
        try SafeTensorsFile().write(to: path)
        #expect(try SafeTensorsFile(contentsOf: path) == SafeTensorsFile())
        try file.write(to: path)
        #expect(try SafeTensorsFile(contentsOf: path) == file)
        #expect(try directory.contents() == ["a.safetensors"])
    }

    @Test func headerIsPaddedAndTensorsAreAlignedAndOrdered() throws {
        let file = SafeTensorsFile(tensors: [
            "b": try SafeTensor(dtype: .float16, shape: [3], bytes: [0, 0x3C, 0, 0x40, 0, 0x42]),
            "a": try SafeTensor(dtype: .uint8, shape: [1], bytes: [9]),
            "c": try SafeTensor(floats: [1], shape: [1]),
            "d": try SafeTensor(int64s: [1], shape: [1]),
        ])
        let bytes = try file.serializedBytes()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self)
        let json = #"{"d":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"F16","shape":[3],"data_offsets":[12,18]},"a":{"dtype":"U8","shape":[1],"data_offsets":[18,19]}}"#
        #expect(header == json + String(repeating: " ", count: 7))
        #expect(try SafeTensorsFile(bytes: bytes).names == ["a", "b", "c", "d"])
    }

    @Test func namesAreSortedByUTF8Bytes() {
        let tensor = SafeTensor(validatedDType: .uint8, shape: [], bytes: [0])
        let file = SafeTensorsFile(tensors: ["é": tensor, "z": tensor, "Z": tensor, "a.10": tensor, "a.9": tensor])
        #expect(file.names == ["Z", "a.10", "a.9", "z", "é"])
    }

    @Test func everyDTypeRoundTripsAndConverts() throws {
        let cases: [(DType, [UInt8], [Float], [Int64]?)] = [
            (.bool, [1, 0], [1, 0], [1, 0]),
            (.uint8, [0, 255], [0, 255], [0, 255]),
            (.int8, [0x80, 0x7F], [-128, 127], [-128, 127]),
            (.int16, [0x00, 0x80, 0xFF, 0x7F], [-32768, 32767], [-32768, 32767]),
            (.uint16, [0xFF, 0xFF], [65535], [65535]),
            (.int32, [0xFF, 0xFF, 0xFF, 0xFF], [-1], [-1]),
            (.uint32, [0xFF, 0xFF, 0xFF, 0xFF], [0x1p32], [4_294_967_295]),
            (.int64, [0xFE] + [UInt8](repeating: 0xFF, count: 7), [-2], [-2]),
            (.uint64, [5, 0, 0, 0, 0, 0, 0, 0], [5], [5]),
            (.float16, [0x00, 0x3C, 0x00, 0xC0], [1, -2], nil),
            (.bfloat16, [0x80, 0x3F, 0x49, 0xC0], [1, -3.140625], nil),
            (.float32, [0x00, 0x00, 0xC0, 0x3F], [1.5], nil),
            (.float64, [0, 0, 0, 0, 0, 0, 0x04, 0xC0], [-2.5], nil),
        ]
        #expect(Set(cases.map(\.0)) == Set(DType.allCases))
        for (dtype, bytes, floats, int64s) in cases {
            let tensor = try SafeTensor(dtype: dtype, shape: [floats.count], bytes: bytes)
            #expect(tensor.floats() == floats, "\(dtype)")
            if let int64s {
                #expect(try tensor.int64s() == int64s, "\(dtype)")
            } else {
                let error = #expect(throws: SafeTensorsError.self) { try tensor.int64s() }
                #expect(error?.kind == .unsupportedConversion)
            }
            let file = SafeTensorsFile(tensors: ["t": tensor])
            #expect(try SafeTensorsFile(bytes: file.serializedBytes()) == file, "\(dtype)")
        }
    }

    @Test func uint64AboveInt64MaxDoesNotConvert() throws {
        let tensor = try SafeTensor(dtype: .uint64, shape: [2], bytes: [1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8))
        let error = #expect(throws: SafeTensorsError.self) { try tensor.int64s() }
        #expect(error?.problem == "U64 element 1 = 18446744073709551615 does not fit in Int64")
        #expect(tensor.floats() == [1, 0x1p64])
    }

    @Test func constructorsRejectInconsistentParts() {
        #expect(throws: SafeTensorsError.self) { try SafeTensor(floats: [1, 2, 3], shape: [2, 2]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(int64s: [1], shape: [-1]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(dtype: .float32, shape: [1], bytes: [0, 0]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(dtype: .uint8, shape: [Int.max, 2], bytes: []) }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(dtype: .float64, shape: [Int.max / 4], bytes: []) }
        #expect(throws: SafeTensorsError.self) { try SafeTensor(dtype: .uint8, shape: [1 << 62, 1 << 62, 0], bytes: []) }
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensor(floats: [1, 2, 3], shape: [2, 2]) }
        #expect(error?.description == "safetensors: shape [2, 2] of F32 needs 16 bytes but 12 were given")
    }

    @Test func reservedMetadataNameCannotBeWritten() throws {
        let directory = try TemporaryDirectory()
        let file = SafeTensorsFile(tensors: ["__metadata__": try SafeTensor(floats: [1], shape: [1])])
        let error = #expect(throws: SafeTensorsError.self) { try file.write(to: directory.file("x.safetensors")) }
        #expect(error?.tensorName == "__metadata__")
        #expect(error?.kind == .invalidTensor)
        #expect(try directory.contents() == [])
    }
}
