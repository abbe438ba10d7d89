/// Everything that can go wrong while finding, reading or parsing a data set.
///
/// Every case names the file (or directory) involved, and `description` reads as one complete
/// sentence, so callers can print the error as it is.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// None of the candidate paths exists. The first candidate is the preferred name; the others
    /// are accepted alternatives (for example the same file without `.gz`).
    case missingFile(candidates: [String])
    /// The file exists but cannot be read (permissions, I/O error, a directory in its place, ...).
    case unreadableFile(path: String, reason: String)
    /// The file starts like gzip but does not decompress.
    case corruptGzip(path: String, reason: String)
    /// The (decompressed) contents break the file format.
    case malformedFile(path: String, problem: String)
    /// An images file and its labels file disagree about the number of records.
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)
    /// The file's SHA-256 differs from the published one.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// Checksum verification was requested for a file with no published checksum.
    case checksumUnknown(path: String)
    /// A data directory was named (explicitly or through `TAPE_DATA`) but is not a directory.
    case missingDirectory(path: String, origin: String)
    /// No data directory was given and the conventional fallback does not exist.
    case dataDirectoryNotFound(fallback: String)

    public var description: String {
        switch self {
        case .missingFile(let candidates):
            let alternatives = candidates.dropFirst().map { " or \($0)" }.joined()
            return "missing file: expected \(candidates.first ?? "(no path)")\(alternatives)"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read the file: \(reason)"
        case .corruptGzip(let path, let reason):
            return "\(path): corrupt gzip data: \(reason)"
        case .malformedFile(let path, let problem):
            return "\(path): \(problem)"
        case .countMismatch(let imagesPath, let imageCount, let labelsPath, let labelCount):
            return "\(imagesPath) holds \(imageCount) image\(imageCount == 1 ? "" : "s") but \(labelsPath) holds \(labelCount) label\(labelCount == 1 ? "" : "s")"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): SHA-256 is \(actual), expected \(expected) (the file is damaged or not the published one)"
        case .checksumUnknown(let path):
            return "\(path): no published SHA-256 is known for this file, so it cannot be verified"
        case .missingDirectory(let path, let origin):
            return "data directory \(path) (\(origin)) does not exist or is not a directory"
        case .dataDirectoryNotFound(let fallback):
            return "no data directory found. Name one in any of three ways: pass --data DIR; "
                + "set the environment variable \(DataDirectory.environmentVariable)=DIR; or run from a "
                + "directory where \(DataDirectory.relativeFallback) exists (looked for \(fallback))"
        }
    }
}
