import Models
import NN
import Tape

// Gradients along chosen paths of a residual network, after Veit, Wilber & Belongie, "Residual
// Networks Behave Like Ensembles of Relatively Shallow Networks", NIPS 2016
// (https://arxiv.org/abs/1605.06431), section 6.
//
// Unrolled, n blocks y_b = post(s(x_b) + F_b(x_b)) have 2ⁿ paths; in backward each block's
// Jacobian splits into the part through the shortcut, S_b = J_b(0), and the part through the
// residual branch, R_b = J_b(1) − J_b(0), where J_b(s) is the block's Jacobian with its branch
// gradient scaled by s (`branchGradientScale`, which leaves the forward value unchanged). The
// input gradient is then the sum over all subsets P of blocks of the path terms
//
//     g(P) = vᵀ · ∏_b (R_b if b ∈ P else S_b),       Σ_P g(P) = vᵀ · ∏_b J_b(1),
//
// and |P| is the path's length (the number of residual branches it goes through). Veit et al.
// sample a path of length k by propagating, for k random blocks, "only through the residual
// module" and, for the others, only through the skip connection: that is g(P).
//
// One forward pass serves every path. A forward hook on each block b computes its output P_b
// as usual and a second time, Q_b, with the branch gradient scaled by 0 (the same value), and
// returns P_b − Q_b + Q_b.detached(): the block's value, with two tape hooks that scale the
// cotangent reaching P_b by α_b and the one reaching Q_b by β_b, so its Jacobian is
// α_b·J_b(1) − β_b·J_b(0), with α_b, β_b switchable between reverse passes:
//
//     full block     α = 1, β = 0:   J_b(1)
//     shortcut only  α = 0, β = −1:  S_b
//     branch only    α = 1, β = 1:   R_b

/// Which Jacobian of each block a reverse pass uses.
public enum BlockRoute: Sendable, Hashable {
    /// The block as it is: J_b(1) = S_b + R_b.
    case full
    /// Only through the shortcut (and gate): S_b = J_b(0).
    case shortcut
    /// Only through the residual branch: R_b = J_b(1) − J_b(0).
    case branch

    var coefficients: (alpha: Float, beta: Float) {
        switch self {
        case .full: (1, 0)
        case .shortcut: (0, -1)
        case .branch: (1, 1)
        }
    }
}

/// How the blocks of a path sample route the gradient.
public enum PathSampling: Sendable, Hashable {
    /// Veit et al.: the chosen blocks pass the gradient through their branch only, the others
    /// through their shortcut only: one path of length k per subset of k blocks.
    case singlePath
    /// The chosen blocks keep both routes (branchGradientScale 1), the others pass the gradient
    /// through their shortcut only: the sum of the 2ᵏ paths through subsets of the chosen blocks.
    case openBranches
}

/// One recorded forward pass of a residual network whose blocks' gradient routes can be
/// switched between reverse passes. Use it inside `withResidualPathProbe`.
public final class ResidualPathProbe {
    /// The scalar loss of the recorded forward pass.
    public let loss: Variable
    /// Each block's input x_b and (routed) output y_b in this pass.
    public let blockInputs: [Variable], blockOutputs: [Variable]
    /// The route of every block, used by every reverse pass through this forward pass (from the
    /// loss or from any block output) until changed.
    public var routes: [BlockRoute] { didSet { coefficients.values = routes.map(\.coefficients) } }
    fileprivate let coefficients: RouteCoefficients

    fileprivate init(loss: Variable, blockInputs: [Variable], blockOutputs: [Variable], coefficients: RouteCoefficients) {
        (self.loss, self.blockInputs, self.blockOutputs, self.coefficients) = (loss, blockInputs, blockOutputs, coefficients)
        routes = Array(repeating: .full, count: blockInputs.count)
    }

    /// The number of residual blocks probed.
    public var blockCount: Int { blockInputs.count }

    /// ∂loss/∂x₀ (the first block's input) with every block routed by `routes`.
    public func inputGradient() -> Tensor {
        precondition(loss.requiresGradient && !blockInputs.isEmpty, "ResidualPathProbe: nothing to differentiate")
        return loss.gradients(withRespectTo: [blockInputs[0]], retainGraph: true)[0].value
    }

