import NN
import SafeTensors
import Tape
import Testing

// Parity with PyTorch: Fixtures/optimizers.safetensors holds the reference values written by
// Fixtures/make_optimizer_fixtures.py (which documents every entry and hyperparameter).

@Suite struct OptimizerTests {
    /// Five steps on the tiny network agree with PyTorch after every step and for every
    /// parameter tensor to a relative error (see `relativeError`) of 1e-5. What differs is
    /// float32 rounding, mostly in the gradients (other summation orders in matmul and mean,
    /// another tanh); it stays below 1e-6 here, while a wrong formula gives 1e-4 or more.
    @Test(arguments: ReferenceRun.allCases)
    func matchesPyTorch(run: ReferenceRun) throws {
        let reference = try Reference()
        let net = try TinyNet(reference)
        let optimizer = run.makeOptimizer(net.parameters)
        for (step, values) in net.train(optimizer, steps: 5).enumerated() {
            for (name, value) in zip(TinyNet.parameterNames, values) {
                let expected = try reference.tensor("\(run.rawValue).step\(step + 1).\(name)")
                let error = Self.relativeError(value, expected)
                #expect(error <= 1e-5, "\(run) step \(step + 1) \(name): relative error \(error)")
            }
        }
        #expect(optimizer.stepCount == 5)
    }

    @Test func schedulesMatchPyTorch() throws {
        let reference = try Reference()
        let cosine = CosineSchedule(base: 0.1, totalSteps: 15, minimum: 0.001)
        let schedules: [(String, any LearningRateSchedule)] = [
            ("multistep", MultiStepSchedule(base: 0.1, milestones: [4, 10, 10, 15], gamma: 0.5)),
            ("cosine", cosine),
            ("warmup", LinearWarmup(cosine, steps: 5, startFactor: 0.1)),
        ]
        for (name, schedule) in schedules {
            let expected = try reference.tensor("schedule.\(name)").scalars
            #expect(expected.count == 20)
            for (step, rate) in expected.enumerated() {
                let actual = schedule.learningRate(at: step)
                #expect(abs(actual - rate) <= 1e-6 * rate, "\(name) at step \(step): \(actual), PyTorch \(rate)")
            }
        }
    }

    @Test func clippingMatchesPyTorch() throws {
        let reference = try Reference()
        let parameters = try (0..<2).map { index in
            let parameter = Parameter(Tensor.zeros(try reference.tensor("clip.before.\(index)").shape))
            parameter.grad = try reference.tensor("clip.before.\(index)")
            return parameter
        }
        let skipped = Parameter(Tensor([3, 4]))
        let norm = clipGradientNorm(parameters + [skipped], maxNorm: 1.5)
        let expectedNorm = try reference.tensor("clip.total_norm").scalar
        #expect(abs(norm - expectedNorm) <= 1e-6 * expectedNorm)
        for (index, parameter) in parameters.enumerated() {
            let error = Self.relativeError(parameter.grad!, try reference.tensor("clip.after.\(index)"))
            #expect(error <= 1e-6, "gradient \(index): relative error \(error)")
        }
        #expect(skipped.grad == nil)
    }

    @Test func clippingLeavesSmallGradientsAlone() {
        let parameter = Parameter(Tensor.zeros([2]))
        parameter.grad = Tensor([0.6, 0.8])
        #expect(clipGradientNorm([parameter], maxNorm: 2) == 1)
        #expect(parameter.grad == Tensor([0.6, 0.8]))
        #expect(clipGradientNorm([Parameter(Tensor([1]))], maxNorm: 1) == 0)
    }

