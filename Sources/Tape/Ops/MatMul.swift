/// Matrix product with NumPy `matmul` rules: batch axes broadcast; a rank-1 operand is a
/// row (left) or column (right) vector whose axis is removed from the result.
///
///     Y  = A·B
///     ∂A = unbroadcast(∂Y·Bᵀ, A.shape),  ∂B = unbroadcast(Aᵀ·∂Y, B.shape)
public func matmul(_ a: Variable, _ b: Variable, file: StaticString = #fileID, line: UInt = #line) -> Variable {
    if a.rank == 1 { return matmul(a.unsqueezed(axis: 0), b, file: file, line: line).squeezed(axes: [b.rank == 1 ? -1 : -2]) }
    if b.rank == 1 { return matmul(a, b.unsqueezed(axis: 1), file: file, line: line).squeezed(axes: [-1]) }
    return Variable.record("matmul", matmul(a.value, b.value), [a, b], file: file, line: line) { dy, x, _ in
        [x[0].gradient { matmul(dy, x[1].transposed()).unbroadcasted(to: x[0].shape) },
         x[1].gradient { matmul(x[0].transposed(), dy).unbroadcasted(to: x[1].shape) }]
    }
}
