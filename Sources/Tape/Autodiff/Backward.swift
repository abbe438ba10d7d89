extension Tape {
    /// Runs the reverse pass from `slot` with cotangent `seed`, in one walk over the entries,
    /// newest first. Returns the complete cotangent of every slot in `wanted` (absent: zero) and
    /// of every leaf slot reached.
    ///
    /// With `createGraph` the pullbacks record onto this tape (appending entries, which the walk
    /// never visits), so the returned cotangents can be differentiated again. Without
    /// `retainGraph`, each entry's saved tensors are released as soon as its pullback ran.
    func reverse(from slot: Int, seed: Variable, wanted: Set<Int>, createGraph: Bool, retainGraph: Bool)
        -> (wanted: [Int: Variable], leaves: [(Parameter, Variable)]) {
        let outer = RecordingContext.current
        // Under `withProfiling` each pullback runs in its own context, which counts its FLOPs;
        // otherwise the whole walk runs in one pullback context (a task-local push per entry
        // cost as much as a small op).
        let walk = Walk(wanted: wanted, outer: outer, profiler: outer.profiler.flatMap { $0.recordsTimes ? $0 : nil },
                        createGraph: createGraph, retainGraph: retainGraph)
        var cotangents = [Variable?](repeating: nil, count: slotShapes.count)
        cotangents[slot] = seed
        var found: [Int: Variable] = [:]
        if walk.profiler == nil {
            withPullbackContext(recording: createGraph) { run(walk, from: slot, &cotangents, &found) }
        } else {
            run(walk, from: slot, &cotangents, &found)
        }
        var leaves: [(Parameter, Variable)] = []
        for (leafSlot, parameter) in leafOfSlot.sorted(by: { $0.key < $1.key }) {
            guard var dx = cotangents[leafSlot] else { continue }
            dx = applyHooks(parameter.hooks, to: dx)
            if wanted.contains(leafSlot) { found[leafSlot] = dx }
            leaves.append((parameter, dx))
        }
        return (found, leaves)
    }

    /// What one backward pass was asked for.
    private struct Walk {
        let wanted: Set<Int>
        let outer: RecordingContext
        let profiler: ProfileSink?
        let createGraph: Bool
        let retainGraph: Bool
    }

    /// The walk over the entries, newest first, from the one that produced `slot`: each entry
    /// whose output has a cotangent runs its pullback (inout state, not captured variables: those
    /// were checked for exclusive access at run time on every use).
    private func run(_ walk: Walk, from slot: Int, _ cotangents: inout [Variable?], _ found: inout [Int: Variable]) {
        for index in stride(from: producer[slot], through: 0, by: -1) {
            let output = entries[index].output
            guard var dy = cotangents[output] else { continue }
            cotangents[output] = nil
            if let list = hooks[output] {
                dy = RecordingContext.$current.withValue(walk.outer) { applyHooks(list, to: dy) }
            }
            if walk.wanted.contains(output) { found[output] = dy }
            propagate(index, dy, &cotangents, walk)
            if !walk.retainGraph {
                entries[index].pullback = nil
                entries[index].inputValues = nil
                entries[index].outputValue = nil
            }
        }
    }

    /// Runs entry `index`'s pullback on its output's cotangent `dy` and adds the results into
    /// its inputs' cotangents. Without a profiler the caller has set the pullback context.
    private func propagate(_ index: Int, _ dy: Variable, _ cotangents: inout [Variable?], _ walk: Walk) {
        let (profiler, anomalies, createGraph) = (walk.profiler, walk.outer.anomalies, walk.createGraph)
        let entry = entries[index]
        guard let pullback = entry.pullback else {
            preconditionFailure("backward: the saved tensors of '\(entry.name)' were freed by an earlier backward pass; "
                                + "pass retainGraph: true to the first one to differentiate twice")
        }
        let inputs = entry.inputs.indices.map { k in
            let value = revivedInputValue(entry, k)
            return entry.inputs[k] >= 0 ? Variable(value, origin: .recorded(self, entry.inputs[k])) : Variable(value)
        }
        let output = Variable(entry.revivedOutputValue(), origin: .recorded(self, entry.output))
        let inputCotangents: [Variable?]
        if let profiler {
            let counter = FlopCounter(), start = monotonicSeconds()
            inputCotangents = withPullbackContext(recording: createGraph, flops: counter) { pullback(dy, inputs, output) }
            let shapes = [dy.shape, output.shape] + inputs.map(\.shape) + inputCotangents.compactMap { $0?.shape }
            profiler.addBackward(entry.name, seconds: monotonicSeconds() - start, bytes: floatBytes(shapes),
                                 flops: counter.flops > 0 ? counter.flops : nil)
        } else {
            inputCotangents = pullback(dy, inputs, output)
        }
        precondition(inputCotangents.count == entry.inputs.count, "backward: '\(entry.name)' returned \(inputCotangents.count) cotangents for \(entry.inputs.count) inputs")
        if let anomalies {
            anomalies.check(inputCotangents.compactMap { $0?.value }, op: entry.name, phase: .backward,
                            inputShapes: entry.inputs.indices.map { inputShape(entry, $0) }, outputShape: entry.outputShape,
                            file: entry.file, line: entry.line)
        }
        for (inputSlot, dx) in zip(entry.inputs, inputCotangents) {
            guard inputSlot >= 0, let dx else { continue }
            precondition(dx.shape == slotShapes[inputSlot],
                         "backward: '\(entry.name)' produced a cotangent of shape \(dx.shape) for an input of shape \(slotShapes[inputSlot])")
            guard let existing = cotangents[inputSlot] else { cotangents[inputSlot] = dx; continue }
            if let profiler {
                let start = monotonicSeconds()
                cotangents[inputSlot] = withPullbackContext(recording: createGraph, flops: FlopCounter()) { existing + dx }
                profiler.addBackward("accumulate cotangents", seconds: monotonicSeconds() - start,
                                     bytes: floatBytes([dx.shape, dx.shape, dx.shape]), flops: nil)
            } else {
                cotangents[inputSlot] = existing + dx
            }
        }
    }

    private func applyHooks(_ hooks: [(Variable) -> Variable?]?, to cotangent: Variable) -> Variable {
        guard let hooks else { return cotangent }
        var result = cotangent
        for hook in hooks {
            if let replacement = hook(result) {
                precondition(replacement.shape == result.shape, "hook: replacement of shape \(replacement.shape) for a cotangent of shape \(result.shape)")
                result = replacement
            }
        }
        return result
    }
}

