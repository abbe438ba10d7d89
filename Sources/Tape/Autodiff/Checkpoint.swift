// Gradient checkpointing: Chen, Xu, Zhang & Guestrin, "Training Deep Nets with Sublinear Memory
// Cost" (2016, https://arxiv.org/abs/1604.06174); PyTorch's `torch.utils.checkpoint`. A segment
// is recorded as one op that keeps only its input; the backward pass runs the segment again,
// recording, and differentiates that. Memory for the segment's intermediate values is needed
// only while its own backward pass runs, at the cost of a second forward pass.

extension Variable {
    /// Records a checkpointed segment: `output` is what `replay(input)` computes (the caller ran
    /// it without recording), and `parameters` are every parameter `replay` reads.
    ///
    ///     y = f(x; θ)
    ///     ∂x, ∂θ = the cotangents of a fresh recorded run of f(x; θ), seeded with ∂y
    ///
    /// `replay` must compute exactly what produced `output` (same random draws; restore any state
    /// it changes, such as running statistics). Second derivatives through a checkpoint are not
    /// supported: the backward pass must not record (`createGraph: false`).
    public static func checkpoint(_ input: Variable, output: Tensor, parameters: [Parameter],
                                  file: StaticString = #fileID, line: UInt = #line,
                                  replay: @escaping (Variable) -> Variable) -> Variable {
        record("checkpoint", output, [input] + parameters.map(\.variable), saves: .inputs, file: file, line: line) { dy, x, _ in
            precondition(!RecordingContext.current.gradientsEnabled,
                         "checkpoint: second derivatives through a checkpointed segment are not supported (backward with createGraph)")
            let replayInput = Variable(x[0].value, requiresGradient: x[0].requiresGradient)
            let wanted = [replayInput] + parameters.map(\.variable)
            let replayed = withPullbackContext(recording: true) { replay(replayInput) }
            precondition(replayed.shape == output.shape,
                         "checkpoint: the replay produced shape \(replayed.shape), the forward pass \(output.shape)")
            // nil for what the replay did not reach (a dropped block's parameters), as without checkpointing.
            let gradients = replayed.reverse(seed: dy.value, wanted: wanted, retainGraph: false, createGraph: false).wanted
            return zip(x, gradients).map { input, gradient in input.requiresGradient ? gradient : nil }
        }
    }
}
