import Tape

/// Batch normalisation over the channel axis 1 (Ioffe & Szegedy 2015): the shared base of
/// `BatchNorm1d` (input [N, C] or [N, C, L]) and `BatchNorm2d` (input [N, C, H, W]), which are
/// what code builds; a property typed `BatchNorm` holds either.
///
///     training:   μ, σ² = mean and biased variance over all axes but 1 (gradients flow through them)
///                 running_mean ← (1 − m)·running_mean + m·μ
///                 running_var  ← (1 − m)·running_var  + m·σ²·n/(n − 1)   (unbiased)
///     evaluation: μ, σ² = running_mean, running_var, computed as y = x·a + (β − μ·a), a = γ/√(σ² + ε)
///     y = γ·(x − μ)/√(σ² + ε) + β
///
/// Training mode is the fused primitive `batchNormalized(_:weight:bias:epsilon:)` (one op with a
/// hand-written pullback, not a composition of mean and variance); its pullback switches to
/// differentiable ops when the backward pass records, so second derivatives stay exact.
/// Evaluation mode is composed: a per-channel scale and shift. `normalizedReLU(_:adding:_:)`
/// computes relu(bn(x) + r), in training mode as one primitive.
public class BatchNorm: Layer {
    /// γ (ones) and β (zeros), [C]; nil when not affine.
    public let weight: Parameter?, bias: Parameter?
    /// `running_mean` (zeros) and `running_var` (ones), [C], and `num_batches_tracked`, the number of
    /// training batches seen.
    public let runningMean: Buffer, runningVariance: Buffer, batchesTracked: Buffer
    /// m, each batch's weight in the running statistics (0.1 by default), and ε, added to the variance
    /// (1e-5).
    public let momentum: Float, epsilon: Float
    let expectedRanks: Set<Int>

    /// - Parameters:
    ///   - channels: C.
    ///   - expectedRanks: input ranks accepted ([2, 3] for 1-D, [4] for 2-D).
    init(channels: Int, momentum: Float, epsilon: Float, affine: Bool, expectedRanks: Set<Int>) {
        weight = affine ? Parameter(Tensor.ones([channels])) : nil
        bias = affine ? Parameter(Tensor.zeros([channels])) : nil
        runningMean = Buffer(Tensor.zeros([channels]))
        runningVariance = Buffer(Tensor.ones([channels]))
        batchesTracked = Buffer(Tensor(0), isInteger: true)
        (self.momentum, self.epsilon, self.expectedRanks) = (momentum, epsilon, expectedRanks)
    }

