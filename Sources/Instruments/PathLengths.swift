import Models
import NN
import Tape

// Path-length decomposition of the input gradient, Veit, Wilber & Belongie 2016
// (https://arxiv.org/abs/1605.06431), section 6 and figure 6: for each length k, the norm of the
// gradient carried by paths through k residual branches, sampled over random subsets of k
// blocks; weighted by the number of such paths C(n, k) it gives the total gradient
// contribution of each length (most of it comes from short paths).

/// The result of `pathLengthDecomposition` for a network of n blocks; arrays are indexed by
/// the path length k = 0 … n.
public struct PathLengthDecomposition: Sendable {
    /// How the paths of each length were sampled.
    public var sampling: PathSampling
    /// ‖∂loss/∂x₀‖₂ over the sampled subsets of k blocks (x₀: the first block's input, whole
    /// batch): the gradient of one path of length k (`.singlePath`), or of all 2ᵏ paths within
    /// the k open blocks (`.openBranches`, for which the contribution fields below are not a
    /// decomposition by path length).
    public var gradientNorms: [SampleSummary]
    /// Whether every subset of size k was visited once (then the mean is exact), which happens
    /// when C(n, k) ≤ the samples per length.
    public var exhaustive: [Bool]
    /// C(n, k): the number of paths of length k.
    public var pathCounts: [Double]
    /// C(n, k)/2ⁿ: the path-length distribution, Binomial(n, ½).
    public var pathLengthDistribution: [Double]
    /// C(n, k) · mean ‖g‖ over paths of length k: the total gradient magnitude of that length
    /// (infinite when C(n, k) overflows, beyond about n = 1000).
    public var totalContributions: [Double]
    /// The total contributions normalised to sum to 1 (computed without overflow).
    public var contributionDistribution: [Double]
}

/// Samples path gradients of every length through `network` (Veit et al., section 6) from one
/// recorded forward pass (`withResidualPathProbe`); the network is restored afterwards.
///
/// - Parameters:
///   - mode: the forward pass's mode.
///   - samplesPerLength: subsets drawn per length k (uniformly, without replacement within a
///     subset); when C(n, k) is at most this, every subset is used once instead.
///   - sampling: `.singlePath` (Veit et al.: one path per subset) or `.openBranches`.
///   - seed: for the subset draws.
///   - forward: runs the network on a fixed batch and returns the scalar loss.
public func pathLengthDecomposition(of network: some ResidualNetwork, mode: Mode = .evaluation, samplesPerLength: Int = 1000,
                                    sampling: PathSampling = .singlePath, seed: UInt64 = 0,
                                    forward: (inout ForwardContext) -> Variable) -> PathLengthDecomposition {
    precondition(samplesPerLength >= 1, "pathLengthDecomposition: need at least one sample per length, got \(samplesPerLength)")
    let n = network.residualBlocks.count
    let counts = binomialCoefficients(n)
    var random = SplitMix64(seed: seed)
    var norms: [SampleSummary] = []
    var exhaustive: [Bool] = []
    withResidualPathProbe(network: network, mode: mode, forward: forward) { probe in
        for k in 0...n {
            let subsets: [[Int]]
            if counts[k] <= Double(samplesPerLength) {
                subsets = allSubsets(of: n, size: k)
                exhaustive.append(true)
            } else {
                subsets = (0..<samplesPerLength).map { _ in randomSubset(of: n, size: k, using: &random) }
                exhaustive.append(false)
            }
            norms.append(SampleSummary(subsets.map { euclideanNorm(probe.inputGradient(through: Set($0), sampling: sampling)) }))
        }
    }
    let lengths = binomialDistribution(n)
    let weighted = zip(lengths, norms).map { $0 * $1.mean }
    let total = weighted.reduce(0, +)
    return PathLengthDecomposition(
        sampling: sampling, gradientNorms: norms, exhaustive: exhaustive, pathCounts: counts,
        pathLengthDistribution: lengths, totalContributions: zip(counts, norms).map { $0 * $1.mean },
        contributionDistribution: weighted.map { total > 0 ? $0 / total : 0 })
}

/// C(n, k) for k = 0 … n, in Double (exact while below 2⁵³).
public func binomialCoefficients(_ n: Int) -> [Double] {
    precondition(n >= 0, "binomialCoefficients: n must be non-negative, got \(n)")
    var result = [1.0]
    for k in 0..<n { result.append(result[k] * Double(n - k) / Double(k + 1)) }
    return result
}

/// C(n, k)/2ⁿ for k = 0 … n, by n halving convolutions (no overflow for any n).
public func binomialDistribution(_ n: Int) -> [Double] {
    poissonBinomialDistribution(Array(repeating: 0.5, count: n))
}

/// The distribution of the number of successes of independent Bernoulli trials with
/// probabilities `probabilities` (the Poisson-binomial distribution), indexed 0 … count:
/// the coefficients of ∏ᵢ (1 − pᵢ + pᵢ·z), multiplied out one factor at a time.
public func poissonBinomialDistribution(_ probabilities: [Double]) -> [Double] {
    var distribution = [1.0]
    for p in probabilities {
        precondition(p >= 0 && p <= 1, "poissonBinomialDistribution: probability \(p) outside [0, 1]")
        var next = distribution.map { $0 * (1 - p) } + [0]
        for (k, value) in distribution.enumerated() { next[k + 1] += value * p }
        distribution = next
    }
    return distribution
}

/// Every k-subset of 0..<n in lexicographic order.
func allSubsets(of n: Int, size k: Int) -> [[Int]] {
    var result: [[Int]] = []
    var subset = Array(0..<k)
    while true {
        result.append(subset)
        // The rightmost position that can still move right.
        guard let i = (0..<k).last(where: { subset[$0] < n - k + $0 }) else { return result }
        subset[i] += 1
        for j in (i + 1)..<k { subset[j] = subset[j - 1] + 1 }
    }
}

/// A uniformly random k-subset of 0..<n (partial Fisher–Yates), sorted.
func randomSubset(of n: Int, size k: Int, using random: inout SplitMix64) -> [Int] {
    var pool = Array(0..<n)
    for i in 0..<k { pool.swapAt(i, Int.random(in: i..<n, using: &random)) }
    return pool[..<k].sorted()
}
