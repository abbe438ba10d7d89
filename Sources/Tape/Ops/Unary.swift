// Elementwise unary primitives. Pullbacks reuse the saved output where it is cheaper or more
// stable than recomputing from the input (exp, sqrt, sigmoid, tanh).

extension Variable {
    /// Exponential.
    ///
    ///     y = eˣ,  ∂x = ∂y ⊙ y
    public func exp(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("exp", value.exp(), [self], file: file, line: line) { dy, _, y in [dy * y] }
    }

    /// Natural logarithm.
    ///
    ///     y = log x,  ∂x = ∂y / x
    public func log(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("log", value.log(), [self], file: file, line: line) { dy, x, _ in [dy / x[0]] }
    }

    /// Square root.
    ///
    ///     y = √x,  ∂x = ∂y / (2y)
    public func squareRoot(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("sqrt", value.squareRoot(), [self], file: file, line: line) { dy, _, y in [dy / (y * 2)] }
    }

    /// Power with a constant exponent.
    ///
    ///     y = xᵖ,  ∂x = ∂y ⊙ p·xᵖ⁻¹
    public func pow(_ exponent: Float, file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("pow", value.pow(exponent), [self], file: file, line: line) { dy, x, _ in
            [exponent == 0 ? dy * 0 : dy * (x[0].pow(exponent - 1) * exponent)]
        }
    }

    /// Rectified linear unit. The derivative at 0 is taken as 0 (as PyTorch).
    ///
    ///     y = max(x, 0),  ∂x = ∂y ⊙ [y > 0]   (saves only y)
    public func relu(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("relu", value.relu(), [self], saves: .output, file: file, line: line) { dy, _, y in
            [dy * Variable(y.value .> 0)]   // y > 0 exactly where x > 0
        }
    }

    /// Logistic sigmoid, a primitive so that large |x| neither overflows nor loses the gradient.
    ///
    ///     y = 1 / (1 + e⁻ˣ),  ∂x = ∂y ⊙ y ⊙ (1 − y)
    public func sigmoid(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("sigmoid", value.sigmoid(), [self], file: file, line: line) { dy, _, y in [dy * (y * (1 - y))] }
    }

    /// Hyperbolic tangent.
    ///
    ///     y = tanh x,  ∂x = ∂y ⊙ (1 − y²)
    public func tanh(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("tanh", value.tanh(), [self], file: file, line: line) { dy, _, y in [dy * (1 - y * y)] }
    }

    /// Absolute value; the derivative at 0 is 0.
    ///
    ///     y = |x|,  ∂x = ∂y ⊙ sign(x)
    public func abs(file: StaticString = #fileID, line: UInt = #line) -> Variable {
        Variable.record("abs", value.abs(), [self], file: file, line: line) { dy, x, _ in [dy * Variable(x[0].value.sign())] }
    }

    /// Identity forward; multiplies the cotangent by a constant mask (broadcast to this shape) in
    /// backward. Used to let gradient flow through chosen paths only (e.g. sampling paths of
    /// given length through a residual network).
    ///
    ///     y = x,  ∂x = ∂y ⊙ mask
    public func gradientMasked(by mask: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Variable {
        precondition(Tensor.broadcastShape(mask.shape, shape) == shape, "gradientMask: mask \(mask.shape) does not broadcast to \(shape)")
        return Variable.record("gradientMask", value, [self], file: file, line: line) { dy, _, _ in [dy * Variable(mask)] }
    }

    /// Identity forward; scales the cotangent by `factor` in backward.
    public func gradientScaled(by factor: Float, file: StaticString = #fileID, line: UInt = #line) -> Variable {
        gradientMasked(by: Tensor(factor), file: file, line: line)
    }
}
