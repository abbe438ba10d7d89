import Foundation
import Testing
@testable import Models
@testable import Tape
import NN


@Suite("Models: sizes and names")
struct ModelSizeTests {
    /// Counted from the PyTorch definitions (the lecture's code, the PyTorch CIFAR ResNet,
    /// torchvision, resnet-pre-act.lua), independently of the registry's table. Dense MNIST nets:
    /// highway-mnist-D is Linear(784, 50) + D·2·Linear(50, 50) + Linear(50, 10) = 39,760 + 5,100·D;
    /// plain-mnist-D is Linear(784, w) + D·Linear(w, w) + Linear(w, 10) at the width w = 55, 57, 63,
    /// 66, 69, 70 (for D = 2, 3, 10, 20, 50, 100) that comes closest to the highway net's count.
    static let expectedParameters: [String: Int] = [
        "mnist-resnet": 117_802, "mnist-plain": 117_802,
        "resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018, "resnet110": 1_727_962,
        "resnet1202": 19_421_274, "plain20": 269_722, "plain32": 464_154, "plain44": 658_586, "plain56": 853_018,
        "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
        "resnet152": 60_192_808, "preact-resnet110": 1_730_522, "preact-resnet164": 1_703_258,
        "preact-resnet1001": 10_327_706,
        "highway-mnist-2": 49_960, "highway-mnist-3": 55_060, "highway-mnist-10": 90_760, "highway-mnist-20": 141_760,
        "highway-mnist-50": 294_760, "highway-mnist-100": 549_760,
        "plain-mnist-2": 55 * 785 + 2 * 55 * 56 + 560, "plain-mnist-3": 57 * 785 + 3 * 57 * 58 + 580,
        "plain-mnist-10": 63 * 785 + 10 * 63 * 64 + 640, "plain-mnist-20": 66 * 785 + 20 * 66 * 67 + 670,
        "plain-mnist-50": 69 * 785 + 50 * 69 * 70 + 700, "plain-mnist-100": 70 * 785 + 100 * 70 * 71 + 710,
    ]

    /// Every row builds, has the size it states, and states the size PyTorch counts.
    @Test(arguments: ModelRegistry.names)
    func everyRowBuildsWithItsStatedParameterCount(name: String) throws {
        let entry = try ModelRegistry.entry(named: name)
        #expect(entry.parameterCount == Self.expectedParameters[name], "\(name): the table states \(entry.parameterCount)")
        #expect(entry.make().parameterCount == entry.parameterCount, "\(name)")
    }

    @Test func theTableHasOneRowPerNameAndNoOther() {
        #expect(Set(ModelRegistry.names) == Set(Self.expectedParameters.keys))
        #expect(Set(ModelRegistry.names).count == ModelRegistry.entries.count, "a name appears twice")
    }

    /// The README's model table states every row's parameter count (as 1,234,567).
    @Test func theReadmeStatesEveryCount() throws {
        let root = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        let text = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        let models = try #require(text.components(separatedBy: "\n## Models\n").dropFirst().first?.components(separatedBy: "\n## ").first)
        for entry in ModelRegistry.entries {
            let grouped = String(entry.parameterCount).reversed().enumerated()
                .map { $0.offset > 0 && $0.offset % 3 == 0 ? ",\($0.element)" : "\($0.element)" }.joined()
            #expect(models.contains(String(grouped.reversed())), "README's model table lacks \(entry.name)'s \(entry.parameterCount)")
        }
    }

    @Test func plainTwinsAndHighwayNetsHaveComparableSizes() throws {
        for depth in [10, 20, 50, 100] {
            let highway = try ModelRegistry.entry(named: "highway-mnist-\(depth)").parameterCount
            let plain = try ModelRegistry.entry(named: "plain-mnist-\(depth)").parameterCount
            #expect(Swift.abs(Double(highway - plain)) / Double(highway) < 0.01, "depth \(depth): \(highway) vs \(plain)")
        }
    }

