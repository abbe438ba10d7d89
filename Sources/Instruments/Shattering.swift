import NN
import Tape

// Shattered gradients, Balduzzi, Frean, Leary, Lewis, Ma & McWilliams, "The Shattered Gradients
// Problem: If resnets are the answer, then what is the question?", ICML 2017
// (https://arxiv.org/abs/1702.08591), section 2 and figures 1–3: for a network with one scalar
// input, the gradients dy/dx over a 1-D grid of inputs look like brown noise (strongly
// correlated between neighbours) for shallow nets and resnets, and like white noise (no
// correlation at any lag ≥ 1) for deep plain rectifier nets.
//
// Per-example gradients come from one reverse pass of Σₙ yₙ, which is the stack of the ∂yₙ/∂xₙ
// when examples do not interact (evaluation mode; no training-mode BatchNorm).

/// Correlations of a sequence g₀ … g_{N−1} (the gradients along the grid) with itself shifted
/// by lag d = 0 … maxLag.
public struct SequenceCorrelation: Sendable, Equatable {
    /// Uncentred, normalised: ρ(d) = Σᵢ gᵢ·gᵢ₊d / √(Σᵢ gᵢ² · Σᵢ gᵢ₊d²) with i over 0 ..< N − d (the
    /// cosine between the sequence and its shift): 1 for a constant sequence, ≈ 0 for zero-mean
    /// white noise at d ≥ 1.
    public var lagCorrelation: [Double]
    /// The sample autocorrelation function (as in the paper's figure 3), centred on the mean ḡ
    /// and normalised by the lag-0 sum: r(d) = Σᵢ (gᵢ − ḡ)(gᵢ₊d − ḡ) / Σᵢ (gᵢ − ḡ)². Nil for a
    /// constant sequence (variance at most 10⁻¹⁰ of the mean square: constant up to Float rounding).
    public var autocorrelation: [Double]?

    /// Correlations of `values` up to `maxLag` (< count).
    public init(_ values: [Double], maxLag: Int) {
        let n = values.count
        precondition(n >= 2 && maxLag >= 0 && maxLag < n, "SequenceCorrelation: lag \(maxLag) for \(n) values")
        lagCorrelation = (0...maxLag).map { d in
            var cross = 0.0, head = 0.0, tail = 0.0
            for i in 0..<(n - d) {
                cross += values[i] * values[i + d]
                head += values[i] * values[i]
                tail += values[i + d] * values[i + d]
            }
            return head > 0 && tail > 0 ? cross / (head * tail).squareRoot() : 0
        }
        let mean = values.reduce(0, +) / Double(n)
        let centred = values.map { $0 - mean }
        let variance = centred.reduce(0) { $0 + $1 * $1 }
        let meanSquare = values.reduce(0) { $0 + $1 * $1 }
        if variance <= 1e-10 * meanSquare {
            autocorrelation = nil
        } else {
            autocorrelation = (0...maxLag).map { d in
                (0..<(n - d)).reduce(0) { $0 + centred[$1] * centred[$1 + d] } / variance
            }
        }
    }

    /// r(1), the correlation between neighbouring gradients (nil for a constant sequence).
    public var lag1Autocorrelation: Double? { autocorrelation.flatMap { $0.count > 1 ? $0[1] : nil } }

    /// The correlation length: the first lag d ≥ 1 at which r(d) < 1/e. Nil for a constant
    /// sequence, or when r stays at or above 1/e up to the largest lag computed.
    public var correlationLength: Int? {
        autocorrelation.flatMap { r in r.indices.dropFirst().first { r[$0] < 0.36787944117144233 } }
    }
}

/// Input gradients of a scalar-input network along a 1-D grid.
public struct GradientShattering: Sendable {
    /// The grid points x₀ … x_{N−1}.
    public var inputs: [Double]
    /// dy/dx at each grid point.
    public var gradients: [Double]
    /// The gradients' correlations as a function of grid distance.
    public var correlation: SequenceCorrelation
}

