import Foundation
import Testing
@testable import SafeTensors

@Suite struct AtomicWriteTests {
    @Test func missingDirectoryThrowsAndLeavesNothingBehind() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent/model.safetensors")
        let error = #expect(throws: SafeTensorsError.self) { try smallValidFile().write(to: path) }
        #expect(error?.kind == .fileSystem)
        #expect(error?.path == path)
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(try directory.contents() == [])
    }

    /// Renaming over a non-empty directory fails after the temporary file was written: the
    /// temporary file is removed and the directory is untouched.
    @Test func failedRenameRemovesTheTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("model.safetensors")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: path + "/keep", contents: Data([1, 2, 3])))
        let error = #expect(throws: SafeTensorsError.self) { try smallValidFile().write(to: path) }
        #expect(error?.problem.contains("cannot rename") == true)
        #expect(try directory.contents() == ["model.safetensors"])
        #expect(FileManager.default.contents(atPath: path + "/keep") == Data([1, 2, 3]))
    }

    /// A write that fails part-way (the file size limit is hit) leaves the previous file intact
    /// and no temporary file behind. Runs in a child process, since the limit is process-wide.
    @Test func failedWriteLeavesThePreviousFileIntact() async {
        await #expect(processExitsWith: .success) {
            let directory = try TemporaryDirectory()
            let path = directory.file("model.safetensors")
            let previous = try smallValidFile()
            try previous.write(to: path)

            signal(SIGXFSZ, SIG_IGN)
            var limit = rlimit(rlim_cur: 4096, rlim_max: 4096)
            precondition(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0)

            let large = SafeTensorsFile(tensors: ["big": try SafeTensor(floats: [Float](repeating: 1, count: 10_000), shape: [10_000])])
            do throws(SafeTensorsError) {
                try large.write(to: path)
                preconditionFailure("the write should have failed")
            } catch {
                precondition(error.kind == .fileSystem && error.problem.contains("write failed"), "\(error)")
            }
            let remaining = try directory.contents()
            precondition(remaining == ["model.safetensors"], "\(remaining)")
            let reread = try SafeTensorsFile(contentsOf: path)
            precondition(reread == previous)
        }
    }
}
