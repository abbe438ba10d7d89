import Models
import NN
import SafeTensors
import Tape
import Training

/// `lab models`: every model name with its input shape, classes and parameter count.
func listModels() {
    print("model".padding(20) + "input".padding(16) + "classes".padding(9) + "parameters".padding(12) + "summary")
    for entry in ModelRegistry.entries {
        print(entry.name.padding(20) + "\(entry.inputShape)".padding(16) + "\(entry.classes)".padding(9)
              + "\(entry.parameterCount)".padding(12) + entry.summary)
    }
}

/// `lab params MODEL [--json]`: trainable scalars per module (two levels deep).
func parameters(_ arguments: Arguments) throws {
    guard let name = arguments.positional.first else { throw LabError("usage: lab params MODEL [--json]", usage: true) }
    let model = try ModelRegistry.make(name)
    print("module".padding(32) + "type".padding(22) + "parameters")
    for (path, layer) in model.namedLayers where !path.isEmpty && path.split(separator: ".").count <= 2 {
        let count = layer.parameterCount
        print(path.padding(32) + "\(type(of: layer))".padding(22) + "\(count)")
    }
    print("total".padding(54) + "\(model.parameterCount)")
    if arguments.flag("json") { print("{\"model\": \"\(name)\", \"parameters\": \(model.parameterCount)}") }
}

/// Builds the model and loads its weights strictly.
func loadModel(_ arguments: Arguments) throws -> (Layer, ModelRegistry.Entry) {
    let name = try arguments.required("model")
    let entry = try ModelRegistry.entry(named: name)
    let model = try ModelRegistry.make(name)
    let path = try arguments.required("weights")
    do {
        try model.load(SafeTensorsFile(contentsOf: path))
    } catch {
        throw LabError("cannot load weights for \(name) from \(path): \(error)")
    }
    return (model, entry)
}

/// Reads the input file's `images` (F32 [N, C, H, W]) and checks it fits the model.
func readImages(_ file: SafeTensorsFile, path: String, entry: ModelRegistry.Entry) throws -> Tensor {
    guard let images = file["images"] else { throw LabError("\(path) has no tensor 'images' (found: \(file.names.joined(separator: ", ")))") }
    guard images.dtype == .float32 else { throw LabError("\(path): 'images' must be F32, found \(images.dtype.rawValue)") }
    let shape = images.shape
    guard shape.count == 4, shape[0] > 0 else {
        throw LabError("\(path): 'images' has shape \(shape); \(entry.name) needs [N, \(entry.inputShape[0]), H, W] with N ≥ 1")
    }
    if let mismatch = entry.mismatch(imageShape: Array(shape.dropFirst())) {
        throw LabError("\(path): 'images' has shape \(shape): \(mismatch)")
    }
    return Tensor(shape: shape, scalars: images.floats())
}

/// `lab predict`: logits for `images`, evaluation mode unless `--train-mode`.
func predict(_ arguments: Arguments) throws {
    let (model, entry) = try loadModel(arguments)
    let inputPath = try arguments.required("input"), outputPath = try arguments.required("output")
    let images = try readImages(SafeTensorsFile(contentsOf: inputPath), path: inputPath, entry: entry)
    var context = arguments.flag("train-mode") ? ForwardContext.training() : ForwardContext.evaluation
    let logits = withoutGradient { model(Variable(images), &context) }
    try SafeTensorsFile(tensors: ["logits": SafeTensor(floats: logits.scalars, shape: logits.shape)]).write(to: outputPath)
    print("wrote logits \(logits.shape) to \(outputPath)")
}

/// `lab grad`: training mode, mean cross-entropy; writes loss, logits and grad.<name> for
/// every trainable parameter.
func gradients(_ arguments: Arguments) throws {
    let (model, entry) = try loadModel(arguments)
    let inputPath = try arguments.required("input"), outputPath = try arguments.required("output")
    let file = try SafeTensorsFile(contentsOf: inputPath)
    let images = try readImages(file, path: inputPath, entry: entry)
    guard let labelTensor = file["labels"] else { throw LabError("\(inputPath) has no tensor 'labels' (I64, N)") }
    guard labelTensor.dtype == .int64, labelTensor.shape == [images.shape[0]] else {
        throw LabError("\(inputPath): 'labels' must be I64 of shape [\(images.shape[0])], found \(labelTensor.dtype.rawValue) \(labelTensor.shape)")
    }
    let labels = try labelTensor.int64s().map(Int.init)
    if let bad = labels.first(where: { $0 < 0 || $0 >= entry.classes }) {
        throw LabError("\(inputPath): label \(bad) out of range 0..<\(entry.classes)")
    }
    var context = ForwardContext.training()
    let logits = model(Variable(images), &context)
    let loss = crossEntropy(logits: logits, labels: labels)
    model.zeroGradients()
    loss.backward()
    var tensors: [String: SafeTensor] = [
        "loss": try SafeTensor(floats: [loss.scalar], shape: []),
        "logits": try SafeTensor(floats: logits.scalars, shape: logits.shape),
    ]
    for (name, parameter) in model.namedParameters {
        let gradient = parameter.grad ?? Tensor.zeros(parameter.value.shape)
        tensors["grad." + name] = try SafeTensor(floats: gradient.scalars, shape: gradient.shape)
    }
    try SafeTensorsFile(tensors: tensors).write(to: outputPath)
    print("loss \(loss.scalar); wrote \(counted(tensors.count, "tensor")) to \(outputPath)")
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
