// Batch-normalisation kernels on plain tensors (no tape): per-channel statistics, the
// normalisation loop and the pullback's loops, for the `batchNorm` primitive in
// Ops/Normalization.swift. Per-channel sums also serve `Tensor.sum` over every axis but 1.

/// [N, C, L…] viewed as N blocks of C contiguous rows of length L, with per-channel loops.
struct ChannelLayout {
    let batch: Int, channels: Int, length: Int
    var count: Int { batch * length }

    init(_ shape: [Int], op: StaticString) {
        precondition(shape.count >= 2, "\(op): input needs a channel axis 1, got shape \(shape)")
        batch = shape[0]
        channels = shape[1]
        length = shape.dropFirst(2).reduce(1, *)
    }

    /// Calls `body(n, channel, row)` for every contiguous row of `tensor` (contiguous copy if
    /// needed), in parallel over n: `body` may only write what belongs to its own n.
    func forEachRow(_ tensor: Tensor, _ body: (Int, Int, UnsafeBufferPointer<Float>) -> Void) {
        tensor.withUnsafeBufferPointer { buffer in
            parallelFor(batch) { n in
                for c in 0..<channels {
                    body(n, c, UnsafeBufferPointer(rebasing: buffer[((n * channels + c) * length)..<((n * channels + c + 1) * length)]))
                }
            }
        }
    }

    /// Sums the two values `rowValues(n, c, row)` over every row per channel, in Double. Each
    /// row's values land in their own slot and the slots are added in order of n, so the result
    /// does not depend on the thread count.
    func channelTotals(_ tensor: Tensor, _ rowValues: (Int, Int, UnsafeBufferPointer<Float>) -> (Double, Double))
        -> (first: [Double], second: [Double]) {
        var slots = [(Double, Double)](repeating: (0, 0), count: batch * channels)
        slots.withUnsafeMutableBufferPointer { slots in
            forEachRow(tensor) { n, c, row in slots[n * channels + c] = rowValues(n, c, row) }
        }
        var first = [Double](repeating: 0, count: channels), second = first
        for n in 0..<batch {
            for c in 0..<channels {
                first[c] += slots[n * channels + c].0
                second[c] += slots[n * channels + c].1
            }
        }
        return (first, second)
    }

    /// Σ over every axis but 1, per channel, in Double.
    func channelSums(_ x: Tensor) -> [Double] { channelTotals(x) { _, _, row in (sum(row), 0) }.first }

    /// Per-channel mean and biased variance, in Double, in one pass: the sums of x − k and
    /// (x − k)² with k the channel's first element, so that no large mean cancels
    /// (σ² = Σ(x − k)²/N − (Σ(x − k)/N)²).
    func meanAndVariance(_ x: Tensor) -> (mean: [Double], variance: [Double]) {
        let dense = x.contiguous()
        let shifts = (0..<channels).map { dense.storage.base[dense.offset + $0 * length] }
        let (sums, squares) = channelTotals(dense) { _, c, row in sumAndSumOfSquares(row, center: shifts[c]) }
        let count = Double(count)
        let shiftedMeans = sums.map { $0 / count }
        return ((0..<channels).map { Double(shifts[$0]) + shiftedMeans[$0] },
                (0..<channels).map { Swift.max(0, squares[$0] / count - shiftedMeans[$0] * shiftedMeans[$0]) })
    }

    func normalize(_ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor, bias: Tensor) -> Tensor {
        var output = Tensor(uninitializedShape: x.shape)
        let gamma = weight.scalars, beta = bias.scalars
        output.withUnsafeMutableBufferPointer { out in
            forEachRow(x) { n, c, row in
                let scale = gamma[c] * Float(invStd[c]), shift = beta[c] - Float(mean[c]) * scale
                let start = (n * channels + c) * length
                for (i, value) in row.enumerated() { out[start + i] = value * scale + shift }
            }
        }
        return output
    }

