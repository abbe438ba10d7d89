import CKernels
import Testing

/// Tests that set the pool's thread count run one at a time.
@Suite("Thread pool", .serialized)
struct ThreadPoolTests {
    @Test("ck_parallel_for runs every index exactly once", arguments: [0, 1, 3, 1000])
    func coversEveryIndex(n: Int) {
        ck_set_num_threads(2)
        defer { ck_set_num_threads(0) }
        var counts = [Int32](repeating: 0, count: max(n, 1))
        counts.withUnsafeMutableBufferPointer { buffer in
            ck_parallel_for(Int64(n), { context, index in
                context!.assumingMemoryBound(to: Int32.self)[Int(index)] += 1
            }, buffer.baseAddress)
        }
        #expect(counts.prefix(n).allSatisfy { $0 == 1 })
        #expect(n > 0 || counts[0] == 0)
    }

    @Test("a nested ck_parallel_for runs inline instead of deadlocking")
    func nested() {
        ck_set_num_threads(2)
        defer { ck_set_num_threads(0) }
        var counts = [Int32](repeating: 0, count: 8 * 8)
        counts.withUnsafeMutableBufferPointer { buffer in
            ck_parallel_for(8, { context, outer in
                var inner = (context!, outer)
                ck_parallel_for(8, { pair, index in
                    let (base, outer) = pair!.load(as: (UnsafeMutableRawPointer, Int64).self)
                    base.assumingMemoryBound(to: Int32.self)[Int(outer * 8 + index)] += 1
                }, &inner)
            }, buffer.baseAddress)
        }
        #expect(counts.allSatisfy { $0 == 1 })
    }

    @Test("regions started from two threads at once both complete")
    func concurrentCallers() async {
        ck_set_num_threads(2)
        defer { ck_set_num_threads(0) }
        let totals = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var total = 0
                    for _ in 0..<200 {
                        var counts = [Int32](repeating: 0, count: 64)
                        counts.withUnsafeMutableBufferPointer { buffer in
                            ck_parallel_for(64, { context, index in
                                context!.assumingMemoryBound(to: Int32.self)[Int(index)] += 1
                            }, buffer.baseAddress)
                        }
                        total += counts.reduce(0) { $0 + Int($1) }
                    }
                    return total
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(totals == [200 * 64, 200 * 64])
    }

    @Test("ck_set_num_threads sets the count; n <= 0 restores the default")
    func threadCount() {
        ck_set_num_threads(3)
        #expect(ck_num_threads() == 3)
        ck_set_num_threads(0)
        let defaultCount = ck_num_threads()
        #expect(defaultCount >= 1)
        ck_set_num_threads(-5)
        #expect(ck_num_threads() == defaultCount)
    }

    /// Products large enough to be split (≥ 2 MFLOP), over columns or rows. The split follows
    /// tile boundaries, so each element is summed in the same order: results must be identical,
    /// bit for bit (tolerance zero).
    @Test("1 and 2 threads give bit-identical results",
          arguments: [(150, 200, 100), (16, 1000, 144), (144, 1000, 16), (16, 144, 2000), (500, 20, 300), (97, 131, 260)])
    func threadCountDoesNotChangeResults(shape: (m: Int, n: Int, k: Int)) {
        defer { ck_set_num_threads(0) }
        var random = SplitMix64(state: 7)
        let gemmCase = GemmCase(m: shape.m, n: shape.n, k: shape.k, alpha: 0.75, beta: 0.5, b: .columnMajor)
        let a = Operand(rows: shape.m, columns: shape.k, layout: .rowMajor, random: &random)
        let b = Operand(rows: shape.k, columns: shape.n, layout: .columnMajor, random: &random)
        let c = (0..<shape.m * shape.n).map { _ in random.nextFloat() }
        ck_set_num_threads(1)
        let serial = gemmCase.run(ck_sgemm, a, b, c)
        ck_set_num_threads(2)
        let parallel = gemmCase.run(ck_sgemm, a, b, c)
        #expect(serial.map(\.bitPattern) == parallel.map(\.bitPattern))
        #expect(gemmCase.firstError(ck_sgemm) == nil)
    }
}
