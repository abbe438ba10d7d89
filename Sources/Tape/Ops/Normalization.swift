// Batch normalisation in training mode as one primitive. Composed from mean and variance it
// records about twenty ops and as many full passes over the activations; as a primitive it
// makes three passes forward and three backward. When the backward pass records
// (`createGraph`), the pullback is written with differentiable ops, so second derivatives
// stay exact.

/// Per-channel batch normalisation with batch statistics, over every axis but 1.
///
///     μ_c = mean(x[:, c]),  σ²_c = mean((x[:, c] − μ_c)²),  x̂ = (x − μ)/√(σ² + ε)
///     y   = γ·x̂ + β
///     ∂x  = γ/√(σ² + ε) · (∂y − mean(∂y) − x̂·mean(∂y·x̂))     (means per channel)
///     ∂γ  = Σ ∂y·x̂,   ∂β = Σ ∂y
///
/// - Parameters:
///   - input: [N, C, …] (rank ≥ 2).
///   - weight, bias: γ and β, [C].
/// - Returns: y, and the batch mean and biased variance per channel (for running statistics).
public func batchNormalized(_ input: Variable, weight: Variable, bias: Variable, epsilon: Float,
                            file: StaticString = #fileID, line: UInt = #line) -> (output: Variable, mean: Tensor, variance: Tensor) {
    let layout = ChannelLayout(input.shape, op: "batchNorm")
    precondition(weight.shape == [layout.channels] && bias.shape == [layout.channels],
                 "batchNorm: weight \(weight.shape) and bias \(bias.shape) for input \(input.shape)")
    precondition(layout.count > 1, "batchNorm: needs more than one value per channel, got input \(input.shape)")
    let statistics = layout.meanAndVariance(input.value)
    let invStd = statistics.variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
    let output = layout.normalize(input.value, mean: statistics.mean, invStd: invStd, weight: weight.value, bias: bias.value)
    let y = Variable.record("batchNorm", output, [input, weight, bias], file: file, line: line) { dy, x, _ in
        if RecordingContext.current.gradientsEnabled {
            return differentiableBatchNormPullback(dy, x[0], x[1], epsilon: epsilon, layout: layout)
        }
        let (dx, dWeight, dBias) = layout.pullback(dy.value, x[0].value, mean: statistics.mean, invStd: invStd,
                                                   weight: x[1].value, needInput: x[0].requiresGradient)
        return [dx.map(Variable.init), x[1].requiresGradient ? Variable(dWeight) : nil, x[2].requiresGradient ? Variable(dBias) : nil]
    }
    return (y, Tensor(shape: [layout.channels], scalars: statistics.mean.map(Float.init)),
            Tensor(shape: [layout.channels], scalars: statistics.variance.map(Float.init)))
}

