import Datasets
import Experiments
import Foundation
import Models
import NN
import Tape
import Testing

@Suite("looks-linear")
struct LooksLinearTests {
    typealias E = LooksLinear

    /// Two seeds of `net` at `depth` with test accuracy `accuracy` (nil: both diverged) at learning rate `rate`.
    func runs(_ net: E.Net, depth: Int, accuracy: Double?, rate: Float = 0.01) -> [E.Run] {
        [0, 1].map { seed in
            E.Run(net: net, depth: depth, learningRate: rate, seed: UInt64(seed), diverged: accuracy == nil,
                  trainLoss: accuracy == nil ? .nan : 0.1, trainAccuracy: accuracy ?? .nan, testAccuracy: accuracy ?? .nan)
        }
    }

    /// Depths 5 and 100; the linear model at 90%, the ResNet at 97% at both depths; the others as given.
    func results(looksLinear: (Double?, Double?), creluRandom: (Double?, Double?), reluKaiming: (Double?, Double?),
                 resNet: (Double?, Double?) = (0.97, 0.97)) -> E.Results {
        var all = runs(.linear, depth: 0, accuracy: 0.90)
        for (net, pair) in [(E.Net.looksLinear, looksLinear), (.creluRandom, creluRandom), (.reluKaiming, reluKaiming), (.resNet, resNet)] {
            all += runs(net, depth: 5, accuracy: pair.0) + runs(net, depth: 100, accuracy: pair.1)
        }
        return E.Results(depths: [5, 100], learningRates: [0.01], runs: all)
    }

