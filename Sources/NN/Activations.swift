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

/// σ(x) = 1/(1 + exp(−x)), as `nn.Sigmoid`.
public final class Sigmoid: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.sigmoid() }
}

/// tanh(x), as `nn.Tanh`.
public final class Tanh: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.tanh() }
}

/// Scaled exponential linear unit (Klambauer et al. 2017), as `nn.SELU`:
///
///     selu(x) = λ·(max(x, 0) + α·(exp(min(x, 0)) − 1)),  α ≈ 1.6733, λ ≈ 1.0507
public final class SELU: Layer {
    /// α ≈ 1.6733 (α₀₁ of the paper): the negative part saturates at −λ·α.
    public static let alpha: Float = 1.6732632423543772
    /// λ ≈ 1.0507 (λ₀₁ of the paper): the slope of the positive part.
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
