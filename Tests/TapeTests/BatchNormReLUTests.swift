import Testing
@testable import Tape

// `batchNormalizedReLU` against the composition it replaces, relu(batchNormalized(x) + r), and
// what it keeps for the backward pass. Its derivatives against finite differences (first order,
// strided inputs, second order) are cases of the table in GradientTests.swift.

/// Whether the op gets a residual addend, and whether that addend needs a gradient.
enum ResidualAddend: String, Sendable, CaseIterable {
    case none, constant, trainable
}

/// relu(bn(x) + r) once fused and once composed, with the same inputs and cotangent.
struct BatchNormReLURun {
    let output: Tensor, mean: Tensor, variance: Tensor
    /// ∂x, then ∂γ and ∂β (when they need gradients), then ∂r (when r needs one).
    let gradients: [Tensor]

    init(fused: Bool, shape: [Int], residual: ResidualAddend, affineGradients: Bool, seed: UInt64 = 1) {
        var random = SplitMix64(seed: seed)
        let channels = shape[1]
        let x = Variable(Tensor.randomNormal(shape, using: &random) * 2 + 1, requiresGradient: true)
        let gamma = Variable(Tensor.randomNormal([channels], using: &random), requiresGradient: affineGradients)
        let beta = Variable(Tensor.randomNormal([channels], using: &random), requiresGradient: affineGradients)
        let addend = Tensor.randomNormal(shape, using: &random)
        let cotangent = Tensor.randomNormal(shape, using: &random)
        let r: Variable? = switch residual {
        case .none: nil
        case .constant: Variable(addend)
        case .trainable: Variable(addend, requiresGradient: true)
        }
        let y: Variable
        if fused {
            (y, mean, variance) = batchNormalizedReLU(x, weight: gamma, bias: beta, adding: r, epsilon: 1e-5)
        } else {
            let normalized: Variable
            (normalized, mean, variance) = batchNormalized(x, weight: gamma, bias: beta, epsilon: 1e-5)
            y = (r.map { normalized + $0 } ?? normalized).relu()
        }
        output = y.value
        let wanted = [x] + (affineGradients ? [gamma, beta] : []) + (residual == .trainable ? [r!] : [])
        gradients = y.gradients(withRespectTo: wanted, seed: cotangent).map(\.value)
    }
}

/// max |a − b| / max |b|: 0 for equal tensors.
func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "relativeDifference: \(a.shape) vs \(b.shape)")
    let scale = b.scalars.map(abs).max() ?? 0
    let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? difference / scale : difference
}

@Suite("batchNormalizedReLU: batch normalisation, residual addition and ReLU as one primitive")
struct BatchNormReLUTests {
    @Test("equals relu(batchNormalized(x) + r), forward and backward",
          arguments: [[3, 5, 7, 9], [6, 4]], ResidualAddend.allCases)
    func matchesComposition(shape: [Int], residual: ResidualAddend) {
        for affineGradients in [true, false] {
            let fused = BatchNormReLURun(fused: true, shape: shape, residual: residual, affineGradients: affineGradients)
            let composed = BatchNormReLURun(fused: false, shape: shape, residual: residual, affineGradients: affineGradients)
            // Some outputs are clipped and some are not, so the mask matters.
            #expect(fused.output.scalars.contains(0) && fused.output.scalars.contains { $0 > 0 })
            #expect(relativeDifference(fused.output, composed.output) <= 1e-5)
            #expect(fused.mean == composed.mean && fused.variance == composed.variance)
            let expectedCount = 1 + (affineGradients ? 2 : 0) + (residual == .trainable ? 1 : 0)
            #expect(fused.gradients.count == expectedCount && composed.gradients.count == expectedCount)
            for (index, (a, b)) in zip(fused.gradients, composed.gradients).enumerated() {
                #expect(relativeDifference(a, b) <= 1e-5, "gradient \(index) (affine gradients: \(affineGradients))")
            }
        }
    }

    /// [N, C, H, W] = [3, 5, 7, 9]: 945 activations, 5 channels. The fused op keeps x and y
    /// (945 each) and γ, β (5 each): 1900 floats, with or without a residual addend, which it
    /// never keeps (keeping every input would be 945 more). The composition keeps the same 1900:
    /// batch normalisation x, γ, β, ReLU its output (the addition only shapes). What fusion
    /// saves is traffic and temporaries (the normalised value, the sum, ReLU's mask and ∂z),
    /// not saved floats.
    @Test("keeps x, y, γ and β: never the residual, never z")
    func savedFloats() {
        let shape = [3, 5, 7, 9], elements = 945, channels = 5
        var random = SplitMix64(seed: 2)
        let x = Variable(Tensor.randomNormal(shape, using: &random), requiresGradient: true)
        let gamma = Variable(Tensor.randomNormal([channels], using: &random), requiresGradient: true)
        let beta = Variable(Tensor.randomNormal([channels], using: &random), requiresGradient: true)
        let r = Variable(Tensor.randomNormal(shape, using: &random), requiresGradient: true)
        let expected = 2 * elements + 2 * channels
        for residual in [nil, r] {
            let fused = batchNormalizedReLU(x, weight: gamma, bias: beta, adding: residual, epsilon: 1e-5).output
            let normalized = batchNormalized(x, weight: gamma, bias: beta, epsilon: 1e-5).output
            let composed = (residual.map { normalized + $0 } ?? normalized).relu()
            #expect(Tape.savedScalarCount(of: fused) == expected)
            #expect(Tape.savedScalarCount(of: composed) == expected)
        }
    }

    @Test("bit-identical on 1 and 2 threads, forward and backward")
    func threadCountInvariance() {
        func run(threads: Int) -> [Float] {
            kernelThreadCount = threads
            defer { kernelThreadCount = 0 }
            let result = BatchNormReLURun(fused: true, shape: [8, 6, 13, 11], residual: .trainable, affineGradients: true, seed: 3)
            return result.output.scalars + result.mean.scalars + result.variance.scalars + result.gradients.flatMap(\.scalars)
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one.count > 8 * 6 * 13 * 11 && one == two)
    }
}
