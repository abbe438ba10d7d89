import Testing
import Instruments
import Models
import NN
import Tape

@Suite("Gradient scale coefficient")
struct GradientScaleTests {
    /// f_k = a_k · f_{k−1}: J = (∏a)·I, ‖J‖_qm = |∏a|, and ‖f_k‖ = |∏a|·‖f₀‖, so every GSC is 1.
    @Test func aScaledLinearChainHasUnitGSC() {
        let scales: [Float] = [3, -0.5, 4, 0.1]
        let f0 = Variable(Fixture.batch(3, 5, seed: 1), requiresGradient: true)
        var representations = [f0]
        for a in scales { representations.append(representations[representations.count - 1] * a) }
        var product = 1.0
        for (k, a) in scales.enumerated() {
            product *= Double(a)
            let norms = jacobianQuadraticMeanNorms(of: representations[k + 1], withRespectTo: f0)
            #expect(relativeError(norms, [Double](repeating: Swift.abs(product), count: 3)) < 1e-6)
        }
        let profile = gradientScaleProfile(representations)
        #expect(relativeError(profile.lowestToEach, [Double](repeating: 1, count: 5)) < 1e-6)
        #expect(relativeError(profile.eachToHighest, [Double](repeating: 1, count: 5)) < 1e-6)
        let rms = TensorStatistics(f0.value).rootMeanSquare
        #expect(profile.quadraticMeans[0] > 0.5 * rms && profile.quadraticMeans[0] < 2 * rms)
    }

    /// J = diag(2, ½): ‖J‖_qm = √((4 + ¼)/2). For x = (1, 0), f = (2, 0): GSC = ‖J‖_qm·1/2; for
    /// x = (0, 1), f = (0, ½): GSC = ‖J‖_qm·1/(½).
    @Test func aDiagonalMapByHand() {
        let x = Variable(Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), requiresGradient: true)
        let f = x * Variable(Tensor([2, 0.5]))
        let qm = (4.25 / 2).squareRoot()
        #expect(relativeError(jacobianQuadraticMeanNorms(of: f, withRespectTo: x), [qm, qm]) < 1e-7)
        #expect(relativeError(gradientScaleCoefficients(from: x, to: f), [qm / 2, qm * 2]) < 1e-7)
    }

    /// Duplicating the units: J = [I; I], ‖J‖_qm = √2 (right dimension d), ‖f‖ = √2‖x‖: GSC 1.
    @Test func duplicatingUnitsLeavesTheGSCUnchanged() {
        let x = Variable(Fixture.batch(2, 3, seed: 2), requiresGradient: true)
        let f = concatenated([x, x], axis: 1)
        #expect(relativeError(jacobianQuadraticMeanNorms(of: f, withRespectTo: x), [Double(2.0).squareRoot(), Double(2.0).squareRoot()]) < 1e-7)
        #expect(relativeError(gradientScaleCoefficients(from: x, to: f), [1, 1]) < 1e-6)
    }

    /// Multiplying a hidden representation by c and dividing it back inside the next layer
    /// changes no function, and no GSC.
    @Test func invariantToRescalingALayer() {
        let net = Fixture.mlp(depth: 4, width: 5, nonlinearity: .tanh, span: nil)
        let x = Fixture.batch(3, 3, seed: 3)
        func profile(scale c: Float) -> GradientScaleProfile {
            var context = ForwardContext.evaluation
            var representations = [net.input(Variable(x), &context)]
            for (k, block) in net.blocks.layers.enumerated() {
                let previous = representations[k]
                let input = k == 2 ? previous / c : previous   // f₂ is stored scaled by c
                var next = block(input, &context)
                if k == 1 { next = next * c }
                representations.append(next)
            }
            return gradientScaleProfile(representations)
        }
        let plain = profile(scale: 1), scaled = profile(scale: 1000)
        #expect(relativeError(scaled.lowestToEach, plain.lowestToEach) < 1e-5)
        #expect(relativeError(scaled.eachToHighest, plain.eachToHighest) < 1e-5)
        #expect(relativeError(scaled.quadraticMeans[2], 1000 * plain.quadraticMeans[2]) < 1e-6)
    }

    @Test func randomProjectionsEstimateTheExactNorm() {
        let net = Fixture.mlp(depth: 3, width: 6, nonlinearity: .tanh, span: nil)
        var context = ForwardContext.evaluation
        let representations = net.activations(Variable(Fixture.batch(4, 3, seed: 5)), &context)
        let exact = jacobianQuadraticMeanNorms(of: representations[3], withRespectTo: representations[0])
        let estimate = jacobianQuadraticMeanNorms(of: representations[3], withRespectTo: representations[0],
                                                  estimator: .randomProjections(count: 400, seed: 9))
        // Relative standard error of ‖J‖² ≈ √(2/400) = 7 %, of ‖J‖ about half that.
        #expect(relativeError(estimate, exact) < 0.15)
        // The graph is kept: the exact norms again.
        #expect(jacobianQuadraticMeanNorms(of: representations[3], withRespectTo: representations[0]) == exact)
    }

    /// The profile's entries are the pairwise GSCs (batch means), ones on the ends.
    @Test func profileOfADeepNetwork() {
        let net = Fixture.mlp(depth: 3, width: 4, nonlinearity: .tanh, span: nil)
        let x = Fixture.batch(3, 3, seed: 6)
        let profile = gradientScaleProfile(of: net, input: x, labels: [0, 1, 0])
        #expect(profile.lowestToEach.count == 6 && profile.eachToHighest.count == 6)   // f₀…f₃, logits, loss
        #expect(profile.lowestToEach[0] == 1 && profile.eachToHighest[5] == 1)
        var context = ForwardContext.evaluation
        let representations = net.activations(Variable(x), &context)
        let pairwise = gradientScaleCoefficients(from: representations[0], to: representations[2])
        #expect(relativeError(profile.lowestToEach[2], pairwise.reduce(0, +) / 3) < 1e-6)
        #expect(profile.eachToHighest.allSatisfy { $0.isFinite && $0 > 0 })
    }

    /// An example whose representation is zero has no GSC; the batch mean leaves it out.
    @Test func examplesWithAZeroRepresentationAreLeftOut() {
        let x = Variable(Tensor(shape: [2, 2], scalars: [0, 0, 1, 2]), requiresGradient: true)
        let f = x * 3
        let perExample = gradientScaleCoefficients(from: x, to: f)
        #expect(perExample[0].isNaN && Swift.abs(perExample[1] - 1) < 1e-6)
        #expect(Swift.abs(gradientScaleProfile([x, f]).lowestToEach[1] - 1) < 1e-6)
    }
}
