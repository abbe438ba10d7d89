#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for reading, closed when the value goes away.
/// Errors are ``SafeTensorsError/Kind/fileSystem`` and name the file.
struct ReadableFile: ~Copyable {
    /// The path the file was opened from, for error messages.
    let path: String
    /// The size of the file when it was opened.
    let size: Int
    private let descriptor: Int32

    /// Opens the file at `path` and records its size. Throws unless it is a regular file.
    init(openingForReading path: String) throws(SafeTensorsError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SafeTensorsError(.fileSystem, path: path, "cannot open for reading: \(lastErrorDescription())")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let problem = "cannot get the file's size: \(lastErrorDescription())"
            close(descriptor)
            throw SafeTensorsError(.fileSystem, path: path, problem)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SafeTensorsError(.fileSystem, path: path, "not a regular file")
        }
        self.path = path
        self.size = Int(status.st_size)
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Reads exactly `range` of the file (offsets from its start). Throws if the file ends first.
    func read(_ range: Range<Int>) throws(SafeTensorsError) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        var failure: SafeTensorsError?
        let bytes = [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initializedCount in
            while initializedCount < range.count, let destination = buffer.baseAddress {
                let result = pread(descriptor, destination + initializedCount, range.count - initializedCount,
                                   off_t(range.lowerBound + initializedCount))
                if result > 0 {
                    initializedCount += result
                } else if result == 0 {
                    failure = SafeTensorsError(.fileSystem, path: path,
                        "file ended at byte \(range.lowerBound + initializedCount) while reading bytes \(range.lowerBound)..<\(range.upperBound); was it truncated while being read?")
                    return
                } else if errno != EINTR {
                    failure = SafeTensorsError(.fileSystem, path: path, "read failed: \(lastErrorDescription())")
                    return
                }
            }
        }
        if let failure { throw failure }
        return bytes
    }
}

/// The text for the current `errno`, with its number.
func lastErrorDescription() -> String {
    let code = errno
    return "\(String(cString: strerror(code))) (errno \(code))"
}
