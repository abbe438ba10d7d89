import Tape

/// Adam with L2 weight decay added to the gradient, exactly as `torch.optim.Adam`
/// (without `amsgrad`).
///
/// With learning rate γ, betas (β₁, β₂), epsilon ε and weight decay λ, each step updates every
/// parameter p that has a gradient g; t counts that parameter's own steps (1, 2, …):
///
///     g ← g + λ·p                                   (when λ ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// m and v start at zero. State slots: `"i.exp_avg"` (m), `"i.exp_avg_sq"` (v), `"i.step"` (t).
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    /// (β₁, β₂), the decay rates of m and v; (0.9, 0.999) by default.
    public let betas: (Float, Float)
    /// ε, added to the denominator √v / √(1 − β₂ᵗ); 1e-8 by default.
    public let epsilon: Float
    /// λ, the L2 penalty added to the gradient (g ← g + λ·p); 0 by default.
    public let weightDecay: Float
    public var stepCount: Int { moments.stepCount }
    private var moments: AdamMoments

    /// - Precondition: `learningRate`, `epsilon` and `weightDecay` are not negative; both betas
    ///   are in [0, 1).
    public init(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        checkAdamHyperparameters("Adam", learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay)
        self.parameters = parameters
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        moments = AdamMoments(parameterCount: parameters.count)
    }

    public func step() {
        moments.step(parameters, learningRate: learningRate, betas: betas, epsilon: epsilon,
                     gradientDecay: weightDecay, parameterDecayFactor: 1)
    }

    /// `"step"`, and `"i.step"`, `"i.exp_avg"`, `"i.exp_avg_sq"` for each parameter updated at least once.
    public var state: [String: Tensor] { moments.state }

    public func load(state: [String: Tensor]) throws(OptimizerStateError) {
        try moments.load(state, parameters: parameters)
    }
}

/// Adam with decoupled weight decay, exactly as `torch.optim.AdamW`.
///
/// As `Adam`, except that weight decay shrinks the parameter instead of adding to the gradient
/// (so it is not rescaled by the adaptive denominator):
///
///     p ← p·(1 − γ·λ)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The default weight decay is 0.01, as in PyTorch. State slots are those of `Adam`.
public final class AdamW: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    /// (β₁, β₂), the decay rates of m and v; (0.9, 0.999) by default.
    public let betas: (Float, Float)
    /// ε, added to the denominator √v / √(1 − β₂ᵗ); 1e-8 by default.
    public let epsilon: Float
    /// λ, the decoupled decay (p ← p·(1 − γ·λ)); 0.01 by default.
    public let weightDecay: Float
    public var stepCount: Int { moments.stepCount }
    private var moments: AdamMoments

    /// - Precondition: `learningRate`, `epsilon` and `weightDecay` are not negative; both betas
    ///   are in [0, 1).
    public init(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        checkAdamHyperparameters("AdamW", learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay)
        self.parameters = parameters
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        moments = AdamMoments(parameterCount: parameters.count)
    }

    public func step() {
        moments.step(parameters, learningRate: learningRate, betas: betas, epsilon: epsilon,
                     gradientDecay: 0, parameterDecayFactor: Float(1 - Double(learningRate) * Double(weightDecay)))
    }

    /// `"step"`, and `"i.step"`, `"i.exp_avg"`, `"i.exp_avg_sq"` for each parameter updated at least once.
    public var state: [String: Tensor] { moments.state }

    public func load(state: [String: Tensor]) throws(OptimizerStateError) {
        try moments.load(state, parameters: parameters)
    }
}

private func checkAdamHyperparameters(_ name: String, learningRate: Float, betas: (Float, Float), epsilon: Float, weightDecay: Float) {
    precondition(learningRate >= 0, "\(name): invalid learning rate \(learningRate) (must be ≥ 0)")
    precondition(epsilon >= 0, "\(name): invalid epsilon \(epsilon) (must be ≥ 0)")
    precondition((0..<1).contains(betas.0), "\(name): invalid beta1 \(betas.0) (must be in [0, 1))")
    precondition((0..<1).contains(betas.1), "\(name): invalid beta2 \(betas.1) (must be in [0, 1))")
    precondition(weightDecay >= 0, "\(name): invalid weight decay \(weightDecay) (must be ≥ 0)")
}

