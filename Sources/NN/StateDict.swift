import SafeTensors
import Tape

extension Layer {
    /// Parameters and buffers by PyTorch name, as a safetensors file (F32; integer buffers I64).
    public func stateDict(metadata: [String: String] = [:]) throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: [:], metadata: metadata)
        for (name, parameter) in namedParameters {
            file[name] = try SafeTensor(floats: parameter.value.scalars, shape: parameter.value.shape)
        }
        for (name, buffer) in namedBuffers {
            file[name] = buffer.isInteger
                ? try SafeTensor(int64s: buffer.value.scalars.map { Int64($0) }, shape: buffer.value.shape)
                : try SafeTensor(floats: buffer.value.scalars, shape: buffer.value.shape)
        }
        return file
    }

    /// Writes the state dict atomically (temporary file, then rename).
    public func saveWeights(to path: String, metadata: [String: String] = [:]) throws {
        try stateDict(metadata: metadata).write(to: path)
    }

    /// Loads parameters and buffers by name. Strict: every name must be present with its exact
    /// shape and no unknown names may appear; otherwise nothing is changed and the error lists
    /// the missing, unexpected and mismatched keys.
    public func load(_ file: SafeTensorsFile) throws {
        let parameters = namedParameters, buffers = namedBuffers
        try file.validate(expected: parameters.map { ($0.0, $0.1.value.shape) } + buffers.map { ($0.0, $0.1.value.shape) })
        var updates: [(String, Tensor)] = []
        for (name, _) in parameters + buffers.map({ ($0.0, Parameter(Tensor(0))) }) {
            let entry = try file.tensor(named: name)
            updates.append((name, Tensor(shape: entry.shape, scalars: entry.floats())))
        }
        let values = Dictionary(uniqueKeysWithValues: updates)
        for (name, parameter) in parameters { parameter.value = values[name]! }
        for (name, buffer) in buffers { buffer.value = values[name]! }
    }

    /// Loads a safetensors file written by `saveWeights` or converted from a PyTorch state dict.
    public func loadWeights(from path: String) throws {
        try load(SafeTensorsFile(contentsOf: path))
    }
}
