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
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { crelu(input) }
}

/// concat(relu(x), relu(−x)) along axis 1.
public func crelu(_ input: Variable) -> Variable {
    precondition(input.rank >= 2, "crelu: input needs a channel axis 1, got \(input.shape)")
    return Variable.concatenated([input.relu(), (-input).relu()], axis: 1)
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
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { selu(input) }
}

public func selu(_ input: Variable) -> Variable {
    let negativePart = (Variable.minimum(input, Variable(Tensor(0))).exp() - 1) * SELU.alpha
    return (input.relu() + negativePart) * SELU.scale
}
