import Tape

/// Flattens all axes after the batch axis: [N, …] → [N, ∏…].
public final class Flatten: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input.flattened(from: 1) }
}
