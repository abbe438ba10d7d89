import Testing
@testable import SafeTensors

@Suite struct ExpectedTensorsTests {
    private let file = SafeTensorsFile(tensors: [
        "b.bias": SafeTensor(validatedDType: .float32, shape: [16], bytes: [UInt8](repeating: 0, count: 64)),
        "c.weight": SafeTensor(validatedDType: .uint8, shape: [16, 1, 3, 3], bytes: [UInt8](repeating: 0, count: 144)),
        "d.weight": SafeTensor(validatedDType: .uint8, shape: [2], bytes: [0, 0]),
    ])

    @Test func matchingExpectationsPass() throws {
        try file.validate(expected: [("d.weight", [2]), ("c.weight", [16, 1, 3, 3]), ("b.bias", [16])])
    }

    @Test func listsMissingUnexpectedAndMismatchedTensors() {
        let error = #expect(throws: SafeTensorsError.self) {
            try file.validate(expected: [("a.weight", [3]), ("c.weight", [16, 1, 1, 1]), ("d.weight", [2]), ("e", [])])
        }
        #expect(error?.kind == .unexpectedContents)
        #expect(error?.problem == "missing: a.weight, e; unexpected: b.bias; shape mismatch: c.weight expected [16, 1, 1, 1] found [16, 1, 3, 3]")
        #expect(error?.inFile("m.safetensors").description.hasPrefix("safetensors file 'm.safetensors': missing: a.weight") == true)
    }

    @Test func missingTensorByName() {
        let error = #expect(throws: SafeTensorsError.self) { try file.tensor(named: "zzz") }
        #expect(error?.description == "tensor 'zzz': no such tensor")
    }
}
