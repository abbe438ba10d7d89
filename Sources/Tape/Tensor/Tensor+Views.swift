/// One axis of a slice, as in NumPy's `x[:, 1, 2:8:2]`.
public enum AxisSlice: Sendable, Hashable {
    /// The whole axis (`:`).
    case all
    /// One position; the axis is removed (`i`). Negative counts from the end.
    case index(Int)
    /// `start:end:step` with Python's rules: `nil` means the axis' start or end, negative values
    /// count from the end, out-of-range bounds are clamped. `step` must be positive.
    case range(start: Int?, end: Int?, step: Int)

    /// Every `step`-th element from the start (`::step`).
    public static func every(_ step: Int) -> AxisSlice { .range(start: nil, end: nil, step: step) }

    /// The positions `bounds.lowerBound ..< bounds.upperBound` (`a:b`).
    public static func range(_ bounds: Range<Int>) -> AxisSlice {
        .range(start: bounds.lowerBound, end: bounds.upperBound, step: 1)
    }
}

/// A slice resolved against a shape: a strided window per axis, then the `.index` axes removed.
public struct ResolvedSlice: Sendable, Hashable {
    /// The window: `counts[k]` elements on axis k from `starts[k]`, every `steps[k]`.
    public var starts: [Int], counts: [Int], steps: [Int]
    /// The axes sliced with `.index`, removed after the window is taken.
    public var removedAxes: [Int]

    /// Resolves `slices` against `shape`; missing trailing axes are `.all`.
    public init(_ slices: [AxisSlice], shape: [Int]) {
        precondition(slices.count <= shape.count, "slice: \(slices.count) axis slices for shape \(shape)")
        starts = []; counts = []; steps = []; removedAxes = []
        for axis in 0..<shape.count {
            let size = shape[axis]
            switch axis < slices.count ? slices[axis] : .all {
            case .all:
                starts.append(0); counts.append(size); steps.append(1)
            case .index(let i):
                let index = i < 0 ? i + size : i
                precondition(index >= 0 && index < size, "slice: index \(i) out of range for axis \(axis) of shape \(shape)")
                starts.append(index); counts.append(1); steps.append(1); removedAxes.append(axis)
            case .range(let start, let end, let step):
                precondition(step > 0, "slice: step must be positive, got \(step) on axis \(axis)")
                func clamp(_ bound: Int?, default value: Int) -> Int {
                    guard let bound else { return value }
                    return Swift.min(Swift.max(bound < 0 ? bound + size : bound, 0), size)
                }
                let lower = clamp(start, default: 0), upper = clamp(end, default: size)
                starts.append(lower); steps.append(step)
                counts.append(upper > lower ? (upper - lower + step - 1) / step : 0)
            }
        }
    }
}

extension Tensor {
    /// Reinterprets the elements in row-major order with a new shape (one entry may be -1).
    /// A view when the strides allow it, otherwise a contiguous copy.
    public func reshaped(to newShape: [Int]) -> Tensor {
        let target = Tensor.resolveShape(newShape, count: count, op: "reshape", from: shape)
        if let viewStrides = Tensor.viewStrides(from: shape, strides, to: target) {
            return Tensor(storage: storage, shape: target, strides: viewStrides, offset: offset)
        }
        let dense = contiguousCopy()
        return Tensor(storage: dense.storage, shape: target, strides: Tensor.contiguousStrides(for: target), offset: 0)
    }

