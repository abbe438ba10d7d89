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

    /// γ·x̂ + β, in one pass.
    func normalize(_ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor, bias: Tensor) -> Tensor {
        normalizeRows(x, mean: mean, invStd: invStd, weight: weight, bias: bias, Normalized())
    }

    /// relu(γ·x̂ + β + r) (r omitted when nil), in one pass: the same Float operations, in the
    /// same order, as `normalize`, then an addition, then ReLU.
    func normalizeReLU(_ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor, bias: Tensor, adding residual: Tensor?) -> Tensor {
        guard let residual else { return normalizeRows(x, mean: mean, invStd: invStd, weight: weight, bias: bias, RectifiedNormalized()) }
        return residual.withUnsafeBufferPointer { r in
            normalizeRows(x, mean: mean, invStd: invStd, weight: weight, bias: bias, RectifiedNormalizedSum(residual: r))
        }
    }

    /// out[i] = output(x[i]·scale + shift, i), i the flat (row-major) index, with scale = γ/√(σ² + ε)
    /// and shift = β − μ·scale per channel.
    private func normalizeRows<Output: NormalizedOutput>(_ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor, bias: Tensor,
                                                         _ output: Output) -> Tensor {
        var result = Tensor(uninitializedShape: x.shape)
        let gamma = weight.scalars, beta = bias.scalars
        result.withUnsafeMutableBufferPointer { out in
            forEachRow(x) { n, c, row in
                let scale = gamma[c] * Float(invStd[c]), shift = beta[c] - Float(mean[c]) * scale
                let start = (n * channels + c) * length
                for (i, value) in row.enumerated() { out[start + i] = output(value * scale + shift, start + i) }
            }
        }
        return result
    }

    /// ∂x (when needed), ∂γ and ∂β from the formulas above, in two passes: the per-channel sums
    /// Σ ∂y and Σ ∂y·(x − μ), then ∂x.
    func pullback(_ dy: Tensor, _ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor,
                  needInput: Bool) -> (Tensor?, Tensor, Tensor) {
        let result = dy.withUnsafeBufferPointer { g in
            pullbackPasses(Cotangent(dy: g), x, mean: mean, invStd: invStd, weight: weight, needInput: needInput, needCotangent: false)
        }
        return (result.dx, result.dWeight, result.dBias)
    }

    /// The pullback of y = relu(γ·x̂ + β + r) from the saved output y: ∂z = ∂y·[y > 0] (y > 0
    /// exactly where z > 0), then `pullback`'s two passes on ∂z, the mask applied on the fly; the
    /// second pass also writes ∂z itself (∂r) when `needResidual`.
    func reluPullback(_ dy: Tensor, output y: Tensor, _ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor,
                      needInput: Bool, needResidual: Bool) -> (dx: Tensor?, dWeight: Tensor, dBias: Tensor, dResidual: Tensor?) {
        dy.withUnsafeBufferPointer { g in
            y.withUnsafeBufferPointer { y in
                pullbackPasses(ReLUMaskedCotangent(dy: g, y: y), x, mean: mean, invStd: invStd, weight: weight,
                               needInput: needInput, needCotangent: needResidual)
            }
        }
    }

    /// The batch-norm pullback for the cotangent g: a pass for the two per-channel sums, then a
    /// pass writing ∂x (when needed) and g itself (when `needCotangent`).
    private func pullbackPasses<G: IndexedValue>(_ g: G, _ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor,
                                                 needInput: Bool, needCotangent: Bool)
        -> (dx: Tensor?, dWeight: Tensor, dBias: Tensor, dResidual: Tensor?) {
        let xDense = x.contiguous()
        let (sumDy, sumDyCentered) = channelTotals(xDense) { n, c, row in
            let start = (n * channels + c) * length, center = Float(mean[c])
            return laneSums(row.count, Shifted(g: g, start: start), Centered(row: row, center: center))
        }
        let sumDyNormalized = (0..<channels).map { sumDyCentered[$0] * invStd[$0] }
        let dWeight = Tensor(shape: [channels], scalars: sumDyNormalized.map(Float.init))
        let dBias = Tensor(shape: [channels], scalars: sumDy.map(Float.init))
        guard needInput || needCotangent else { return (nil, dWeight, dBias, nil) }
        // Fresh blocks that no other tensor sees yet, written through their base pointers.
        let dx = needInput ? Tensor(uninitializedShape: x.shape) : nil
        let dg = needCotangent ? Tensor(uninitializedShape: x.shape) : nil
        let dxOut = dx?.storage.base, dgOut = dg?.storage.base
        let gamma = weight.scalars
        withExtendedLifetime((dx, dg)) {
            forEachRow(xDense) { n, c, row in
                let start = (n * channels + c) * length
                let k = gamma[c] * Float(invStd[c]), count = Double(count)
                let meanDy = Float(sumDy[c] / count), meanDyNormalized = Float(sumDyNormalized[c] / count)
                let m = Float(mean[c]), s = Float(invStd[c])
                /// ∂xᵢ from gᵢ and xᵢ.
                @inline(__always) func inputGradient(_ gi: Float, _ xi: Float) -> Float { k * (gi - meanDy - (xi - m) * s * meanDyNormalized) }
                // One loop per case, each without a branch inside, so that each vectorises.
                switch (dxOut, dgOut) {
                case let (dxOut?, dgOut?):
                    for i in 0..<row.count {
                        let gi = g(start + i)
                        dgOut[start + i] = gi
                        dxOut[start + i] = inputGradient(gi, row[i])
                    }
                case let (dxOut?, nil):
                    for i in 0..<row.count { dxOut[start + i] = inputGradient(g(start + i), row[i]) }
                case let (nil, dgOut?):
                    for i in 0..<row.count { dgOut[start + i] = g(start + i) }
                case (nil, nil): break
                }
            }
        }
        return (dx, dWeight, dBias, dg)
    }
}

