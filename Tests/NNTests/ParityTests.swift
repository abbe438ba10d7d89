import Testing
import SafeTensors
import NN
import Tape
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Parity with PyTorch: every expected value comes from Fixtures/nn_parity.safetensors, written
// by Fixtures/make_nn_fixtures.py (PyTorch 2.x, fixed seed, float32). Gradients are taken with
// the random upstream cotangents stored next to them. Each comparison is the relative error
//
//     max |actual − expected| / max(max |expected|, tiny)   over the whole tensor
//
// and must be ≤ 1e-4. Set NN_PARITY_VERBOSE=1 to print every comparison's error.

/// Fixture access and comparison, in a namespace so nothing clashes with other test files.
enum Parity {
    static let tolerance: Float = 1e-4

    struct MissingTensor: Error, CustomStringConvertible {
        let name: String
        var description: String { "nn_parity.safetensors has no tensor '\(name)'" }
    }

    /// Fixtures/nn_parity.safetensors next to this source file.
    static let path: String = {
        let directory = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/Fixtures/nn_parity.safetensors"
    }()

    /// The fixture, read once.
    static let loaded = Result<SafeTensorsFile, SafeTensorsError> { () throws(SafeTensorsError) in
        try SafeTensorsFile(contentsOf: path)
    }

    static func file() throws -> SafeTensorsFile { try loaded.get() }

    static func tensor(_ name: String) throws -> Tensor {
        guard let stored = try file().tensors[name] else { throw MissingTensor(name: name) }
        return Tensor(shape: stored.shape, scalars: stored.floats())
    }

    static func integers(_ name: String) throws -> [Int] {
        guard let stored = try file().tensors[name] else { throw MissingTensor(name: name) }
        return try stored.int64s().map { Int($0) }
    }

    /// The distinct second components of the names `<prefix>.<case>.…` in the fixture.
    static func caseNames(_ prefix: String) throws -> Set<String> {
        Set(try file().names.compactMap { name -> String? in
            let parts = name.split(separator: ".")
            return parts.count >= 3 && parts[0] == prefix ? String(parts[1]) : nil
        })
    }

    /// max |a − b| / max(max |b|, tiny); infinity when the shapes differ or anything is NaN.
    static func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
        guard actual.shape == expected.shape else { return .infinity }
        let a = actual.scalars, b = expected.scalars
        var difference: Float = 0, scale: Float = 0
        for (x, y) in zip(a, b) {
            let d = Swift.abs(x - y)
            guard !d.isNaN else { return .infinity }
            difference = Swift.max(difference, d)
            scale = Swift.max(scale, Swift.abs(y))
        }
        return difference / Swift.max(scale, Float.leastNormalMagnitude)
    }

    static let verbose: Bool = getenv("NN_PARITY_VERBOSE") != nil

    /// Expects `actual` to match the fixture tensor `name` within `tolerance`.
    static func expectClose(_ actual: Tensor?, _ name: String, tolerance: Float = Parity.tolerance,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try tensor(name)
        guard let actual else {
            Issue.record("\(name): no value (gradient missing)", sourceLocation: sourceLocation)
            return
        }
        let error = relativeError(actual, expected)
        if verbose { print("parity \(name): relative error \(error)") }
        #expect(actual.shape == expected.shape, "\(name): shape \(actual.shape), PyTorch \(expected.shape)", sourceLocation: sourceLocation)
        #expect(error <= tolerance, "\(name): relative error \(error) > \(tolerance)", sourceLocation: sourceLocation)
    }

    static func leaf(_ name: String) throws -> Variable { Variable(try tensor(name), requiresGradient: true) }
}

/// One conv2d configuration; must agree with `CONV_CASES` in make_nn_fixtures.py.
struct ConvParityCase: Sendable, CustomTestStringConvertible {
    let name: String
    let stride: Pair, padding: Pair, dilation: Pair
    let groups: Int
    let bias: Bool

    init(_ name: String, stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups: Int = 1, bias: Bool = true) {
        (self.name, self.stride, self.padding, self.dilation, self.groups, self.bias) = (name, stride, padding, dilation, groups, bias)
    }

    var testDescription: String { name }

    /// The configuration as stored in `conv.<name>.config`.
    var config: [Int] {
        [stride.height, stride.width, padding.height, padding.width, dilation.height, dilation.width, groups, bias ? 1 : 0, 0]
    }

