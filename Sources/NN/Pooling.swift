import Tape

/// `nn.AvgPool2d`.
public final class AvgPool2d: Layer {
    /// The window, the step between windows (nil: the window, as PyTorch) and the zero padding on
    /// each side, as (height, width).
    public let kernel: Pair, stride: Pair?, padding: Pair

    /// `nn.AvgPool2d(kernel, stride, padding)`: the mean of each window (padding counted as zeros).
    public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    public override func forward(_ input: Variable, _ context: inout ForwardContext) -> Variable {
        avgPool2d(input, kernel: kernel, stride: stride, padding: padding)
    }
}

/// `nn.MaxPool2d`.
public final class MaxPool2d: Layer {
    /// The window, the step between windows (nil: the window, as PyTorch) and the padding on each
    /// side (it never wins), as (height, width).
    public let kernel: Pair, stride: Pair?, padding: Pair

    /// `nn.MaxPool2d(kernel, stride, padding)`: the maximum of each window.
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
