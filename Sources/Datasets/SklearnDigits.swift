/// scikit-learn's 8×8 handwritten digits (1797 images, 10 classes), read from
/// `sklearn-digits/digits.csv[.gz]` in the data directory.
///
/// The CSV has no header; each row holds 64 pixel values (0…16, row-major) and then the label
/// (0…9). Pixels are divided by 16 into [0, 1].
public enum SklearnDigits {
    /// The folder inside the data directory.
    public static let folder = "sklearn-digits"
    /// The published SHA-256 of `digits.csv.gz`.
    public static let sha256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    /// Pixels per image (8×8).
    public static let pixelCount = 64
    /// The largest pixel value.
    public static let maximumPixelValue = 16
    /// The number of classes.
    public static let classCount = 10

    /// Loads all 1797 images (the set has no train/test split; use `ImageSet.subset` for one).
    ///
    /// - Parameter verifyChecksum: check `digits.csv.gz` against its published SHA-256 (throws
    ///   `DatasetError.checksumUnknown` for an uncompressed `digits.csv`, which has none).
    public static func load(from data: DataDirectory, verifyChecksum: Bool = false) throws(DatasetError) -> ImageSet {
        let path = try data.gzippedOrPlainFile(folder + "/digits.csv")
        var expected: String?
        if verifyChecksum {
            guard path.hasSuffix(".gz") else { throw .checksumUnknown(path: path) }
            expected = sha256
        }
        return try parse(DataFile.readContents(at: path, expectedSHA256: expected), source: path)
    }

    /// Parses the (decompressed) CSV text.
    ///
    /// - Parameter source: the file the bytes came from, named in errors.
    /// - Throws: `DatasetError.malformedFile` naming the row for a wrong number of columns, a
    ///   value that is not a number, a pixel outside 0…16 or a label that is not an integer in
    ///   0..<10, and for a file without rows.
    public static func parse(_ bytes: [UInt8], source: String) throws(DatasetError) -> ImageSet {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }  // trailing newlines
        guard !lines.isEmpty else { throw .malformedFile(path: source, problem: "no rows") }

        var pixels: [Float] = []
        var labels: [Int] = []
        pixels.reserveCapacity(lines.count * pixelCount)
        labels.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            func fail(_ problem: String) -> DatasetError {
                .malformedFile(path: source, problem: "row \(index + 1): \(problem)")
            }
            let text = String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
            let fields = text.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == pixelCount + 1 else {
                throw fail("expected \(pixelCount + 1) columns (64 pixels and the label), found \(fields.count)")
            }
            for (column, field) in fields.dropLast().enumerated() {
                let trimmed = field.trimmingSpaces()
                guard let value = Double(trimmed), value.isFinite else {
                    throw fail("column \(column + 1): '\(trimmed)' is not a number")
                }
                guard value >= 0 && value <= Double(maximumPixelValue) else {
                    throw fail("column \(column + 1): pixel \(trimmed) is outside 0...\(maximumPixelValue)")
                }
                pixels.append(Float(value) / Float(maximumPixelValue))
            }
            let labelField = fields[pixelCount].trimmingSpaces()
            guard let label = integerLabel(labelField), (0..<classCount).contains(label) else {
                throw fail("label '\(labelField)' is not an integer in 0..<\(classCount)")
            }
            labels.append(label)
        }
        return ImageSet(name: "sklearn digits", images: pixels, labels: labels,
                        channels: 1, height: 8, width: 8, classCount: classCount)
    }

    /// The label as an integer, accepting a whole-valued decimal such as "7.0".
    private static func integerLabel(_ field: Substring) -> Int? {
        if let integer = Int(field) { return integer }
        guard let value = Double(field), value.isFinite, value.rounded() == value, abs(value) < 1e9 else { return nil }
        return Int(value)
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
