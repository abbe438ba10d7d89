import Models
import NN
import Tape

// Lesion studies, Veit, Wilber & Belongie 2016 (https://arxiv.org/abs/1605.06431), section 4:
// a trained residual network evaluated with single blocks deleted (figure 3: only the
// downsampling blocks matter much), with k random blocks deleted (figure 5a: the error grows
// smoothly with k, as for an ensemble) and with k random pairs of blocks swapped (figure 5b).
//
// Deleting a block sets `isBranchEnabled = false`: y = post(shortcut(x)). Reordering needs no
// access to the blocks' container: two blocks of the same class whose parameters and buffers
// have the same names and shapes (and the same shortcut and merge) compute the same function of
// their weights, so swapping their weights, buffers and switches is swapping the blocks. This
// holds for every model in `Models` (a block's stride, shortcut and merge follow from its
// parameter shapes and flags); blocks that change the shape are never interchangeable, as in
// the paper, which swaps only blocks of compatible dimensions.
//
// Every function restores the network before it returns.

/// What makes two blocks interchangeable.
private struct BlockSignature: Hashable {
    let type: ObjectIdentifier
    let hasShortcut: Bool
    let merge: ResidualMerge
    let parameters: [String: [Int]]
    let buffers: [String: [Int]]

    init(_ block: ResidualBlock) {
        type = ObjectIdentifier(Swift.type(of: block))
        hasShortcut = block.hasShortcut
        merge = block.mergeKind
        parameters = Dictionary(uniqueKeysWithValues: block.namedParameters.map { ($0.0, $0.1.value.shape) })
        buffers = Dictionary(uniqueKeysWithValues: block.namedBuffers.map { ($0.0, $0.1.value.shape) })
    }
}

/// Everything of a block that moves when blocks trade places.
private struct BlockState {
    let parameters: [Tensor], buffers: [Tensor]
    let isBranchEnabled: Bool, branchGradientScale: Float
    let survivalProbability: Float, stochasticDepthScaling: StochasticDepthScaling

    init(_ block: ResidualBlock) {
        parameters = block.parameters.map(\.value)
        buffers = block.namedBuffers.map(\.1.value)
        (isBranchEnabled, branchGradientScale) = (block.isBranchEnabled, block.branchGradientScale)
        (survivalProbability, stochasticDepthScaling) = (block.survivalProbability, block.stochasticDepthScaling)
    }

    func apply(to block: ResidualBlock) {
        for (parameter, value) in zip(block.parameters, parameters) { parameter.value = value }
        for (buffer, value) in zip(block.namedBuffers.map(\.1), buffers) { buffer.value = value }
        (block.isBranchEnabled, block.branchGradientScale) = (isBranchEnabled, branchGradientScale)
        (block.survivalProbability, block.stochasticDepthScaling) = (survivalProbability, stochasticDepthScaling)
    }
}

/// The blocks of `network` that can trade places, as groups of block indices (each sorted, at
/// least two blocks, ordered by first index).
public func interchangeableBlockGroups(of network: some ResidualNetwork) -> [[Int]] {
    var groups: [BlockSignature: [Int]] = [:]
    for (index, block) in network.residualBlocks.enumerated() { groups[BlockSignature(block), default: []].append(index) }
    return groups.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
}

/// Runs `body` with the blocks of `network` reordered: position i holds the block that was at
/// `permutation[i]`, so the network computes block_{π(n−1)} ∘ … ∘ block_{π(0)}. Every moved
/// block must be interchangeable with the one it replaces. The order is restored afterwards.
public func withBlocksPermuted<R>(_ network: some ResidualNetwork, _ permutation: [Int], body: () throws -> R) rethrows -> R {
    let blocks = network.residualBlocks
    precondition(permutation.sorted() == Array(blocks.indices), "withBlocksPermuted: \(permutation) is not a permutation of 0..<\(blocks.count)")
    for (position, source) in permutation.enumerated() where position != source {
        precondition(BlockSignature(blocks[position]) == BlockSignature(blocks[source]),
                     "withBlocksPermuted: block \(source) cannot take the place of block \(position) (different structure)")
    }
    let saved = blocks.map(BlockState.init)
    defer { for (block, state) in zip(blocks, saved) { state.apply(to: block) } }
    for (position, source) in permutation.enumerated() where position != source { saved[source].apply(to: blocks[position]) }
    return try body()
}

