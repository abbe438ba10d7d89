import NN
import Tape

// Highway networks. Srivastava, Greff & Schmidhuber, "Training Very Deep Networks", NIPS 2015
// (https://arxiv.org/abs/1507.06228), eq. (3): y = H(x)·T(x) + x·(1 − T(x)), T = σ(W_T·x + b_T)
// with b_T initialised negative. Dense MNIST nets as in section 3.1 (optimisation experiment):
// a Linear + ReLU layer into `width` units, `depth` highway layers, a softmax classifier; the
// plain twins use ReLU layers whose width is chosen so the whole net has about as many
// parameters as the highway net of width 50 (≈ 71 for deep nets: w² + w per plain layer vs
// 2·(w² + w) per highway layer). The convolutional variant uses
// 3×3 highway convolutions at constant width, then global pooling.

/// A dense (or convolutional) highway network or its plain twin.
public final class HighwayNetwork: Layer {
    /// Linear inputs → width (or a 3×3 convolution), followed by ReLU.
    public let input: Layer
    /// The `depth` highway layers, or Linear (3×3 Conv2d) + ReLU layers in the plain twin.
    public let layers: Sequential
    /// The classifier: Linear width → classes (logits), after global average pooling if convolutional.
    public let output: Linear
    /// Whether the layers are 3×3 convolutions on [N, C, H, W] (else dense on flattened inputs).
    public let convolutional: Bool

    /// - Parameters:
    ///   - depth: number of highway (or plain) layers.
    ///   - width: units (dense) or channels (convolutional); nil picks 50 for highway nets and, for
    ///     plain twins, the width whose parameter count is closest to the highway net's.
    ///   - highway: false builds the plain twin.
    ///   - gateBias: the initial transform-gate bias b_T. The default −2 suits shallow nets; deep
    ///     ones need a more negative bias (the paper searched [−1, −10] per net). With
    ///     Kaiming-normal weights, −2 trains worse than −6 from 20 layers on, and 50- and 100-layer
    ///     nets stay at chance with −2 while −6 trains them (`lab experiment highway`).
    public init(depth: Int, width: Int? = nil, highway: Bool = true, convolutional: Bool = false, gateBias: Float = -2,
                inputs: Int = 784, inputChannels: Int = 1, classes: Int = 10, seed: UInt64 = 0) {
        precondition(depth >= 1, "HighwayNetwork: depth must be positive, got \(depth)")
        var random = SplitMix64(seed: seed)
        let units = width ?? (highway ? 50 : HighwayNetwork.plainWidthMatching(depth: depth, inputs: inputs, classes: classes))
        self.convolutional = convolutional
        input = convolutional
            ? Conv2d(inputChannels, units, kernelSize: 3, padding: 1, using: &random)
            : Linear(inputs, units, using: &random)
        layers = Sequential((0..<depth).map { _ -> Layer in
            if highway { return Highway(width: units, convolutional: convolutional, gateBias: gateBias, using: &random) }
            return convolutional
                ? Sequential(Conv2d(units, units, kernelSize: 3, padding: 1, using: &random), ReLU())
                : Sequential(Linear(units, units, using: &random), ReLU())
        })
        output = Linear(units, classes, using: &random)
    }

    public override func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let flat = convolutional ? x : x.flattened()
        let features = layers(input(flat, &context).relu(), &context)
        return output(convolutional ? globalAvgPool2d(features) : features, &context)
    }

    public override var namedChildren: [(String, Layer)] { [("input", input), ("layers", layers), ("output", output)] }

    /// The dense plain width w whose parameter count, (inputs + 1)·w + depth·(w² + w) + (w + 1)·classes,
    /// is closest to the highway net's of width 50.
    public static func plainWidthMatching(depth: Int, inputs: Int, classes: Int) -> Int {
        func count(_ w: Int, perLayer: Int) -> Int { (inputs + 1) * w + depth * perLayer + (w + 1) * classes }
        let target = count(50, perLayer: 2 * (50 * 50 + 50))
        return (1...400).min { abs(count($0, perLayer: $0 * $0 + $0) - target) < abs(count($1, perLayer: $1 * $1 + $1) - target) }!
    }

    /// The highway layers (empty for a plain twin).
    public var highwayLayers: [Highway] { layers.layers.compactMap { $0 as? Highway } }
}
