import Testing
import Instruments
import Models
import NN
import Tape

/// The ordinary gradient ∂loss/∂x₀ (first block input) of a DeepNetwork, from a fresh forward
/// pass with the network's own switches, and ∂loss/∂f_L (after the last block).
private func referenceGradients(_ net: DeepNetwork, x: Tensor, target: Tensor) -> (first: Tensor, last: Tensor) {
    var context = ForwardContext.evaluation
    let representations = net.activations(Variable(x), &context)
    let loss = meanSquaredError(net.output(representations[representations.count - 1], &context), Variable(target))
    let g = loss.gradients(withRespectTo: [representations[0], representations[representations.count - 1]])
    return (g[0].value, g[1].value)
}

private func sum(_ tensors: [Tensor]) -> Tensor { tensors.dropFirst().reduce(tensors[0], +) }

@Suite("Path gradients (Veit et al.)")
struct PathGradientTests {
    let x = Fixture.batch(4, 3, seed: 11), target = Fixture.batch(4, 2, seed: 12)

    @Test func fullRoutesGiveTheOrdinaryGradient() {
        let net = Fixture.mlp()
        let reference = referenceGradients(net, x: x, target: target)
        withResidualPathProbe(network: net, forward: Fixture.regressionLoss(net, input: x, target: target)) { probe in
            #expect(probe.blockCount == 3)
            #expect(relativeError(probe.inputGradient(), reference.first) < 1e-6)
            #expect(relativeError(probe.inputGradient(through: [0, 1, 2], sampling: .openBranches), reference.first) < 1e-6)
        }
    }

    /// Σ over all 2ⁿ subsets P of the single-path gradients g(P) = the whole gradient.
    @Test func singlePathsSumToTheGradient() {
        let net = Fixture.mlp(depth: 3)
        let reference = referenceGradients(net, x: x, target: target)
        withResidualPathProbe(network: net, forward: Fixture.regressionLoss(net, input: x, target: target)) { probe in
            var paths: [Tensor] = []
            for mask in 0..<8 { paths.append(probe.inputGradient(through: Set((0..<3).filter { mask >> $0 & 1 == 1 }))) }
            #expect(relativeError(sum(paths), reference.first) < 1e-5)
            // Length 0: identity shortcuts only, so the gradient arrives unchanged from f_L.
            #expect(relativeError(paths[0], reference.last) < 1e-6)
        }
    }

    /// Open branches on a subset = the network's own `branchGradientScale = 0` on the others.
    @Test func openBranchesMatchTheBlocksOwnGradientScale() {
        let net = Fixture.mlp(depth: 4)
        let probeGradient = withResidualPathProbe(network: net, forward: Fixture.regressionLoss(net, input: x, target: target)) {
            $0.inputGradient(through: [1, 3], sampling: .openBranches)
        }
        net.residualBlocks[0].branchGradientScale = 0
        net.residualBlocks[2].branchGradientScale = 0
        let reference = referenceGradients(net, x: x, target: target).first
        #expect(relativeError(probeGradient, reference) < 1e-6)
    }

    /// In the MNIST ResNet y = relu(x + F(x)), so the shortcut-only Jacobian of block b is the
    /// ReLU mask D_b = [y_b > 0] and the length-0 gradient is ∂loss/∂y_L ⊙ D_L ⊙ … ⊙ D_1.
    @Test func shortcutOnlyGradientOfTheMNISTResNetIsAProductOfReLUMasks() {
        let net = Fixture.tinyResNet()
        let images = Fixture.images(2, size: 6, seed: 13)
        let loss: (inout ForwardContext) -> Variable = { context in crossEntropy(logits: net(Variable(images), &context), labels: [0, 2]) }

        var outputs: [Variable] = []
        let tokens = net.residualBlocks.map { block in block.registerForwardHook { _, _, y in outputs.append(y); return nil } }
        var context = ForwardContext.evaluation
        let value = loss(&context)
        for (block, token) in zip(net.residualBlocks, tokens) { block.removeForwardHook(token) }
        var expected = value.gradients(withRespectTo: [outputs[2]])[0].value
        for y in outputs { expected = expected * (y.value .> 0) }

        let shortcutOnly = withResidualPathProbe(network: net, forward: loss) { $0.inputGradient(through: []) }
        #expect(relativeError(shortcutOnly, expected) < 1e-6)
    }

    /// Training mode: BatchNorm running statistics, switches and hooks are all restored.
    @Test func restoresTheNetwork() {
        let net = Fixture.tinyResNet()
        net.residualBlocks[1].branchGradientScale = 0.5
        let images = Fixture.images(3, size: 6, seed: 14)
        let buffers = net.namedBuffers.map(\.1.value)
        var context = ForwardContext.evaluation
        let before = net(Variable(images), &context).value
        let decomposition = pathLengthDecomposition(of: net, mode: .training, samplesPerLength: 2) { context in
            crossEntropy(logits: net(Variable(images), &context), labels: [0, 1, 2])
        }
        #expect(decomposition.gradientNorms.count == 4)
        #expect(net.namedBuffers.map(\.1.value) == buffers)
        #expect(net.residualBlocks.map(\.branchGradientScale) == [1, 0.5, 1])
        var again = ForwardContext.evaluation
        #expect(net(Variable(images), &again).value == before)
    }