    static func resolveShape(_ newShape: [Int], count: Int, op: StaticString, from shape: [Int]) -> [Int] {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        precondition(inferred.count <= 1 && newShape.allSatisfy { $0 >= -1 }, "\(op): bad target shape \(newShape)")
        var target = newShape
        if let axis = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            precondition(known > 0 && count % known == 0, "\(op): cannot infer -1 in \(newShape) from shape \(shape)")
            target[axis] = count / known
        }
        precondition(Tensor.elementCount(target) == count, "\(op): shape \(shape) (\(count) elements) cannot become \(newShape)")
        return target
    }

    /// Strides that view storage laid out as (`shape`, `strides`) with `newShape`, or nil when
    /// no view exists (PyTorch's `computeStride`: split and merge only contiguous chunks).
    static func viewStrides(from shape: [Int], _ strides: [Int], to newShape: [Int]) -> [Int]? {
        if elementCount(shape) <= 1 || shape.isEmpty { return contiguousStrides(for: newShape) }
        var newStrides = [Int](repeating: 0, count: newShape.count)
        var viewAxis = newShape.count - 1
        var chunkBaseStride = strides[strides.count - 1]
        var tensorCount = 1, viewCount = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            tensorCount *= shape[axis]
            if axis == 0 || (shape[axis - 1] != 1 && strides[axis - 1] != tensorCount * chunkBaseStride) {
                while viewAxis >= 0 && (viewCount < tensorCount || newShape[viewAxis] == 1) {
                    newStrides[viewAxis] = viewCount * chunkBaseStride
                    viewCount *= newShape[viewAxis]
                    viewAxis -= 1
                }
                if viewCount != tensorCount { return nil }
                if axis > 0 {
                    chunkBaseStride = strides[axis - 1]
                    tensorCount = 1
                    viewCount = 1
                }
            }
        }
        return viewAxis == -1 ? newStrides : nil
    }

    /// Reorders axes without copying: output axis `i` is input axis `permutation[i]`.
    public func transposed(permutation: [Int]) -> Tensor {
        let axes = permutation.map { normalizedAxis($0, op: "transpose") }
        precondition(axes.count == rank && Set(axes).count == rank,
                     "transpose: \(permutation) is not a permutation of the axes of shape \(shape)")
        return Tensor(storage: storage, shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: offset)
    }

    /// Swaps the last two axes (a matrix transpose, batched) without copying.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transpose: needs rank ≥ 2, got shape \(shape)")
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return transposed(permutation: permutation)
    }

    /// A strided window (zero-copy): `counts[k]` elements from `starts[k]` every `steps[k]`.
    public func window(starts: [Int], counts: [Int], steps: [Int]) -> Tensor {
        precondition(starts.count == rank && counts.count == rank && steps.count == rank, "window: rank mismatch for shape \(shape)")
        var position = offset
        for axis in 0..<rank {
            precondition(counts[axis] == 0 || (starts[axis] >= 0 && starts[axis] + (counts[axis] - 1) * steps[axis] < shape[axis]),
                         "window: axis \(axis) out of range for shape \(shape)")
            if counts[axis] > 0 { position += starts[axis] * strides[axis] }
        }
        return Tensor(storage: storage, shape: counts, strides: zip(strides, steps).map { $0 * $1 }, offset: position)
    }

    /// NumPy-style slicing without copying: `x[.all, .index(0), .every(2)]`. Missing trailing
    /// axes are taken whole.
    public subscript(_ slices: AxisSlice...) -> Tensor { sliced(slices) }

    /// The subscript's slicing with the slices as an array (a view).
    public func sliced(_ slices: [AxisSlice]) -> Tensor {
        let resolved = ResolvedSlice(slices, shape: shape)
        let window = window(starts: resolved.starts, counts: resolved.counts, steps: resolved.steps)
        return resolved.removedAxes.isEmpty ? window : window.squeezed(axes: resolved.removedAxes)
    }

    /// Repeats size-1 axes and adds leading axes with stride 0 (NumPy broadcasting), no copy.
    public func broadcasted(to target: [Int]) -> Tensor {
        precondition(target.count >= rank, "broadcast: cannot broadcast shape \(shape) to \(target)")
        let lead = target.count - rank
        var newStrides = [Int](repeating: 0, count: target.count)
        for axis in 0..<rank {
            if shape[axis] == target[lead + axis] {
                newStrides[lead + axis] = strides[axis]
            } else {
                precondition(shape[axis] == 1, "broadcast: cannot broadcast shape \(shape) to \(target)")
            }
        }
        return Tensor(storage: storage, shape: target, strides: newStrides, offset: offset)
    }

    /// Removes the given size-1 axes (all size-1 axes when `axes` is nil), no copy.
    public func squeezed(axes: [Int]? = nil) -> Tensor {
        let remove = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { normalizedAxis($0, op: "squeeze") })
        for axis in remove { precondition(shape[axis] == 1, "squeeze: axis \(axis) of shape \(shape) has size \(shape[axis])") }
        let keep = shape.indices.filter { !remove.contains($0) }
        return Tensor(storage: storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// Inserts a size-1 axis at `axis` (in the result's numbering; negative counts from the end).
    public func unsqueezed(axis: Int) -> Tensor {
        let position = axis < 0 ? axis + rank + 1 : axis
        precondition(position >= 0 && position <= rank, "unsqueeze: axis \(axis) out of range for shape \(shape)")
        var newShape = shape, newStrides = strides
        newShape.insert(1, at: position)
        newStrides.insert(position < rank ? strides[position] * shape[position] : 1, at: position)
        return Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
    }

    /// An axis in `0..<rank` from a possibly negative one; stops with a message naming `op`.
    public func normalizedAxis(_ axis: Int, op: StaticString) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "\(op): axis \(axis) out of range for shape \(shape)")
        return resolved
    }

    /// A zero tensor of `shape` with this tensor written into the strided window
    /// (`starts`, `steps`). The adjoint of `window`.
    public func embedded(in shape: [Int], starts: [Int], steps: [Int]) -> Tensor {
        let result = Tensor.zeros(shape)
        let target = result.window(starts: starts, counts: self.shape, steps: steps)
        let to = result.storage.base, from = storage.base
        forEachOffset(self.shape, target.strides, target.offset, strides, offset) { o, i in to[o] = from[i] }
        return result
    }

    /// Zero padding: `padding[k] = (before, after)` elements added on axis k.
    public func padded(_ padding: [(before: Int, after: Int)]) -> Tensor {
        precondition(padding.count == rank && padding.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "pad: \(padding.count) (before, after) pairs, non-negative, needed for shape \(shape)")
        let target = zip(shape, padding).map { $0 + $1.before + $1.after }
        return embedded(in: target, starts: padding.map(\.before), steps: Array(repeating: 1, count: rank))
    }

    /// Splits along `axis` into consecutive views of the given sizes (they must add up).
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let position = normalizedAxis(axis, op: "split")
        precondition(sizes.reduce(0, +) == shape[position] && sizes.allSatisfy { $0 >= 0 },
                     "split: sizes \(sizes) do not add up to \(shape[position]) on axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            var slices = [AxisSlice](repeating: .all, count: rank)
            slices[position] = .range(start ..< start + size)
            start += size
            return sliced(slices)
        }
    }
}

