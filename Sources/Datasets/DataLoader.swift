#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import SeededRandom

/// One mini-batch: a copy of some images of an image set, augmented and normalised.
public struct Batch: Sendable, Equatable {
    /// The pixels, N×C×H×W row-major.
    public let images: [Float]
    /// `[N, C, H, W]`.
    public let shape: [Int]
    /// The class of each image.
    public let labels: [Int]
    /// The position of each image in the image set.
    public let indices: [Int]

    /// The number of images (N).
    public var count: Int { labels.count }
}

/// Iterates over an image set in mini-batches, epoch after epoch.
///
/// The batches of an epoch are a pure function of the settings, the seed, the epoch number and
/// the batch's position: epoch `e` visits the images in an order drawn from `(seed, e)`, and the
/// augmentation of batch `b` is drawn from `(seed, e, b)`. Saving `epoch` and `position` and
/// passing them to `seek` (or `init`) therefore resumes a run exactly, and background prefetching
/// cannot change any batch.
///
/// `next()` returns the batches of the current epoch and then `nil`, moving on to the next epoch,
/// so `for batch in loader { ... }` runs one epoch and can be repeated:
///
///     for _ in 0..<epochs { for batch in loader { train(batch) } }
public final class DataLoader: Sequence, IteratorProtocol {
    /// The images.
    public let dataset: ImageSet
    /// Images per batch (the last batch of an epoch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Visit the images in a new random order every epoch (otherwise in stored order).
    public let shuffle: Bool
    /// Skip the last batch of an epoch when it would be smaller than `batchSize`.
    public let dropLast: Bool
    /// The seed of every random choice (order and augmentation).
    public let seed: UInt64
    /// Per-channel normalisation applied after augmentation, if any.
    public let normalization: Normalization?
    /// Random changes to each image.
    public let augmentation: Augmentation
    /// Prepare the next batch on a background thread while the caller works on this one.
    public let prefetch: Bool

    /// The epoch the next batch comes from, counting from 0.
    public private(set) var epoch: Int
    /// The index, within `epoch`, of the next batch (`batchesPerEpoch` once the epoch is done).
    public private(set) var position: Int

    private let recipe: BatchRecipe
    private var currentOrder: (epoch: Int, indices: [Int])?
    private var pending: PendingBatch?

