import Datasets

/// Everything that determines how `Trainer` trains a model (not which model or data): SGD's
/// hyperparameters, the learning-rate schedule and warm-up, the seed, augmentation and
/// normalisation. Stored in checkpoints, so a resume needs only the model and the data again.
public struct TrainingOptions: Sendable, Equatable {
    /// Passes over the training set.
    public var epochs: Int
    /// Images per step (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// SGD's base learning rate (before the schedule and warm-up).
    public var learningRate: Float
    /// SGD momentum μ (0 for plain SGD).
    public var momentum: Float
    /// L2 weight decay λ, added to the gradient as `torch.optim.SGD` does.
    public var weightDecay: Float
    /// Nesterov momentum (needs `momentum > 0`).
    public var nesterov: Bool
    /// How the base learning rate changes over training.
    public var schedule: ScheduleKind
    /// A low learning rate at the start until the training error falls below a threshold; nil for none.
    public var warmup: Warmup?
    /// The seed of the data order, augmentation and the forward passes' generator (dropout,
    /// stochastic depth); the model's initialisation is the caller's.
    public var seed: UInt64
    /// Random changes to each training image (never to test images).
    public var augmentation: Augmentation
    /// Per-channel normalisation of training and test images; nil to use the pixels as they are.
    public var normalization: Normalization?
    /// Prepare the next batch on a background thread (does not change any result).
    public var prefetch: Bool

