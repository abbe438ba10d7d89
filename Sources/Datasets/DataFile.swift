#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads data files from disk with POSIX calls (no Foundation), decompressing gzip on the fly.
public enum DataFile {
    /// The bytes of the file at `path`, exactly as stored.
    ///
    /// Throws `DatasetError.missingFile` when nothing exists at `path`, and
    /// `DatasetError.unreadableFile` for every other failure (a directory, permissions, I/O).
    public static func readBytes(at path: String) throws(DatasetError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .missingFile(candidates: [path]) }
            throw .unreadableFile(path: path, reason: systemMessage(code))
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .unreadableFile(path: path, reason: systemMessage(errno))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableFile(path: path, reason: "not a regular file")
        }

        // The size only sizes the first read; reading goes on until the end of the file, wherever
        // it turns out to be.
        var bytes = try readChunk(descriptor, capacity: Int(status.st_size), path: path)
        while true {
            let more = try readChunk(descriptor, capacity: 1 << 20, path: path)
            if more.isEmpty { return bytes }
            bytes += more
        }
    }

    /// The contents of the file at `path`, gunzipped when the file starts with the gzip magic
    /// bytes (1f 8b) and returned as stored otherwise.
    ///
    /// - Parameter expectedSHA256: when given, the stored (still compressed) bytes must have this
    ///   SHA-256 (lowercase or uppercase hex), or `DatasetError.checksumMismatch` is thrown.
    public static func readContents(at path: String, expectedSHA256: String? = nil) throws(DatasetError) -> [UInt8] {
        let stored = try readBytes(at: path)
        if let expectedSHA256 {
            let actual = SHA256.hexDigest(of: stored)
            guard actual == expectedSHA256.lowercased() else {
                throw .checksumMismatch(path: path, expected: expectedSHA256.lowercased(), actual: actual)
            }
        }
        return Gzip.isGzip(stored) ? try Gzip.decompress(stored, source: path) : stored
    }

    /// Whether `path` names an existing directory (following symbolic links).
    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` names an existing file or directory.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// Up to `capacity` bytes read from `descriptor` (fewer only at the end of the file).
    private static func readChunk(_ descriptor: Int32, capacity: Int, path: String) throws(DatasetError) -> [UInt8] {
        var readError: Int32 = 0
        let chunk = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, filled in
            filled = 0
            while filled < capacity {
                let result = read(descriptor, buffer.baseAddress! + filled, capacity - filled)
                if result > 0 {
                    filled += result
                } else if result == 0 {
                    return
                } else if errno != EINTR {
                    readError = errno
                    return
                }
            }
        }
        if readError != 0 { throw .unreadableFile(path: path, reason: systemMessage(readError)) }
        return chunk
    }

    private static func systemMessage(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
