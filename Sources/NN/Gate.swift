import Tape

/// The gate of a gated merge: g = σ(W·x + b) with a 1×1 convolution (4-D input) or a linear map.
public final class Gate: Layer {
    let transform: Layer

    /// A gate of `outputs` units: a 1×1 convolution with step `stride` when `convolutional`, else a
    /// `Linear` map (PyTorch's default weights); every bias b starts at `bias`.
    public init(inputs: Int, outputs: Int, stride: Int, bias gateBias: Float, convolutional: Bool, using random: inout SplitMix64) {
        if convolutional {
            let conv = Conv2d(inputs, outputs, kernelSize: 1, stride: Pair(stride, stride), using: &random)
            conv.bias!.value = Tensor(shape: [outputs], repeating: gateBias)
            transform = conv
        } else {
            let linear = Linear(inputs, outputs, using: &random)
            linear.bias!.value = Tensor(shape: [outputs], repeating: gateBias)
            transform = linear
        }
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { transform(input, &context).sigmoid() }
    public override var namedChildren: [(String, Layer)] { [("transform", transform)] }
}
