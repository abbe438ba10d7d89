// Elementwise binary primitives with NumPy broadcasting. Each pullback reduces its cotangent to
// the input's shape through the one `unbroadcasted(to:)` helper.

extension Variable {
    /// Sum with broadcasting.
    ///
    ///     y  = a + b
    ///     ∂a = unbroadcast(∂y, a.shape),  ∂b = unbroadcast(∂y, b.shape)
    public static func + (a: Variable, b: Variable) -> Variable {
        record("add", a.value + b.value, [a, b], saves: .shapesOnly) { dy, x, _ in
            [x[0].gradient { dy.unbroadcasted(to: x[0].shape) }, x[1].gradient { dy.unbroadcasted(to: x[1].shape) }]
        }
    }

    /// Difference with broadcasting.
    ///
    ///     y  = a − b
    ///     ∂a = unbroadcast(∂y, a.shape),  ∂b = −unbroadcast(∂y, b.shape)
    public static func - (a: Variable, b: Variable) -> Variable {
        record("sub", a.value - b.value, [a, b], saves: .shapesOnly) { dy, x, _ in
            [x[0].gradient { dy.unbroadcasted(to: x[0].shape) }, x[1].gradient { -dy.unbroadcasted(to: x[1].shape) }]
        }
    }

    /// Elementwise product with broadcasting.
    ///
    ///     y  = a ⊙ b
    ///     ∂a = unbroadcast(∂y ⊙ b, a.shape),  ∂b = unbroadcast(∂y ⊙ a, b.shape)
    public static func * (a: Variable, b: Variable) -> Variable {
        record("mul", a.value * b.value, [a, b], saves: .inputs) { dy, x, _ in
            [x[0].gradient { (dy * x[1]).unbroadcasted(to: x[0].shape) },
             x[1].gradient { (dy * x[0]).unbroadcasted(to: x[1].shape) }]
        }
    }

    /// Elementwise quotient with broadcasting.
    ///
    ///     y  = a / b
    ///     ∂a = unbroadcast(∂y / b, a.shape),  ∂b = unbroadcast(−∂y ⊙ y / b, b.shape)
    public static func / (a: Variable, b: Variable) -> Variable {
        record("div", a.value / b.value, [a, b]) { dy, x, y in
            [x[0].gradient { (dy / x[1]).unbroadcasted(to: x[0].shape) },
             x[1].gradient { (-(dy * y) / x[1]).unbroadcasted(to: x[1].shape) }]
        }
    }

    /// Negation.
    ///
    ///     y = −x,  ∂x = −∂y
    public static prefix func - (x: Variable) -> Variable {
        record("neg", -x.value, [x], saves: .shapesOnly) { dy, _, _ in [-dy] }
    }

    /// Multiplication by a constant scalar (no constant tensor is made or saved).
    ///
    ///     y = c·x,  ∂x = c·∂y
    public func scaled(by c: Float) -> Variable {
        Variable.record("scale", value * c, [self], saves: .shapesOnly) { dy, _, _ in [dy.scaled(by: c)] }
    }

    /// Addition of a constant scalar.
    ///
    ///     y = x + c,  ∂x = ∂y
    public func shifted(by c: Float) -> Variable {
        Variable.record("shift", value + c, [self], saves: .shapesOnly) { dy, _, _ in [dy] }
    }

    /// Adds a constant scalar: y = a + c, ∂a = ∂y.
    public static func + (a: Variable, b: Float) -> Variable { a.shifted(by: b) }
    /// Subtracts a constant scalar: y = a − c, ∂a = ∂y.
    public static func - (a: Variable, b: Float) -> Variable { a.shifted(by: -b) }
    /// Multiplies by a constant scalar: y = c·a, ∂a = c·∂y.
    public static func * (a: Variable, b: Float) -> Variable { a.scaled(by: b) }
    /// Divides by a constant scalar: y = a / c, ∂a = ∂y / c.
    public static func / (a: Variable, b: Float) -> Variable { a.scaled(by: 1 / b) }
    /// A constant scalar plus b: y = c + b, ∂b = ∂y.
    public static func + (a: Float, b: Variable) -> Variable { b.shifted(by: a) }
    /// A constant scalar minus b: y = c − b, ∂b = −∂y.
    public static func - (a: Float, b: Variable) -> Variable { (-b).shifted(by: a) }
    /// A constant scalar times b: y = c·b, ∂b = c·∂y.
    public static func * (a: Float, b: Variable) -> Variable { b.scaled(by: a) }
    /// A constant scalar over b, elementwise: y = c / b, ∂b = −∂y ⊙ y / b.
    public static func / (a: Float, b: Variable) -> Variable { Variable(Tensor(a)) / b }
}