/// The state and update shared by `Adam` and `AdamW`: per parameter, the moment estimates m, v
/// and the step count t, created on the parameter's first update.
private struct AdamMoments {
    var stepCount = 0
    var firstMoments: [Tensor?]
    var secondMoments: [Tensor?]
    var parameterSteps: [Int]

    init(parameterCount: Int) {
        firstMoments = Array(repeating: nil, count: parameterCount)
        secondMoments = Array(repeating: nil, count: parameterCount)
        parameterSteps = Array(repeating: 0, count: parameterCount)
    }

    /// One step over every parameter that has a gradient g:
    ///
    ///     p ← p·parameterDecayFactor,   g ← g + gradientDecay·p,   then Adam's update of m, v, p.
    ///
    /// Adam passes (λ, 1), AdamW (0, 1 − γ·λ).
    mutating func step(_ parameters: [Parameter], learningRate: Float, betas: (Float, Float), epsilon: Float,
                       gradientDecay: Float, parameterDecayFactor: Float) {
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            precondition(gradient.shape == parameter.value.shape,
                         "Adam/AdamW: parameter \(index) has shape \(parameter.value.shape) but its gradient has shape \(gradient.shape)")
            if parameterSteps[index] == 0 {
                firstMoments[index] = Tensor.zeros(parameter.value.shape)
                secondMoments[index] = Tensor.zeros(parameter.value.shape)
            }
            parameterSteps[index] += 1
            // The bias corrections in Double, as PyTorch computes them on Python floats.
            let t = parameterSteps[index]
            let stepSize = Float(Double(learningRate) / (1 - power(Double(betas.0), t)))
            let secondCorrection = Float((1 - power(Double(betas.1), t)).squareRoot())
            let (beta1, beta2) = betas
            let (firstWeight, secondWeight) = (1 - beta1, 1 - beta2)
            gradient.withUnsafeBufferPointer { g in
                parameter.value.withUnsafeMutableBufferPointer { p in
                    firstMoments[index]!.withUnsafeMutableBufferPointer { m in
                        secondMoments[index]!.withUnsafeMutableBufferPointer { v in
                            for i in p.indices {
                                let decayedParameter = p[i] * parameterDecayFactor
                                let decayedGradient = g[i] + gradientDecay * decayedParameter
                                // β₁·m + (1 − β₁)·g, in the form PyTorch computes it (lerp towards g).
                                m[i] += firstWeight * (decayedGradient - m[i])
                                v[i] = beta2 * v[i] + secondWeight * decayedGradient * decayedGradient
                                p[i] = decayedParameter - stepSize * m[i] / (v[i].squareRoot() / secondCorrection + epsilon)
                            }
                        }
                    }
                }
            }
        }
        stepCount += 1
    }

    var state: [String: Tensor] {
        var state = ["step": Tensor(Float(stepCount))]
        for index in parameterSteps.indices where parameterSteps[index] > 0 {
            state["\(index).step"] = Tensor(Float(parameterSteps[index]))
            state["\(index).exp_avg"] = firstMoments[index]
            state["\(index).exp_avg_sq"] = secondMoments[index]
        }
        return state
    }

    mutating func load(_ state: [String: Tensor], parameters: [Parameter]) throws(OptimizerStateError) {
        let saved = try ValidatedOptimizerState(state, parameters: parameters,
                                                tensorSlots: ["exp_avg", "exp_avg_sq"], hasParameterSteps: true)
        stepCount = saved.stepCount
        firstMoments = saved.tensors.map { $0["exp_avg"] }
        secondMoments = saved.tensors.map { $0["exp_avg_sq"] }
        parameterSteps = saved.parameterSteps.map { $0 ?? 0 }
    }
}

/// xⁿ for n ≥ 0, by repeated squaring.
private func power(_ x: Double, _ n: Int) -> Double {
    var result = 1.0, base = x, exponent = n
    while exponent > 0 {
        if exponent & 1 == 1 { result *= base }
        base *= base
        exponent >>= 1
    }
    return result
}
