// Reductions over axes. Sums accumulate in Double so long reductions (a BatchNorm over
// 64·28·28 elements) keep Float32 accuracy.

extension Tensor {
    /// Sorted, deduplicated, non-negative axes; all axes when `axes` is nil.
    func reductionAxes(_ axes: [Int]?, op: StaticString) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(axes.map { normalizedAxis($0, op: op) })).sorted()
    }

    /// The shape after reducing `axes` to size 1.
    func keptShape(reducing axes: [Int]) -> [Int] {
        var kept = shape
        for axis in axes { kept[axis] = 1 }
        return kept
    }

    /// Sum over `axes` (all when nil); reduced axes are kept with size 1 when
    /// `keepingDimensions`, else removed.
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = reductionAxes(axes, op: "sum")
        let kept = keptShape(reducing: reduced)
        if rank >= 2 && reduced == [0] + Array(2..<rank) && isContiguous {
            // Per-channel sums of [N, C, …] (bias gradients): contiguous rows, vectorised.
            let result = Tensor(shape: kept, scalars: ChannelLayout(shape, op: "sum").channelSums(self).map { Float($0) })
            return keepingDimensions ? result : result.squeezed(axes: reduced)
        }
        var accumulator = [Double](repeating: 0, count: Tensor.elementCount(kept))
        var outStrides = Tensor.contiguousStrides(for: kept)
        for axis in reduced { outStrides[axis] = 0 }
        let from = storage.base
        accumulator.withUnsafeMutableBufferPointer { acc in
            forEachOffset(shape, outStrides, 0, strides, offset) { o, i in acc[o] += Double(from[i]) }
        }
        let result = Tensor(shape: kept, scalars: accumulator.map { Float($0) })
        return keepingDimensions ? result : result.squeezed(axes: reduced)
    }

    /// Mean over `axes` (all when nil).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = reductionAxes(axes, op: "mean")
        let n = reduced.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: reduced, keepingDimensions: keepingDimensions) * (1 / Float(n))
    }

    /// Maximum over `axes` (all when nil). NaN propagates.
    public func max(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = reductionAxes(axes, op: "max")
        precondition(reduced.allSatisfy { shape[$0] > 0 }, "max: empty axis in shape \(shape)")
        let kept = keptShape(reducing: reduced)
        let result = Tensor(shape: kept, repeating: -.infinity)
        var outStrides = Tensor.contiguousStrides(for: kept)
        for axis in reduced { outStrides[axis] = 0 }
        let to = result.storage.base, from = storage.base
        forEachOffset(shape, outStrides, 0, strides, offset) { o, i in
            let x = from[i]
            if x > to[o] || x.isNaN { to[o] = x }
        }
        return keepingDimensions ? result : result.squeezed(axes: reduced)
    }
}
