import FileSupport

/// The contents of a safetensors file: named tensors plus string metadata.
///
/// The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
/// length N, N bytes of JSON header, then the data buffer. The header maps each tensor name to
/// `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` (offsets into the data
/// buffer) and may hold a `"__metadata__"` object of strings.
///
/// Reading validates the whole file and throws ``SafeTensorsError`` on anything malformed;
/// it never traps and never allocates more than the file holds. Writing produces the same
/// bytes as the official Python library for the same tensors and metadata.
///
/// Names are compared as Swift strings, so two names that differ only in Unicode
/// normalization (such as "é" precomposed or not) count as the same name.
public struct SafeTensorsFile: Equatable, Sendable {
    /// The tensors, by name.
    public var tensors: [String: SafeTensor]
    /// Free-form string metadata (the header's `__metadata__`).
    public var metadata: [String: String]

    /// The tensor names in a deterministic order: by UTF-8 bytes, as the Python library sorts.
    public var names: [String] {
        tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Creates file contents from tensors and metadata.
    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Parses and validates the bytes of a whole safetensors file.
    public init(bytes: [UInt8]) throws(SafeTensorsError) {
        let prefixSize = SafeTensorsHeader.lengthPrefixSize
        let headerLength = try SafeTensorsHeader.headerLength(prefix: bytes.prefix(prefixSize), fileSize: bytes.count)
        let dataStart = prefixSize + headerLength
        let header = try SafeTensorsHeader(decoding: Array(bytes[prefixSize..<dataStart]),
                                           dataBufferSize: bytes.count - dataStart)
        var tensors: [String: SafeTensor] = [:]
        for entry in header.entries {
            let fileRange = (dataStart + entry.byteRange.lowerBound)..<(dataStart + entry.byteRange.upperBound)
            tensors[entry.name] = SafeTensor(validatedDType: entry.dtype, shape: entry.shape, bytes: Array(bytes[fileRange]))
        }
        self.init(tensors: tensors, metadata: header.metadata)
    }

    /// Reads and validates the safetensors file at `path`.
    ///
    /// The header is validated before any tensor data is read, and each tensor is read
    /// straight into its own buffer. Every error names `path`.
    public init(contentsOf path: String) throws(SafeTensorsError) {
        do throws(SafeTensorsError) {
            let file = try ReadableFile(openingForReading: path)
            let prefixSize = SafeTensorsHeader.lengthPrefixSize
            let prefix = try file.read(0..<min(prefixSize, file.size))
            let headerLength = try SafeTensorsHeader.headerLength(prefix: prefix[...], fileSize: file.size)
            let dataStart = prefixSize + headerLength
            let header = try SafeTensorsHeader(decoding: try file.read(prefixSize..<dataStart),
                                               dataBufferSize: file.size - dataStart)
            var tensors: [String: SafeTensor] = [:]
            for entry in header.entries {
                let fileRange = (dataStart + entry.byteRange.lowerBound)..<(dataStart + entry.byteRange.upperBound)
                tensors[entry.name] = SafeTensor(validatedDType: entry.dtype, shape: entry.shape, bytes: try file.read(fileRange))
            }
            self.init(tensors: tensors, metadata: header.metadata)
        } catch {
            throw error.inFile(path)
        }
    }

    /// The tensor called `name`, if there is one.
    public subscript(name: String) -> SafeTensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// The tensor called `name`; throws ``SafeTensorsError/Kind/unexpectedContents`` if absent.
    public func tensor(named name: String) throws(SafeTensorsError) -> SafeTensor {
        guard let tensor = tensors[name] else {
            throw SafeTensorsError(.unexpectedContents, tensorName: name, "no such tensor")
        }
        return tensor
    }

    /// The complete file as bytes.
    ///
    /// Tensors are laid out as the official writer does (by dtype, widest first, then by name)
    /// and the header is padded with spaces to a multiple of 8 bytes. Throws if a tensor is
    /// named `__metadata__`.
    public func serializedBytes() throws(SafeTensorsError) -> [UInt8] {
        try fileChunks().reduce(into: []) { $0.append(contentsOf: $1) }
    }

    /// Writes the file to `path` atomically (see ``serializedBytes()`` for the layout).
    ///
    /// The bytes go to a temporary file in the same directory, which is flushed to disk and then
    /// renamed over `path`. On failure the temporary file is removed and any previous file at
    /// `path` is left untouched. Every error names `path`.
    public func write(to path: String) throws(SafeTensorsError) {
        let chunks: [[UInt8]]
        do throws(SafeTensorsError) { chunks = try fileChunks() } catch { throw error.inFile(path) }
        do {
            try AtomicFile.write(chunks, to: path)
        } catch {
            throw SafeTensorsError(.fileSystem, path: path, error.problem)
        }
    }

    /// The length prefix and header, then each tensor's bytes in layout order.
    private func fileChunks() throws(SafeTensorsError) -> [[UInt8]] {
        let header = try SafeTensorsHeader(layingOut: tensors, metadata: metadata)
        return [header.encoded()] + header.entries.map { tensors[$0.name]?.bytes ?? [] }
    }
}
