/// The header of a safetensors file: where each tensor lies in the data buffer, plus metadata.
///
/// Decoding validates everything the format requires (see ``init(decoding:dataBufferSize:)``);
/// encoding lays tensors out the way the official writer does.
struct SafeTensorsHeader {
    /// One tensor's description in the header.
    struct Entry {
        /// The tensor's name (the header key).
        let name: String
        /// The element type.
        let dtype: DType
        /// The dimensions.
        let shape: [Int]
        /// The tensor's bytes, as offsets into the data buffer.
        let byteRange: Range<Int>
    }

    /// The size of the little-endian `u64` header length that starts every file.
    static let lengthPrefixSize = 8
    /// The largest header accepted, as in the official implementation (100 MB).
    static let maximumLength = 100_000_000
    /// The header key that holds metadata rather than a tensor.
    static let metadataKey = "__metadata__"

    /// The tensors, ordered by position in the data buffer.
    let entries: [Entry]
    /// The `__metadata__` strings (empty if the header has none).
    let metadata: [String: String]

    /// Reads the header length from the first 8 bytes of a file of `fileSize` bytes and checks it
    /// against the limit and the bytes that follow.
    static func headerLength(prefix: ArraySlice<UInt8>, fileSize: Int) throws(SafeTensorsError) -> Int {
        guard fileSize >= lengthPrefixSize, prefix.count == lengthPrefixSize else {
            throw SafeTensorsError(.invalidFormat,
                "file is \(fileSize) bytes long, shorter than the \(lengthPrefixSize)-byte header length that starts a safetensors file")
        }
        let length = prefix.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(maximumLength) else {
            throw SafeTensorsError(.invalidFormat, "header length \(length) exceeds the limit of \(maximumLength) bytes")
        }
        guard length <= UInt64(fileSize - lengthPrefixSize) else {
            throw SafeTensorsError(.invalidFormat,
                "header length \(length) exceeds the \(fileSize - lengthPrefixSize) bytes that follow it (truncated file?)")
        }
        return Int(length)
    }

