import NN
import Tape
import Testing

/// The README's usage example, verbatim, so the documentation keeps compiling and working.
@Test func readmeExampleLearnsXOR() {
    var random = SplitMix64(seed: 42)
    let net = Sequential(Linear(2, 16, using: &random), Tanh(), Linear(16, 1, using: &random))
    let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
    let y = Variable(Tensor(shape: [4, 1], scalars: [0, 1, 1, 0]))
    let optimizer = SGD(parameters: net.parameters, learningRate: 0.2, momentum: 0.9)
    for _ in 0..<300 {
        var context = ForwardContext.training()
        let loss = meanSquaredError(net(x, &context), y)   // recorded on a tape
        net.zeroGradients()
        loss.backward()                                     // one reverse walk; fills every .grad
        optimizer.step()
    }
    let h = hessian(of: { ($0 * $0 * $0).sum() }, at: Tensor([1, 2]))  // double backward: diag(6x)

    var context = ForwardContext.evaluation
    let prediction = net(x, &context).scalars
    #expect(zip(prediction, [Float(0), 1, 1, 0]).allSatisfy { Swift.abs($0 - $1) < 0.1 }, "\(prediction)")
    #expect(h.scalars == [6, 0, 0, 12])
}
