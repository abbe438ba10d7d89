/// Window geometry of a 2-D pooling on [N, C, H, W] (no ceil mode, as PyTorch's default).
public struct Pooling2D: Sendable, Hashable {
    /// [height, width] each: the window size, the step between windows, the zeros added on each side.
    public var kernel: [Int], stride: [Int], padding: [Int]

    /// The stride defaults to the kernel (non-overlapping windows); padding is at most half the kernel.
    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        let step = stride ?? kernel
        precondition(kernel.0 > 0 && kernel.1 > 0 && step.0 > 0 && step.1 > 0, "pool2d: kernel and stride must be positive")
        precondition(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
                     "pool2d: padding must be between 0 and half the kernel, got \(padding) for kernel \(kernel)")
        self.kernel = [kernel.0, kernel.1]; self.stride = [step.0, step.1]; self.padding = [padding.0, padding.1]
    }

    /// [N, C, Hₒ, Wₒ] for input [N, C, H, W], with Hₒ = ⌊(H + 2·padH − kH) / strideH⌋ + 1.
    public func outputShape(input: [Int]) -> [Int] {
        precondition(input.count == 4, "pool2d: input must be [N, C, H, W], got \(input)")
        let height = (input[2] + 2 * padding[0] - kernel[0]) / stride[0] + 1
        let width = (input[3] + 2 * padding[1] - kernel[1]) / stride[1] + 1
        precondition(height > 0 && width > 0, "pool2d: kernel \(kernel) larger than padded input \(input)")
        return [input[0], input[1], height, width]
    }

    /// Calls `body(plane, outIndex, y0, y1, x0, x1, divisorWindow)` for every output position with
    /// its window clipped to the (unpadded) input; the last argument is the padded window size.
    func forEachWindow(input: [Int], _ body: (Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let output = outputShape(input: input)
        let (h, w, ho, wo) = (input[2], input[3], output[2], output[3])
        var index = 0
        for plane in 0..<(input[0] * input[1]) {
            for oy in 0..<ho {
                let top = oy * stride[0] - padding[0]
                let y0 = Swift.max(top, 0), y1 = Swift.min(top + kernel[0], h)
                let paddedRows = Swift.min(top + kernel[0], h + padding[0]) - top
                for ox in 0..<wo {
                    let left = ox * stride[1] - padding[1]
                    let x0 = Swift.max(left, 0), x1 = Swift.min(left + kernel[1], w)
                    let paddedColumns = Swift.min(left + kernel[1], w + padding[1]) - left
                    body(plane, index, y0, y1, x0, x1, paddedRows * paddedColumns)
                    index += 1
                }
            }
        }
    }
}

extension Tensor {
    /// Elements picked by row-major flat index: result[i] = self.flat[indices[i]], shaped `shape`.
    public func gathered(flatIndices indices: [Int], shape: [Int]) -> Tensor {
        precondition(indices.count == Tensor.elementCount(shape), "gather: \(indices.count) indices for shape \(shape)")
        let source = contiguous(), base = source.storage.base + source.offset
        let result = Tensor(uninitializedShape: shape)
        let to = result.storage.base, total = count
        for (i, index) in indices.enumerated() {
            precondition(index >= 0 && index < total, "gather: index \(index) out of range for \(total) elements")
            to[i] = base[index]
        }
        return result
    }

    /// The adjoint of `gathered`: a zero tensor of `shape` with self's elements added at the
    /// flat indices (repeated indices accumulate).
    public func scatterAdded(flatIndices indices: [Int], shape: [Int]) -> Tensor {
        precondition(indices.count == count, "scatterAdd: \(indices.count) indices for \(count) elements")
        let source = contiguous(), base = source.storage.base + source.offset
        let result = Tensor.zeros(shape)
        let to = result.storage.base, total = result.count
        for (i, index) in indices.enumerated() {
            precondition(index >= 0 && index < total, "scatterAdd: index \(index) out of range for shape \(shape)")
            to[index] += base[i]
        }
        return result
    }
}

/// Average pooling: each output is the mean of its window; padded positions count as zeros
/// when `countIncludingPadding` (PyTorch's default), else only real inputs are averaged.
public func avgPool2d(_ input: Tensor, geometry: Pooling2D, countIncludingPadding: Bool = true) -> Tensor {
    let x = input.contiguous()
    let result = Tensor(uninitializedShape: geometry.outputShape(input: x.shape))
    let (px, py) = (x.storage.base + x.offset, result.storage.base)
    let (h, w) = (x.shape[2], x.shape[3])
    geometry.forEachWindow(input: x.shape) { plane, index, y0, y1, x0, x1, padded in
        var total: Float = 0
        for y in y0..<y1 { for xx in x0..<x1 { total += px[(plane * h + y) * w + xx] } }
        let divisor = countIncludingPadding ? padded : (y1 - y0) * (x1 - x0)
        py[index] = total / Float(divisor)
    }
    return result
}

/// The adjoint of `avgPool2d`: spreads each output gradient evenly over its window.
public func avgPool2dBackward(_ outputGradient: Tensor, inputShape: [Int], geometry: Pooling2D,
                                     countIncludingPadding: Bool = true) -> Tensor {
    precondition(outputGradient.shape == geometry.outputShape(input: inputShape),
                 "avgPool2dBackward: gradient \(outputGradient.shape) does not match input \(inputShape)")
    let dy = outputGradient.contiguous()
    let result = Tensor.zeros(inputShape)
    let (pdy, pdx) = (dy.storage.base + dy.offset, result.storage.base)
    let (h, w) = (inputShape[2], inputShape[3])
    geometry.forEachWindow(input: inputShape) { plane, index, y0, y1, x0, x1, padded in
        let divisor = countIncludingPadding ? padded : (y1 - y0) * (x1 - x0)
        let share = pdy[index] / Float(divisor)
        for y in y0..<y1 { for xx in x0..<x1 { pdx[(plane * h + y) * w + xx] += share } }
    }
    return result
}

/// For max pooling: the row-major flat index into `input` of each window's maximum (the first
/// one on ties; NaN wins, as in PyTorch). Padding never wins.
public func maxPool2dIndices(_ input: Tensor, geometry: Pooling2D) -> [Int] {
    let x = input.contiguous()
    let px = x.storage.base + x.offset
    let (h, w) = (x.shape[2], x.shape[3])
    var indices = [Int](repeating: 0, count: Tensor.elementCount(geometry.outputShape(input: x.shape)))
    geometry.forEachWindow(input: x.shape) { plane, index, y0, y1, x0, x1, _ in
        var best = (plane * h + y0) * w + x0
        for y in y0..<y1 { for xx in x0..<x1 {
            let candidate = (plane * h + y) * w + xx
            if px[candidate] > px[best] || px[candidate].isNaN && !px[best].isNaN { best = candidate }
        } }
        indices[index] = best
    }
    return indices
}
