// conv2d and its two adjoints, timed on the kernels directly.
import Tape

/// Analytic FLOPs of a convolution: 2 · N · O · Hₒ · Wₒ · (C/groups) · kH · kW.
func convolutionFlops(input: [Int], filter: [Int], output: [Int]) -> Double {
    2 * Double(output[0] * output[1] * output[2] * output[3]) * Double(filter[1] * filter[2] * filter[3])
}

/// One convolution shape of the nets we ship: a label, the input, output channels, kernel size, stride.
struct ConvolutionShape {
    let label: String, input: [Int], outputs: Int, kernel: Int, stride: Int

    /// Padding (kernel − 1)/2, as every convolution of these nets: "same" at stride 1, halving at stride 2.
    var geometry: Convolution2D { Convolution2D(stride: (stride, stride), padding: ((kernel - 1) / 2, (kernel - 1) / 2)) }
    var filter: [Int] { [outputs, input[1], kernel, kernel] }
}

/// Every convolution shape of the seed ResNet (64×16×28×28, 3×3) and of the CIFAR ResNets at
/// batch 128: the three stages' 3×3 stride-1 shapes, the two 3×3 stride-2 transitions, and the
/// 1×1 stride-2 projections (option B; resnet20 itself uses option A's zero padding).
func convolutionShapes(quick: Bool) -> [ConvolutionShape] {
    let batch = quick ? 8 : 64, cifarBatch = quick ? 8 : 128
    return [ConvolutionShape(label: "seed", input: [batch, 16, 28, 28], outputs: 16, kernel: 3, stride: 1),
            ConvolutionShape(label: "r20-s1", input: [cifarBatch, 16, 32, 32], outputs: 16, kernel: 3, stride: 1),
            ConvolutionShape(label: "r20-s2", input: [cifarBatch, 32, 16, 16], outputs: 32, kernel: 3, stride: 1),
            ConvolutionShape(label: "r20-s3", input: [cifarBatch, 64, 8, 8], outputs: 64, kernel: 3, stride: 1),
            ConvolutionShape(label: "r20-down2", input: [cifarBatch, 16, 32, 32], outputs: 32, kernel: 3, stride: 2),
            ConvolutionShape(label: "r20-down3", input: [cifarBatch, 32, 16, 16], outputs: 64, kernel: 3, stride: 2),
            ConvolutionShape(label: "proj2", input: [cifarBatch, 16, 32, 32], outputs: 32, kernel: 1, stride: 2),
            ConvolutionShape(label: "proj3", input: [cifarBatch, 32, 16, 16], outputs: 64, kernel: 1, stride: 2)]
}

/// conv2d forward, backward-data and backward-weight on every shape of `convolutionShapes`.
func convolutionSuite(_ config: SuiteConfig) -> [Measure] {
    convolutionShapes(quick: config.quick).flatMap { shape in
        config.threadCounts.flatMap { threads -> [Measure] in
            let label = shape.label, input = shape.input, filter = shape.filter, geometry = shape.geometry
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
