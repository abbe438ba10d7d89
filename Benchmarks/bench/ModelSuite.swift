// Whole training steps and inference, timed through the tape.
import Models
import NN
import Tape

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
    func inference(_ name: String, _ model: Layer, _ input: [Int], threads: Int) -> Measure {
        Measure(name: name, threads: threads, flops: trainingStepFlops(model, input: input) / 3, items: (Double(input[0]), "images")) {
            let images = Tensor.zeros(input)
            return {
                var context = ForwardContext.evaluation
                blackHole(withoutGradient { model(Variable(images), &context) })
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
        measures.append(inference("inference-mnist-resnet-b\(seedBatch)", MNISTResNet(), [seedBatch, 1, 28, 28], threads: threads))
        guard !config.quick else { continue }
        // The deeper CIFAR ResNets: training at batch 128, inference at batch 1 (where per-op
        // overhead shows), 8 and 64. Names match Benchmarks/peers/pytorch.py's rows.
        for depth in [56, 110] {
            measures.append(step("train-step-resnet\(depth)-b\(cifarBatch)", CIFARResNet(depth: depth), [cifarBatch, 3, 32, 32], threads: threads))
        }
        for depth in [20, 56, 110] {
            let model = CIFARResNet(depth: depth)
            for batch in [1, 8, 64] {
                measures.append(inference("inference-resnet\(depth)-b\(batch)", model, [batch, 3, 32, 32], threads: threads))
            }
        }
    }
    return measures
}