extension Variable {
    /// Differentiates this value and adds the gradient into the `grad` of every parameter it
    /// depends on (as PyTorch's `loss.backward()`: gradients accumulate until zeroed).
    ///
    /// - Parameters:
    ///   - seed: the cotangent of this value; may be omitted for a single-element value (1).
    ///   - retainGraph: keep the saved tensors for another backward pass (default: `createGraph`).
    ///   - createGraph: record the backward pass itself, for higher derivatives.
    public func backward(seed: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) {
        for (parameter, gradient) in reverse(seed: seed, wanted: [], retainGraph: retainGraph, createGraph: createGraph).leaves {
            parameter.grad = parameter.grad.map { $0 + gradient.value } ?? gradient.value
        }
    }

    func reverse(seed: Tensor?, wanted: [Variable], retainGraph: Bool?, createGraph: Bool)
        -> (wanted: [Variable?], leaves: [(Parameter, Variable)]) {
        if let seed {
            precondition(seed.shape == shape, "backward: seed of shape \(seed.shape) for a value of shape \(shape)")
        } else {
            precondition(value.count == 1, "backward: a value of shape \(shape) needs an explicit seed cotangent")
        }
        let seedVariable = Variable(seed ?? Tensor(shape: shape, repeating: 1))
        switch origin {
        case .constant:
            return (wanted.map { _ in nil }, [])
        case .leaf(let parameter):
            return (wanted.map { $0.parameter === parameter ? seedVariable : nil }, [(parameter, seedVariable)])
        case .recorded:
            let (tape, slot) = tapeSlot!
            let slots = wanted.map { variable -> Int? in
                switch variable.origin {
                case .constant: return nil
                case .leaf(let parameter): return tape.slotOfLeaf[ObjectIdentifier(parameter)]
                case .recorded:
                    let (other, slot) = variable.tapeSlot!
                    return other === tape ? slot : nil
                }
            }
            let result = tape.reverse(from: slot, seed: seedVariable, wanted: Set(slots.compactMap { $0 }),
                                      createGraph: createGraph, retainGraph: retainGraph ?? createGraph)
            // A leaf merged in from another tape may own several slots: sum them.
            let wantedGradients = zip(wanted, slots).map { variable, slot -> Variable? in
                if let parameter = variable.parameter {
                    let parts = result.leaves.filter { $0.0 === parameter }.map(\.1)
                    return parts.isEmpty ? nil : withPullbackContext(recording: createGraph) { parts.dropFirst().reduce(parts[0], +) }
                }
                return slot.flatMap { result.wanted[$0] }
            }
            return (wantedGradients, result.leaves)
        }
    }