    /// C, the number of channels.
    public var channels: Int { runningMean.value.count }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        switch context.mode {
        case .training:
            return training(input, relu: false, adding: nil)
        case .evaluation:
            checkShape(input)
            var statisticsShape = [Int](repeating: 1, count: input.rank)
            statisticsShape[1] = channels
            // y = x·a + c per channel with a = γ/√(σ² + ε), c = β − μ·a: two passes, as PyTorch's CPU kernel.
            let invStd = Variable((runningVariance.value + epsilon).squareRoot().map { 1 / $0 })
            let scale = weight.map { $0.variable * invStd } ?? invStd
            let shift = (bias?.variable ?? Variable(Tensor.zeros([channels]))) - Variable(runningMean.value) * scale
            return input * scale.reshaped(to: statisticsShape) + shift.reshaped(to: statisticsShape)
        }
    }

    /// y = relu(bn(x) + r) (r omitted when nil; r has x's shape), with the same values and running
    /// statistics as `relu(layer(x, &context) + r)`. In training mode it is one primitive,
    /// `batchNormalizedReLU(_:weight:bias:adding:epsilon:file:line:)`: two passes each way, keeping
    /// x and y for the backward pass. In evaluation mode, and whenever the layer has a forward
    /// hook (which must see, and may replace, the normalised value itself), it is that composition.
    public func normalizedReLU(_ input: Variable, adding residual: Variable? = nil, _ context: inout ForwardContext) -> Variable {
        guard context.mode == .training, !hasForwardHooks else {
            let normalized = self(input, &context)
            return (residual.map { normalized + $0 } ?? normalized).relu()
        }
        return training(input, relu: true, adding: residual)
    }

    /// Training mode: batch statistics (then ReLU of the sum with `residual` when `relu`), and the
    /// running statistics' update.
    private func training(_ input: Variable, relu: Bool, adding residual: Variable?) -> Variable {
        checkShape(input)
        let count = ([0] + Array(2..<input.rank)).reduce(1) { $0 * input.shape[$1] }
        precondition(count > 1, "BatchNorm: training needs more than one value per channel, got input \(input.shape)")
        let affine = (weight?.variable ?? Variable(Tensor.ones([channels])), bias?.variable ?? Variable(Tensor.zeros([channels])))
        let (output, mean, variance) = relu
            ? batchNormalizedReLU(input, weight: affine.0, bias: affine.1, adding: residual, epsilon: epsilon)
            : batchNormalized(input, weight: affine.0, bias: affine.1, epsilon: epsilon)
        let unbiased = variance * (Float(count) / Float(count - 1))
        runningMean.value = runningMean.value * (1 - momentum) + mean * momentum
        runningVariance.value = runningVariance.value * (1 - momentum) + unbiased * momentum
        batchesTracked.value = batchesTracked.value + 1
        return output
    }

    private func checkShape(_ input: Variable) {
        precondition(expectedRanks.contains(input.rank) && input.shape[1] == channels,
                     "BatchNorm: input \(input.shape) for \(channels) channels (rank \(expectedRanks.sorted()) expected)")
    }

    public override var ownParameters: [(String, Parameter)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public override var ownBuffers: [(String, Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
    }
}

/// `nn.BatchNorm2d`: batch normalisation of [N, C, H, W] per channel.
public final class BatchNorm2d: BatchNorm {
    /// - Parameters:
    ///   - channels: C.
    ///   - momentum: m, the weight of each batch in the running statistics.
    ///   - epsilon: ε, added to the variance.
    ///   - affine: false drops γ and β (y = x̂).
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, affine: Bool = true) {
        super.init(channels: channels, momentum: momentum, epsilon: epsilon, affine: affine, expectedRanks: [4])
    }
}

/// `nn.BatchNorm1d`: batch normalisation of [N, C] or [N, C, L] per channel.
public final class BatchNorm1d: BatchNorm {
    /// - Parameters:
    ///   - channels: C.
    ///   - momentum: m, the weight of each batch in the running statistics.
    ///   - epsilon: ε, added to the variance.
    ///   - affine: false drops γ and β (y = x̂).
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, affine: Bool = true) {
        super.init(channels: channels, momentum: momentum, epsilon: epsilon, affine: affine, expectedRanks: [2, 3])
    }
}

/// Layer normalisation over the trailing axes (Ba et al. 2016), as `nn.LayerNorm`.
///
///     y = γ·(x − mean)/√(var + ε) + β, statistics over the last `normalizedShape.count` axes
public final class LayerNorm: Layer {
    /// γ (ones) and β (zeros), of shape `normalizedShape`.
    public let weight: Parameter, bias: Parameter
    /// The trailing axes normalised over (`normalized_shape`).
    public let normalizedShape: [Int]
    /// ε, added to the variance; 1e-5 by default.
    public let epsilon: Float

    /// `nn.LayerNorm(normalizedShape, eps: epsilon)`, with γ = 1 and β = 0.
    public init(_ normalizedShape: [Int], epsilon: Float = 1e-5) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = Parameter(Tensor.ones(normalizedShape))
        bias = Parameter(Tensor.zeros(normalizedShape))
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                     "LayerNorm: input \(input.shape) does not end in \(normalizedShape)")
        let axes = Array((input.rank - normalizedShape.count)..<input.rank)
        let centered = input - input.mean(alongAxes: axes, keepingDimensions: true)
        let variance = (centered * centered).mean(alongAxes: axes, keepingDimensions: true)
        return centered / (variance + epsilon).squareRoot() * weight.variable + bias.variable
    }

    public override var ownParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
}
