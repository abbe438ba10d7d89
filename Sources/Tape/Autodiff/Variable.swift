/// A tensor that may take part in differentiation.
///
/// A constant (no gradient), a leaf (a `Parameter`'s value: gradients accumulate there), or the
/// output of a recorded op (a slot on a `Tape`). Ops on variables compute their value at once
/// and, when some input needs a gradient and recording is enabled, append one entry to the tape.
///
/// Not `Sendable`: a variable refers to its tape and parameters, which belong to the task that
/// records. Send its `value` (a `Tensor`) across tasks and actors instead.
public struct Variable {
    /// The tensor itself (for an op's output, computed when the op ran).
    public let value: Tensor
    let origin: Origin

    enum Origin {
        case constant
        case leaf(Parameter)
        case recorded(Tape, Int)
    }

    init(_ value: Tensor, origin: Origin) {
        self.value = value
        self.origin = origin
    }

    /// A constant: no gradient flows to it.
    public init(_ value: Tensor) { self.init(value, origin: .constant) }

    /// A new leaf when `requiresGradient`: after `backward()`, its gradient is in `grad`.
    public init(_ value: Tensor, requiresGradient: Bool) {
        self.init(value, origin: requiresGradient ? .leaf(Parameter(value)) : .constant)
    }

    /// The value's shape.
    public var shape: [Int] { value.shape }
    /// The number of axes.
    public var rank: Int { value.rank }
    /// The value's elements in row-major order.
    public var scalars: [Float] { value.scalars }
    /// The only element of a one-element value.
    public var scalar: Float { value.scalar }

    /// True for leaves and for outputs of recorded ops.
    public var requiresGradient: Bool {
        if case .constant = origin { return false }
        return true
    }

    /// The parameter behind a leaf (nil for constants and op outputs).
    public var parameter: Parameter? {
        if case .leaf(let parameter) = origin { return parameter }
        return nil
    }

    /// The gradient accumulated into a leaf by `backward()`.
    public var grad: Tensor? { parameter?.grad }

    /// Forgets a leaf's accumulated gradient.
    public func zeroGradient() { parameter?.zeroGradient() }

    /// The same value as a constant: gradients stop here.
    public func detached() -> Variable { Variable(value) }

    /// The tape and slot of a recorded variable, following merges.
    var tapeSlot: (tape: Tape, slot: Int)? {
        guard case .recorded(let tape, let slot) = origin else { return nil }
        return tape.resolve(slot)
    }

    /// `cotangent()` when this input needs a gradient, else nil, so pullbacks skip unneeded work.
    @inline(__always)
    func gradient(_ cotangent: () -> Variable) -> Variable? { requiresGradient ? cotangent() : nil }

    /// Registers a hook on this variable's cotangent: during backward it is called once with the
    /// complete cotangent and may return a replacement (nil keeps it). Hooks run in
    /// registration order.
    public func registerHook(_ hook: @escaping (Variable) -> Variable?) {
        switch origin {
        case .constant:
            preconditionFailure("registerHook: the variable of shape \(shape) is a constant and gets no gradient")
        case .leaf(let parameter):
            parameter.hooks.append(hook)
        case .recorded:
            let (tape, slot) = tapeSlot!
            tape.hooks[slot, default: []].append(hook)
        }
    }
}

extension Variable: CustomStringConvertible {
    public var description: String {
        let kind = switch origin { case .constant: "constant"; case .leaf: "leaf"; case .recorded: "recorded" }
        return "Variable(\(kind), \(value))"
    }
}
