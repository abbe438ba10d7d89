import Testing
import SafeTensors
@testable import NN
@testable import Tape

/// Gradient check of a layer with respect to its input and all its parameters.
func checkLayer(_ layer: Layer, input: Tensor, mode: Mode = .training, tolerance: Double = 2e-3) -> GradientCheckReport {
    let x = Parameter(input)
    return checkGradient(of: {
        var context = ForwardContext(mode: mode, random: SplitMix64(seed: 9))
        return layer(x.variable, &context)
    }, parameters: [x] + layer.parameters, tolerance: tolerance)
}

@Suite("NN layers: gradients")
struct LayerGradientTests {
    @Test func batchNorm2dTrainingThroughBatchStatistics() {
        var random = SplitMix64(seed: 1)
        let bn = BatchNorm2d(3)
        bn.weight!.value = Tensor.randomNormal([3], using: &random)
        bn.bias!.value = Tensor.randomNormal([3], using: &random)
        let report = checkLayer(bn, input: Tensor.randomNormal([4, 3, 3, 2], using: &random) * 2 + 1)
        #expect(report.passed, "\(report)")
    }

    @Test func batchNormEvaluationAndBatchNorm1d() {
        var random = SplitMix64(seed: 2)
        let bn = BatchNorm1d(5)
        bn.runningMean.value = Tensor.randomNormal([5], using: &random)
        bn.runningVariance.value = Tensor.randomUniform([5], lower: 0.5, upper: 2, using: &random)
        #expect(checkLayer(bn, input: Tensor.randomNormal([6, 5], using: &random), mode: .evaluation).passed)
        #expect(checkLayer(BatchNorm1d(5), input: Tensor.randomNormal([6, 5], using: &random)).passed)
    }

    @Test func linearConvLayerNorm() {
        var random = SplitMix64(seed: 3)
        #expect(checkLayer(Linear(4, 3, using: &random), input: Tensor.randomNormal([5, 4], using: &random)).passed)
        #expect(checkLayer(Conv2d(2, 4, kernelSize: 3, stride: 2, padding: 1, groups: 2, using: &random),
                           input: Tensor.randomNormal([2, 2, 5, 5], using: &random)).passed)
        let norm = LayerNorm([3, 4])
        norm.weight.value = Tensor.randomNormal([3, 4], using: &random)
        #expect(checkLayer(norm, input: Tensor.randomNormal([2, 3, 4], using: &random)).passed)
    }

    @Test func activationsAndDropout() {
        var random = SplitMix64(seed: 4)
        let x = Tensor(shape: [3, 4], scalars: (0..<12).map { _ in (0.2 + random.nextUniform()) * (random.nextUniform() < 0.5 ? -1 : 1) })
        for layer in [CReLU(), SELU(), Sigmoid(), Tanh(), ReLU(), Dropout(probability: 0.3)] as [Layer] {
            let report = checkLayer(layer, input: x)
            #expect(report.passed, "\(type(of: layer)): \(report)")
        }
    }

    @Test func poolingFlattenSequentialIdentity() {
        var random = SplitMix64(seed: 12)
        let x = Tensor(shape: [2, 2, 4, 4], scalars: (0..<64).map { Float($0) * 0.1 }.shuffled(using: &random))
        for layer in [AvgPool2d(kernel: 2), MaxPool2d(kernel: 2), GlobalAvgPool2d(), Flatten(), Identity(),
                      Sequential(AvgPool2d(kernel: 2, stride: 1), Flatten(), Linear(18, 3, using: &random))] as [Layer] {
            let report = checkLayer(layer, input: x)
            #expect(report.passed, "\(type(of: layer)): \(report)")
        }
    }

    @Test func shortcutsAndBlocks() {
        var random = SplitMix64(seed: 5)
        let x = Tensor.randomNormal([2, 4, 4, 4], using: &random)
        for kind in [ShortcutKind.zeroPad(.split), .zeroPad(.append), .projection, .convolution1x1] {
            let shortcut = makeShortcut(kind, inputs: 4, outputs: 6, stride: 2, using: &random)!
            #expect(checkLayer(shortcut, input: x).passed, "\(kind)")
        }
        for mergeKind in [ResidualMerge.sum, .scaled(shortcut: 0.5, branch: 1), .exclusiveGating(gateBias: -1), .shortcutGating(gateBias: -1)] {
            let branch = Sequential(Conv2d(4, 4, kernelSize: 3, padding: 1, using: &random), Tanh())
            let gate = mergeKind.makeGate(inputs: 4, outputs: 4, stride: 1, convolutional: true, using: &random)
            let input = Parameter(x)
            let report = checkGradient(of: {
                var context = ForwardContext.training()
                return merge(mergeKind, branch: branch(input.variable, &context), shortcut: input.variable,
                             gate: gate.map { $0(input.variable, &context) })
            }, parameters: [input] + branch.parameters + (gate?.parameters ?? []))
            #expect(report.passed, "\(mergeKind): \(report)")
        }
        #expect(checkLayer(Highway(width: 4, convolutional: true, activation: Tanh(), using: &random), input: x).passed)
        #expect(checkLayer(Highway(width: 5, activation: Tanh(), using: &random), input: Tensor.randomNormal([3, 5], using: &random)).passed)
    }
}

