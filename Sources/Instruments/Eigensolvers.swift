import Tape

// Symmetric eigenvalue problems in Double: the cyclic Jacobi method for dense matrices (exact
// spectra of small Hessians) and the Lanczos method with full reorthogonalisation for extreme
// eigenvalues from matrix–vector products alone (Hessian-vector products of larger nets).
// Golub & Van Loan, "Matrix Computations", 4th ed., section 8.5.2 (cyclic Jacobi) and
// sections 10.1–10.3 (Lanczos).

/// The eigenvalues (ascending) and orthonormal eigenvectors of a real symmetric matrix.
public struct SymmetricEigendecomposition: Sendable, Equatable {
    /// λ₀ ≤ λ₁ ≤ … ≤ λ_{n−1}.
    public var eigenvalues: [Double]
    /// `eigenvectors[i]` is the unit eigenvector of `eigenvalues[i]`: A·vᵢ = λᵢ·vᵢ.
    public var eigenvectors: [[Double]]

    /// Cyclic Jacobi: sweeps of plane rotations Jᵀ·A·J, each zeroing one off-diagonal entry
    /// (t = sign(τ)/(|τ| + √(1 + τ²)), τ = (a_qq − a_pp)/(2a_pq), c = 1/√(1 + t²), s = t·c), until
    /// the off-diagonal part is below `tolerance` relative to ‖A‖_F; convergence is quadratic.
    /// The strictly lower triangle of `matrix` is ignored (the matrix is taken as symmetric).
    public init(_ matrix: [[Double]], tolerance: Double = 1e-15, maximumSweeps: Int = 60) {
        let n = matrix.count
        precondition(matrix.allSatisfy { $0.count == n }, "SymmetricEigendecomposition: the matrix is not square")
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { (a[i * n + j], a[j * n + i]) = (matrix[i][j], matrix[i][j]) } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<maximumSweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += 2 * a[p * n + q] * a[p * n + q] } }
            if off <= tolerance * tolerance * total { break }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let tau = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = Swift.abs(tau) > 1e150 ? 1 / (2 * tau) : (tau >= 0 ? 1 : -1) / (Swift.abs(tau) + (1 + tau * tau).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = t * c
                    for k in 0..<n {   // A·J: columns p and q
                        let (akp, akq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {   // Jᵀ·(A·J): rows p and q
                        let (apk, aqk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    for k in 0..<n {   // V·J
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        eigenvalues = order.map { a[$0 * n + $0] }
        eigenvectors = order.map { column in (0..<n).map { v[$0 * n + column] } }
    }
}

/// The Ritz values of the symmetric operator `multiply` (a function v ↦ A·v on vectors of
/// length `dimension`) after `steps` Lanczos iterations with full reorthogonalisation, in
/// ascending order: the eigenvalues of the tridiagonal T = QᵀAQ over the Krylov space
/// span{q₁, A·q₁, …, A^{m−1}·q₁} from a Gaussian start vector. The extreme Ritz values converge
/// first (to the extreme eigenvalues, from inside the spectrum); with `steps` = `dimension` the
/// Ritz values are the whole spectrum. Stops early when the Krylov space is invariant (then
/// fewer than `steps` values are returned, all exact).
///
///     w = A·q_j − β_{j−1}·q_{j−1};  α_j = ⟨q_j, w⟩;  w −= α_j·q_j;
///     w −= Σᵢ ⟨qᵢ, w⟩·qᵢ (twice: full reorthogonalisation);  β_j = ‖w‖;  q_{j+1} = w/β_j
public func lanczosEigenvalues(dimension: Int, steps: Int, seed: UInt64 = 0, multiply: ([Double]) -> [Double]) -> [Double] {
    precondition(dimension >= 1 && steps >= 1 && steps <= dimension, "lanczosEigenvalues: \(steps) steps in dimension \(dimension)")
    func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
    var random = SplitMix64(seed: seed)
    var q = (0..<dimension).map { _ in Double(random.nextNormal()) }
    let start = dot(q, q).squareRoot()
    q = q.map { $0 / start }
    var basis: [[Double]] = [q]
    var alphas: [Double] = [], betas: [Double] = []
    var scale = 0.0
    for j in 0..<steps {
        var w = multiply(basis[j])
        precondition(w.count == dimension, "lanczosEigenvalues: the operator returned \(w.count) values for dimension \(dimension)")
        if j > 0 { for i in 0..<dimension { w[i] -= betas[j - 1] * basis[j - 1][i] } }
        let alpha = dot(basis[j], w)
        alphas.append(alpha)
        for i in 0..<dimension { w[i] -= alpha * basis[j][i] }
        for _ in 0..<2 {
            for b in basis {
                let projection = dot(b, w)
                for i in 0..<dimension { w[i] -= projection * b[i] }
            }
        }
        let beta = dot(w, w).squareRoot()
        scale = Swift.max(scale, Swift.abs(alpha) + beta)
        if j == steps - 1 || beta <= 1e-12 * scale { break }
        betas.append(beta)
        basis.append(w.map { $0 / beta })
    }
    let m = alphas.count
    var tridiagonal = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
    for i in 0..<m {
        tridiagonal[i][i] = alphas[i]
        if i + 1 < m { (tridiagonal[i][i + 1], tridiagonal[i + 1][i]) = (betas[i], betas[i]) }
    }
    return SymmetricEigendecomposition(tridiagonal).eigenvalues
}
