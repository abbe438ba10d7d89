// Batch normalisation in training mode as one primitive, and the same fused with ReLU and an
// optional residual addend (a ResNet block's `relu(bn(x))` and `relu(bn(x) + shortcut)`).
// Composed from mean and variance batch normalisation records about twenty ops and as many full
// passes over the activations; as a primitive it makes two passes forward (statistics,
// normalisation) and two backward (per-channel sums, ∂x). Fused, the addition and ReLU ride
// along in those passes instead of making two more each way. When the backward pass records
// (`createGraph`), the pullbacks are written with differentiable ops, so second derivatives stay
// exact. The loops are tensor kernels in Tensor/Tensor+BatchNorm.swift.

/// Per-channel batch normalisation with batch statistics, over every axis but 1.
///
///     μ_c = mean(x[:, c]),  σ²_c = mean((x[:, c] − μ_c)²),  x̂ = (x − μ)/√(σ² + ε)
///     y   = γ·x̂ + β
///     ∂x  = γ/√(σ² + ε) · (∂y − mean(∂y) − x̂·mean(∂y·x̂))     (means per channel)
///     ∂γ  = Σ ∂y·x̂,   ∂β = Σ ∂y
///
/// Saves x (and γ, β).
///
/// - Parameters:
///   - input: [N, C, …] (rank ≥ 2).
///   - weight, bias: γ and β, [C].
/// - Returns: y, and the batch mean and biased variance per channel (for running statistics).
public func batchNormalized(_ input: Variable, weight: Variable, bias: Variable, epsilon: Float,
                            file: StaticString = #fileID, line: UInt = #line) -> (output: Variable, mean: Tensor, variance: Tensor) {
    recordBatchNorm(input, weight: weight, bias: bias, relu: false, adding: nil, epsilon: epsilon, file: file, line: line)
}

/// Batch normalisation (as `batchNormalized(_:weight:bias:epsilon:file:line:)`), an optional
/// residual addend and ReLU as one primitive: a ResNet block's `relu(bn(x))` or
/// `relu(bn(x) + shortcut)`, in two passes each way.
///
///     z  = γ·x̂ + β + r      (r omitted when nil)
///     y  = relu(z)
///     ∂z = ∂y·[y > 0]       (y > 0 exactly where z > 0)
///     ∂x, ∂γ, ∂β = batch normalisation's pullback of ∂z,   ∂r = ∂z
///
/// Saves x and y (and γ, β): neither z nor r. Forward: the statistics pass, then one pass writing
/// y. Backward: one pass for Σ ∂z and Σ ∂z·x̂ (the mask applied on the fly), one writing ∂x and,
/// when r needs a gradient, ∂r. The values equal those of `batchNormalized`, `+` and `relu()`
/// composed (the same Float operations in the same order).
///
/// - Parameters:
///   - input: [N, C, …] (rank ≥ 2).
///   - weight, bias: γ and β, [C].
///   - residual: r, of the input's shape (no broadcasting), or nil.
/// - Returns: y, and the batch mean and biased variance per channel (for running statistics).
public func batchNormalizedReLU(_ input: Variable, weight: Variable, bias: Variable, adding residual: Variable? = nil, epsilon: Float,
                                file: StaticString = #fileID, line: UInt = #line) -> (output: Variable, mean: Tensor, variance: Tensor) {
    if let residual {
        precondition(residual.shape == input.shape, "batchNormReLU: residual \(residual.shape) for input \(input.shape)")
    }
    return recordBatchNorm(input, weight: weight, bias: bias, relu: true, adding: residual, epsilon: epsilon, file: file, line: line)
}

/// Both primitives: γ·x̂ + β, or relu(γ·x̂ + β + r) when `relu`.
private func recordBatchNorm(_ input: Variable, weight: Variable, bias: Variable, relu: Bool, adding residual: Variable?, epsilon: Float,
                             file: StaticString, line: UInt) -> (output: Variable, mean: Tensor, variance: Tensor) {
    let name: StaticString = relu ? "batchNormReLU" : "batchNorm"
    let layout = ChannelLayout(input.shape, op: name)
    precondition(weight.shape == [layout.channels] && bias.shape == [layout.channels],
                 "\(name): weight \(weight.shape) and bias \(bias.shape) for input \(input.shape)")
    precondition(layout.count > 1, "\(name): needs more than one value per channel, got input \(input.shape)")
    // The statistics, 1/σ and the output are the op's forward value (computed inside `record`, so a
    // profile counts them as the op's time); the pullback reads the statistics.
    var statistics: (mean: [Double], variance: [Double]) = ([], [])
    var invStd: [Double] = []
    func forward() -> Tensor {
        statistics = layout.meanAndVariance(input.value)
        invStd = statistics.variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
        return relu
            ? layout.normalizeReLU(input.value, mean: statistics.mean, invStd: invStd, weight: weight.value, bias: bias.value,
                                   adding: residual?.value)
            : layout.normalize(input.value, mean: statistics.mean, invStd: invStd, weight: weight.value, bias: bias.value)
    }
    // Inputs x, γ, β (kept) and r (never read: the mask comes from y).
    let y = Variable.record(name, forward(), [input, weight, bias] + (residual.map { [$0] } ?? []),
                            saves: relu ? .leadingInputsAndOutput(count: 3) : .inputs, file: file, line: line) { dy, x, y in
        let hasResidual = x.count == 4
        if RecordingContext.current.gradientsEnabled {
            // ReLU's second derivative is 0: the mask is a constant.
            let dz = relu ? dy * Variable(y.value .> 0) : dy
            return differentiableBatchNormPullback(dz, x[0], x[1], epsilon: epsilon, layout: layout)
                + (hasResidual ? [x[3].gradient { dz }] : [])
        }
        if relu {
            let (dx, dWeight, dBias, dResidual) = layout.reluPullback(
                dy.value, output: y.value, x[0].value, mean: statistics.mean, invStd: invStd, weight: x[1].value,
                needInput: x[0].requiresGradient, needResidual: hasResidual && x[3].requiresGradient)
            return [dx.map(Variable.init), x[1].requiresGradient ? Variable(dWeight) : nil, x[2].requiresGradient ? Variable(dBias) : nil]
                + (hasResidual ? [dResidual.map(Variable.init)] : [])
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
