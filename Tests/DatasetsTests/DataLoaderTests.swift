import Testing
@testable import Datasets

@Suite struct DataLoaderTests {
    /// 103 RGB 6×5 images; pixel `p` of image `i` is `((i * 31 + p * 7) % 256) / 255`, label `i % 10`.
    static let images: ImageSet = {
        let (count, size) = (103, 3 * 6 * 5)
        let pixels = (0..<count * size).map { (index: Int) -> Float in
            Float(((index / size) * 31 + (index % size) * 7) % 256) / 255
        }
        return ImageSet(name: "synthetic", images: pixels, labels: (0..<count).map { $0 % 10 },
                        channels: 3, height: 6, width: 5, classCount: 10)
    }()

    /// All batches of the loader's current epoch.
    static func epoch(_ loader: DataLoader) -> [Batch] {
        Array(loader)
    }

    @Test func everyImageAppearsOncePerEpochInFullSizedBatches() {
        let loader = DataLoader(Self.images, batchSize: 10, seed: 3)
        #expect(loader.batchesPerEpoch == 11)
        for epoch in 0..<3 {
            #expect(loader.epoch == epoch)
            let batches = Self.epoch(loader)
            #expect(batches.map(\.count) == Array(repeating: 10, count: 10) + [3])
            #expect(batches.flatMap(\.indices).sorted() == Array(0..<103))
            #expect(batches.flatMap(\.indices) == loader.order(epoch: epoch))
            for batch in batches {
                #expect(batch.shape == [batch.count, 3, 6, 5])
                #expect(batch.labels == batch.indices.map { $0 % 10 })
                #expect(batch.images == batch.indices.flatMap { Array(Self.images.image(at: $0)) })
            }
        }
    }

    @Test func dropLastSkipsThePartialBatch() {
        let loader = DataLoader(Self.images, batchSize: 10, dropLast: true)
        #expect(loader.batchesPerEpoch == 10)
        let batches = Self.epoch(loader)
        #expect(batches.count == 10 && batches.allSatisfy { $0.count == 10 })
        #expect(Set(batches.flatMap(\.indices)).count == 100)
    }

    @Test func withoutShufflingTheOrderIsTheStoredOne() {
        let loader = DataLoader(Self.images, batchSize: 50, shuffle: false)
        #expect(Self.epoch(loader).flatMap(\.indices) == Array(0..<103))
        #expect(Self.epoch(loader).flatMap(\.indices) == Array(0..<103))
    }

    @Test func sameSeedSameBatchesOtherSeedOrEpochOtherOrder() {
        let first = DataLoader(Self.images, batchSize: 16, seed: 42, augmentation: .padCropFlip)
        let second = DataLoader(Self.images, batchSize: 16, seed: 42, augmentation: .padCropFlip)
        let other = DataLoader(Self.images, batchSize: 16, seed: 43, augmentation: .padCropFlip)
        let firstEpochs = [Self.epoch(first), Self.epoch(first)]
        #expect(firstEpochs == [Self.epoch(second), Self.epoch(second)])
        #expect(firstEpochs[0] != Self.epoch(other))
        #expect(firstEpochs[0].flatMap(\.indices) != firstEpochs[1].flatMap(\.indices))
        #expect(first.order(epoch: 7) == second.order(epoch: 7))
    }

    @Test func resumingFromASavedPositionGivesTheSameBatches() {
        let settings = (batchSize: 8, seed: UInt64(9))
        let original = DataLoader(Self.images, batchSize: settings.batchSize, seed: settings.seed,
                                  normalization: .cifar10, augmentation: .padCropFlip)
        _ = Self.epoch(original)
        for _ in 0..<5 { _ = original.next() }
        let saved = (epoch: original.epoch, position: original.position)
        #expect(saved == (1, 5))
        let expected = Self.epoch(original) + Self.epoch(original)

        let resumed = DataLoader(Self.images, batchSize: settings.batchSize, seed: settings.seed, normalization: .cifar10,
                                 augmentation: .padCropFlip, epoch: saved.epoch, position: saved.position)
        #expect(Self.epoch(resumed) + Self.epoch(resumed) == expected)

        let seeking = DataLoader(Self.images, batchSize: settings.batchSize, seed: settings.seed,
                                 normalization: .cifar10, augmentation: .padCropFlip)
        seeking.seek(epoch: 1, position: 5)
        #expect(Self.epoch(seeking) + Self.epoch(seeking) == expected)
        #expect(seeking.batch(epoch: 1, position: 5) == expected[0])
    }

