// Row-major traversal of one to three strided operands over a common shape. Adjacent axes that
// are contiguous in every operand are merged first, so the innermost loop is as long as possible;
// the loop nest is an odometer over the outer axes (no recursion, any rank).

/// Merges adjacent axes that are laid out consecutively in every operand, and drops size-1 axes.
@inline(__always)
func coalesce(_ shape: [Int], _ strideSets: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    var outShape: [Int] = []
    var outStrides = [[Int]](repeating: [], count: strideSets.count)
    for axis in 0..<shape.count where shape[axis] != 1 {
        if let last = outShape.last,
           (0..<strideSets.count).allSatisfy({ outStrides[$0].last! == strideSets[$0][axis] * shape[axis] }) {
            outShape[outShape.count - 1] = last * shape[axis]
            for k in 0..<strideSets.count { outStrides[k][outStrides[k].count - 1] = strideSets[k][axis] }
        } else {
            outShape.append(shape[axis])
            for k in 0..<strideSets.count { outStrides[k].append(strideSets[k][axis]) }
        }
    }
    return (outShape, outStrides)
}

/// Calls `body(o0)` with the storage position of every element of one strided operand.
@inline(__always)
func forEachOffset(_ shape: [Int], _ s0: [Int], _ o0: Int, _ body: (Int) -> Void) {
    if shape.contains(0) { return }
    let (dims, strides) = coalesce(shape, [s0])
    let a = strides[0]
    guard let inner = dims.last else { body(o0); return }
    let ia = a[a.count - 1]
    var counter = [Int](repeating: 0, count: dims.count)
    var p0 = o0
    while true {
        var q0 = p0
        for _ in 0..<inner { body(q0); q0 += ia }
        var axis = dims.count - 2
        while axis >= 0 {
            counter[axis] += 1
            p0 += a[axis]
            if counter[axis] < dims[axis] { break }
            p0 -= a[axis] * dims[axis]
            counter[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Calls `body(o0, o1)` with the storage positions of corresponding elements of two operands.
@inline(__always)
func forEachOffset(_ shape: [Int], _ s0: [Int], _ o0: Int, _ s1: [Int], _ o1: Int,
                   _ body: (Int, Int) -> Void) {
    if shape.contains(0) { return }
    let (dims, strides) = coalesce(shape, [s0, s1])
    let a = strides[0], b = strides[1]
    guard let inner = dims.last else { body(o0, o1); return }
    let ia = a[a.count - 1], ib = b[b.count - 1]
    var counter = [Int](repeating: 0, count: dims.count)
    var p0 = o0, p1 = o1
    while true {
        var q0 = p0, q1 = p1
        // Unit and zero strides get loops of their own, which the compiler can vectorise.
        if ia == 1 && ib == 1 {
            for t in 0..<inner { body(q0 &+ t, q1 &+ t) }
        } else if ia == 1 && ib == 0 {
            for t in 0..<inner { body(q0 &+ t, q1) }
        } else {
            for _ in 0..<inner { body(q0, q1); q0 += ia; q1 += ib }
        }
        var axis = dims.count - 2
        while axis >= 0 {
            counter[axis] += 1
            p0 += a[axis]; p1 += b[axis]
            if counter[axis] < dims[axis] { break }
            p0 -= a[axis] * dims[axis]; p1 -= b[axis] * dims[axis]
            counter[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Calls `body(o0, o1, o2)` with the storage positions of corresponding elements of three operands.
@inline(__always)
func forEachOffset(_ shape: [Int], _ s0: [Int], _ o0: Int, _ s1: [Int], _ o1: Int,
                   _ s2: [Int], _ o2: Int, _ body: (Int, Int, Int) -> Void) {
    if shape.contains(0) { return }
    let (dims, strides) = coalesce(shape, [s0, s1, s2])
    let a = strides[0], b = strides[1], c = strides[2]
    guard let inner = dims.last else { body(o0, o1, o2); return }
    let ia = a[a.count - 1], ib = b[b.count - 1], ic = c[c.count - 1]
    var counter = [Int](repeating: 0, count: dims.count)
    var p0 = o0, p1 = o1, p2 = o2
    while true {
        var q0 = p0, q1 = p1, q2 = p2
        if ia == 1 && ib == 1 && ic == 1 {
            for t in 0..<inner { body(q0 &+ t, q1 &+ t, q2 &+ t) }
        } else if ia == 1 && ib == 1 && ic == 0 {
            for t in 0..<inner { body(q0 &+ t, q1 &+ t, q2) }
        } else if ia == 1 && ib == 0 && ic == 1 {
            for t in 0..<inner { body(q0 &+ t, q1, q2 &+ t) }
        } else {
            for _ in 0..<inner { body(q0, q1, q2); q0 += ia; q1 += ib; q2 += ic }
        }
        var axis = dims.count - 2
        while axis >= 0 {
            counter[axis] += 1
            p0 += a[axis]; p1 += b[axis]; p2 += c[axis]
            if counter[axis] < dims[axis] { break }
            p0 -= a[axis] * dims[axis]; p1 -= b[axis] * dims[axis]; p2 -= c[axis] * dims[axis]
            counter[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Splits axis 0 of `shape` into chunks of rows and calls `body(chunkShape, firstRow)` for each,
/// on the thread pool when the shape holds at least 2¹⁸ elements (else once, on this thread).
/// The caller's `body` runs `forEachOffset` itself, so its element loop stays inlined.
func forEachRowChunk(_ shape: [Int], _ body: (_ chunkShape: [Int], _ firstRow: Int) -> Void) {
    let count = Tensor.elementCount(shape)
    guard shape.count > 1, shape[0] > 1, count >= 1 << 18 else {
        body(shape, 0)
        return
    }
    let rowsPerChunk = Swift.max(1, parallelChunkLength(count) / (count / shape[0]))
    parallelFor((shape[0] + rowsPerChunk - 1) / rowsPerChunk) { chunk in
        let start = chunk * rowsPerChunk
        var chunkShape = shape
        chunkShape[0] = Swift.min(rowsPerChunk, shape[0] - start)
        body(chunkShape, start)
    }
}
