/// The record of one differentiable computation: a flat list of op entries in execution order.
///
/// Every recorded value has a slot. `backward` walks the entries once, newest first, adding
/// cotangents into slots; a missing cotangent means zero and its entry is skipped. Tapes are
/// created on demand by the first op that touches a parameter, and merged when an op combines
/// values from two tapes.
///
/// Not `Sendable`: a tape is mutable and belongs to the task that records it (as do the
/// variables and parameters on it); nothing in the package moves one to another task.
public final class Tape {
    /// Maps the cotangent of an op's output to cotangents of its inputs (nil: no gradient).
    /// The pullback receives the op's inputs and output as variables on this tape, so when the
    /// backward pass records (`createGraph`) the gradient can be differentiated again.
    typealias Pullback = (_ dy: Variable, _ inputs: [Variable], _ output: Variable) -> [Variable?]

    struct Entry {
        let name: StaticString
        var inputs: [Int]                  // slots; -1 marks a constant input
        var output: Int
        /// Every input's shape when not all inputs are saved and one of them is a constant (which
        /// has no slot shape); else empty: `Tape.inputShape` finds them.
        let unsavedInputShapes: [[Int]]
        let outputShape: [Int]
        var inputValues: [Tensor]?         // the first inputs, kept only when the pullback reads them (`SavedValues`)
        var outputValue: Tensor?
        var pullback: Pullback?            // nil once used by a backward pass that freed it
        let file: StaticString
        let line: UInt

        /// The op's output as the pullback sees it: the saved value, or a zero-cost stand-in of the
        /// right shape (a broadcast zero) when the pullback does not read it (inputs likewise, in
        /// `Tape.revivedInputValue`).
        func revivedOutputValue() -> Tensor { outputValue ?? Tensor.zerosStandIn(outputShape) }
    }

    // Unchecked exclusivity: a tape belongs to one task, and no access to these overlaps another
    // (each is a read, an append or one element's write); the run-time checks were an eighth of
    // a small op's recording cost.
    @exclusivity(unchecked) var entries: [Entry] = []
    @exclusivity(unchecked) var slotShapes: [[Int]] = []
    @exclusivity(unchecked) var producer: [Int] = []               // slot → entry index, -1 for leaves
    @exclusivity(unchecked) var leafOfSlot: [Int: Parameter] = [:]
    @exclusivity(unchecked) var slotOfLeaf: [ObjectIdentifier: Int] = [:]
    @exclusivity(unchecked) var hooks: [Int: [(Variable) -> Variable?]] = [:]
    var mergedInto: (tape: Tape, slotOffset: Int)?

    /// The shape of input `k` of `entry`.
    func inputShape(_ entry: Entry, _ k: Int) -> [Int] {
        if let values = entry.inputValues, k < values.count { return values[k].shape }
        return entry.inputs[k] >= 0 ? slotShapes[entry.inputs[k]] : entry.unsavedInputShapes[k]
    }

    /// Input `k` of `entry` as its pullback sees it: the saved value, or a zero-cost stand-in of
    /// the right shape when the pullback does not read it.
    func revivedInputValue(_ entry: Entry, _ k: Int) -> Tensor {
        if let values = entry.inputValues, k < values.count { return values[k] }
        return Tensor.zerosStandIn(inputShape(entry, k))
    }

    /// The number of recorded ops.
    public var count: Int { entries.count }

    func resolve(_ slot: Int) -> (tape: Tape, slot: Int) {
        var (tape, slot) = (self, slot)
        while let merged = tape.mergedInto { (tape, slot) = (merged.tape, slot + merged.slotOffset) }
        return (tape, slot)
    }

    private func newSlot(shape: [Int], producer entry: Int) -> Int {
        slotShapes.append(shape)
        producer.append(entry)
        return slotShapes.count - 1
    }

    /// The slot of an input on this tape: -1 for constants; leaves get a slot on first use.
    func slot(of input: Variable) -> Int {
        switch input.origin {
        case .constant:
            return -1
        case .recorded:
            let (tape, slot) = input.tapeSlot!
            precondition(tape === self, "tape: an input lives on another tape")
            return slot
        case .leaf(let parameter):
            if let slot = slotOfLeaf[ObjectIdentifier(parameter)] { return slot }
            let slot = newSlot(shape: input.shape, producer: -1)
            slotOfLeaf[ObjectIdentifier(parameter)] = slot
            leafOfSlot[slot] = parameter
            return slot
        }
    }

    /// Moves all of `other`'s entries after this tape's (the two were independent, so the order
    /// stays valid) and forwards `other`'s slots here.
    private func absorb(_ other: Tape) {
        let slotOffset = slotShapes.count, entryOffset = entries.count
        for var entry in other.entries {
            entry.inputs = entry.inputs.map { $0 >= 0 ? $0 + slotOffset : -1 }
            entry.output += slotOffset
            entries.append(entry)
        }
        slotShapes += other.slotShapes
        producer += other.producer.map { $0 >= 0 ? $0 + entryOffset : -1 }
        for (slot, parameter) in other.leafOfSlot {
            leafOfSlot[slot + slotOffset] = parameter
            if slotOfLeaf[ObjectIdentifier(parameter)] == nil { slotOfLeaf[ObjectIdentifier(parameter)] = slot + slotOffset }
        }
        for (slot, list) in other.hooks { hooks[slot + slotOffset, default: []] += list }
        other.entries = []; other.slotShapes = []; other.producer = []
        other.leafOfSlot = [:]; other.slotOfLeaf = [:]; other.hooks = [:]
        other.mergedInto = (self, slotOffset)
    }

