import Testing
@testable import Tape

private func arange(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.elementCount(shape)).map(Float.init))
}

@Suite("Tensor views and copies")
struct TensorTests {
    @Test func viewsShareStorage() {
        let x = arange([2, 3, 4])
        #expect(x.reshaped(to: [6, 4]).sharesStorage(with: x))
        #expect(x.transposed(permutation: [2, 0, 1]).sharesStorage(with: x))
        #expect(x[.all, .index(1), .every(2)].sharesStorage(with: x))
        #expect(x[.index(0)].broadcasted(to: [5, 3, 4]).sharesStorage(with: x))
        #expect(x.unsqueezed(axis: 1).squeezed(axes: [1]).sharesStorage(with: x))
        #expect(x.split(sizes: [1, 3], axis: 2).allSatisfy { $0.sharesStorage(with: x) })
    }

    @Test func unsafeBuffersListElementsInLogicalOrder() {
        let x = arange([2, 3])
        #expect(x.withUnsafeBufferPointer { Array($0) } == [0, 1, 2, 3, 4, 5])
        #expect(x.transposed().withUnsafeBufferPointer { Array($0) } == [0, 3, 1, 4, 2, 5])
        #expect(x[.index(1)].withUnsafeBufferPointer { Array($0) } == [3, 4, 5])
        #expect(Tensor([1, 2]).broadcasted(to: [3, 2]).withUnsafeBufferPointer { Array($0) } == [1, 2, 1, 2, 1, 2])
    }

    @Test func mutableBufferWritesOnlyThisValue() {
        let x = arange([2, 3])
        var copy = x
        copy.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(copy.scalars == [100, 1, 2, 3, 4, 5])
        #expect(x.scalars == [0, 1, 2, 3, 4, 5])

        var view = x.transposed()                      // strided: made contiguous first
        view.withUnsafeMutableBufferPointer { buffer in
            #expect(Array(buffer) == [0, 3, 1, 4, 2, 5])
            buffer[1] = -1
        }
        #expect(view.scalars == [0, -1, 1, 4, 2, 5] && view.shape == [3, 2])
        #expect(x.scalars == [0, 1, 2, 3, 4, 5])

        var row = x[.index(1)]                         // a contiguous view at an offset, shared
        row.withUnsafeMutableBufferPointer { $0[2] = 50 }
        #expect(row.scalars == [3, 4, 50] && x.scalars == [0, 1, 2, 3, 4, 5])

        var repeated = Tensor([1, 2]).broadcasted(to: [3, 2])   // stride 0: materialised
        repeated.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(repeated.scalars == [9, 2, 1, 2, 1, 2])
    }

