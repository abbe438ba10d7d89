// Views and copies that move elements. Every pullback is the inverse movement:
// reshape ↔ reshape, permute ↔ inverse permute, broadcast ↔ sum, window ↔ embed, concat ↔ windows.

extension Variable {
    /// Row-major reshape (one entry may be -1); a view when strides allow.
    ///
    ///     ∂x = ∂y.reshaped(to: x.shape)
    public func reshaped(to newShape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("reshape", value.reshaped(to: newShape), [self], file: file, line: line) { dy, x, _ in
            [dy.reshaped(to: x[0].shape)]
        }
    }

    /// Reorders axes (a view): output axis i is input axis `permutation[i]`.
    ///
    ///     ∂x = ∂y.transposed(permutation: permutation⁻¹)
    public func transposed(permutation: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let axes = permutation.map { value.normalizedAxis($0, op: "transpose") }
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return Variable.record("transpose", value.transposed(permutation: axes), [self], file: file, line: line) { dy, _, _ in
            [dy.transposed(permutation: inverse)]
        }
    }

    /// Swaps the last two axes.
    public func transposed(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        precondition(rank >= 2, "transpose: needs rank ≥ 2, got shape \(shape)")
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return transposed(permutation: permutation, file: file, line: line)
    }

    /// NumPy broadcast to `target` (a stride-0 view).
    ///
    ///     ∂x = unbroadcast(∂y, x.shape)
    public func broadcasted(to target: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        if target == shape { return self }
        return Variable.record("broadcast", value.broadcasted(to: target), [self], file: file, line: line) { dy, x, _ in
            [dy.unbroadcasted(to: x[0].shape)]
        }
    }

    /// The one place broadcasting is undone: sums away leading axes and every axis where
    /// `target` has size 1 but this value does not.
    public func unbroadcasted(to target: [Int]) -> Variable {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "unbroadcast: shape \(shape) cannot reduce to \(target)")
        var axes = Array(0..<lead)
        for axis in 0..<target.count where target[axis] == 1 && shape[lead + axis] != 1 { axes.append(lead + axis) }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }

    /// Removes size-1 axes (all when nil).
    public func squeezed(axes: [Int]? = nil) -> Variable { reshaped(to: value.squeezed(axes: axes).shape) }

    /// Inserts a size-1 axis.
    public func unsqueezed(axis: Int) -> Variable { reshaped(to: value.unsqueezed(axis: axis).shape) }

    /// Flattens all axes from `startAxis` on into one.
    public func flattened(from startAxis: Int = 1) -> Variable {
        let start = startAxis < 0 ? startAxis + rank : startAxis
        precondition(start >= 0 && start <= rank, "flatten: start axis \(startAxis) for shape \(shape)")
        return reshaped(to: Array(shape.prefix(start)) + [shape.dropFirst(start).reduce(1, *)])
    }

    /// A strided window (a view): `counts[k]` elements from `starts[k]`, every `steps[k]`.
    ///
    ///     ∂x = ∂y embedded into zeros of x.shape at the same window
    public func window(starts: [Int], counts: [Int], steps: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("window", value.window(starts: starts, counts: counts, steps: steps), [self], file: file, line: line) { dy, x, _ in
            [dy.embedded(in: x[0].shape, starts: starts, steps: steps)]
        }
    }

    /// This value written into a zero tensor of `target` at a strided window.
    ///
    ///     ∂x = ∂y.window(starts, counts: x.shape, steps)
    public func embedded(in target: [Int], starts: [Int], steps: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("embed", value.embedded(in: target, starts: starts, steps: steps), [self], file: file, line: line) { dy, x, _ in
            [dy.window(starts: starts, counts: x[0].shape, steps: steps)]
        }
    }

    /// NumPy-style slicing, `x[.all, .index(2), .every(2)]` (a view).
    public subscript(_ slices: AxisSlice...) -> Variable { sliced(slices) }

    /// The subscript's slicing with the slices as an array: a window, then the `.index` axes removed.
    public func sliced(_ slices: [AxisSlice], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let resolved = ResolvedSlice(slices, shape: shape)
        let view = window(starts: resolved.starts, counts: resolved.counts, steps: resolved.steps, file: file, line: line)
        return resolved.removedAxes.isEmpty ? view : view.squeezed(axes: resolved.removedAxes)
    }

    /// Constant zero padding: `(before, after)` elements per axis.
    public func padded(_ padding: [(before: Int, after: Int)], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        precondition(padding.count == rank && padding.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "pad: \(padding.count) non-negative (before, after) pairs needed for shape \(shape)")
        let target = zip(shape, padding).map { $0 + $1.before + $1.after }
        return embedded(in: target, starts: padding.map(\.before), steps: Array(repeating: 1, count: rank), file: file, line: line)
    }

    /// Splits along `axis` into consecutive views of the given sizes.
    public func split(sizes: [Int], axis: Int) -> [Variable] {
        let position = value.normalizedAxis(axis, op: "split")
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

    /// Elements picked by row-major flat index into this value, shaped `shape`.
    ///
    ///     yᵢ = x.flat[indexᵢ],  ∂x = scatterAdd(∂y, indices, x.shape)
    public func gathered(flatIndices indices: [Int], shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("gather", value.gathered(flatIndices: indices, shape: shape), [self], file: file, line: line) { dy, x, _ in
            [dy.scatterAdded(flatIndices: indices, shape: x[0].shape)]
        }
    }

    /// Zeros of `shape` with this value's elements added at flat indices: the adjoint of gather.
    ///
    ///     ∂x = gather(∂y, indices, x.shape)
    public func scatterAdded(flatIndices indices: [Int], shape: [Int], file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("scatterAdd", value.scatterAdded(flatIndices: indices, shape: shape), [self], file: file, line: line) { dy, x, _ in
            [dy.gathered(flatIndices: indices, shape: x[0].shape)]
        }
    }
}

// Joining several values has no principal operand: free functions, like the Tensor kernels.

/// Joins values along an existing axis.
///
///     ∂xᵢ = the i-th block of ∂y along `axis`
public func concatenated(_ parts: [Variable], axis: Int, file: StaticString = #fileID, line: UInt = #line) -> Variable {
    let joined = concatenated(parts.map(\.value), axis: axis)
    let position = joined.normalizedAxis(axis, op: "concat")
    return Variable.record("concat", joined, parts, file: file, line: line) { dy, x, _ in
        var start = 0
        return x.map { part in
            defer { start += part.shape[position] }
            var starts = [Int](repeating: 0, count: dy.rank)
            starts[position] = start
            let begin = starts
            return part.gradient { dy.window(starts: begin, counts: part.shape, steps: Array(repeating: 1, count: dy.rank)) }
        }
    }
}

/// Stacks same-shaped values along a new axis.
public func stacked(_ parts: [Variable], axis: Int) -> Variable {
    concatenated(parts.map { $0.unsqueezed(axis: axis) }, axis: axis)
}