/// Runs `body` with the blocks in `deleted` switched off (`isBranchEnabled = false`), then
/// restores every block's switch.
public func withBlocksDeleted<R>(_ network: some ResidualNetwork, _ deleted: Set<Int>, body: () throws -> R) rethrows -> R {
    let blocks = network.residualBlocks
    precondition(deleted.allSatisfy(blocks.indices.contains), "withBlocksDeleted: indices \(deleted.sorted()) out of 0..<\(blocks.count)")
    let saved = blocks.map(\.isBranchEnabled)
    defer { for (block, enabled) in zip(blocks, saved) { block.isBranchEnabled = enabled } }
    for index in deleted { blocks[index].isBranchEnabled = false }
    return try body()
}

/// `evaluate()` (e.g. the error or loss on a fixed batch) with each block deleted in turn:
/// element i is the value without block i.
public func evaluateDeletingEachBlock(of network: some ResidualNetwork, evaluate: () throws -> Double) rethrows -> [Double] {
    try network.residualBlocks.indices.map { index in try withBlocksDeleted(network, [index], body: evaluate) }
}

/// `evaluate()` with k random blocks deleted, `samples` draws for each k in `counts` (a
/// uniformly random k-subset per draw, from `SplitMix64(seed:)`).
public func evaluateDeletingRandomBlocks(of network: some ResidualNetwork, counts: [Int], samples: Int, seed: UInt64 = 0,
                                         evaluate: () throws -> Double) rethrows -> [SampleSummary] {
    let n = network.residualBlocks.count
    precondition(counts.allSatisfy { (0...n).contains($0) } && samples >= 1, "evaluateDeletingRandomBlocks: counts \(counts) for \(n) blocks, \(samples) samples")
    var random = SplitMix64(seed: seed)
    return try counts.map { k in
        SampleSummary(try (0..<samples).map { _ in
            try withBlocksDeleted(network, Set(randomSubset(of: n, size: k, using: &random)), body: evaluate)
        })
    }
}

/// `evaluate()` with the blocks reordered by k random swaps, `samples` draws for each k in
/// `swapCounts`: each swap exchanges a uniformly random pair of interchangeable blocks (a later
/// swap may undo an earlier one, as in the paper).
public func evaluateSwappingRandomBlocks(of network: some ResidualNetwork, swapCounts: [Int], samples: Int, seed: UInt64 = 0,
                                         evaluate: () throws -> Double) rethrows -> [SampleSummary] {
    let pairs = interchangeableBlockGroups(of: network).flatMap { group in
        group.indices.flatMap { i in group[(i + 1)...].map { (group[i], $0) } }
    }
    precondition(!pairs.isEmpty || swapCounts.allSatisfy { $0 == 0 }, "evaluateSwappingRandomBlocks: no two blocks are interchangeable")
    precondition(swapCounts.allSatisfy { $0 >= 0 } && samples >= 1, "evaluateSwappingRandomBlocks: swap counts \(swapCounts), \(samples) samples")
    var random = SplitMix64(seed: seed)
    return try swapCounts.map { k in
        SampleSummary(try (0..<samples).map { _ in
            var permutation = Array(network.residualBlocks.indices)
            for _ in 0..<k {
                let (a, b) = pairs[Int.random(in: 0..<pairs.count, using: &random)]
                permutation.swapAt(a, b)
            }
            return try withBlocksPermuted(network, permutation, body: evaluate)
        })
    }
}
