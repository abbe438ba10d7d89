import Testing
@testable import Models
@testable import Tape
import NN

// The blocks' fused BatchNorm + ReLU (+ residual addition) against the same blocks unfused. A
// forward hook on a BatchNorm makes `normalizedReLU` compose the layer, the addition and ReLU,
// so the same block with a no-op hook on every BatchNorm is the reference.

/// A residual block configuration, and what the fused forward pass should record.
enum FusedBlockCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case identity, projection, zeroPad, plainTwin, scaledMerge, shortcutGating, branchGradientScale,
         stochasticDepthInverted, deleted, batchNormAfterAddition, reluBeforeAddition, reluOnlyPreActivation,
         fullPreActivation, bottleneck, preActBottleneck

    var testDescription: String { rawValue }

    var inputChannels: Int { self == .bottleneck ? 8 : 4 }

    func makeBlock() -> ResidualBlock {
        var random = SplitMix64(seed: 1)
        func basic(outputs: Int = 4, stride: Int = 1, shortcut: ShortcutKind = .identity, merge: ResidualMerge = .sum,
                   placement: ActivationPlacement = .original, residual: Bool = true) -> BasicBlock {
            BasicBlock(inputs: 4, outputs: outputs, stride: stride, shortcut: shortcut, merge: merge, placement: placement,
                       residual: residual, using: &random)
        }
        let block: ResidualBlock = switch self {
        case .identity, .branchGradientScale, .stochasticDepthInverted, .deleted: basic()
        case .projection: basic(outputs: 8, stride: 2, shortcut: .projection)
        case .zeroPad: basic(outputs: 8, stride: 2, shortcut: .zeroPad(.split))
        case .plainTwin: basic(residual: false)
        case .scaledMerge: basic(merge: .scaled(shortcut: 0.5, branch: 1))
        case .shortcutGating: basic(merge: .shortcutGating(gateBias: -1))
        case .batchNormAfterAddition: basic(placement: .batchNormAfterAddition)
        case .reluBeforeAddition: basic(placement: .reluBeforeAddition)
        case .reluOnlyPreActivation: basic(placement: .reluOnlyPreActivation)
        case .fullPreActivation: basic(outputs: 8, stride: 2, shortcut: .projection, placement: .fullPreActivation)
        case .bottleneck: Bottleneck(inputs: 8, width: 2, stride: 2, using: &random)
        case .preActBottleneck: PreActBottleneck(inputs: 4, outputs: 8, stride: 2, using: &random)
        }
        switch self {
        case .branchGradientScale: block.branchGradientScale = 0.5
        case .stochasticDepthInverted: (block.survivalProbability, block.stochasticDepthScaling) = (0.9, .inverted)
        case .deleted: block.isBranchEnabled = false
        default: break
        }
        // γ and β away from 1 and 0, the same in every block made here.
        var values = SplitMix64(seed: 2)
        for (name, parameter) in block.namedParameters where name.contains("bn") || name.hasPrefix("downsample.1") {
            parameter.value = Tensor.randomNormal(parameter.value.shape, using: &values) * 0.5 + (name.hasSuffix("weight") ? 1 : 0)
        }
        return block
    }

    /// The `batchNormReLU` ops a fused forward pass records.
    var fusedOps: Int {
        switch self {
        case .identity, .projection, .zeroPad, .plainTwin, .batchNormAfterAddition, .reluBeforeAddition, .fullPreActivation: 2
        case .scaledMerge, .shortcutGating, .branchGradientScale, .stochasticDepthInverted, .reluOnlyPreActivation: 1
        case .deleted: 0
        case .bottleneck, .preActBottleneck: 3
        }
    }

    /// Whether the residual addition is part of the fused op (no `add` left on the tape).
    var fusesAddition: Bool { [.identity, .projection, .zeroPad, .bottleneck].contains(self) }
}

/// One training step of a block: output, gradients (input, then parameters), running statistics,
/// the recorded op names and the floats kept for the backward pass.
struct BlockStep {
    let output: [Float], gradients: [Float], buffers: [Float]
    let ops: [String]
    let savedFloats: Int

    init(_ testCase: FusedBlockCase, hooked: Bool) {
        let block = testCase.makeBlock()
        if hooked {
            for (_, layer) in block.namedLayers where layer is BatchNorm { layer.registerForwardHook { _, _, _ in nil } }
        }
        var random = SplitMix64(seed: 3)
        let x = Variable(Tensor.randomNormal([3, testCase.inputChannels, 6, 6], using: &random), requiresGradient: true)
        var context = ForwardContext.training(seed: 4)
        let y = block(x, &context)
        let cotangent = Tensor.randomNormal(y.shape, using: &random)
        output = y.scalars
        ops = tape(of: y)!.entries.map { "\($0.name)" }
        savedFloats = Tape.savedScalarCount(of: y)
        let parameters = block.parameters.map(\.variable)
        gradients = y.gradients(withRespectTo: [x] + parameters, seed: cotangent).flatMap(\.scalars)
        buffers = block.namedBuffers.flatMap { $0.1.value.scalars }
        #expect(testCase != .stochasticDepthInverted || block.lastForwardUsedBranch, "the seed should keep the branch")
    }
}

@Suite("Fused BatchNorm + ReLU (+ residual addition) in the residual blocks")
struct FusedBlockTests {
    @Test("a block gives the values, gradients and running statistics of its unfused self",
          arguments: FusedBlockCase.allCases)
    func fusedMatchesUnfused(_ testCase: FusedBlockCase) {
        let fused = BlockStep(testCase, hooked: false), unfused = BlockStep(testCase, hooked: true)
        func worst(_ a: [Float], _ b: [Float]) -> Float {
            let scale = b.map(abs).max() ?? 1
            return zip(a, b).map { abs($0 - $1) }.max()! / scale
        }
        #expect(fused.output.count == unfused.output.count && fused.gradients.count == unfused.gradients.count)
        #expect(worst(fused.output, unfused.output) <= 1e-5)
        #expect(worst(fused.gradients, unfused.gradients) <= 1e-5)
        #expect(fused.buffers == unfused.buffers)
        #expect(fused.ops.filter { $0 == "batchNormReLU" }.count == testCase.fusedOps, "\(fused.ops)")
        #expect(!unfused.ops.contains("batchNormReLU"))
        if testCase.fusesAddition {
            #expect(!fused.ops.contains("add") && unfused.ops.contains("add"), "\(fused.ops)")
        }
        #expect(fused.savedFloats <= unfused.savedFloats)
    }

    /// The original block with an identity shortcut on [N, C, H, W] = [3, 4, 6, 6] (432
    /// activations; 3×3 convolutions of 4·4·9 = 144 weights, no bias). Fused, the tape keeps
    /// conv1: x, w₁; bn1 + relu: c₁, γ₁, β₁, a₁; conv2: a₁ (the same block), w₂; bn2 + add +
    /// relu: c₂, γ₂, β₂, y — 5·432 + 2·144 + 4·4 = 2464 floats, the shortcut not among them.
    /// Unfused it is the same: BatchNorm keeps its input, the addition nothing, ReLU its output.
    /// Fusion saves passes over memory and temporaries, not saved activations.
    @Test("saved floats of one block, fused and unfused")
    func savedFloatsOfOneBlock() {
        let fused = BlockStep(.identity, hooked: false), unfused = BlockStep(.identity, hooked: true)
        #expect(fused.savedFloats == 5 * 432 + 2 * 144 + 4 * 4)
        #expect(unfused.savedFloats == fused.savedFloats)
    }
}
