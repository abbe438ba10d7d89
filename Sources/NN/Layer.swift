import Tape

/// Training or evaluation: chosen explicitly for every forward pass, never global.
public enum Mode: Sendable {
    /// Batch statistics, dropout and stochastic depth on, as PyTorch's `model.train()`.
    case training
    /// Running statistics, dropout off, every block in place, as `model.eval()`.
    case evaluation
}

/// Everything a forward pass depends on besides its input: the mode, and the seeded generator
/// from which dropout and stochastic depth draw.
public struct ForwardContext {
    /// Training or evaluation.
    public var mode: Mode
    /// The seeded generator dropout and stochastic depth draw from; each draw advances it.
    public var random: SplitMix64

    /// A context drawing from `random`.
    public init(mode: Mode, random: SplitMix64) {
        self.mode = mode
        self.random = random
    }

    /// A context drawing from the generator seeded with 0.
    public init(mode: Mode) { self.init(mode: mode, random: SplitMix64(seed: 0)) }

    /// A training context drawing from the generator seeded with `seed` (0 by default).
    public static func training(seed: UInt64 = 0) -> ForwardContext { ForwardContext(mode: .training, random: SplitMix64(seed: seed)) }
    /// An evaluation context (its generator seeded with 0).
    public static var evaluation: ForwardContext { ForwardContext(mode: .evaluation) }
}

/// Non-trainable state saved with a model (BatchNorm running statistics, batch counters).
public final class Buffer {
    /// The current value, updated in place by its layer (never by an optimizer).
    public var value: Tensor
    /// Stored as an integer (I64) in state dicts, as PyTorch's `num_batches_tracked`.
    public let isInteger: Bool

    /// A buffer holding `value`; `isInteger` saves it as I64.
    public init(_ value: Tensor, isInteger: Bool = false) {
        self.value = value
        self.isInteger = isInteger
    }
}

/// A differentiable building block (as `torch.nn.Module`): callable on a variable, and the
/// owner of named parameters, buffers and sub-layers.
///
/// A class, so parameters keep their identity across steps and a sub-layer can be addressed by
/// its dotted name (`resblocks.3.bn1`) exactly as in a PyTorch `state_dict`. Subclasses override
/// `forward`, and list what they own in `namedChildren`, `ownParameters` and `ownBuffers`.
open class Layer {
    /// Called after `forward` with (layer, input, output); may return a replacement output.
    public typealias ForwardHook = (Layer, Variable, Variable) -> Variable?
    private var forwardHooks: [Int: ForwardHook] = [:]
    private var nextHookID = 0

    /// A layer with no forward hooks.
    public init() {}

