import Tape

/// max(x, 0).
public final class ReLU: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.relu() }
}

/// Concatenated ReLU (Shang et al. 2016): concat(relu(x), relu(−x)) along the channel axis 1,
/// doubling the channels. With Looks-Linear weights the next layer sees x linearly.
public final class CReLU: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.crelu() }
}

extension Variable {
    /// concat(relu(x), relu(−x)) along axis 1.
    public func crelu() -> Variable {
        precondition(rank >= 2, "crelu: input needs a channel axis 1, got \(shape)")
        return concatenated([relu(), (-self).relu()], axis: 1)
    }
}

public final class Sigmoid: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.sigmoid() }
}

public final class Tanh: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.tanh() }
}

/// Scaled exponential linear unit (Klambauer et al. 2017), as `nn.SELU`:
///
///     selu(x) = λ·(max(x, 0) + α·(exp(min(x, 0)) − 1)),  α ≈ 1.6733, λ ≈ 1.0507
public final class SELU: Layer {
    public static let alpha: Float = 1.6732632423543772
    public static let scale: Float = 1.0507009873554805
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.selu() }
}

extension Variable {
    /// λ·(max(x, 0) + α·(exp(min(x, 0)) − 1)), with `SELU.alpha` and `SELU.scale`.
    public func selu() -> Variable {
        let negativePart = (minimum(self, Variable(Tensor(0))).exp() - 1) * SELU.alpha
        return (relu() + negativePart) * SELU.scale
    }
}

/// Inverted dropout: in training each element is zeroed with probability p and the survivors
/// are scaled by 1/(1 − p); in evaluation the input passes unchanged. The mask is drawn from
/// the context's seeded generator.
public final class Dropout: Layer {
    public let probability: Float

    public init(probability: Float = 0.5) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        guard context.mode == .training, probability > 0 else { return input }
        return input.dropout(probability: probability, using: &context.random)
    }
}

extension Variable {
    /// Multiplies by a Bernoulli(1 − p) mask scaled by 1/(1 − p).
    public func dropout(probability: Float, using random: inout SplitMix64) -> Variable {
        let keep = 1 / (1 - probability)
        let mask = Tensor(shape: shape, scalars: (0..<value.count).map { _ in random.nextUniform() < probability ? 0 : keep })
        return self * Variable(mask)
    }
}

/// Flattens all axes after the batch axis: [N, …] → [N, ∏…].
public final class Flatten: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.flattened(from: 1) }
}

/// `nn.AvgPool2d`.
public final class AvgPool2d: Layer {
    public let kernel: Pair, stride: Pair?, padding: Pair

    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        avgPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
}

/// `nn.MaxPool2d`.
public final class MaxPool2d: Layer {
    public let kernel: Pair, stride: Pair?, padding: Pair

    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        maxPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
}

/// Global average pooling: [N, C, H, W] → [N, C] (`nn.AdaptiveAvgPool2d(1)` then flatten).
public final class GlobalAvgPool2d: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { globalAvgPool2d(input) }
}