    @Test func unknownNamesThrowAndListTheKnownOnes() {
        for name in ["resnet21", "highway-mnist-0", "highway-mnist-7", "", "RESNET20"] {
            #expect(throws: UnknownModelError.self) { try ModelRegistry.make(name) }
            do {
                _ = try ModelRegistry.entry(named: name)
            } catch {
                #expect(error.description.contains("unknown model '\(name)'"))
                #expect(ModelRegistry.names.allSatisfy { error.description.contains($0) }, "\(error)")
            }
        }
    }

    @Test func pyTorchNames() throws {
        let seed = try ModelRegistry.make("mnist-resnet")
        let names = seed.namedParameters.map(\.0) + seed.namedBuffers.map(\.0)
        #expect(names.contains("conv0.weight") && names.contains("resblocks.24.bn2.running_var") && names.contains("fc.bias"))
        #expect(names.contains("resblocks.3.bn1.num_batches_tracked"))
        let b = CIFARResNet(depth: 20, configuration: CIFARConfiguration(shortcut: .projection))
        #expect(b.namedParameters.map(\.0).contains("layer2.0.downsample.0.weight"))
        #expect(b.namedBuffers.map(\.0).contains("layer2.0.downsample.1.running_var"))
        let preact = try ModelRegistry.make("preact-resnet164")
        let preactNames = preact.namedParameters.map(\.0)
        #expect(preactNames.contains("layer1.0.shortcut.weight") && preactNames.contains("layer3.17.conv3.weight") && preactNames.contains("bn.weight"))
        let resnet18 = try ModelRegistry.make("resnet18")
        #expect(resnet18.namedParameters.map(\.0).contains("layer4.1.bn2.bias"))
    }
}

@Suite("Models: forward and backward")
struct ModelForwardTests {
    @Test func outputShapes() throws {
        var random = SplitMix64(seed: 1)
        for (name, shape) in [("mnist-resnet", [2, 1, 28, 28]), ("resnet20", [2, 3, 32, 32]), ("preact-resnet164", [1, 3, 8, 8]),
                              ("highway-mnist-10", [3, 1, 28, 28]), ("resnet18", [1, 3, 32, 32])] {
            let model = try ModelRegistry.make(name)
            var context = ForwardContext.evaluation
            let y = model(Variable(Tensor.randomNormal(shape, using: &random)), &context)
            #expect(y.shape == [shape[0], try ModelRegistry.entry(named: name).classes], "\(name)")
            #expect(y.value.isFinite)
        }
    }

    @Test func preActivation1001RunsForwardAndBackwardWithoutStackOverflow() throws {
        var random = SplitMix64(seed: 2)
        let model = try ModelRegistry.make("preact-resnet1001")
        var context = ForwardContext.training()
        let logits = model(Variable(Tensor.randomNormal([2, 3, 4, 4], using: &random)), &context)
        let loss = crossEntropy(logits: logits, labels: [1, 7])
        loss.backward()
        // The point is the depth: 1001 layers forward and back without recursion. (At batch 2 on
        // 4×4 images the gradients of the lowest layers are huge, ~1e37: exploding gradients of a
        // very deep net with two values per BatchNorm channel, not a failure of the tape.)
        #expect(loss.value.isFinite)
        #expect(model.parameters.allSatisfy { $0.grad != nil })
    }