    /// The gradients of this value with respect to `variables` (zeros where it does not depend
    /// on one), without touching any `grad`. With `createGraph` the results are themselves
    /// recorded and can be differentiated again (double backward).
    public func gradients(withRespectTo variables: [Variable], seed: Tensor? = nil,
                          retainGraph: Bool? = nil, createGraph: Bool = false) -> [Variable] {
        let result = reverse(seed: seed, wanted: variables, retainGraph: retainGraph, createGraph: createGraph)
        return zip(variables, result.wanted).map { variable, gradient in
            gradient ?? Variable(Tensor.zeros(variable.shape))
        }
    }
}

/// The gradient of a scalar function at `point`: ∇f(point).
public func gradient(of function: (Variable) -> Variable, at point: Tensor) -> Tensor {
    valueAndGradient(of: function, at: point).gradient
}

/// The value of a scalar function at `point` and its gradient there.
public func valueAndGradient(of function: (Variable) -> Variable, at point: Tensor) -> (value: Tensor, gradient: Tensor) {
    let input = Variable(point, requiresGradient: true)
    let output = function(input)
    return (output.value, output.gradients(withRespectTo: [input])[0].value)
}

/// The vector-Jacobian product vᵀ·∂f/∂x of any function at `point`, for cotangent `v` shaped
/// like the output.
public func vectorJacobianProduct(of function: (Variable) -> Variable, at point: Tensor, cotangent: Tensor) -> Tensor {
    let input = Variable(point, requiresGradient: true)
    return function(input).gradients(withRespectTo: [input], seed: cotangent)[0].value
}

/// The Hessian-vector product H·v of a scalar function at `point`, by double backward:
/// H·v = ∇ₓ⟨∇f(x), v⟩.
public func hessianVectorProduct(of function: (Variable) -> Variable, at point: Tensor, vector: Tensor) -> Tensor {
    precondition(vector.shape == point.shape, "hessianVectorProduct: vector \(vector.shape) for a point \(point.shape)")
    let input = Variable(point, requiresGradient: true)
    let firstGradient = function(input).gradients(withRespectTo: [input], createGraph: true)[0]
    let directional = (firstGradient * Variable(vector)).sum()
    return directional.gradients(withRespectTo: [input])[0].value
}

/// The full Hessian [n, n] (n = point's element count) of a scalar function at `point`, one
/// Hessian-vector product per row: for small parameter counts.
public func hessian(of function: (Variable) -> Variable, at point: Tensor) -> Tensor {
    let n = point.count
    let input = Variable(point, requiresGradient: true)
    let firstGradient = function(input).gradients(withRespectTo: [input], createGraph: true)[0].reshaped(to: [n])
    var rows: [Float] = []
    rows.reserveCapacity(n * n)
    for i in 0..<n {
        let row = firstGradient[.index(i)].gradients(withRespectTo: [input], retainGraph: true)[0].value
        rows += row.scalars
    }
    return Tensor(shape: [n, n], scalars: rows)
}