    /// ∂x (when needed), ∂γ and ∂β from the formulas above.
    func pullback(_ dy: Tensor, _ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor,
                  needInput: Bool) -> (Tensor?, Tensor, Tensor) {
        let dyDense = dy.contiguous(), xDense = x.contiguous()
        var sumDy: [Double] = [], sumDyCentered: [Double] = []
        dyDense.withUnsafeBufferPointer { g in
            func gradientRow(_ n: Int, _ c: Int) -> UnsafeBufferPointer<Float> {
                UnsafeBufferPointer(rebasing: g[((n * channels + c) * length)..<((n * channels + c + 1) * length)])
            }
            (sumDy, sumDyCentered) = channelTotals(xDense) { n, c, row in
                sumAndSumOfProducts(gradientRow(n, c), row, center: Float(mean[c]))
            }
        }
        let sumDyNormalized = (0..<channels).map { sumDyCentered[$0] * invStd[$0] }
        let dWeight = Tensor(shape: [channels], scalars: sumDyNormalized.map(Float.init))
        let dBias = Tensor(shape: [channels], scalars: sumDy.map(Float.init))
        guard needInput else { return (nil, dWeight, dBias) }
        let gamma = weight.scalars
        var dx = Tensor(uninitializedShape: x.shape)
        dyDense.withUnsafeBufferPointer { g in
            dx.withUnsafeMutableBufferPointer { out in
                forEachRow(xDense) { n, c, row in
                    let k = gamma[c] * Float(invStd[c]), count = Double(count)
                    let meanDy = Float(sumDy[c] / count), meanDyNormalized = Float(sumDyNormalized[c] / count)
                    let m = Float(mean[c]), s = Float(invStd[c])
                    let start = (n * channels + c) * length
                    for (i, value) in row.enumerated() {
                        out[start + i] = k * (g[start + i] - meanDy - (value - m) * s * meanDyNormalized)
                    }
                }
            }
        }
        return (dx, dWeight, dBias)
    }
}

/// (Σ (xᵢ − center), Σ (xᵢ − center)²) in one pass.
private func sumAndSumOfSquares(_ x: UnsafeBufferPointer<Float>, center: Float) -> (Double, Double) {
    sumsAndSumOfProducts(x, x, center: center, centerBoth: true)
}

/// (Σ gᵢ, Σ gᵢ·(xᵢ − center)) in one pass.
private func sumAndSumOfProducts(_ g: UnsafeBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, center: Float) -> (Double, Double) {
    sumsAndSumOfProducts(g, x, center: center, centerBoth: false)
}

/// (Σ (gᵢ − c_g), Σ (gᵢ − c_g)·(xᵢ − center)) with c_g = center when `centerBoth`, else 0,
/// with eight Float lanes flushed into Double every 128 elements: vectorisable, and accurate for
/// long rows.
private func sumsAndSumOfProducts(_ g: UnsafeBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, center: Float,
                                  centerBoth: Bool) -> (Double, Double) {
    let gCenter = centerBoth ? center : 0
    var totalG = 0.0, total = 0.0
    var start = 0
    while start < x.count {
        let end = Swift.min(start + 128, x.count)
        var gLanes = SIMD8<Float>(), lanes = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            var gs = SIMD8<Float>(), xs = SIMD8<Float>()
            for lane in 0..<8 { gs[lane] = g[i + lane] - gCenter; xs[lane] = x[i + lane] - center }
            gLanes += gs
            lanes += gs * xs
            i += 8
        }
        var gTail: Float = 0, tail: Float = 0
        while i < end { gTail += g[i] - gCenter; tail += (g[i] - gCenter) * (x[i] - center); i += 1 }
        totalG += Double(gLanes.sum()) + Double(gTail)
        total += Double(lanes.sum()) + Double(tail)
        start = end
    }
    return (totalG, total)
}

/// Σ of a row with eight independent accumulators (vectorises; more accurate than one).
private func sum(_ row: UnsafeBufferPointer<Float>) -> Double {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= row.count {
        lanes += SIMD8<Float>(row[i], row[i + 1], row[i + 2], row[i + 3], row[i + 4], row[i + 5], row[i + 6], row[i + 7])
        i += 8
    }
    var total = Double(lanes.sum())
    while i < row.count { total += Double(row[i]); i += 1 }
    return total
}
