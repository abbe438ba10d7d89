import Tape

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
/// weight decay, exactly as `torch.optim.SGD`.
///
/// With learning rate γ, momentum μ, dampening τ and weight decay λ, each step updates every
/// parameter p that has a gradient g:
///
///     g ← g + λ·p                                   (when λ ≠ 0)
///     if μ ≠ 0:
///         b ← g                                     (the parameter's first step)
///         b ← μ·b + (1 − τ)·g                       (later steps)
///         g ← g + μ·b   if Nesterov,   else   g ← b
///     p ← p − γ·g
///
/// The momentum buffer b is the state slot `"i.momentum_buffer"`; there is none when μ = 0.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    /// μ; 0 (no momentum buffer) by default.
    public let momentum: Float
    /// τ, damping the gradient in the momentum update; 0 by default.
    public let dampening: Float
    /// λ, the L2 penalty added to the gradient; 0 by default.
    public let weightDecay: Float
    /// Nesterov momentum: g ← g + μ·b instead of g ← b; false by default.
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private var momentumBuffers: [Tensor?]

    /// - Precondition: `learningRate`, `momentum` and `weightDecay` are not negative; with
    ///   `nesterov`, `momentum` is positive and `dampening` is zero (as PyTorch requires).
    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0, "SGD: invalid learning rate \(learningRate) (must be ≥ 0)")
        precondition(momentum >= 0, "SGD: invalid momentum \(momentum) (must be ≥ 0)")
        precondition(weightDecay >= 0, "SGD: invalid weight decay \(weightDecay) (must be ≥ 0)")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum requires momentum > 0 and dampening == 0 (got momentum \(momentum), dampening \(dampening))")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            precondition(gradient.shape == parameter.value.shape,
                         "SGD: parameter \(index) has shape \(parameter.value.shape) but its gradient has shape \(gradient.shape)")
            if momentum == 0 {
                update(parameter, gradient: gradient)
            } else {
                let isFirstStep = momentumBuffers[index] == nil
                if isFirstStep { momentumBuffers[index] = Tensor.zeros(parameter.value.shape) }
                update(parameter, gradient: gradient, momentumBuffer: &momentumBuffers[index]!, isFirstStep: isFirstStep)
            }
        }
        stepCount += 1
    }

    /// p ← p − γ·(g + λ·p).
    private func update(_ parameter: Parameter, gradient: Tensor) {
        let learningRate = learningRate, weightDecay = weightDecay
        gradient.withUnsafeBufferPointer { g in
            parameter.value.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] -= learningRate * (g[i] + weightDecay * p[i]) }
            }
        }
    }

    /// The momentum update of one parameter, in one pass over its elements.
    private func update(_ parameter: Parameter, gradient: Tensor, momentumBuffer: inout Tensor, isFirstStep: Bool) {
        let learningRate = learningRate, weightDecay = weightDecay, momentum = momentum, nesterov = nesterov
        let gradientWeight = Float(1 - Double(dampening))
        gradient.withUnsafeBufferPointer { g in
            parameter.value.withUnsafeMutableBufferPointer { p in
                momentumBuffer.withUnsafeMutableBufferPointer { b in
                    // Branch-free over memory (every element loaded and stored unconditionally),
                    // so the loop vectorises.
                    for i in p.indices {
                        let decayed = g[i] + weightDecay * p[i]
                        let previous = b[i]
                        let buffer = isFirstStep ? decayed : momentum * previous + gradientWeight * decayed
                        b[i] = buffer
                        p[i] -= learningRate * (nesterov ? decayed + momentum * buffer : buffer)
                    }
                }
            }
        }
    }

    /// `"step"`, and `"i.momentum_buffer"` for each parameter updated at least once (when μ ≠ 0).
    public var state: [String: Tensor] {
        var state = ["step": Tensor(Float(stepCount))]
        for (index, buffer) in momentumBuffers.enumerated() {
            if let buffer { state["\(index).momentum_buffer"] = buffer }
        }
        return state
    }

    public func load(state: [String: Tensor]) throws(OptimizerStateError) {
        let saved = try ValidatedOptimizerState(state, parameters: parameters,
                                                tensorSlots: momentum == 0 ? [] : ["momentum_buffer"], hasParameterSteps: false)
        stepCount = saved.stepCount
        momentumBuffers = saved.tensors.map { $0["momentum_buffer"] }
    }
}