    static let all: [ConvParityCase] = [
        ConvParityCase("s1p0"),
        ConvParityCase("s1p1", padding: 1),
        ConvParityCase("s2p0", stride: 2),
        ConvParityCase("s2p1", stride: 2, padding: 1),
        ConvParityCase("groups2", padding: 1, groups: 2),
        ConvParityCase("depthwise", padding: 1, groups: 3),
        ConvParityCase("dilation2", padding: 2, dilation: 2),
        ConvParityCase("nobias", padding: 1, bias: false),
        ConvParityCase("kernel2x3", stride: [2, 1], padding: [1, 0]),
        ConvParityCase("proj1x1s2", stride: 2, bias: false),
        ConvParityCase("mixed", stride: [2, 1], padding: [2, 1], dilation: [2, 1], groups: 2, bias: false),
    ]
}

enum PoolParityCase: String, CaseIterable, Sendable {
    case avg_k2s2, avg_k3s2p1, avg_k3s2p1_nopad, max_k2s2, max_k3s2p1, global_avg

    func apply(_ x: Variable) -> Variable {
        var context = ForwardContext.training()
        switch self {
        case .avg_k2s2: return AvgPool2d(kernel: 2, stride: 2)(x, &context)
        case .avg_k3s2p1: return AvgPool2d(kernel: 3, stride: 2, padding: 1)(x, &context)
        case .avg_k3s2p1_nopad: return avgPool2d(x, kernel: 3, stride: 2, padding: 1, countIncludingPadding: false)
        case .max_k2s2: return MaxPool2d(kernel: 2, stride: 2)(x, &context)
        case .max_k3s2p1: return MaxPool2d(kernel: 3, stride: 2, padding: 1)(x, &context)
        case .global_avg: return GlobalAvgPool2d()(x, &context)
        }
    }
}

enum CrossEntropyParityCase: String, CaseIterable, Sendable {
    case mean, sum, mean_ls, sum_ls, none_ls

    var reduction: Reduction {
        switch self {
        case .mean, .mean_ls: .mean
        case .sum, .sum_ls: .sum
        case .none_ls: .none
        }
    }

    var labelSmoothing: Float { rawValue.hasSuffix("_ls") ? 0.1 : 0 }
}

@Suite("NN parity with PyTorch")
struct ParityTests {
    // MARK: 1. conv2d

