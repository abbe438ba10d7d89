import Testing
@testable import Datasets

/// CIFAR files are not on this machine, so these tests write small files in the binary layout.
@Suite struct CIFARTests {
    /// One record: the label bytes, then pixel `i` of the record's image = `(i + shift) % 256`.
    static func record(labels: [UInt8], shift: Int) -> [UInt8] {
        labels + (0..<3072).map { UInt8(($0 + shift) % 256) }
    }

    @Test func parsesCIFAR10Records() throws {
        let bytes = Self.record(labels: [3], shift: 0) + Self.record(labels: [9], shift: 7)
        let set = try CIFAR10.parse(bytes, source: "batch.bin")
        #expect(set.count == 2)
        #expect((set.channels, set.height, set.width, set.classCount) == (3, 32, 32, 10))
        #expect(set.labels == [3, 9])
        // C×H×W as stored: red plane, then green, then blue.
        #expect(set.image(at: 0).first == 0)
        #expect(set.images[1024] == Float(1024 % 256) / 255)  // first green pixel of image 0
        #expect(set.images[3072 + 5] == Float(12) / 255)  // pixel 5 of image 1
        let expected: [Float] = (0..<3072).map { (index: Int) -> Float in Float((index + 7) % 256) / 255 }
        #expect(Array(set.image(at: 1)) == expected)
    }

    @Test func loadsBothCIFAR10SplitsFromTheirFiles() throws {
        let folder = try TemporaryDirectory()
        for (index, file) in CIFAR10.files(.train).enumerated() {
            try folder.write(Self.record(labels: [UInt8(index)], shift: index), to: "cifar-10-batches-bin/" + file)
        }
        try folder.write(Self.record(labels: [8], shift: 0) + Self.record(labels: [1], shift: 1), to: "cifar-10-batches-bin/test_batch.bin")
        let data = DataDirectory(root: folder.path)
        let train = try CIFAR10.load(.train, from: data)
        #expect(train.count == 5 && train.labels == [0, 1, 2, 3, 4])
        #expect(train.name == "CIFAR-10 train")
        #expect(train.image(at: 4).first == Float(4) / 255)
        let test = try CIFAR10.load(.test, from: data)
        #expect(test.labels == [8, 1])
    }

    @Test func parsesCIFAR100WithEitherLabel() throws {
        let bytes = Self.record(labels: [19, 99], shift: 0) + Self.record(labels: [4, 30], shift: 1)
        let fine = try CIFAR100.parse(bytes, source: "train.bin")
        let coarse = try CIFAR100.parse(bytes, labels: .coarse, source: "train.bin")
        #expect(fine.labels == [99, 30] && fine.classCount == 100)
        #expect(coarse.labels == [19, 4] && coarse.classCount == 20)
        #expect(fine.images == coarse.images)
        #expect(fine.image(at: 1).first == Float(1) / 255)

        let folder = try TemporaryDirectory()
        try folder.write(bytes, to: "cifar-100-binary/test.bin")
        let loaded = try CIFAR100.load(.test, labels: .coarse, from: DataDirectory(root: folder.path))
        #expect(loaded.labels == [19, 4] && loaded.name == "CIFAR-100 (coarse) test")
    }

    @Test func badFilesAreErrorsNamingTheFileAndRecord() {
        let good = Self.record(labels: [1], shift: 0)
        expectFailure("b.bin", "empty file") { () throws(DatasetError) in try CIFAR10.parse([], source: "b.bin") }
        expectFailure("b.bin", "3074 bytes is not a whole number of 3073-byte CIFAR records (1 records and 1 bytes left over)") {
            () throws(DatasetError) in try CIFAR10.parse(good + [0], source: "b.bin")
        }
        expectFailure("b.bin", "record 1: label 10 is outside 0..<10") { () throws(DatasetError) in
            try CIFAR10.parse(good + Self.record(labels: [10], shift: 0), source: "b.bin")
        }
        expectFailure("c.bin", "record 0: coarse label 20 is outside 0..<20") { () throws(DatasetError) in
            try CIFAR100.parse(Self.record(labels: [20, 5], shift: 0), source: "c.bin")
        }
        expectFailure("c.bin", "record 0: fine label 100 is outside 0..<100") { () throws(DatasetError) in
            try CIFAR100.parse(Self.record(labels: [2, 100], shift: 0), labels: .coarse, source: "c.bin")
        }
        // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
        expectFailure("b.bin", "not a whole number of 3074-byte") { () throws(DatasetError) in
            try CIFAR100.parse(good, source: "b.bin")
        }
    }

    @Test func missingBatchNamesItsPath() throws {
        let folder = try TemporaryDirectory()
        try folder.write(Self.record(labels: [1], shift: 0), to: "cifar-10-batches-bin/data_batch_1.bin")
        #expect(datasetError { () throws(DatasetError) in try CIFAR10.load(.train, from: DataDirectory(root: folder.path)) }
                == .missingFile(candidates: [folder.path + "/cifar-10-batches-bin/data_batch_2.bin"]))
    }
}