    @Test func tinyBlocksPassGradientChecks() {
        var random = SplitMix64(seed: 3)
        let blocks: [(String, Layer)] = [
            ("mnist", BasicBlock(inputs: 2, outputs: 2, stride: 1, shortcut: .identity, style: .lecture(), using: &random)),
            ("mnist 1×1 conv shortcut, shortcut gating", BasicBlock(inputs: 2, outputs: 2, stride: 1, shortcut: .convolution1x1,
                                                                   merge: .shortcutGating(gateBias: -1), style: .lecture(), using: &random)),
            ("mnist projection, scaled", BasicBlock(inputs: 2, outputs: 2, stride: 1, shortcut: .projectionEverywhere,
                                                    merge: .scaled(shortcut: 0.5, branch: 1), style: .lecture(), using: &random)),
            ("dense span 2", DenseBlock(units: (0..<2).map { _ in DenseUnit(inputs: 2, configuration: DeepNetworkConfiguration(inputs: 2, outputs: 1, depth: 2, width: 2, nonlinearity: .tanh, normalization: .layer), initializer: .orthogonal(), using: &random) }, residual: true, scale: 0.5)),
            ("basic option A", BasicBlock(inputs: 2, outputs: 4, stride: 2, using: &random)),
            ("basic option B", BasicBlock(inputs: 2, outputs: 4, stride: 2, shortcut: .projection, using: &random)),
            ("full pre-activation", BasicBlock(inputs: 2, outputs: 4, stride: 2, shortcut: .projection, placement: .fullPreActivation, using: &random)),
            ("BN after addition", BasicBlock(inputs: 2, outputs: 2, stride: 1, placement: .batchNormAfterAddition, using: &random)),
            ("ReLU before addition", BasicBlock(inputs: 2, outputs: 2, stride: 1, placement: .reluBeforeAddition, using: &random)),
            ("ReLU-only pre-activation", BasicBlock(inputs: 2, outputs: 2, stride: 1, placement: .reluOnlyPreActivation, using: &random)),
            ("exclusive gating", BasicBlock(inputs: 2, outputs: 2, stride: 1, merge: .exclusiveGating(gateBias: -1), using: &random)),
            ("pre-act bottleneck", PreActBottleneck(inputs: 4, outputs: 8, stride: 2, using: &random)),
            ("bottleneck", Bottleneck(inputs: 4, width: 2, stride: 2, using: &random)),
            ("imagenet basic", BasicBlock(inputs: 2, outputs: 4, stride: 2, shortcut: .projection, style: .torchvision, using: &random)),
        ]
        for (name, block) in blocks {
            // BN offsets β = 4 and a positive input keep every ReLU input far from its kink under the
            // finite-difference step, while gradients still flow through the batch statistics.
            for layer in block.namedLayers.map(\.1) { (layer as? BatchNorm)?.bias?.value = Tensor(shape: [(layer as! BatchNorm).channels], repeating: 4) }
            let channels = block is PreActBottleneck || block is Bottleneck ? 4 : 2
            let shape = block is DenseBlock ? [3, 2] : [3, channels, 4, 4]
            let x = Parameter(Tensor.randomNormal(shape, using: &random) + 3)
            let report = checkGradient(of: {
                var context = ForwardContext.training()
                return block(x.variable, &context)
            }, parameters: [x] + block.parameters, maxElementsPerInput: 16)
            #expect(report.passed, "\(name): \(report)")
        }
    }

    @Test func convolutionalDeepNetwork() {
        var configuration = DeepNetworkConfiguration(inputs: 3, outputs: 4, depth: 4, width: 5, nonlinearity: .crelu,
                                                     normalization: .batch, shortcutSpan: 2, weightInitializer: .looksLinear())
        configuration.convolutional = true
        let network = DeepNetwork(configuration, seed: 2)
        var random = SplitMix64(seed: 3)
        var context = ForwardContext.training()
        #expect(network(Variable(Tensor.randomNormal([2, 3, 6, 6], using: &random)), &context).shape == [2, 4])
        #expect(network.namedParameters.map(\.0).contains("blocks.1.units.1.linear.weight"))
        #expect(network.residualBlocks.count == 2)
    }

