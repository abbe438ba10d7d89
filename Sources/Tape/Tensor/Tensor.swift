/// An n-dimensional array of `Float` with shape, strides and offset over shared storage.
///
/// Element `[i₀, i₁, …]` lives at `storage[offset + Σ iₖ·strides[k]]`. Views (reshape, transpose,
/// slice, broadcast) only change `shape`, `strides` and `offset`, so they copy nothing; a stride of
/// 0 repeats an element (broadcasting). `Tensor` is a value: mutating one copy never changes
/// another (copy on write). Every operation accepts non-contiguous tensors.
///
/// `Tensor` is `Sendable`, as `Array` is: send tensors freely between tasks and actors. Its
/// only reference is the storage block (see `TensorStorage` for why sharing one is safe).
public struct Tensor: Sendable {
    /// The shared element block. Internal: writes must go through `withUnsafeMutableBufferPointer`
    /// (or the mutating kernels), which make it unique first, so no other value sees them.
    var storage: TensorStorage
    /// The size of each axis.
    public internal(set) var shape: [Int]
    /// Storage elements between neighbours along each axis (0 on broadcast axes).
    public internal(set) var strides: [Int]
    /// The storage index of the first element.
    public internal(set) var offset: Int

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A contiguous tensor whose elements are not initialised: every kernel writes all of them.
    init(uninitializedShape shape: [Int]) {
        let count = Tensor.elementCount(shape)
        self.init(storage: TensorStorage.uninitialized(count: count), shape: shape,
                  strides: Tensor.contiguousStrides(for: shape), offset: 0)
    }

    /// A contiguous tensor shaped like `model` whose elements are not initialised. It shares
    /// `model`'s shape and, when they are the row-major ones, strides arrays (no allocation).
    init(uninitializedLike model: Tensor) {
        let rowMajor = Tensor.areRowMajorStrides(model.strides, for: model.shape)
        self.init(storage: TensorStorage.uninitialized(count: model.count), shape: model.shape,
                  strides: rowMajor ? model.strides : Tensor.contiguousStrides(for: model.shape), offset: 0)
    }

    /// A tensor with the given row-major scalars.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative dimension in \(shape)")
        precondition(Tensor.elementCount(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(Tensor.elementCount(shape)) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { source in
            storage.base.update(from: source.baseAddress!, count: scalars.count)
        }
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:repeating:): negative dimension in \(shape)")
        let count = Tensor.elementCount(shape)
        self.init(storage: TensorStorage.repeating(value, count: count), shape: shape,
                  strides: Tensor.contiguousStrides(for: shape), offset: 0)
    }

    /// A rank-0 tensor holding one scalar.
    public init(_ scalar: Float) { self.init(shape: [], repeating: scalar) }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements (1 for rank 0).
    public var count: Int { Tensor.elementCount(shape) }

    /// True when the elements are laid out densely in row-major order (size-1 axes ignored).
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The elements in row-major order.
    public var scalars: [Float] {
        let source = contiguous()
        return Array(UnsafeBufferPointer(start: source.storage.base + source.offset, count: count))
    }

