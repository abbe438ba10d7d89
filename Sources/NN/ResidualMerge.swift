import Tape

/// How a block combines its residual branch F(x) with its shortcut s(x): the He et al. 2016
/// ablations (table 1, figure 2).
public enum ResidualMerge: Sendable, Hashable {
    /// y = F(x) + s(x).
    case sum
    /// y = λ_branch·F(x) + λ_shortcut·s(x) (constant scaling; the paper scales the shortcut by 0.5).
    case scaled(shortcut: Float, branch: Float)
    /// Exclusive gating: y = (1 − g)·F(x) + g·s(x), g = σ(conv1×1(x) + b), b = `gateBias` initially.
    case exclusiveGating(gateBias: Float)
    /// Shortcut-only gating: y = F(x) + g·s(x), g = σ(conv1×1(x) + b).
    case shortcutGating(gateBias: Float)
}

/// Combines branch and shortcut outputs according to a `ResidualMerge`: the one place every
/// residual block's merge is computed.
///
/// - Parameters:
///   - gate: g, the gate's output; required by the gated merges, ignored by the others.
public func merge(_ kind: ResidualMerge, branch: Variable, shortcut: Variable, gate: Variable?) -> Variable {
    switch kind {
    case .sum:
        return branch + shortcut
    case .scaled(let shortcutScale, let branchScale):
        return branch * branchScale + shortcut * shortcutScale
    case .exclusiveGating, .shortcutGating:
        guard let gate else { preconditionFailure("merge: \(kind) needs the gate's output, got nil") }
        if case .exclusiveGating = kind { return (1 - gate) * branch + gate * shortcut }
        return branch + gate * shortcut
    }
}

extension ResidualMerge {
    /// The gate layer this merge needs, if any.
    public func makeGate(inputs: Int, outputs: Int, stride: Int, convolutional: Bool, using random: inout SplitMix64) -> Gate? {
        switch self {
        case .sum, .scaled: nil
        case .exclusiveGating(let bias), .shortcutGating(let bias):
            Gate(inputs: inputs, outputs: outputs, stride: stride, bias: bias, convolutional: convolutional, using: &random)
        }
    }
}