    @Test func deepNetworkGroupsLayersBySpan() {
        let plain = DeepNetwork(DeepNetworkConfiguration(inputs: 1, outputs: 1, depth: 7, width: 5))
        #expect(plain.residualBlocks.count == 7 && plain.residualBlocks.allSatisfy { !$0.hasShortcut })
        let span = DeepNetwork(DeepNetworkConfiguration(inputs: 1, outputs: 1, depth: 7, width: 5, shortcutSpan: 3))
        #expect(span.residualBlocks.map { ($0 as! DenseBlock).units.layers.count } == [3, 3, 1])
        // Looks-Linear CReLU nets start as a linear map: f(2x) = 2·f(x) − f(0)... exactly linear (zero biases).
        let ll = DeepNetwork(DeepNetworkConfiguration(inputs: 3, outputs: 2, depth: 6, width: 8, nonlinearity: .crelu,
                                                      weightInitializer: .looksLinear()), seed: 4)
        var random = SplitMix64(seed: 5)
        let x = Tensor.randomNormal([1, 3], using: &random)
        var context = ForwardContext.evaluation
        let y1 = ll(Variable(x), &context).value, y2 = ll(Variable(x * 2), &context).value
        let y0 = ll(Variable(Tensor.zeros([1, 3])), &context).value
        #expect(zip((y2 - y0).scalars, ((y1 - y0) * 2).scalars).allSatisfy { Swift.abs($0 - $1) < 1e-4 })
    }

    /// Pre-activation (He et al. 2016; Balduzzi et al. 2017 §3): x₀ = W_in·x + b_in, then
    /// x_{l} = x_{l−1} + α·(W_l·ρ(BN(x_{l−1})) + b_l), then the head; checked by hand in
    /// training mode (BN over the batch, biased variance, ε = 1e-5).
    @Test func preActivationBlocksNormaliseBeforeTheMap() {
        var configuration = DeepNetworkConfiguration(inputs: 2, outputs: 1, depth: 2, width: 3, normalization: .batch,
                                                     shortcutSpan: 1, residualScale: 0.5, biasStandardDeviation: 0.1)
        configuration.form = .preActivation
        let network = DeepNetwork(configuration, seed: 3)
        #expect(network.input.norm == nil && network.input.nonlinearity == .linear)
        var random = SplitMix64(seed: 8)
        let x = Tensor.randomNormal([4, 2], using: &random)
        func affine(_ h: [[Double]], _ unit: Linear) -> [[Double]] {
            let w: [Double] = unit.weight.value.scalars.map(Double.init)
            let b: [Double] = unit.bias!.value.scalars.map(Double.init)
            let outs = unit.weight.value.shape[0], ins = unit.weight.value.shape[1]
            return h.map { (row: [Double]) -> [Double] in
                (0..<outs).map { (o: Int) -> Double in
                    var sum = b[o]
                    for i in 0..<ins { sum += w[o * ins + i] * row[i] }
                    return sum
                }
            }
        }
        func batchNormReLU(_ h: [[Double]]) -> [[Double]] {
            let n = Double(h.count), channels = h[0].count
            var means = [Double](repeating: 0, count: channels), variances = [Double](repeating: 0, count: channels)
            for row in h { for c in 0..<channels { means[c] += row[c] / n } }
            for row in h { for c in 0..<channels { variances[c] += (row[c] - means[c]) * (row[c] - means[c]) / n } }
            return h.map { (row: [Double]) -> [Double] in
                (0..<channels).map { (c: Int) -> Double in Swift.max(0, (row[c] - means[c]) / (variances[c] + 1e-5).squareRoot()) }
            }
        }
        let inputs: [[Double]] = (0..<4).map { (i: Int) -> [Double] in [Double(x.scalars[i * 2]), Double(x.scalars[i * 2 + 1])] }
        var h = affine(inputs, network.input.linear as! Linear)
        for block in network.blocks.layers {
            let unit = (block as! DenseBlock).units.layers[0] as! DenseUnit
            let branch = affine(batchNormReLU(h), unit.linear as! Linear)
            for i in h.indices { for c in h[i].indices { h[i][c] += 0.5 * branch[i][c] } }
        }
        let expected = affine(h, network.output).map { $0[0] }
        var context = ForwardContext.training()
        let y = network(Variable(x), &context).value.scalars.map(Double.init)
        #expect(zip(y, expected).allSatisfy { Swift.abs($0 - $1) < 1e-4 }, "\(y) vs \(expected)")
    }
}

