// Peak resident memory of seed-ResNet training, stored or checkpointed.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Models
import NN
import Tape

/// Peak resident memory in bytes after training steps of the seed ResNet at `batch`, with its
/// blocks stored or checkpointed (recomputed in the backward pass). On Linux, VmHWM, reset
/// first; elsewhere `getrusage`'s `ru_maxrss`, which cannot be reset, so it is the process's
/// peak so far (the second measure then includes the first).
func peakResidentMemory(batch: Int, steps: Int, checkpointed: Bool) -> Int {
    // Start from what this process holds now, not from the high-water mark of earlier measures:
    // return idle buffers, have glibc give freed heap memory back to the system (after large
    // frees it keeps them: its mmap threshold grows), and reset VmHWM (writing 5 to clear_refs,
    // Linux ≥ 4.0).
    BufferPool.releaseIdleBlocks()
    #if os(Linux)
    // malloc_trim(0), looked up at run time: <malloc.h> is not part of Swift's Glibc module.
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }
    if let file = fopen("/proc/self/clear_refs", "w") { fputs("5", file); fclose(file) }
    #endif
    let model = MNISTResNet()
    model.resblocks.checkpointsLayers = checkpointed
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
    let images = Tensor.zeros([batch, 1, 28, 28]), labels = (0..<batch).map { $0 % 10 }
    for _ in 0..<steps {
        var context = ForwardContext.training()
        let loss = crossEntropy(logits: model(Variable(images), &context), labels: labels)
        model.zeroGradients()
        loss.backward()
        optimizer.step()
    }
    return peakResidentBytes()
}

/// The process's peak resident set in bytes (0 when unknown).
private func peakResidentBytes() -> Int {
    #if os(Linux)
    guard let file = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    while true {
        let character = fgetc(file)
        if character == EOF { break }
        bytes.append(UInt8(character))
    }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return 0
    #else
    var usage = rusage()
    guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
    return Int(usage.ru_maxrss)   // bytes on Darwin (KiB on Linux, which reads VmHWM above)
    #endif
}
