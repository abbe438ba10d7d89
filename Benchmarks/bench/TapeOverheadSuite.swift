// BatchNorm and the tape's per-op cost, forward and backward.
import NN
import Tape

/// BatchNorm forward + backward in training mode on the seed shape; and the tape's cost per op
/// on a chain of 10,000 small ops (forward and backward; FLOPs are not the point: read the time).
func tapeSuite(_ config: SuiteConfig) -> [Measure] {
    let shape = [config.quick ? 8 : 64, 16, 28, 28]
    let chain = config.quick ? 1_000 : 10_000
    return config.threadCounts.map { threads in
        Measure(name: "batchnorm-fwd-bwd-\(shape.map(String.init).joined(separator: "x"))", threads: threads, flops: 0) {
            var random = SplitMix64(seed: 2)
            let x = Tensor.randomNormal(shape, using: &random), dy = Tensor.randomNormal(shape, using: &random)
            let bn = BatchNorm2d(16)
            return {
                let input = Variable(x, requiresGradient: true)
                var context = ForwardContext.training()
                bn(input, &context).backward(seed: dy)
                blackHole(input.grad)
            }
        }
    } + [Measure(name: "tape-chain-\(chain)-ops-fwd-bwd", threads: 1, flops: 0, items: (Double(chain), "ops")) {
        let start = Tensor([1, 2, 3, 4])
        return {
            let x = Variable(start, requiresGradient: true)
            var y = x
            for _ in 0..<chain { y = y * 1.0001 }
            y.sum().backward()
            blackHole(x.grad)
        }
    }]
}
