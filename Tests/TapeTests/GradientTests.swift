import CKernels
import Testing
@testable import Tape

/// One differentiable function and a point to check it at.
struct GradientCase: CustomTestStringConvertible, Sendable {
    let name: String
    let inputs: @Sendable (inout SplitMix64) -> [Tensor]
    let function: @Sendable ([Variable]) -> Variable
    var testDescription: String { name }
}

/// Inputs bounded away from 0, so ReLU, abs and sign kinks are never within a step.
func awayFromKinks(_ shape: [Int], _ random: inout SplitMix64) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.elementCount(shape)).map { _ in
        (0.2 + 1.3 * random.nextUniform()) * (random.nextUniform() < 0.5 ? -1 : 1)
    })
}

func positive(_ shape: [Int], _ random: inout SplitMix64) -> Tensor {
    Tensor.randomUniform(shape, lower: 0.5, upper: 2, using: &random)
}

/// Distinct values at least 0.1 apart (no ties within a finite-difference step), shuffled.
func distinct(_ shape: [Int], _ random: inout SplitMix64) -> Tensor {
    var values = (0..<Tensor.elementCount(shape)).map { Float($0) * 0.1 - 1 }
    values.shuffle(using: &random)
    return Tensor(shape: shape, scalars: values)
}

func normal(_ shape: [Int], _ random: inout SplitMix64) -> Tensor { Tensor.randomNormal(shape, using: &random) }

/// x, γ, β (and r) for relu(γ·x̂ + β + r) with no z near ReLU's kink: x, γ (away from 0) and r are
/// normal draws, and each channel's β sits in the middle of the widest gap between the channel's
/// values of γ·x̂ + r, so some z are positive, some negative, and none within `minimumDistance`
/// of 0. With `transposed`, the op sees x and r transposed (the returned tensors are not).
func batchNormReLUInputs(_ shape: [Int], residual: Bool, transposed: Bool = false, _ random: inout SplitMix64,
                         minimumDistance: Float = 0.04) -> [Tensor] {
    let x = normal(shape, &random)
    let view = transposed ? x.transposed() : x
    let channels = view.shape[1], length = view.shape.dropFirst(2).reduce(1, *)
    let gamma = awayFromKinks([channels], &random)
    let r = residual ? normal(shape, &random) : nil
    var values = batchNormalized(Variable(view), weight: Variable(gamma), bias: Variable(Tensor.zeros([channels])), epsilon: 1e-5).output.value
    if let r { values = values + (transposed ? r.transposed() : r) }
    let scalars = values.scalars
    let beta = (0..<channels).map { c -> Float in
        var channel: [Float] = []
        for n in 0..<view.shape[0] {
            let start: Int = (n * channels + c) * length
            channel += scalars[start..<(start + length)]
        }
        channel.sort()
        let gaps: [Float] = (1..<channel.count).map { channel[$0] - channel[$0 - 1] }
        let widest = gaps.indices.max { gaps[$0] < gaps[$1] }!
        precondition(gaps[widest] >= 2 * minimumDistance, "batchNormReLUInputs: channel \(c) has no gap to put the kink in")
        return -(channel[widest] + channel[widest + 1]) / 2
    }
    return [x, gamma, Tensor(beta)] + (r.map { [$0] } ?? [])
}