    @Test func reshapeOfTransposeCopiesOnlyWhenNeeded() {
        let x = arange([2, 3, 4])
        let t = x.transposed(permutation: [1, 0, 2])   // [3, 2, 4]: the last axis stays contiguous
        #expect(t.reshaped(to: [3, 2, 2, 2]).sharesStorage(with: x))
        let full = x.transposed(permutation: [2, 1, 0])
        let flat = full.reshaped(to: [24])
        #expect(!flat.sharesStorage(with: x))
        // x[i, j, k] = 12i + 4j + k; full[k, j, i] row-major:
        var expected: [Float] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { expected.append(Float(12 * i + 4 * j + k)) } } }
        #expect(flat.scalars == expected)
    }

    @Test func slicingFollowsNumPy() {
        let x = arange([4, 6])
        #expect(x[.index(-1)].scalars == [18, 19, 20, 21, 22, 23])
        #expect(x[.range(start: 1, end: nil, step: 2), .range(start: -3, end: nil, step: 2)].scalars == [9, 11, 21, 23])
        #expect(x[.all, .range(start: 4, end: 100, step: 1)].shape == [4, 2])
        #expect(x[.range(start: 3, end: 1, step: 1)].shape == [0, 6])
        let image = arange([1, 1, 4, 4])
        #expect(image[.all, .all, .every(2), .every(2)].scalars == [0, 2, 8, 10])
    }

    @Test func broadcastingAndElementwise() {
        let a = arange([2, 1, 3]), b = Tensor([10, 20])
        let sum = a + b.reshaped(to: [1, 2, 1])
        #expect(sum.shape == [2, 2, 3])
        #expect(sum.scalars == [10, 11, 12, 20, 21, 22, 13, 14, 15, 23, 24, 25])
        #expect(Tensor.broadcastShape([3, 1], [4]) == [3, 4])
        #expect(Tensor.broadcastShape([3, 2], [3]) == nil)
        // A non-contiguous operand gives the same result as its contiguous copy.
        let t = arange([3, 4]).transposed()
        #expect((t * t).scalars == (t.contiguous() * t.contiguous()).scalars)
    }

    /// A single-element operand takes a path without broadcast views; it must agree with the
    /// general rules, including when its rank is higher than the other's.
    @Test func singleElementOperands() {
        let x = arange([3, 4]).transposed()   // strided
        let dense = x.contiguous().scalars
        #expect((x - Tensor(2)).scalars == dense.map { $0 - 2 })
        #expect((Tensor([2]) / (x + 1)).scalars == dense.map { 2 / ($0 + 1) })
        #expect((Tensor(shape: [1, 1], scalars: [3]) * x).scalars == dense.map { 3 * $0 })
        #expect((-Tensor([0, 2])).scalars.map(\.sign) == [.minus, .minus])   // IEEE negation: −0
        #expect((x .< 5).scalars == dense.map { $0 < 5 ? 1 : 0 })
        let raised = Tensor(shape: [1, 1, 1], scalars: [1]) + Tensor([1, 2])
        #expect(raised.shape == [1, 1, 2] && raised.scalars == [2, 3])
    }

    /// Large broadcasts run in row chunks on the thread pool: every element, at every chunk
    /// boundary, must match a plain loop.
    @Test func largeBroadcastsMatchAPlainLoop() {
        let (n, c, h, w) = (70, 3, 40, 33)   // 277,200 elements: above the 2¹⁸ split threshold
        var random = SplitMix64(seed: 5)
        let x = Tensor.randomNormal([n, c, w, h], using: &random).transposed(permutation: [0, 1, 3, 2])   // strided
        let bias = Tensor.randomNormal([c], using: &random)
        let sum = x + bias.reshaped(to: [1, c, 1, 1]), product = bias.reshaped(to: [c, 1, 1]) * x
        let dense = x.contiguous().scalars, b = bias.scalars
        var expectedSum = [Float](), expectedProduct = [Float]()
        for i in 0..<(n * c * h * w) {
            let channel = (i / (h * w)) % c
            expectedSum.append(dense[i] + b[channel])
            expectedProduct.append(b[channel] * dense[i])
        }
        #expect(sum.shape == [n, c, h, w] && sum.scalars == expectedSum)
        #expect(product.shape == [n, c, h, w] && product.scalars == expectedProduct)
    }

    @Test func copyOnWrite() {
        var a = arange([2, 2])
        let b = a
        a[element: [0, 1]] = 42
        #expect(b[element: [0, 1]] == 1)
        #expect(a[element: [0, 1]] == 42)
        var view = b.transposed()
        view[element: [1, 0]] = -1
        #expect(b[element: [0, 1]] == 1)
    }

    @Test func padConcatStackSplit() {
        let x = arange([2, 2])
        #expect(x.padded([(1, 0), (0, 1)]).scalars == [0, 0, 0, 0, 1, 0, 2, 3, 0])
        let joined = concatenated([x, arange([2, 1]) + 10], axis: 1)
        #expect(joined.scalars == [0, 1, 10, 2, 3, 11])
        #expect(stacked([x, x], axis: -1).shape == [2, 2, 2])
        let parts = joined.split(sizes: [2, 1], axis: -1)
        #expect(parts[0].scalars == x.scalars && parts[1].scalars == [10, 11])
    }

    @Test func reductions() {
        let x = arange([2, 3])
        #expect(x.sum().scalar == 15)
        #expect(x.sum(alongAxes: [0]).scalars == [3, 5, 7])
        #expect(x.sum(alongAxes: [1], keepingDimensions: true).shape == [2, 1])
        #expect(x.max(alongAxes: [-1]).scalars == [2, 5])
        #expect(x.mean().scalar == 2.5)
    }

    @Test func matmulMatchesNaiveProductOnViews() {
        var random = SplitMix64(seed: 3)
        let a = Tensor.randomNormal([2, 5, 7], using: &random).transposed()   // [2, 7, 5], strided
        let b = Tensor.randomNormal([5, 3], using: &random)
        let c = matmul(a, b)
        #expect(c.shape == [2, 7, 3])
        for batch in 0..<2 { for i in 0..<7 { for j in 0..<3 {
            var expected = 0.0
            for k in 0..<5 { expected += Double(a[element: [batch, i, k]]) * Double(b[element: [k, j]]) }
            #expect(Swift.abs(Double(c[element: [batch, i, j]]) - expected) < 1e-5)
        } } }
        #expect(matmul(Tensor([1, 2]), Tensor([3, 4])).shape == [])
    }
}

@Test("batch statistics stay accurate when the mean dwarfs the spread (one-pass shifted sums)")
func batchStatisticsWithLargeMean() {
    var random = SplitMix64(seed: 21)
    let noise = Tensor.randomNormal([16, 3, 9, 7], using: &random)
    let x = noise * 0.01 + 1000
    let (_, mean, variance) = batchNormalized(Variable(x), weight: Variable(Tensor.ones([3])), bias: Variable(Tensor.zeros([3])),
                                              epsilon: 1e-5)
    let values = x.scalars.map(Double.init), perChannel = 9 * 7
    for c in 0..<3 {
        var channel: [Double] = []
        for n in 0..<16 {
            let start: Int = (n * 3 + c) * perChannel
            channel += values[start..<(start + perChannel)]
        }
        let m: Double = channel.reduce(0, +) / Double(channel.count)
        let squares: [Double] = channel.map { ($0 - m) * ($0 - m) }
        let v: Double = squares.reduce(0, +) / Double(channel.count)
        #expect(abs(Double(mean.scalars[c]) - m) < 1e-4)
        #expect(abs(Double(variance.scalars[c]) - v) / v < 1e-3, "channel \(c): \(variance.scalars[c]) vs \(v)")
    }
}
