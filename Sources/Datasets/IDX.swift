/// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic number, then one 32-bit
/// size per dimension) followed by the elements. Only unsigned-byte elements are supported.
public enum IDX {
    /// Magic number of an images file: unsigned bytes, 3 dimensions (count, rows, columns).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of a labels file: unsigned bytes, 1 dimension (count).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// The images of an IDX images file.
    public struct Images: Sendable, Equatable {
        /// The number of images.
        public let count: Int
        /// Rows (height) of each image.
        public let rows: Int
        /// Columns (width) of each image.
        public let columns: Int
        /// `count × rows × columns` pixel bytes, image after image, row-major.
        public let pixels: ArraySlice<UInt8>
    }

    /// Parses a decompressed IDX images file (magic 0x00000803).
    ///
    /// - Parameter source: the file the bytes came from, named in errors.
    /// - Throws: `DatasetError.malformedFile` for a wrong magic number, element type or number of
    ///   dimensions, a short header, zero-sized images, declared sizes that overflow, and a size
    ///   that disagrees with the bytes present (truncation or trailing data).
    public static func parseImages(_ bytes: [UInt8], source: String) throws(DatasetError) -> Images {
        let (dimensions, payload) = try parse(bytes, dimensionCount: 3, kind: "images", source: source)
        let (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2])
        guard rows > 0 && columns > 0 else {
            throw .malformedFile(path: source, problem: "IDX images file declares empty \(rows)×\(columns) images")
        }
        return Images(count: count, rows: rows, columns: columns, pixels: bytes[payload])
    }

    /// Parses a decompressed IDX labels file (magic 0x00000801) into its label bytes.
    ///
    /// - Parameter source: the file the bytes came from, named in errors.
    /// - Throws: `DatasetError.malformedFile` as `parseImages` does.
    public static func parseLabels(_ bytes: [UInt8], source: String) throws(DatasetError) -> ArraySlice<UInt8> {
        let (_, payload) = try parse(bytes, dimensionCount: 1, kind: "labels", source: source)
        return bytes[payload]
    }

    /// Parses a pair of decompressed IDX files into an image set of grayscale images.
    ///
    /// - Throws: the errors of `parseImages` and `parseLabels`, `DatasetError.countMismatch`
    ///   when the files hold different numbers of records, and `DatasetError.malformedFile` for a
    ///   label outside `0..<classCount` (naming the record).
    public static func parseImageSet(
        name: String, images imageBytes: [UInt8], imagesSource: String,
        labels labelBytes: [UInt8], labelsSource: String, classCount: Int
    ) throws(DatasetError) -> ImageSet {
        let images = try parseImages(imageBytes, source: imagesSource)
        let labels = try parseLabels(labelBytes, source: labelsSource)
        guard images.count == labels.count else {
            throw .countMismatch(imagesPath: imagesSource, imageCount: images.count,
                                 labelsPath: labelsSource, labelCount: labels.count)
        }
        if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw .malformedFile(
                path: labelsSource,
                problem: "label \(labels[bad]) of record \(bad - labels.startIndex) is outside 0..<\(classCount)")
        }
        let pixels = [Float](unsafeUninitializedCapacity: images.pixels.count) { buffer, initialized in
            images.pixels.withUnsafeBufferPointer { scalePixels($0, dividedBy: 255, into: buffer) }
            initialized = images.pixels.count
        }
        return ImageSet(name: name, images: pixels, labels: labels.map { Int($0) },
                        channels: 1, height: images.rows, width: images.columns, classCount: classCount)
    }

    /// Reads a pair of IDX files (gzipped or not) into an image set.
    ///
    /// - Parameters:
    ///   - imagesSHA256, labelsSHA256: when given, the stored files must have these checksums.
    /// - Throws: `DatasetError` for missing, unreadable, corrupt or malformed files.
    public static func loadImageSet(
        name: String, imagesPath: String, labelsPath: String, classCount: Int,
        imagesSHA256: String? = nil, labelsSHA256: String? = nil
    ) throws(DatasetError) -> ImageSet {
        let labels = try DataFile.readContents(at: labelsPath, expectedSHA256: labelsSHA256)
        let images = try DataFile.readContents(at: imagesPath, expectedSHA256: imagesSHA256)
        return try parseImageSet(name: name, images: images, imagesSource: imagesPath,
                                 labels: labels, labelsSource: labelsPath, classCount: classCount)
    }

    /// Checks the header of an unsigned-byte IDX file with `dimensionCount` dimensions against the
    /// bytes present, and returns its dimensions and the range of its elements.
    private static func parse(
        _ bytes: [UInt8], dimensionCount: Int, kind: String, source: String
    ) throws(DatasetError) -> (dimensions: [Int], payload: Range<Int>) {
        let expectedMagic = UInt32(0x0800 | dimensionCount)
        func fail(_ problem: String) -> DatasetError {
            .malformedFile(path: source, problem: "IDX \(kind) file: \(problem)")
        }
        guard bytes.count >= 4 else {
            throw fail("only \(bytes.count) bytes, too short for the 4-byte magic number")
        }
        let magic = bigEndianUInt32(bytes, at: 0)
        guard magic == expectedMagic else {
            if bytes[0] != 0 || bytes[1] != 0 {
                throw fail("magic number \(hex(magic)) is not IDX (expected \(hex(expectedMagic)))")
            }
            if bytes[2] != 0x08 {
                throw fail("element type \(hex(bytes[2])) is not unsigned byte (0x08)")
            }
            throw fail("\(bytes[3]) dimensions, expected \(dimensionCount)")
        }
        let headerSize = 4 + 4 * dimensionCount
        guard bytes.count >= headerSize else {
            throw fail("only \(bytes.count) bytes, too short for the \(headerSize)-byte header (truncated)")
        }
        let dimensions = (0..<dimensionCount).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
        let shape = dimensions.map(String.init).joined(separator: "×")
        var declared = 1
        for dimension in dimensions {
            let (product, overflow) = declared.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("declared size \(shape) overflows") }
            declared = product
        }
        let present = bytes.count - headerSize
        guard present >= declared else {
            throw fail("header declares \(shape) = \(declared) bytes of data but only \(present) follow (truncated)")
        }
        guard present == declared else {
            throw fail("\(present - declared) bytes of trailing data after the declared \(shape) = \(declared) bytes")
        }
        return (dimensions, headerSize..<bytes.count)
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func hex<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value, radix: 16)
        let width = MemoryLayout<T>.size * 2
        return "0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