let firstOrderCases: [GradientCase] = [
    .init(name: "add broadcast", inputs: { [normal([2, 3, 4], &$0), normal([3, 1], &$0)] }, function: { $0[0] + $0[1] }),
    .init(name: "sub broadcast", inputs: { [normal([4], &$0), normal([2, 3, 4], &$0)] }, function: { $0[0] - $0[1] }),
    .init(name: "mul broadcast", inputs: { [normal([2, 3, 4], &$0), normal([2, 1, 4], &$0)] }, function: { $0[0] * $0[1] }),
    .init(name: "mul strided", inputs: { [normal([4, 3], &$0), normal([3, 4], &$0)] }, function: { $0[0].transposed() * $0[1] }),
    .init(name: "div broadcast", inputs: { [normal([3, 4], &$0), positive([4], &$0)] }, function: { $0[0] / $0[1] }),
    .init(name: "div strided", inputs: { [normal([4, 6], &$0), positive([6, 4], &$0)] }, function: { $0[0][.all, .every(2)] / $0[1].transposed()[.all, .every(2)] }),
    .init(name: "neg", inputs: { [normal([5], &$0)] }, function: { -$0[0] }),
    .init(name: "scalar scale and shift", inputs: { [normal([2, 3], &$0)] }, function: { 1.5 - ($0[0] * -0.75 + 2) / 4 }),
    .init(name: "exp", inputs: { [normal([3, 4], &$0)] }, function: { $0[0].exp() }),
    .init(name: "exp strided", inputs: { [normal([4, 5], &$0)] }, function: { $0[0].transposed()[.every(2)].exp() }),
    .init(name: "log", inputs: { [positive([3, 4], &$0)] }, function: { $0[0].log() }),
    .init(name: "sqrt", inputs: { [positive([3, 4], &$0)] }, function: { $0[0].squareRoot() }),
    .init(name: "pow 3", inputs: { [normal([6], &$0)] }, function: { $0[0].pow(3) }),
    .init(name: "pow -0.5", inputs: { [positive([6], &$0)] }, function: { $0[0].pow(-0.5) }),
    .init(name: "relu", inputs: { [awayFromKinks([4, 5], &$0)] }, function: { $0[0].relu() }),
    .init(name: "relu strided", inputs: { [awayFromKinks([4, 6], &$0)] }, function: { $0[0].transposed()[.every(3)].relu() }),
    .init(name: "sigmoid", inputs: { [normal([3, 4], &$0) * 3] }, function: { $0[0].sigmoid() }),
    .init(name: "tanh", inputs: { [normal([3, 4], &$0)] }, function: { $0[0].tanh() }),
    .init(name: "abs", inputs: { [awayFromKinks([7], &$0)] }, function: { $0[0].abs() }),
    .init(name: "maximum broadcast", inputs: { let x = distinct([3, 4], &$0); return [x[.all, .range(0..<2)].contiguous(), x[.all, .range(2..<4)].contiguous()[.index(0)]] },
          function: { maximum($0[0], $0[1]) }),
    .init(name: "minimum", inputs: { let x = distinct([2, 6], &$0); return [x[.index(0)], x[.index(1)]] }, function: { minimum($0[0], $0[1]) }),
    .init(name: "where", inputs: { [normal([3, 4], &$0), normal([4], &$0)] },
          function: { select(Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 % 3 == 0 ? 1 : 0) }), $0[0], $0[1]) }),
    .init(name: "sum axes", inputs: { [normal([2, 3, 4], &$0)] }, function: { $0[0].sum(alongAxes: [0, 2]) }),
    .init(name: "sum keepdims strided", inputs: { [normal([4, 3, 2], &$0)] }, function: { $0[0].transposed(permutation: [2, 0, 1]).sum(alongAxes: [1], keepingDimensions: true) }),
    .init(name: "sum all", inputs: { [normal([3, 5], &$0)] }, function: { $0[0].sum() }),
    .init(name: "max axes", inputs: { [distinct([3, 4, 2], &$0)] }, function: { $0[0].max(alongAxes: [1]) }),
    .init(name: "mean", inputs: { [normal([3, 4], &$0)] }, function: { $0[0].mean(alongAxes: [0], keepingDimensions: true) }),
    .init(name: "variance unbiased", inputs: { [normal([4, 5], &$0)] }, function: { $0[0].variance(alongAxes: [1], correction: 1) }),
    .init(name: "logSoftmax", inputs: { [normal([3, 5], &$0) * 2] }, function: { $0[0].logSoftmax(alongAxis: 1) }),
    .init(name: "logSoftmax axis 0 strided", inputs: { [normal([5, 3], &$0)] }, function: { $0[0].transposed().logSoftmax(alongAxis: 0) }),
    .init(name: "matmul", inputs: { [normal([3, 4], &$0), normal([4, 5], &$0)] }, function: { matmul($0[0], $0[1]) }),
    .init(name: "matmul batched broadcast", inputs: { [normal([2, 1, 3, 4], &$0), normal([3, 4, 2], &$0)] }, function: { matmul($0[0], $0[1]) }),
    .init(name: "matmul transposed views", inputs: { [normal([4, 3], &$0), normal([5, 4], &$0)] }, function: { matmul($0[0].transposed(), $0[1].transposed()) }),
    .init(name: "matmul vectors", inputs: { [normal([4], &$0), normal([4, 3], &$0), normal([3], &$0)] }, function: { matmul(matmul($0[0], $0[1]), $0[2]) }),
    .init(name: "conv2d stride 1 pad 1 bias", inputs: { [normal([2, 3, 5, 6], &$0), normal([4, 3, 3, 3], &$0), normal([4], &$0)] },
          function: { conv2d($0[0], filter: $0[1], bias: $0[2], padding: 1) }),
    .init(name: "conv2d stride 2 pad 0", inputs: { [normal([1, 2, 7, 6], &$0), normal([3, 2, 3, 2], &$0)] },
          function: { conv2d($0[0], filter: $0[1], stride: 2) }),
    .init(name: "conv2d 1×1 groups 2 (no im2col)", inputs: { [normal([2, 4, 3, 5], &$0), normal([6, 2, 1, 1], &$0)] },
          function: { conv2d($0[0], filter: $0[1], groups: 2) }),
    .init(name: "conv2d dilation 2 groups 2 strided input", inputs: { [normal([2, 7, 8, 4], &$0), normal([4, 2, 2, 2], &$0)] },
          function: { conv2d($0[0].transposed(permutation: [0, 3, 1, 2]), filter: $0[1], padding: [1, 0], dilation: 2, groups: 2) }),
    .init(name: "avgPool2d", inputs: { [normal([2, 2, 5, 6], &$0)] }, function: { avgPool2d($0[0], kernel: 2) }),
    .init(name: "avgPool2d pad stride", inputs: { [normal([1, 2, 5, 5], &$0)] }, function: { avgPool2d($0[0], kernel: 3, stride: 2, padding: 1) }),
    .init(name: "maxPool2d", inputs: { [distinct([2, 2, 4, 6], &$0)] }, function: { maxPool2d($0[0], kernel: 2) }),
    .init(name: "maxPool2d pad overlap", inputs: { [distinct([1, 2, 5, 5], &$0)] }, function: { maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }),
    .init(name: "globalAvgPool2d", inputs: { [normal([2, 3, 4, 4], &$0)] }, function: { globalAvgPool2d($0[0]) }),
    .init(name: "batchNorm", inputs: { [normal([4, 3, 2, 3], &$0) * 2 + 1, normal([3], &$0), normal([3], &$0)] },
          function: { batchNormalized($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output }),
    .init(name: "batchNorm rank 2 strided", inputs: { [normal([3, 6], &$0), normal([3], &$0), normal([3], &$0)] },
          function: { batchNormalized($0[0].transposed(), weight: $0[1], bias: $0[2], epsilon: 1e-3).output }),
    .init(name: "batchNormReLU", inputs: { batchNormReLUInputs([4, 3, 2, 3], residual: false, &$0) },
          function: { batchNormalizedReLU($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output }),
    .init(name: "batchNormReLU residual", inputs: { batchNormReLUInputs([4, 3, 2, 3], residual: true, &$0) },
          function: { batchNormalizedReLU($0[0], weight: $0[1], bias: $0[2], adding: $0[3], epsilon: 1e-5).output }),
    .init(name: "batchNormReLU rank 2 strided residual", inputs: { batchNormReLUInputs([3, 8], residual: true, transposed: true, &$0) },
          function: { batchNormalizedReLU($0[0].transposed(), weight: $0[1], bias: $0[2], adding: $0[3].transposed(), epsilon: 1e-5).output }),
    .init(name: "reshape transpose", inputs: { [normal([2, 3, 4], &$0)] }, function: { $0[0].reshaped(to: [6, 4]).transposed().reshaped(to: [-1, 3]) }),
    .init(name: "slice with steps", inputs: { [normal([3, 5, 6], &$0)] }, function: { $0[0][.index(-1), .range(start: 1, end: nil, step: 2), .every(3)] }),
    .init(name: "pad", inputs: { [normal([2, 3], &$0)] }, function: { $0[0].padded([(1, 2), (0, 1)]) }),
    .init(name: "concat split stack", inputs: { [normal([2, 3], &$0), normal([2, 2], &$0)] },
          function: { let joined = concatenated([$0[0], $0[1]], axis: 1)
                      let parts = joined.split(sizes: [1, 4], axis: 1)
                      return stacked([parts[1] * parts[0], joined[.all, .range(1..<5)]], axis: 0) }),
    .init(name: "broadcast", inputs: { [normal([3, 1], &$0)] }, function: { $0[0].broadcasted(to: [2, 3, 4]) }),
    .init(name: "gather scatter", inputs: { [normal([2, 3], &$0)] }, function: { $0[0].gathered(flatIndices: [5, 0, 0, 3], shape: [2, 2]).scatterAdded(flatIndices: [1, 1, 0, 2], shape: [3]) }),
]

@Suite("First derivatives of every primitive match central differences")
struct FirstDerivativeTests {
    @Test(arguments: firstOrderCases)
    func gradient(_ testCase: GradientCase) {
        var random = SplitMix64(seed: 11)
        let inputs = testCase.inputs(&random)
        let report = checkGradient(of: testCase.function, at: inputs)
        #expect(report.passed, "\(testCase.name): \(report)")
    }
}

/// The same values as `x`, as a non-contiguous view: x stacked with itself on a new last axis,
/// then the first copy taken (so the innermost stride is 2).
func stridedView(_ x: Variable) -> Variable {
    stacked([x, x * 2], axis: -1)[Array(repeating: AxisSlice.all, count: x.rank) + [.index(0)]]
}

extension Variable {
    subscript(_ slices: [AxisSlice]) -> Variable { sliced(slices) }
}

@Suite("First derivatives of every primitive on strided (non-contiguous) inputs")
struct StridedFirstDerivativeTests {
    @Test(arguments: firstOrderCases)
    func gradientOnStridedInputs(_ testCase: GradientCase) {
        var random = SplitMix64(seed: 13)
        let inputs = testCase.inputs(&random)
        #expect(withoutGradient { stridedView(Variable(inputs[0])) }.value.isContiguous == false)
        let report = checkGradient(of: { testCase.function($0.map(stridedView)) }, at: inputs)
        #expect(report.passed, "\(testCase.name): \(report)")
    }
}

@Suite("Second derivatives (double backward) match central differences of the gradient")
struct SecondDerivativeTests {
    @Test(arguments: firstOrderCases)
    func secondGradient(_ testCase: GradientCase) {
        var random = SplitMix64(seed: 12)
        let inputs = testCase.inputs(&random)
        // Linear ops (and √x squared) have a zero second derivative; cubing the output keeps the
        // Hessian nonzero while still exercising the op's double pullback.
        let report = checkSecondGradient(of: { let y = testCase.function($0); return y * y * y }, at: inputs)
        #expect(report.passed, "\(testCase.name): \(report)")
    }
}

@Suite("Recording pullbacks (createGraph) give the same first derivatives")
struct RecordedFirstDerivativeTests {
    /// The second-derivative check differentiates the recorded gradient against finite
    /// differences of that same gradient, so a recording pullback that is wrong to first order
    /// (a primitive's differentiable twin, as batch normalisation's) would pass it: compare here.
    @Test(arguments: firstOrderCases)
    func recordedGradient(_ testCase: GradientCase) {
        var random = SplitMix64(seed: 14)
        let inputs = testCase.inputs(&random)
        func gradients(createGraph: Bool) -> [Tensor] {
            let variables = inputs.map { Variable($0, requiresGradient: true) }
            let y = testCase.function(variables)
            let seed = Tensor.randomNormal(y.shape, using: &random)
            return y.gradients(withRespectTo: variables, seed: seed, createGraph: createGraph).map(\.value)
        }
        let state = random
        let plain = gradients(createGraph: false)
        random = state
        let recorded = gradients(createGraph: true)
        for (index, (a, b)) in zip(recorded, plain).enumerated() {
            let scale = b.scalars.map(abs).max() ?? 0
            let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-5 * Swift.max(scale, 1e-3), "\(testCase.name): input \(index) differs by \(difference) (scale \(scale))")
        }
    }
}

