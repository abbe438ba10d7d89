import NN
import Tape

// Deep fully connected networks for the research experiments: plain or residual with a shortcut
// around every k layers, any nonlinearity, normalisation and initialisation.
//   layer:    u(x) = act(norm(W·x + b))
//   residual: y = x + α·(u_k ∘ … ∘ u_1)(x)     (span k; Li et al. 2016, "Demystifying ResNet",
//             https://arxiv.org/abs/1611.01186, compare k = 1, 2, 3)
//   plain:    y = u(x)
// Pre-activation form (`ResidualForm.preActivation`, He et al. 2016, "Identity mappings in deep
// residual networks"; the block of Balduzzi et al. 2017, §3): each hidden unit is
// u(x) = W·act(norm(x)) + b, so a span-1 block is y = x + α·W·ρ(BN(x)) (without normalisation
// y = x + α·W·ρ(x)), and the input unit is the linear map W_in·x + b_in alone (no normalisation
// or nonlinearity: the stream starts unnormalised, as in He et al.'s pre-activation nets).
// Balduzzi et al. 2017 (https://arxiv.org/abs/1702.08591) and Philipp et al. 2018
// (https://arxiv.org/abs/1712.05577) study these at initialisation. CReLU doubles the width of
// the stream, and Looks-Linear initialisation makes a CReLU net start linear.

/// The nonlinearity act of each hidden unit.
public enum Nonlinearity: String, Sendable, CaseIterable, Codable {
    /// max(x, 0).
    case relu
    /// tanh(x).
    case tanh
    /// λ·(max(x, 0) + α·(exp(min(x, 0)) − 1)) (Klambauer et al. 2017), with its fixed α and λ.
    case selu
    /// concat(relu(x), relu(−x)) (Shang et al. 2016): doubles the width.
    case crelu
    /// The identity: a deep linear network.
    case linear

    func apply(_ x: Variable) -> Variable {
        switch self {
        case .relu: x.relu()
        case .tanh: x.tanh()
        case .selu: x.selu()
        case .crelu: x.crelu()
        case .linear: x
        }
    }
}

/// The normalisation after each hidden linear map.
public enum FeatureNormalization: String, Sendable, CaseIterable, Codable {
    /// No normalisation.
    case none
    /// BatchNorm1d (BatchNorm2d in convolutional networks).
    case batch
    /// LayerNorm over the features (dense networks only).
    case layer
}

/// Where a hidden unit's normalisation and nonlinearity sit relative to its linear map.
public enum ResidualForm: String, Sendable, CaseIterable, Codable {
    /// u(x) = act(norm(W·x + b)): the original ResNet order; with a shortcut y = x + α·u(x),
    /// the nonlinearity comes before the addition.
    case postActivation
    /// u(x) = W·act(norm(x)) + b: He et al.'s pre-activation order; the input unit is linear.
    case preActivation
}

/// A `DeepNetwork`'s architecture: sizes, nonlinearity, normalisation, shortcuts, initialisation.
public struct DeepNetworkConfiguration: Sendable {
    /// Input features (input channels, for convolutional nets) and outputs (classes).
    public var inputs: Int, outputs: Int
    /// Hidden layers (each Linear + normalisation + nonlinearity).
    public var depth: Int
    /// Units (or channels) of each hidden layer; the stream between blocks is 2·width with CReLU.
    public var width: Int
    /// act in each hidden unit; ReLU by default.
    public var nonlinearity: Nonlinearity
    /// norm in each hidden unit; none by default.
    public var normalization: FeatureNormalization
    /// nil: plain; k: a shortcut around every k hidden layers.
    public var shortcutSpan: Int?
    /// α in y = x + α·F(x).
    public var residualScale: Float
    /// The hidden weights' initialiser, Kaiming-normal by default; with Looks-Linear, the input unit is
    /// orthogonal and the head Looks-Linear, else the head has PyTorch's default.
    public var weightInitializer: Initializer
    /// Biases: N(0, σ²) with this σ (0 for zero biases).
    public var biasStandardDeviation: Float
    /// Convolutional units: 3×3 convolutions (padding 1) on `width` channels of [N, C, H, W]
    /// images, BatchNorm2d, and global average pooling before the head; `inputs` is then the
    /// number of input channels. Layer normalisation is for dense nets only.
    public var convolutional = false
    /// The order within each hidden unit (post-activation unless set; pre-activation is for
    /// dense nets whose nonlinearity keeps the width, i.e. not CReLU).
    public var form: ResidualForm = .postActivation

