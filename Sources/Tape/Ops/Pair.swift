/// Two integers for the height and width axes, written as one literal when both agree:
/// `stride: 2` or `padding: [1, 2]`.
public struct Pair: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The values for the height (first) and width (second) axes.
    public var height: Int, width: Int

    /// Different values per axis: `Pair(1, 2)`.
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    /// The same value for both axes: `stride: 2`.
    public init(integerLiteral value: Int) { self.init(value, value) }
    /// Exactly two values, `[height, width]`: `padding: [1, 2]`.
    public init(arrayLiteral values: Int...) {
        precondition(values.count == 2, "Pair: needs [height, width], got \(values)")
        self.init(values[0], values[1])
    }

    var tuple: (Int, Int) { (height, width) }
    public var description: String { height == width ? "\(height)" : "[\(height), \(width)]" }
}
