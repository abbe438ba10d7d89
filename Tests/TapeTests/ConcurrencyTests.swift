import Testing
import Tape

/// What `gradient` gives for one input: a small network's ∂loss/∂w, with a convolution (the C
/// kernels' per-thread scratch) and a matmul (the thread pool).
private func lossGradient(input: Tensor, filter: Tensor, weight: Tensor) -> Tensor {
    gradient(of: { w in
        let features = conv2d(Variable(input), filter: Variable(filter), padding: 1).relu().flattened()
        return matmul(features, w).tanh().sum()
    }, at: weight)
}

@Suite("Tensors sent between tasks")
struct ConcurrencyTests {
    /// Tensors go into child tasks and come back; each task records and differentiates on its own
    /// tape. The results equal the same computation done serially, bit for bit.
    @Test func childTasksRecordTheirOwnTapes() async {
        var random = SplitMix64(seed: 11)
        let inputs = (0..<8).map { _ in Tensor.randomNormal([2, 3, 6, 6], using: &random) }
        let filter = Tensor.randomNormal([4, 3, 3, 3], using: &random)
        let weight = Tensor.randomNormal([4 * 6 * 6, 5], using: &random)
        let parallel = await withTaskGroup(of: (Int, Tensor).self) { group in
            for (index, input) in inputs.enumerated() {
                group.addTask { (index, lossGradient(input: input, filter: filter, weight: weight)) }
            }
            var results = [Tensor?](repeating: nil, count: inputs.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        for (input, result) in zip(inputs, parallel) {
            let serial = lossGradient(input: input, filter: filter, weight: weight)
            #expect(result == serial)
            #expect(result?.shape == [4 * 6 * 6, 5])
        }
        #expect(Set(parallel.compactMap { $0?.scalars }).count == inputs.count, "different inputs, different gradients")
    }

    /// An actor owning a tensor receives tensors, updates its own in place and returns copies:
    /// copy on write keeps every copy that was sent out unchanged.
    @Test func anActorMutatesItsOwnCopyOnly() async {
        actor Accumulator {
            var total = Tensor.zeros([3])
            func add(_ tensor: Tensor) -> Tensor {
                total.withUnsafeMutableBufferPointer { total in
                    tensor.withUnsafeBufferPointer { for i in total.indices { total[i] += $0[i] } }
                }
                return total
            }
        }
        let accumulator = Accumulator()
        let first = await accumulator.add(Tensor([1, 2, 3]))
        let second = await accumulator.add(Tensor([10, 20, 30]))
        #expect(first.scalars == [1, 2, 3])
        #expect(second.scalars == [11, 22, 33])
    }
}
