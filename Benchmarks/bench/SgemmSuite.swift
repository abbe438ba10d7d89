// ck_sgemm on square matrices and on the shapes of a convolution lowered to GEMM.
import CKernels

/// Float storage filled with a fixed pseudo-random sequence in [-1, 1), freed with its last use.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, seed: UInt64) {
        self.count = count
        pointer = .allocate(capacity: count)
        var state = seed
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407  // 64-bit LCG
            pointer[i] = Float(Int32(truncatingIfNeeded: state >> 32)) / 2147483648
        }
    }

    deinit { pointer.deallocate() }
}

/// One product C[M×N] = op(A)·op(B) with op(A)[i][k] = A[i·rsA + k·csA] and
/// op(B)[k][j] = B[k·rsB + j·csB], C row-major; beta = 0.
struct GemmShape {
    let name: String
    let m, n, k: Int
    let rsA, csA, rsB, csB: Int

    /// Row-major A [M×K] and B [K×N].
    static func plain(_ name: String, m: Int, n: Int, k: Int) -> GemmShape {
        GemmShape(name: name, m: m, n: n, k: k, rsA: k, csA: 1, rsB: n, csB: 1)
    }

    func measure(threads: Int) -> Measure {
        Measure(name: name, threads: threads, flops: 2 * Double(m) * Double(n) * Double(k)) {
            let a = FloatBuffer(count: m * k, seed: 1), b = FloatBuffer(count: k * n, seed: 2)
            let c = FloatBuffer(count: m * n, seed: 3)
            return {
                ck_sgemm(Int64(m), Int64(n), Int64(k), 1, a.pointer, Int64(rsA), Int64(csA),
                         b.pointer, Int64(rsB), Int64(csB), 0, c.pointer, Int64(n))
            }
        }
    }
}

/// Square products, then the three GEMMs of a 3×3 convolution with 16 → 16 channels on a
/// batch of 28×28 images, lowered with im2col (patch = 16·9 = 144 rows, pixels = batch·784):
///   forward          y[16×P]    = W[16×144] · cols[144×P]
///   backward-data    dcols[144×P] = Wᵀ · dy[16×P]           (Wᵀ a strided view)
///   backward-weight  dW[16×144] = dy[16×P] · colsᵀ          (colsᵀ a strided view)
func sgemmSuite(_ config: SuiteConfig) -> [Measure] {
    let sizes = config.quick ? [128, 256, 512] : [256, 512, 1024, 2048]
    let pixels = (config.quick ? 4 : 64) * 28 * 28
    let (channels, patch) = (16, 16 * 9)
    var shapes = sizes.map { GemmShape.plain("sgemm-\($0)", m: $0, n: $0, k: $0) }
    shapes += [
        GemmShape.plain("sgemm-conv-fwd-\(channels)x\(pixels)x\(patch)", m: channels, n: pixels, k: patch),
        GemmShape(name: "sgemm-conv-bwd-data-\(patch)x\(pixels)x\(channels)", m: patch, n: pixels, k: channels,
                  rsA: 1, csA: patch, rsB: pixels, csB: 1),
        GemmShape(name: "sgemm-conv-bwd-weight-\(channels)x\(patch)x\(pixels)", m: channels, n: patch, k: pixels,
                  rsA: pixels, csA: 1, rsB: 1, csB: pixels),
    ]
    return shapes.flatMap { shape in config.threadCounts.map { shape.measure(threads: $0) } }
}
