import Foundation
import Testing
@testable import SafeTensors

/// `write(to:)` goes through FileSupport's `AtomicFile` (tested there); here: its failures are
/// this module's error, naming the file.
@Suite struct AtomicWriteTests {
    @Test func failuresAreFileSystemErrorsNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent/model.safetensors")
        let error = #expect(throws: SafeTensorsError.self) { try smallValidFile().write(to: path) }
        #expect(error?.kind == .fileSystem)
        #expect(error?.path == path)
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(try directory.contents() == [])
    }
}
