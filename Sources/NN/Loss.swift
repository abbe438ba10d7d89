import Tape

/// How per-example losses are combined.
public enum Reduction: Sendable {
    /// The mean over examples (PyTorch's `reduction="mean"`, the default).
    case mean
    /// The sum over examples (`reduction="sum"`).
    case sum
    /// One loss per example, [N] (`reduction="none"`).
    case none
}

/// Cross-entropy from logits with a stable log-softmax (as `nn.CrossEntropyLoss`).
///
///     loss_n = −Σ_c t_{n,c}·log softmax(z_n)_c,  t = (1 − ε)·onehot(label) + ε/C
///
/// - Parameters:
///   - logits: [N, C].
///   - labels: N class indices in 0..<C.
///   - labelSmoothing: ε in [0, 1].
public func crossEntropy(logits: Variable, labels: [Int], reduction: Reduction = .mean, labelSmoothing: Float = 0) -> Variable {
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: label smoothing must be in [0, 1], got \(labelSmoothing)")
    let classes = logits.shape.last ?? 0
    let target = oneHot(labels, classes: classes, shape: logits.shape, op: "crossEntropy") * (1 - labelSmoothing)
        + labelSmoothing / Float(classes)
    return reduce(-(Variable(target) * logits.logSoftmax(alongAxis: 1)).sum(alongAxes: [1]), reduction)
}

/// Negative log-likelihood of log-probabilities [N, C] (as `nn.NLLLoss`): −logp[n, label_n].
public func negativeLogLikelihood(logProbabilities: Variable, labels: [Int], reduction: Reduction = .mean) -> Variable {
    let target = oneHot(labels, classes: logProbabilities.shape.last ?? 0, shape: logProbabilities.shape, op: "negativeLogLikelihood")
    return reduce(-(Variable(target) * logProbabilities).sum(alongAxes: [1]), reduction)
}

/// Mean squared error (as `nn.MSELoss`): mean((x − y)²).
public func meanSquaredError(_ prediction: Variable, _ target: Variable, reduction: Reduction = .mean) -> Variable {
    precondition(prediction.shape == target.shape, "meanSquaredError: prediction \(prediction.shape) vs target \(target.shape)")
    let difference = prediction - target
    return reduce(difference * difference, reduction)
}

/// The fraction of rows of `logits` [N, C] whose largest entry is at the label.
public func accuracy(logits: Tensor, labels: [Int]) -> Float {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "accuracy: logits \(logits.shape) for \(labels.count) labels")
    guard !labels.isEmpty else { return 0 }
    let values = logits.scalars, classes = logits.shape[1]
    var correct = 0
    for (row, label) in labels.enumerated() {
        let slice = values[(row * classes)..<((row + 1) * classes)]
        if slice.indices.max(by: { slice[$0] < slice[$1] }).map({ $0 - row * classes }) == label { correct += 1 }
    }
    return Float(correct) / Float(labels.count)
}

func oneHot(_ labels: [Int], classes: Int, shape: [Int], op: StaticString) -> Tensor {
    precondition(shape.count == 2 && shape[0] == labels.count, "\(op): input \(shape) for \(labels.count) labels (expected [N, C])")
    var scalars = [Float](repeating: 0, count: labels.count * classes)
    for (row, label) in labels.enumerated() {
        precondition(label >= 0 && label < classes, "\(op): label \(label) out of range 0..<\(classes)")
        scalars[row * classes + label] = 1
    }
    return Tensor(shape: shape, scalars: scalars)
}

func reduce(_ losses: Variable, _ reduction: Reduction) -> Variable {
    switch reduction {
    case .mean: losses.mean()
    case .sum: losses.sum()
    case .none: losses
    }
}
