import CKernels

/// The geometry of a 2-D convolution on `[N, C, H, W]` inputs with `[O, C/groups, kH, kW]`
/// filters: output `[N, O, Hₒ, Wₒ]` with Hₒ = ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1.
public struct Convolution2D: Sendable, Hashable {
    /// (height, width) each: the step between windows, the zeros added on each side, the spacing of filter taps.
    public var stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    /// Channels split into `groups` independent blocks: output block g sees only input block g.
    public var groups: Int

    /// Stride, dilation and groups must be positive, padding non-negative.
    public init(stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        precondition(stride.0 > 0 && stride.1 > 0, "conv2d: stride must be positive, got \(stride)")
        precondition(padding.0 >= 0 && padding.1 >= 0, "conv2d: padding must be non-negative, got \(padding)")
        precondition(dilation.0 > 0 && dilation.1 > 0, "conv2d: dilation must be positive, got \(dilation)")
        precondition(groups > 0, "conv2d: groups must be positive, got \(groups)")
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation && a.groups == b.groups
    }

    public func hash(into hasher: inout Hasher) {
        for value in [stride.0, stride.1, padding.0, padding.1, dilation.0, dilation.1, groups] { hasher.combine(value) }
    }

    /// The output shape, after checking that input and filter fit together.
    public func outputShape(input: [Int], filter: [Int]) -> [Int] {
        precondition(input.count == 4, "conv2d: input must be [N, C, H, W], got \(input)")
        precondition(filter.count == 4, "conv2d: filter must be [O, C/groups, kH, kW], got \(filter)")
        precondition(input[1] % groups == 0 && filter[0] % groups == 0 && filter[1] * groups == input[1],
                     "conv2d: input \(input) and filter \(filter) do not fit groups \(groups)")
        let height = (input[2] + 2 * padding.0 - dilation.0 * (filter[2] - 1) - 1) / stride.0 + 1
        let width = (input[3] + 2 * padding.1 - dilation.1 * (filter[3] - 1) - 1) / stride.1 + 1
        precondition(height > 0 && width > 0, "conv2d: filter \(filter) larger than padded input \(input)")
        return [input[0], filter[0], height, width]
    }
}

extension Convolution2D {
    /// The C kernels' description of this convolution on `input` with `filter` (shapes checked).
    func kernelGeometry(input: [Int], filter: [Int]) -> ck_conv_geometry {
        let output = outputShape(input: input, filter: filter)
        return ck_conv_geometry(n: Int64(input[0]), c: Int64(input[1]), h: Int64(input[2]), w: Int64(input[3]),
                                o: Int64(filter[0]), kh: Int64(filter[2]), kw: Int64(filter[3]),
                                ho: Int64(output[2]), wo: Int64(output[3]),
                                stride_h: Int64(stride.0), stride_w: Int64(stride.1), pad_h: Int64(padding.0), pad_w: Int64(padding.1),
                                dilation_h: Int64(dilation.0), dilation_w: Int64(dilation.1), groups: Int64(groups))
    }
}

/// Cross-correlation of `input` [N, C, H, W] with `filter` [O, C/groups, kH, kW] → [N, O, Hₒ, Wₒ],
/// plus `bias` [O] per output channel when given (added by the kernel while each tile is in
/// cache, rounded as a separate add: the same floats as `conv2d(…) + bias`).
public func conv2d(_ input: Tensor, filter: Tensor, bias: Tensor? = nil, geometry: Convolution2D) -> Tensor {
    var plan = geometry.kernelGeometry(input: input.shape, filter: filter.shape)
    if let bias {
        precondition(bias.shape == [filter.shape[0]], "conv2d: bias \(bias.shape) for filter \(filter.shape)")
    }
    let x = input.contiguous(), f = filter.contiguous(), b = bias?.contiguous()
    let result = Tensor(uninitializedShape: geometry.outputShape(input: input.shape, filter: filter.shape))
    ck_conv2d_forward(&plan, x.storage.base + x.offset, f.storage.base + f.offset, b.map { $0.storage.base + $0.offset },
                      result.storage.base)
    return withExtendedLifetime((x, f, b)) { result }
}

/// The adjoint of `conv2d` in its input: given ∂y [N, O, Hₒ, Wₒ], returns
/// ∂x = Σ over windows of filterᵀ·∂y, with shape `inputShape`.
public func conv2dBackwardInput(_ outputGradient: Tensor, filter: Tensor, inputShape: [Int],
                                       geometry: Convolution2D) -> Tensor {
    var plan = geometry.kernelGeometry(input: inputShape, filter: filter.shape)
    precondition(outputGradient.shape == geometry.outputShape(input: inputShape, filter: filter.shape),
                 "conv2dBackwardInput: gradient \(outputGradient.shape) does not match input \(inputShape) and filter \(filter.shape)")
    let dy = outputGradient.contiguous(), f = filter.contiguous()
    let result = Tensor(uninitializedShape: inputShape)
    ck_conv2d_backward_input(&plan, dy.storage.base + dy.offset, f.storage.base + f.offset, result.storage.base)
    return withExtendedLifetime((dy, f)) { result }
}

/// The adjoint of `conv2d` in its filter: ∂w = Σₙ ∂yₙ · im2col(xₙ)ᵀ, with shape `filterShape`.
public func conv2dBackwardFilter(_ input: Tensor, outputGradient: Tensor, filterShape: [Int],
                                        geometry: Convolution2D) -> Tensor {
    var plan = geometry.kernelGeometry(input: input.shape, filter: filterShape)
    precondition(outputGradient.shape == geometry.outputShape(input: input.shape, filter: filterShape),
                 "conv2dBackwardFilter: gradient \(outputGradient.shape) does not match input \(input.shape) and filter \(filterShape)")
    let x = input.contiguous(), dy = outputGradient.contiguous()
    let result = Tensor(uninitializedShape: filterShape)
    ck_conv2d_backward_filter(&plan, x.storage.base + x.offset, dy.storage.base + dy.offset, result.storage.base)
    return withExtendedLifetime((x, dy)) { result }
}
