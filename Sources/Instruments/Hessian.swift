import Tape

// Hessians of a loss with respect to a model's parameters, for the conditioning argument of
// Li, Jiao, Han & Weissman, "Demystifying ResNet" (https://arxiv.org/abs/1611.01186): at the
// zero initial point the Hessian of a linear network with shortcuts of depth 2 has a condition
// number independent of depth, with shortcut 1 (or none) it explodes with depth, and with
// shortcuts of depth ≥ 3 the Hessian vanishes (a high-order stationary point).
//
// Double backward on the parameters themselves: the first reverse pass records itself
// (`createGraph`), giving g(θ) = ∂loss/∂θ as variables on the tape; H·v = ∂⟨g, v⟩/∂θ, and row i
// of H is ∂gᵢ/∂θ. This works for any model (convolutions, BatchNorm, residual blocks) with no
// functional re-implementation: the parameters are the tape's leaves. θ is the concatenation
// of the parameters' flattened values, in the order given.

/// The parameters' values flattened and concatenated, in order.
public func flattenedValues(of parameters: [Parameter]) -> [Float] { parameters.flatMap(\.value.scalars) }

/// Sets the parameters from a flat vector laid out as `flattenedValues(of:)`.
public func assignFlattenedValues(_ values: [Float], to parameters: [Parameter]) {
    precondition(values.count == parameters.reduce(0) { $0 + $1.value.count },
                 "assignFlattenedValues: \(values.count) values for \(parameters.reduce(0) { $0 + $1.value.count }) parameter elements")
    var offset = 0
    for parameter in parameters {
        let count = parameter.value.count
        parameter.value = Tensor(shape: parameter.value.shape, scalars: Array(values[offset..<(offset + count)]))
        offset += count
    }
}

/// Hessian-vector products v ↦ H·v of one recorded loss with respect to `parameters`, at their
/// current values: one double-backward reverse pass each.
public final class HessianVectorProducts {
    /// The parameters θ, in the order of the flattened vectors.
    public let parameters: [Parameter]
    /// The loss at the recorded point.
    public let loss: Double
    /// g = ∂loss/∂θ, flattened.
    public let gradient: [Double]
    /// The number of parameter elements n (H is n × n).
    public let dimension: Int
    private let gradients: [Variable]
    private let flatGradient: Variable

    /// Runs `loss` (a forward pass returning a single-element loss that depends on `parameters`)
    /// and records its gradient for differentiation.
    public init(parameters: [Parameter], loss: () -> Variable) {
        precondition(!parameters.isEmpty, "HessianVectorProducts: no parameters")
        self.parameters = parameters
        let value = loss()
        precondition(value.value.count == 1, "HessianVectorProducts: the loss must have one element, got shape \(value.shape)")
        self.loss = Double(value.value.scalars[0])
        gradients = value.gradients(withRespectTo: parameters.map(\.variable), createGraph: true)
        flatGradient = concatenated(gradients.map { $0.reshaped(to: [$0.value.count]) }, axis: 0)
        gradient = flatGradient.value.scalars.map(Double.init)
        dimension = gradient.count
    }

    /// H·v.
    public func callAsFunction(_ vector: [Double]) -> [Double] {
        precondition(vector.count == dimension, "HessianVectorProducts: vector of \(vector.count) for dimension \(dimension)")
        let direction = Variable(Tensor(shape: [dimension], scalars: vector.map(Float.init)))
        return differentiate((flatGradient * direction).sum())
    }

    /// Row i of H: ∂gᵢ/∂θ.
    public func row(_ i: Int) -> [Double] { differentiate(flatGradient[.index(i)]) }

    /// The exact Hessian, n reverse passes, symmetrised as (H + Hᵀ)/2 (the rows agree with the
    /// columns up to Float rounding).
    public func matrix() -> [[Double]] {
        let rows = (0..<dimension).map(row)
        return (0..<dimension).map { i in (0..<dimension).map { j in (rows[i][j] + rows[j][i]) / 2 } }
    }

