/// A fixed-size block of `Float`s shared by a tensor and all of its views.
///
/// A class so that views alias one allocation; `Tensor` gives it value semantics by copying on
/// write when the block is shared (`isKnownUniquelyReferenced`).
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    /// A block of `count` floats whose contents are not initialised.
    init(uninitializedCount count: Int) {
        self.count = count
        base = .allocate(capacity: Swift.max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    deinit { base.deallocate() }
}
