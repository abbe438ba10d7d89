import Tape

/// Fully connected layer (`nn.Linear`).
///
///     y = x·Wᵀ + b,   W: [out, in], b: [out], x: [N, in] (or any leading axes)
public final class Linear: Layer {
    /// W: [out, in].
    public let weight: Parameter
    /// b: [out], or nil without bias.
    public let bias: Parameter?

    /// `nn.Linear(inputs, outputs)`: W from `weightInitializer` (PyTorch's default U(−1/√in, 1/√in)),
    /// b ~ U(−1/√in, 1/√in) as PyTorch.
    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, weightInitializer: Initializer = .pytorchDefault,
                using random: inout SplitMix64) {
        weight = Parameter(weightInitializer.makeTensor([outputs, inputs], using: &random))
        let bound = 1 / Float(inputs).squareRoot()
        self.bias = bias ? Parameter(Tensor.randomUniform([outputs], lower: -bound, upper: bound, using: &random)) : nil
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        precondition(input.shape.last == weight.value.shape[1], "Linear: input \(input.shape) for weight \(weight.value.shape)")
        let output = matmul(input, weight.variable.transposed())
        return bias.map { output + $0.variable } ?? output
    }

    public override var ownParameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
}