    @Test(arguments: ConvParityCase.all)
    func conv2dForwardAndGradients(_ c: ConvParityCase) throws {
        let p = "conv.\(c.name)."
        #expect(try Parity.integers(p + "config") == c.config, "the fixture's configuration differs from the test's")
        let (xT, wT, dy) = (try Parity.tensor(p + "x"), try Parity.tensor(p + "w"), try Parity.tensor(p + "dy"))

        // The free function, differentiated with gradients(withRespectTo:).
        let x = Variable(xT, requiresGradient: true), w = Variable(wT, requiresGradient: true)
        let b = c.bias ? try Parity.leaf(p + "b") : nil
        let y = conv2d(x, filter: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
        try Parity.expectClose(y.value, p + "y")
        let grads = y.gradients(withRespectTo: [x, w] + (b.map { [$0] } ?? []), seed: dy)
        try Parity.expectClose(grads[0].value, p + "dx")
        try Parity.expectClose(grads[1].value, p + "dw")
        if c.bias { try Parity.expectClose(grads[2].value, p + "db") }

        // The layer, differentiated with backward(seed:) into its parameters.
        var random = SplitMix64(seed: 1)
        let layer = Conv2d(xT.shape[1], wT.shape[0], kernelSize: Pair(wT.shape[2], wT.shape[3]), stride: c.stride, padding: c.padding,
                           dilation: c.dilation, groups: c.groups, bias: c.bias, using: &random)
        layer.weight.value = wT
        if c.bias { layer.bias!.value = try Parity.tensor(p + "b") }
        let input = Variable(xT, requiresGradient: true)
        var context = ForwardContext.training()
        let output = layer(input, &context)
        try Parity.expectClose(output.value, p + "y")
        output.backward(seed: dy)
        try Parity.expectClose(input.grad, p + "dx")
        try Parity.expectClose(layer.weight.grad, p + "dw")
        if c.bias { try Parity.expectClose(layer.bias!.grad, p + "db") } else { #expect(layer.bias == nil) }
    }

    // MARK: 2. BatchNorm2d

    @Test func batchNorm2dTrainingStepsRunningStatisticsAndEvaluation() throws {
        let bn = BatchNorm2d(3)
        bn.weight!.value = try Parity.tensor("bn.weight")
        bn.bias!.value = try Parity.tensor("bn.bias")
        for step in 1...3 {
            let p = "bn.step\(step)."
            bn.zeroGradients()
            let x = try Parity.leaf(p + "x")
            var context = ForwardContext.training()
            let y = bn(x, &context)
            try Parity.expectClose(y.value, p + "y")
            y.backward(seed: try Parity.tensor(p + "dy"))
            try Parity.expectClose(x.grad, p + "dx")
            try Parity.expectClose(bn.weight!.grad, p + "dweight")
            try Parity.expectClose(bn.bias!.grad, p + "dbias")
        }
        try Parity.expectClose(bn.runningMean.value, "bn.running_mean")
        try Parity.expectClose(bn.runningVariance.value, "bn.running_var")
        #expect(bn.batchesTracked.value.shape == [])
        #expect(bn.batchesTracked.value.scalars == (try Parity.integers("bn.num_batches_tracked")).map(Float.init))

        bn.zeroGradients()
        let x = try Parity.leaf("bn.eval.x")
        var context = ForwardContext.evaluation
        let y = bn(x, &context)
        try Parity.expectClose(y.value, "bn.eval.y")
        y.backward(seed: try Parity.tensor("bn.eval.dy"))
        try Parity.expectClose(x.grad, "bn.eval.dx")
        try Parity.expectClose(bn.weight!.grad, "bn.eval.dweight")
        try Parity.expectClose(bn.bias!.grad, "bn.eval.dbias")
        #expect(bn.batchesTracked.value.scalars == [3], "evaluation must not count a batch")
    }

    // MARK: 3. CReLU

    @Test func creluForwardAndGradient() throws {
        let x = try Parity.leaf("crelu.x")
        var context = ForwardContext.training()
        let y = CReLU()(x, &context)
        try Parity.expectClose(y.value, "crelu.y")
        y.backward(seed: try Parity.tensor("crelu.dy"))
        try Parity.expectClose(x.grad, "crelu.dx")
    }

    // MARK: 4. Option-A shortcut

    @Test(arguments: ["even", "odd"])
    func optionAShortcutForwardAndGradient(_ name: String) throws {
        let p = "shortcutA.\(name)."
        let x = try Parity.leaf(p + "x")
        var context = ForwardContext.training()
        let y = ZeroPadShortcut(inputs: 16, outputs: 32, stride: 2)(x, &context)
        try Parity.expectClose(y.value, p + "y")
        y.backward(seed: try Parity.tensor(p + "dy"))
        try Parity.expectClose(x.grad, p + "dx")
    }

    // MARK: 5. Pooling

    @Test(arguments: PoolParityCase.allCases)
    func poolingForwardAndGradient(_ pool: PoolParityCase) throws {
        let p = "pool.\(pool.rawValue)."
        let x = try Parity.leaf(p + "x")
        let y = pool.apply(x)
        try Parity.expectClose(y.value, p + "y")
        let dx = y.gradients(withRespectTo: [x], seed: try Parity.tensor(p + "dy"))[0]
        try Parity.expectClose(dx.value, p + "dx")
    }

    // MARK: 6. Cross-entropy

    @Test(arguments: CrossEntropyParityCase.allCases)
    func crossEntropyLossAndLogitGradient(_ c: CrossEntropyParityCase) throws {
        let p = "ce.\(c.rawValue)."
        let logits = try Parity.leaf("ce.logits")
        let labels = try Parity.integers("ce.labels")
        let loss = crossEntropy(logits: logits, labels: labels, reduction: c.reduction, labelSmoothing: c.labelSmoothing)
        try Parity.expectClose(loss.value, p + "loss")
        loss.backward(seed: try Parity.tensor(p + "seed"))
        try Parity.expectClose(logits.grad, p + "dlogits")
    }

    // MARK: 7. Tape primitives

    @Test(arguments: ["log_softmax_last", "log_softmax_mid", "sigmoid", "tanh", "variance_axes", "variance_all"])
    func unaryPrimitive(_ name: String) throws {
        let p = "prim.\(name)."
        let x = try Parity.leaf(p + "x")
        let y = switch name {
        case "log_softmax_last", "log_softmax_mid": x.logSoftmax(alongAxis: 1)
        case "sigmoid": x.sigmoid()
        case "tanh": x.tanh()
        case "variance_axes": x.variance(alongAxes: [0, 2], correction: 1)
        default: x.variance(correction: 1)
        }
        try Parity.expectClose(y.value, p + "y")
        let dx = y.gradients(withRespectTo: [x], seed: try Parity.tensor(p + "dy"))[0]
        try Parity.expectClose(dx.value, p + "dx")
    }

    @Test func batchedBroadcastingMatmul() throws {
        let a = try Parity.leaf("prim.matmul.a"), b = try Parity.leaf("prim.matmul.b")
        let y = matmul(a, b)
        try Parity.expectClose(y.value, "prim.matmul.y")
        let grads = y.gradients(withRespectTo: [a, b], seed: try Parity.tensor("prim.matmul.dy"))
        try Parity.expectClose(grads[0].value, "prim.matmul.da")
        try Parity.expectClose(grads[1].value, "prim.matmul.db")
    }

    // MARK: Bookkeeping and sensitivity

    /// Every case in the fixture is exercised here (a case added to the script but not to the
    /// tests fails), and the cotangents are not all ones.
    @Test func everyFixtureCaseIsTested() throws {
        #expect(try Parity.caseNames("conv") == Set(ConvParityCase.all.map(\.name)))
        #expect(try Parity.caseNames("pool") == Set(PoolParityCase.allCases.map(\.rawValue)))
        #expect(try Parity.caseNames("ce") == Set(CrossEntropyParityCase.allCases.map(\.rawValue)))
        #expect(try Parity.caseNames("shortcutA") == ["even", "odd"])
        #expect(try Parity.caseNames("prim") == ["log_softmax_last", "log_softmax_mid", "sigmoid", "tanh", "variance_axes", "variance_all", "matmul"])
        for name in try Parity.file().names where name.hasSuffix(".dy") || name.hasSuffix(".seed") {
            #expect(try Parity.tensor(name).scalars.contains { $0 != 1 }, "\(name) is all ones")
        }
    }

    /// The comparison is sharp enough to reject plausible wrong formulas: each variant below
    /// must miss the PyTorch value by far more than the tolerance.
    @Test func wrongFormulasAreRejected() throws {
        func expectRejected(_ actual: Tensor, _ name: String, _ what: String) throws {
            let error = Parity.relativeError(actual, try Parity.tensor(name))
            if Parity.verbose { print("parity (wrong formula: \(what)) \(name): relative error \(error)") }
            #expect(error > 10 * Parity.tolerance, "\(what) passes for \(name) (relative error \(error))")
        }

        // conv2d input gradient from an all-ones cotangent instead of the stored one.
        let x = try Parity.leaf("conv.s2p1.x"), w = try Parity.leaf("conv.s2p1.w")
        let y = conv2d(x, filter: w, bias: nil, stride: 2, padding: 1)
        try expectRejected(y.gradients(withRespectTo: [x], seed: Tensor.ones(y.shape))[0].value, "conv.s2p1.dx", "all-ones cotangent")
        // A kernel rotated by 180°: true convolution instead of cross-correlation.
        let filter = try Parity.tensor("conv.s1p0.w")
        let plane = filter.shape[2] * filter.shape[3]
        let rotated = Tensor(shape: filter.shape, scalars: filter.scalars.chunks(of: plane).flatMap { $0.reversed() })
        let conv = conv2d(Variable(try Parity.tensor("conv.s1p0.x")), filter: Variable(rotated), bias: Variable(try Parity.tensor("conv.s1p0.b")))
        try expectRejected(conv.value, "conv.s1p0.y", "rotated kernel")

        // BatchNorm running variance from the biased batch variance (n instead of n − 1).
        var runningVariance = Tensor.ones([3])
        for step in 1...3 {
            let batch = Variable(try Parity.tensor("bn.step\(step).x"))
            runningVariance = runningVariance * 0.9 + batch.variance(alongAxes: [0, 2, 3], correction: 0).value * 0.1
        }
        try expectRejected(runningVariance, "bn.running_var", "biased running variance")

        // avg_pool2d with count_include_pad=False where PyTorch's default (True) is expected.
        let pooled = avgPool2d(Variable(try Parity.tensor("pool.avg_k3s2p1.x")), kernel: 3, stride: 2, padding: 1, countIncludingPadding: false)
        try expectRejected(pooled.value, "pool.avg_k3s2p1.y", "count_include_pad=False")

        // Option A with all zero channels appended instead of split half before, half after.
        var context = ForwardContext.evaluation
        let appended = ZeroPadShortcut(inputs: 16, outputs: 32, stride: 2, placement: .append)(Variable(try Parity.tensor("shortcutA.even.x")), &context)
        try expectRejected(appended.value, "shortcutA.even.y", "appended zero channels")

        // Cross-entropy without label smoothing where ε = 0.1 is expected.
        let loss = crossEntropy(logits: Variable(try Parity.tensor("ce.logits")), labels: try Parity.integers("ce.labels"))
        try expectRejected(loss.value, "ce.mean_ls.loss", "no label smoothing")

        // Biased variance where torch.var's default (unbiased) is expected.
        try expectRejected(Variable(try Parity.tensor("prim.variance_axes.x")).variance(alongAxes: [0, 2]).value,
                           "prim.variance_axes.y", "biased variance")
    }
}

private extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
