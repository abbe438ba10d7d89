// Differentiable ops and whole training steps, timed through the tape.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Models
import NN
import Tape

/// Analytic FLOPs of a convolution: 2 · N · O · Hₒ · Wₒ · (C/groups) · kH · kW.
func convolutionFlops(input: [Int], filter: [Int], output: [Int]) -> Double {
    2 * Double(output[0] * output[1] * output[2] * output[3]) * Double(filter[1] * filter[2] * filter[3])
}

/// conv2d forward, backward-data and backward-weight on the seed ResNet's shape (64×16×28×28,
/// 3×3, padding 1) and on resnet20's three stage shapes at batch 128.
func convolutionSuite(_ config: SuiteConfig) -> [Measure] {
    let batch = config.quick ? 8 : 64, cifarBatch = config.quick ? 8 : 128
    let shapes: [(String, [Int], Int)] = [("seed", [batch, 16, 28, 28], 16), ("r20-s1", [cifarBatch, 16, 32, 32], 16),
                                          ("r20-s2", [cifarBatch, 32, 16, 16], 32), ("r20-s3", [cifarBatch, 64, 8, 8], 64)]
    return shapes.flatMap { label, input, outputs in
        config.threadCounts.flatMap { threads -> [Measure] in
            let filter = [outputs, input[1], 3, 3], geometry = Convolution2D(padding: (1, 1))
            let output = geometry.outputShape(input: input, filter: filter)
            let flops = convolutionFlops(input: input, filter: filter, output: output)
            func tensors() -> (Tensor, Tensor, Tensor) {
                var random = SplitMix64(seed: 1)
                return (Tensor.randomNormal(input, using: &random), Tensor.randomNormal(filter, using: &random),
                        Tensor.randomNormal(output, using: &random))
            }
            return [
                Measure(name: "conv-fwd-\(label)-\(input.map(String.init).joined(separator: "x"))", threads: threads, flops: flops) {
                    let (x, w, _) = tensors()
                    return { blackHole(conv2d(x, filter: w, geometry: geometry)) }
                },
                Measure(name: "conv-bwd-data-\(label)", threads: threads, flops: flops) {
                    let (_, w, dy) = tensors()
                    return { blackHole(conv2dBackwardInput(dy, filter: w, inputShape: input, geometry: geometry)) }
                },
                Measure(name: "conv-bwd-weight-\(label)", threads: threads, flops: flops) {
                    let (x, _, dy) = tensors()
                    return { blackHole(conv2dBackwardFilter(x, outputGradient: dy, filterShape: filter, geometry: geometry)) }
                },
            ]
        }
    }
}

/// BatchNorm forward + backward in training mode on the seed shape; and the tape's cost per op
/// on a chain of 10,000 small ops (forward and backward; FLOPs are not the point: read the time).
func tapeSuite(_ config: SuiteConfig) -> [Measure] {
    let shape = [config.quick ? 8 : 64, 16, 28, 28]
    let chain = config.quick ? 1_000 : 10_000
    return config.threadCounts.map { threads in
        Measure(name: "batchnorm-fwd-bwd-\(shape.map(String.init).joined(separator: "x"))", threads: threads, flops: 0) {
            var random = SplitMix64(seed: 2)
            let x = Tensor.randomNormal(shape, using: &random), dy = Tensor.randomNormal(shape, using: &random)
            let bn = BatchNorm2d(16)
            return {
                let input = Variable(x, requiresGradient: true)
                var context = ForwardContext.training()
                bn(input, &context).backward(seed: dy)
                blackHole(input.grad)
            }
        }
    } + [Measure(name: "tape-chain-\(chain)-ops-fwd-bwd", threads: 1, flops: 0, items: (Double(chain), "ops")) {
        let start = Tensor([1, 2, 3, 4])
        return {
            let x = Variable(start, requiresGradient: true)
            var y = x
            for _ in 0..<chain { y = y * 1.0001 }
            y.sum().backward()
            blackHole(x.grad)
        }
    }]
}

