import CKernels
import Testing

/// Sizes that are not multiples of the 6×16 tile, the 256-deep K blocks or the 144-row M blocks,
/// plus vectors (M, N or K = 1).
let awkwardShapes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (1, 17, 5), (17, 1, 33), (5, 33, 1), (6, 16, 8), (7, 17, 257),
    (33, 100, 17), (100, 5, 300), (1, 257, 64), (257, 33, 3), (150, 40, 100), (13, 290, 40),
]

@Test("ck_sgemm matches the Double reference on awkward sizes", arguments: awkwardShapes)
func awkwardSizes(shape: (m: Int, n: Int, k: Int)) {
    let error = GemmCase(m: shape.m, n: shape.n, k: shape.k).firstError(ck_sgemm)
    #expect(error == nil, "\(error ?? "")")
}

@Test("ck_sgemm reads transposed and strided views", arguments: [Layout.rowMajor, .columnMajor, .strided, .stridedColumns],
      [Layout.rowMajor, .columnMajor, .strided, .stridedColumns])
func layouts(a: Layout, b: Layout) {
    for (m, n, k) in [(7, 37, 19), (40, 18, 130), (2, 300, 9)] {
        let error = GemmCase(m: m, n: n, k: k, a: a, b: b).firstError(ck_sgemm)
        #expect(error == nil, "\(error ?? "")")
    }
}

@Test("ck_sgemm applies alpha and beta", arguments: [(Float(0.5), Float(2)), (-1, 1), (1, -0.5), (3, 0), (0, 0.25), (0, 0)])
func alphaBeta(alpha: Float, beta: Float) {
    for (m, n, k) in [(9, 35, 260), (20, 16, 7)] {
        let error = GemmCase(m: m, n: n, k: k, alpha: alpha, beta: beta, ldcExtra: 3).firstError(ck_sgemm)
        #expect(error == nil, "\(error ?? "")")
    }
}

@Test("K = 0 gives beta·C, and zeros over NaN when beta = 0", arguments: [Float(0), 1, -2])
func emptySum(beta: Float) {
    let error = GemmCase(m: 5, n: 21, k: 0, beta: beta, ldcExtra: 2).firstError(ck_sgemm)
    #expect(error == nil, "\(error ?? "")")
}

@Test("M = 0 or N = 0 touches nothing")
func emptyResult() {
    var c: [Float] = [1, 2, 3]
    let a: [Float] = [1, 2, 3], b: [Float] = [4, 5, 6]
    ck_sgemm(0, 3, 1, 1, a, 1, 1, b, 3, 1, 0, &c, 3)
    ck_sgemm(1, 0, 3, 1, a, 3, 1, b, 1, 1, 0, &c, 3)
    #expect(c == [1, 2, 3])
}

@Test("a small exact product")
func exactProduct() {
    // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] = [4 5; 10 11], then alpha = 2, beta = -1 with C = 1.
    let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [1, 0, 0, 1, 1, 1]
    var c: [Float] = [1, 1, 1, 1]
    ck_sgemm(2, 2, 3, 2, a, 3, 1, b, 2, 1, -1, &c, 2)
    #expect(c == [7, 9, 19, 21])
}

@Test("the portable fallback matches the reference", arguments: [Layout.rowMajor, .columnMajor, .strided])
func portable(layout: Layout) {
    for (m, n, k) in [(1, 1, 1), (7, 17, 257), (33, 40, 19)] {
        let cases = [GemmCase(m: m, n: n, k: k, a: layout, b: layout),
                     GemmCase(m: m, n: n, k: k, alpha: -0.5, beta: 2, a: layout, b: .columnMajor, ldcExtra: 1)]
        for gemmCase in cases {
            let error = gemmCase.firstError(ck_sgemm_portable)
            #expect(error == nil, "\(error ?? "")")
        }
    }
    #expect(GemmCase(m: 3, n: 4, k: 0, beta: 0).firstError(ck_sgemm_portable) == nil)
}

@Test("the kernel set and the sgemm kernel name say which kernels run")
func kernelName() {
    let set = String(cString: ck_kernel_set()), name = String(cString: ck_sgemm_kernel_name())
    #if arch(arm64)
    #expect(set == "neon" && name == "neon-intrinsics 6x16")
    #elseif arch(x86_64)
    let avx2 = ck_has_avx2_fma() != 0
    #expect(set == (avx2 ? "avx2-fma" : "portable") && name == (avx2 ? "avx2-fma-asm 6x16" : "portable-c 6x16"))
    #else
    #expect(set == "portable" && name == "portable-c 6x16")
    #endif
}
