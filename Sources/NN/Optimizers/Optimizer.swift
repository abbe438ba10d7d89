import Tape

/// Updates parameters from their accumulated gradients (as `torch.optim.Optimizer`).
///
/// A training step is `optimizer.zeroGradients()`, a forward pass, `loss.backward()`, then
/// `optimizer.step()`. `step()` reads each parameter's `grad`; a parameter whose `grad` is nil
/// has no gradient and is skipped entirely (its value and its optimizer state stay as they
/// are), as in PyTorch.
///
/// The state is a flat dictionary of tensors: `"step"` is a rank-0 tensor holding `stepCount`,
/// and per-parameter entries are keyed by the parameter's index in `parameters` and PyTorch's
/// slot name (`"0.momentum_buffer"`, `"3.exp_avg"`: `optimizer.state_dict()["state"]` flattened).
/// A parameter gets its entries on its first update, so a parameter that never had a gradient
/// has none. Step counts are stored as `Float` (as PyTorch does), exact up to 2²⁴ steps. Save
/// the state with any tensor format (such as safetensors); `load(state:)` restores it.
public protocol Optimizer: AnyObject {
    /// The parameters updated by `step()`, in the order that indexes the state.
    var parameters: [Parameter] { get }
    /// The learning rate used by the next `step()`; set it from a `LearningRateSchedule`.
    var learningRate: Float { get set }
    /// The number of completed `step()` calls (saved in the state as `"step"`).
    var stepCount: Int { get }
    /// Updates every parameter that has a gradient, and increments `stepCount`.
    func step()
    /// A snapshot of everything `step()` depends on besides the hyperparameters.
    var state: [String: Tensor] { get }
    /// Replaces the state with a saved one. Every entry is checked (known key, parameter index
    /// in range, shape equal to the parameter's, whole-number step counts) before anything
    /// changes, so on error the optimizer is left as it was.
    func load(state: [String: Tensor]) throws(OptimizerStateError)
}

extension Optimizer {
    /// Forgets every parameter's accumulated gradient.
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }
}

/// Why a saved optimizer state cannot be loaded. `description` reads as one sentence.
public enum OptimizerStateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required entry is absent (`"step"`, or one slot of a parameter that has the others).
    case missingEntry(String)
    /// An entry this optimizer does not have: an unknown slot, or a parameter index out of range.
    case unexpectedEntry(String)
    /// A per-parameter entry whose shape differs from its parameter's.
    case shapeMismatch(entry: String, expected: [Int], actual: [Int])
    /// A step count that is not a rank-0 tensor holding a whole number in range.
    case invalidStepCount(entry: String, found: Tensor)

    public var description: String {
        switch self {
        case .missingEntry(let entry):
            "optimizer state: missing entry \"\(entry)\""
        case .unexpectedEntry(let entry):
            "optimizer state: unexpected entry \"\(entry)\" (unknown slot, or parameter index out of range)"
        case .shapeMismatch(let entry, let expected, let actual):
            "optimizer state: entry \"\(entry)\" has shape \(actual), but its parameter has shape \(expected)"
        case .invalidStepCount(let entry, let found):
            "optimizer state: entry \"\(entry)\" must be a rank-0 tensor holding a whole step count, found \(found)"
        }
    }
}

/// A saved optimizer state, validated against the parameters before any of it is used.
struct ValidatedOptimizerState {
    /// The value of `"step"`.
    var stepCount: Int
    /// For each parameter index, its tensor entries by slot name (shapes already checked).
    var tensors: [[String: Tensor]]
    /// For each parameter index, its own step count (`"i.step"`), when the optimizer keeps one.
    var parameterSteps: [Int?]

    /// Checks `state`: `"step"` must be present; every other key must be `"i.slot"` with `i` a
    /// parameter index and `slot` in `tensorSlots` (or `"step"` when `hasParameterSteps`); each
    /// parameter must have all of its slots or none.
    init(_ state: [String: Tensor], parameters: [Parameter], tensorSlots: Set<String>, hasParameterSteps: Bool)
        throws(OptimizerStateError) {
        guard let step = state["step"] else { throw .missingEntry("step") }
        stepCount = try Self.stepCount(step, entry: "step", minimum: 0)
        tensors = Array(repeating: [:], count: parameters.count)
        parameterSteps = Array(repeating: nil, count: parameters.count)
        for (key, tensor) in state where key != "step" {
            guard let dot = key.firstIndex(of: "."), let index = Int(key[..<dot]), parameters.indices.contains(index)
            else { throw .unexpectedEntry(key) }
            let slot = String(key[key.index(after: dot)...])
            if hasParameterSteps && slot == "step" {
                parameterSteps[index] = try Self.stepCount(tensor, entry: key, minimum: 1)
            } else if tensorSlots.contains(slot) {
                let expected = parameters[index].value.shape
                guard tensor.shape == expected else { throw .shapeMismatch(entry: key, expected: expected, actual: tensor.shape) }
                tensors[index][slot] = tensor
            } else {
                throw .unexpectedEntry(key)
            }
        }
        let allSlots = tensorSlots.union(hasParameterSteps ? ["step"] : [])
        for index in parameters.indices {
            let present = Set(tensors[index].keys).union(parameterSteps[index] == nil ? [] : ["step"])
            if !present.isEmpty, let absent = allSlots.subtracting(present).sorted().first {
                throw .missingEntry("\(index).\(absent)")
            }
        }
    }

    /// The count held by a rank-0 tensor, which must be a whole number in `minimum...2²⁴`
    /// (beyond 2²⁴ a `Float` no longer holds every whole number).
    private static func stepCount(_ tensor: Tensor, entry: String, minimum: Int) throws(OptimizerStateError) -> Int {
        guard tensor.shape.isEmpty else { throw .invalidStepCount(entry: entry, found: tensor) }
        let value = tensor.scalar
        guard value.rounded() == value, value >= Float(minimum), value <= 0x1p24 else {
            throw .invalidStepCount(entry: entry, found: tensor)
        }
        return Int(value)
    }
}
