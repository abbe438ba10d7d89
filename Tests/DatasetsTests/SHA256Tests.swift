import Testing
@testable import Datasets

@Suite struct SHA256Tests {
    /// Lengths around the padding boundaries (55, 56, 64 bytes) and multi-block messages, with
    /// digests from Python's hashlib. Each case is `repeats` copies of `unit`.
    @Test(arguments: [
        ("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("a", 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        ("a", 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        ("a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        ("a", 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
    ])
    func knownVectors(unit: String, repeats: Int, digest: String) {
        let message = Array(String(repeating: unit, count: repeats).utf8)
        #expect(SHA256.hexDigest(of: message) == digest)
        #expect(SHA256.digest(of: message).count == 32)
    }

    @Test func verificationRejectsADifferentFile() throws {
        let folder = try TemporaryDirectory()
        let path = try folder.write(Array("abc".utf8), to: "abc.txt")
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(try DataFile.readContents(at: path, expectedSHA256: abc.uppercased()) == Array("abc".utf8))
        #expect(datasetError { () throws(DatasetError) in
            try DataFile.readContents(at: path, expectedSHA256: String(repeating: "0", count: 64))
        } == .checksumMismatch(path: path, expected: String(repeating: "0", count: 64), actual: abc))
    }

    @Test(.enabled(if: TestData.hasRealData, "needs the shared data (../shared/data or TAPE_DATA)"))
    func realFileMatchesTheDataREADME() throws {
        let data = try #require(TestData.real)
        let bytes = try DataFile.readBytes(at: data.path("mnist/t10k-labels-idx1-ubyte.gz"))
        #expect(bytes.count == 4542)
        #expect(SHA256.hexDigest(of: bytes) == "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")
    }
}