    /// Defaults: ReLU, no normalisation, a plain net (no shortcuts), α = 1, Kaiming-normal weights, zero
    /// biases.
    public init(inputs: Int, outputs: Int, depth: Int, width: Int, nonlinearity: Nonlinearity = .relu,
                normalization: FeatureNormalization = .none, shortcutSpan: Int? = nil, residualScale: Float = 1,
                weightInitializer: Initializer = .kaimingNormal(), biasStandardDeviation: Float = 0) {
        precondition(depth >= 0 && width >= 1 && (shortcutSpan ?? 1) >= 1, "DeepNetwork: depth \(depth), width \(width), span \(String(describing: shortcutSpan))")
        (self.inputs, self.outputs, self.depth, self.width) = (inputs, outputs, depth, width)
        (self.nonlinearity, self.normalization, self.shortcutSpan) = (nonlinearity, normalization, shortcutSpan)
        (self.residualScale, self.weightInitializer, self.biasStandardDeviation) = (residualScale, weightInitializer, biasStandardDeviation)
    }
}

/// One hidden layer u(x) = act(norm(W·x + b)), W a matrix or a 3×3 convolution; in the
/// pre-activation form u(x) = W·act(norm(x)) + b.
public final class DenseUnit: Layer {
    /// The Linear (or, in convolutional networks, Conv2d) map.
    public let linear: Layer
    /// Its weight and bias.
    public var weight: Parameter { linear.ownParameters[0].1 }
    /// Its bias b.
    public var bias: Parameter { linear.ownParameters[1].1 }
    /// norm: BatchNorm or LayerNorm, or nil.
    public let norm: Layer?
    /// act.
    public let nonlinearity: Nonlinearity
    /// The order of normalisation, nonlinearity and linear map.
    public let form: ResidualForm

    init(inputs: Int, configuration c: DeepNetworkConfiguration, initializer: Initializer, using random: inout SplitMix64) {
        let map: Layer
        if c.convolutional {
            let conv = Conv2d(inputs, c.width, kernelSize: 3, padding: 1, weightInitializer: initializer, using: &random)
            conv.bias!.value = Tensor.randomNormal([c.width], standardDeviation: c.biasStandardDeviation, using: &random)
            map = conv
        } else {
            let dense = Linear(inputs, c.width, weightInitializer: initializer, using: &random)
            dense.bias!.value = Tensor.randomNormal([c.width], standardDeviation: c.biasStandardDeviation, using: &random)
            map = dense
        }
        linear = map
        precondition(!(c.convolutional && c.normalization == .layer), "DeepNetwork: layer normalisation is for dense networks")
        precondition(c.form == .postActivation || (!c.convolutional && c.nonlinearity != .crelu),
                     "DeepNetwork: the pre-activation form is for dense networks without CReLU")
        // Post-activation normalises the map's output; pre-activation its input (of the same width here).
        let normalized = c.form == .postActivation ? c.width : inputs
        switch c.normalization {
        case .none: norm = nil
        case .batch: norm = c.convolutional ? BatchNorm2d(normalized) : BatchNorm1d(normalized)
        case .layer: norm = LayerNorm([normalized])
        }
        nonlinearity = c.nonlinearity
        form = c.form
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        switch form {
        case .postActivation:
            let z = linear(x, &context)
            return nonlinearity.apply(norm.map { $0(z, &context) } ?? z)
        case .preActivation:
            return linear(nonlinearity.apply(norm.map { $0(x, &context) } ?? x), &context)
        }
    }

