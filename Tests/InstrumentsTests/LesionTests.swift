import Testing
import Instruments
import Models
import NN
import Tape

@Suite("Lesion studies (Veit et al.)")
struct LesionTests {
    let x = Fixture.batch(5, 3, seed: 21), target = Fixture.batch(5, 2, seed: 22)

    private func loss(_ net: DeepNetwork) -> () -> Double {
        { var context = ForwardContext.evaluation
          return Double(meanSquaredError(net(Variable(x), &context), Variable(target)).scalar) }
    }

    /// A branch that outputs zero (last unit's weights and bias zero, ReLU of 0 is 0): deleting
    /// the block changes nothing.
    @Test func deletingAZeroBranchChangesNothing() {
        let net = Fixture.mlp(depth: 4)
        for p in Fixture.units(net, block: 2)[0].linear.parameters { p.value = Tensor.zeros(p.value.shape) }
        let evaluate = loss(net)
        let baseline = evaluate()
        let single = evaluateDeletingEachBlock(of: net, evaluate: evaluate)
        #expect(single[2] == baseline)
        #expect(single[0] != baseline && single[1] != baseline && single[3] != baseline)
        #expect(net.residualBlocks.allSatisfy { $0.isBranchEnabled })
        #expect(evaluate() == baseline)
    }

    /// The same in the MNIST ResNet: bn2's γ = β = 0 zero the branch, and relu(x + 0) is what a
    /// deleted block computes, relu(x).
    @Test func deletingAZeroBranchOfTheMNISTResNet() {
        let net = Fixture.tinyResNet()
        let block = net.residualBlocks[1] as! BasicBlock
        for p in block.bn2.parameters { p.value = Tensor.zeros(p.value.shape) }
        let images = Fixture.images(2, size: 6, seed: 23)
        let evaluate = { var context = ForwardContext.evaluation
                         return Double(crossEntropy(logits: net(Variable(images), &context), labels: [1, 2]).scalar) }
        #expect(evaluateDeletingEachBlock(of: net, evaluate: evaluate)[1] == evaluate())
    }

    @Test func randomDeletions() {
        let net = Fixture.mlp(depth: 4)
        let evaluate = loss(net)
        let baseline = evaluate()
        let everything = withBlocksDeleted(net, [0, 1, 2, 3], body: evaluate)
        let results = evaluateDeletingRandomBlocks(of: net, counts: [0, 2, 4], samples: 5, seed: 3, evaluate: evaluate)
        #expect(results[0].values == [Double](repeating: baseline, count: 5))
        #expect(results[2].values == [Double](repeating: everything, count: 5))
        // Each draw deletes two distinct blocks: one of the six pairs.
        let pairs = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map { withBlocksDeleted(net, Set($0), body: evaluate) }
        #expect(results[1].values.allSatisfy(pairs.contains))
        #expect(net.residualBlocks.allSatisfy { $0.isBranchEnabled } && evaluate() == baseline)
    }

    /// The permuted network against the blocks applied by hand in the permuted order.
    @Test func permutingBlocksReordersTheComputation() {
        let net = Fixture.mlp(depth: 4)
        let permutation = [2, 0, 3, 1]
        var context = ForwardContext.evaluation
        var h = net.input(Variable(x), &context)
        for source in permutation { h = net.blocks.layers[source](h, &context) }
        let byHand = net.output(h, &context).value
        let before = net(Variable(x), &context).value
        let permuted = withBlocksPermuted(net, permutation) { net(Variable(x), &context).value }
        #expect(permuted == byHand && permuted != before)
        #expect(net(Variable(x), &context).value == before)
    }

    @Test func interchangeableGroups() {
        // Depth 5 with span 2: blocks of 2, 2 and 1 units; only the first two can swap.
        #expect(interchangeableBlockGroups(of: Fixture.mlp(depth: 5, span: 2)) == [[0, 1]])
        // resnet20: three stages of three blocks; the first block of stages 2 and 3 downsamples.
        #expect(interchangeableBlockGroups(of: CIFARResNet(depth: 20)) == [[0, 1, 2], [4, 5], [7, 8]])
        #expect(interchangeableBlockGroups(of: Fixture.tinyResNet()) == [[0, 1, 2]])
    }

    @Test func randomSwaps() {
        let net = Fixture.mlp(depth: 4)
        let evaluate = loss(net)
        let baseline = evaluate()
        let results = evaluateSwappingRandomBlocks(of: net, swapCounts: [0, 1, 3], samples: 4, seed: 7, evaluate: evaluate)
        #expect(results[0].values == [Double](repeating: baseline, count: 4))
        #expect(results[1].values.allSatisfy { $0 != baseline })   // one swap always moves two different blocks
        #expect(results.map(\.count) == [4, 4, 4])
        #expect(evaluate() == baseline)
        let again = evaluateSwappingRandomBlocks(of: net, swapCounts: [0, 1, 3], samples: 4, seed: 7, evaluate: evaluate)
        #expect(again == results)
    }
}
