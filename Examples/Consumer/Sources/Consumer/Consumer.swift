// Uses Tape as a dependency, through its public API only, in Swift 6 language mode:
// the README's examples, a CIFAR ResNet from `Models`, and tensors sent between tasks. Every
// check that fails is printed and makes the process exit with status 1.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Models
import NN
import Tape

/// A check that did not hold.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(description: message()) }
}

/// The largest absolute difference between two tensors of the same shape.
func largestDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

/// The README's example: a 2-16-1 tanh network learns XOR with SGD. Returns the loss after
/// training.
func trainXOR(steps: Int = 300) -> Float {
    var random = SplitMix64(seed: 42)
    let net = Sequential(Linear(2, 16, using: &random), Tanh(), Linear(16, 1, using: &random))
    let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
    let y = Variable(Tensor(shape: [4, 1], scalars: [0, 1, 1, 0]))
    let optimizer = SGD(parameters: net.parameters, learningRate: 0.2, momentum: 0.9)
    for _ in 0..<steps {
        var context = ForwardContext.training()
        let loss = meanSquaredError(net(x, &context), y)
        net.zeroGradients()
        loss.backward()
        optimizer.step()
    }
    var context = ForwardContext.evaluation
    return withoutGradient { meanSquaredError(net(x, &context), y).scalar }
}

func checkXOR() throws {
    let steps = 300, loss = trainXOR(steps: steps)
    print("xor: final loss \(loss)")
    try check(loss < 0.01, "xor: the loss after \(steps) steps is \(loss), not below 0.01")
}

/// The README's Hessian: of Σx³ at x = [1, 2], which is diag(6x).
func checkHessian() throws {
    let h = hessian(of: { ($0 * $0 * $0).sum() }, at: Tensor([1, 2]))
    print("hessian: \(h.shape) \(h.scalars)")
    let expected = Tensor(shape: [2, 2], scalars: [6, 0, 0, 12])
    try check(h.shape == [2, 2] && largestDifference(h, expected) < 1e-4, "hessian: got \(h), expected diag(6, 12)")
}

/// A resnet20 from the registry, one forward pass on a random batch.
func checkResNet() throws {
    let model = try ModelRegistry.make("resnet20", seed: 1)
    var random = SplitMix64(seed: 2)
    let images = Tensor.randomNormal([4, 3, 32, 32], using: &random)
    var context = ForwardContext.evaluation
    let logits = withoutGradient { model(Variable(images), &context) }.value
    print("resnet20: \(model.parameters.count) parameter tensors, logits \(logits.shape)")
    try check(logits.shape == [4, 10], "resnet20: logits of shape \(logits.shape), expected [4, 10]")
    try check(logits.isFinite, "resnet20: logits are not finite")
}

/// Owns a model: layers stay inside the actor, tensors go in and out (the README's sketch).
actor Classifier {
    private let model: Layer

    init(seed: UInt64) {
        model = CIFARResNet(depth: 20, seed: seed)
    }

    func logits(_ images: Tensor) -> Tensor {
        var context = ForwardContext.evaluation
        return withoutGradient { model(Variable(images), &context) }.value
    }
}

/// ∂/∂w Σ tanh(x·w), recorded on the calling task's own tape.
func gradientOfLoss(input: Tensor, weight: Tensor) -> Tensor {
    gradient(of: { w in matmul(Variable(input), w).tanh().sum() }, at: weight)
}

/// Tensors sent between tasks: child tasks differentiate on their own tapes, and several tasks
/// share one actor that owns a model. Results must match the same work done on one task.
func checkTasks() async throws {
    var random = SplitMix64(seed: 3)
    let inputs = (0..<6).map { _ in Tensor.randomNormal([8, 5], using: &random) }
    let weight = Tensor.randomNormal([5, 3], using: &random)
    let parallel = await withTaskGroup(of: (Int, Tensor).self) { group in
        for (index, input) in inputs.enumerated() {
            group.addTask { (index, gradientOfLoss(input: input, weight: weight)) }
        }
        var results = [Tensor](repeating: Tensor(0), count: inputs.count)
        for await (index, gradient) in group { results[index] = gradient }
        return results
    }
    for (input, result) in zip(inputs, parallel) {
        let serial = gradientOfLoss(input: input, weight: weight)
        try check(result == serial, "tasks: a child task's gradient \(result) differs from the serial \(serial)")
    }
    print("tasks: \(inputs.count) gradients computed in child tasks match the serial ones")

    let classifier = Classifier(seed: 1)
    let batches = (0..<3).map { _ in Tensor.randomNormal([2, 3, 32, 32], using: &random) }
    let logits = try await withThrowingTaskGroup(of: (Int, Tensor).self) { group in
        for (index, batch) in batches.enumerated() {
            group.addTask { (index, await classifier.logits(batch)) }
        }
        var results = [Tensor](repeating: Tensor(0), count: batches.count)
        for try await (index, result) in group { results[index] = result }
        return results
    }
    let whole = await classifier.logits(concatenated(batches, axis: 0))
    for (index, result) in logits.enumerated() {
        let rows = whole[.range(2 * index ..< 2 * index + 2)]
        try check(result.shape == [2, 10] && largestDifference(result, rows) < 1e-4,
                  "tasks: logits of batch \(index) from the actor differ from the whole batch's rows")
    }
    print("tasks: \(batches.count) batches sent to an actor owning resnet20 give the whole batch's logits")
}

@main
struct Consumer {
    static func main() async {
        do {
            try checkXOR()
            try checkHessian()
            try checkResNet()
            try await checkTasks()
            print("consumer: all checks passed")
        } catch {
            print("consumer: FAILED: \(error)")
            exit(1)
        }
    }
}
