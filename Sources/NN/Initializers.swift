import Tape

/// Weight initialisers. Each takes the shape and an explicit seeded generator, so the same seed
/// gives the same model everywhere. Fan-in and fan-out follow PyTorch: for a weight
/// [out, in, k…], fan-in = in·∏k and fan-out = out·∏k.
public enum Initializer: Sendable {
    /// PyTorch's default for Conv2d and Linear weights: kaiming-uniform with a = √5, i.e.
    /// U(−1/√fan-in, 1/√fan-in). Biases use the same bound.
    case pytorchDefault
    /// He et al. 2015: N(0, gain²/fan) with gain √2 (for ReLU).
    case kaimingNormal(fanOut: Bool = false, gain: Float = 1.4142135)
    /// He et al. 2015: U(−b, b) with b = gain·√(3/fan).
    case kaimingUniform(fanOut: Bool = false, gain: Float = 1.4142135)
    /// Glorot & Bengio 2010: N(0, gain²·2/(fan-in + fan-out)).
    case xavierNormal(gain: Float = 1)
    /// Glorot & Bengio 2010: U(−b, b) with b = gain·√(6/(fan-in + fan-out)).
    case xavierUniform(gain: Float = 1)
    /// Saxe et al. 2014: a (semi-)orthogonal matrix of the flattened weight [out, in·∏k]; for
    /// convolutions, delta-orthogonal (Xiao et al. 2018): orthogonal at the centre tap, zero
    /// elsewhere.
    case orthogonal(gain: Float = 1)
    /// Balduzzi et al. 2017, "The Shattered Gradients Problem": for layers fed by CReLU, the
    /// mirrored weight [W, −W] along the input axis with W orthogonal [out, in/2] (delta-
    /// orthogonal for convolutions), so W·relu(x) − W·relu(−x) = W·x: the net starts linear.
    case looksLinear(gain: Float = 1)
    /// N(0, std²): small-weight initialisation.
    case normal(standardDeviation: Float)
    /// Every element equal to `value` (zeros with 0).
    case constant(Float)

    /// fan-in and fan-out of a weight shape [out, in, k…] (vectors: both the length).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(!shape.isEmpty, "initializer: a scalar has no fan")
        if shape.count == 1 { return (shape[0], shape[0]) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A tensor of `shape` (a weight [out, in, k…], or a vector) drawn by this initialiser from `random`.
    public func makeTensor(_ shape: [Int], using random: inout SplitMix64) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(fanIn).squareRoot()
            return Tensor.randomUniform(shape, lower: -bound, upper: bound, using: &random)
        case .kaimingNormal(let useFanOut, let gain):
            return Tensor.randomNormal(shape, standardDeviation: gain / Float(useFanOut ? fanOut : fanIn).squareRoot(), using: &random)
        case .kaimingUniform(let useFanOut, let gain):
            let bound = gain * (3 / Float(useFanOut ? fanOut : fanIn)).squareRoot()
            return Tensor.randomUniform(shape, lower: -bound, upper: bound, using: &random)
        case .xavierNormal(let gain):
            return Tensor.randomNormal(shape, standardDeviation: gain * (2 / Float(fanIn + fanOut)).squareRoot(), using: &random)
        case .xavierUniform(let gain):
            let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
            return Tensor.randomUniform(shape, lower: -bound, upper: bound, using: &random)
        case .orthogonal(let gain):
            return Initializer.deltaOrthogonal(shape, gain: gain, using: &random)
        case .looksLinear(let gain):
            precondition(shape.count >= 2 && shape[1] % 2 == 0, "looksLinear: needs an even input dimension, got \(shape)")
            var half = shape
            half[1] /= 2
            let w = Initializer.deltaOrthogonal(half, gain: gain, using: &random)
            return concatenated([w, -w], axis: 1)
        case .normal(let standardDeviation):
            return Tensor.randomNormal(shape, standardDeviation: standardDeviation, using: &random)
        case .constant(let value):
            return Tensor(shape: shape, repeating: value)
        }
    }

    /// Orthogonal [out, in] for matrices; for [out, in, kH, kW] the orthogonal matrix sits at
    /// the centre tap and the other taps are zero.
    static func deltaOrthogonal(_ shape: [Int], gain: Float, using random: inout SplitMix64) -> Tensor {
        precondition(shape.count >= 2, "orthogonal: needs a matrix or convolution weight, got \(shape)")
        let matrix = orthogonalMatrix(rows: shape[0], columns: shape[1], gain: gain, using: &random)
        if shape.count == 2 { return matrix }
        let taps = shape.dropFirst(2).reduce(1, *)
        let centre = shape.dropFirst(2).reversed().reduce((index: 0, stride: 1)) { partial, size in
            (partial.index + (size / 2) * partial.stride, partial.stride * size)
        }.index
        var scalars = [Float](repeating: 0, count: shape[0] * shape[1] * taps)
        for (i, value) in matrix.scalars.enumerated() { scalars[i * taps + centre] = value }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// A rows×columns matrix with orthonormal rows (rows ≤ columns) or columns (rows ≥ columns):
    /// Gram–Schmidt (twice, for stability) on Gaussian samples, in Double.
    static func orthogonalMatrix(rows: Int, columns: Int, gain: Float, using random: inout SplitMix64) -> Tensor {
        let (long, short) = (Swift.max(rows, columns), Swift.min(rows, columns))
        var vectors = (0..<short).map { _ in (0..<long).map { _ in Double(random.nextNormal()) } }
        for i in 0..<short {
            for _ in 0..<2 {
                for j in 0..<i {
                    let projection = zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
                    for k in 0..<long { vectors[i][k] -= projection * vectors[j][k] }
                }
            }
            let norm = vectors[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
            vectors[i] = vectors[i].map { $0 / norm }
        }
        var scalars = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows { for c in 0..<columns {
            scalars[r * columns + c] = gain * Float(rows <= columns ? vectors[r][c] : vectors[c][r])
        } }
        return Tensor(shape: [rows, columns], scalars: scalars)
    }
}
