// Gradient checking that is honest in Float32. The tape's vector-Jacobian products are compared
// with central differences of the same Float32 function, contracted with a random cotangent and
// accumulated in Double:
//
//   per element:  (⟨v, f(x + hᵢeᵢ)⟩ − ⟨v, f(x − hᵢeᵢ)⟩) / 2hᵢ   vs   (Jᵀv)ᵢ from the tape
//   dot product:  ⟨v, (f(x + hu) − f(x − hu)) / 2h⟩              vs   ⟨Jᵀv, u⟩ for a random unit u
//
// with hᵢ = h·max(1, |xᵢ|) and h ≈ ∛ε(Float32). Errors are relative to the largest gradient
// entry (per element) and to ‖Jᵀv‖ (dot product), so one tolerance fits all scales. At the
// default tolerance a pullback that is off by 1% anywhere it matters fails.

/// What a gradient check measured.
public struct GradientCheckReport: CustomStringConvertible, Sendable {
    /// max over checked elements of |finite difference − tape| / max |tape gradient|.
    public var elementError: Double
    /// |⟨v, J u⟩ − ⟨Jᵀv, u⟩| / ‖Jᵀv‖ (u is a unit vector).
    public var dotProductError: Double
    /// Where the worst element was: (input index, flat element index, finite difference, tape).
    public var worst: (input: Int, element: Int, finiteDifference: Double, tape: Double)
    /// The largest error either measure may have for the check to pass.
    public var tolerance: Double

    /// True when both errors are within `tolerance`.
    public var passed: Bool { elementError <= tolerance && dotProductError <= tolerance }

    public var description: String {
        "gradient check \(passed ? "passed" : "FAILED"): element error \(elementError), dot-product error \(dotProductError) "
            + "(tolerance \(tolerance)); worst at input \(worst.input) element \(worst.element): "
            + "finite difference \(worst.finiteDifference), tape \(worst.tape)"
    }
}

/// Checks the tape's gradient of `function` at `inputs` against central differences.
///
/// - Parameters:
///   - function: any function of the inputs; its output is contracted with a random cotangent
///     (never all ones), so every output element's pullback is exercised.
///   - inputs: the point. Choose it away from kinks (ReLU at 0, ties in max) by more than the
///     step `h·max(1, |x|)`.
///   - maxElementsPerInput: how many randomly chosen elements of each input are checked one by
///     one (all when the input is smaller).
///   - step: the relative finite-difference step h.
public func checkGradient(of function: ([Variable]) -> Variable, at inputs: [Tensor], seed: UInt64 = 1,
                          tolerance: Double = 2e-3, step: Float = 4e-3, maxElementsPerInput: Int = 48) -> GradientCheckReport {
    let parameters = inputs.map(Parameter.init)
    return checkGradient(of: { function(parameters.map(\.variable)) }, parameters: parameters, seed: seed,
                         tolerance: tolerance, step: step, maxElementsPerInput: maxElementsPerInput)
}