    /// The only element of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.base[offset]
    }

    /// The element at `indices` (one per axis; negative indices count from the end).
    public subscript(element indices: [Int]) -> Float {
        get { storage.base[storageIndex(indices)] }
        set {
            makeUniquelyReferenced()
            storage.base[storageIndex(indices)] = newValue
        }
    }

    func storageIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "element: \(indices.count) indices for shape \(shape)")
        var position = offset
        for axis in 0..<rank {
            let index = indices[axis] < 0 ? indices[axis] + shape[axis] : indices[axis]
            precondition(index >= 0 && index < shape[axis], "element: index \(indices) out of range for shape \(shape)")
            position += index * strides[axis]
        }
        return position
    }

    /// This tensor with contiguous row-major storage: itself when already contiguous, else a copy.
    public func contiguous() -> Tensor { isContiguous ? self : contiguousCopy() }

    /// Copies the elements of `source` (same shape) into this tensor's storage.
    mutating func assign(from source: Tensor) {
        precondition(source.shape == shape, "assign: shape \(source.shape) into \(shape)")
        makeUniquelyReferenced()
        let to = storage.base, from = source.storage.base
        forEachOffset(shape, strides, offset, source.strides, source.offset) { o, i in to[o] = from[i] }
    }

    /// Makes the storage unique (copying if shared), so writes cannot be seen by other values.
    /// Broadcast (stride-0) layouts are materialised, since their elements alias.
    mutating func makeUniquelyReferenced() {
        if storage.isUniquelyReferenced() && !strides.contains(0) { return }
        let copy = Tensor(uninitializedShape: shape)
        let to = copy.storage.base, from = storage.base
        forEachOffset(shape, copy.strides, 0, strides, offset) { o, i in to[o] = from[i] }
        self = copy
    }

    /// Calls the given closure with a pointer to the tensor's elements, in row-major (logical)
    /// order, for reading.
    ///
    /// The buffer holds exactly `count` elements. A contiguous tensor lends its own storage; a
    /// strided view (a transpose, a slice with steps, a broadcast) is first copied into a
    /// contiguous temporary, so the buffer always lists the elements in logical order.
    ///
    /// The pointer is valid only for the duration of the call: do not store or return it.
    ///
    /// - Parameter body: A closure with an `UnsafeBufferPointer` over the elements. If `body`
    ///   has a return value, that value is also used as the return value of this method.
    /// - Returns: The return value, if any, of `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let source = contiguous()
        return try withExtendedLifetime(source) {
            try body(UnsafeBufferPointer(start: source.storage.base + source.offset, count: count))
        }
    }

    /// Calls the given closure with a pointer to the tensor's elements, in row-major (logical)
    /// order, for reading and writing.
    ///
    /// Before `body` runs, the tensor is made contiguous (strided and broadcast views are copied)
    /// and its storage uniquely referenced (copied if another tensor shares it), so writes change
    /// this tensor only: copies made earlier, and views taken from it, keep their values (copy on
    /// write). The buffer holds exactly `count` elements.
    ///
    /// The pointer is valid only for the duration of the call: do not store or return it.
    ///
    /// - Parameter body: A closure with an `UnsafeMutableBufferPointer` over the elements. If
    ///   `body` has a return value, that value is also used as the return value of this method.
    /// - Returns: The return value, if any, of `body`.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isContiguous || strides.contains(0) { self = contiguousCopy() }
        makeUniquelyReferenced()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    func contiguousCopy() -> Tensor {
        var result = Tensor(uninitializedShape: shape)
        result.assign(from: self)
        return result
    }

    /// The number of elements of a shape.
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides for a shape: the last axis has stride 1.
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= Swift.max(shape[axis], 1)
        }
        return strides
    }

    /// True when `strides` equal `contiguousStrides(for: shape)`.
    static func areRowMajorStrides(_ strides: [Int], for shape: [Int]) -> Bool {
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            if strides[axis] != running { return false }
            running *= Swift.max(shape[axis], 1)
        }
        return true
    }

    /// A read-only tensor of zeros of any shape without storage of its own: one shared zero with
    /// all strides 0. Stands in for values a pullback does not read.
    static func zerosStandIn(_ shape: [Int]) -> Tensor {
        Tensor(storage: sharedZero, shape: shape,
               strides: shape.count < zeroStrides.count ? zeroStrides[shape.count] : [Int](repeating: 0, count: shape.count), offset: 0)
    }

    private static let sharedZero = TensorStorage.repeating(0, count: 1)
    private static let zeroStrides = (0...8).map { [Int](repeating: 0, count: $0) }

    /// True when the two tensors view the same storage block.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}

extension Tensor: Equatable {
    /// Same shape and the same elements (views and copies compare equal).
    public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.scalars == b.scalars }
}
