import Tape

/// 2-D convolution layer (`nn.Conv2d`): filters [out, in/groups, kH, kW], optional bias [out].
public final class Conv2d: Layer {
    /// The filters W: [out, in/groups, kH, kW].
    public let weight: Parameter
    /// b: [out], or nil without bias.
    public let bias: Parameter?
    /// The step between windows, the zeros added on each side and the spacing of the filter taps,
    /// each as (height, width).
    public let stride: Pair, padding: Pair, dilation: Pair
    /// Channel groups: each group of in/groups inputs feeds its own out/groups outputs (1: a full
    /// convolution).
    public let groups: Int

    /// `nn.Conv2d(inputs, outputs, kernelSize)`: y = W ⋆ x + b, W from `weightInitializer` (PyTorch's
    /// default), b ~ U(−1/√fan-in, 1/√fan-in) as PyTorch; stride 1, padding 0, dilation 1, 1 group.
    public init(_ inputs: Int, _ outputs: Int, kernelSize: Pair, stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1,
                groups: Int = 1, bias: Bool = true, weightInitializer: Initializer = .pytorchDefault,
                using random: inout SplitMix64) {
        precondition(inputs % groups == 0 && outputs % groups == 0, "Conv2d: \(inputs)→\(outputs) channels do not divide into \(groups) groups")
        let shape = [outputs, inputs / groups, kernelSize.height, kernelSize.width]
        weight = Parameter(weightInitializer.makeTensor(shape, using: &random))
        let bound = 1 / Float(Initializer.fans(shape).fanIn).squareRoot()
        self.bias = bias ? Parameter(Tensor.randomUniform([outputs], lower: -bound, upper: bound, using: &random)) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        conv2d(input, filter: weight.variable, bias: bias?.variable, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override var ownParameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
}
