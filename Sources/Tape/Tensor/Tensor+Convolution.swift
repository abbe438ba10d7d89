import CKernels

/// The geometry of a 2-D convolution on `[N, C, H, W]` inputs with `[O, C/groups, kH, kW]`
/// filters: output `[N, O, Hₒ, Wₒ]` with Hₒ = ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1.
public struct Convolution2D: Sendable, Hashable {
    public var stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public var groups: Int

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

/// Per-image, per-group pointers and sizes shared by the three convolution kernels.
private struct ConvolutionPlan {
    let n, c, h, w, o, kh, kw, ho, wo, groups: Int
    let geometry: Convolution2D
    var groupChannels: Int { c / groups }
    var groupOutputs: Int { o / groups }
    var patch: Int { groupChannels * kh * kw }
    var pixels: Int { ho * wo }

    init(input: [Int], filter: [Int], geometry: Convolution2D) {
        let output = geometry.outputShape(input: input, filter: filter)
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (o, kh, kw) = (filter[0], filter[2], filter[3])
        (ho, wo) = (output[2], output[3])
        groups = geometry.groups
        self.geometry = geometry
    }

    /// Unfolds one group of one image into `columns` [patch, Hₒ·Wₒ] (zeros where padded).
    func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>) {
        let (sh, sw) = geometry.stride, (ph, pw) = geometry.padding, (dh, dw) = geometry.dilation
        for channel in 0..<groupChannels {
            for i in 0..<kh { for j in 0..<kw {
                let row = columns + ((channel * kh + i) * kw + j) * pixels
                for oy in 0..<ho {
                    let y = oy * sh - ph + i * dh
                    let out = row + oy * wo
                    if y < 0 || y >= h { for ox in 0..<wo { out[ox] = 0 }; continue }
                    let source = image + (channel * h + y) * w
                    for ox in 0..<wo {
                        let x = ox * sw - pw + j * dw
                        out[ox] = x >= 0 && x < w ? source[x] : 0
                    }
                }
            } }
        }
    }

    /// Adds the columns [patch, Hₒ·Wₒ] back into one group of one image: the adjoint of im2col.
    func col2im(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
        let (sh, sw) = geometry.stride, (ph, pw) = geometry.padding, (dh, dw) = geometry.dilation
        for channel in 0..<groupChannels {
            for i in 0..<kh { for j in 0..<kw {
                let row = columns + ((channel * kh + i) * kw + j) * pixels
                for oy in 0..<ho {
                    let y = oy * sh - ph + i * dh
                    if y < 0 || y >= h { continue }
                    let target = image + (channel * h + y) * w, source = row + oy * wo
                    for ox in 0..<wo {
                        let x = ox * sw - pw + j * dw
                        if x >= 0 && x < w { target[x] += source[ox] }
                    }
                }
            } }
        }
    }

    func withColumns(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(patch * pixels, 1))
        defer { columns.deallocate() }
        body(columns)
    }
}

extension Tensor {
    /// Cross-correlation of `input` [N, C, H, W] with `filter` [O, C/groups, kH, kW] → [N, O, Hₒ, Wₒ].
    public static func conv2d(_ input: Tensor, filter: Tensor, geometry: Convolution2D) -> Tensor {
        let plan = ConvolutionPlan(input: input.shape, filter: filter.shape, geometry: geometry)
        let x = input.contiguous(), f = filter.contiguous()
        let result = Tensor(uninitializedShape: [plan.n, plan.o, plan.ho, plan.wo])
        let (px, pf, py) = (x.storage.base + x.offset, f.storage.base + f.offset, result.storage.base)
        plan.withColumns { columns in
            for image in 0..<plan.n { for group in 0..<plan.groups {
                plan.im2col(px + (image * plan.c + group * plan.groupChannels) * plan.h * plan.w, columns)
                ck_sgemm(Int64(plan.groupOutputs), Int64(plan.pixels), Int64(plan.patch), 1,
                         pf + group * plan.groupOutputs * plan.patch, Int64(plan.patch), 1,
                         columns, Int64(plan.pixels), 1, 0,
                         py + (image * plan.o + group * plan.groupOutputs) * plan.pixels, Int64(plan.pixels))
            } }
        }
        return result
    }

    /// The adjoint of `conv2d` in its input: given ∂y [N, O, Hₒ, Wₒ], returns
    /// ∂x = Σ over windows of filterᵀ·∂y, with shape `inputShape`.
    public static func conv2dBackwardInput(_ outputGradient: Tensor, filter: Tensor, inputShape: [Int],
                                           geometry: Convolution2D) -> Tensor {
        let plan = ConvolutionPlan(input: inputShape, filter: filter.shape, geometry: geometry)
        precondition(outputGradient.shape == [plan.n, plan.o, plan.ho, plan.wo],
                     "conv2dBackwardInput: gradient \(outputGradient.shape) does not match input \(inputShape) and filter \(filter.shape)")
        let dy = outputGradient.contiguous(), f = filter.contiguous()
        let result = Tensor.zeros(inputShape)
        let (pdy, pf, pdx) = (dy.storage.base + dy.offset, f.storage.base + f.offset, result.storage.base)
        plan.withColumns { columns in
            for image in 0..<plan.n { for group in 0..<plan.groups {
                ck_sgemm(Int64(plan.patch), Int64(plan.pixels), Int64(plan.groupOutputs), 1,
                         pf + group * plan.groupOutputs * plan.patch, 1, Int64(plan.patch),
                         pdy + (image * plan.o + group * plan.groupOutputs) * plan.pixels, Int64(plan.pixels), 1,
                         0, columns, Int64(plan.pixels))
                plan.col2im(columns, pdx + (image * plan.c + group * plan.groupChannels) * plan.h * plan.w)
            } }
        }
        return result
    }

    /// The adjoint of `conv2d` in its filter: ∂w = Σₙ ∂yₙ · im2col(xₙ)ᵀ, with shape `filterShape`.
    public static func conv2dBackwardFilter(_ input: Tensor, outputGradient: Tensor, filterShape: [Int],
                                            geometry: Convolution2D) -> Tensor {
        let plan = ConvolutionPlan(input: input.shape, filter: filterShape, geometry: geometry)
        precondition(outputGradient.shape == [plan.n, plan.o, plan.ho, plan.wo],
                     "conv2dBackwardFilter: gradient \(outputGradient.shape) does not match input \(input.shape) and filter \(filterShape)")
        let x = input.contiguous(), dy = outputGradient.contiguous()
        let result = Tensor.zeros(filterShape)
        let (px, pdy, pdw) = (x.storage.base + x.offset, dy.storage.base + dy.offset, result.storage.base)
        plan.withColumns { columns in
            for image in 0..<plan.n { for group in 0..<plan.groups {
                plan.im2col(px + (image * plan.c + group * plan.groupChannels) * plan.h * plan.w, columns)
                ck_sgemm(Int64(plan.groupOutputs), Int64(plan.patch), Int64(plan.pixels), 1,
                         pdy + (image * plan.o + group * plan.groupOutputs) * plan.pixels, Int64(plan.pixels), 1,
                         columns, 1, Int64(plan.pixels),
                         1, pdw + group * plan.groupOutputs * plan.patch, Int64(plan.patch))
            } }
        }
        return result
    }
}
