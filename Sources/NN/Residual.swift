import Tape

/// A generic residual block y = post(merge(F(x), s(x))) with a branch F, an optional shortcut
/// layer s (identity when nil), an optional gate and an optional activation after the merge.
/// Children are named `branch`, `shortcut`, `gate`, `post`. Models that must match PyTorch names
/// (ResNets) define their own blocks with this same arithmetic.
public final class Residual: Layer {
    public let branch: Layer
    public let shortcut: Layer?
    public let mergeKind: ResidualMerge
    public let gate: Gate?
    public let post: Layer?
    /// When false, the block is skipped entirely: y = post(s(x)) (lesion studies).
    public var isBranchEnabled = true

    public init(branch: Layer, shortcut: Layer? = nil, merge: ResidualMerge = .sum, gate: Gate? = nil, post: Layer? = nil) {
        precondition((gate == nil) == (merge == .sum || { if case .scaled = merge { return true }; return false }()),
                     "Residual: merge \(merge) \(gate == nil ? "needs" : "takes no") gate")
        (self.branch, self.shortcut, self.mergeKind, self.gate, self.post) = (branch, shortcut, merge, gate, post)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        let skip = shortcut.map { $0(input, &context) } ?? input
        guard isBranchEnabled else { return post.map { $0(skip, &context) } ?? skip }
        let combined = merge(mergeKind, branch: branch(input, &context), shortcut: skip, gate: gate.map { $0(input, &context) })
        return post.map { $0(combined, &context) } ?? combined
    }

    public override var namedChildren: [(String, Layer)] {
        [("branch", branch)] + [("shortcut", shortcut), ("gate", gate), ("post", post)].compactMap { name, layer in layer.map { (name, $0) } }
    }
}
