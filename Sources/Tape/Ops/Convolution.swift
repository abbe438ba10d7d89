// Convolution as three primitives closed under differentiation: conv2d, its adjoint in the
// input (backward-data) and its adjoint in the filter (backward-weight). Each pulls back through
// the other two, so convolutions can be differentiated any number of times.

/// 2-D cross-correlation (PyTorch's `conv2d`), with an optional bias per output channel.
///
///     y[n, o] = Σ_c Σ_ij w[o, c, i, j] · x[n, c, s·p + d·i − pad, …] + b[o]
///     ∂x = conv2dBackwardInput(∂y, w),  ∂w = conv2dBackwardFilter(x, ∂y),  ∂b = Σ_{n,h,w} ∂y
///
/// - Parameters:
///   - input: [N, C, H, W].
///   - filter: [O, C/groups, kH, kW].
///   - bias: [O] or nil.
/// - Returns: [N, O, Hₒ, Wₒ] with Hₒ = ⌊(H + 2·pad − dilation·(kH − 1) − 1) / stride⌋ + 1.
public func conv2d(_ input: Variable, filter: Variable, bias: Variable? = nil, stride: Pair = 1, padding: Pair = 0,
                   dilation: Pair = 1, groups: Int = 1, file: StaticString = #fileID, line: UInt = #line) -> Variable {
    let geometry = Convolution2D(stride: stride.tuple, padding: padding.tuple, dilation: dilation.tuple, groups: groups)
    return conv2d(input, filter: filter, bias: bias, geometry: geometry, file: file, line: line)
}

/// conv2d for a given geometry. The bias is added inside the kernel (one op, no separate pass
/// over the output); its cotangent is ∂y summed over all axes but the channel's, as a broadcast
/// add's would be.
public func conv2d(_ input: Variable, filter: Variable, bias: Variable? = nil, geometry: Convolution2D,
                   file: StaticString = #fileID, line: UInt = #line) -> Variable {
    guard let bias else {
        return Variable.record("conv2d", conv2d(input.value, filter: filter.value, geometry: geometry), [input, filter],
                               saves: .inputs, file: file, line: line) { dy, x, _ in
            convolutionCotangents(dy, x, geometry: geometry)
        }
    }
    return Variable.record("conv2d", conv2d(input.value, filter: filter.value, bias: bias.value, geometry: geometry),
                           [input, filter, bias], saves: .inputs, file: file, line: line) { dy, x, _ in
        convolutionCotangents(dy, x, geometry: geometry)
            + [x[2].gradient { dy.unbroadcasted(to: [1, x[2].shape[0], 1, 1]).reshaped(to: x[2].shape) }]
    }
}

/// ∂x and ∂w of conv2d, from the op's inputs x[0] (the input) and x[1] (the filter).
private func convolutionCotangents(_ dy: Variable, _ x: [Variable], geometry: Convolution2D) -> [Variable?] {
    [x[0].gradient { conv2dBackwardInput(dy, filter: x[1], inputShape: x[0].shape, geometry: geometry) },
     x[1].gradient { conv2dBackwardFilter(x[0], outputGradient: dy, filterShape: x[1].shape, geometry: geometry) }]
}

/// The adjoint of conv2d in its input (a transposed convolution), linear in both arguments.
///
///     z = Jₓᵀ·g  (Jₓ: conv2d as a linear map of x for filter w)
///     ∂g = conv2d(∂z, w),  ∂w = conv2dBackwardFilter(∂z, g)
public func conv2dBackwardInput(_ outputGradient: Variable, filter: Variable, inputShape: [Int], geometry: Convolution2D,
                                file: StaticString = #fileID, line: UInt = #line) -> Variable {
    Variable.record("conv2dBackwardInput",
                    conv2dBackwardInput(outputGradient.value, filter: filter.value, inputShape: inputShape, geometry: geometry),
                    [outputGradient, filter], file: file, line: line) { dz, x, _ in
        [x[0].gradient { conv2d(dz, filter: x[1], geometry: geometry) },
         x[1].gradient { conv2dBackwardFilter(dz, outputGradient: x[0], filterShape: x[1].shape, geometry: geometry) }]
    }
}

/// The adjoint of conv2d in its filter, linear in both arguments.
///
///     z = Σₙ g·im2col(x)ᵀ
///     ∂x = conv2dBackwardInput(g, filter: ∂z),  ∂g = conv2d(x, filter: ∂z)
public func conv2dBackwardFilter(_ input: Variable, outputGradient: Variable, filterShape: [Int], geometry: Convolution2D,
                                 file: StaticString = #fileID, line: UInt = #line) -> Variable {
    Variable.record("conv2dBackwardFilter",
                    conv2dBackwardFilter(input.value, outputGradient: outputGradient.value, filterShape: filterShape, geometry: geometry),
                    [input, outputGradient], file: file, line: line) { dz, x, _ in
        [x[0].gradient { conv2dBackwardInput(x[1], filter: dz, inputShape: x[0].shape, geometry: geometry) },
         x[1].gradient { conv2d(x[0], filter: dz, geometry: geometry) }]
    }
}
