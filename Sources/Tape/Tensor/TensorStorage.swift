import Synchronization

/// A fixed-size block of `Float`s shared by a tensor and all of its views.
///
/// A class so that views alias one allocation; `Tensor` gives it value semantics by copying on
/// write when the block is shared (`isKnownUniquelyReferenced`). Large blocks come from and go
/// back to `BufferPool`, so a training step reuses the previous step's memory instead of
/// faulting in fresh pages for every activation.
///
/// Sendable for the same reason `Array`'s buffer is: the pointer and count never change, and
/// the elements are written only (1) by the kernel that allocates the block, before any other
/// tensor can see it, or (2) through a `Tensor` whose storage `isKnownUniquelyReferenced` (see
/// `Tensor.makeUniquelyReferenced` and `withUnsafeMutableBufferPointer`): then no other value,
/// and so no other thread, holds the block. Shared blocks are only read, from any thread. The
/// block's release in `deinit` goes through `BufferPool`, which takes a `Mutex`.
///
/// A struct around the class `Block` because `ManagedBuffer`, whose tail allocation lets blocks
/// smaller than `BufferPool.minimumCount` live in the object itself (one allocation for object
/// and floats, which matters for the tape's many small tensors), cannot be `Sendable` itself.
/// Larger blocks point into the pool.
struct TensorStorage: @unchecked Sendable {
    /// The block's size and where its floats are: the object's own tail, or a pool block.
    struct Header {
        let count: Int
        let base: UnsafeMutablePointer<Float>
    }

    /// The reference that views share.
    final class Block: ManagedBuffer<Header, Float> {
        deinit {
            let base = header.base
            if base != withUnsafeMutablePointerToElements({ $0 }) { BufferPool.release(base, count: header.count) }
        }
    }

    var block: Block

    /// The number of floats.
    var count: Int { block.header.count }
    /// The first float.
    var base: UnsafeMutablePointer<Float> { block.header.base }

    /// A block of `count` floats whose contents are not initialised.
    static func uninitialized(count: Int) -> TensorStorage {
        let inline = count < BufferPool.minimumCount
        let object = Block.create(minimumCapacity: inline ? Swift.max(count, 1) : 0) { object in
            Header(count: count, base: inline ? object.withUnsafeMutablePointerToElements { $0 }
                                              : BufferPool.allocate(count: count))
        }
        return TensorStorage(block: unsafeDowncast(object, to: Block.self))
    }

    /// A block of `count` floats equal to `value`.
    static func repeating(_ value: Float, count: Int) -> TensorStorage {
        let storage = uninitialized(count: count)
        storage.base.initialize(repeating: value, count: count)
        return storage
    }

    /// True when no other tensor holds this block.
    mutating func isUniquelyReferenced() -> Bool { isKnownUniquelyReferenced(&block) }

    /// True when the two are the same block.
    static func === (a: TensorStorage, b: TensorStorage) -> Bool { a.block === b.block }
}

/// Recycles blocks of at least `minimumCount` floats by exact size, most recently freed first
/// (still warm in the caches). At most `capacityBytes` are kept idle; beyond that, blocks go back
/// to the system. Thread-safe.
public enum BufferPool {
    /// Smaller blocks are left to `malloc`, which already recycles them without page faults.
    public static let minimumCount = 16_384
    /// The most idle memory the pool keeps.
    public static let capacityBytes = 1 << 30

    /// Idle blocks by float count, as addresses (plain integers cross the lock without isolation checks).
    private struct Idle: ~Copyable {
        var blocks: [Int: [UInt]] = [:]
        var bytes = 0
    }

    private static let idle = Mutex(Idle())

    static func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumCount, let address = idle.withLock({ idle -> UInt? in
            guard let address = idle.blocks[count]?.popLast() else { return nil }
            idle.bytes -= count * MemoryLayout<Float>.stride
            return address
        }), let block = UnsafeMutablePointer<Float>(bitPattern: address) {
            return block
        }
        return .allocate(capacity: count)
    }

    static func release(_ block: UnsafeMutablePointer<Float>, count: Int) {
        let address = UInt(bitPattern: block)
        let kept = count >= minimumCount && idle.withLock { idle in
            let bytes = count * MemoryLayout<Float>.stride
            guard idle.bytes + bytes <= capacityBytes else { return false }
            idle.blocks[count, default: []].append(address)
            idle.bytes += bytes
            return true
        }
        if !kept { block.deallocate() }
    }

    /// Returns every idle block to the system (for example after training, before inference).
    public static func releaseIdleBlocks() {
        let addresses = idle.withLock { idle in
            defer { idle = Idle() }
            return idle.blocks.values.flatMap { $0 }
        }
        for address in addresses { UnsafeMutablePointer<Float>(bitPattern: address)?.deallocate() }
    }

    /// Bytes held idle right now.
    public static var idleBytes: Int { idle.withLock { $0.bytes } }
}
