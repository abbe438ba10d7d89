import Testing
import SeededRandom
@testable import Datasets

/// Damaged inputs must give a `DatasetError` (or, for harmless damage, a consistent image set);
/// they must never crash or allocate from an unchecked size.
@Suite struct FuzzTests {
    /// Checks that an image set a damaged file produced is internally consistent.
    static func expectConsistent(_ set: ImageSet, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(set.images.count == set.count * set.channels * set.height * set.width, sourceLocation: sourceLocation)
        #expect(set.labels.allSatisfy { (0..<set.classCount).contains($0) }, sourceLocation: sourceLocation)
        #expect(set.images.allSatisfy { (0...1).contains($0) }, sourceLocation: sourceLocation)
    }

    /// Flips 1 to 4 random bits of `bytes` (at least one byte changes).
    static func flipBits(_ bytes: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var damaged = bytes
        for _ in 0...(generator.next() % 4) {
            let offset = Int(generator.next() % UInt64(bytes.count))
            damaged[offset] ^= UInt8(1) << (generator.next() % 8)
        }
        return damaged
    }

    @Test func everyTruncationOfAnIDXPairFails() {
        let images = makeIDXImages(count: 6, rows: 7, columns: 5)
        let labels = makeIDXLabels([0, 1, 2, 3, 4, 5])
        for length in 0..<images.count {
            #expect(datasetError { () throws(DatasetError) in
                try IDX.parseImageSet(name: "t", images: Array(images.prefix(length)), imagesSource: "i",
                                      labels: labels, labelsSource: "l", classCount: 10)
            } != nil)
        }
        for length in 0..<labels.count {
            #expect(datasetError { () throws(DatasetError) in
                try IDX.parseImageSet(name: "t", images: images, imagesSource: "i", labels: Array(labels.prefix(length)),
                                      labelsSource: "l", classCount: 10)
            } != nil)
        }
    }

    @Test func everyTruncationOfTheGzippedLabelsFixtureFails() throws {
        let labels = try TestData.fixtureBytes("mnist/t10k-labels-idx1-ubyte.gz")
        for length in 0..<labels.count {
            let cut = Array(labels.prefix(length))
            let error = datasetError { () throws(DatasetError) in
                try IDX.parseLabels(Gzip.isGzip(cut) ? try Gzip.decompress(cut, source: "l.gz") : cut, source: "l.gz")
            }
            #expect(error?.description.hasPrefix("l.gz: ") == true)
        }
    }

    @Test func truncationsOfTheGzippedImagesFixtureFail() throws {
        let images = try TestData.fixtureBytes("mnist/t10k-images-idx3-ubyte.gz")
        for length in stride(from: 0, to: images.count, by: 211) + [images.count - 1] {
            let cut = Array(images.prefix(length))
            expectFailure("i.gz") { () throws(DatasetError) in
                try IDX.parseImages(Gzip.isGzip(cut) ? try Gzip.decompress(cut, source: "i.gz") : cut, source: "i.gz")
            }
        }
    }

    @Test func randomBitFlipsInRawIDXFilesFailOrStayConsistent() {
        let images = makeIDXImages(count: 4, rows: 3, columns: 3)
        let labels = makeIDXLabels([9, 0, 3, 4])
        var generator = SplitMix64(seed: 2024)
        var failures = 0
        for trial in 0..<400 {
            let damageImages = trial % 2 == 0
            let imageBytes = damageImages ? Self.flipBits(images, using: &generator) : images
            let labelBytes = damageImages ? labels : Self.flipBits(labels, using: &generator)
            do {
                Self.expectConsistent(try IDX.parseImageSet(name: "f", images: imageBytes, imagesSource: "i",
                                                            labels: labelBytes, labelsSource: "l", classCount: 10))
            } catch {
                failures += 1
            }
        }
        #expect(failures > 0 && failures < 400)  // header damage fails, pixel damage does not
    }

    @Test func randomBitFlipsInTheGzippedFixturesFailOrStayConsistent() throws {
        let images = try TestData.fixtureBytes("mnist/t10k-images-idx3-ubyte.gz")
        let labels = try TestData.fixtureBytes("mnist/t10k-labels-idx1-ubyte.gz")
        var generator = SplitMix64(seed: 7)
        for trial in 0..<300 {
            let damageImages = trial % 3 == 0
            let imageBytes = damageImages ? Self.flipBits(images, using: &generator) : images
            let labelBytes = damageImages ? labels : Self.flipBits(labels, using: &generator)
            do throws(DatasetError) {
                let set = try IDX.parseImageSet(
                    name: "f", images: Gzip.isGzip(imageBytes) ? try Gzip.decompress(imageBytes, source: "i.gz") : imageBytes,
                    imagesSource: "i.gz",
                    labels: Gzip.isGzip(labelBytes) ? try Gzip.decompress(labelBytes, source: "l.gz") : labelBytes,
                    labelsSource: "l.gz", classCount: 10)
                Self.expectConsistent(set)
            } catch {
                #expect(error.description.hasPrefix("i.gz") || error.description.hasPrefix("l.gz"))
            }
        }
    }

    @Test func hugeOrWrongHeadersNeverAllocate() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<300 {
            let header = [0, 0, 8, 3] + (0..<12).map { _ in UInt8(truncatingIfNeeded: generator.next() | 0x80) }
            #expect(datasetError { () throws(DatasetError) in
                try IDX.parseImages(header + [1, 2, 3, 4], source: "h")
            } != nil)
        }
        for magic in [UInt32(0x0000_0801), 0x0000_0802, 0x0000_0903, 0x0100_0803, 0xFFFF_FFFF] {
            expectFailure("h: IDX images file") { () throws(DatasetError) in
                try IDX.parseImages(bigEndian(magic) + makeIDXImages(count: 1, rows: 1, columns: 1)[4...], source: "h")
            }
        }
    }

    @Test func damagedCIFARFilesFailOrStayConsistent() {
        var generator = SplitMix64(seed: 5)
        let cifar100 = CIFARTests.record(labels: [0, 40], shift: 0) + CIFARTests.record(labels: [1, 41], shift: 1)
        let cifar10 = CIFARTests.record(labels: [0], shift: 0) + CIFARTests.record(labels: [9], shift: 1)
        for length in stride(from: 0, to: cifar100.count, by: 97) where length % 3074 != 0 {
            expectFailure("c.bin") { () throws(DatasetError) in try CIFAR100.parse(Array(cifar100.prefix(length)), source: "c.bin") }
        }
        for _ in 0..<300 {
            do throws(DatasetError) {
                Self.expectConsistent(try CIFAR100.parse(Self.flipBits(cifar100, using: &generator), labels: .coarse, source: "c.bin"))
                Self.expectConsistent(try CIFAR10.parse(Self.flipBits(cifar10, using: &generator), source: "c.bin"))
            } catch {
                #expect(error.description.hasPrefix("c.bin: record"))
            }
        }
        // Every value of every label byte: accepted exactly when in range.
        for value in 0...255 {
            var damaged10 = cifar10
            damaged10[3073] = UInt8(value)
            #expect((datasetError { () throws(DatasetError) in try CIFAR10.parse(damaged10, source: "c.bin") } == nil) == (value < 10))
            for (offset, classCount) in [(0, 20), (1, 100)] {
                var damaged100 = cifar100
                damaged100[3074 + offset] = UInt8(value)
                let error = datasetError { () throws(DatasetError) in try CIFAR100.parse(damaged100, source: "c.bin") }
                #expect((error == nil) == (value < classCount))
            }
        }
    }

    @Test func damagedDigitsCSVFailsOrStaysConsistent() throws {
        let text = try DataFile.readContents(at: TestData.fixtures.path("sklearn-digits/digits.csv.gz"))
        let sample = Array(text.prefix(while: { $0 != UInt8(ascii: "\n") }).prefix(400)) + Array("\n".utf8)
        let rows = Array(text.prefix(2000))
        for length in 0..<sample.count {
            let cut = Array(sample.prefix(length))
            #expect(datasetError { () throws(DatasetError) in try SklearnDigits.parse(cut, source: "d.csv") } != nil
                    || length == sample.count - 1)
        }
        var generator = SplitMix64(seed: 11)
        for _ in 0..<300 {
            do throws(DatasetError) {
                Self.expectConsistent(try SklearnDigits.parse(Self.flipBits(rows, using: &generator), source: "d.csv"))
            } catch {
                #expect(error.description.hasPrefix("d.csv: "))
            }
        }
    }
}
