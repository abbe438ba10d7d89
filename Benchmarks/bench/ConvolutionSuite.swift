// conv2d and its two adjoints, timed on the kernels directly.
import Tape

/// Analytic FLOPs of a convolution: 2 · N · O · Hₒ · Wₒ · (C/groups) · kH · kW.
func convolutionFlops(input: [Int], filter: [Int], output: [Int]) -> Double {
    2 * Double(output[0] * output[1] * output[2] * output[3]) * Double(filter[1] * filter[2] * filter[3])
}

/// conv2d forward, backward-data and backward-weight on the seed ResNet's shape (64×16×28×28,
/// 3×3, padding 1) and on resnet20's three stage shapes at batch 128.
func convolutionSuite(_ config: SuiteConfig) -> [Measure] {
    let batch = config.quick ? 8 : 64, cifarBatch = config.quick ? 8 : 128
    let shapes: [(String, [Int], Int)] = [("seed", [batch, 16, 28, 28], 16), ("r20-s1", [cifarBatch, 16, 32, 32], 16),
                                          ("r20-s2", [cifarBatch, 32, 16, 16], 32), ("r20-s3", [cifarBatch, 64, 8, 8], 64)]
    return shapes.flatMap { label, input, outputs in
        config.threadCounts.flatMap { threads -> [Measure] in
            let filter = [outputs, input[1], 3, 3], geometry = Convolution2D(padding: (1, 1))
            let output = geometry.outputShape(input: input, filter: filter)
            let flops = convolutionFlops(input: input, filter: filter, output: output)
            func tensors() -> (Tensor, Tensor, Tensor) {
                var random = SplitMix64(seed: 1)
                return (Tensor.randomNormal(input, using: &random), Tensor.randomNormal(filter, using: &random),
                        Tensor.randomNormal(output, using: &random))
            }
            return [
                Measure(name: "conv-fwd-\(label)-\(input.map(String.init).joined(separator: "x"))", threads: threads, flops: flops) {
                    let (x, w, _) = tensors()
                    return { blackHole(conv2d(x, filter: w, geometry: geometry)) }
                },
                Measure(name: "conv-bwd-data-\(label)", threads: threads, flops: flops) {
                    let (_, w, dy) = tensors()
                    return { blackHole(conv2dBackwardInput(dy, filter: w, inputShape: input, geometry: geometry)) }
                },
                Measure(name: "conv-bwd-weight-\(label)", threads: threads, flops: flops) {
                    let (x, _, dy) = tensors()
                    return { blackHole(conv2dBackwardFilter(x, outputGradient: dy, filterShape: filter, geometry: geometry)) }
                },
            ]
        }
    }
}
