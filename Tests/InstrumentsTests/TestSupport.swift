import Models
import NN
import Tape

/// Shared fixtures for the instrument tests, in a namespace so nothing clashes.
enum Fixture {
    /// A random batch [rows, columns] from N(0, 1).
    static func batch(_ rows: Int, _ columns: Int, seed: UInt64) -> Tensor {
        var random = SplitMix64(seed: seed)
        return Tensor.randomNormal([rows, columns], using: &random)
    }

    /// Random images [n, 1, size, size].
    static func images(_ n: Int, size: Int, seed: UInt64) -> Tensor {
        var random = SplitMix64(seed: seed)
        return Tensor.randomNormal([n, 1, size, size], using: &random)
    }

    /// A small residual (or plain) MLP.
    static func mlp(inputs: Int = 3, outputs: Int = 2, depth: Int = 3, width: Int = 4, nonlinearity: Nonlinearity = .relu,
                    span: Int? = 1, seed: UInt64 = 1) -> DeepNetwork {
        DeepNetwork(DeepNetworkConfiguration(inputs: inputs, outputs: outputs, depth: depth, width: width, nonlinearity: nonlinearity,
                                             shortcutSpan: span, biasStandardDeviation: 0.1), seed: seed)
    }

    /// The mean squared error of `network` on `input` against a fixed target.
    static func regressionLoss(_ network: Layer, input: Tensor, target: Tensor) -> (inout ForwardContext) -> Variable {
        { context in meanSquaredError(network(Variable(input), &context), Variable(target)) }
    }

    /// The dense units of a DeepNetwork block.
    static func units(_ network: DeepNetwork, block: Int) -> [DenseUnit] {
        (network.blocks.layers[block] as! DenseBlock).units.layers.map { $0 as! DenseUnit }
    }

    /// A tiny MNIST-style ResNet: 2 channels, 6×6 images.
    static func tinyResNet(blocks: Int = 3, seed: UInt64 = 2) -> MNISTResNet {
        MNISTResNet(channels: 2, kernelSize: 3, blocks: blocks, imageSize: 6, classes: 3, seed: seed)
    }
}

/// max |aᵢ − bᵢ| / max(max |bᵢ|, floor).
func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> Double {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) values")
    let scale = Swift.max(b.map(Swift.abs).max() ?? 0, floor)
    return zip(a, b).map { Swift.abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "relativeError: shapes \(a.shape) vs \(b.shape)")
    return relativeError(a.scalars.map(Double.init), b.scalars.map(Double.init))
}

func relativeError(_ a: Double, _ b: Double) -> Double { Swift.abs(a - b) / Swift.max(Swift.abs(b), 1e-300) }
