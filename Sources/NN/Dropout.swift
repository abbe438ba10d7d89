import Tape

/// Inverted dropout: in training each element is zeroed with probability p and the survivors
/// are scaled by 1/(1 − p); in evaluation the input passes unchanged. The mask is drawn from
/// the context's seeded generator.
public final class Dropout: Layer {
    /// p, the probability of zeroing each element, in [0, 1).
    public let probability: Float

    /// `nn.Dropout(p)`, p = 0.5 by default.
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
