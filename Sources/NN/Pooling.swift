import Tape

/// `nn.AvgPool2d`.
public final class AvgPool2d: Layer {
    public let kernel: Pair, stride: Pair?, padding: Pair

    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        avgPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
}

/// `nn.MaxPool2d`.
public final class MaxPool2d: Layer {
    public let kernel: Pair, stride: Pair?, padding: Pair

    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        maxPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
}

/// Global average pooling: [N, C, H, W] → [N, C] (`nn.AdaptiveAvgPool2d(1)` then flatten).
public final class GlobalAvgPool2d: Layer {
    public override init() {}
    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable { globalAvgPool2d(input) }
}