@Suite("Forward values against independent references")
struct ForwardReferenceTests {
    @Test(arguments: [((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 2), (1, 1), (2, 1), 2), ((2, 2), (0, 1), (1, 2), 3)])
    func conv2dForward(stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int) {
        var random = SplitMix64(seed: 5)
        let x = Tensor.randomNormal([2, 6, 7, 8], using: &random)
        let w = Tensor.randomNormal([6, 6 / groups, 3, 2], using: &random)
        let y = conv2d(x, filter: w, geometry: Convolution2D(stride: stride, padding: padding, dilation: dilation, groups: groups))
        let expected = Reference.conv2d(x, w, stride: stride, padding: padding, dilation: dilation, groups: groups)
        #expect(y.count == expected.count)
        let error = zip(y.scalars, expected).map { Swift.abs(Double($0) - $1) }.max() ?? 0
        #expect(error < 1e-4)
    }

    /// 1×1 convolutions without padding: at stride 1 im2col is skipped (the GEMMs read and write
    /// the images in place), at strides 2 and 3 (projection shortcuts; 5×7 images, so the last
    /// row or column is read by no output) im2col only subsamples and ∂x is written by one scatter.
    /// Values and both adjoints against the Double references, one and two groups.
    @Test(arguments: [(1, 1), (2, 1), (1, 2), (2, 2), (1, 3)])
    func pointwise(groups: Int, stride: Int) {
        var random = SplitMix64(seed: UInt64(40 + groups + 10 * stride))
        let (ho, wo) = ((5 - 1) / stride + 1, (7 - 1) / stride + 1)
        let x = Tensor.randomNormal([3, 6, 5, 7], using: &random)
        let w = Tensor.randomNormal([4, 6 / groups, 1, 1], using: &random)
        let dy = Tensor.randomNormal([3, 4, ho, wo], using: &random)
        let geometry = Convolution2D(stride: (stride, stride), padding: (0, 0), dilation: (1, 1), groups: groups)
        let y = conv2d(x, filter: w, geometry: geometry)
        let expected = Reference.conv2d(x, w, stride: (stride, stride), padding: (0, 0), dilation: (1, 1), groups: groups)
        #expect(y.shape == [3, 4, ho, wo])
        #expect(zip(y.scalars, expected).map { Swift.abs(Double($0) - $1) }.max()! < 1e-5)
        expectBiasAddedInKernel(x, filter: w, geometry: geometry, unbiased: y, using: &random)
        guard groups == 1 else { return }   // the adjoint reference has one group
        let adjoints = Reference.conv2dAdjoints(x, w, dy, stride: (stride, stride), padding: (0, 0))
        let dx = conv2dBackwardInput(dy, filter: w, inputShape: x.shape, geometry: geometry)
        let dw = conv2dBackwardFilter(x, outputGradient: dy, filterShape: w.shape, geometry: geometry)
        #expect(zip(dx.scalars, adjoints.input).map { Swift.abs(Double($0) - $1) }.max()! < 1e-5)
        #expect(zip(dw.scalars, adjoints.filter).map { Swift.abs(Double($0) - $1) }.max()! < 1e-4)
    }

