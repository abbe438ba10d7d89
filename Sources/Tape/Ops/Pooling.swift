// Pooling. Average pooling and its adjoint are a pair of linear primitives; max pooling is a
// gather at the window maxima (found without gradient), so it needs no pullback of its own.

/// 2-D average pooling over [N, C, H, W] (PyTorch's `avg_pool2d`, floor mode).
///
///     y = mean of each window,  ∂x = avgPool2dBackward(∂y)  (each ∂y spread evenly over its window)
public func avgPool2d(_ input: Variable, kernel: Pair, stride: Pair? = nil, padding: Pair = 0,
                      countIncludingPadding: Bool = true, file: StaticString = #fileID, line: UInt = #line) -> Variable {
    let geometry = Pooling2D(kernel: kernel.tuple, stride: stride?.tuple, padding: padding.tuple)
    return avgPool2d(input, geometry: geometry, countIncludingPadding: countIncludingPadding, file: file, line: line)
}

func avgPool2d(_ input: Variable, geometry: Pooling2D, countIncludingPadding: Bool,
               file: StaticString = #fileID, line: UInt = #line) -> Variable {
    Variable.record("avgPool2d", avgPool2d(input.value, geometry: geometry, countIncludingPadding: countIncludingPadding),
                    [input], file: file, line: line) { dy, x, _ in
        [avgPool2dBackward(dy, inputShape: x[0].shape, geometry: geometry, countIncludingPadding: countIncludingPadding)]
    }
}

/// The adjoint of average pooling; its own pullback is average pooling.
func avgPool2dBackward(_ outputGradient: Variable, inputShape: [Int], geometry: Pooling2D, countIncludingPadding: Bool,
                       file: StaticString = #fileID, line: UInt = #line) -> Variable {
    Variable.record("avgPool2dBackward",
                    avgPool2dBackward(outputGradient.value, inputShape: inputShape, geometry: geometry,
                                             countIncludingPadding: countIncludingPadding),
                    [outputGradient], file: file, line: line) { dz, _, _ in
        [avgPool2d(dz, geometry: geometry, countIncludingPadding: countIncludingPadding)]
    }
}

/// 2-D max pooling over [N, C, H, W] (PyTorch's `max_pool2d`, floor mode; padding never wins).
///
///     y = x at each window's argmax,  ∂x = ∂y scattered to the argmax positions
public func maxPool2d(_ input: Variable, kernel: Pair, stride: Pair? = nil, padding: Pair = 0,
                      file: StaticString = #fileID, line: UInt = #line) -> Variable {
    let geometry = Pooling2D(kernel: kernel.tuple, stride: stride?.tuple, padding: padding.tuple)
    let indices = maxPool2dIndices(input.value, geometry: geometry)
    return input.gathered(flatIndices: indices, shape: geometry.outputShape(input: input.shape), file: file, line: line)
}

/// Mean over the spatial axes: [N, C, H, W] → [N, C] (global average pooling).
public func globalAvgPool2d(_ input: Variable, file: StaticString = #fileID, line: UInt = #line) -> Variable {
    precondition(input.rank == 4, "globalAvgPool2d: input must be [N, C, H, W], got \(input.shape)")
    return input.mean(alongAxes: [2, 3], file: file, line: line)
}
