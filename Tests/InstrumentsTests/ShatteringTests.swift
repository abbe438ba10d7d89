import Testing
import Instruments
import Models
import NN
import Tape

@Suite("Shattered gradients (Balduzzi et al.)")
struct ShatteringTests {
    private func whiteNoise(_ count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(random.nextNormal()) }
    }

    @Test func constantSequenceIsPerfectlyCorrelated() {
        let c = SequenceCorrelation([Double](repeating: -0.7, count: 50), maxLag: 10)
        #expect(c.lagCorrelation.allSatisfy { Swift.abs($0 - 1) < 1e-15 })
        #expect(c.autocorrelation == nil && c.lag1Autocorrelation == nil && c.correlationLength == nil)
    }

    /// Independent N(0, 1) values: every correlation at lag ≥ 1 is within a few 1/√N of 0.
    @Test func whiteNoiseIsUncorrelated() {
        let c = SequenceCorrelation(whiteNoise(4096, seed: 1), maxLag: 20)
        let bound = 4 / Double(4096.0).squareRoot()
        #expect(c.lagCorrelation[0] == 1 && c.autocorrelation![0] == 1)
        #expect(c.lagCorrelation.dropFirst().allSatisfy { Swift.abs($0) < bound })
        #expect(c.autocorrelation!.dropFirst().allSatisfy { Swift.abs($0) < bound })
        #expect(c.correlationLength == 1)
    }

    /// AR(1), gᵢ = φ·gᵢ₋₁ + εᵢ: r(d) → φ^d.
    @Test func autoregressiveSequenceHasGeometricCorrelation() {
        let noise = whiteNoise(20000, seed: 2)
        var values = [noise[0]]
        for e in noise.dropFirst() { values.append(0.8 * values[values.count - 1] + e) }
        let c = SequenceCorrelation(values, maxLag: 12)
        for d in 1...5 { #expect(Swift.abs(c.autocorrelation![d] - Double.pow08(d)) < 0.03, "lag \(d)") }
        #expect(c.correlationLength == 5)   // 0.8⁴ = 0.41 ≥ 1/e > 0.8⁵ = 0.33
        // Brown noise (φ = 1) is correlated far beyond lag 12.
        var walk = [0.0]
        for e in noise { walk.append(walk[walk.count - 1] + e) }
        let brown = SequenceCorrelation(walk, maxLag: 12)
        #expect(brown.lag1Autocorrelation! > 0.95 && brown.correlationLength == nil)
    }

    /// A linear network is an affine function of x: one gradient everywhere, equal to the slope
    /// (y(x₁) − y(x₀))/(x₁ − x₀).
    @Test func linearNetworkHasConstantGradients() {
        let net = Fixture.mlp(inputs: 1, outputs: 1, depth: 6, width: 8, nonlinearity: .linear, span: 2)
        let result = shatteredGradients(of: { var context = ForwardContext.evaluation; return net($0, &context) })
        #expect(result.inputs.count == 256 && result.inputs[0] == -2 && result.inputs[255] == 2)
        var context = ForwardContext.evaluation
        let ends = net(Variable(Tensor(shape: [2, 1], scalars: [-2, 2])), &context).value.scalars.map(Double.init)
        let slope = (ends[1] - ends[0]) / 4
        #expect(relativeError(result.gradients, [Double](repeating: slope, count: 256)) < 1e-4)
        #expect(result.correlation.lagCorrelation.allSatisfy { Swift.abs($0 - 1) < 1e-6 })
        #expect(result.correlation.autocorrelation == nil)
    }

    @Test func gradientsOfAKnownFunction() {
        let grid = gridPoints(from: -1, to: 1, count: 5)
        #expect(grid == [-1, -0.5, 0, 0.5, 1])
        let result = shatteredGradients(of: { $0 * $0 * $0 }, grid: grid, maxLag: 2)   // dy/dx = 3x²
        #expect(result.gradients == [3, 0.75, 0, 0.75, 3])
    }

    /// The paper's observation at initialisation (figure 1): the gradients of a deep plain
    /// rectifier net are less correlated between neighbouring inputs than a resnet's of the same
    /// depth, which stay almost perfectly correlated.
    @Test func deepPlainNetsShatterMoreThanResnets() {
        func lag1(_ net: DeepNetwork) -> Double {
            shatteredGradients(of: { var context = ForwardContext.evaluation; return net($0, &context) }).correlation.lag1Autocorrelation!
        }
        var plainValues: [Double] = []
        for seed: UInt64 in [3, 4, 5] {
            let plain = lag1(Fixture.mlp(inputs: 1, outputs: 1, depth: 24, width: 64, span: nil, seed: seed))
            let resnet = lag1(Fixture.mlp(inputs: 1, outputs: 1, depth: 24, width: 64, span: 2, seed: seed))
            #expect(resnet > 0.95 && plain < resnet - 0.05, "seed \(seed): plain \(plain), resnet \(resnet)")
            plainValues.append(plain)
        }
        #expect(plainValues.reduce(0, +) / 3 < 0.9)
    }

    /// y = Σ x²: gₙ = 2xₙ, so Gᵢⱼ = 4⟨xᵢ, xⱼ⟩.
    @Test func gramOfAQuadratic() {
        let x = Variable(Tensor(shape: [3, 2], scalars: [1, 0, 0, 2, 1, 1]), requiresGradient: true)
        let gram = gradientGram(of: (x * x).sum(alongAxes: [1]), withRespectTo: x)
        #expect(gram.gram == [[4, 0, 4], [0, 16, 8], [4, 8, 8]])
        #expect(Swift.abs(gram.correlation[0][2] - 1 / Double(2.0).squareRoot()) < 1e-15 && gram.correlation[0][1] == 0)
        // Mean gradient (4/3, 2); centred (2/3, −2), (−4/3, 2), (2/3, 0); covariance ⟨·,·⟩/2.
        #expect(relativeError(gram.covariance[0], [20.0 / 9, -22.0 / 9, 2.0 / 9]) < 1e-12)
        #expect(Swift.abs(gram.meanOffDiagonalCorrelation - (0 + 1 / Double(2.0).squareRoot() + 8 / (4 * Double(8.0).squareRoot())) / 3) < 1e-12)
    }

    /// A linear model: every example has the same gradient, so every correlation is 1.
    @Test func gramOfALinearModel() {
        var random = SplitMix64(seed: 4)
        let linear = Linear(4, 1, using: &random)
        let x = Variable(Fixture.batch(5, 4, seed: 5), requiresGradient: true)
        var context = ForwardContext.evaluation
        let gram = gradientGram(of: linear(x, &context), withRespectTo: x)
        #expect(Swift.abs(gram.meanOffDiagonalCorrelation - 1) < 1e-6)
        #expect(gram.covariance.allSatisfy { row in row.allSatisfy { Swift.abs($0) < 1e-12 } })
    }

    /// g = 1, 2, 3, 4 by hand: ḡ = 2.5, centred −1.5, −0.5, 0.5, 1.5 with Σ = 5; lag 1:
    /// 0.75 − 0.25 + 0.75 = 1.25 → r(1) = 0.25; lag 2: −0.75 − 0.75 → r(2) = −0.3. Uncentred
    /// lag 1: (2 + 6 + 12)/√(14·29) = 20/√406.
    @Test func centredAndUncentredCorrelationByHand() {
        let c = SequenceCorrelation([1, 2, 3, 4], maxLag: 2)
        #expect(Swift.abs(c.autocorrelation![1] - 0.25) < 1e-15 && Swift.abs(c.autocorrelation![2] + 0.3) < 1e-15)
        #expect(Swift.abs(c.lagCorrelation[1] - 20 / Double(406).squareRoot()) < 1e-15)
        #expect(c.lag1Autocorrelation == c.autocorrelation![1])
    }

    /// y = BN(x) on one channel (γ = 1, β = 0): Σₙ yₙ ≡ 0, so the gradient through the batch
    /// statistics is 0 everywhere; with the statistics frozen it is 1/√(σ² + ε) everywhere (σ² the
    /// biased variance of the grid), and evaluation mode then reproduces the training output.
    @Test func batchNormGradientConventions() {
        let grid = gridPoints(from: -1, to: 3, count: 9)
        let through = shatteredGradients(of: BatchNorm1d(1), grid: grid, maxLag: 2, batchNorm: .throughBatchStatistics)
        #expect(through.gradients.allSatisfy { Swift.abs($0) < 1e-6 })
        let norm = BatchNorm1d(1)
        let frozen = shatteredGradients(of: norm, grid: grid, maxLag: 2, batchNorm: .frozenStatistics)
        let mean = grid.reduce(0) { $0 + Double($1) } / 9
        let variance = grid.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 9
        #expect(Swift.abs(Double(norm.runningMean.value.scalars[0]) - mean) < 1e-6)
        #expect(Swift.abs(Double(norm.runningVariance.value.scalars[0]) - variance) < 1e-5)
        #expect(frozen.gradients.allSatisfy { Swift.abs($0 - 1 / (variance + 1e-5).squareRoot()) < 1e-5 })
        var training = ForwardContext.training(), evaluation = ForwardContext.evaluation
        let x = Variable(Tensor(shape: [9, 1], scalars: grid))
        let trained = BatchNorm1d(1)(x, &training).scalars, evaluated = norm(x, &evaluation).scalars
        #expect(zip(trained, evaluated).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    /// A deep BatchNorm net: freezing the grid's statistics leaves every output as in training mode.
    @Test func frozenStatisticsReproduceTheTrainingPass() {
        var configuration = DeepNetworkConfiguration(inputs: 1, outputs: 1, depth: 6, width: 16, normalization: .batch,
                                                     shortcutSpan: 1, biasStandardDeviation: 0.1)
        configuration.form = .preActivation
        let net = DeepNetwork(configuration, seed: 2)
        let x = Variable(Tensor(shape: [32, 1], scalars: gridPoints(count: 32)))
        var training = ForwardContext.training()
        let trained = net(x, &training).scalars
        freezeBatchStatistics(of: net, on: x.value)
        var evaluation = ForwardContext.evaluation
        let evaluated = net(x, &evaluation).scalars
        #expect(zip(trained, evaluated).allSatisfy { Swift.abs($0 - $1) < 1e-4 * Swift.max(1, Swift.abs($0)) })
    }
}

private extension Double {
    static func pow08(_ d: Int) -> Double { (0..<d).reduce(1) { r, _ in r * 0.8 } }
}
