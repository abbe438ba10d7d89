import Experiments
import Testing

@Suite("hessian")
struct HessianTests {
    typealias E = DemystifyingResNet
    static let depths = [6, 12, 24]

    /// Results from eigenvalue laws per net and span (functions of depth and seed) and gradient norms.
    func results(_ spectrum: (E.Net, Int, Int, UInt64) -> [Double], gradient: (Int) -> Double = { $0 == 1 ? 1 : 0 }) -> E.Results {
        var measurements: [E.Measurement] = []
        for net in E.Net.allCases {
            for span in [1, 2, 3] {
                for depth in Self.depths {
                    for seed: UInt64 in [0, 1] {
                        measurements.append(E.Measurement(net: net, span: span, depth: depth, seed: seed,
                                                          eigenvalues: spectrum(net, span, depth, seed).sorted(), gradientNorm: gradient(span)))
                    }
                }
            }
        }
        return E.Results(relativeThreshold: 1e-5, depths: Self.depths, spans: [1, 2, 3], measurements: measurements)
    }

    /// The paper's picture: span 2 a saddle ±σ per unit whose spread does not depend on depth
    /// (condition number 3 + seed); span 1 a spectrum whose largest eigenvalue grows with depth
    /// (condition number ∝ L); span 3 exactly zero.
    func paper(_ net: E.Net, _ span: Int, _ depth: Int, _ seed: UInt64) -> [Double] {
        switch span {
        case 1: return [1, 2, Double(depth)]
        case 2: return [-(3 + Double(seed)), -1, 1, 3 + Double(seed)]
        default: return [0, 0, 0, 0]
        }
    }

    @Test func verdicts() {
        #expect(E.verdict(results(paper)).verdict == .agree)
        // ReLU near zero, span 2: the condition number triples from depth 6 to 24 (our extra fails).
        let relu = results { net, span, depth, seed in
            net == .relu && span == 2 ? [-Double(depth) / 2, 1, 2] : paper(net, span, depth, seed)
        }
        #expect(E.verdict(relu).verdict == .partly)
        // Span 1 not stationary fails: a side claim.
        #expect(E.verdict(results(paper, gradient: { _ in 0 })).verdict == .partly)
        // Span 2 depth-dependent for the linear net: the central claim fails.
        let growing = results { net, span, depth, seed in
            net == .linear && span == 2 ? [-Double(depth), 1] : paper(net, span, depth, seed)
        }
        #expect(E.verdict(growing).verdict == .disagree)
        // Span 3 not flat.
        let curved = results { net, span, depth, seed in span == 3 ? [-1e-3, 1e-3] : paper(net, span, depth, seed) }
        #expect(E.verdict(curved).verdict == .disagree)
        // Span 1 flat in depth: does not explode.
        let flat = results { net, span, depth, seed in span == 1 ? [1, 2, 3] : paper(net, span, depth, seed) }
        #expect(E.verdict(flat).verdict == .disagree)
    }

    /// At the zero point with span 3 every second derivative carries a factor of a zero weight: the
    /// Hessian is exactly 0 (and so is the gradient); span 2's Hessian decouples into identical
    /// per-unit saddle blocks, so its condition number is the same at every depth, seed by seed.
    @Test func quickSetupInvariants() {
        let setup = E.Setup.quick
        for net in [E.Net.linear, .tanh] {
            for depth in setup.depths {
                let flat = E.measure(net, span: 3, depth: depth, seed: 0, setup: setup)
                #expect(flat.eigenvalues.allSatisfy { $0 == 0 } && flat.gradientNorm == 0, "\(net.rawValue) L = \(depth)")
                #expect(flat.eigenvalues.count == depth * setup.width * setup.width)
            }
        }
        let results = E.Results(relativeThreshold: setup.relativeThreshold, depths: setup.depths, spans: [2], measurements:
            setup.seeds.flatMap { seed in setup.depths.map { E.measure(.linear, span: 2, depth: $0, seed: seed, setup: setup) } })
        for seed in setup.seeds {
            let conditions = results.measurements.filter { $0.seed == seed }.map { E.conditionNumber(results, $0)! }
            #expect(conditions.count == 2 && abs(conditions[0] / conditions[1] - 1) < 1e-3, "seed \(seed): \(conditions)")
        }
        #expect(results.measurements.allSatisfy { $0.gradientNorm == 0 })
        // Span 1 is the identity map, not a stationary point.
        #expect(E.measure(.linear, span: 1, depth: 6, seed: 0, setup: setup).gradientNorm > 0.1)
    }
}