    @Test func scheduleEdges() {
        let multiStep = MultiStepSchedule(base: 1, milestones: [2], gamma: 0.1)
        #expect([0, 1, 2, 100].map(multiStep.learningRate(at:)) == [1, 1, 0.1, 0.1])
        let cosine = CosineSchedule(base: 1, totalSteps: 10, minimum: 0.5)
        #expect(cosine.learningRate(at: 0) == 1 && cosine.learningRate(at: 10) == 0.5 && cosine.learningRate(at: 20) == 1)
        let warmup = LinearWarmup(cosine, steps: 4, startFactor: 0.25)
        #expect([0, 1, 2, 3].map(warmup.learningRate(at:)) == [0.25, 0.4375, 0.625, 0.8125])
        #expect(warmup.learningRate(at: 4) == 1 && warmup.learningRate(at: 14) == 0.5)
        #expect(LinearWarmup(cosine, steps: 0, startFactor: 0.1).learningRate(at: 0) == 1)
    }

    /// k steps, save the state, a new optimizer on copies of the parameters loads it and
    /// continues: the result is bit-identical to the original optimizer continuing. The saved
    /// state is a snapshot, so the original's later steps must not change it.
    @Test(arguments: ReferenceRun.allCases)
    func savedStateResumesExactly(run: ReferenceRun) throws {
        let straight = try TinyNet(Reference())
        let optimizer = run.makeOptimizer(straight.parameters)
        _ = straight.train(optimizer, steps: 2)
        let saved = optimizer.state
        let resumed = TinyNet(copying: straight)
        let straightValues = straight.train(optimizer, steps: 3)

        let restored = run.makeOptimizer(resumed.parameters)
        try restored.load(state: saved)
        #expect(restored.stepCount == 2)
        #expect(resumed.train(restored, steps: 3) == straightValues)
        #expect(restored.state == optimizer.state)
    }

    @Test func stateLayoutFollowsPyTorch() throws {
        let net = try TinyNet(Reference())
        let sgd = SGD(parameters: net.parameters, learningRate: 0.1, momentum: 0.9)
        #expect(sgd.state == ["step": Tensor(0)])
        _ = net.train(sgd, steps: 1)
        #expect(Set(sgd.state.keys) == ["step", "0.momentum_buffer", "1.momentum_buffer", "2.momentum_buffer", "3.momentum_buffer"])
        #expect(sgd.state["2.momentum_buffer"]?.shape == [2, 4])

        let plain = SGD(parameters: net.parameters, learningRate: 0.1)
        _ = net.train(plain, steps: 2)
        #expect(plain.state == ["step": Tensor(2)])

        let adam = Adam(parameters: net.parameters)
        _ = net.train(adam, steps: 3)
        #expect(adam.state.count == 1 + 3 * 4)
        #expect(adam.state["1.step"] == Tensor(3) && adam.state["step"] == Tensor(3))
        #expect(adam.state["0.exp_avg"]?.shape == [4, 3] && adam.state["0.exp_avg_sq"]?.shape == [4, 3])
    }

    /// A parameter without a gradient keeps its value and gets no state; its own step count
    /// (which sets Adam's bias correction) only counts the steps where it had a gradient.
    @Test func parametersWithoutGradientAreSkipped() throws {
        let trained = Parameter(Tensor([1, 2])), idle = Parameter(Tensor([3]))
        let optimizers: [any Optimizer] = [
            SGD(parameters: [trained, idle], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1),
            Adam(parameters: [trained, idle], weightDecay: 0.1),
            AdamW(parameters: [trained, idle]),
        ]
        for optimizer in optimizers {
            trained.grad = Tensor([0.5, -0.5])
            idle.grad = nil
            optimizer.step()
            #expect(idle.value == Tensor([3]))
            #expect(!optimizer.state.keys.contains { $0.hasPrefix("1.") })
        }

        // Adam's first step moves every element by lr (m/√v = ±1 after bias correction),
        // also when the parameter's first gradient comes at the optimizer's third step.
        let late = Parameter(Tensor([0]))
        let adam = Adam(parameters: [trained, late], learningRate: 0.5, epsilon: 0)
        for _ in 0..<2 {
            trained.grad = Tensor([1, 1])
            adam.step()
        }
        late.grad = Tensor([-2])
        adam.step()
        #expect(abs(late.value.scalar - 0.5) <= 1e-6)
        #expect(adam.state["1.step"] == Tensor(1) && adam.state["0.step"] == Tensor(3))
    }

