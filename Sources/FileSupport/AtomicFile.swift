#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing a file's contents all at once: readers see either the old file or the complete
/// new one, never a partial write, even if the process or the machine dies mid-way.
///
/// The bytes go to a temporary file in the same directory (`<path>.tmp-<pid>-<random>`), which
/// is flushed (`fsync`), closed and renamed over `path`; then the directory is flushed so the
/// rename itself survives a crash. Every call's result is checked. On any failure before the
/// rename the temporary file is removed and an existing file at `path` is left untouched.
///
/// The new file gets the default permissions (0666 less the umask), not the old file's; if
/// `path` is a symbolic link, the link itself is replaced.
public enum AtomicFile {
    /// Writes `chunks`, one after another, atomically to `path`.
    public static func write(_ chunks: [[UInt8]], to path: String) throws(AtomicWriteError) {
        let temporaryPath = "\(path).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        func failure(_ call: AtomicWriteError.Call) -> AtomicWriteError {
            AtomicWriteError(path: path, temporaryPath: temporaryPath, call: call, reason: String(cString: strerror(errno)))
        }
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure(.open) }
        var descriptorIsOpen = true
        do throws(AtomicWriteError) {
            for chunk in chunks { try writeAll(chunk, to: descriptor, failure: failure) }
            guard fsync(descriptor) == 0 else { throw failure(.fsync) }
            descriptorIsOpen = false
            guard close(descriptor) == 0 else { throw failure(.close) }
            guard rename(temporaryPath, path) == 0 else { throw failure(.rename) }
        } catch {
            if descriptorIsOpen { close(descriptor) }   // already failing: the first error is the one to report
            guard unlink(temporaryPath) == 0 else {
                throw error.addingCleanupFailure(String(cString: strerror(errno)))
            }
            throw error
        }
        try syncDirectory(containing: path, temporaryPath: temporaryPath)
    }

    /// Writes `text` as UTF-8, atomically, to `path`.
    public static func write(_ text: String, to path: String) throws(AtomicWriteError) {
        try write([Array(text.utf8)], to: path)
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32,
                                 failure: (AtomicWriteError.Call) -> AtomicWriteError) throws(AtomicWriteError) {
        var error: AtomicWriteError?
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count, let source = buffer.baseAddress {
                let result = systemWrite(descriptor, source + written, buffer.count - written)
                if result > 0 {
                    written += result
                } else if result == 0 {
                    errno = EIO   // no progress and no error: report it as an I/O error rather than spin
                    error = failure(.write)
                    return
                } else if errno != EINTR {
                    error = failure(.write)
                    return
                }
            }
        }
        if let error { throw error }
    }

    /// Flushes the directory entry the rename created, so the new file survives a crash. File
    /// systems that cannot sync a directory say so with EINVAL (or ENOTSUP); that is not an
    /// error. Any other failure is, though the new file is already in place.
    private static func syncDirectory(containing path: String, temporaryPath: String) throws(AtomicWriteError) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        func failure() -> AtomicWriteError {
            AtomicWriteError(path: path, temporaryPath: temporaryPath, call: .directorySync(directory),
                             reason: String(cString: strerror(errno)))
        }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure() }
        if fsync(descriptor) != 0 && errno != EINVAL && errno != ENOTSUP {
            let error = failure()
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw failure() }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// A failed atomic write: the file, the call that failed and the system's reason, e.g.
/// "cannot write 'runs/loss.svg': cannot create temporary file 'runs/loss.svg.tmp-…': No such
/// file or directory".
public struct AtomicWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The step of the write that failed.
    public enum Call: Sendable, Equatable {
        /// Creating the temporary file.
        case open
        /// Writing the bytes to it.
        case write
        /// Flushing it to disk.
        case fsync
        /// Closing it.
        case close
        /// Renaming it over the target.
        case rename
        /// Opening, flushing or closing the target's directory after the rename (the new file is
        /// in place, its survival of a crash is not assured).
        case directorySync(String)
    }

    /// The file that was to be written.
    public let path: String
    /// The temporary file next to it.
    public let temporaryPath: String
    /// The step that failed.
    public let call: Call
    /// The system's message for the failure (`strerror`), plus any failure to clean up.
    public let reason: String

    /// What went wrong, without the target path: "cannot rename '….tmp-…' into place: Is a directory".
    public var problem: String {
        switch call {
        case .open: "cannot create temporary file '\(temporaryPath)': \(reason)"
        case .write: "write failed for '\(temporaryPath)': \(reason)"
        case .fsync: "cannot flush '\(temporaryPath)' to disk: \(reason)"
        case .close: "cannot close '\(temporaryPath)': \(reason)"
        case .rename: "cannot rename '\(temporaryPath)' into place: \(reason)"
        case .directorySync(let directory): "wrote the file but cannot flush its directory '\(directory)': \(reason)"
        }
    }

    /// "cannot write '<path>': <problem>".
    public var description: String { "cannot write '\(path)': \(problem)" }

    func addingCleanupFailure(_ cleanupReason: String) -> AtomicWriteError {
        AtomicWriteError(path: path, temporaryPath: temporaryPath, call: call,
                         reason: "\(reason) (and removing the temporary file failed: \(cleanupReason))")
    }
}
