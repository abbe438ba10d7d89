// Batch normalisation in training mode as one primitive. Composed from mean and variance it
// records about twenty ops and as many full passes over the activations; as a primitive it
// makes three passes forward and three backward. When the backward pass records
// (`createGraph`), the pullback is written with differentiable ops, so second derivatives
// stay exact. The loops (statistics, normalisation, pullback) are tensor kernels in
// Tensor/Tensor+BatchNorm.swift.

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
    // The statistics, 1/σ and the output are the op's forward value (computed inside `record`, so a
    // profile counts them as batchNorm's time); the pullback reads the statistics.
    var statistics: (mean: [Double], variance: [Double]) = ([], [])
    var invStd: [Double] = []
    func forward() -> Tensor {
        statistics = layout.meanAndVariance(input.value)
        invStd = statistics.variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
        return layout.normalize(input.value, mean: statistics.mean, invStd: invStd, weight: weight.value, bias: bias.value)
    }
    let y = Variable.record("batchNorm", forward(), [input, weight, bias], saves: .inputs, file: file, line: line) { dy, x, _ in
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
