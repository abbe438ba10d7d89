import Testing
@testable import Datasets

@Suite struct GzipTests {
    /// `gzip.compress(b"hello, world\n", mtime=0)` from Python.
    static let hello: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 40, 207, 47, 202, 73, 225, 2, 0,
        83, 116, 36, 244, 13, 0, 0, 0,
    ]

    @Test func decompressesAKnownStream() throws {
        #expect(Gzip.isGzip(Self.hello))
        #expect(try Gzip.decompress(Self.hello, source: "hello.gz") == Array("hello, world\n".utf8))
    }

    @Test func recognisesOnlyTheGzipMagic() {
        #expect(!Gzip.isGzip([]))
        #expect(!Gzip.isGzip([0x1F]))
        #expect(!Gzip.isGzip([0x00, 0x00, 0x08, 0x03]))
    }

    @Test func concatenatedMembersDecompressToTheConcatenation() throws {
        let twice = try Gzip.decompress(Self.hello + Self.hello, source: "twice.gz")
        #expect(twice == Array("hello, world\nhello, world\n".utf8))
    }

    @Test func everyTruncationIsAnErrorNamingTheFile() {
        for length in 0..<Self.hello.count {
            expectFailure("cut.gz", "corrupt gzip") { () throws(DatasetError) in
                try Gzip.decompress(Array(Self.hello.prefix(length)), source: "cut.gz")
            }
        }
        expectFailure("truncated") { () throws(DatasetError) in
            try Gzip.decompress(Array(Self.hello.dropLast(8)), source: "cut.gz")
        }
    }

    @Test func trailingGarbageIsAnError() {
        expectFailure("junk.gz", "3 bytes of trailing data") { () throws(DatasetError) in
            try Gzip.decompress(Self.hello + [1, 2, 3], source: "junk.gz")
        }
    }

    @Test func damagedDataOrChecksumIsAnError() {
        var damagedCRC = Self.hello
        damagedCRC[damagedCRC.count - 6] ^= 0xFF
        expectFailure("crc.gz", "incorrect data check") { () throws(DatasetError) in
            try Gzip.decompress(damagedCRC, source: "crc.gz")
        }
        var damagedLength = Self.hello
        damagedLength[damagedLength.count - 4] ^= 0x01
        expectFailure("length.gz", "incorrect length check") { () throws(DatasetError) in
            try Gzip.decompress(damagedLength, source: "length.gz")
        }
    }

    @Test func outputBeyondTheLimitIsRefused() throws {
        let labels = try TestData.fixtureBytes("mnist/t10k-labels-idx1-ubyte.gz")
        #expect(try Gzip.decompress(labels, source: "labels.gz", outputLimit: 108).count == 108)
        expectFailure("labels.gz", "exceeds the limit of 107 bytes") { () throws(DatasetError) in
            try Gzip.decompress(labels, source: "labels.gz", outputLimit: 107)
        }
    }

    @Test func readContentsGunzipsOrPassesThrough() throws {
        let folder = try TemporaryDirectory()
        let zipped = try folder.write(Self.hello, to: "a.gz")
        let plain = try folder.write(Array("plain text".utf8), to: "a.txt")
        #expect(try DataFile.readContents(at: zipped) == Array("hello, world\n".utf8))
        #expect(try DataFile.readContents(at: plain) == Array("plain text".utf8))
        #expect(try DataFile.readBytes(at: zipped) == Self.hello)
        #expect(try DataFile.readBytes(at: try folder.write([], to: "empty")) == [])
    }

    @Test func unreadableFilesAreErrorsNamingThePath() throws {
        let folder = try TemporaryDirectory()
        #expect(datasetError { () throws(DatasetError) in try DataFile.readBytes(at: folder.path + "/absent") }
                == .missingFile(candidates: [folder.path + "/absent"]))
        expectFailure(folder.path, "not a regular file") { () throws(DatasetError) in
            try DataFile.readBytes(at: folder.path)
        }
    }
}
