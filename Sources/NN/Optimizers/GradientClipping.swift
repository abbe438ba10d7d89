import Tape

/// Rescales the gradients so that their total L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`, and returns the total norm before clipping.
///
///     ‖g‖ = √(Σ over all parameters' gradients of g²)     (accumulated in Double)
///     c = maxNorm / (‖g‖ + 10⁻⁶)
///     g ← c·g   for every gradient, when c < 1
///
/// Parameters whose `grad` is nil are skipped. A non-finite norm is returned as it is: when it
/// is NaN the gradients are left unscaled, when infinite they are multiplied by 0. Check the
/// result to skip such a step.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sumOfSquares = 0.0
    for parameter in parameters {
        if let gradient = parameter.grad { sumOfSquares += gradient.withUnsafeBufferPointer(sumOfSquaresInDouble) }
    }
    let totalNorm = Float(sumOfSquares.squareRoot())
    let scale = maxNorm / (totalNorm + 1e-6)
    if scale < 1 {
        for parameter in parameters {
            parameter.grad?.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= scale }
            }
        }
    }
    return totalNorm
}

/// Σx², accumulated in Double in eight independent lanes, so that the additions vectorise
/// instead of waiting on one another.
private func sumOfSquaresInDouble(_ x: UnsafeBufferPointer<Float>) -> Double {
    var lanes = SIMD8<Double>()
    let whole = x.count & ~7
    for start in stride(from: 0, to: whole, by: 8) {
        var block = SIMD8<Double>()
        for lane in 0..<8 { block[lane] = Double(x[start + lane]) }
        lanes += block * block
    }
    var total = lanes.sum()
    for i in whole..<x.count { total += Double(x[i]) * Double(x[i]) }
    return total
}
