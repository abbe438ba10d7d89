#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The folder that holds the data sets, one subfolder each (`mnist/`, `fashion-mnist/`,
/// `sklearn-digits/`, `cifar-10-batches-bin/`, `cifar-100-binary/`).
public struct DataDirectory: Sendable, Equatable {
    /// The environment variable that names the data directory.
    public static let environmentVariable = "TAPE_DATA"
    /// The fallback location, relative to the current directory.
    public static let relativeFallback = "../shared/data"

    /// The directory's path.
    public let root: String

    /// Uses `root` as the data directory, as it is (nothing is checked until a file is needed).
    public init(root: String) {
        self.root = root
    }

    /// Finds the data directory. The first of these that is given wins:
    /// 1. `explicit` (a command line's `--data DIR`);
    /// 2. the environment variable `TAPE_DATA`;
    /// 3. `../shared/data` relative to the current directory, when it exists.
    ///
    /// - Parameters:
    ///   - environment: the environment to consult; `nil` reads the process environment.
    ///   - currentDirectory: the directory the fallback is relative to; `nil` uses the process's.
    /// - Throws: `DatasetError.missingDirectory` when the explicit or environment path is not a
    ///   directory, and `DatasetError.dataDirectoryNotFound` (which explains all three options)
    ///   when nothing is given and the fallback does not exist.
    public static func resolve(
        explicit: String? = nil, environment: [String: String]? = nil, currentDirectory: String? = nil
    ) throws(DatasetError) -> DataDirectory {
        if let explicit {
            guard DataFile.isDirectory(explicit) else {
                throw .missingDirectory(path: explicit, origin: "given explicitly with --data")
            }
            return DataDirectory(root: explicit)
        }
        let fromEnvironment = environment.map { $0[environmentVariable] }
            ?? getenv(environmentVariable).map { String(cString: $0) }
        if let fromEnvironment, !fromEnvironment.isEmpty {
            guard DataFile.isDirectory(fromEnvironment) else {
                throw .missingDirectory(path: fromEnvironment, origin: "from the environment variable \(environmentVariable)")
            }
            return DataDirectory(root: fromEnvironment)
        }
        let base = currentDirectory ?? workingDirectory()
        let fallback = base.hasSuffix("/") ? base + relativeFallback : base + "/" + relativeFallback
        guard DataFile.isDirectory(fallback) else { throw .dataDirectoryNotFound(fallback: fallback) }
        return DataDirectory(root: canonicalPath(fallback))
    }

    /// `relativePath` inside the data directory (whether or not it exists).
    public func path(_ relativePath: String) -> String {
        root.hasSuffix("/") ? root + relativePath : root + "/" + relativePath
    }

    /// The first of `relativePaths` that exists inside the data directory.
    ///
    /// - Throws: `DatasetError.missingFile` listing every path it looked for.
    public func existingFile(_ relativePaths: [String]) throws(DatasetError) -> String {
        let candidates = relativePaths.map(path)
        guard let found = candidates.first(where: DataFile.exists) else {
            throw .missingFile(candidates: candidates)
        }
        return found
    }

    /// The gzipped file `relativePath + ".gz"`, or the uncompressed `relativePath` when only that
    /// exists.
    ///
    /// - Throws: `DatasetError.missingFile` naming both.
    public func gzippedOrPlainFile(_ relativePath: String) throws(DatasetError) -> String {
        try existingFile([relativePath + ".gz", relativePath])
    }

    private static func workingDirectory() -> String {
        guard let pointer = getcwd(nil, 0) else { return "." }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func canonicalPath(_ path: String) -> String {
        guard let pointer = realpath(path, nil) else { return path }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
