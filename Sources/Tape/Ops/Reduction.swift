// Reductions. `sum` and `max` are primitives; `mean`, `variance` and `logSumExp` compose them.

extension Variable {
    /// Sum over `axes` (all when nil), keeping reduced axes as size 1 when `keepingDimensions`.
    ///
    ///     y = Σ_axes x,  ∂x = broadcast(∂y, x.shape)
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let reduced = value.reductionAxes(axes, op: "sum"), kept = value.keptShape(reducing: reduced)
        return Variable.record("sum", value.sum(alongAxes: reduced, keepingDimensions: keepingDimensions), [self],
                               file: file, line: line) { dy, x, _ in
            [dy.reshaped(to: kept).broadcasted(to: x[0].shape)]
        }
    }

    /// Maximum over `axes` (all when nil). Tied maxima share the cotangent evenly (as `torch.amax`).
    ///
    ///     y = max_axes x,  m = [x = y],  ∂x = broadcast(∂y) ⊙ m / Σ_axes m
    public func max(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false,
                    file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let reduced = value.reductionAxes(axes, op: "max"), kept = value.keptShape(reducing: reduced)
        return Variable.record("max", value.max(alongAxes: reduced, keepingDimensions: keepingDimensions), [self],
                               file: file, line: line) { dy, x, y in
            let winners = x[0].value .== y.value.reshaped(to: kept)
            let share = winners / winners.sum(alongAxes: reduced, keepingDimensions: true)
            return [dy.reshaped(to: kept).broadcasted(to: x[0].shape) * Variable(share)]
        }
    }

    /// Mean over `axes` (all when nil): the sum divided by the number of reduced elements.
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false,
                     file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let reduced = value.reductionAxes(axes, op: "mean")
        let n = reduced.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: reduced, keepingDimensions: keepingDimensions, file: file, line: line) * (1 / Float(n))
    }

    /// Variance over `axes` (all when nil): Σ(x − mean)² / (n − correction); correction 0 gives
    /// the biased (population) variance, 1 the unbiased sample variance.
    public func variance(alongAxes axes: [Int]? = nil, correction: Int = 0, keepingDimensions: Bool = false,
                         file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let reduced = value.reductionAxes(axes, op: "variance")
        let n = reduced.reduce(1) { $0 * shape[$1] }
        precondition(n > correction, "variance: \(n) elements with correction \(correction)")
        let deviation = self - mean(alongAxes: reduced, keepingDimensions: true, file: file, line: line)
        return (deviation * deviation).sum(alongAxes: reduced, keepingDimensions: keepingDimensions, file: file, line: line)
            * (1 / Float(n - correction))
    }

    /// log Σ exp(x) over `axis`, stable: the (constant) maximum m is subtracted first, which
    /// leaves the value and the gradient (softmax) unchanged.
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false,
                          file: StaticString = #fileID, line: UInt = #line) -> Variable {
        let position = value.normalizedAxis(axis, op: "logSumExp")
        let maximum = value.max(alongAxes: [position], keepingDimensions: true).map { $0.isFinite ? $0 : 0 }
        let shifted = (self - Variable(maximum)).exp(file: file, line: line)
            .sum(alongAxes: [position], keepingDimensions: true, file: file, line: line).log(file: file, line: line)
            + Variable(maximum)
        return keepingDimensions ? shifted : shifted.squeezed(axes: [position])
    }

    /// log-softmax over `axis`: x − logΣexp(x). Composed, so its gradient (∂y − softmax·Σ∂y)
    /// and second derivative come from the primitives.
    public func logSoftmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Variable {
        self - logSumExp(alongAxis: axis, keepingDimensions: true, file: file, line: line)
    }

    /// softmax over `axis`: exp(logSoftmax(x)).
    public func softmax(alongAxis axis: Int = -1, file: StaticString = #fileID, line: UInt = #line) -> Variable {
        logSoftmax(alongAxis: axis, file: file, line: line).exp(file: file, line: line)
    }
}
