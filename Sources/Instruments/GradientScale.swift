import Models
import NN
import Tape

// The gradient scale coefficient of Philipp, Song & Carbonell, "The exploding gradient problem
// demystified — definition, prevalence, impact, origin, tradeoffs, and solutions"
// (https://arxiv.org/abs/1712.05577), section 3.
//
// Conventions here. Representations are indexed from the input side: f₀ is the lowest, f_L
// the highest (the paper counts the other way, with f₀ its error layer; pass the per-example
// loss as the highest representation to get the paper's GSC(k, 0)). Every representation is
// batched, [N, …]; one example's slice is a vector of dimension d.
//
// • Quadratic-mean norm of a vector: ‖v‖_qm = √(Σvᵢ²/d) = ‖v‖₂/√d.
// • Quadratic-mean norm of a d_k × d_l matrix J (paper, definition 1): the quadratic mean of its
//   singular values with the sum of squares divided by the right (input) dimension d_l:
//       ‖J‖_qm = √(Σσᵢ²/d_l) = √(tr(JᵀJ)/d_l) = ‖J‖_F/√d_l = √(E_u ‖Ju‖₂²)  (u uniform on the unit sphere).
// • GSC (paper, definition 2, in our indexing, l ≤ k, J_kl = ∂f_k/∂f_l):
//       GSC(k, l) = ‖J_kl‖_qm · ‖f_l‖₂ / ‖f_k‖₂,
//   the factor by which a random relative perturbation of f_l is amplified, relative to f_k's
//   size, at f_k. The vector norms are Euclidean as in the paper; for equal widths this is the
//   same as ‖J_kl‖_qm · ‖f_l‖_qm / ‖f_k‖_qm, and with it duplicating a layer's units leaves the GSC
//   unchanged. GSC(l, l) = 1; rescaling any f_j by a constant leaves every GSC unchanged, so a
//   linear net y = a·x has GSC 1 whatever a.
//
// ‖J‖_F² is computed per example from vector–Jacobian products Jᵀv (one reverse pass each):
// exactly with one-hot v (one pass per element of the batched f_k), or estimated without bias
// with Gaussian probes v ~ N(0, I): E‖Jᵀv‖² = tr(JJᵀ) = ‖J‖_F². For a batch, "the Jacobian of
// example n" is the block of columns of the batched Jacobian that belongs to n (the sum over
// all outputs of every example): exactly ∂f_{k,n}/∂f_{l,n} when examples do not interact
// (evaluation mode), and still well defined under training-mode BatchNorm. Batch values are
// the means of the per-example GSCs over the examples where it is defined: an example whose f_k
// is exactly zero (a dead ReLU layer) has no GSC (0/0 or x/0) and is left out; NaN if all are.

/// How ‖J‖_F² is obtained from vector–Jacobian products.
public enum JacobianEstimator: Sendable, Hashable {
    /// One reverse pass per element of the (batched) upper representation: exact, for small widths.
    case exact
    /// `count` Gaussian probes v ~ N(0, I) from a `SplitMix64(seed:)`: ‖J‖_F² ≈ mean of ‖Jᵀv‖²;
    /// relative standard error about √(2/count) for a Jacobian with many comparable singular values.
    case randomProjections(count: Int, seed: UInt64)
}

/// Per lower representation, per example n: ‖J_{·n}‖_F² for J = ∂upper/∂lower.
func squaredJacobianNorms(of upper: Variable, withRespectTo lowers: [Variable], estimator: JacobianEstimator) -> [[Double]] {
    precondition(upper.requiresGradient, "gradient scale: the upper representation (shape \(upper.shape)) is a constant")
    for lower in lowers {
        precondition(lower.requiresGradient, "gradient scale: a lower representation (shape \(lower.shape)) is a constant; "
                     + "make an input a leaf with Variable(x, requiresGradient: true)")
    }
    var totals = lowers.map { [Double](repeating: 0, count: batchLayout($0.shape, op: "gradientScale").examples) }
    func accumulate(seed: Tensor, weight: Double) {
        let gradients = upper.gradients(withRespectTo: lowers, seed: seed, retainGraph: true)
        for (i, gradient) in gradients.enumerated() {
            for (n, squared) in perExampleSquaredNorms(gradient.value).enumerated() { totals[i][n] += weight * squared }
        }
    }
    switch estimator {
    case .exact:
        for element in 0..<upper.value.count {
            var seed = [Float](repeating: 0, count: upper.value.count)
            seed[element] = 1
            accumulate(seed: Tensor(shape: upper.shape, scalars: seed), weight: 1)
        }
    case .randomProjections(let count, let seed):
        precondition(count >= 1, "gradient scale: need at least one random projection, got \(count)")
        var random = SplitMix64(seed: seed)
        for _ in 0..<count { accumulate(seed: Tensor.randomNormal(upper.shape, using: &random), weight: 1 / Double(count)) }
    }
    return totals
}