/// Joins tensors along an existing axis; all other axes must agree.
public func concatenated(_ parts: [Tensor], axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "concat: no tensors")
    let first = parts[0], position = first.normalizedAxis(axis, op: "concat")
    var shape = first.shape
    shape[position] = 0
    for part in parts {
        var other = part.shape
        precondition(other.count == first.rank, "concat: shapes \(parts.map(\.shape)) differ in rank")
        other[position] = 0
        var expected = first.shape
        expected[position] = 0
        precondition(other == expected, "concat: shapes \(parts.map(\.shape)) differ off axis \(axis)")
        shape[position] += part.shape[position]
    }
    let result = Tensor(uninitializedShape: shape)
    var start = 0
    for part in parts {
        var starts = [Int](repeating: 0, count: shape.count)
        starts[position] = start
        let target = result.window(starts: starts, counts: part.shape, steps: Array(repeating: 1, count: shape.count))
        let to = result.storage.base, from = part.storage.base
        forEachOffset(part.shape, target.strides, target.offset, part.strides, part.offset) { o, i in to[o] = from[i] }
        start += part.shape[position]
    }
    return result
}

/// Stacks same-shaped tensors along a new axis.
public func stacked(_ parts: [Tensor], axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "stack: no tensors")
    precondition(parts.allSatisfy { $0.shape == parts[0].shape }, "stack: shapes differ: \(parts.map(\.shape))")
    return concatenated(parts.map { $0.unsqueezed(axis: axis) }, axis: axis)
}
