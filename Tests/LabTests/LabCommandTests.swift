import Datasets
import Foundation
import Models
import NN
import SafeTensors
import Tape
import Testing
import Training

/// Runs the built `lab` executable (it sits next to the test bundle) and captures its output.
func runLab(_ arguments: [String]) throws -> (status: Int32, standardOutput: String, standardError: String) {
    try runBuiltExecutable("lab", arguments)
}

/// A product of this package, built next to the test bundle (or one level up).
func builtExecutable(_ name: String) -> URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = directory.appendingPathComponent(name)
    return FileManager.default.fileExists(atPath: executable.path) ? executable
        : directory.deletingLastPathComponent().appendingPathComponent(name)
}

/// Runs a product of this package and captures its output.
func runBuiltExecutable(_ name: String, _ arguments: [String]) throws -> (status: Int32, standardOutput: String, standardError: String) {
    let process = Process()
    process.executableURL = builtExecutable(name)
    process.arguments = arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "tape-lab-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
}

@Suite("lab CLI", .serialized)
struct LabCommandTests {
    @Test func paramsPrintsJSONLast() throws {
        let result = try runLab(["params", "mnist-resnet", "--json"])
        #expect(result.status == 0)
        #expect(result.standardOutput.split(separator: "\n").last == #"{"model": "mnist-resnet", "parameters": 117802}"#)
        #expect(result.standardOutput.contains("resblocks"))
    }

    @Test func badInputsFailWithClearMessages() throws {
        let unknown = try runLab(["params", "resnet21"])
        #expect(unknown.status != 0 && unknown.standardError.contains("unknown model 'resnet21'"))
        let missing = try runLab(["predict", "--model", "mnist-resnet", "--weights", "/nonexistent.safetensors", "--input", "x", "--output", "y"])
        #expect(missing.status != 0 && missing.standardError.contains("/nonexistent.safetensors"))
        let option = try runLab(["params", "mnist-resnet", "--jsn"])
        #expect(option.status == 2 && option.standardError.contains("unknown option --jsn"))
        let command = try runLab(["trane"])
        #expect(command.status == 2 && command.standardError.contains("unknown command 'trane'"))
    }

    /// Weights written by PyTorch (the state dict in the Models golden fixture, saved by
    /// torch and converted with PyTorch names) evaluate through `lab eval` exactly as the library
    /// evaluates them.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func evalReadsPyTorchWeights() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/mnist_resnet.safetensors").path
        let golden = try SafeTensorsFile(contentsOf: fixture)
        let stateDict = SafeTensorsFile(tensors: golden.tensors.filter { !$0.key.hasPrefix("golden.") })
        let weights = temporaryPath("pytorch-state-dict.safetensors")
        defer { try? FileManager.default.removeItem(atPath: weights) }
        try stateDict.write(to: weights)

        let result = try runLab(["eval", "--model", "mnist-resnet", "--weights", weights, "--dataset", "mnist", "--limit", "64",
                                 "--data", sharedData])
        #expect(result.status == 0, "\(result.standardError)")
        let model = MNISTResNet()
        try model.load(stateDict)
        let test = try MNIST.load(.test, from: DataDirectory.resolve(explicit: sharedData)).prefix(64)
        let expected = evaluate(model, on: test, normalization: .mnist)
        #expect(result.standardOutput.contains("mnist-resnet on mnist test (64 images): loss \(format(expected.loss, 4)), "
                                               + "accuracy \(format(expected.accuracy * 100, 2))%"), "\(result.standardOutput)")
    }

    @Test func predictAndGradMatchTheLibrary() throws {
        let model = MNISTResNet(blocks: 25, seed: 3)
        let weights = temporaryPath("weights.safetensors"), input = temporaryPath("input.safetensors")
        let logitsPath = temporaryPath("logits.safetensors"), gradPath = temporaryPath("grad.safetensors")
        defer { for path in [weights, input, logitsPath, gradPath] { try? FileManager.default.removeItem(atPath: path) } }
        try model.saveWeights(to: weights)
        var random = SplitMix64(seed: 4)
        let images = Tensor.randomUniform([2, 1, 28, 28], using: &random)
        try SafeTensorsFile(tensors: ["images": SafeTensor(floats: images.scalars, shape: images.shape),
                                      "labels": SafeTensor(int64s: [3, 8], shape: [2])]).write(to: input)

        let predict = try runLab(["predict", "--model", "mnist-resnet", "--weights", weights, "--input", input, "--output", logitsPath])
        #expect(predict.status == 0, "\(predict.standardError)")
        var context = ForwardContext.evaluation
        let expected = model(Variable(images), &context)
        let logits = try SafeTensorsFile(contentsOf: logitsPath)["logits"]!
        #expect(logits.shape == [2, 10] && zip(logits.floats(), expected.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-5 })

        let grad = try runLab(["grad", "--model", "mnist-resnet", "--weights", weights, "--input", input, "--output", gradPath])
        #expect(grad.status == 0, "\(grad.standardError)")
        var training = ForwardContext.training()
        let loss = crossEntropy(logits: model(Variable(images), &training), labels: [3, 8])
        loss.backward()
        let file = try SafeTensorsFile(contentsOf: gradPath)
        #expect(Swift.abs(file["loss"]!.floats()[0] - loss.scalar) < 1e-5)
        #expect(file.names.filter { $0.hasPrefix("grad.") }.count == model.namedParameters.count)
        let fcGradient = file["grad.fc.weight"]!.floats()
        #expect(zip(fcGradient, model.fc.weight.grad!.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    @Test func wrongTensorsAreNamed() throws {
        let weights = temporaryPath("w2.safetensors"), input = temporaryPath("x2.safetensors")
        defer { for path in [weights, input] { try? FileManager.default.removeItem(atPath: path) } }
        try MNISTResNet(seed: 1).saveWeights(to: weights)
        try SafeTensorsFile(tensors: ["images": SafeTensor(floats: [Float](repeating: 0, count: 3 * 32 * 32), shape: [1, 3, 32, 32])]).write(to: input)
        let shape = try runLab(["predict", "--model", "mnist-resnet", "--weights", weights, "--input", input, "--output", temporaryPath("y")])
        #expect(shape.status == 1 && shape.standardError.contains("[1, 3, 32, 32]"))
        let labels = try runLab(["grad", "--model", "mnist-resnet", "--weights", weights, "--input", input, "--output", temporaryPath("g")])
        #expect(labels.status == 1)
        let mismatch = try runLab(["predict", "--model", "resnet20", "--weights", weights, "--input", input, "--output", temporaryPath("y")])
        #expect(mismatch.status == 1 && mismatch.standardError.contains("missing") && mismatch.standardError.contains("unexpected"))
    }
}