    private func differentiate(_ scalar: Variable) -> [Double] {
        scalar.gradients(withRespectTo: parameters.map(\.variable), retainGraph: true).flatMap { $0.value.scalars.map(Double.init) }
    }
}

/// The eigenvalue spectrum of a symmetric matrix (a Hessian) and its conditioning.
///
/// With τ = `relativeThreshold` · max|λ|, eigenvalues with |λ| ≤ τ count as zero (the Hessian of
/// an over-parameterised net is singular; rounding makes its zero eigenvalues small of either
/// sign). Then:
///
///     conditionNumber          = λ_max / λ_min over the eigenvalues λ > τ (nil if there are none):
///                                the curvature ratio that governs gradient descent near a minimum;
///     absoluteConditionNumber  = max|λ| / min|λ| over the eigenvalues with |λ| > τ (nil if none):
///                                the 2-norm condition number ‖H‖·‖H⁺‖ of H on its non-null
///                                space, defined at saddle points too (Li et al.'s zero initial
///                                point is a saddle for shortcut depth 2).
public struct HessianSpectrum: Sendable, Equatable {
    /// Ascending.
    public var eigenvalues: [Double]
    /// Eigenvalues with |λ| ≤ τ = relativeThreshold · max|λ| count as zero.
    public var relativeThreshold: Double

    /// A spectrum from known eigenvalues (sorted here).
    public init(eigenvalues: [Double], relativeThreshold: Double = 1e-6) {
        precondition(relativeThreshold >= 0, "HessianSpectrum: negative threshold \(relativeThreshold)")
        self.eigenvalues = eigenvalues.sorted()
        self.relativeThreshold = relativeThreshold
    }

    /// The exact spectrum of a recorded Hessian (n reverse passes and a Jacobi eigensolve).
    public init(_ products: HessianVectorProducts, relativeThreshold: Double = 1e-6) {
        self.init(eigenvalues: SymmetricEigendecomposition(products.matrix()).eigenvalues, relativeThreshold: relativeThreshold)
    }

    /// max|λ|.
    public var spectralRadius: Double { eigenvalues.map(Swift.abs).max() ?? 0 }
    /// τ = relativeThreshold · max|λ|.
    public var zeroThreshold: Double { relativeThreshold * spectralRadius }
    /// The number of eigenvalues λ > τ.
    public var positiveCount: Int { eigenvalues.filter { $0 > zeroThreshold }.count }
    /// The number of eigenvalues λ < −τ.
    public var negativeCount: Int { eigenvalues.filter { $0 < -zeroThreshold }.count }
    /// The number of eigenvalues with |λ| ≤ τ.
    public var nearZeroCount: Int { eigenvalues.count - positiveCount - negativeCount }

    /// λ_max / λ_min over the eigenvalues λ > τ; nil if there are none.
    public var conditionNumber: Double? {
        let positive = eigenvalues.filter { $0 > zeroThreshold }
        guard let smallest = positive.first, let largest = positive.last else { return nil }
        return largest / smallest
    }

    /// max|λ| / min|λ| over the eigenvalues with |λ| > τ; nil if there are none.
    public var absoluteConditionNumber: Double? {
        let magnitudes = eigenvalues.map(Swift.abs).filter { $0 > zeroThreshold }
        guard let smallest = magnitudes.min(), let largest = magnitudes.max() else { return nil }
        return largest / smallest
    }
}

/// Ritz values of the Hessian of `loss` with respect to `parameters` after `steps` Lanczos
/// iterations (`lanczosEigenvalues`) on Hessian-vector products: the extreme eigenvalues of
/// nets too large for the exact Hessian.
public func lanczosHessianEigenvalues(parameters: [Parameter], steps: Int, seed: UInt64 = 0, loss: () -> Variable) -> [Double] {
    let products = HessianVectorProducts(parameters: parameters, loss: loss)
    return lanczosEigenvalues(dimension: products.dimension, steps: Swift.min(steps, products.dimension), seed: seed) { products($0) }
}
