/// Per-channel normalisation, `(pixel - mean[c]) / std[c]`, with pixels in [0, 1].
public struct Normalization: Sendable, Equatable {
    /// The mean of each channel over the training set.
    public let mean: [Float]
    /// The standard deviation of each channel over the training set.
    public let std: [Float]

    /// - Precondition: one mean and one positive standard deviation per channel.
    public init(mean: [Float], std: [Float]) {
        precondition(!mean.isEmpty && mean.count == std.count, "need one mean and one std per channel")
        precondition(std.allSatisfy { $0 > 0 }, "standard deviations must be positive")
        self.mean = mean
        self.std = std
    }

    /// MNIST training-set statistics (the values every MNIST example uses).
    public static let mnist = Normalization(mean: [0.1307], std: [0.3081])
    /// Fashion-MNIST training-set statistics.
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
    /// CIFAR-10 training-set statistics (red, green, blue).
    public static let cifar10 = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    /// CIFAR-100 training-set statistics (red, green, blue).
    public static let cifar100 = Normalization(mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762])
}
