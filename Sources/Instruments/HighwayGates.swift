import Models
import NN
import Tape

// Transform-gate activity of highway networks, Srivastava, Greff & Schmidhuber, "Training Very
// Deep Networks", NIPS 2015 (https://arxiv.org/abs/1507.06228), section 4.1 and figure 2: per
// layer, the mean gate activity T(x) over examples and units (most gates start, and many stay,
// closed: the layer mostly carries its input), and how many gates are closed or open.

/// Statistics of one highway layer's gate T(x) = σ(W_T·x + b_T) over a batch (all examples and units).
public struct GateStatistics: Sendable, Equatable {
    /// The mean gate value.
    public var mean: Double
    /// Population standard deviation.
    public var standardDeviation: Double
    /// The fraction of gate values below 0.1 (closed: the layer carries its input).
    public var closedFraction: Double
    /// The fraction of gate values above 0.9 (open: the layer transforms).
    public var openFraction: Double

    /// The statistics of a gate tensor.
    public init(_ gate: Tensor) {
        let values = gate.scalars
        let moments = TensorStatistics(gate)
        mean = moments.mean
        standardDeviation = moments.standardDeviation
        let count = Double(Swift.max(values.count, 1))
        closedFraction = Double(values.filter { $0 < 0.1 }.count) / count
        openFraction = Double(values.filter { $0 > 0.9 }.count) / count
    }
}

/// The gate statistics of each of `layers` from its most recent forward pass (nil for a layer
/// that has not run).
public func gateStatistics(of layers: [Highway]) -> [GateStatistics?] { layers.map { $0.lastGate.map(GateStatistics.init) } }

/// Runs `network` on `input` (no tape) and returns the gate statistics of each highway layer, in
/// order (empty for a plain twin).
public func gateStatistics(of network: HighwayNetwork, input: Tensor, context: ForwardContext = .evaluation) -> [GateStatistics] {
    var context = context
    _ = withoutGradient { network(Variable(input), &context) }
    return gateStatistics(of: network.highwayLayers).map { $0! }
}