@Suite("Stochastic depth")
struct StochasticDepthTests {
    @Test func closedBlocksCostNothingAndDepthMatchesExpectation() {
        let model = MNISTResNet(channels: 2, blocks: 20, seed: 1)
        model.enableStochasticDepth(finalSurvival: 0.5)
        #expect(Swift.abs(model.expectedDepth - (20 - 0.5 * 21 / 2)) < 1e-4)   // Σ 1 − l/40 = 20 − 210/40
        let full = MNISTResNet(channels: 2, blocks: 20, seed: 1)
        var random = SplitMix64(seed: 6)
        let x = Variable(Tensor.randomNormal([1, 1, 28, 28], using: &random))
        var opened: [Int] = []
        var opCounts: [Int] = []
        for step in 0..<40 {
            var context = ForwardContext.training(seed: UInt64(step))
            let loss = model(x, &context).sum()
            opened.append(model.residualBlocks.filter(\.lastForwardUsedBranch).count)
            opCounts.append(tape(of: loss)!.count)
        }
        var fullContext = ForwardContext.training()
        let fullOps = tape(of: full(x, &fullContext).sum())!.count
        // Every open branch records the same ops; a closed one records none.
        let perBlock = (fullOps - tape(of: emptyNetworkLoss(x))!.count) / 20
        for (open, ops) in zip(opened, opCounts) { #expect(ops == fullOps - (20 - open) * perBlock) }
        let meanOpen = Float(opened.reduce(0, +)) / Float(opened.count)
        #expect(Swift.abs(meanOpen - model.expectedDepth) < 2)
    }

    @Test func testTimeScalingMultipliesTheBranchBySurvival() {
        let block = DenseBlock(units: [DenseUnit(inputs: 2, configuration: DeepNetworkConfiguration(inputs: 2, outputs: 1, depth: 1, width: 2, nonlinearity: .linear),
                                                 initializer: .constant(1), using: &StochasticDepthTests.random)],
                               residual: true, scale: 1)
        block.survivalProbability = 0.25
        var context = ForwardContext.evaluation
        let x = Variable(Tensor(shape: [1, 2], scalars: [1, 2]))
        // F(x) = W·x with W = ones: [3, 3]; y = x + 0.25·F(x).
        #expect(block(x, &context).scalars == [1.75, 2.75])
        block.stochasticDepthScaling = .inverted
        #expect(block(x, &context).scalars == [4, 5])
    }

    nonisolated(unsafe) static var random = SplitMix64(seed: 9)
}

/// The tape a recorded value lives on.
func tape(of value: Variable) -> Tape? { value.tapeSlot?.tape }

/// The same model with every block closed: its op count is the non-block overhead.
func emptyNetworkLoss(_ x: Variable) -> Variable {
    let model = MNISTResNet(channels: 2, blocks: 20, seed: 1)
    for block in model.residualBlocks { block.isBranchEnabled = false }
    var context = ForwardContext.training()
    return model(x, &context).sum()
}

@Suite("Registry input checks")
struct RegistryInputTests {
    @Test func imageShapesAreCheckedPerModel() throws {
        let seed = try ModelRegistry.entry(named: "mnist-resnet"), cifar = try ModelRegistry.entry(named: "resnet20")
        #expect(seed.mismatch(imageShape: [1, 28, 28]) == nil)
        #expect(seed.mismatch(imageShape: [1, 32, 32]) != nil)
        #expect(seed.mismatch(imageShape: [3, 28, 28]) != nil)
        #expect(cifar.mismatch(imageShape: [3, 64, 48]) == nil)
        #expect(cifar.mismatch(imageShape: [3, 4, 4])?.contains("8×8") == true)
        #expect(cifar.mismatch(imageShape: [1, 32, 32]) != nil)
    }
}

@Suite("Determinism")
struct DeterminismTests {
    @Test(arguments: ["mnist-resnet", "resnet20", "preact-resnet110", "highway-mnist-10"])
    func sameSeedSameModel(name: String) throws {
        let a = try ModelRegistry.make(name, seed: 7), b = try ModelRegistry.make(name, seed: 7), c = try ModelRegistry.make(name, seed: 8)
        #expect(a.parameters.map(\.value) == b.parameters.map(\.value))
        #expect(a.parameters.map(\.value) != c.parameters.map(\.value))
    }
}

/// Every kernel splits work in a way that does not depend on the thread count (images per
/// thread for convolutions, fixed image ranges for filter gradients, per-image slots for
/// BatchNorm statistics), so a training step is bit-identical on 1 and 2 threads.
@Test("a training step gives bit-identical loss and gradients on 1 and 2 threads")
func threadCountInvariance() {
    func step(threads: Int) -> [Float] {
        kernelThreadCount = threads
        defer { kernelThreadCount = 0 }
        let model = MNISTResNet(channels: 8, blocks: 2, seed: 3)
        var random = SplitMix64(seed: 4)
        let images = Variable(Tensor.randomNormal([20, 1, 28, 28], using: &random))
        var context = ForwardContext.training(seed: 5)
        let loss = crossEntropy(logits: model(images, &context), labels: (0..<20).map { $0 % 10 })
        loss.backward()
        return [loss.value.scalars[0]] + model.parameters.flatMap { $0.grad?.scalars ?? [] }
    }
    let one = step(threads: 1), two = step(threads: 2)
    #expect(one.count > 1 && one == two)
}

@Test("checkpointed blocks give the same loss, gradients, running statistics and random draws as stored ones")
func checkpointedBlocksMatch() {
    func step(checkpointed: Bool) -> (values: [Float], buffers: [Float], blocksRun: [Bool]) {
        let model = MNISTResNet(channels: 4, blocks: 4, imageSize: 12, seed: 7)
        model.enableStochasticDepth(finalSurvival: 0.5)
        model.resblocks.checkpointsLayers = checkpointed
        var random = SplitMix64(seed: 8)
        let images = Variable(Tensor.randomNormal([6, 1, 12, 12], using: &random))
        var context = ForwardContext.training(seed: 9)
        let loss = crossEntropy(logits: model(images, &context), labels: [0, 1, 2, 3, 4, 5])
        loss.backward()
        return ([loss.value.scalars[0]] + model.parameters.flatMap { $0.grad?.scalars ?? [] },
                model.namedBuffers.flatMap { $0.1.value.scalars }, model.residualBlocks.map(\.lastForwardUsedBranch))
    }
    let stored = step(checkpointed: false), recomputed = step(checkpointed: true)
    // Some blocks were dropped and some ran, so the replay had to reproduce the draws.
    #expect(stored.blocksRun.contains(true) && stored.blocksRun.contains(false))
    #expect(stored.blocksRun == recomputed.blocksRun)
    #expect(stored.values.count == recomputed.values.count)
    let worst = zip(stored.values, recomputed.values).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? 1
    #expect(worst < 1e-5)
    // Running statistics were updated once, not again by the replay.
    #expect(stored.buffers == recomputed.buffers)
}

@Test("a checkpointed segment keeps only its input: peak saved memory falls with depth")
func checkpointingSavesMemory() {
    func savedFloats(checkpointed: Bool) -> Int {
        let model = MNISTResNet(channels: 4, blocks: 6, imageSize: 10, seed: 1)
        model.resblocks.checkpointsLayers = checkpointed
        var context = ForwardContext.training(seed: 2)
        let images = Variable(Tensor.zeros([8, 1, 10, 10]))
        return Tape.savedScalarCount(of: model(images, &context))
    }
    let stored = savedFloats(checkpointed: false), recomputed = savedFloats(checkpointed: true)
    // Stored: about four activations per block; checkpointed: one per block.
    #expect(recomputed * 3 < stored, "saved \(recomputed) vs \(stored) floats")
}