    /// ∂loss/∂x₀ through the path(s) given by `blocks` and `sampling`.
    public func inputGradient(through blocks: Set<Int>, sampling: PathSampling = .singlePath) -> Tensor {
        precondition(blocks.allSatisfy { (0..<blockCount).contains($0) }, "ResidualPathProbe: block indices \(blocks.sorted()) out of 0..<\(blockCount)")
        let chosen: BlockRoute = sampling == .singlePath ? .branch : .full
        routes = (0..<blockCount).map { blocks.contains($0) ? chosen : .shortcut }
        return inputGradient()
    }
}

/// The hook-readable α, β of every block (a class: the tape hooks read it at backward time).
private final class RouteCoefficients {
    var values: [(alpha: Float, beta: Float)]
    init(count: Int) { values = Array(repeating: (1, 0), count: count) }
}

/// Records one forward pass of `network` (run by `forward` in a fresh context of `mode`, which
/// must call the network and return a scalar loss) with switchable gradient routes, gives it to
/// `body`, and restores the network: hooks removed, every block's `branchGradientScale` as it
/// was, every buffer (BatchNorm running statistics) as before.
///
/// The blocks' forward passes must be deterministic given their input (no dropout or stochastic
/// depth in training mode): each block runs twice, and the two values are checked to agree.
public func withResidualPathProbe<R>(network: some ResidualNetwork, mode: Mode = .evaluation,
                                     forward: (inout ForwardContext) -> Variable,
                                     body: (ResidualPathProbe) throws -> R) rethrows -> R {
    let blocks = network.residualBlocks
    let savedScales = blocks.map(\.branchGradientScale)
    let savedBuffers = network.namedBuffers.map { ($0.1, $0.1.value) }
    let coefficients = RouteCoefficients(count: blocks.count)
    var inputs = [Variable?](repeating: nil, count: blocks.count)
    var outputs = [Variable?](repeating: nil, count: blocks.count)
    var tokens: [Int] = []
    for (index, block) in blocks.enumerated() {
        block.branchGradientScale = 1
        tokens.append(block.registerForwardHook { layer, input, output in
            let block = layer as! ResidualBlock
            guard output.requiresGradient else { return nil }
            var context = ForwardContext(mode: mode)
            block.branchGradientScale = 0
            let shortcutOnly = block.forward(input, &context)
            block.branchGradientScale = 1
            let difference = (output.value - shortcutOnly.value).abs().max().scalar
            precondition(difference <= 1e-6 * (1 + output.value.abs().max().scalar),
                         "withResidualPathProbe: block \(index) gave different outputs for the same input (dropout or stochastic depth?)")
            let through = output.gradientScaled(by: 1), around = shortcutOnly.gradientScaled(by: 1)
            through.registerHook { cotangent in
                let alpha = coefficients.values[index].alpha
                return alpha == 1 ? nil : cotangent * alpha
            }
            around.registerHook { cotangent in
                let beta = coefficients.values[index].beta
                return beta == 1 ? nil : cotangent * beta
            }
            // Value: P − Q + Q = P. Jacobian: α·J(1) − β·J(0).
            let routed = through - around + shortcutOnly.detached()
            inputs[index] = input
            outputs[index] = routed
            return routed
        })
    }
    defer {
        for (block, (token, scale)) in zip(blocks, zip(tokens, savedScales)) {
            block.removeForwardHook(token)
            block.branchGradientScale = scale
        }
        for (buffer, value) in savedBuffers { buffer.value = value }
    }
    var context = ForwardContext(mode: mode)
    let loss = forward(&context)
    precondition(loss.value.count == 1, "withResidualPathProbe: the loss must have one element, got shape \(loss.shape)")
    let missing = (0..<blocks.count).filter { inputs[$0] == nil }
    precondition(missing.isEmpty, "withResidualPathProbe: blocks \(missing) were not run on the tape by `forward`")
    return try body(ResidualPathProbe(loss: loss, blockInputs: inputs.map { $0! }, blockOutputs: outputs.map { $0! },
                                      coefficients: coefficients))
}