/// Analytic FLOPs of one training step: 3 × the forward's conv and linear multiply-adds × 2.
func trainingStepFlops(_ model: Layer, input: [Int]) -> Double {
    var flops = 0.0
    var context = ForwardContext.evaluation
    var hooks: [(Layer, Int)] = []
    for (_, layer) in model.namedLayers {
        if let conv = layer as? Conv2d {
            hooks.append((conv, conv.registerForwardHook { _, _, output in
                flops += 2 * Double(output.value.count) * Double(conv.weight.value.count / conv.weight.value.shape[0])
                return nil
            }))
        } else if let linear = layer as? Linear {
            hooks.append((linear, linear.registerForwardHook { _, _, output in
                flops += 2 * Double(output.value.count) * Double(linear.weight.value.shape[1])
                return nil
            }))
        }
    }
    _ = withoutGradient { model(Variable(Tensor.zeros(input)), &context) }
    for (layer, token) in hooks { layer.removeForwardHook(token) }
    return 3 * flops
}

/// Full SGD training steps (forward, cross-entropy, backward, update) and inference.
func modelSuite(_ config: SuiteConfig) -> [Measure] {
    let seedBatch = config.quick ? 8 : 64, cifarBatch = config.quick ? 8 : 128
    func step(_ name: String, _ model: Layer, _ input: [Int], threads: Int) -> Measure {
        Measure(name: name, threads: threads, flops: trainingStepFlops(model, input: input), items: (Double(input[0]), "images")) {
            var random = SplitMix64(seed: 3)
            let images = Tensor.randomNormal(input, using: &random)
            let labels = (0..<input[0]).map { $0 % 10 }
            let optimizer = SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
            return {
                var context = ForwardContext.training()
                let loss = crossEntropy(logits: model(Variable(images), &context), labels: labels)
                model.zeroGradients()
                loss.backward()
                optimizer.step()
            }
        }
    }
    var measures: [Measure] = []
    let checkpointed = MNISTResNet()
    checkpointed.resblocks.checkpointsLayers = true
    for threads in config.threadCounts {
        measures.append(step("train-step-mnist-resnet-b\(seedBatch)", MNISTResNet(), [seedBatch, 1, 28, 28], threads: threads))
        // The same step with every block recomputed in the backward pass; FLOPs counted as without.
        measures.append(step("train-step-mnist-resnet-b\(seedBatch)-checkpointed", checkpointed, [seedBatch, 1, 28, 28], threads: threads))
        measures.append(step("train-step-resnet20-b\(cifarBatch)", CIFARResNet(depth: 20), [cifarBatch, 3, 32, 32], threads: threads))
        let model = MNISTResNet()
        measures.append(Measure(name: "inference-mnist-resnet-b\(seedBatch)", threads: threads,
                                flops: trainingStepFlops(model, input: [seedBatch, 1, 28, 28]) / 3, items: (Double(seedBatch), "images")) {
            let images = Tensor.zeros([seedBatch, 1, 28, 28])
            return {
                var context = ForwardContext.evaluation
                blackHole(withoutGradient { model(Variable(images), &context) })
            }
        })
    }
    return measures
}

/// Peak resident memory in bytes after training steps of the seed ResNet at `batch`, with its
/// blocks stored or checkpointed (recomputed in the backward pass). On Linux, VmHWM, reset
/// first; elsewhere `getrusage`'s `ru_maxrss`, which cannot be reset, so it is the process's
/// peak so far (the second measure then includes the first).
func peakResidentMemory(batch: Int, steps: Int, checkpointed: Bool) -> Int {
    // Start from what this process holds now, not from the high-water mark of earlier measures:
    // return idle buffers and reset VmHWM (writing 5 to clear_refs, Linux ≥ 4.0).
    BufferPool.releaseIdleBlocks()
    #if os(Linux)
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