    /// The direct 3×3 path (stride 1, padding 1) on sizes that are not multiples of its 4-channel ×
    /// 24-pixel tile or 8-pixel vectors: one pixel, one row or column, batch 1, odd channel counts,
    /// and batches of 20, 67 and 40 (more than the 16 image ranges of the filter gradient, whose
    /// small images go side by side through one kernel call: 2 of 5×8 and 5 of 3×7 make one group
    /// per range; 24×20 images go one per call, several groups per range); with the AVX2 kernels
    /// and with the portable C fallback.
    @Test(arguments: [[1, 1, 1, 1, 1], [2, 3, 5, 4, 6], [1, 4, 6, 2, 30], [3, 7, 9, 5, 13], [2, 2, 3, 11, 3],
                      [1, 5, 1, 1, 9], [2, 16, 16, 28, 28], [20, 3, 4, 5, 8], [67, 2, 5, 3, 7], [40, 2, 3, 24, 20]],
          [false, true])
    func direct3x3(shape: [Int], portable: Bool) {
        checkDirect3x3(shape: shape, stride: 1, portable: portable)
    }

    /// The direct 3×3 path at stride 2 (padding 1, even sides: the four phases of each image):
    /// 2×2 images (a 1×1 output), tall and wide ones, odd channel counts, a 32×32 image with a
    /// full 24-pixel tile per phase row, and batches of 67 (one filter-gradient group per image
    /// range) and 36 (40×40 images: groups of 2, the last one short).
    @Test(arguments: [[1, 1, 1, 2, 2], [2, 3, 5, 4, 6], [1, 4, 6, 2, 30], [3, 7, 9, 10, 4], [2, 16, 8, 32, 32],
                      [67, 2, 5, 6, 8], [36, 2, 3, 40, 40]], [false, true])
    func direct3x3Stride2(shape: [Int], portable: Bool) {
        checkDirect3x3(shape: shape, stride: 2, portable: portable)
    }