    /// The tape shared by the recorded inputs (merging distinct ones), or a new tape.
    static func common(to inputs: [Variable]) -> Tape {
        var tape: Tape?
        for input in inputs {
            guard let (other, _) = input.tapeSlot else { continue }
            if let current = tape {
                if current !== other { current.absorb(other) }
            } else {
                tape = other
            }
        }
        return tape ?? Tape()
    }
}

/// Which of an op's values its pullback reads. The tape keeps only those until the backward pass
/// (the others reach the pullback as zero-cost stand-ins of the right shape), so activations that
/// no pullback needs are freed during the forward pass.
public enum SavedValues: Sendable, Hashable {
    /// Keep the inputs and the output, the inputs only, the output only, or neither (shapes only).
    case inputsAndOutput, inputs, output, shapesOnly
    /// Keep the first `count` inputs and the output: the later inputs (an addend whose value the
    /// pullback never reads) reach the pullback as stand-ins.
    case leadingInputsAndOutput(count: Int)

    /// How many of an op's `inputs` inputs are kept, counted from the first.
    func keptInputCount(of inputs: Int) -> Int {
        switch self {
        case .inputsAndOutput, .inputs: inputs
        case .output, .shapesOnly: 0
        case .leadingInputsAndOutput(let count): Swift.min(count, inputs)
        }
    }

    var keepsOutput: Bool {
        switch self {
        case .inputsAndOutput, .output, .leadingInputsAndOutput: true
        case .inputs, .shapesOnly: false
        }
    }
}

extension Variable {
    /// Creates an op's result: records an entry when recording is on and some input needs a
    /// gradient, checks for NaN/Inf under anomaly detection, and otherwise returns a constant.
    /// `saves` names what `pullback` reads (all of it by default).
    /// `inputs` is evaluated only when needed, so ops that record nothing (inside `withoutGradient`
    /// and in pullbacks) do not build the array.
    /// `compute` (the op's value) is evaluated once, first; under `withProfiling` its time is the op's forward time.
    static func record(_ name: StaticString, _ compute: @autoclosure () -> Tensor, _ inputs: @autoclosure () -> [Variable],
                       saves: SavedValues = .inputsAndOutput, file: StaticString = #fileID, line: UInt = #line,
                       pullback: @escaping Tape.Pullback) -> Variable {
        let context = RecordingContext.current
        let value: Tensor
        if let profiler = context.profiler {
            let start = monotonicSeconds()
            value = compute()
            let seconds = monotonicSeconds() - start
            let inputShapes = inputs().map(\.shape)
            profiler.addForward(name, seconds: seconds, bytes: floatBytes(inputShapes + [value.shape]),
                                flops: knownFlops(name, inputShapes: inputShapes, outputShape: value.shape))
        } else {
            value = compute()
        }
        if let recorder = context.anomalies {
            recorder.check([value], op: name, phase: .forward, inputShapes: inputs().map(\.shape),
                           outputShape: value.shape, file: file, line: line)
        }
        guard context.gradientsEnabled else { return Variable(value) }
        let inputs = inputs()
        guard inputs.contains(where: \.requiresGradient) else { return Variable(value) }
        let tape = Tape.common(to: inputs)
        let slots = inputs.map { tape.slot(of: $0) }
        let entryIndex = tape.entries.count
        tape.slotShapes.append(value.shape)
        tape.producer.append(entryIndex)
        let output = tape.slotShapes.count - 1
        let kept = saves.keptInputCount(of: inputs.count)
        tape.entries.append(Tape.Entry(name: name, inputs: slots, output: output,
                                       unsavedInputShapes: kept == inputs.count || !slots.contains(-1) ? [] : inputs.map(\.shape),
                                       outputShape: value.shape, inputValues: kept == 0 ? nil : inputs.prefix(kept).map(\.value),
                                       outputValue: saves.keepsOutput ? value : nil, pullback: pullback, file: file, line: line))
        return Variable(value, origin: .recorded(tape, output))
    }
}

extension Tape {
    /// The floats that the tape behind `variable` keeps for its backward pass: the storage of
    /// every saved input and output, each block counted once however many views share it
    /// (parameters' values included). 0 for constants and leaves. For measuring memory.
    public static func savedScalarCount(of variable: Variable) -> Int {
        guard let (tape, _) = variable.tapeSlot else { return 0 }
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for entry in tape.entries {
            for tensor in (entry.inputValues ?? []) + (entry.outputValue.map { [$0] } ?? [])
            where seen.insert(ObjectIdentifier(tensor.storage.block)).inserted {
                total += tensor.storage.count
            }
        }
        return total
    }
}