    @Test func zeroGradientsForgetsEveryGradient() {
        let parameters = [Parameter(Tensor([1])), Parameter(Tensor([2]))]
        for parameter in parameters { parameter.grad = Tensor([1]) }
        SGD(parameters: parameters, learningRate: 0.1).zeroGradients()
        #expect(parameters.allSatisfy { $0.grad == nil })
    }

    @Test func learningRateCanBeScheduled() {
        let parameter = Parameter(Tensor([1]))
        let optimizer: any Optimizer = SGD(parameters: [parameter], learningRate: 0)
        let schedule = MultiStepSchedule(base: 0.5, milestones: [1], gamma: 0.5)
        for _ in 0..<2 {
            optimizer.learningRate = schedule.learningRate(at: optimizer.stepCount)
            parameter.grad = Tensor([1])
            optimizer.step()
        }
        #expect(parameter.value == Tensor([0.25]))
    }

    @Test func invalidStatesAreRejectedAndChangeNothing() throws {
        let net = try TinyNet(Reference())
        let adam = Adam(parameters: net.parameters)
        _ = net.train(adam, steps: 1)
        let good = adam.state

        func rejection(_ change: (inout [String: Tensor]) -> Void) -> OptimizerStateError? {
            var state = good
            change(&state)
            let fresh = Adam(parameters: net.parameters)
            do throws(OptimizerStateError) {
                try fresh.load(state: state)
                return nil
            } catch {
                #expect(fresh.state == ["step": Tensor(0)], "a failed load changed the state")
                return error
            }
        }
        #expect(rejection { _ in } == nil)
        #expect(rejection { $0["step"] = nil } == .missingEntry("step"))
        #expect(rejection { $0["2.exp_avg_sq"] = nil } == .missingEntry("2.exp_avg_sq"))
        #expect(rejection { $0["2.step"] = nil } == .missingEntry("2.step"))
        #expect(rejection { $0["1.exp_avg"] = Tensor.zeros([3]) } == .shapeMismatch(entry: "1.exp_avg", expected: [4], actual: [3]))
        #expect(rejection { $0["4.exp_avg"] = Tensor.zeros([2]) } == .unexpectedEntry("4.exp_avg"))
        #expect(rejection { $0["0.momentum_buffer"] = Tensor.zeros([4, 3]) } == .unexpectedEntry("0.momentum_buffer"))
        #expect(rejection { $0["learning_rate"] = Tensor(0.1) } == .unexpectedEntry("learning_rate"))
        #expect(rejection { $0["0.step"] = Tensor(1.5) } == .invalidStepCount(entry: "0.step", found: Tensor(1.5)))
        #expect(rejection { $0["0.step"] = Tensor(0) } == .invalidStepCount(entry: "0.step", found: Tensor(0)))
        #expect(rejection { $0["step"] = Tensor([1]) } == .invalidStepCount(entry: "step", found: Tensor([1])))

        let plain = SGD(parameters: net.parameters, learningRate: 0.1)
        #expect(throws: OptimizerStateError.unexpectedEntry("0.momentum_buffer")) {
            try plain.load(state: ["step": Tensor(1), "0.momentum_buffer": Tensor.zeros([4, 3])])
        }
        let error = OptimizerStateError.shapeMismatch(entry: "1.exp_avg", expected: [4], actual: [3])
        #expect(error.description == "optimizer state: entry \"1.exp_avg\" has shape [3], but its parameter has shape [4]")
    }

    /// Nesterov momentum needs momentum > 0 and no dampening: anything else stops the process
    /// with a precondition failure, as PyTorch raises a ValueError.
    @Test func nesterovRequiresMomentumWithoutDampening() async {
        await #expect(processExitsWith: .failure) {
            _ = SGD(parameters: [], learningRate: 0.1, momentum: 0, nesterov: true)
        }
        await #expect(processExitsWith: .failure) {
            _ = SGD(parameters: [], learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)
        }
    }
}