    @Test func decompositionOfASmallNetIsExhaustiveAndConsistent() {
        let net = Fixture.mlp(depth: 4)
        let forward = Fixture.regressionLoss(net, input: x, target: target)
        let result = pathLengthDecomposition(of: net, samplesPerLength: 10, forward: forward)
        #expect(result.pathCounts == [1, 4, 6, 4, 1])
        #expect(result.pathCounts.reduce(0, +) == 16)
        #expect(result.exhaustive == [true, true, true, true, true])
        #expect(result.gradientNorms.map(\.count) == [1, 4, 6, 4, 1])
        #expect(relativeError(result.pathLengthDistribution, [1, 4, 6, 4, 1].map { $0 / 16.0 }) < 1e-15)
        #expect(Swift.abs(result.contributionDistribution.reduce(0, +) - 1) < 1e-12)
        // Each sample is a single path: the same numbers as the probe's.
        let single = withResidualPathProbe(network: net, forward: forward) { probe in
            [Set<Int>(), [0], [1], [2], [3]].map { probe.inputGradient(through: $0) }
        }
        let norm: (Tensor) -> Double = { $0.scalars.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        #expect(relativeError(result.gradientNorms[0].mean, norm(single[0])) < 1e-6)
        #expect(relativeError(result.gradientNorms[1].values, single.dropFirst().map(norm)) < 1e-6)
        #expect(relativeError(result.totalContributions[1], 4 * result.gradientNorms[1].mean) < 1e-12)

        // Sampled: 3 of the 6 subsets of size 2, seeded.
        let sampled = pathLengthDecomposition(of: net, samplesPerLength: 3, seed: 5, forward: forward)
        #expect(sampled.exhaustive == [true, false, false, false, true])
        #expect(sampled.gradientNorms.map(\.count) == [1, 3, 3, 3, 1])
        let repeated = pathLengthDecomposition(of: net, samplesPerLength: 3, seed: 5, forward: forward)
        #expect(repeated.gradientNorms == sampled.gradientNorms)
    }

    @Test func binomialHelpers() {
        #expect(binomialCoefficients(5) == [1, 5, 10, 10, 5, 1])
        let c54 = binomialCoefficients(54)
        #expect(c54[27] == 1_946_939_425_648_112 && c54.reduce(0, +) == 18_014_398_509_481_984)   // C(54, 27), 2⁵⁴
        let p = binomialDistribution(2000)   // 2²⁰⁰⁰ overflows Double; the distribution does not
        #expect(Swift.abs(p.reduce(0, +) - 1) < 1e-9 && p[1000] > 0.0178 && p[1000] < 0.0179)
        #expect(poissonBinomialDistribution([1, 0, 0.5]) == [0, 0.5, 0.5, 0])
    }
}

@Suite("Effective depth")
struct EffectiveDepthTests {
    @Test func profileFromShares() {
        let half = PathContributionProfile(branchShares: [0.5, 0.5, 0.5, 0.5])
        #expect(half.effectiveDepth == 2)
        #expect(half.distribution == binomialDistribution(4))
        #expect(half.depth(carrying: 0.5) == 2 && half.depth(carrying: 1) == 4 && half.depth(carrying: 0.0625) == 0)
        #expect(PathContributionProfile(branchShares: [1, 1, 1]).distribution == [0, 0, 0, 1])
        #expect(PathContributionProfile(branchShares: [0, 0]).effectiveDepth == 0)
        let mixed = PathContributionProfile(branchShares: [0.2, 0.7])
        let mean = mixed.distribution.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
        #expect(Swift.abs(mean - mixed.effectiveDepth) < 1e-15)
    }

    /// Linear residual blocks y = x + W·x: S = I, R = W, so q = ‖W‖_F²/(‖W‖_F² + d).
    @Test func branchSharesOfLinearResidualBlocks() {
        let net = Fixture.mlp(depth: 3, width: 4, nonlinearity: .linear)
        let x = Fixture.batch(2, 3, seed: 15), target = Fixture.batch(2, 2, seed: 16)
        let shares = measureBranchShares(of: net, estimator: .exact, forward: Fixture.regressionLoss(net, input: x, target: target))
        let expected = (0..<3).map { b -> Double in
            let w = Fixture.units(net, block: b)[0].weight.value.scalars.reduce(0) { $0 + Double($1) * Double($1) }
            return w / (w + 4)
        }
        #expect(relativeError(shares, expected) < 1e-5)
        let profile = pathContributionProfile(of: net, estimator: .exact, forward: Fixture.regressionLoss(net, input: x, target: target))
        #expect(relativeError(profile.effectiveDepth, expected.reduce(0, +)) < 1e-5)
    }

    @Test func plainBlocksHaveShareOneAndZeroBranchesShareZero() {
        let x = Fixture.batch(2, 3, seed: 17), target = Fixture.batch(2, 2, seed: 18)
        let plain = Fixture.mlp(depth: 2, span: nil)
        #expect(measureBranchShares(of: plain, forward: Fixture.regressionLoss(plain, input: x, target: target)) == [1, 1])
        let residual = Fixture.mlp(depth: 2)
        for b in 0..<2 { for p in Fixture.units(residual, block: b)[0].linear.parameters { p.value = Tensor.zeros(p.value.shape) } }
        #expect(measureBranchShares(of: residual, forward: Fixture.regressionLoss(residual, input: x, target: target)) == [0, 0])
    }
}