    @Test func verdicts() {
        // Looks-Linear at 96% (error 4% ≤ 0.75 × 10%, gain 6/7 ≈ 0.86) at both depths; both controls collapse at 100 layers.
        let agree = results(looksLinear: (0.96, 0.96), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.50))
        #expect(E.verdict(agree).verdict == .agree)
        // The ReLU control still trains at 100 layers (gain 0.93): only the side claim fails.
        let partly = results(looksLinear: (0.96, 0.96), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.965))
        #expect(E.verdict(partly).verdict == .partly)
        // Looks-Linear falls to 91% at 100 layers: error 9% > 7.5%, gain 1/7.
        let degrades = results(looksLinear: (0.96, 0.91), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.50))
        #expect(E.verdict(degrades).verdict == .disagree)
        // Clearly above the linear model (error 7%) but far from the ResNet (gain 3/7 ≈ 0.43).
        let farFromResNet = results(looksLinear: (0.93, 0.93), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.50))
        #expect(E.verdict(farFromResNet).verdict == .disagree)
        #expect(E.verdict(farFromResNet).findings.map(\.holds) == [true, false, true])
        // The 100-layer ResNet falls below the linear model (86%): the Looks-Linear net at 96% is at least as good.
        let resNetFails = results(looksLinear: (0.96, 0.96), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.50), resNet: (0.97, 0.86))
        #expect(E.verdict(resNetFails).verdict == .agree)
        #expect(E.gain(resNetFails, net: .looksLinear, depth: 100).isNaN)
        // … but a control at 91% is not below the linear model then: it did not degrade.
        let controlHolds = results(looksLinear: (0.96, 0.96), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.91), resNet: (0.97, 0.86))
        #expect(E.verdict(controlHolds).verdict == .partly)
        // Every Looks-Linear seed diverges at 100 layers.
        let diverged = results(looksLinear: (0.96, nil), creluRandom: (0.95, 0.11), reluKaiming: (0.96, 0.50))
        #expect(E.verdict(diverged).verdict == .disagree)
    }

    @Test func bestLearningRateHasFewestDivergedSeedsThenLowestLoss() {
        var all = runs(.looksLinear, depth: 5, accuracy: nil, rate: 0.1) + runs(.looksLinear, depth: 5, accuracy: 0.9, rate: 0.01)
        all += runs(.looksLinear, depth: 5, accuracy: 0.95, rate: 0.03).map { run in var run = run; run.trainLoss = 0.05; return run }
        let chosen = E.selected(E.Results(depths: [5], learningRates: [0.01, 0.03, 0.1], runs: all), net: .looksLinear, depth: 5)
        #expect(chosen?.learningRate == 0.03)
        #expect(abs((chosen?.testAccuracy.mean ?? 0) - 0.95) < 1e-12)
    }

    /// The net's output on a [N, inputs] batch in evaluation mode, as Doubles.
    func outputs(_ net: Layer, _ x: Tensor) -> [Double] {
        var context = ForwardContext.evaluation
        return withoutGradient { net(Variable(x), &context) }.value.scalars.map(Double.init)
    }

    /// Left half (the first `columns` columns) of an [rows, 2·columns] weight, or all of it, as a row-major Double matrix.
    func matrix(_ weight: Tensor, columns: Int) -> [[Double]] {
        let (rows, stride) = (weight.shape[0], weight.shape[1])
        return (0..<rows).map { r in (0..<columns).map { c in Double(weight.scalars[r * stride + c]) } }
    }

    func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        a.map { row in (0..<b[0].count).map { j in zip(row, b).reduce(0) { $0 + $1.0 * $1.1[j] } } }
    }

    func transposed(_ a: [[Double]]) -> [[Double]] { (0..<a[0].count).map { j in a.map { $0[j] } } }

    /// Whether MNIST can be loaded from $TAPE_DATA or ../shared/data.
    static let hasMNIST = (try? DataDirectory.resolve()).map { FileManager.default.fileExists(atPath: $0.path("mnist")) } ?? false

    @Test func looksLinearNetIsExactlyLinearAtInit() throws {
        let (inputs, depth) = (20, 6)
        let setup = E.Setup.full
        let net = try #require(E.network(.looksLinear, depth: depth, inputs: inputs, setup: setup, seed: 3) as? DeepNetwork)
        var random = SplitMix64(seed: 11)
        let x = Tensor.randomNormal([8, inputs], using: &random), y = Tensor.randomNormal([8, inputs], using: &random)
        // W·CReLU(z) = W_left·z with W = [W_left, −W_left]: the net is V_left · W_L,left ⋯ W_1,left · W_in.
        let width = setup.creluWidth
        var total = matrix(net.input.weight.value, columns: inputs)
        for unit in net.blocks.layers.flatMap({ ($0 as! DenseBlock).units.layers }) {
            total = multiply(matrix((unit as! DenseUnit).weight.value, columns: width), total)
        }
        total = multiply(matrix(net.output.weight.value, columns: width), total)
        let expected = multiply((0..<8).map { r in (0..<inputs).map { Double(x.scalars[r * inputs + $0]) } }, transposed(total))
        let f = outputs(net, x)
        let scale = f.map(abs).max()!
        #expect(zip(f, expected.flatMap { $0 }).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
        // Homogeneous for any scale, negative too, and additive, up to rounding.
        let a: Float = -2.5
        let fa = outputs(net, x * a), fy = outputs(net, y), fxy = outputs(net, x + y)
        #expect(zip(fa, f).allSatisfy { abs($0 - Double(a) * $1) <= 1e-4 * scale })
        #expect(zip(fxy, zip(f, fy)).allSatisfy { abs($0 - ($1.0 + $1.1)) <= 1e-4 * scale })
        // A CReLU net with a random init is not: f(−x) is not −f(x).
        let randomInit = E.network(.creluRandom, depth: depth, inputs: inputs, setup: setup, seed: 3)
        let g = outputs(randomInit, x), gMinus = outputs(randomInit, x * -1)
        #expect(zip(g, gMinus).contains { abs($0 + $1) > 1e-2 * g.map(abs).max()! })
    }

    @Test func linearBaselineLossFallsOnSeparableData() throws {
        // Two classes told apart by the sign of the first pixel, 1×2×2 images.
        var random = SplitMix64(seed: 5)
        let count = 200
        let labels = (0..<count).map { $0 % 2 }
        let noise = Tensor.randomNormal([count * 4], standardDeviation: 0.3, using: &random).scalars
        let pixels = (0..<(count * 4)).map { i in (i % 4 == 0 ? (labels[i / 4] == 0 ? 1.5 : -1.5) : 0) + noise[i] }
        let set = ImageSet(name: "toy", images: pixels, labels: labels, channels: 1, height: 2, width: 2, classCount: 2)
        var setup = E.Setup.quick
        (setup.epochs, setup.batchSize, setup.curveBins) = (5, 10, 5)
        let model = Sequential(Flatten(), E.network(.linear, depth: 0, inputs: 4, setup: setup, seed: 0))
        let trained = try E.trainToEnd(model, train: set, test: set, setup: setup, learningRate: 0.05, seed: 0)
        #expect(!trained.diverged)
        #expect(trained.curve.count == 5 && trained.curve.last! < trained.curve.first! / 3, "\(trained.curve)")
        #expect(trained.train.accuracy == 1)
    }

    @Test(.enabled(if: LooksLinearTests.hasMNIST, "needs MNIST in ../shared/data or $TAPE_DATA"))
    func quickSetupMeasurement() throws {
        let setup = E.Setup.quick
        let results = try E.measure(setup, in: ExperimentRun(name: E.name))
        // Every deep net at every depth, learning rate and seed, and the linear model once per rate and seed.
        #expect(results.runs.count == (4 * setup.depths.count + 1) * setup.learningRates.count * setup.seeds.count)
        for run in results.runs {
            #expect(!run.diverged && run.trainLoss.isFinite && run.trainLoss > 0, "\(run)")
            #expect((0...1).contains(run.trainAccuracy) && (0...1).contains(run.testAccuracy), "\(run)")
            #expect(run.curveSteps.last == setup.epochs * (setup.data.train / setup.batchSize), "\(run.curveSteps)")
        }
        // The Looks-Linear net starts as a linear map: with this little training it is not worse than chance.
        let looksLinear = results.runs.filter { $0.net == .looksLinear }
        #expect(looksLinear.allSatisfy { $0.testAccuracy > 0.2 }, "\(looksLinear.map(\.testAccuracy))")
    }
}

