import CKernels

/// Runs `body(i)` for every i in 0..<count on the CKernels thread pool (`ck_set_num_threads`),
/// the caller included, and returns when all are done. Indices go to whichever thread is free,
/// so `body` must not depend on which thread runs it; inside another region it runs serially.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        var closure = body
        withUnsafeMutablePointer(to: &closure) { pointer in
            ck_parallel_for(Int64(count), { context, index in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
            }, pointer)
        }
    }
}

/// Elements per task when an elementwise loop over `count` elements is split: loops of fewer
/// than 2¹⁸ elements (1 MiB) run on the calling thread, where a split would cost more than it saves.
func parallelChunkLength(_ count: Int) -> Int { count < 1 << 18 ? Swift.max(count, 1) : 1 << 16 }

/// Calls `body(range)` for consecutive ranges covering 0..<count, in parallel for long loops.
func parallelRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
    let length = parallelChunkLength(count)
    parallelFor((count + length - 1) / length) { chunk in
        body((chunk * length)..<Swift.min(count, (chunk + 1) * length))
    }
}

/// The number of threads Tape's kernels use, the caller included (default: every CPU this
/// process may run on). Setting a value ≤ 0 restores the default. Results do not depend on it.
public var kernelThreadCount: Int {
    get { Int(ck_num_threads()) }
    set { ck_set_num_threads(Int32(clamping: newValue)) }
}