// Binary ops with no principal operand are free functions (see README, "Calling ops").

/// The larger of each pair (broadcast). Ties send half the cotangent to each side, as PyTorch.
///
///     y  = max(a, b),  m = [a > b] + ½[a = b]
///     ∂a = unbroadcast(∂y ⊙ m, a.shape),  ∂b = unbroadcast(∂y ⊙ (1 − m), b.shape)
public func maximum(_ a: Variable, _ b: Variable) -> Variable {
    Variable.record("maximum", maximum(a.value, b.value), [a, b]) { dy, x, _ in
        let share = Tensor.elementwise(x[0].value, x[1].value) { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
        return [x[0].gradient { (dy * Variable(share)).unbroadcasted(to: x[0].shape) },
                x[1].gradient { (dy * Variable(1 - share)).unbroadcasted(to: x[1].shape) }]
    }
}

/// The smaller of each pair (broadcast); ties split the cotangent evenly.
///
///     y  = min(a, b),  m = [a < b] + ½[a = b]
///     ∂a = unbroadcast(∂y ⊙ m, a.shape),  ∂b = unbroadcast(∂y ⊙ (1 − m), b.shape)
public func minimum(_ a: Variable, _ b: Variable) -> Variable {
    Variable.record("minimum", minimum(a.value, b.value), [a, b]) { dy, x, _ in
        let share = Tensor.elementwise(x[0].value, x[1].value) { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
        return [x[0].gradient { (dy * Variable(share)).unbroadcasted(to: x[0].shape) },
                x[1].gradient { (dy * Variable(1 - share)).unbroadcasted(to: x[1].shape) }]
    }
}

/// Chooses elementwise: `a` where `mask` is nonzero, else `b` (all broadcast).
///
///     y  = mask ? a : b
///     ∂a = unbroadcast(∂y ⊙ [mask], a.shape),  ∂b = unbroadcast(∂y ⊙ (1 − [mask]), b.shape)
public func select(_ mask: Tensor, _ a: Variable, _ b: Variable) -> Variable {
    Variable.record("where", select(mask, a.value, b.value), [a, b]) { dy, x, _ in
        let chosen = mask.map { $0 != 0 ? 1 : 0 }
        return [x[0].gradient { (dy * Variable(chosen)).unbroadcasted(to: x[0].shape) },
                x[1].gradient { (dy * Variable(1 - chosen)).unbroadcasted(to: x[1].shape) }]
    }
}

// Comparisons give constant masks (1 where true, else 0): they have no gradient.
extension Variable {
    /// 1 where a > b, else 0 (broadcast): a constant mask.
    public static func .> (a: Variable, b: Variable) -> Tensor { a.value .> b.value }
    /// 1 where a ≥ b, else 0 (broadcast): a constant mask.
    public static func .>= (a: Variable, b: Variable) -> Tensor { a.value .>= b.value }
    /// 1 where a < b, else 0 (broadcast): a constant mask.
    public static func .< (a: Variable, b: Variable) -> Tensor { a.value .< b.value }
    /// 1 where a ≤ b, else 0 (broadcast): a constant mask.
    public static func .<= (a: Variable, b: Variable) -> Tensor { a.value .<= b.value }
    /// 1 where a = b, else 0 (broadcast): a constant mask.
    public static func .== (a: Variable, b: Variable) -> Tensor { a.value .== b.value }
}
