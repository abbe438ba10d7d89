import CKernels

/// Matrix product with NumPy's `matmul` rules: the last two axes are matrices, leading axes
/// broadcast; a rank-1 left operand is a row vector and a rank-1 right operand a column
/// vector (their axis is removed from the result). Strided operands are used in place: the
/// GEMM kernel takes row and column strides, so transposed views cost nothing.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 1 && b.rank >= 1, "matmul: scalars have no matrix product (shapes \(a.shape), \(b.shape))")
    let left = a.rank == 1 ? a.unsqueezed(axis: 0) : a
    let right = b.rank == 1 ? b.unsqueezed(axis: 1) : b
    let (m, k) = (left.shape[left.rank - 2], left.shape[left.rank - 1])
    let (k2, n) = (right.shape[right.rank - 2], right.shape[right.rank - 1])
    precondition(k == k2, "matmul: inner dimensions differ: \(a.shape) × \(b.shape)")
    guard let batch = Tensor.broadcastShape(Array(left.shape.dropLast(2)), Array(right.shape.dropLast(2))) else {
        preconditionFailure("matmul: batch dimensions of \(a.shape) and \(b.shape) do not broadcast")
    }
    let x = left.broadcasted(to: batch + [m, k]), y = right.broadcasted(to: batch + [k, n])
    var result = Tensor(uninitializedShape: batch + [m, n])
    if result.count > 0 {
        let (px, py, pz) = (x.storage.base, y.storage.base, result.storage.base)
        let (rsA, csA) = (x.strides[batch.count], x.strides[batch.count + 1])
        let (rsB, csB) = (y.strides[batch.count], y.strides[batch.count + 1])
        let outStrides = Array(result.strides.prefix(batch.count))
        forEachOffset(batch, outStrides, 0, Array(x.strides.prefix(batch.count)), x.offset,
                      Array(y.strides.prefix(batch.count)), y.offset) { o, i, j in
            ck_sgemm(Int64(m), Int64(n), Int64(k), 1, px + i, Int64(rsA), Int64(csA),
                     py + j, Int64(rsB), Int64(csB), 0, pz + o, Int64(n))
        }
    }
    if b.rank == 1 { result = result.squeezed(axes: [result.rank - 1]) }
    if a.rank == 1 { result = result.squeezed(axes: [result.rank - (b.rank == 1 ? 1 : 2)]) }
    return result
}
