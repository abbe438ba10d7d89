import Testing
@testable import Datasets

/// Checks against the real data sets in `../shared/data` (or `TAPE_DATA`); skipped without them.
@Suite(.enabled(if: TestData.hasRealData, "needs the shared data sets in ../shared/data or $TAPE_DATA"))
struct RealDataTests {
    /// The mean and standard deviation of all pixels.
    static func statistics(_ set: ImageSet) -> (mean: Double, std: Double) {
        var sum = 0.0
        var sumOfSquares = 0.0
        set.images.withUnsafeBufferPointer { pixels in
            for pixel in pixels {
                sum += Double(pixel)
                sumOfSquares += Double(pixel) * Double(pixel)
            }
        }
        let mean = sum / Double(set.images.count)
        return (mean, (sumOfSquares / Double(set.images.count) - mean * mean).squareRoot())
    }

    static func classCounts(_ set: ImageSet) -> [Int] {
        set.labels.reduce(into: Array(repeating: 0, count: set.classCount)) { $0[$1] += 1 }
    }

    @Test func mnistTrain() throws {
        let set = try MNIST.load(.train, from: #require(TestData.real))
        #expect((set.count, set.channels, set.height, set.width) == (60000, 1, 28, 28))
        #expect(set.labels.first == 5)
        #expect(Self.classCounts(set) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        let (mean, std) = Self.statistics(set)
        #expect(abs(mean - Double(Normalization.mnist.mean[0])) < 1e-4)
        #expect(abs(std - Double(Normalization.mnist.std[0])) < 1e-4)
    }

    @Test func mnistTestWithChecksumsMatchesTheFixture() throws {
        let set = try MNIST.load(.test, from: #require(TestData.real), verifyChecksums: true)
        #expect((set.count, set.height, set.width) == (10000, 28, 28))
        #expect(Self.classCounts(set) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        let fixture = try MNIST.load(.test, from: TestData.fixtures)
        #expect(set.prefix(100).images == fixture.images && set.prefix(100).labels == fixture.labels)
    }

    @Test func fashionMNISTTrain() throws {
        let set = try FashionMNIST.load(.train, from: #require(TestData.real))
        #expect((set.count, set.channels, set.height, set.width) == (60000, 1, 28, 28))
        #expect(Self.classCounts(set) == Array(repeating: 6000, count: 10))
        let (mean, std) = Self.statistics(set)
        #expect(abs(mean - Double(Normalization.fashionMNIST.mean[0])) < 1e-4)
        #expect(abs(std - Double(Normalization.fashionMNIST.std[0])) < 1e-4)
    }

    @Test func fashionMNISTTest() throws {
        let set = try FashionMNIST.load(.test, from: #require(TestData.real))
        #expect((set.count, set.height, set.width) == (10000, 28, 28))
        #expect(Self.classCounts(set) == Array(repeating: 1000, count: 10))
    }

    @Test func sklearnDigitsWithChecksum() throws {
        let set = try SklearnDigits.load(from: #require(TestData.real), verifyChecksum: true)
        #expect(set.count == 1797 && set.images.count == 1797 * 64)
        #expect(Self.classCounts(set).allSatisfy { (170...190).contains($0) })
        let fixture = try SklearnDigits.load(from: TestData.fixtures)
        #expect(set.prefix(100).images == fixture.images && set.prefix(100).labels == fixture.labels)
    }

    @Test func aLoaderCoversMNISTOnce() throws {
        let set = try MNIST.load(.test, from: #require(TestData.real))
        let loader = DataLoader(set, batchSize: 256, seed: 1, normalization: .mnist, prefetch: true)
        var seen = [Bool](repeating: false, count: set.count)
        for batch in loader {
            #expect(batch.shape.dropFirst() == [1, 28, 28])
            for index in batch.indices { seen[index] = true }
        }
        #expect(seen.allSatisfy { $0 })
    }
}
