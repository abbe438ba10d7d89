/// A trainable tensor with identity: the leaf of every tape it is used on.
///
/// A class, so the tape, the layer that owns it and the optimiser all see the same object.
/// `backward()` adds into `grad` (PyTorch's accumulation: call `zeroGradient()` between steps).
///
/// Not `Sendable`: a parameter is mutable shared state, used by the task that trains with it.
/// Send its `value` (a `Tensor`) to other tasks instead.
public final class Parameter {
    /// The current value; optimisers update it between steps.
    public var value: Tensor
    /// The accumulated gradient; nil means zero (nothing accumulated since the last zeroing).
    public var grad: Tensor?
    var hooks: [(Variable) -> Variable?] = []

    /// A parameter holding `value`, with no gradient yet.
    public init(_ value: Tensor) { self.value = value }

    /// The parameter as a differentiable value: ops on it are recorded and their gradients
    /// flow back into `grad`.
    public var variable: Variable { Variable(value, origin: .leaf(self)) }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { grad = nil }
}