    /// - Parameters:
    ///   - epoch, position: where to start (as saved from a previous run's `epoch` and `position`).
    /// - Precondition: `batchSize > 0`; `normalization`, when given, has one mean per channel;
    ///   `position` lies in `0...batchesPerEpoch`.
    public init(
        _ dataset: ImageSet, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0,
        normalization: Normalization? = nil, augmentation: Augmentation = .none, prefetch: Bool = false,
        epoch: Int = 0, position: Int = 0
    ) {
        precondition(batchSize > 0, "batch size must be positive")
        if let normalization {
            precondition(normalization.mean.count == dataset.channels,
                         "normalisation has \(normalization.mean.count) channels, images have \(dataset.channels)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.normalization = normalization
        self.augmentation = augmentation
        self.prefetch = prefetch
        self.epoch = 0
        self.position = 0
        recipe = BatchRecipe(dataset: dataset, batchSize: batchSize, shuffle: shuffle, seed: seed,
                             normalization: normalization, augmentation: augmentation)
        seek(epoch: epoch, position: position)
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Moves to batch `position` of `epoch` (for resuming a saved run), dropping any prefetched batch.
    ///
    /// - Precondition: `position` lies in `0...batchesPerEpoch`.
    public func seek(epoch: Int, position: Int) {
        precondition((0...batchesPerEpoch).contains(position), "position \(position) outside 0...\(batchesPerEpoch)")
        self.epoch = epoch
        self.position = position
        pending = nil
    }

    /// The next batch of the current epoch, or `nil` when the epoch is over (the loader then
    /// moves to the start of the next epoch).
    public func next() -> Batch? {
        guard position < batchesPerEpoch else {
            epoch += 1
            position = 0
            return nil
        }
        let batch: Batch
        if let pending, pending.epoch == epoch, pending.position == position {
            batch = pending.wait()
        } else {
            batch = recipe.batch(order: order(epoch: epoch), epoch: epoch, position: position)
        }
        pending = nil
        position += 1
        if prefetch { startPrefetch() }
        return batch
    }

    /// Batch `position` of `epoch`, computed directly (the loader's state does not change).
    public func batch(epoch: Int, position: Int) -> Batch {
        precondition((0..<batchesPerEpoch).contains(position), "position \(position) outside 0..<\(batchesPerEpoch)")
        return recipe.batch(order: order(epoch: epoch), epoch: epoch, position: position)
    }

    /// The order in which `epoch` visits the images (a permutation of `0..<dataset.count`).
    public func order(epoch: Int) -> [Int] {
        if let currentOrder, currentOrder.epoch == epoch { return currentOrder.indices }
        let indices = recipe.order(epoch: epoch)
        currentOrder = (epoch, indices)
        return indices
    }

    /// Starts computing the batch after the current one (the first of the next epoch when the
    /// current epoch has no more).
    private func startPrefetch() {
        let (nextEpoch, nextPosition) = position < batchesPerEpoch ? (epoch, position) : (epoch + 1, 0)
        guard nextPosition < batchesPerEpoch else { return }
        let job = PendingBatch(epoch: nextEpoch, position: nextPosition)
        let recipe = recipe
        let knownOrder = currentOrder?.epoch == nextEpoch ? currentOrder?.indices : nil
        DispatchQueue.global(qos: .userInitiated).async {
            let order = knownOrder ?? recipe.order(epoch: nextEpoch)
            job.fulfil(recipe.batch(order: order, epoch: nextEpoch, position: nextPosition))
        }
        pending = job
    }
}

/// Everything needed to compute any batch, shareable with a background thread.
struct BatchRecipe: Sendable {
    let dataset: ImageSet
    let batchSize: Int
    let shuffle: Bool
    let seed: UInt64
    let normalization: Normalization?
    let augmentation: Augmentation

    /// Stream tags, so that orders and augmentations never share random numbers.
    private static let orderStream: UInt64 = 0x6F72_6465_7200_0000
    private static let augmentationStream: UInt64 = 0x6175_676D_0000_0000

    /// The visiting order of `epoch`: a Fisher–Yates shuffle driven by `(seed, epoch)`.
    func order(epoch: Int) -> [Int] {
        var indices = Array(0..<dataset.count)
        guard shuffle else { return indices }
        var generator = SplitMix64(seed: derivedSeed(Self.orderStream, epoch, 0))
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = Int(UInt64(i + 1).multipliedFullWidth(by: generator.next()).high)
            indices.swapAt(i, j)
        }
        return indices
    }

    /// Batch `position` of an epoch visiting the images in `order`.
    func batch(order: [Int], epoch: Int, position: Int) -> Batch {
        let indices = Array(order[position * batchSize..<min((position + 1) * batchSize, order.count)])
        let size = dataset.pixelsPerImage
        let (channels, height, width) = (dataset.channels, dataset.height, dataset.width)
        var generator = SplitMix64(seed: derivedSeed(Self.augmentationStream, epoch, position))
        let images = [Float](unsafeUninitializedCapacity: indices.count * size) { target, initialized in
            dataset.images.withUnsafeBufferPointer { source in
                for (slot, index) in indices.enumerated() {
                    let image = UnsafeBufferPointer(rebasing: source[index * size..<(index + 1) * size])
                    let output = UnsafeMutableBufferPointer(rebasing: target[slot * size..<(slot + 1) * size])
                    if augmentation.isIdentity {
                        memcpy(output.baseAddress!, image.baseAddress!, size * MemoryLayout<Float>.stride)
                    } else {
                        augmentation.apply(to: image, channels: channels, height: height, width: width,
                                           output: output, using: &generator)
                    }
                }
            }
            initialized = indices.count * size
            if let normalization { normalize(target, with: normalization) }
        }
        return Batch(images: images, shape: [indices.count, channels, height, width],
                     labels: indices.map { dataset.labels[$0] }, indices: indices)
    }

    private func normalize(_ images: UnsafeMutableBufferPointer<Float>, with normalization: Normalization) {
        let plane = dataset.height * dataset.width
        for channelStart in stride(from: 0, to: images.count, by: plane) {
            let channel = channelStart / plane % dataset.channels
            let mean = normalization.mean[channel]
            let inverseStd = 1 / normalization.std[channel]
            for i in channelStart..<channelStart + plane {
                images[i] = (images[i] - mean) * inverseStd
            }
        }
    }

    /// A seed for one purpose (`stream`) at one `(epoch, position)`, mixed from the loader's seed.
    private func derivedSeed(_ stream: UInt64, _ epoch: Int, _ position: Int) -> UInt64 {
        var generator = SplitMix64(seed: seed ^ stream)
        for part in [UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(position))] {
            generator = SplitMix64(seed: generator.next() ^ part)
        }
        return generator.next()
    }
}

/// A batch being computed on another thread. The worker writes `result` once, before signalling;
/// the owner reads it once, after waiting — the semaphore orders the two.
private final class PendingBatch: @unchecked Sendable {
    let epoch: Int
    let position: Int
    private let done = DispatchSemaphore(value: 0)
    private var result: Batch?

    init(epoch: Int, position: Int) {
        self.epoch = epoch
        self.position = position
    }

    func fulfil(_ batch: Batch) {
        result = batch
        done.signal()
    }

    func wait() -> Batch {
        done.wait()
        guard let result else { preconditionFailure("prefetch finished without a batch") }
        return result
    }
}
