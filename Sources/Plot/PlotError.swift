import FileSupport

/// A failure to write a chart or figure to a file. The description names the file and the
/// system's reason, e.g. "cannot write plot to 'runs/loss.svg': cannot create temporary file
/// 'runs/loss.svg.tmp-…': No such file or directory".
public struct PlotError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path that was to be written.
    public let path: String
    /// What went wrong, including the system's error message.
    public let reason: String

    public var description: String {
        "cannot write plot to '\(path)': \(reason)"
    }
}

extension PlotError {
    /// The plot's error for a failed atomic write.
    init(_ error: AtomicWriteError) { self.init(path: error.path, reason: error.problem) }
}
