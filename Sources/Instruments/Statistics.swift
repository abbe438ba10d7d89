import Tape

// Summaries shared by the instruments. Everything is accumulated in Double, whatever the
// precision of the tensors it comes from.

/// Mean, standard deviation and root mean square of the elements of a tensor (population
/// moments, divided by the element count n):
///
///     mean = Σxᵢ/n,   std = √(Σ(xᵢ − mean)²/n),   rms = √(Σxᵢ²/n),   so rms² = mean² + std².
public struct TensorStatistics: Sendable, Equatable {
    /// Σxᵢ/n.
    public var mean: Double
    /// √(Σ(xᵢ − mean)²/n).
    public var standardDeviation: Double
    /// √(Σxᵢ²/n).
    public var rootMeanSquare: Double

    /// Moments computed elsewhere.
    public init(mean: Double, standardDeviation: Double, rootMeanSquare: Double) {
        (self.mean, self.standardDeviation, self.rootMeanSquare) = (mean, standardDeviation, rootMeanSquare)
    }

    /// The moments of every element of `tensor` (zeros for an empty tensor).
    public init(_ tensor: Tensor) { self.init(tensor.scalars.map(Double.init)) }

    /// The moments of `values` (zeros when empty).
    public init(_ values: [Double]) {
        guard !values.isEmpty else {
            self.init(mean: 0, standardDeviation: 0, rootMeanSquare: 0)
            return
        }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let meanSquare = values.reduce(0) { $0 + $1 * $1 } / n
        self.init(mean: mean, standardDeviation: variance.squareRoot(), rootMeanSquare: meanSquare.squareRoot())
    }
}

/// The mean and the sample standard deviation (Bessel's correction, n − 1) of repeated
/// measurements, such as one result per seed:
///
///     mean = Σvᵢ/n,   s = √(Σ(vᵢ − mean)²/(n − 1))
///
/// One value has s = 0; no values give NaN for both (there is nothing to summarise).
public func meanAndSampleStandardDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (mean, 0) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, variance.squareRoot())
}

/// A quantity measured on repeated random draws (sampled subsets, lesions): the values, their
/// mean and their sample standard deviation, from `meanAndSampleStandardDeviation(_:)` (both 0
/// when there are no values, the standard deviation 0 for a single value).
public struct SampleSummary: Sendable, Equatable {
    /// The measurements, in the order they were taken.
    public var values: [Double]

    /// A summary of `values`.
    public init(_ values: [Double]) { self.values = values }

    /// The number of measurements.
    public var count: Int { values.count }
    /// Σvᵢ/n (0 when empty).
    public var mean: Double { values.isEmpty ? 0 : meanAndSampleStandardDeviation(values).mean }
    /// √(Σ(vᵢ − mean)²/(n − 1)) (0 for fewer than two values).
    public var standardDeviation: Double { values.isEmpty ? 0 : meanAndSampleStandardDeviation(values).standardDeviation }
}

/// The Euclidean norm of a tensor's elements, in Double.
func euclideanNorm(_ tensor: Tensor) -> Double {
    tensor.scalars.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
}

/// The number of examples (leading axis) of a batched value and the size of one example.
func batchLayout(_ shape: [Int], op: StaticString) -> (examples: Int, size: Int) {
    precondition(!shape.isEmpty && shape[0] > 0, "\(op): expected a batch [N, …], got shape \(shape)")
    return (shape[0], shape.dropFirst().reduce(1, *))
}

/// Per-example sums of squares of a batched tensor [N, …].
func perExampleSquaredNorms(_ tensor: Tensor) -> [Double] {
    let (examples, size) = batchLayout(tensor.shape, op: "perExampleSquaredNorms")
    let scalars = tensor.scalars
    return (0..<examples).map { n in
        scalars[(n * size)..<((n + 1) * size)].reduce(0) { $0 + Double($1) * Double($1) }
    }
}
