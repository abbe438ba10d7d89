import Testing
@testable import Tape

/// Programmer errors stop the process with a message naming the op and the shapes (checked in a
/// child process, whose standard error is captured).
@Suite("Programmer errors")
struct ProgrammerErrorTests {
    @Test func shapeMismatchNamesOpAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor([1, 2])) + Variable(Tensor([1, 2, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("add") && message.contains("[2]") && message.contains("[3]"), "\(message)")
    }

    @Test func badAxisNamesOpAndShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 3])).sum(alongAxes: [2])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("sum") && message.contains("[2, 3]"), "\(message)")
    }
}