    /// The computation. Call the layer itself (`layer(x, &context)`) so hooks run.
    open func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        preconditionFailure("\(type(of: self)) does not override forward(_:_:)")
    }

    /// Sub-layers with their names, in a fixed order.
    open var namedChildren: [(String, Layer)] { [] }
    /// Parameters held directly by this layer, with their names.
    open var ownParameters: [(String, Parameter)] { [] }
    /// Buffers held directly by this layer, with their names.
    open var ownBuffers: [(String, Buffer)] { [] }

    /// y = forward(x), then each forward hook in registration order (as calling an `nn.Module`).
    public final func callAsFunction(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        var output = forward(input, &context)
        for id in forwardHooks.keys.sorted() {
            if let replacement = forwardHooks[id]!(self, input, output) { output = replacement }
        }
        return output
    }

    /// Registers a forward hook; returns a token for `removeForwardHook`.
    @discardableResult
    public final func registerForwardHook(_ hook: @escaping ForwardHook) -> Int {
        nextHookID += 1
        forwardHooks[nextHookID] = hook
        return nextHookID
    }

    /// Removes the hook registered under `token` (nothing if it is already gone).
    public final func removeForwardHook(_ token: Int) { forwardHooks[token] = nil }

    /// Whether a forward hook is registered: a layer whose output is fused into the next op
    /// (`BatchNorm.normalizedReLU`) runs unfused then, so hooks see and may replace that output.
    final var hasForwardHooks: Bool { !forwardHooks.isEmpty }

    /// Every parameter below this layer with its dotted name, depth first in declaration order.
    public final var namedParameters: [(String, Parameter)] {
        var result: [(String, Parameter)] = []
        visit { prefix, layer in result += layer.ownParameters.map { (prefix + $0.0, $0.1) } }
        return result
    }

    /// Every buffer below this layer with its dotted name.
    public final var namedBuffers: [(String, Buffer)] {
        var result: [(String, Buffer)] = []
        visit { prefix, layer in result += layer.ownBuffers.map { (prefix + $0.0, $0.1) } }
        return result
    }

    /// Every layer below and including this one, with its dotted name ("" for this one).
    public final var namedLayers: [(String, Layer)] {
        var result: [(String, Layer)] = []
        visit { prefix, layer in result.append((prefix.isEmpty ? "" : String(prefix.dropLast()), layer)) }
        return result
    }

    /// Every parameter below this layer, in the order of `namedParameters` (`module.parameters()`).
    public final var parameters: [Parameter] { namedParameters.map(\.1) }

    /// The number of trainable scalars.
    public final var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The sub-layer at a dotted path such as `resblocks.3.bn1`, or nil.
    public final func layer(named path: String) -> Layer? {
        var current: Layer = self
        for component in path.split(separator: ".") {
            guard let child = current.namedChildren.first(where: { $0.0 == component })?.1 else { return nil }
            current = child
        }
        return current
    }

    /// Forgets every parameter's accumulated gradient.
    public final func zeroGradients() { for parameter in parameters { parameter.zeroGradient() } }

    /// Walks the tree without recursion (deep nets such as a 1001-layer ResNet stay flat).
    private func visit(_ body: (String, Layer) -> Void) {
        var stack: [(String, Layer)] = [("", self)]
        while let (prefix, layer) = stack.popLast() {
            body(prefix, layer)
            for (name, child) in layer.namedChildren.reversed() { stack.append((prefix + name + ".", child)) }
        }
    }
}

/// Layers applied one after another; children are named "0", "1", … as in `nn.Sequential`.
public final class Sequential: Layer {
    /// The layers, in the order they run.
    public private(set) var layers: [Layer]

    /// When true, every layer runs as a gradient checkpoint (`Variable.checkpoint`): training
    /// keeps only the layers' outputs, and the backward pass recomputes each layer's forward pass
    /// (about a third more compute) instead of keeping its intermediate values. The recomputation
    /// sees the same random draws, and buffers (running statistics) are restored after it; forward
    /// hooks of the layers run in both passes. Not for second derivatives.
    public var checkpointsLayers = false

    /// Runs `layers` in order.
    public init(_ layers: [Layer]) { self.layers = layers }
    /// Runs the given layers in order: `Sequential(conv, bn, ReLU())`.
    public convenience init(_ layers: Layer...) { self.init(layers) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        layers.reduce(input) { x, layer in checkpointsLayers ? Sequential.checkpointed(layer, x, &context) : layer(x, &context) }
    }

    private static func checkpointed(_ layer: Layer, _ input: Variable, _ context: inout ForwardContext) -> Variable {
        let start = context
        let output = withoutGradient { layer(input, &context) }
        return Variable.checkpoint(input, output: output.value, parameters: layer.parameters) { replayInput in
            var replayContext = start
            let buffers = layer.namedBuffers.map { ($0.1, $0.1.value) }
            defer { for (buffer, value) in buffers { buffer.value = value } }
            return layer(replayInput, &replayContext)
        }
    }

    public override var namedChildren: [(String, Layer)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }
}

/// Passes its input through unchanged.
public final class Identity: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { input }
}
