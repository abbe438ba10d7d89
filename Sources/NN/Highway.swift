import Tape

/// Highway layer (Srivastava, Greff & Schmidhuber 2015, https://arxiv.org/abs/1505.00387), eq. (3):
///
///     y = T(x)·H(x) + (1 − T(x))·x,   T(x) = σ(W_T·x + b_T),  H(x) = act(W_H·x + b_H)
///
/// Dense (Linear) or convolutional (3×3, padding 1, same channels). The transform-gate bias b_T
/// starts negative (−1 … −3) so the layer first carries its input.
public final class Highway: Layer {
    /// The maps W_H·x + b_H of H and W_T·x + b_T of the transform gate T (b_T starts at `gateBias`).
    public let transform: Layer, gate: Layer
    /// act in H(x) = act(W_H·x + b_H); ReLU by default.
    public let activation: Layer
    /// The most recent gate activity T(x), for gate statistics.
    public private(set) var lastGate: Tensor?

    /// A highway layer of `width` units (Linear maps), or channels (3×3 convolutions, padding 1)
    /// when `convolutional`; `gateBias` is b_T, −2 by default.
    public init(width: Int, convolutional: Bool = false, gateBias: Float = -2, activation: Layer = ReLU(),
                using random: inout SplitMix64) {
        if convolutional {
            transform = Conv2d(width, width, kernelSize: 3, padding: 1, using: &random)
            let gateConv = Conv2d(width, width, kernelSize: 3, padding: 1, using: &random)
            gateConv.bias!.value = Tensor(shape: [width], repeating: gateBias)
            gate = gateConv
        } else {
            transform = Linear(width, width, using: &random)
            let gateLinear = Linear(width, width, using: &random)
            gateLinear.bias!.value = Tensor(shape: [width], repeating: gateBias)
            gate = gateLinear
        }
        self.activation = activation
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        let t = gate(input, &context).sigmoid()
        lastGate = t.value
        let h = activation(transform(input, &context), &context)
        return t * h + (1 - t) * input
    }

    public override var namedChildren: [(String, Layer)] { [("transform", transform), ("gate", gate)] }
}