/// `count` evenly spaced points from `lower` to `upper` inclusive (the paper: 256 points in [−2, 2]).
public func gridPoints(from lower: Float = -2, to upper: Float = 2, count: Int = 256) -> [Float] {
    precondition(count >= 2 && upper > lower, "gridPoints: \(count) points in [\(lower), \(upper)]")
    return (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
}

/// dy/dx of `function` (a network with one input and one output, [N, 1] → [N, 1] or [N]) at
/// every point of `grid`, in one batch, and their correlations up to `maxLag` grid steps.
public func shatteredGradients(of function: (Variable) -> Variable, grid: [Float] = gridPoints(),
                               maxLag: Int = 64) -> GradientShattering {
    let input = Variable(Tensor(shape: [grid.count, 1], scalars: grid), requiresGradient: true)
    let output = function(input)
    precondition(output.value.count == grid.count, "shatteredGradients: expected one output per grid point, got shape \(output.shape)")
    let gradients = output.gradients(withRespectTo: [input], seed: Tensor.ones(output.shape))[0].value.scalars.map(Double.init)
    return GradientShattering(inputs: grid.map(Double.init), gradients: gradients,
                              correlation: SequenceCorrelation(gradients, maxLag: Swift.min(maxLag, grid.count - 1)))
}

/// The Gram matrix of per-example gradient vectors across a batch.
public struct GradientGram: Sendable, Equatable {
    /// Gᵢⱼ = ⟨gᵢ, gⱼ⟩ with gₙ = ∂yₙ/∂xₙ flattened.
    public var gram: [[Double]]
    /// Cᵢⱼ = Gᵢⱼ/√(Gᵢᵢ·Gⱼⱼ) (the cosine of the angle between gᵢ and gⱼ; 0 where a gradient is zero).
    public var correlation: [[Double]]
    /// Covᵢⱼ = ⟨gᵢ − ḡ, gⱼ − ḡ⟩/d, with ḡ the batch mean of the gradients and d their length: the
    /// Gram matrix of the centred gradients per coordinate.
    public var covariance: [[Double]]

    /// The mean of Cᵢⱼ over i ≠ j (1 for identical gradient directions, ≈ 0 for shattered ones).
    public var meanOffDiagonalCorrelation: Double {
        let n = correlation.count
        guard n > 1 else { return 1 }
        var sum = 0.0
        for i in 0..<n { for j in 0..<n where i != j { sum += correlation[i][j] } }
        return sum / Double(n * (n - 1))
    }
}

/// The Gram, correlation and covariance matrices of the gradients gₙ = ∂yₙ/∂xₙ across the batch,
/// where `output` holds one scalar yₙ per example ([N] or [N, 1]) computed on the tape from the
/// batched `input` [N, …] (a leaf or any intermediate representation).
public func gradientGram(of output: Variable, withRespectTo input: Variable) -> GradientGram {
    let (examples, size) = batchLayout(input.shape, op: "gradientGram")
    precondition(output.value.count == examples, "gradientGram: expected one output per example (\(examples)), got shape \(output.shape)")
    let flat = output.gradients(withRespectTo: [input], seed: Tensor.ones(output.shape), retainGraph: true)[0].value.scalars.map(Double.init)
    let rows = (0..<examples).map { Array(flat[($0 * size)..<(($0 + 1) * size)]) }
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    let gram = rows.map { a in rows.map { b in dot(a, b) } }
    let norms = (0..<examples).map { gram[$0][$0].squareRoot() }
    let correlation: [[Double]] = (0..<examples).map { i in
        (0..<examples).map { j -> Double in
            let scale = norms[i] * norms[j]
            return scale > 0 ? gram[i][j] / scale : 0
        }
    }
    let mean = (0..<size).map { c in rows.reduce(0) { $0 + $1[c] } / Double(examples) }
    let centred = rows.map { zip($0, mean).map { $0 - $1 } }
    let covariance = centred.map { a in centred.map { b in dot(a, b) / Double(size) } }
    return GradientGram(gram: gram, correlation: correlation, covariance: covariance)
}

// BatchNorm couples the examples of a batch, and with the grid as one batch its "input gradient"
// exists in two conventions:
//   through the batch statistics: one reverse pass of Σₙ yₙ in training mode, the gradient
//       `backward` gives; row m is d(Σₙ yₙ)/dx_m, which includes how x_m moves every example's
//       normalisation through the batch mean and variance;
//   frozen statistics: ∂y_m/∂x_m with every BatchNorm's batch mean and (biased) variance held as
//       constants — the per-example gradient of the function the batch defines, and the
//       convention of Balduzzi et al.'s analysis (§3, where BatchNorm is a fixed rescaling).
// The frozen convention is computed by `freezeBatchStatistics`: one training-mode pass stores
// each BatchNorm's batch statistics as its running statistics, and an evaluation-mode pass then
// normalises with them as constants (the same activations, up to Float rounding).

/// Which gradient of a network with training-mode BatchNorm `shatteredGradients` takes.
public enum BatchNormGradient: String, Codable, Sendable, CaseIterable {
    /// d(Σₙ yₙ)/dx_m through the batch mean and variance (what `backward` gives).
    case throughBatchStatistics = "through batch statistics"
    /// ∂y_m/∂x_m with the batch's statistics held fixed.
    case frozenStatistics = "frozen batch statistics"
}

/// Every BatchNorm layer of `model`, depth first.
func batchNormLayers(of model: Layer) -> [BatchNorm] {
    (model as? BatchNorm).map { [$0] } ?? model.namedChildren.flatMap { batchNormLayers(of: $0.1) }
}

/// Sets each BatchNorm's running mean and variance to the mean and biased variance of the batch
/// it sees when `model` runs on `input` in training mode, so that evaluation mode reproduces the
/// training-mode forward pass with those statistics as constants. Other buffers and parameters
/// are unchanged; `batchesTracked` counts the pass.
///
/// How: running ← (1 − m)·running + m·statistic with running set to 0 first gives m·μ and
/// m·σ²·n/(n − 1); dividing by m and m·n/(n − 1) (n the values per channel, recorded from each
/// layer's input shape) leaves μ and σ², up to rounding.
public func freezeBatchStatistics(of model: Layer, on input: Tensor, seed: UInt64 = 0) {
    let layers = batchNormLayers(of: model)
    var counts = [Int](repeating: 0, count: layers.count)
    var tokens: [Int] = []
    for (index, layer) in layers.enumerated() {
        layer.runningMean.value = Tensor.zeros(layer.runningMean.value.shape)
        layer.runningVariance.value = Tensor.zeros(layer.runningVariance.value.shape)
        tokens.append(layer.registerForwardHook { _, input, _ in
            counts[index] = input.shape.enumerated().filter { $0.offset != 1 }.reduce(1) { $0 * $1.element }
            return nil
        })
    }
    var context = ForwardContext.training(seed: seed)
    _ = model(Variable(input), &context)
    for (layer, token) in zip(layers, tokens) { layer.removeForwardHook(token) }
    for (layer, n) in zip(layers, counts) {
        precondition(n > 1, "freezeBatchStatistics: a BatchNorm layer did not run or saw one value per channel")
        layer.runningMean.value = layer.runningMean.value * (1 / layer.momentum)
        layer.runningVariance.value = layer.runningVariance.value * (Float(n - 1) / (layer.momentum * Float(n)))
    }
}

/// dy/dx of `model` (one input, one output) along `grid`, the grid being one batch, with
/// BatchNorm's gradient taken by `convention` (see `BatchNormGradient`). The frozen convention
/// leaves `model`'s running statistics at the grid's batch statistics. A model without BatchNorm
/// gives the same gradients either way.
public func shatteredGradients(of model: Layer, grid: [Float] = gridPoints(), maxLag: Int = 64,
                               batchNorm convention: BatchNormGradient, seed: UInt64 = 0) -> GradientShattering {
    switch convention {
    case .throughBatchStatistics:
        return shatteredGradients(of: { var context = ForwardContext.training(seed: seed); return model($0, &context) },
                                  grid: grid, maxLag: maxLag)
    case .frozenStatistics:
        freezeBatchStatistics(of: model, on: Tensor(shape: [grid.count, 1], scalars: grid), seed: seed)
        return shatteredGradients(of: { var context = ForwardContext.evaluation; return model($0, &context) },
                                  grid: grid, maxLag: maxLag)
    }
}