    public override var namedChildren: [(String, Layer)] { [("linear", linear)] + (norm.map { [("norm", $0)] } ?? []) }
}

/// A residual group of k dense units around one shortcut (or a plain group without it).
public final class DenseBlock: ResidualBlock {
    /// u_1 … u_k, the branch F = u_k ∘ … ∘ u_1.
    public let units: Sequential
    /// α in y = x + α·F(x).
    public let scale: Float

    init(units: [DenseUnit], residual: Bool, scale: Float) {
        self.units = Sequential(units)
        self.scale = scale
        super.init(hasShortcut: residual, merge: scale == 1 ? .sum : .scaled(shortcut: 1, branch: scale))
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        combine(shortcut: x, gateInput: x, context: &context) { c in units(x, &c) }
    }

    public override var namedChildren: [(String, Layer)] { [("units", units)] }
}

/// input unit → blocks (k units each) → Linear head.
public final class DeepNetwork: Layer, ResidualNetwork {
    /// The configuration it was built from.
    public let configuration: DeepNetworkConfiguration
    /// The input unit: inputs → width (the bare linear map W_in·x + b_in in the pre-activation form).
    public let input: DenseUnit
    /// The blocks of `shortcutSpan` units each (the last may be shorter); depth units in all.
    public let blocks: Sequential
    /// The head: Linear stream → outputs, after global average pooling for convolutional nets.
    public let output: Linear

    /// The network of `configuration` with weights drawn from `seed`.
    public init(_ configuration: DeepNetworkConfiguration, seed: UInt64 = 0) {
        self.configuration = configuration
        var random = SplitMix64(seed: seed)
        let stream = configuration.nonlinearity == .crelu ? 2 * configuration.width : configuration.width
        let firstInitializer: Initializer
        if case .looksLinear(let gain) = configuration.weightInitializer { firstInitializer = .orthogonal(gain: gain) } else {
            firstInitializer = configuration.weightInitializer
        }
        var inputConfiguration = configuration
        if configuration.form == .preActivation {
            // The linear input map W_in·x + b_in: a post-activation unit without normalisation or nonlinearity.
            (inputConfiguration.form, inputConfiguration.normalization, inputConfiguration.nonlinearity) = (.postActivation, .none, .linear)
        }
        input = DenseUnit(inputs: configuration.inputs, configuration: inputConfiguration, initializer: firstInitializer, using: &random)
        let span = configuration.shortcutSpan ?? 1
        var remaining = configuration.depth
        var groups: [DenseBlock] = []
        while remaining > 0 {
            let size = Swift.min(span, remaining)
            let units = (0..<size).map { _ in
                DenseUnit(inputs: stream, configuration: configuration, initializer: configuration.weightInitializer, using: &random)
            }
            groups.append(DenseBlock(units: units, residual: configuration.shortcutSpan != nil, scale: configuration.residualScale))
            remaining -= size
        }
        blocks = Sequential(groups)
        let headInitializer: Initializer
        if case .looksLinear = configuration.weightInitializer { headInitializer = configuration.weightInitializer } else {
            headInitializer = .pytorchDefault
        }
        output = Linear(stream, configuration.outputs, weightInitializer: headInitializer, using: &random)
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let features = blocks(input(x, &context), &context)
        return output(configuration.convolutional ? globalAvgPool2d(features) : features, &context)
    }

    /// The representation after the input unit and after every block, in order: f₀, f₁, …, f_L.
    public func activations(_ x: Variable, _ context: inout ForwardContext) -> [Variable] {
        var current = input(x, &context)
        var result = [current]
        for block in blocks.layers {
            current = block(current, &context)
            result.append(current)
        }
        return result
    }

    public override var namedChildren: [(String, Layer)] { [("input", input), ("blocks", blocks), ("output", output)] }
    public var residualBlocks: [ResidualBlock] { blocks.layers.map { $0 as! ResidualBlock } }
}