    /// Decodes and validates the JSON header text for a data buffer of `dataBufferSize` bytes.
    ///
    /// Checks: valid UTF-8; a JSON object (strict JSON, no duplicate keys); every tensor entry
    /// has exactly `dtype`, `shape` and `data_offsets`, a known dtype, non-negative dimensions
    /// whose byte count fits in `Int` and equals the span of `data_offsets`; ordered offsets
    /// inside the buffer; the tensors cover the buffer contiguously, without gaps, overlaps or
    /// trailing bytes (as the official implementation requires); `__metadata__` maps strings
    /// to strings.
    init(decoding text: [UInt8], dataBufferSize: Int) throws(SafeTensorsError) {
        guard String(validating: text, as: UTF8.self) != nil else {
            throw SafeTensorsError(.invalidFormat, "header is not valid UTF-8")
        }
        guard text.first == UInt8(ascii: "{"), case .object(let members) = try JSONParser.parse(text) else {
            throw SafeTensorsError(.invalidFormat, "header must be a JSON object starting with '{'")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (key, value) in members {
            if key == Self.metadataKey {
                metadata = try Self.decodeMetadata(value)
            } else {
                do throws(SafeTensorsError) {
                    entries.append(try Self.decodeEntry(value, name: key, dataBufferSize: dataBufferSize))
                } catch {
                    throw error.forTensor(key)
                }
            }
        }
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        try Self.checkContiguousLayout(entries, dataBufferSize: dataBufferSize)
        self.entries = entries
        self.metadata = metadata
    }

    /// Lays `tensors` out as the official writer does: by dtype, widest first (so every tensor
    /// is aligned to its element size when the data buffer is), then by name in UTF-8 byte order.
    /// Throws if a tensor uses the reserved name `__metadata__`.
    init(layingOut tensors: [String: SafeTensor], metadata: [String: String]) throws(SafeTensorsError) {
        guard tensors[Self.metadataKey] == nil else {
            throw SafeTensorsError(.invalidTensor, tensorName: Self.metadataKey,
                "the name is reserved for the header's metadata and cannot hold a tensor")
        }
        let ordered = tensors.sorted { left, right in
            if left.value.dtype.layoutRank != right.value.dtype.layoutRank {
                return left.value.dtype.layoutRank > right.value.dtype.layoutRank
            }
            return left.key.utf8.lexicographicallyPrecedes(right.key.utf8)
        }
        var offset = 0
        entries = ordered.map { name, tensor in
            defer { offset += tensor.bytes.count }
            return Entry(name: name, dtype: tensor.dtype, shape: tensor.shape, byteRange: offset..<offset + tensor.bytes.count)
        }
        self.metadata = metadata
    }

    /// The 8-byte length prefix followed by the compact JSON header, padded with spaces to a
    /// multiple of 8 bytes (so the data buffer starts 8-byte aligned), byte for byte as the
    /// official writer produces it. Metadata keys are written in UTF-8 byte order and the
    /// `__metadata__` object is left out when there is no metadata.
    func encoded() -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            let sortedMetadata = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            members.append((Self.metadataKey, .object(sortedMetadata.map { ($0.key, .string($0.value)) })))
        }
        for entry in entries {
            members.append((entry.name, .object([
                ("dtype", .string(entry.dtype.rawValue)),
                ("shape", .array(entry.shape.map { .integer(String($0)) })),
                ("data_offsets", .array([.integer(String(entry.byteRange.lowerBound)), .integer(String(entry.byteRange.upperBound))])),
            ])))
        }
        var text: [UInt8] = []
        JSONValue.object(members).write(to: &text)
        let padding = (8 - text.count % 8) % 8
        text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        var output = withUnsafeBytes(of: UInt64(text.count).littleEndian, Array.init)
        output.append(contentsOf: text)
        return output
    }

    private static func decodeMetadata(_ value: JSONValue) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let members) = value else {
            throw SafeTensorsError(.invalidFormat, "\(metadataKey) must be an object of strings, found \(value.kindName)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw SafeTensorsError(.invalidFormat,
                    "\(metadataKey) value for key '\(key)' must be a string, found \(value.kindName)")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func decodeEntry(_ value: JSONValue, name: String, dataBufferSize: Int) throws(SafeTensorsError) -> Entry {
        guard case .object(let fields) = value else {
            throw SafeTensorsError(.invalidFormat, "entry must be an object, found \(value.kindName)")
        }
        var dtypeField: JSONValue?
        var shapeField: JSONValue?
        var offsetsField: JSONValue?
        for (key, value) in fields {
            switch key {
            case "dtype": dtypeField = value
            case "shape": shapeField = value
            case "data_offsets": offsetsField = value
            default:
                throw SafeTensorsError(.invalidFormat, "unexpected field '\(key)' (allowed: dtype, shape, data_offsets)")
            }
        }
        guard let dtypeField else { throw SafeTensorsError(.invalidFormat, "missing field 'dtype'") }
        guard let shapeField else { throw SafeTensorsError(.invalidFormat, "missing field 'shape'") }
        guard let offsetsField else { throw SafeTensorsError(.invalidFormat, "missing field 'data_offsets'") }

        guard case .string(let dtypeName) = dtypeField else {
            throw SafeTensorsError(.invalidFormat, "dtype must be a string, found \(dtypeField.kindName)")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafeTensorsError(.invalidFormat,
                "unsupported dtype '\(dtypeName)' (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let shape = try decodeIntegers(shapeField, field: "shape")
        let offsets = try decodeIntegers(offsetsField, field: "data_offsets")
        guard offsets.count == 2 else {
            throw SafeTensorsError(.invalidFormat, "data_offsets must hold 2 integers [begin, end], found \(offsets.count)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw SafeTensorsError(.invalidFormat, "data_offsets \(formatShape(offsets)) end before they begin")
        }
        guard end <= dataBufferSize else {
            throw SafeTensorsError(.invalidFormat,
                "data_offsets \(formatShape(offsets)) extend past the end of the \(dataBufferSize)-byte data buffer")
        }
        let byteCount: Int
        do throws(SafeTensorsError) {
            byteCount = try SafeTensor.byteCount(shape: shape, dtype: dtype)
        } catch {
            throw SafeTensorsError(.invalidFormat, error.problem)
        }
        guard byteCount == end - begin else {
            throw SafeTensorsError(.invalidFormat,
                "shape \(formatShape(shape)) of \(dtype.rawValue) needs \(byteCount) bytes but data_offsets \(formatShape(offsets)) span \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// Decodes an array of non-negative integers that fit in `Int`.
    private static func decodeIntegers(_ value: JSONValue, field: String) throws(SafeTensorsError) -> [Int] {
        guard case .array(let elements) = value else {
            throw SafeTensorsError(.invalidFormat, "\(field) must be an array of integers, found \(value.kindName)")
        }
        var integers: [Int] = []
        for element in elements {
            guard case .integer(let literal) = element else {
                throw SafeTensorsError(.invalidFormat, "\(field) must be an array of integers, but holds \(element.kindName)")
            }
            guard let integer = Int(literal) else {
                throw SafeTensorsError(.invalidFormat, "\(field) value \(literal) does not fit in 64 bits")
            }
            guard integer >= 0 else {
                throw SafeTensorsError(.invalidFormat, "\(field) value \(literal) is negative")
            }
            integers.append(integer)
        }
        return integers
    }

    /// Checks that `entries`, sorted by offset, tile `0..<dataBufferSize` exactly.
    private static func checkContiguousLayout(_ entries: [Entry], dataBufferSize: Int) throws(SafeTensorsError) {
        var previous: Entry?
        for entry in entries {
            let coveredEnd = previous?.byteRange.upperBound ?? 0
            let offsets = formatShape([entry.byteRange.lowerBound, entry.byteRange.upperBound])
            if let previous, entry.byteRange.lowerBound < coveredEnd {
                throw SafeTensorsError(.invalidFormat, tensorName: entry.name,
                    "data_offsets \(offsets) overlap tensor '\(previous.name)', which ends at byte \(coveredEnd)")
            }
            if entry.byteRange.lowerBound > coveredEnd {
                throw SafeTensorsError(.invalidFormat, tensorName: entry.name,
                    "data_offsets \(offsets) leave bytes \(coveredEnd)..<\(entry.byteRange.lowerBound) of the data buffer unused; tensors must cover it contiguously")
            }
            previous = entry
        }
        let coveredEnd = previous?.byteRange.upperBound ?? 0
        if coveredEnd != dataBufferSize {
            throw SafeTensorsError(.invalidFormat,
                "the data buffer has \(dataBufferSize) bytes but its tensors cover only the first \(coveredEnd); trailing bytes are not allowed")
        }
    }
}
