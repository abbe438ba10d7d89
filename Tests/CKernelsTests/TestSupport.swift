// Test data and a Double reference for ck_sgemm.
import CKernels

/// Deterministic pseudo-random numbers (SplitMix64) for test data.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func nextFloat() -> Float { Float(Int32(truncatingIfNeeded: next() >> 32)) / 2_147_483_648 }
}

/// How a GEMM operand's element (r, c) is laid out: at r·rowStride + c·columnStride.
enum Layout: CustomStringConvertible {
    case rowMajor        // rows contiguous
    case columnMajor     // a transposed view: columns contiguous
    case strided         // neither stride 1: rows 2·cols + 3 apart, columns 2 apart
    case stridedColumns  // columns 3·rows + 1 apart, rows 3 apart

    func strides(rows: Int, columns: Int) -> (row: Int, column: Int) {
        switch self {
        case .rowMajor: (columns, 1)
        case .columnMajor: (1, rows)
        case .strided: (2 * columns + 3, 2)
        case .stridedColumns: (3, 3 * rows + 1)
        }
    }

    var description: String {
        switch self {
        case .rowMajor: "row-major"
        case .columnMajor: "column-major"
        case .strided: "strided"
        case .stridedColumns: "strided-columns"
        }
    }
}

/// A rows×columns operand in its own storage, filled with random values (gaps too).
struct Operand {
    let rows, columns, rowStride, columnStride: Int
    var storage: [Float]

    init(rows: Int, columns: Int, layout: Layout, random: inout SplitMix64) {
        (self.rows, self.columns) = (rows, columns)
        (rowStride, columnStride) = layout.strides(rows: rows, columns: columns)
        let count = rows == 0 || columns == 0 ? 1 : (rows - 1) * rowStride + (columns - 1) * columnStride + 1
        storage = (0..<count).map { _ in random.nextFloat() }
    }

    subscript(row: Int, column: Int) -> Float { storage[row * rowStride + column * columnStride] }
}

/// The signature shared by ck_sgemm and ck_sgemm_portable.
typealias Sgemm = (Int64, Int64, Int64, Float, UnsafePointer<Float>?, Int64, Int64,
                   UnsafePointer<Float>?, Int64, Int64, Float, UnsafeMutablePointer<Float>?, Int64) -> Void

/// One ck_sgemm call and its check against a Double reference.
struct GemmCase: CustomStringConvertible {
    var m, n, k: Int
    var alpha: Float = 1, beta: Float = 0
    var a: Layout = .rowMajor, b: Layout = .rowMajor
    /// Extra columns of C beyond N (ldc = N + extra); they must not change.
    var ldcExtra = 0

    var description: String {
        "M=\(m) N=\(n) K=\(k) alpha=\(alpha) beta=\(beta) A \(a) B \(b) ldc=N+\(ldcExtra)"
    }

    /// Runs `gemm` and returns the first wrong element (nil if all are right). Each element may
    /// differ from the Double reference by 1e-5·√K relative to Σ|alpha·a·b| + |beta·c|; when
    /// beta is 0, C starts as NaN, which must not leak; the ldc gap must keep its bits.
    func firstError(_ gemm: Sgemm, seed: UInt64 = 1) -> String? {
        var random = SplitMix64(state: seed)
        let a = Operand(rows: m, columns: k, layout: self.a, random: &random)
        let b = Operand(rows: k, columns: n, layout: self.b, random: &random)
        let ldc = n + ldcExtra
        let before: [Float] = (0..<max(m * ldc, 1)).map { _ in beta == 0 ? .nan : random.nextFloat() }
        let after = run(gemm, a, b, before)
        for i in 0..<m {
            for j in 0..<ldc {
                let index = i * ldc + j
                if j >= n {
                    if after[index].bitPattern != before[index].bitPattern { return "\(self): C[\(i)][\(j)] beyond N changed" }
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let product = Double(a[i, p]) * Double(b[p, j])
                    sum += product
                    magnitude += abs(product)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(before[index])
                let expected = Double(alpha) * sum + old
                let tolerance = 1e-5 * Double(max(k, 1)).squareRoot() * (abs(Double(alpha)) * magnitude + abs(old)) + 1e-30
                let error = abs(Double(after[index]) - expected)
                if !(error <= tolerance) {
                    return "\(self): C[\(i)][\(j)] = \(after[index]), expected \(expected) (error \(error) > \(tolerance))"
                }
            }
        }
        return nil
    }

    /// C after `gemm`, starting from `initial`.
    func run(_ gemm: Sgemm, _ a: Operand, _ b: Operand, _ initial: [Float]) -> [Float] {
        var c = initial
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(Int64(m), Int64(n), Int64(k), alpha, pa.baseAddress, Int64(a.rowStride), Int64(a.columnStride),
                         pb.baseAddress, Int64(b.rowStride), Int64(b.columnStride), beta, pc.baseAddress, Int64(n + ldcExtra))
                }
            }
        }
        return c
    }
}
