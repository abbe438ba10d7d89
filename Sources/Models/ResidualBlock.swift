import NN
import Tape

// The arithmetic every residual block shares, in one place:
//   y = post(merge(s_F · F(x), shortcut(x)))
// with the shortcut and merge of NN's `ShortcutKind`/`ResidualMerge`, plus the switches the
// research instruments need: deleting the branch (Veit et al. 2016, lesion), scaling the
// branch's gradient (path-length sampling with the gradient-mask op) and stochastic depth
// (Huang et al. 2016, https://arxiv.org/abs/1603.09382, eq. (2)–(5)). Blocks whose branch ends
// in BatchNorm and whose post is ReLU call `combineReLU`: when no switch or merge weight comes
// between them, BatchNorm, the sum and ReLU run as one primitive.

/// When the stochastic-depth branch scale is applied.
public enum StochasticDepthScaling: Sendable {
    /// The paper: train with the raw branch, multiply it by its survival probability p at test time.
    case testTime
    /// torchvision's `StochasticDepth`: divide the surviving branch by p during training, none at test.
    case inverted
}

/// A block with a residual branch F and a shortcut. Subclasses build their layers and call
/// `combine` from `forward`.
open class ResidualBlock: Layer {
    /// False deletes the block: y = post(shortcut(x)) (or the input for plain blocks).
    public var isBranchEnabled = true
    /// Multiplies the gradient flowing back into the branch (0 lets gradient pass only through
    /// the shortcut); the forward value is unchanged.
    public var branchGradientScale: Float = 1
    /// Stochastic depth: the branch survives each training mini-batch with this probability.
    public var survivalProbability: Float = 1
    /// When the stochastic-depth scale p is applied; at test time (the paper) by default.
    public var stochasticDepthScaling = StochasticDepthScaling.testTime
    /// Whether the last forward pass computed the branch (false when deleted or dropped).
    public private(set) var lastForwardUsedBranch = true
    /// False for plain twins: y = post(F(x)).
    public let hasShortcut: Bool
    /// How the branch and the shortcut combine (a sum by default).
    public let mergeKind: ResidualMerge
    /// The gate of a gated merge, or nil.
    public let gate: Gate?

    /// A block with a shortcut (or, for plain twins, without), merged by `merge`, and an optional gate.
    public init(hasShortcut: Bool, merge: ResidualMerge = .sum, gate: Gate? = nil) {
        self.hasShortcut = hasShortcut
        self.mergeKind = merge
        self.gate = gate
    }

    /// Applies the block's switches and merges the branch with the shortcut.
    ///
    /// - Parameters:
    ///   - shortcut: s(x), already computed (the input itself for identity shortcuts).
    ///   - gateInput: what a gated merge's gate sees (the block input).
    ///   - post: applied after the merge, identity by default.
    ///   - branch: computes F; not called when the block is deleted or dropped, so a closed
    ///     block costs nothing in forward or backward.
    public final func combine(shortcut: Variable, gateInput: Variable, context: inout ForwardContext,
                              post: (Variable) -> Variable = { $0 },
                              branch: (inout ForwardContext) -> Variable) -> Variable {
        guard let scale = openBranch(&context) else { return post(shortcut) }
        return post(merged(branch(&context), scale: scale, shortcut: shortcut, gateInput: gateInput, context: &context))
    }

    /// `combine` for a branch that ends in BatchNorm, followed by ReLU (the original ResNet's
    /// block): y = relu(merge(s_F · bn(G(x)), shortcut(x))), where `branch` computes G, bn's input.
    /// When nothing stands between BatchNorm, the sum and ReLU (a plain sum or no shortcut, no
    /// branch scale, no branch-gradient scale), the three are one primitive,
    /// `BatchNorm.normalizedReLU(_:adding:_:)`; otherwise this is `combine` with `post: relu`.
    /// Either way the values are the same.
    public final func combineReLU(shortcut: Variable, gateInput: Variable, context: inout ForwardContext,
                                  lastBatchNorm: BatchNorm, branch: (inout ForwardContext) -> Variable) -> Variable {
        guard let scale = openBranch(&context) else { return shortcut.relu() }
        let normalizerInput = branch(&context)
        guard scale == 1, branchGradientScale == 1, !hasShortcut || mergeKind == .sum else {
            let f = lastBatchNorm(normalizerInput, &context)
            return merged(f, scale: scale, shortcut: shortcut, gateInput: gateInput, context: &context).relu()
        }
        return lastBatchNorm.normalizedReLU(normalizerInput, adding: hasShortcut ? shortcut : nil, &context)
    }

    /// The branch's stochastic-depth scale s_F when the branch runs; nil when it is deleted or
    /// dropped for this mini-batch (a draw in training).
    private func openBranch(_ context: inout ForwardContext) -> Float? {
        var open = isBranchEnabled
        var scale: Float = 1
        if survivalProbability < 1 {
            switch (context.mode, stochasticDepthScaling) {
            case (.training, _):
                open = open && context.random.nextUniform() < survivalProbability
                if stochasticDepthScaling == .inverted { scale = 1 / survivalProbability }
            case (.evaluation, .testTime): scale = survivalProbability
            case (.evaluation, .inverted): break
            }
        }
        lastForwardUsedBranch = open
        return open ? scale : nil
    }

    /// merge(s_F · F, shortcut), with the branch-gradient scale on F; F alone without a shortcut.
    private func merged(_ branch: Variable, scale: Float, shortcut: Variable, gateInput: Variable,
                        context: inout ForwardContext) -> Variable {
        var f = branch
        if scale != 1 { f = f * scale }
        if branchGradientScale != 1 { f = f.gradientScaled(by: branchGradientScale) }
        guard hasShortcut else { return f }
        return merge(mergeKind, branch: f, shortcut: shortcut, gate: gate.map { $0(gateInput, &context) })
    }

    open override var namedChildren: [(String, Layer)] { gate.map { [("gate", $0)] } ?? [] }
}

/// The residual blocks of a network, in order, for lesion, path and stochastic-depth studies.
public protocol ResidualNetwork: Layer {
    /// Every residual block, from input to output.
    var residualBlocks: [ResidualBlock] { get }
}

extension ResidualNetwork {
    /// Stochastic depth on every block: survival pₗ = 1 − (l/L)(1 − p_L) (linear decay, the
    /// paper's default, p_L = 0.5) or pₗ = p_L for all (uniform).
    public func enableStochasticDepth(finalSurvival: Float = 0.5, linearDecay: Bool = true,
                                      scaling: StochasticDepthScaling = .testTime) {
        precondition(finalSurvival > 0 && finalSurvival <= 1, "stochastic depth: survival must be in (0, 1], got \(finalSurvival)")
        let blocks = residualBlocks
        for (index, block) in blocks.enumerated() {
            let l = Float(index + 1), depth = Float(blocks.count)
            block.survivalProbability = linearDecay ? 1 - l / depth * (1 - finalSurvival) : finalSurvival
            block.stochasticDepthScaling = scaling
        }
    }

    /// The expected number of blocks computed per training step: Σ pₗ.
    public var expectedDepth: Float { residualBlocks.reduce(0) { $0 + $1.survivalProbability } }
}
