/// Every error the `SafeTensors` module throws.
///
/// The description names the file (when one was involved), the tensor (when the problem
/// belongs to one) and the problem, for example:
/// `safetensors file 'model.safetensors', tensor 'fc.weight': shape [4, 3] needs 48 bytes but data_offsets [0, 40] span 40`.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The broad category of a failure.
    public enum Kind: Equatable, Sendable {
        /// A file system call failed (open, read, write, fsync, rename, ...).
        case fileSystem
        /// The bytes are not a valid safetensors file.
        case invalidFormat
        /// A tensor was built from inconsistent parts, or a file was given contents that
        /// cannot be written.
        case invalidTensor
        /// A tensor's elements cannot be converted to the requested Swift type.
        case unsupportedConversion
        /// A file's tensors differ from the ones a caller expected.
        case unexpectedContents
    }

    /// The broad category of the failure.
    public let kind: Kind
    /// The file being read or written, if any.
    public let path: String?
    /// The tensor the problem belongs to, if any.
    public let tensorName: String?
    /// What went wrong, in words.
    public let problem: String

    /// Creates an error. Errors from in-memory parsing leave `path` empty; the file-reading
    /// entry points fill it in with ``inFile(_:)``.
    public init(_ kind: Kind, path: String? = nil, tensorName: String? = nil, _ problem: String) {
        self.kind = kind
        self.path = path
        self.tensorName = tensorName
        self.problem = problem
    }

    /// The same error, attributed to the file at `path` (unless it already names a file).
    public func inFile(_ path: String) -> SafeTensorsError {
        SafeTensorsError(kind, path: self.path ?? path, tensorName: tensorName, problem)
    }

    /// The same error, attributed to the tensor `name` (unless it already names a tensor).
    func forTensor(_ name: String) -> SafeTensorsError {
        SafeTensorsError(kind, path: path, tensorName: tensorName ?? name, problem)
    }

    /// `safetensors file '<path>', tensor '<name>': <problem>`, leaving out the parts that don't apply.
    public var description: String {
        var context: [String] = []
        if let path { context.append("safetensors file '\(path)'") }
        if let tensorName { context.append("tensor '\(tensorName)'") }
        if context.isEmpty { context.append("safetensors") }
        return context.joined(separator: ", ") + ": " + problem
    }
}