/// ‖∂upper/∂lower‖_qm = ‖J‖_F/√d_lower for every example of the batch.
///
/// `upper` must have been computed from `lower` on the tape (the graph is kept: it can be
/// differentiated again).
public func jacobianQuadraticMeanNorms(of upper: Variable, withRespectTo lower: Variable,
                                       estimator: JacobianEstimator = .exact) -> [Double] {
    let size = batchLayout(lower.shape, op: "jacobianQuadraticMeanNorms").size
    return squaredJacobianNorms(of: upper, withRespectTo: [lower], estimator: estimator)[0].map { ($0 / Double(size)).squareRoot() }
}

/// GSC(k, l) = ‖∂f_k/∂f_l‖_qm · ‖f_l‖₂ / ‖f_k‖₂ for every example, with f_l = `lower` and
/// f_k = `upper` (Philipp et al., definition 2; conventions at the top of this file): NaN or
/// infinite for an example whose f_k is zero.
public func gradientScaleCoefficients(from lower: Variable, to upper: Variable,
                                      estimator: JacobianEstimator = .exact) -> [Double] {
    gradientScaleCoefficients(jacobianNorms: jacobianQuadraticMeanNorms(of: upper, withRespectTo: lower, estimator: estimator),
                              lower: lower.value, upper: upper.value)
}

func gradientScaleCoefficients(jacobianNorms: [Double], lower: Tensor, upper: Tensor) -> [Double] {
    let lowerNorms = perExampleSquaredNorms(lower), upperNorms = perExampleSquaredNorms(upper)
    precondition(lowerNorms.count == upperNorms.count, "gradient scale: batch sizes \(lower.shape) and \(upper.shape) differ")
    return jacobianNorms.indices.map { n in jacobianNorms[n] * (lowerNorms[n] / upperNorms[n]).squareRoot() }
}

/// The GSC along a stack of representations f₀ … f_L (batch means of the per-example values).
public struct GradientScaleProfile: Sendable, Equatable {
    /// GSC(k, 0) for k = 0 … L: from the lowest representation to each (1 at k = 0). The
    /// exploding-gradient plot "GSC from each layer to the input against depth".
    public var lowestToEach: [Double]
    /// GSC(L, l) for l = 0 … L: from each representation to the highest (1 at l = L). With the
    /// per-example loss as f_L this is the paper's GSC(l, 0) to its error layer.
    public var eachToHighest: [Double]
    /// ‖f_k‖_qm, the batch mean of √(Σ f²/d) per example: the forward signal scale.
    public var quadraticMeans: [Double]
}

/// GSC(k, 0) and GSC(L, l) for every k and l along `representations`, which must come from one
/// forward pass on the tape (f_{k+1} computed from f_k). Costs L sets of reverse passes (one
/// per element of f_k with `.exact`, one per probe otherwise) for the first, one set for the second.
public func gradientScaleProfile(_ representations: [Variable], estimator: JacobianEstimator = .exact) -> GradientScaleProfile {
    precondition(!representations.isEmpty, "gradientScaleProfile: no representations")
    func batchMean(_ values: [Double]) -> Double {
        let defined = values.filter(\.isFinite)
        return defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
    }
    let lowest = representations[0], top = representations.count - 1
    var lowestToEach = [1.0]
    for upper in representations.dropFirst() {
        lowestToEach.append(batchMean(gradientScaleCoefficients(from: lowest, to: upper, estimator: estimator)))
    }
    var eachToHighest = [Double](repeating: 1, count: representations.count)
    if top > 0 {
        let lowers = Array(representations[..<top])
        let squared = squaredJacobianNorms(of: representations[top], withRespectTo: lowers, estimator: estimator)
        for (l, lower) in lowers.enumerated() {
            let size = Double(batchLayout(lower.shape, op: "gradientScaleProfile").size)
            let norms = squared[l].map { ($0 / size).squareRoot() }
            eachToHighest[l] = batchMean(gradientScaleCoefficients(jacobianNorms: norms, lower: lower.value, upper: representations[top].value))
        }
    }
    let quadraticMeans = representations.map { f in
        let size = Double(batchLayout(f.shape, op: "gradientScaleProfile").size)
        return batchMean(perExampleSquaredNorms(f.value).map { ($0 / size).squareRoot() })
    }
    return GradientScaleProfile(lowestToEach: lowestToEach, eachToHighest: eachToHighest, quadraticMeans: quadraticMeans)
}

/// `gradientScaleProfile` of a `DeepNetwork` on a batch: the representations are f₀ (after
/// the input unit) … f_L (after every block, `activations`), then the logits, then — when
/// `labels` are given — the per-example cross-entropy as the error layer, shaped [N, 1].
public func gradientScaleProfile(of network: DeepNetwork, input: Tensor, labels: [Int]? = nil,
                                 context: ForwardContext = .evaluation,
                                 estimator: JacobianEstimator = .exact) -> GradientScaleProfile {
    var context = context
    var representations = network.activations(Variable(input), &context)
    let logits = network.output(representations[representations.count - 1], &context)
    representations.append(logits)
    if let labels {
        representations.append(crossEntropy(logits: logits, labels: labels, reduction: .none).reshaped(to: [labels.count, 1]))
    }
    return gradientScaleProfile(representations, estimator: estimator)
}