    @Test func prefetchingChangesNothing() {
        func run(prefetch: Bool) -> [Batch] {
            let loader = DataLoader(Self.images, batchSize: 7, seed: 5, normalization: .cifar10,
                                    augmentation: .padCropFlip, prefetch: prefetch)
            var batches = Self.epoch(loader)
            for _ in 0..<4 { batches.append(loader.next()!) }
            loader.seek(epoch: 5, position: 2)  // discards the pending prefetch
            return batches + Self.epoch(loader) + Self.epoch(loader)
        }
        #expect(run(prefetch: true) == run(prefetch: false))
    }

    @Test func augmentationIsSeededAndOnlyCropsAndFlips() throws {
        let plain = DataLoader(Self.images, batchSize: 103, shuffle: false)
        let flipOnly = DataLoader(Self.images, batchSize: 103, shuffle: false, seed: 1,
                                  augmentation: Augmentation(horizontalFlip: true))
        let original = try #require(plain.next())
        let flipped = try #require(flipOnly.next())
        var flips = 0
        for index in 0..<103 {
            let image = Array(original.images[index * 90..<(index + 1) * 90])
            let output = Array(flipped.images[index * 90..<(index + 1) * 90])
            let mirrored = Self.transform(image, shiftY: 0, shiftX: 0, flip: true)
            #expect(output == image || output == mirrored)
            if output == mirrored { flips += 1 }
        }
        #expect((30...73).contains(flips))  // about half

        let cropping = DataLoader(Self.images, batchSize: 103, shuffle: false, seed: 2, augmentation: .padCropFlip)
        let cropped = try #require(cropping.next())
        var identities = 0
        for index in 0..<103 {
            let image = Array(original.images[index * 90..<(index + 1) * 90])
            let output = Array(cropped.images[index * 90..<(index + 1) * 90])
            let candidates = (-4...4).flatMap { y in (-4...4).flatMap { x in [false, true].map { (y, x, $0) } } }
            #expect(candidates.contains { Self.transform(image, shiftY: $0.0, shiftX: $0.1, flip: $0.2) == output })
            if output == image { identities += 1 }
        }
        #expect(identities < 10)
        #expect(cropping.batch(epoch: 0, position: 0) == cropped)
        let otherSeed = DataLoader(Self.images, batchSize: 103, shuffle: false, seed: 3, augmentation: .padCropFlip)
        #expect(otherSeed.next() != cropped)
    }

    @Test func normalisationUsesEachChannelsMeanAndStd() throws {
        let normalization = Normalization(mean: [0.1, 0.5, 0.9], std: [0.5, 0.25, 2])
        let loader = DataLoader(Self.images, batchSize: 4, shuffle: false, normalization: normalization)
        let batch = try #require(loader.next())
        for (offset, value) in batch.images.enumerated() {
            let channel = offset / 30 % 3
            let raw = Self.images.images[offset]
            #expect(abs(value - (raw - normalization.mean[channel]) / normalization.std[channel]) < 1e-5)
        }
        #expect(Normalization.mnist == Normalization(mean: [0.1307], std: [0.3081]))
        #expect(Normalization.cifar10.mean == [0.4914, 0.4822, 0.4465])
        #expect(Normalization.cifar10.std == [0.2470, 0.2435, 0.2616])
    }

    @Test func subsetsAndPrefixesKeepTheirImages() {
        let middle = Self.images.subset(10..<20)
        #expect(middle.count == 10 && middle.labels == Array(0..<10))
        #expect(middle.image(at: 3) == Self.images.image(at: 13))
        #expect(Self.images.prefix(5).labels == [0, 1, 2, 3, 4])
        #expect(Self.images.prefix(500).count == 103)
    }

    /// The reference crop-then-flip of one 3×6×5 image: output (y, x) is input
    /// (y + shiftY, x' + shiftX) with x' = x or 4 - x, and 0 outside the image.
    static func transform(_ image: [Float], shiftY: Int, shiftX: Int, flip: Bool) -> [Float] {
        var output = [Float](repeating: 0, count: image.count)
        for channel in 0..<3 {
            for y in 0..<6 {
                for x in 0..<5 {
                    let sourceY = y + shiftY
                    let sourceX = (flip ? 4 - x : x) + shiftX
                    if (0..<6).contains(sourceY) && (0..<5).contains(sourceX) {
                        output[channel * 30 + y * 5 + x] = image[channel * 30 + sourceY * 5 + sourceX]
                    }
                }
            }
        }
        return output
    }
}