/// Checks the tape's gradient of `function` with respect to `parameters` (which `function`
/// reads through `parameter.variable`, e.g. a layer's own weights and an input) against central
/// differences. The parameters' values are restored afterwards.
public func checkGradient(of function: () -> Variable, parameters: [Parameter], seed: UInt64 = 1,
                          tolerance: Double = 2e-3, step: Float = 4e-3, maxElementsPerInput: Int = 48) -> GradientCheckReport {
    var random = SplitMix64(seed: seed)
    let inputs = parameters.map(\.value)
    defer { for (parameter, value) in zip(parameters, inputs) { parameter.value = value } }
    let output = function()
    let cotangent = Tensor.randomNormal(output.shape, using: &random)
    let tapeGradients = output.gradients(withRespectTo: parameters.map(\.variable), seed: cotangent).map(\.value.scalars)
    let scale = Swift.max(tapeGradients.joined().map { Double(Swift.abs($0)) }.max() ?? 0, 1e-6)

    func contracted(_ point: [Tensor]) -> Double {
        for (parameter, value) in zip(parameters, point) { parameter.value = value }
        let value = function().value.scalars
        return zip(value, cotangent.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    var report = GradientCheckReport(elementError: 0, dotProductError: 0, worst: (0, 0, 0, 0), tolerance: tolerance)
    for (inputIndex, input) in inputs.enumerated() where input.count > 0 {
        var elements = Array(0..<input.count)
        if elements.count > maxElementsPerInput {
            elements.shuffle(using: &random)
            elements = Array(elements.prefix(maxElementsPerInput))
        }
        let flat = input.scalars
        for element in elements {
            let h = step * Swift.max(1, Swift.abs(flat[element]))
            var plus = flat, minus = flat
            plus[element] += h
            minus[element] -= h
            let actualStep = Double(plus[element]) - Double(minus[element])
            var pointPlus = inputs, pointMinus = inputs
            pointPlus[inputIndex] = Tensor(shape: input.shape, scalars: plus)
            pointMinus[inputIndex] = Tensor(shape: input.shape, scalars: minus)
            let difference = (contracted(pointPlus) - contracted(pointMinus)) / actualStep
            let tape = Double(tapeGradients[inputIndex][element])
            let error = Swift.abs(difference - tape) / scale
            if error > report.elementError {
                report.elementError = error
                report.worst = (inputIndex, element, difference, tape)
            }
        }
    }

    // Dot-product test along one random unit direction through all inputs at once.
    let directions = inputs.map { Tensor.randomNormal($0.shape, using: &random) }
    let norm = directions.map { $0.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }.reduce(0, +).squareRoot()
    let unit = directions.map { $0 * Float(1 / Swift.max(norm, 1e-12)) }
    let h = step * Swift.max(1, inputs.map { $0.scalars.map { Swift.abs($0) }.max() ?? 0 }.max() ?? 0)
    let difference = (contracted(zip(inputs, unit).map { $0 + $1 * h }) - contracted(zip(inputs, unit).map { $0 - $1 * h })) / (2 * Double(h))
    let tape = zip(tapeGradients, unit).reduce(0.0) { total, pair in
        total + zip(pair.0, pair.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let gradientNorm = tapeGradients.joined().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    report.dotProductError = Swift.abs(difference - tape) / Swift.max(gradientNorm, 1e-6)
    return report
}

/// Checks second derivatives: the gradient x ↦ ∇ₓ⟨w, f(x)⟩ (for a fixed random cotangent w),
/// computed with `createGraph`, must itself pass `checkGradient`. This exercises every pullback's
/// own pullback (double backward).
public func checkSecondGradient(of function: ([Variable]) -> Variable, at inputs: [Tensor], seed: UInt64 = 1,
                                tolerance: Double = 5e-3, step: Float = 4e-3, maxElementsPerInput: Int = 24) -> GradientCheckReport {
    let parameters = inputs.map(Parameter.init)
    return checkSecondGradient(of: { function(parameters.map(\.variable)) }, parameters: parameters, seed: seed,
                               tolerance: tolerance, step: step, maxElementsPerInput: maxElementsPerInput)
}

/// `checkSecondGradient` for a function of parameters.
public func checkSecondGradient(of function: () -> Variable, parameters: [Parameter], seed: UInt64 = 1,
                                tolerance: Double = 5e-3, step: Float = 4e-3, maxElementsPerInput: Int = 24) -> GradientCheckReport {
    var random = SplitMix64(seed: seed ^ 0x5EC0_4D)
    let cotangent = Tensor.randomNormal(withoutGradient { function() }.shape, using: &random)
    let firstGradient: () -> Variable = {
        let gradients = function().gradients(withRespectTo: parameters.map(\.variable), seed: cotangent, createGraph: true)
        return concatenated(gradients.map { $0.reshaped(to: [-1]) }, axis: 0)
    }
    return checkGradient(of: firstGradient, parameters: parameters, seed: seed, tolerance: tolerance, step: step,
                         maxElementsPerInput: maxElementsPerInput)
}

extension Tensor {
    /// A tensor of independent standard-normal samples, scaled by `standardDeviation`.
    public static func randomNormal(_ shape: [Int], standardDeviation: Float = 1, using random: inout SplitMix64) -> Tensor {
        Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in random.nextNormal() * standardDeviation })
    }

    /// A tensor of independent samples uniform in [lower, upper).
    public static func randomUniform(_ shape: [Int], lower: Float = 0, upper: Float = 1, using random: inout SplitMix64) -> Tensor {
        Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in lower + (upper - lower) * random.nextUniform() })
    }
}