// MARK: - The fixture, the tiny network and the reference runs

extension OptimizerTests {
    /// The PyTorch reference values.
    struct Reference {
        /// The fixture file, located next to this source file.
        static let path: String = {
            let thisFile = "\(#filePath)"
            return thisFile[..<thisFile.lastIndex(of: "/")!] + "/Fixtures/optimizers.safetensors"
        }()

        let file: SafeTensorsFile

        init() throws { file = try SafeTensorsFile(contentsOf: Self.path) }

        func tensor(_ name: String) throws -> Tensor {
            let saved = try file.tensor(named: name)
            return Tensor(shape: saved.shape, scalars: saved.floats())
        }
    }

    /// The relative error of a tensor: max |actual − expected| / max |expected|, over its elements.
    ///
    /// Relative to the tensor's largest magnitude rather than element by element, so that an
    /// element passing close to zero (W2[0,0] is 8e-4 after SGD step 3) is not held to a tighter
    /// absolute bound than its neighbours.
    static func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
        precondition(actual.shape == expected.shape, "shape \(actual.shape) vs \(expected.shape)")
        let largestDifference = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        return largestDifference / (expected.scalars.map(abs).max() ?? 1)
    }

    /// The fixture's network: loss = mean((tanh(x·W1ᵀ + b1)·W2ᵀ + b2 − y)²).
    struct TinyNet {
        static let parameterNames = ["W1", "b1", "W2", "b2"]
        let parameters: [Parameter]
        let x: Tensor, y: Tensor

        /// The network at the fixture's initial parameters.
        init(_ reference: Reference) throws {
            parameters = try Self.parameterNames.map { Parameter(try reference.tensor("init.\($0)")) }
            x = try reference.tensor("x")
            y = try reference.tensor("y")
        }

        /// A network with copies of `other`'s current parameter values.
        init(copying other: TinyNet) {
            parameters = other.parameters.map { Parameter($0.value) }
            (x, y) = (other.x, other.y)
        }

        /// Zeroes the gradients, then accumulates the loss's gradients into the parameters.
        func computeGradients() {
            for parameter in parameters { parameter.zeroGradient() }
            let (w1, b1, w2, b2) = (parameters[0].variable, parameters[1].variable, parameters[2].variable, parameters[3].variable)
            let hidden = (matmul(Variable(x), w1.transposed()) + b1).tanh()
            let error = matmul(hidden, w2.transposed()) + b2 - Variable(y)
            (error * error).mean().backward()
        }

        /// Runs `steps` optimizer steps and returns the parameter values after each.
        func train(_ optimizer: any Optimizer, steps: Int) -> [[Tensor]] {
            (0..<steps).map { _ in
                computeGradients()
                optimizer.step()
                return parameters.map(\.value)
            }
        }
    }

    /// The four optimizer runs of the fixture, with the same hyperparameters.
    enum ReferenceRun: String, CaseIterable, Sendable {
        case sgdNesterov = "sgd_nesterov", sgdDampening = "sgd_dampening", adam, adamW = "adamw"

        func makeOptimizer(_ parameters: [Parameter]) -> any Optimizer {
            switch self {
            case .sgdNesterov: SGD(parameters: parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true)
            case .sgdDampening: SGD(parameters: parameters, learningRate: 0.1, momentum: 0.9, dampening: 0.1)
            case .adam: Adam(parameters: parameters, learningRate: 0.01, weightDecay: 1e-3)
            case .adamW: AdamW(parameters: parameters, learningRate: 0.01, weightDecay: 0.05)
            }
        }
    }
}