// What the loops above write and read, as types (as `ScalarFunction` in Tensor+Elementwise.swift):
// a loop generic over one is specialised for it and inlines it, where a closure would be called
// once per element.

/// The normalisation pass's output for z = γ·x̂ + β at flat index i.
protocol NormalizedOutput { func callAsFunction(_ z: Float, _ i: Int) -> Float }

/// z.
struct Normalized: NormalizedOutput { @inline(__always) func callAsFunction(_ z: Float, _ i: Int) -> Float { z } }

/// relu(z).
struct RectifiedNormalized: NormalizedOutput {
    @inline(__always) func callAsFunction(_ z: Float, _ i: Int) -> Float { ReLU()(z) }
}

/// relu(z + rᵢ).
struct RectifiedNormalizedSum: NormalizedOutput {
    let residual: UnsafeBufferPointer<Float>
    @inline(__always) func callAsFunction(_ z: Float, _ i: Int) -> Float { ReLU()(z + residual[i]) }
}

/// A float at a flat index: the cotangent a pullback pass reads, or a row's centred value;
/// `vector(at:)` reads eight consecutive ones at once (the loops' full vectors).
protocol IndexedValue {
    func callAsFunction(_ i: Int) -> Float
    func vector(at i: Int) -> SIMD8<Float>
}

/// Eight consecutive floats from `base + i`.
@inline(__always)
private func load8(_ base: UnsafeBufferPointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(base.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// ∂yᵢ.
struct Cotangent: IndexedValue {
    let dy: UnsafeBufferPointer<Float>
    @inline(__always) func callAsFunction(_ i: Int) -> Float { dy[i] }
    @inline(__always) func vector(at i: Int) -> SIMD8<Float> { load8(dy, i) }
}

/// ∂zᵢ = ∂yᵢ·[yᵢ > 0], ReLU's pullback read from its output y. Both values are loaded before the
/// choice, so it compiles to a select: a conditional load is a branch, mispredicted for half of
/// a random mask (it made the fused pullback six times slower).
struct ReLUMaskedCotangent: IndexedValue {
    let dy: UnsafeBufferPointer<Float>, y: UnsafeBufferPointer<Float>
    @inline(__always) func callAsFunction(_ i: Int) -> Float {
        let cotangent = dy[i], output = y[i]
        return output > 0 ? cotangent : 0
    }
    @inline(__always) func vector(at i: Int) -> SIMD8<Float> {
        SIMD8<Float>.zero.replacing(with: load8(dy, i), where: load8(y, i) .> 0)
    }
}

/// xᵢ − center over a row.
private struct Centered: IndexedValue {
    let row: UnsafeBufferPointer<Float>, center: Float
    @inline(__always) func callAsFunction(_ i: Int) -> Float { row[i] - center }
    @inline(__always) func vector(at i: Int) -> SIMD8<Float> { load8(row, i) - SIMD8(repeating: center) }
}

/// gₛ₊ᵢ: `g` read from `start` on.
private struct Shifted<G: IndexedValue>: IndexedValue {
    let g: G, start: Int
    @inline(__always) func callAsFunction(_ i: Int) -> Float { g(start + i) }
    @inline(__always) func vector(at i: Int) -> SIMD8<Float> { g.vector(at: start + i) }
}

/// (Σ (xᵢ − center), Σ (xᵢ − center)²) in one pass.
private func sumAndSumOfSquares(_ x: UnsafeBufferPointer<Float>, center: Float) -> (Double, Double) {
    laneSums(x.count, Centered(row: x, center: center), Centered(row: x, center: center))
}

/// (Σ gᵢ, Σ gᵢ·xᵢ) over i in 0..<count, with eight Float lanes (lane l sums the i ≡ l mod 8 of
/// each full vector) flushed into Double every 128 elements: vectorised, and accurate for long rows.
@inline(__always)
private func laneSums<G: IndexedValue, X: IndexedValue>(_ count: Int, _ g: G, _ x: X) -> (Double, Double) {
    var totalG = 0.0, total = 0.0
    var start = 0
    while start < count {
        let end = Swift.min(start + 128, count)
        var gLanes = SIMD8<Float>(), lanes = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            let gs = g.vector(at: i), xs = x.vector(at: i)
            gLanes += gs
            lanes += gs * xs
            i += 8
        }
        var gTail: Float = 0, tail: Float = 0
        while i < end { gTail += g(i); tail += g(i) * x(i); i += 1 }
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
        lanes += load8(row, i)
        i += 8
    }
    var total = Double(lanes.sum())
    while i < row.count { total += Double(row[i]); i += 1 }
    return total
}
