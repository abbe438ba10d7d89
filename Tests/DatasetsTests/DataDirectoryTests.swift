import Testing
@testable import Datasets

@Suite struct DataDirectoryTests {
    @Test func explicitPathWinsOverTheEnvironment() throws {
        let explicit = try TemporaryDirectory()
        let fromEnvironment = try TemporaryDirectory()
        let data = try DataDirectory.resolve(explicit: explicit.path, environment: ["TAPE_DATA": fromEnvironment.path],
                                             currentDirectory: "/")
        #expect(data.root == explicit.path)
    }

    @Test func environmentWinsOverTheFallback() throws {
        let fromEnvironment = try TemporaryDirectory()
        let work = try TemporaryDirectory()
        try work.makeFolder("shared/data")
        let current = try work.makeFolder("main")
        let data = try DataDirectory.resolve(environment: ["TAPE_DATA": fromEnvironment.path], currentDirectory: current)
        #expect(data.root == fromEnvironment.path)
    }

    @Test func fallsBackToSharedDataNextToTheCurrentDirectory() throws {
        let work = try TemporaryDirectory()
        try work.makeFolder("shared/data")
        let current = try work.makeFolder("main")
        // An empty TAPE_DATA counts as unset.
        let data = try DataDirectory.resolve(environment: ["TAPE_DATA": ""], currentDirectory: current)
        #expect(data.root.hasSuffix("/shared/data"))
        #expect(DataFile.isDirectory(data.root) && !data.root.contains(".."))
        #expect(data.path("mnist") == data.root + "/mnist")
    }

    @Test func namedDirectoriesThatDoNotExistAreErrors() {
        #expect(datasetError { () throws(DatasetError) in try DataDirectory.resolve(explicit: "/no/such/dir") }
                == .missingDirectory(path: "/no/such/dir", origin: "given explicitly with --data"))
        expectFailure("/no/such/env", "TAPE_DATA") { () throws(DatasetError) in
            try DataDirectory.resolve(environment: ["TAPE_DATA": "/no/such/env"], currentDirectory: "/")
        }
    }

    @Test func nothingFoundExplainsAllThreeOptions() throws {
        let work = try TemporaryDirectory()
        expectFailure("--data DIR", "TAPE_DATA", "../shared/data", work.path + "/../shared/data") { () throws(DatasetError) in
            try DataDirectory.resolve(environment: [:], currentDirectory: work.path)
        }
    }

    @Test func existingFileListsEveryCandidateWhenNoneExists() throws {
        let folder = try TemporaryDirectory()
        let data = DataDirectory(root: folder.path)
        try folder.write([1], to: "x/b.csv")
        #expect(try data.gzippedOrPlainFile("x/b.csv") == folder.path + "/x/b.csv")
        try folder.write([1], to: "x/b.csv.gz")
        #expect(try data.gzippedOrPlainFile("x/b.csv") == folder.path + "/x/b.csv.gz")
        #expect(datasetError { () throws(DatasetError) in try data.gzippedOrPlainFile("x/a") }
                == .missingFile(candidates: [folder.path + "/x/a.gz", folder.path + "/x/a"]))
        #expect(DatasetError.missingFile(candidates: ["/p/a.gz", "/p/a"]).description == "missing file: expected /p/a.gz or /p/a")
    }
}