@Suite("NN layers: behaviour")
struct LayerBehaviourTests {
    @Test func zeroPadPlacesChannelsAsConfigured() {
        let x = Tensor(shape: [1, 2, 2, 2], scalars: (1...8).map(Float.init))
        var context = ForwardContext.evaluation
        let split = ZeroPadShortcut(inputs: 2, outputs: 6, stride: 2)(Variable(x), &context)
        #expect(split.shape == [1, 6, 1, 1] && split.scalars == [0, 0, 1, 5, 0, 0])
        let append = ZeroPadShortcut(inputs: 2, outputs: 6, stride: 2, placement: .append)(Variable(x), &context)
        #expect(append.scalars == [1, 5, 0, 0, 0, 0])
    }

    @Test func batchNormsAreTypesWithPyTorchNames() {
        let layers: [BatchNorm] = [BatchNorm2d(3), BatchNorm1d(3)]
        #expect(layers.map { "\(type(of: $0))" } == ["BatchNorm2d", "BatchNorm1d"])
        for layer in layers {
            #expect(layer.namedParameters.map(\.0) == ["weight", "bias"])
            #expect(layer.namedBuffers.map(\.0) == ["running_mean", "running_var", "num_batches_tracked"])
        }
        #expect(BatchNorm2d(3, affine: false).namedParameters.isEmpty)
    }

    @Test func mergesCombineBranchAndShortcutAsDocumented() {
        let branch = Variable(Tensor([2])), shortcut = Variable(Tensor([10])), gate = Variable(Tensor([0.25]))
        #expect(merge(.sum, branch: branch, shortcut: shortcut, gate: nil).scalars == [12])
        #expect(merge(.scaled(shortcut: 0.5, branch: 3), branch: branch, shortcut: shortcut, gate: nil).scalars == [11])
        #expect(merge(.exclusiveGating(gateBias: 0), branch: branch, shortcut: shortcut, gate: gate).scalars == [4])
        #expect(merge(.shortcutGating(gateBias: 0), branch: branch, shortcut: shortcut, gate: gate).scalars == [4.5])
    }

    @Test func cReLUDoublesChannels() {
        var context = ForwardContext.evaluation
        let y = CReLU()(Variable(Tensor(shape: [1, 2], scalars: [3, -2])), &context)
        #expect(y.shape == [1, 4] && y.scalars == [3, 0, 0, 2])
    }

    @Test func batchNormUpdatesRunningStatisticsWithUnbiasedVariance() {
        let bn = BatchNorm1d(1)
        var context = ForwardContext.training()
        _ = bn(Variable(Tensor(shape: [4, 1], scalars: [1, 2, 3, 6])), &context)
        // mean 3, unbiased variance (4 + 1 + 0 + 9)/3 = 14/3
        #expect(Swift.abs(bn.runningMean.value.scalars[0] - 0.3) < 1e-6)
        #expect(Swift.abs(bn.runningVariance.value.scalars[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6)
        #expect(bn.batchesTracked.value.scalar == 1)
        #expect(bn.parameterCount == 2 && bn.namedBuffers.map(\.0) == ["running_mean", "running_var", "num_batches_tracked"])
    }

    @Test func dropoutIsSeededAndInverted() {
        let x = Variable(Tensor(shape: [1000], repeating: 1))
        var first = ForwardContext.training(seed: 7), second = ForwardContext.training(seed: 7)
        let a = Dropout(probability: 0.25)(x, &first), b = Dropout(probability: 0.25)(x, &second)
        #expect(a.scalars == b.scalars)
        #expect(Set(a.scalars) == [0, Float(1) / 0.75])
        let kept = a.scalars.filter { $0 > 0 }.count
        #expect(kept > 700 && kept < 800)
        var evaluation = ForwardContext.evaluation
        #expect(Dropout(probability: 0.25)(x, &evaluation).scalars == x.scalars)
    }

