// The multiply-add peak every other result is compared with.
import CKernels

/// "fma-peak" at `threads` threads: each thread of the pool runs `ck_fma_loop` for `iterations`
/// (12 independent vfmadd231ps ymm chains when the CPU has AVX2+FMA: the 256-bit peak our kernels
/// use, even on CPUs that also have AVX-512; 24 independent NEON fmla chains on arm64).
func peakMeasure(threads: Int, iterations: Int64) -> Measure {
    let flopsPerIteration = ck_fma_loop(1)
    return Measure(name: "fma-peak", threads: threads,
                   flops: flopsPerIteration * Double(iterations) * Double(threads)) {
        {
            var iterations = iterations
            ck_parallel_for(Int64(threads), { context, _ in
                _ = ck_fma_loop(context!.load(as: Int64.self))
            }, &iterations)
        }
    }
}
