import Testing
import Instruments
import Models
import NN
import Tape
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A random orthogonal n × n matrix (Gram–Schmidt, twice, on Gaussian columns); rows of the result.
private func randomOrthogonal(_ n: Int, seed: UInt64) -> [[Double]] {
    var random = SplitMix64(seed: seed)
    var vectors = (0..<n).map { _ in (0..<n).map { _ in Double(random.nextNormal()) } }
    for i in 0..<n {
        for _ in 0..<2 {
            for j in 0..<i {
                let p = zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
                vectors[i] = zip(vectors[i], vectors[j]).map { $0 - p * $1 }
            }
        }
        let norm = vectors[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
        vectors[i] = vectors[i].map { $0 / norm }
    }
    return vectors
}

/// Qᵀ·diag(λ)·Q for orthonormal rows Q: eigenvalues λ, eigenvectors the rows of Q.
private func withSpectrum(_ eigenvalues: [Double], seed: UInt64) -> [[Double]] {
    let q = randomOrthogonal(eigenvalues.count, seed: seed)
    let n = eigenvalues.count
    return (0..<n).map { i in (0..<n).map { j in (0..<n).reduce(0) { $0 + q[$1][i] * eigenvalues[$1] * q[$1][j] } } }
}

private func multiply(_ a: [[Double]], _ v: [Double]) -> [Double] { a.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }

@Suite("Symmetric eigensolvers")
struct EigensolverTests {
    @Test func diagonalAndTwoByTwo() {
        let d = SymmetricEigendecomposition([[3, 0, 0], [0, -1, 0], [0, 0, 2]])
        #expect(d.eigenvalues == [-1, 2, 3])
        #expect(d.eigenvectors.map { $0.map(Swift.abs) } == [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
        let e = SymmetricEigendecomposition([[2, 1], [1, 2]])
        #expect(relativeError(e.eigenvalues, [1, 3]) < 1e-15)
        #expect(Swift.abs(Swift.abs(e.eigenvectors[1][0]) - Double(0.5).squareRoot()) < 1e-15)
        #expect(SymmetricEigendecomposition([[5]]).eigenvalues == [5])
        #expect(SymmetricEigendecomposition([]).eigenvalues.isEmpty)
    }

    /// The second-difference matrix tridiag(−1, 2, −1) of order n: λ_k = 2 − 2cos(kπ/(n + 1)).
    @Test func secondDifferenceMatrix() {
        let n = 10
        let a = (0..<n).map { i in (0..<n).map { j in i == j ? 2.0 : (Swift.abs(i - j) == 1 ? -1.0 : 0) } }
        let expected = (1...n).map { 2 - 2 * cos(Double($0) * Double.pi / Double(n + 1)) }
        #expect(relativeError(SymmetricEigendecomposition(a).eigenvalues, expected) < 1e-13)
    }

    /// A rotated spectrum with a repeated eigenvalue: values, A·v = λ·v, and V orthonormal.
    @Test func rotatedMatrices() {
        let spectrum: [Double] = [-3, -0.5, 0, 1, 1, 2.5, 7, 40]
        let a = withSpectrum(spectrum, seed: 1)
        let d = SymmetricEigendecomposition(a)
        #expect(relativeError(d.eigenvalues, spectrum) < 1e-13)
        for (value, vector) in zip(d.eigenvalues, d.eigenvectors) {
            #expect(relativeError(multiply(a, vector), vector.map { $0 * value }, floor: 40) < 1e-13)
        }
        for i in 0..<8 { for j in 0..<8 {
            let dot = zip(d.eigenvectors[i], d.eigenvectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(Swift.abs(dot - (i == j ? 1 : 0)) < 1e-13)
        } }
    }

    /// Full Lanczos (steps = n) gives the whole spectrum; few steps give the well-separated extremes.
    @Test func lanczosAgainstJacobi() {
        var random = SplitMix64(seed: 2)
        let n = 30
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in i..<n { let v = Double(random.nextNormal()); (a[i][j], a[j][i]) = (v, v) } }
        let exact = SymmetricEigendecomposition(a).eigenvalues
        let ritz = lanczosEigenvalues(dimension: n, steps: n, seed: 3) { multiply(a, $0) }
        #expect(relativeError(ritz, exact) < 1e-9)

        let spectrum = [-20.0] + (0..<58).map { -1 + 2 * Double($0) / 57 } + [50]
        let b = withSpectrum(spectrum, seed: 4)
        let few = lanczosEigenvalues(dimension: 60, steps: 20, seed: 5) { multiply(b, $0) }
        #expect(few.count == 20)
        #expect(relativeError(few[19], 50) < 1e-10 && relativeError(few[0], -20) < 1e-10)
        #expect(few.allSatisfy { $0 >= -20 - 1e-9 && $0 <= 50 + 1e-9 })   // Ritz values lie inside the spectrum
    }

    /// An operator with only 3 distinct eigenvalues has a 3-dimensional Krylov space: Lanczos
    /// stops early with exactly those.
    @Test func lanczosStopsOnAnInvariantSubspace() {
        let a = withSpectrum([1, 1, 1, 4, 4, 9], seed: 6)
        let ritz = lanczosEigenvalues(dimension: 6, steps: 6, seed: 7) { multiply(a, $0) }
        #expect(ritz.count == 3 && relativeError(ritz, [1, 4, 9]) < 1e-10)
    }
}

@Suite("Hessians (Li et al.)")
struct HessianTests {
    /// loss = (1/N)Σₙ (w·(V·xₙ) − yₙ)² with V [h, d], w [h]; zₙ = V·xₙ, rₙ = w·zₙ − yₙ:
    ///   ∂²/∂V_ai∂V_bj = (2/N)Σ w_a w_b x_i x_j
    ///   ∂²/∂V_ai∂w_b  = (2/N)Σ (z_b w_a x_i + r δ_ab x_i)
    ///   ∂²/∂w_a∂w_b   = (2/N)Σ z_a z_b
    @Test func twoLayerLinearNetAgainstTheAnalyticHessian() {
        let (d, h, n) = (3, 2, 4)
        var random = SplitMix64(seed: 8)
        let net = Sequential(Linear(d, h, bias: false, using: &random), Linear(h, 1, bias: false, using: &random))
        let x = Fixture.batch(n, d, seed: 9), y = Fixture.batch(n, 1, seed: 10)
        let products = HessianVectorProducts(parameters: net.parameters) {
            var context = ForwardContext.evaluation
            return meanSquaredError(net(Variable(x), &context), Variable(y))
        }
        let v = net.parameters[0].value.scalars.map(Double.init), w = net.parameters[1].value.scalars.map(Double.init)
        let xs = x.scalars.map(Double.init), ys = y.scalars.map(Double.init)
        var analytic = [[Double]](repeating: [Double](repeating: 0, count: h * d + h), count: h * d + h)
        for s in 0..<n {
            let xn = Array(xs[(s * d)..<((s + 1) * d)])
            let z = (0..<h).map { a in (0..<d).reduce(0) { $0 + v[a * d + $1] * xn[$1] } }
            let r = zip(w, z).reduce(0) { $0 + $1.0 * $1.1 } - ys[s]
            for a in 0..<h { for i in 0..<d {
                for b in 0..<h { for j in 0..<d { analytic[a * d + i][b * d + j] += 2 * w[a] * w[b] * xn[i] * xn[j] / Double(n) } }
                for b in 0..<h {
                    let value = 2 * (z[b] * w[a] * xn[i] + (a == b ? r * xn[i] : 0)) / Double(n)
                    analytic[a * d + i][h * d + b] += value
                    analytic[h * d + b][a * d + i] += value
                }
            } }
            for a in 0..<h { for b in 0..<h { analytic[h * d + a][h * d + b] += 2 * z[a] * z[b] / Double(n) } }
        }
        let matrix = products.matrix()
        #expect(relativeError(matrix.flatMap { $0 }, analytic.flatMap { $0 }) < 1e-5)
        // H·v against the matrix.
        let direction = (0..<(h * d + h)).map { Double($0) - 3 }
        #expect(relativeError(products(direction), multiply(analytic, direction)) < 1e-5)
    }

    /// The parameter-leaf Hessian of a residual MLP (shortcut span 2, tanh) against Tape's
    /// functional `hessian(of:at:)` of the same forward pass written on one flat parameter vector.
    @Test func residualMLPAgainstAFunctionalReimplementation() {
        let net = Fixture.mlp(inputs: 2, outputs: 1, depth: 2, width: 3, nonlinearity: .tanh, span: 2, seed: 11)
        let x = Fixture.batch(5, 2, seed: 12), target = Fixture.batch(5, 1, seed: 13)
        let parameters = net.parameters
        let shapes = parameters.map(\.value.shape)
        #expect(shapes == [[3, 2], [3], [3, 3], [3], [3, 3], [3], [1, 3], [1]])
        func functional(_ theta: Variable) -> Variable {
            var offset = 0
            var pieces: [Variable] = []
            for shape in shapes {
                let count = shape.reduce(1, *)
                pieces.append(theta[.range(offset..<(offset + count))].reshaped(to: shape))
                offset += count
            }
            func dense(_ input: Variable, _ k: Int) -> Variable {
                matmul(input, pieces[2 * k].transposed()) + pieces[2 * k + 1]
            }
            let h = dense(Variable(x), 0).tanh()
            let h2 = h + dense(dense(h, 1).tanh(), 2).tanh()   // y = x + u₂(u₁(x))
            return meanSquaredError(dense(h2, 3), Variable(target))
        }
        let point = Tensor(flattenedValues(of: parameters))
        let reference = hessian(of: functional, at: point)
        let products = HessianVectorProducts(parameters: parameters) {
            var context = ForwardContext.evaluation
            return meanSquaredError(net(Variable(x), &context), Variable(target))
        }
        #expect(relativeError(products.loss, Double(functional(Variable(point)).scalar)) < 1e-6)
        #expect(relativeError(products.matrix().flatMap { $0 }, reference.scalars.map(Double.init)) < 1e-4)
        #expect(relativeError(products.gradient, gradient(of: functional, at: point).scalars.map(Double.init)) < 1e-5)
    }

    @Test func lanczosOnANetHessian() {
        let net = Fixture.mlp(inputs: 2, outputs: 1, depth: 2, width: 3, nonlinearity: .tanh, span: 2, seed: 14)
        let x = Fixture.batch(6, 2, seed: 15), target = Fixture.batch(6, 1, seed: 16)
        let loss = { () -> Variable in
            var context = ForwardContext.evaluation
            return meanSquaredError(net(Variable(x), &context), Variable(target))
        }
        let exact = HessianSpectrum(HessianVectorProducts(parameters: net.parameters, loss: loss))
        #expect(exact.eigenvalues.count == 37)
        let all = lanczosHessianEigenvalues(parameters: net.parameters, steps: 37, loss: loss)
        let radius = exact.spectralRadius
        #expect(all.count >= 30)   // float HVPs may end the Krylov space early on tiny eigenvalues
        #expect(Swift.abs(all[all.count - 1] - exact.eigenvalues[36]) < 1e-4 * radius)
        #expect(Swift.abs(all[0] - exact.eigenvalues[0]) < 1e-4 * radius)
        let few = lanczosHessianEigenvalues(parameters: net.parameters, steps: 15, seed: 1, loss: loss)
        #expect(Swift.abs(few[few.count - 1] - exact.eigenvalues[36]) < 1e-3 * radius)
    }

    @Test func spectrumSummary() {
        let s = HessianSpectrum(eigenvalues: [4, -8, 1e-9, 0, 1])
        #expect(s.eigenvalues == [-8, 0, 1e-9, 1, 4])
        #expect(s.spectralRadius == 8 && s.zeroThreshold == 8e-6)
        #expect(s.positiveCount == 2 && s.negativeCount == 1 && s.nearZeroCount == 2)
        #expect(s.conditionNumber == 4 && s.absoluteConditionNumber == 8)
        let negative = HessianSpectrum(eigenvalues: [-1, -2, 0])
        #expect(negative.conditionNumber == nil && negative.absoluteConditionNumber == 2)
        #expect(HessianSpectrum(eigenvalues: [0, 0]).absoluteConditionNumber == nil)
    }

    /// Li et al.: at the zero initial point (biases zero, only the hidden weights varied) a
    /// linear chain of three zero weight matrices has a zero Hessian, with or without a shortcut
    /// around all three (a high-order stationary point), while a shortcut around two gives a
    /// strict saddle: H = [[0, C], [Cᵀ, 0]], with eigenvalues ±σᵢ(C).
    @Test func zeroInitialPoint() {
        func spectrum(depth: Int, span: Int?) -> HessianSpectrum {
            let net = DeepNetwork(DeepNetworkConfiguration(inputs: 2, outputs: 1, depth: depth, width: 2, nonlinearity: .linear,
                                                           shortcutSpan: span, weightInitializer: .constant(0)), seed: 17)
            let weights = (0..<net.residualBlocks.count).flatMap { b in Fixture.units(net, block: b).map(\.weight) }
            var random = SplitMix64(seed: 20)
            for p in [net.input.weight, net.output.weight] { p.value = Tensor.randomNormal(p.value.shape, using: &random) }
            let x = Fixture.batch(4, 2, seed: 18), target = Fixture.batch(4, 1, seed: 19)
            return HessianSpectrum(HessianVectorProducts(parameters: weights) {
                var context = ForwardContext.evaluation
                return meanSquaredError(net(Variable(x), &context), Variable(target))
            })
        }
        let plain = spectrum(depth: 3, span: nil), shortcut3 = spectrum(depth: 3, span: 3)
        #expect(plain.spectralRadius == 0 && plain.nearZeroCount == 12)
        #expect(shortcut3.spectralRadius == 0)
        let shortcut2 = spectrum(depth: 2, span: 2)
        #expect(shortcut2.negativeCount > 0 && shortcut2.negativeCount == shortcut2.positiveCount)
        let values = shortcut2.eigenvalues
        #expect(relativeError(values, values.reversed().map { -$0 }, floor: shortcut2.spectralRadius) < 1e-5)
    }

    @Test func flattenedValuesRoundTrip() {
        let net = Fixture.mlp()
        let values = flattenedValues(of: net.parameters)
        #expect(values.count == net.parameterCount)
        assignFlattenedValues(values.map { $0 * 2 }, to: net.parameters)
        #expect(flattenedValues(of: net.parameters) == values.map { $0 * 2 })
        #expect(net.parameters[0].value.shape == [4, 3])
    }
}