    @Test func namesHooksAndLookup() {
        var random = SplitMix64(seed: 6)
        let net = Sequential(Conv2d(1, 2, kernelSize: 3, using: &random), BatchNorm2d(2), ReLU(), Flatten(), Linear(8, 3, using: &random))
        #expect(net.namedParameters.map(\.0) == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"])
        #expect(net.namedBuffers.map(\.0) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
        #expect(net.layer(named: "1") is BatchNorm)
        #expect(net.layer(named: "7") == nil)
        nonisolated(unsafe) var captured: [Int] = []
        let token = net.layer(named: "2")!.registerForwardHook { _, _, output in captured = output.shape; return nil }
        var context = ForwardContext.training()
        let y = net(Variable(Tensor.randomNormal([5, 1, 4, 4], using: &random)), &context)
        #expect(y.shape == [5, 3] && captured == [5, 2, 2, 2])
        net.layer(named: "2")!.removeForwardHook(token)
    }

    @Test func initializersHaveTheirStatistics() {
        var random = SplitMix64(seed: 8)
        let w = Initializer.orthogonal().makeTensor([6, 10], using: &random)
        let product = matmul(w, w.transposed())
        for i in 0..<6 { for j in 0..<6 { #expect(Swift.abs(product[element: [i, j]] - (i == j ? 1 : 0)) < 1e-5) } }
        let kaiming = Initializer.kaimingNormal().makeTensor([256, 64, 3, 3], using: &random)
        let variance = (kaiming * kaiming).mean().scalar
        #expect(Swift.abs(variance - 2 / Float(64 * 9)) / (2 / Float(64 * 9)) < 0.02)
        let bound = 1 / Float(64 * 9).squareRoot()
        let defaults = Initializer.pytorchDefault.makeTensor([32, 64, 3, 3], using: &random).scalars
        #expect(defaults.allSatisfy { Swift.abs($0) <= bound } && defaults.max()! > 0.95 * bound)
        // Looks-linear: W·relu(x) − W·relu(−x) = W·x, so CReLU then the mirrored layer is linear.
        let ll = Initializer.looksLinear().makeTensor([4, 6], using: &random)
        let x = Tensor.randomNormal([3, 1], using: &random)
        let viaCReLU = matmul(ll, concatenated([x.relu(), (-x).relu()], axis: 0))
        let linear = matmul(ll[.all, .range(0..<3)], x)
        #expect(zip(viaCReLU.scalars, linear.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
        let delta = Initializer.orthogonal().makeTensor([4, 4, 3, 3], using: &random)
        #expect(delta[.all, .all, .index(0)].abs().sum().scalar == 0 && delta[.all, .all, .index(1), .index(1)].abs().sum().scalar > 0)
    }

    @Test func lossesByHand() {
        // log-softmax of [0, ln 3] is [−ln 4, ln 3 − ln 4]; label 1 → loss ln 4 − ln 3.
        let logits = Variable(Tensor(shape: [1, 2], scalars: [0, 1.0986123]))
        let loss = crossEntropy(logits: logits, labels: [1])
        #expect(Swift.abs(loss.scalar - (1.3862944 - 1.0986123)) < 1e-6)
        // Label smoothing 0.2 over 2 classes: 0.9·(ln4 − ln3) + 0.1·ln4.
        let smoothed = crossEntropy(logits: logits, labels: [1], labelSmoothing: 0.2)
        #expect(Swift.abs(smoothed.scalar - (0.9 * (1.3862944 - 1.0986123) + 0.1 * 1.3862944)) < 1e-6)
        #expect(meanSquaredError(Variable(Tensor([1, 2])), Variable(Tensor([3, 2]))).scalar == 2)
        #expect(accuracy(logits: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), labels: [0, 0]) == 0.5)
    }

    @Test func stateDictRoundTripAndStrictLoading() throws {
        var random = SplitMix64(seed: 10)
        let net = Sequential(Conv2d(1, 2, kernelSize: 3, using: &random), BatchNorm2d(2))
        let path = "/tmp/tape-nn-test-\(random.next()).safetensors"
        try net.saveWeights(to: path)
        var other = SplitMix64(seed: 11)
        let copy = Sequential(Conv2d(1, 2, kernelSize: 3, using: &other), BatchNorm2d(2))
        try copy.loadWeights(from: path)
        #expect(copy.parameters.map(\.value) == net.parameters.map(\.value))
        let wrong = Sequential(Conv2d(1, 3, kernelSize: 3, using: &other), BatchNorm2d(3), ReLU(), Linear(2, 2, using: &other))
        #expect(throws: SafeTensorsError.self) { try wrong.loadWeights(from: path) }
        do { try wrong.loadWeights(from: path) } catch {
            let message = "\(error)"
            #expect(message.contains("0.weight") && message.contains("3.weight"), "\(message)")
        }
    }

    /// `normalizedReLU` against `relu(layer(x) + r)`: values, gradients (input, γ, β, residual)
    /// and running statistics, in training (the fused primitive) and evaluation mode.
    @Test(arguments: [Mode.training, .evaluation], [false, true])
    func batchNormNormalizedReLUMatchesLayerThenReLU(mode: Mode, residual: Bool) {
        func run(fused: Bool) -> (output: [Float], gradients: [Float], buffers: [Float]) {
            var random = SplitMix64(seed: 8)
            let bn = BatchNorm2d(4)
            bn.weight!.value = Tensor.randomNormal([4], using: &random)
            bn.bias!.value = Tensor.randomNormal([4], using: &random)
            bn.runningMean.value = Tensor.randomNormal([4], using: &random)
            bn.runningVariance.value = Tensor.randomUniform([4], lower: 0.5, upper: 2, using: &random)
            let x = Variable(Tensor.randomNormal([3, 4, 5, 6], using: &random), requiresGradient: true)
            let r = residual ? Variable(Tensor.randomNormal([3, 4, 5, 6], using: &random), requiresGradient: true) : nil
            let cotangent = Tensor.randomNormal([3, 4, 5, 6], using: &random)
            var context = ForwardContext(mode: mode, random: SplitMix64(seed: 1))
            // Two steps, so the second sees the running statistics the first updated.
            var outputs: [Float] = [], gradients: [Float] = []
            for _ in 0..<2 {
                let y: Variable
                if fused {
                    y = bn.normalizedReLU(x, adding: r, &context)
                } else {
                    let normalized = bn(x, &context)
                    y = (r.map { normalized + $0 } ?? normalized).relu()
                }
                outputs += y.scalars
                gradients += y.gradients(withRespectTo: [x, bn.weight!.variable, bn.bias!.variable] + (r.map { [$0] } ?? []), seed: cotangent)
                    .flatMap(\.scalars)
            }
            return (outputs, gradients, bn.namedBuffers.flatMap { $0.1.value.scalars })
        }
        let fused = run(fused: true), composed = run(fused: false)
        #expect(fused.output.contains(0) && fused.output.contains { $0 > 0 })
        #expect(fused.output.count == composed.output.count && fused.gradients.count == composed.gradients.count)
        func worst(_ a: [Float], _ b: [Float]) -> Float {
            let scale = b.map(abs).max() ?? 1
            return zip(a, b).map { abs($0 - $1) }.max()! / scale
        }
        #expect(worst(fused.output, composed.output) <= 1e-5)
        #expect(worst(fused.gradients, composed.gradients) <= 1e-5)
        #expect(fused.buffers == composed.buffers)
    }

    /// A forward hook must see, and may replace, BatchNorm's own output: with one registered,
    /// `normalizedReLU` runs the layer and then ReLU.
    @Test func batchNormNormalizedReLUFallsBackForHooks() {
        var random = SplitMix64(seed: 9)
        let bn = BatchNorm2d(2)
        let x = Variable(Tensor.randomNormal([3, 2, 4, 4], using: &random))
        let r = Variable(Tensor.randomNormal([3, 2, 4, 4], using: &random))
        nonisolated(unsafe) var seen: [Float] = []
        let token = bn.registerForwardHook { _, _, output in seen = output.scalars; return output * -1 }
        var context = ForwardContext.training()
        let y = bn.normalizedReLU(x, adding: r, &context)
        bn.removeForwardHook(token)
        var reference = ForwardContext.training()
        let normalized = withoutGradient { BatchNorm2d(2)(x, &reference) }
        #expect(seen == normalized.scalars)
        #expect(y.scalars == (normalized * -1 + r).relu().scalars)
        #expect(bn.batchesTracked.value.scalar == 1)
    }
}