/// The same pullback from differentiable ops, for double backward.
private func differentiableBatchNormPullback(_ dy: Variable, _ x: Variable, _ weight: Variable, epsilon: Float,
                                             layout: ChannelLayout) -> [Variable?] {
    let axes = [0] + Array(2..<x.rank)
    var broadcastShape = [Int](repeating: 1, count: x.rank)
    broadcastShape[1] = layout.channels
    let centered = x - x.mean(alongAxes: axes, keepingDimensions: true)
    let invStd = ((centered * centered).mean(alongAxes: axes, keepingDimensions: true) + epsilon).pow(-0.5)
    let normalized = centered * invStd
    let scaled = dy * weight.reshaped(to: broadcastShape)
    let dx = invStd * (scaled - scaled.mean(alongAxes: axes, keepingDimensions: true)
        - normalized * (scaled * normalized).mean(alongAxes: axes, keepingDimensions: true))
    return [dx, (dy * normalized).sum(alongAxes: axes), dy.sum(alongAxes: axes)]
}

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

    /// Calls `body(channel, row)` for every contiguous row of `tensor` (contiguous copy if needed).
    func forEachRow(_ tensor: Tensor, _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
        tensor.withUnsafeBufferPointer { buffer in
            for n in 0..<batch { for c in 0..<channels {
                body(c, UnsafeBufferPointer(rebasing: buffer[((n * channels + c) * length)..<((n * channels + c + 1) * length)]))
            } }
        }
    }

    /// Σ over every axis but 1, per channel, in Double.
    func channelSums(_ x: Tensor) -> [Double] {
        var sums = [Double](repeating: 0, count: channels)
        forEachRow(x) { c, row in sums[c] += sum(row) }
        return sums
    }

    /// Per-channel mean and biased variance, in Double (two passes: exact for large batches).
    func meanAndVariance(_ x: Tensor) -> (mean: [Double], variance: [Double]) {
        let mean = channelSums(x).map { $0 / Double(count) }
        var squares = [Double](repeating: 0, count: channels)
        forEachRow(x) { c, row in
            let m = Float(mean[c])
            var total: Float = 0, block = 0.0
            for (i, value) in row.enumerated() {
                total += (value - m) * (value - m)
                if i & 1023 == 1023 { block += Double(total); total = 0 }
            }
            squares[c] += block + Double(total)
        }
        return (mean, squares.map { $0 / Double(count) })
    }

    func normalize(_ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor, bias: Tensor) -> Tensor {
        var output = Tensor(uninitializedShape: x.shape)
        let gamma = weight.scalars, beta = bias.scalars
        output.withUnsafeMutableBufferPointer { out in
            var position = 0
            forEachRow(x) { c, row in
                let scale = gamma[c] * Float(invStd[c]), shift = beta[c] - Float(mean[c]) * scale
                for value in row { out[position] = value * scale + shift; position += 1 }
            }
        }
        return output
    }

    /// ∂x (when needed), ∂γ and ∂β from the formulas above.
    func pullback(_ dy: Tensor, _ x: Tensor, mean: [Double], invStd: [Double], weight: Tensor,
                  needInput: Bool) -> (Tensor?, Tensor, Tensor) {
        var sumDy = [Double](repeating: 0, count: channels), sumDyCentered = [Double](repeating: 0, count: channels)
        let dyDense = dy.contiguous(), xDense = x.contiguous()
        dyDense.withUnsafeBufferPointer { g in
            var position = 0
            forEachRow(xDense) { c, row in
                let (a, b) = sums(UnsafeBufferPointer(rebasing: g[position..<(position + row.count)]), row, center: Float(mean[c]))
                sumDy[c] += a
                sumDyCentered[c] += b
                position += row.count
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
                var position = 0
                forEachRow(xDense) { c, row in
                    let k = gamma[c] * Float(invStd[c]), n = Double(count)
                    let meanDy = Float(sumDy[c] / n), meanDyNormalized = Float(sumDyNormalized[c] / n)
                    let m = Float(mean[c]), s = Float(invStd[c])
                    for value in row {
                        out[position] = k * (g[position] - meanDy - (value - m) * s * meanDyNormalized)
                        position += 1
                    }
                }
            }
        }
        return (dx, dWeight, dBias)
    }
}

/// (Σ gᵢ, Σ gᵢ·(xᵢ − center)) with eight Float lanes flushed into Double every 128 elements:
/// vectorisable, and accurate for long rows.
private func sums(_ g: UnsafeBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, center: Float) -> (Double, Double) {
    var totalG = 0.0, totalGX = 0.0
    var start = 0
    while start < x.count {
        let end = Swift.min(start + 128, x.count)
        var laneG = SIMD8<Float>(), laneGX = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            var gs = SIMD8<Float>(), xs = SIMD8<Float>()
            for lane in 0..<8 { gs[lane] = g[i + lane]; xs[lane] = x[i + lane] - center }
            laneG += gs
            laneGX += gs * xs
            i += 8
        }
        var tailG: Float = 0, tailGX: Float = 0
        while i < end { tailG += g[i]; tailGX += g[i] * (x[i] - center); i += 1 }
        totalG += Double(laneG.sum()) + Double(tailG)
        totalGX += Double(laneGX.sum()) + Double(tailGX)
        start = end
    }
    return (totalG, totalGX)
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