    /// The bias the kernel adds to each tile (or image) gives the floats of a separate broadcast add,
    /// in every output channel and pixel (partial tiles included).
    func expectBiasAddedInKernel(_ x: Tensor, filter: Tensor, geometry: Convolution2D, unbiased: Tensor,
                                 using random: inout SplitMix64) {
        let bias = Tensor.randomNormal([filter.shape[0]], using: &random)
        let biased = conv2d(x, filter: filter, bias: bias, geometry: geometry)
        #expect(biased.scalars == (unbiased + bias.reshaped(to: [1, filter.shape[0], 1, 1])).scalars, "bias")
    }

    func checkDirect3x3(shape: [Int], stride: Int, portable: Bool) {
        ck_conv2d_use_portable_kernels_on_this_thread(portable ? 1 : 0)
        defer { ck_conv2d_use_portable_kernels_on_this_thread(0) }
        let (n, c, o, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        let (ho, wo) = ((h - 1) / stride + 1, (w - 1) / stride + 1)
        var random = SplitMix64(seed: UInt64(n * 1000 + c * 100 + o))
        // A transposed view as input: the kernels read a contiguous copy.
        let x = Tensor.randomNormal([n, c, w, h], using: &random).transposed(permutation: [0, 1, 3, 2])
        let filter = Tensor.randomNormal([o, c, 3, 3], using: &random)
        let dy = Tensor.randomNormal([n, o, ho, wo], using: &random)
        let geometry = Convolution2D(stride: (stride, stride), padding: (1, 1), dilation: (1, 1), groups: 1)
        let y = conv2d(x, filter: filter, geometry: geometry)
        let expected = Reference.conv2d(x, filter, stride: (stride, stride), padding: (1, 1), dilation: (1, 1), groups: 1)
        let adjoints = Reference.conv2dAdjoints(x, filter, dy, stride: (stride, stride), padding: (1, 1))
        let dx = conv2dBackwardInput(dy, filter: filter, inputShape: x.shape, geometry: geometry)
        let dw = conv2dBackwardFilter(x, outputGradient: dy, filterShape: filter.shape, geometry: geometry)
        func worst(_ actual: [Float], _ reference: [Double]) -> Double {
            zip(actual, reference).map { Swift.abs(Double($0) - $1) / (1 + Swift.abs($1)) }.max() ?? 0
        }
        #expect(y.shape == [n, o, ho, wo] && dx.shape == x.shape && dw.shape == filter.shape)
        #expect(worst(y.scalars, expected) < 1e-5, "forward")
        expectBiasAddedInKernel(x, filter: filter, geometry: geometry, unbiased: y, using: &random)
        #expect(worst(dx.scalars, adjoints.input) < 1e-5, "backward input")
        #expect(worst(dw.scalars, adjoints.filter) < 1e-5 * Double(n * h * w).squareRoot(), "backward filter")
    }

    @Test func pools() {
        var random = SplitMix64(seed: 6)
        let x = Tensor.randomNormal([2, 3, 7, 6], using: &random)
        for (kernel, stride, padding) in [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 1), (1, 1)), ((3, 2), (1, 2), (1, 0))] {
            let geometry = Pooling2D(kernel: kernel, stride: stride, padding: padding)
            let average = avgPool2d(x, geometry: geometry)
            let maximum = x.gathered(flatIndices: maxPool2dIndices(x, geometry: geometry), shape: geometry.outputShape(input: x.shape))
            let expectedAverage = Reference.pool2d(x, kernel: kernel, stride: stride, padding: padding, max: false)
            let expectedMaximum = Reference.pool2d(x, kernel: kernel, stride: stride, padding: padding, max: true)
            #expect(zip(average.scalars, expectedAverage).allSatisfy { Swift.abs(Double($0) - $1) < 1e-5 })
            #expect(zip(maximum.scalars, expectedMaximum).allSatisfy { Double($0) == $1 })
        }
    }

    @Test func exactTinyCases() {
        let x = Variable(Tensor([5, -5, 0]), requiresGradient: true)
        x.relu().sum().backward()
        #expect(x.grad?.scalars == [1, 0, 0])
        let y = Variable(Tensor([1, 3, 3]), requiresGradient: true)
        y.max().backward()
        #expect(y.grad?.scalars == [0, 0.5, 0.5])
        let a = Variable(Tensor([2, 2]), requiresGradient: true), b = Variable(Tensor([1, 2]), requiresGradient: true)
        maximum(a, b).sum().backward()
        #expect(a.grad?.scalars == [1, 0.5] && b.grad?.scalars == [0, 0.5])
    }
}
