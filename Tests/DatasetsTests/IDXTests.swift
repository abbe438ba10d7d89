import Testing
@testable import Datasets

@Suite struct IDXTests {
    static let firstTestLabels = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]

    @Test func readsTheGzippedFixture() throws {
        let set = try MNIST.load(.test, from: TestData.fixtures)
        #expect(set.name == "MNIST test")
        #expect(set.count == 100)
        #expect((set.channels, set.height, set.width, set.classCount) == (1, 28, 28, 10))
        #expect(set.images.count == 100 * 28 * 28)
        #expect(Array(set.labels.prefix(10)) == Self.firstTestLabels)
        #expect(set.images.allSatisfy { (0...1).contains($0) })
        #expect(set.images.contains(1) && set.images.contains(0))
        // Pixels are byte / 255: every value times 255 is (up to rounding) a whole number.
        #expect(set.images.allSatisfy { abs(($0 * 255).rounded() - $0 * 255) < 1e-4 })
    }

    @Test func readsUncompressedFilesToo() throws {
        let folder = try TemporaryDirectory()
        for file in ["mnist/t10k-images-idx3-ubyte", "mnist/t10k-labels-idx1-ubyte"] {
            try folder.write(try DataFile.readContents(at: TestData.fixtures.path(file + ".gz")), to: file)
        }
        let plain = try MNIST.load(.test, from: DataDirectory(root: folder.path))
        let zipped = try MNIST.load(.test, from: TestData.fixtures)
        #expect(plain == zipped)
    }

    @Test func missingSplitNamesTheExpectedPaths() {
        let data = DataDirectory(root: "/nonexistent-data")
        #expect(datasetError { () throws(DatasetError) in try MNIST.load(.train, from: data) } == .missingFile(candidates: [
            "/nonexistent-data/mnist/train-images-idx3-ubyte.gz", "/nonexistent-data/mnist/train-images-idx3-ubyte",
        ]))
        expectFailure("/nonexistent-data/fashion-mnist/t10k-images-idx3-ubyte.gz") { () throws(DatasetError) in
            try FashionMNIST.load(.test, from: data)
        }
    }

    @Test func checksumVerificationCatchesFilesThatAreNotThePublishedOnes() throws {
        // The fixtures are 100-image excerpts, so they cannot match the published checksums.
        expectFailure("t10k-labels-idx1-ubyte.gz", "SHA-256", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6") {
            () throws(DatasetError) in try MNIST.load(.test, from: TestData.fixtures, verifyChecksums: true)
        }
        let folder = try TemporaryDirectory()
        for file in ["mnist/t10k-images-idx3-ubyte", "mnist/t10k-labels-idx1-ubyte"] {
            try folder.write(try DataFile.readContents(at: TestData.fixtures.path(file + ".gz")), to: file)
        }
        expectFailure("no published SHA-256") { () throws(DatasetError) in
            try MNIST.load(.test, from: DataDirectory(root: folder.path), verifyChecksums: true)
        }
    }

    @Test func parsesASmallGeneratedPair() throws {
        let images = makeIDXImages(count: 3, rows: 2, columns: 5)
        let set = try IDX.parseImageSet(name: "tiny", images: images, imagesSource: "i", labels: makeIDXLabels([2, 0, 1]),
                                        labelsSource: "l", classCount: 3)
        #expect((set.count, set.height, set.width) == (3, 2, 5))
        #expect(set.labels == [2, 0, 1])
        #expect(set.images == images[16...].map { Float($0) / 255 })
        let parsed = try IDX.parseImages(images, source: "i")
        #expect((parsed.count, parsed.rows, parsed.columns, parsed.pixels.count) == (3, 2, 5, 30))
    }

    @Test func emptyFilesWithMatchingCountsAreAccepted() throws {
        let set = try IDX.parseImageSet(name: "empty", images: makeIDXImages(count: 0, rows: 28, columns: 28), imagesSource: "i",
                                        labels: makeIDXLabels([]), labelsSource: "l", classCount: 10)
        #expect(set.count == 0 && set.images.isEmpty)
    }

    @Test func headerProblemsAreReportedPrecisely() {
        let good = makeIDXImages(count: 2, rows: 3, columns: 3)
        func images(_ bytes: [UInt8]) -> DatasetError? {
            datasetError { () throws(DatasetError) in try IDX.parseImages(bytes, source: "imgs.idx") }
        }
        func problem(_ bytes: [UInt8]) -> String { images(bytes)?.description ?? "no error" }

        #expect(problem([0, 0, 8]) == "imgs.idx: IDX images file: only 3 bytes, too short for the 4-byte magic number")
        #expect(problem([0x50, 0x4B, 3, 4] + good[4...]).contains("magic number 0x504b0304 is not IDX (expected 0x00000803)"))
        #expect(problem([0, 0, 0x0D, 3] + good[4...]).contains("element type 0x0d is not unsigned byte (0x08)"))
        #expect(problem(makeIDXLabels([1, 2])).contains("1 dimensions, expected 3"))
        #expect(problem(Array(good.prefix(12))).contains("too short for the 16-byte header (truncated)"))
        #expect(problem(Array(good.dropLast())).contains("declares 2×3×3 = 18 bytes of data but only 17 follow (truncated)"))
        #expect(problem(good + [0, 0]).contains("2 bytes of trailing data after the declared 2×3×3 = 18 bytes"))
        #expect(problem(bigEndian(IDX.imagesMagic) + bigEndian(5) + bigEndian(0) + bigEndian(28)).contains("empty 0×28 images"))
    }

    @Test func hugeDeclaredDimensionsFailWithoutAllocating() {
        let huge = UInt32(1) << 31
        let overflowing = bigEndian(IDX.imagesMagic) + bigEndian(huge) + bigEndian(huge) + bigEndian(huge) + [1, 2, 3]
        expectFailure("big.idx", "declared size 2147483648×2147483648×2147483648 overflows") { () throws(DatasetError) in
            try IDX.parseImages(overflowing, source: "big.idx")
        }
        let max = UInt32.max
        let enormous = bigEndian(IDX.imagesMagic) + bigEndian(max) + bigEndian(1 << 30) + bigEndian(1)
        expectFailure("big.idx", "4611686017353646080 bytes of data but only 0 follow") { () throws(DatasetError) in
            try IDX.parseImages(enormous, source: "big.idx")
        }
        let manyLabels = bigEndian(IDX.labelsMagic) + bigEndian(max) + [1]
        expectFailure("labels.idx", "4294967295 bytes of data but only 1 follow") { () throws(DatasetError) in
            try IDX.parseLabels(manyLabels, source: "labels.idx")
        }
    }

    @Test func labelsMustAgreeWithImagesAndLieInRange() {
        let images = makeIDXImages(count: 3, rows: 2, columns: 2)
        #expect(datasetError { () throws(DatasetError) in
            try IDX.parseImageSet(name: "x", images: images, imagesSource: "imgs", labels: makeIDXLabels([1, 2]),
                                  labelsSource: "lbls", classCount: 10)
        } == .countMismatch(imagesPath: "imgs", imageCount: 3, labelsPath: "lbls", labelCount: 2))
        expectFailure("lbls: label 10 of record 2 is outside 0..<10") { () throws(DatasetError) in
            try IDX.parseImageSet(name: "x", images: images, imagesSource: "imgs", labels: makeIDXLabels([1, 2, 10]),
                                  labelsSource: "lbls", classCount: 10)
        }
    }

    @Test func corruptGzipOnDiskNamesTheFile() throws {
        let folder = try TemporaryDirectory()
        let images = try TestData.fixtureBytes("mnist/t10k-images-idx3-ubyte.gz")
        try folder.write(Array(images.prefix(images.count / 2)), to: "mnist/t10k-images-idx3-ubyte.gz")
        try folder.write(try TestData.fixtureBytes("mnist/t10k-labels-idx1-ubyte.gz"), to: "mnist/t10k-labels-idx1-ubyte.gz")
        expectFailure(folder.path + "/mnist/t10k-images-idx3-ubyte.gz", "corrupt gzip", "truncated") { () throws(DatasetError) in
            try MNIST.load(.test, from: DataDirectory(root: folder.path))
        }
    }
}