    /// Options with PyTorch-like defaults: SGD with momentum 0.9, learning rate 0.1, constant schedule.
    public init(epochs: Int = 10, batchSize: Int = 64, learningRate: Float = 0.1, momentum: Float = 0.9, weightDecay: Float = 0,
                nesterov: Bool = false, schedule: ScheduleKind = .constant, warmup: Warmup? = nil, seed: UInt64 = 0,
                augmentation: Augmentation = .none, normalization: Normalization? = nil, prefetch: Bool = true) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.schedule = schedule
        self.warmup = warmup
        self.seed = seed
        self.augmentation = augmentation
        self.normalization = normalization
        self.prefetch = prefetch
    }

    /// Checks ranges; throws a message naming the option.
    public func validate() throws {
        if epochs < 1 { throw TrainingError("epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { throw TrainingError("batch size must be at least 1, got \(batchSize)") }
        if !(learningRate > 0) { throw TrainingError("learning rate must be positive, got \(learningRate)") }
        if !(momentum >= 0 && momentum < 1) { throw TrainingError("momentum must be in [0, 1), got \(momentum)") }
        if !(weightDecay >= 0) { throw TrainingError("weight decay must be non-negative, got \(weightDecay)") }
        if nesterov && momentum == 0 { throw TrainingError("Nesterov momentum needs a positive momentum") }
        try warmup?.validate()
    }

    /// The options as checkpoint metadata, under `train.`.
    public var metadata: [String: String] {
        var result = [
            "train.epochs": "\(epochs)", "train.batch_size": "\(batchSize)", "train.lr": "\(learningRate)",
            "train.momentum": "\(momentum)", "train.weight_decay": "\(weightDecay)", "train.nesterov": "\(nesterov)",
            "train.schedule": schedule.text, "train.seed": "\(seed)", "train.crop_padding": "\(augmentation.cropPadding)",
            "train.horizontal_flip": "\(augmentation.horizontalFlip)",
        ]
        if let warmup { result["train.warmup"] = warmup.text }
        if let normalization {
            result["train.normalization_mean"] = normalization.mean.map { "\($0)" }.joined(separator: ",")
            result["train.normalization_std"] = normalization.std.map { "\($0)" }.joined(separator: ",")
        }
        return result
    }

    /// Reads options back from checkpoint metadata written by `metadata`.
    public init(metadata: [String: String]) throws {
        let reader = MetadataReader(metadata: metadata, prefix: "train.")
        self.init(epochs: try reader.number("epochs"), batchSize: try reader.number("batch_size"),
                  learningRate: try reader.number("lr"), momentum: try reader.number("momentum"),
                  weightDecay: try reader.number("weight_decay"), nesterov: try reader.number("nesterov"),
                  schedule: try ScheduleKind(parsing: try reader.value("schedule")),
                  warmup: try metadata["train.warmup"].map { try Warmup(parsing: $0) }, seed: try reader.number("seed"))
        let cropPadding: Int = try reader.number("crop_padding")
        guard cropPadding >= 0 else { throw TrainingError("checkpoint metadata: train.crop_padding is negative") }
        augmentation = Augmentation(cropPadding: cropPadding, horizontalFlip: try reader.number("horizontal_flip"))
        if let meanText = metadata["train.normalization_mean"] {
            let mean = try reader.floats(meanText, "normalization_mean"), std = try reader.floats(try reader.value("normalization_std"), "normalization_std")
            guard !mean.isEmpty, mean.count == std.count, std.allSatisfy({ $0 > 0 }) else {
                throw TrainingError("checkpoint metadata: train.normalization_mean and _std need one mean and one positive std per channel")
            }
            normalization = Normalization(mean: mean, std: std)
        }
    }
}

/// He et al.'s warm-up ("Deep Residual Learning", §4.2, ResNet-110 on CIFAR-10; "Identity
/// Mappings", §4): train at a low learning rate "until the training error is below 80%", then go
/// back to the schedule's rate. The running training error is the fraction misclassified over the
/// last `window` steps' images, checked after every step once `window` steps have run; the switch
/// happens once and is kept in checkpoints.
public struct Warmup: Sendable, Equatable {
    /// The learning rate while warming up.
    public var learningRate: Float
    /// Warm-up ends after the first step at which the running training error is below this.
    public var errorThreshold: Float
    /// Steps in the running training error.
    public var window: Int

    /// He et al.'s values are `learningRate: 0.01, untilErrorBelow: 0.8`.
    public init(learningRate: Float = 0.01, untilErrorBelow errorThreshold: Float = 0.8, window: Int = 50) {
        self.learningRate = learningRate
        self.errorThreshold = errorThreshold
        self.window = window
    }

    /// Checks ranges; throws a message naming the field.
    public func validate() throws {
        if !(learningRate > 0) { throw TrainingError("warm-up learning rate must be positive, got \(learningRate)") }
        if !(errorThreshold > 0 && errorThreshold <= 1) { throw TrainingError("warm-up error threshold must be in (0, 1], got \(errorThreshold)") }
        if window < 1 { throw TrainingError("warm-up window must be at least 1 step, got \(window)") }
    }

    /// `LR:ERROR:WINDOW`, e.g. `0.01:0.8:50`.
    public var text: String { "\(learningRate):\(errorThreshold):\(window)" }

    /// Parses `LR:ERROR` or `LR:ERROR:WINDOW` (the window defaults to 50 steps).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let learningRate = Float(parts[0]), let threshold = Float(parts[1]),
              let window = parts.count == 3 ? Int(parts[2]) : 50 else {
            throw TrainingError("warm-up '\(text)': expected LR:ERROR or LR:ERROR:WINDOW, e.g. 0.01:0.8 (rate 0.01 until the training error is below 80%)")
        }
        self.init(learningRate: learningRate, untilErrorBelow: threshold, window: window)
        try validate()
    }
}

/// Typed reads of checkpoint metadata, with errors naming the key.
struct MetadataReader {
    let metadata: [String: String]
    var prefix = ""

    func value(_ key: String) throws -> String {
        guard let value = metadata[prefix + key] else { throw TrainingError("checkpoint metadata lacks '\(prefix + key)'") }
        return value
    }

    func number<T: LosslessStringConvertible>(_ key: String) throws -> T {
        guard let parsed = T(try value(key)) else {
            throw TrainingError("checkpoint metadata: '\(prefix + key)' is not a valid \(T.self): '\(try value(key))'")
        }
        return parsed
    }

    func floats(_ text: String, _ key: String) throws -> [Float] {
        try text.split(separator: ",").map {
            guard let value = Float($0) else { throw TrainingError("checkpoint metadata: '\(prefix + key)' is not a list of numbers: '\(text)'") }
            return value
        }
    }
}
