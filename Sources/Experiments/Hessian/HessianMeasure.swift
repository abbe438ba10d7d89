import Instruments
import Models
import NN
import Tape

extension DemystifyingResNet {
    /// The Hessian at the initial point of one net, span, depth and seed.
    public struct Measurement: Codable, Sendable, Equatable {
        /// The net: linear, tanh or ReLU units.
        public var net: Net
        /// Shortcut span k: a shortcut around every k hidden layers.
        public var span: Int
        /// Hidden layers L.
        public var depth: Int
        /// The seed of the random weights, the inputs and the teacher.
        public var seed: UInt64
        /// The Hessian's eigenvalues, ascending.
        public var eigenvalues: [Double]
        /// ‖∂loss/∂θ‖ at the initial point (θ: the hidden weights).
        public var gradientNorm: Double

        /// One Hessian's spectrum and gradient norm.
        public init(net: Net, span: Int, depth: Int, seed: UInt64, eigenvalues: [Double], gradientNorm: Double) {
            (self.net, self.span, self.depth, self.seed, self.eigenvalues, self.gradientNorm) = (net, span, depth, seed, eigenvalues, gradientNorm)
        }
    }

    /// Every Hessian.
    public struct Results: Codable, Sendable, Equatable {
        /// τ: eigenvalues with |λ| ≤ τ·max|λ| count as zero (the setup's).
        public var relativeThreshold: Double
        /// Hidden layers L measured.
        public var depths: [Int]
        /// Shortcut spans k measured.
        public var spans: [Int]
        /// One measurement per net, span, depth and seed.
        public var measurements: [Measurement]

        /// The Hessians measured with threshold τ = `relativeThreshold`.
        public init(relativeThreshold: Double, depths: [Int], spans: [Int], measurements: [Measurement]) {
            (self.relativeThreshold, self.depths, self.spans, self.measurements) = (relativeThreshold, depths, spans, measurements)
        }

        /// The measurements of `net` with `span` at `depth`, one per seed.
        public func select(_ net: Net, span: Int, depth: Int) -> [Measurement] {
            measurements.filter { $0.net == net && $0.span == span && $0.depth == depth }
        }

        /// The spectrum of a measurement with this experiment's threshold.
        public func spectrum(_ measurement: Measurement) -> HessianSpectrum {
            HessianSpectrum(eigenvalues: measurement.eigenvalues, relativeThreshold: relativeThreshold)
        }
    }

    /// The Hessian of the loss with respect to the hidden (residual-branch) weights at the initial point.
    public static func measure(_ net: Net, span: Int, depth: Int, seed: UInt64, setup: Setup) -> Measurement {
        let width = setup.width
        let initializer: Initializer = net.scale == 0 ? .constant(0) : .kaimingNormal(gain: Float(2).squareRoot() * net.scale)
        let network = DeepNetwork(DeepNetworkConfiguration(inputs: width, outputs: width, depth: depth, width: width,
                                                           nonlinearity: net.nonlinearity, shortcutSpan: span,
                                                           weightInitializer: initializer, biasStandardDeviation: 0),
                                  seed: seed)
        var random = SplitMix64(seed: seed ^ 0x4E55)
        network.input.weight.value = Initializer.orthogonal().makeTensor([width, width], using: &random)
        network.output.weight.value = Initializer.orthogonal().makeTensor([width, width], using: &random)
        network.output.bias!.value = Tensor.zeros([width])
        let hidden = network.blocks.layers.flatMap { block in
            (block as! DenseBlock).units.layers.map { ($0 as! DenseUnit).weight }
        }
        let x = Tensor.randomNormal([setup.batch, width], using: &random)
        let teacher = Tensor.randomNormal([width, width], standardDeviation: 1 / Float(width).squareRoot(), using: &random)
        let y = matmul(x, teacher.transposed(permutation: [1, 0]))
        let products = HessianVectorProducts(parameters: hidden) {
            var context = ForwardContext.evaluation
            return meanSquaredError(network(Variable(x), &context), Variable(y))
        }
        let spectrum = HessianSpectrum(products, relativeThreshold: setup.relativeThreshold)
        let gradientNorm = products.gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return Measurement(net: net, span: span, depth: depth, seed: seed, eigenvalues: spectrum.eigenvalues, gradientNorm: gradientNorm)
    }

    public static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results {
        run.plan(units: setup.nets.count * setup.spans.count * setup.depths.count * setup.seeds.count)
        var measurements: [Measurement] = []
        for net in setup.nets {
            for span in setup.spans {
                for depth in setup.depths {
                    for seed in setup.seeds {
                        measurements.append(try run.unit("\(net.rawValue) span \(span) depth \(depth) seed \(seed)") {
                            measure(net, span: span, depth: depth, seed: seed, setup: setup)
                        })
                    }
                }
            }
        }
        return Results(relativeThreshold: setup.relativeThreshold, depths: setup.depths, spans: setup.spans, measurements: measurements)
    }
}
