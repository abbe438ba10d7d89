import Foundation
import Testing
@testable import FileSupport

@Suite struct AtomicFileTests {
    @Test func replacesTheWholeFileAndLeavesNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("notes.txt")
        try AtomicFile.write("a much longer first version\n", to: path)
        try AtomicFile.write([Array("sh".utf8), Array("ort\n".utf8)], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("short\n".utf8))
        #expect(try directory.contents() == ["notes.txt"])
    }

    @Test func missingDirectoryThrowsAndLeavesNothingBehind() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent/notes.txt")
        let error = #expect(throws: AtomicWriteError.self) { try AtomicFile.write("x", to: path) }
        #expect(error?.call == .open)
        #expect(error?.path == path)
        #expect(error?.description.hasPrefix("cannot write '\(path)': cannot create temporary file") == true)
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(try directory.contents() == [])
    }

    /// Renaming over a non-empty directory fails after the temporary file was written: the
    /// temporary file is removed and the directory is untouched.
    @Test func failedRenameRemovesTheTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("notes.txt")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: path + "/keep", contents: Data([1, 2, 3])))
        let error = #expect(throws: AtomicWriteError.self) { try AtomicFile.write("x", to: path) }
        #expect(error?.call == .rename)
        #expect(error?.problem.contains("cannot rename") == true)
        #expect(try directory.contents() == ["notes.txt"])
        #expect(FileManager.default.contents(atPath: path + "/keep") == Data([1, 2, 3]))
    }

    /// A write that fails part-way (the file size limit is hit) leaves the previous file intact,
    /// no half-written target and no temporary file. Runs in a child process, since the limit is
    /// process-wide.
    @Test func failedWriteLeavesThePreviousFileIntact() async {
        await #expect(processExitsWith: .success) {
            let directory = try TemporaryDirectory()
            let path = directory.file("notes.txt")
            let previous = Data("the previous contents\n".utf8)
            try AtomicFile.write([Array(previous)], to: path)

            signal(SIGXFSZ, SIG_IGN)
            var limit = rlimit(rlim_cur: 4096, rlim_max: 4096)
            precondition(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0)

            do throws(AtomicWriteError) {
                try AtomicFile.write([[UInt8](repeating: 7, count: 40_000)], to: path)
                preconditionFailure("the write should have failed")
            } catch {
                precondition(error.call == .write && error.problem.contains("write failed"), "\(error)")
                precondition(error.description.contains(path), "\(error)")
            }
            let remaining = try directory.contents()
            precondition(remaining == ["notes.txt"], "\(remaining)")
            precondition(FileManager.default.contents(atPath: path) == previous)
        }
    }
}

/// A fresh empty directory, removed when the value is deinitialized.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "file-support-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The names of the entries in the directory, sorted.
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }
}
