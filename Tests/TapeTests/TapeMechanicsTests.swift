import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Tape

@Suite("The tape: order, skipping, hooks, modes")
struct TapeMechanicsTests {
    @Test func chainOfOneHundredThousandOpsDifferentiatesWithoutRecursion() {
        let x = Variable(Tensor([0.5]), requiresGradient: true)
        var y = x
        for _ in 0..<100_000 { y = y * 1.0 }
        (y * 3).sum().backward()
        #expect(x.grad?.scalars == [3])
    }

    @Test func constantsRecordNothingAndUnusedBranchesAreSkipped() {
        let c = Variable(Tensor([1, 2]))
        #expect((c * c).exp().requiresGradient == false)
        let x = Variable(Tensor([1, 2]), requiresGradient: true)
        nonisolated(unsafe) var calls = 0
        let counted = Variable.record("counted", x.value, [x]) { dy, _, _ in calls += 1; return [dy] }
        _ = counted.exp()                    // a branch that does not reach the loss
        let loss = (x * c).sum()
        loss.backward()
        #expect(calls == 0)
        #expect(x.grad?.scalars == [1, 2])
    }

    @Test func gradientsAccumulateUntilZeroed() {
        let x = Variable(Tensor([1, 2]), requiresGradient: true)
        (x * x).sum().backward()
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [4, 8])
        x.zeroGradient()
        #expect(x.grad == nil)
    }

    @Test func parametersSharedAcrossIndependentTapesMerge() {
        let w = Parameter(Tensor([2, 3]))
        let first = (w.variable * Variable(Tensor([1, 1]))).sum()   // starts tape A
        let second = (w.variable * w.variable).sum()                 // starts tape B
        (first + second).backward()                                  // merges B into A
        #expect(w.grad?.scalars == [1 + 4, 1 + 6])
    }

    @Test func hooksReadAndReplaceCotangents() {
        let x = Variable(Tensor([1, 2, 3]), requiresGradient: true)
        let h = x * 2
        nonisolated(unsafe) var seen: [Float] = []
        h.registerHook { seen = $0.scalars; return nil }
        h.registerHook { $0 * 10 }
        x.registerHook { $0 + 1 }
        (h * Variable(Tensor([1, -1, 0.5]))).sum().backward()
        #expect(seen == [1, -1, 0.5])
        #expect(x.grad?.scalars == [21, -19, 11])
    }

    @Test func withoutGradientAndDetachStopRecording() {
        let x = Variable(Tensor([1, 2]), requiresGradient: true)
        let y = withoutGradient { x * x }
        #expect(!y.requiresGradient)
        let z = (x.detached() * x).sum()
        z.backward()
        #expect(x.grad?.scalars == [1, 2])
    }

    @Test func gradientMaskScalesOnlyTheCotangent() {
        let x = Variable(Tensor([1, 2, 3]), requiresGradient: true)
        let y = (x * x).gradientMasked(by: Tensor([0.5, 0, 2]))
        #expect(y.scalars == [1, 4, 9])
        y.sum().backward()
        #expect(x.grad?.scalars == [1, 0, 12])
    }

    @Test func anomalyInForwardNamesTheOpAndLocation() {
        let x = Variable(Tensor([1, -1]), requiresGradient: true)
        do {
            _ = try withAnomalyDetection { x.log().sum() }
            Issue.record("no anomaly reported")
        } catch let anomaly as Anomaly {
            #expect(anomaly.op == "log" && anomaly.phase == .forward)
            #expect(anomaly.file.hasSuffix("TapeMechanicsTests.swift"))
            #expect(anomaly.description.contains("'log'") && anomaly.description.contains("[2]"))
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func anomalyInBackwardNamesTheOp() {
        let x = Variable(Tensor([0, 4]), requiresGradient: true)
        do {
            try withAnomalyDetection { x.squareRoot().sum().backward() }
            Issue.record("no anomaly reported")
        } catch let anomaly as Anomaly {
            #expect(anomaly.op == "sqrt" && anomaly.phase == .backward)
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func functionalAPI() {
        let (value, gradient) = valueAndGradient(of: { ($0 * $0).sum() }, at: Tensor([3, -1]))
        #expect(value.scalar == 10 && gradient.scalars == [6, -2])
        let vjp = vectorJacobianProduct(of: { $0.exp() }, at: Tensor([0, 0]), cotangent: Tensor([2, 3]))
        #expect(vjp.scalars == [2, 3])
    }

    @Test func gradientsOfIntermediateValues() {
        let x = Variable(Tensor([1, 2]), requiresGradient: true)
        let h = x * 3
        let y = (h * h).sum()
        let grads = y.gradients(withRespectTo: [h, x])
        #expect(grads[0].scalars == [6, 12])
        #expect(grads[1].scalars == [18, 36])
    }
}

@Suite("Double backward: Hessians against analytic formulas")
struct HessianTests {
    /// f(x) = xᵀAx + Σ tanh(Bx):  H = A + Aᵀ + Bᵀ·diag(−2·t·(1 − t²))·B with t = tanh(Bx).
    @Test func hessianOfQuadraticPlusTanh() {
        var random = SplitMix64(seed: 21)
        let n = 4, m = 3
        let a = Tensor.randomNormal([n, n], using: &random), b = Tensor.randomNormal([m, n], using: &random)
        let x = Tensor.randomNormal([n], using: &random) * 0.5
        let f: (Variable) -> Variable = { x in
            matmul(x, matmul(Variable(a), x)) + matmul(Variable(b), x).tanh().sum()
        }
        var expected = [Double](repeating: 0, count: n * n)
        var t = [Double](repeating: 0, count: m)
        for r in 0..<m { t[r] = tanh((0..<n).reduce(0.0) { $0 + Double(b[element: [r, $1]]) * Double(x[element: [$1]]) }) }
        for i in 0..<n { for j in 0..<n {
            var value = Double(a[element: [i, j]]) + Double(a[element: [j, i]])
            for r in 0..<m { value += Double(b[element: [r, i]]) * (-2 * t[r] * (1 - t[r] * t[r])) * Double(b[element: [r, j]]) }
            expected[i * n + j] = value
        } }
        let h = hessian(of: f, at: x)
        #expect(h.shape == [n, n])
        let error = zip(h.scalars, expected).map { Swift.abs(Double($0) - $1) }.max()!
        #expect(error < 1e-4)

        let v = Tensor.randomNormal([n], using: &random)
        let hv = hessianVectorProduct(of: f, at: x, vector: v)
        for i in 0..<n {
            let exact = (0..<n).reduce(0.0) { $0 + expected[i * n + $1] * Double(v[element: [$1]]) }
            #expect(Swift.abs(Double(hv[element: [i]]) - exact) < 1e-4)
        }
    }

    @Test func hessianOfSoftmaxCrossEntropyIsSymmetric() {
        var random = SplitMix64(seed: 22)
        let logits = Tensor.randomNormal([5], using: &random)
        let h = hessian(of: { -$0.logSoftmax()[.index(2)] }, at: logits)
        // H = diag(p) − ppᵀ: rows sum to zero.
        for i in 0..<5 {
            let rowSum = (0..<5).reduce(Float(0)) { $0 + h[element: [i, $1]] }
            #expect(Swift.abs(rowSum) < 1e-6)
            for j in 0..<5 { #expect(Swift.abs(h[element: [i, j]] - h[element: [j, i]]) < 1e-6) }
        }
    }
}

@Suite("The gradient checker catches wrong pullbacks")
struct GradientCheckerTests {
    /// exp whose pullback is off by 1%.
    static func sloppyExp(_ x: Variable) -> Variable {
        Variable.record("sloppyExp", x.value.exp(), [x]) { dy, _, y in [dy * y * 1.01] }
    }

    /// y = A·x whose pullback uses A instead of Aᵀ.
    static func transposedPullback(_ a: Tensor) -> (Variable) -> Variable {
        { x in Variable.record("badLinear", matmul(a, x.value), [x]) { dy, _, _ in [matmul(Variable(a), dy)] } }
    }

    /// y = x + b (b broadcast over rows) whose pullback for b takes the first row of ∂y instead
    /// of summing the rows.
    static func droppedReduction(_ x: Variable, _ b: Variable) -> Variable {
        Variable.record("badAdd", x.value + b.value, [x, b]) { dy, _, _ in [dy, dy[.index(0)]] }
    }

    @Test func offByOnePercentIsCaught() {
        var random = SplitMix64(seed: 31)
        let x = Tensor.randomNormal([3, 4], using: &random)
        #expect(checkGradient(of: { $0[0].exp() }, at: [x]).passed)
        let report = checkGradient(of: { Self.sloppyExp($0[0]) }, at: [x])
        #expect(!report.passed, "\(report)")
    }

    @Test func transposedPullbackIsCaught() {
        var random = SplitMix64(seed: 32)
        let a = Tensor.randomNormal([4, 4], using: &random), x = Tensor.randomNormal([4, 2], using: &random)
        #expect(checkGradient(of: { matmul(Variable(a), $0[0]) }, at: [x]).passed)
        #expect(!checkGradient(of: { Self.transposedPullback(a)($0[0]) }, at: [x]).passed)
    }

    @Test func droppedBroadcastReductionIsCaught() {
        var random = SplitMix64(seed: 33)
        let x = Tensor.randomNormal([5, 3], using: &random), b = Tensor.randomNormal([3], using: &random)
        #expect(checkGradient(of: { $0[0] + $0[1] }, at: [x, b]).passed)
        #expect(!checkGradient(of: { Self.droppedReduction($0[0], $0[1]) }, at: [x, b]).passed)
    }

    @Test func wrongSecondDerivativeIsCaught() {
        // exp whose pullback uses the input instead of the output: right first derivative at
        // the recorded point only through y, wrong in double backward (∂(dy·eˣ) treated as constant).
        let frozenExp: (Variable) -> Variable = { x in
            Variable.record("frozenExp", x.value.exp(), [x]) { dy, _, y in [dy * Variable(y.value)] }
        }
        var random = SplitMix64(seed: 34)
        let x = Tensor.randomNormal([4], using: &random)
        #expect(checkGradient(of: { frozenExp($0[0]) }, at: [x]).passed)
        #expect(!checkSecondGradient(of: { frozenExp($0[0]) }, at: [x]).passed)
        #expect(checkSecondGradient(of: { $0[0].exp() }, at: [x]).passed)
    }
}
