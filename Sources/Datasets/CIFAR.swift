/// The binary record layout of CIFAR-10 and CIFAR-100: label bytes, then a 32×32 RGB image as
/// 1024 red, 1024 green and 1024 blue bytes, each plane row-major (already C×H×W).
struct CIFARRecordFormat: Sendable {
    static let channels = 3
    static let side = 32
    static let pixelBytes = channels * side * side

    /// What each label byte means: its name in errors and its number of classes.
    let labelFields: [(name: String, classCount: Int)]
    /// The label byte that becomes the image set's label.
    let selectedField: Int

    var recordSize: Int { labelFields.count + Self.pixelBytes }
    var classCount: Int { labelFields[selectedField].classCount }

    /// Checks one file's size and labels, and returns its number of records.
    func validate(_ bytes: [UInt8], source: String) throws(DatasetError) -> Int {
        guard !bytes.isEmpty else {
            throw .malformedFile(path: source, problem: "empty file, expected \(recordSize)-byte CIFAR records")
        }
        guard bytes.count % recordSize == 0 else {
            throw .malformedFile(
                path: source,
                problem: "\(bytes.count) bytes is not a whole number of \(recordSize)-byte CIFAR records "
                    + "(\(bytes.count / recordSize) records and \(bytes.count % recordSize) bytes left over)")
        }
        let recordCount = bytes.count / recordSize
        for record in 0..<recordCount {
            for (offset, field) in labelFields.enumerated() {
                let value = Int(bytes[record * recordSize + offset])
                guard value < field.classCount else {
                    throw .malformedFile(
                        path: source,
                        problem: "record \(record): \(field.name) \(value) is outside 0..<\(field.classCount)")
                }
            }
        }
        return recordCount
    }

    /// The records of `files` (each given as bytes and the path they came from), as one image set.
    func imageSet(name: String, files: [(bytes: [UInt8], source: String)]) throws(DatasetError) -> ImageSet {
        var recordCount = 0
        for file in files { recordCount += try validate(file.bytes, source: file.source) }
        var labels: [Int] = []
        labels.reserveCapacity(recordCount)
        let pixels = [Float](unsafeUninitializedCapacity: recordCount * Self.pixelBytes) { target, initialized in
            var image = 0
            for file in files {
                file.bytes.withUnsafeBufferPointer { source in
                    for start in stride(from: 0, to: source.count, by: recordSize) {
                        labels.append(Int(source[start + selectedField]))
                        let pixels = source[start + labelFields.count..<start + recordSize]
                        let output = target[image * Self.pixelBytes..<(image + 1) * Self.pixelBytes]
                        scalePixels(UnsafeBufferPointer(rebasing: pixels), dividedBy: 255,
                                    into: UnsafeMutableBufferPointer(rebasing: output))
                        image += 1
                    }
                }
            }
            initialized = recordCount * Self.pixelBytes
        }
        return ImageSet(name: name, images: pixels, labels: labels, channels: Self.channels,
                        height: Self.side, width: Self.side, classCount: classCount)
    }

    /// Reads `files` (gzipped or not) from `folder` of the data directory into one image set.
    func load(files: [String], folder: String, name: String, from data: DataDirectory) throws(DatasetError) -> ImageSet {
        var contents: [(bytes: [UInt8], source: String)] = []
        for file in files {
            let path = data.path(folder + "/" + file)
            contents.append((try DataFile.readContents(at: path), path))
        }
        return try imageSet(name: name, files: contents)
    }
}
/// CIFAR-10: 32×32 RGB, 10 classes, read from the binary version's `cifar-10-batches-bin/`
/// folder (`data_batch_1.bin` … `data_batch_5.bin` for train, `test_batch.bin` for test; each
/// record is 1 label byte and 3072 pixel bytes).
public enum CIFAR10 {
    /// The folder inside the data directory.
    public static let folder = "cifar-10-batches-bin"
    /// The class names, by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    static let format = CIFARRecordFormat(labelFields: [("label", 10)], selectedField: 0)

    /// The files of each split, in reading order.
    public static func files(_ split: Split) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Loads one split (50000 train or 10000 test images in the full data set).
    public static func load(_ split: Split, from data: DataDirectory) throws(DatasetError) -> ImageSet {
        try format.load(files: files(split), folder: folder, name: "CIFAR-10 \(split.rawValue)", from: data)
    }

    /// Parses the (decompressed) bytes of one CIFAR-10 binary file.
    ///
    /// - Parameter source: the file the bytes came from, named in errors.
    /// - Throws: `DatasetError.malformedFile` for an empty file, a size that is not a multiple of
    ///   3073 bytes, or a label outside 0..<10.
    public static func parse(_ bytes: [UInt8], source: String) throws(DatasetError) -> ImageSet {
        try format.imageSet(name: "CIFAR-10 \(source)", files: [(bytes, source)])
    }
}

/// CIFAR-100: 32×32 RGB with 100 fine classes grouped into 20 coarse ones, read from the binary
/// version's `cifar-100-binary/` folder (`train.bin`, `test.bin`; each record is 1 coarse label
/// byte, 1 fine label byte and 3072 pixel bytes).
public enum CIFAR100 {
    /// Which of the two labels an image set uses.
    public enum Labels: String, Sendable, CaseIterable {
        /// The 20 superclasses.
        case coarse
        /// The 100 classes.
        case fine
    }

    /// The folder inside the data directory.
    public static let folder = "cifar-100-binary"

    static func format(_ labels: Labels) -> CIFARRecordFormat {
        CIFARRecordFormat(labelFields: [("coarse label", 20), ("fine label", 100)],
                          selectedField: labels == .coarse ? 0 : 1)
    }

    /// The file of each split.
    public static func file(_ split: Split) -> String {
        split == .train ? "train.bin" : "test.bin"
    }

    /// Loads one split (50000 train or 10000 test images in the full data set) with the chosen labels.
    public static func load(_ split: Split, labels: Labels = .fine, from data: DataDirectory) throws(DatasetError) -> ImageSet {
        try format(labels).load(files: [file(split)], folder: folder,
                                name: "CIFAR-100 (\(labels.rawValue)) \(split.rawValue)", from: data)
    }

    /// Parses the (decompressed) bytes of one CIFAR-100 binary file.
    ///
    /// - Parameter source: the file the bytes came from, named in errors.
    /// - Throws: `DatasetError.malformedFile` for an empty file, a size that is not a multiple of
    ///   3074 bytes, a coarse label outside 0..<20 or a fine label outside 0..<100.
    public static func parse(_ bytes: [UInt8], labels: Labels = .fine, source: String) throws(DatasetError) -> ImageSet {
        try format(labels).imageSet(name: "CIFAR-100 (\(labels.rawValue)) \(source)", files: [(bytes, source)])
    }
}
