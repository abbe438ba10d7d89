import Models
import NN
import Tape

// Effective depth of a residual network, after Philipp, Song & Carbonell
// (https://arxiv.org/abs/1712.05577), the sections on ResNets and effective depth: the gradient
// of a ResNet is a sum over paths (Veit et al. 2016), the paths through few residual branches
// carry most of it, and the network behaves as if it were as deep as those paths.
//
// The formula below is this module's reading of that argument, stated in full so it can be
// checked (the paper's own estimate may differ in its details). Block b's Jacobian is
// J_b = S_b + R_b (shortcut part, branch part; see PathGradients.swift). If the parts of different paths are mutually orthogonal — the paper's
// "Pythagorean" argument for random-like Jacobians — squared Jacobian norms add over paths and
// factorise along a path, so the squared norm of the whole product is a sum over the subsets P
// of blocks whose branch the path takes:
//
//     ‖∏_b J_b‖² ≈ Σ_P ∏_{b∈P} ‖R_b‖² · ∏_{b∉P} ‖S_b‖² = ∏_b (‖S_b‖² + ‖R_b‖²).
//
// With the branch share q_b = ‖R_b‖²/(‖S_b‖² + ‖R_b‖²) of block b, the share of the paths with
// |P| = λ is p_λ, the coefficient of z^λ in ∏_b (1 − q_b + q_b·z): the Poisson-binomial
// distribution of the number of branches λ on a path drawn in proportion to its squared
// gradient contribution. The effective depth is its mean, in residual blocks:
//
//     effective depth = Σ_λ λ·p_λ = Σ_b q_b,
//
// n/2 when every block's branch and shortcut carry equal gradient, n for a plain network
// (S_b = 0), 0 for a network of identities. ‖·‖ is the quadratic-mean (Frobenius) norm, measured
// per block from vector–Jacobian products on a batch.
//
// How this relates to the paper: Philipp et al. write any layer as its initial function plus the
// change training made to it (the "residual trick"; in a ResNet the branches play that part),
// expand the gradient over paths through those residual parts, and call a network's effective
// depth the length of the longest paths that still contribute non-negligibly. That is a tail
// summary of the same path-length distribution, here `depth(carrying:)` with an explicit
// fraction, not its mean; and paths are counted over the architecture's branches, not over the
// changes training made to every layer, so a plain network's effective depth here is always n.
// The seed notes hold only the paper's abstract: its exact threshold and its bound on a path's
// contribution are not reproduced, so compare `depth(carrying:)` with its numbers in trend only.

/// The path-length distribution implied by per-block branch shares, and its mean.
public struct PathContributionProfile: Sendable, Equatable {
    /// q_b = ‖R_b‖²/(‖S_b‖² + ‖R_b‖²) for every block.
    public var branchShares: [Double]
    /// p_λ for λ = 0 … n: the share of the squared gradient carried by paths through λ branches.
    public var distribution: [Double]

    /// The profile of these branch shares; computes `distribution` (Poisson-binomial).
    public init(branchShares: [Double]) {
        self.branchShares = branchShares
        distribution = poissonBinomialDistribution(branchShares)
    }

    /// Σ_b q_b = Σ_λ λ·p_λ, in blocks.
    public var effectiveDepth: Double { branchShares.reduce(0, +) }

    /// The smallest λ such that paths through at most λ branches carry at least `fraction` of
    /// the squared gradient.
    public func depth(carrying fraction: Double) -> Int {
        precondition(fraction >= 0 && fraction <= 1, "depth(carrying:): fraction \(fraction) outside [0, 1]")
        var cumulative = 0.0
        for (length, p) in distribution.enumerated() {
            cumulative += p
            if cumulative >= fraction * (1 - 1e-12) { return length }
        }
        return distribution.count - 1
    }
}

/// Measures every block's branch share q_b = ‖R_b‖²/(‖S_b‖² + ‖R_b‖²) on one forward pass of
/// `network` (see `withResidualPathProbe` for `mode` and `forward`), with the squared Frobenius
/// norms of the block Jacobians summed over the batch; the network is restored afterwards.
public func measureBranchShares(of network: some ResidualNetwork, mode: Mode = .evaluation,
                                estimator: JacobianEstimator = .randomProjections(count: 8, seed: 0),
                                forward: (inout ForwardContext) -> Variable) -> [Double] {
    withResidualPathProbe(network: network, mode: mode, forward: forward) { probe in
        (0..<probe.blockCount).map { b in
            func squaredNorm(_ route: BlockRoute) -> Double {
                probe.routes[b] = route
                return squaredJacobianNorms(of: probe.blockOutputs[b], withRespectTo: [probe.blockInputs[b]], estimator: estimator)[0]
                    .reduce(0, +)
            }
            let branch = squaredNorm(.branch), shortcut = squaredNorm(.shortcut)
            probe.routes[b] = .full
            return branch + shortcut > 0 ? branch / (branch + shortcut) : 0
        }
    }
}

/// `PathContributionProfile` of `network` from `measureBranchShares`.
public func pathContributionProfile(of network: some ResidualNetwork, mode: Mode = .evaluation,
                                    estimator: JacobianEstimator = .randomProjections(count: 8, seed: 0),
                                    forward: (inout ForwardContext) -> Variable) -> PathContributionProfile {
    PathContributionProfile(branchShares: measureBranchShares(of: network, mode: mode, estimator: estimator, forward: forward))
}
