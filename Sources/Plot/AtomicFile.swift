#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing a file's contents all at once: readers see either the old file or the complete
/// new one, never a partial write, even if the process or the machine dies mid-way.
enum AtomicFile {
    /// Writes `text` as UTF-8 to a temporary file next to `path`, flushes it to disk, then
    /// renames it over `path`. On failure the temporary file is removed and any existing file
    /// at `path` is left untouched.
    static func replace(_ path: String, with text: String) throws(PlotError) {
        let temporaryPath = "\(path).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw PlotError(path: path, reason: "cannot create temporary file '\(temporaryPath)': \(lastErrorDescription())")
        }
        var descriptorIsOpen = true
        var renamed = false
        defer {
            if descriptorIsOpen { close(descriptor) }
            if !renamed { unlink(temporaryPath) }
        }
        try writeAll(Array(text.utf8), to: descriptor, path: path)
        guard fsync(descriptor) == 0 else {
            throw PlotError(path: path, reason: "cannot flush '\(temporaryPath)' to disk: \(lastErrorDescription())")
        }
        descriptorIsOpen = false
        guard close(descriptor) == 0 else {
            throw PlotError(path: path, reason: "cannot close '\(temporaryPath)': \(lastErrorDescription())")
        }
        guard rename(temporaryPath, path) == 0 else {
            throw PlotError(path: path, reason: "cannot rename '\(temporaryPath)' into place: \(lastErrorDescription())")
        }
        renamed = true
        syncDirectory(containing: path)
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(PlotError) {
        var failure: PlotError?
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count, let source = buffer.baseAddress {
                let result = write(descriptor, source + written, buffer.count - written)
                if result > 0 {
                    written += result
                } else if result == 0 {
                    failure = PlotError(path: path, reason: "write made no progress")
                    return
                } else if errno != EINTR {
                    failure = PlotError(path: path, reason: "write failed: \(lastErrorDescription())")
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    /// Flushes the directory entry created by the rename, so the new file survives a crash.
    /// Best effort: the file is already in place, and some file systems refuse to sync a
    /// directory, so a failure here is not reported.
    private static func syncDirectory(containing path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    private static func lastErrorDescription() -> String {
        String(cString: strerror(errno))
    }
}
