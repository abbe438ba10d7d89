import NN
import Tape

// Per-layer signal and gradient statistics from one forward and one backward pass: the
// measurement behind every "activations/gradients vs depth" plot (e.g. Glorot & Bengio 2010,
// He et al. 2015; the exploding and vanishing gradients that Philipp et al. 2018,
// https://arxiv.org/abs/1712.05577, and Balduzzi et al. 2017, https://arxiv.org/abs/1702.08591,
// analyse). Forward hooks record each layer's output y; a tape hook on y records ∂loss/∂y as the
// backward pass goes by. Parameter gradients come from `gradients(withRespectTo:)`, so no
// parameter's `grad` is touched.

/// What one layer produced in the measured pass.
public struct LayerRecord: Sendable {
    /// The dotted name (`resblocks.3.bn1`; "" for the model itself).
    public var name: String
    /// The layer's class name.
    public var kind: String
    /// The output y (the last call's, for a layer called more than once).
    public var output: TensorStatistics
    /// ∂loss/∂y; nil when y does not reach the loss (or is a constant).
    public var outputGradient: TensorStatistics?
}

/// A parameter's gradient ∂loss/∂θ and the parameter itself, by Euclidean norm.
public struct ParameterGradientRecord: Sendable {
    /// The parameter's dotted name (`resblocks.3.bn1.weight`).
    public var name: String
    /// ‖∂loss/∂θ‖₂.
    public var gradientNorm: Double
    /// ‖θ‖₂.
    public var valueNorm: Double
    /// ‖∂loss/∂θ‖ / ‖θ‖ (infinite for a zero parameter with a non-zero gradient, 0 for both zero).
    public var relativeGradientNorm: Double {
        valueNorm > 0 ? gradientNorm / valueNorm : (gradientNorm > 0 ? .infinity : 0)
    }
}

/// The result of `layerStatistics`.
public struct NetworkStatistics: Sendable {
    /// The loss of the measured forward pass.
    public var loss: Double
    /// In call order of the forward pass (the model itself, a container, comes last).
    public var layers: [LayerRecord]
    /// Every parameter of the model, in `namedParameters` order.
    public var parameters: [ParameterGradientRecord]

    /// The record of the layer named `name`, if it was measured.
    public func layer(named name: String) -> LayerRecord? { layers.first { $0.name == name } }
}

/// Runs `loss` (which must call `model`) once, differentiates the scalar it returns, and
/// reports, for every sub-layer of `model` selected by `include`, the mean / std / RMS of its
/// output y and the RMS / std of ∂loss/∂y, and for every parameter the norm of ∂loss/∂θ.
///
/// The model is left as it was except for what `loss` itself does (a training-mode forward
/// updates BatchNorm running statistics, as any training step would).
///
/// - Parameters:
///   - include: selects layers by dotted name and object; all by default.
///   - loss: the forward pass, returning a single-element loss.
public func layerStatistics(of model: Layer, include: (String, Layer) -> Bool = { _, _ in true },
                            loss: () -> Variable) -> NetworkStatistics {
    final class Capture {
        let name: String, kind: String
        var output = TensorStatistics(mean: 0, standardDeviation: 0, rootMeanSquare: 0)
        var gradient: TensorStatistics?
        init(name: String, kind: String) { (self.name, self.kind) = (name, kind) }
    }
    var captures: [Capture] = []            // one per call, in call order
    var latest: [ObjectIdentifier: Int] = [:]
    var tokens: [(Layer, Int)] = []
    for (name, layer) in model.namedLayers where include(name, layer) {
        let token = layer.registerForwardHook { layer, _, output in
            let capture = Capture(name: name, kind: "\(type(of: layer))")
            capture.output = TensorStatistics(output.value)
            if output.requiresGradient {
                output.registerHook { cotangent in
                    capture.gradient = TensorStatistics(cotangent.value)
                    return nil
                }
            }
            latest[ObjectIdentifier(layer)] = captures.count
            captures.append(capture)
            return nil
        }
        tokens.append((layer, token))
    }
    defer { for (layer, token) in tokens { layer.removeForwardHook(token) } }

    let value = loss()
    precondition(value.value.count == 1, "layerStatistics: the loss must have one element, got shape \(value.shape)")
    let named = model.namedParameters
    let gradients = value.requiresGradient
        ? value.gradients(withRespectTo: named.map { $0.1.variable })
        : named.map { Variable(Tensor.zeros($0.1.value.shape)) }
    let kept = Set(latest.values)
    return NetworkStatistics(
        loss: Double(value.value.scalars[0]),
        layers: captures.indices.filter(kept.contains).map {
            LayerRecord(name: captures[$0].name, kind: captures[$0].kind, output: captures[$0].output,
                        outputGradient: captures[$0].gradient)
        },
        parameters: zip(named, gradients).map { entry, gradient in
            ParameterGradientRecord(name: entry.0, gradientNorm: euclideanNorm(gradient.value), valueNorm: euclideanNorm(entry.1.value))
        })
}

/// `layerStatistics` for a classifier: the loss is the mean cross-entropy of `model(input)`
/// against `labels`, run in `context`'s mode.
public func layerStatistics(of model: Layer, input: Tensor, labels: [Int], context: ForwardContext = .evaluation,
                            include: (String, Layer) -> Bool = { _, _ in true }) -> NetworkStatistics {
    var context = context
    return layerStatistics(of: model, include: include) {
        crossEntropy(logits: model(Variable(input), &context), labels: labels)
    }
}
