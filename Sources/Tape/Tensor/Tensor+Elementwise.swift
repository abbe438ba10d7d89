// Elementwise kernels on plain tensors (no tape). Results are contiguous; inputs may be any
// strided layout. Binary operations broadcast with NumPy's rules.

extension Tensor {
    /// The shape two shapes broadcast to, or nil when they are incompatible (NumPy rules: align
    /// trailing axes; each pair must be equal or contain a 1).
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// `f` applied to every element.
    public func map(_ f: (Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { map(ClosureFunction(body: $0)) }
    }

    /// `f` applied to every element; `f`'s type is known where this is specialised, so the loop
    /// inlines it and vectorises.
    @inline(__always)
    func map<F: ScalarFunction>(_ f: F) -> Tensor {
        let result = Tensor(uninitializedLike: self)
        let to = result.storage.base, from = storage.base
        if isContiguous {
            let source = from + offset
            parallelRanges(count) { range in
                for i in range { to[i] = f(source[i]) }
            }
        } else {
            forEachOffset(shape, result.strides, 0, strides, offset) { o, i in to[o] = f(from[i]) }
        }
        return result
    }

    /// `f` applied to corresponding elements of `a` and `b`, broadcast to a common shape.
    static func elementwise(_ a: Tensor, _ b: Tensor, op: StaticString = "elementwise",
                                   _ f: (Float, Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { elementwise(a, b, op: op, ClosureFunction2(body: $0)) }
    }

    /// `f` applied to corresponding elements of `a` and `b`, broadcast to a common shape, with
    /// `f` inlined into the loops.
    @inline(__always)
    static func elementwise<F: ScalarFunction2>(_ a: Tensor, _ b: Tensor, op: StaticString, _ f: F) -> Tensor {
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            let result = Tensor(uninitializedLike: a)
            let to = result.storage.base, x = a.storage.base + a.offset, y = b.storage.base + b.offset
            parallelRanges(a.count) { range in
                for i in range { to[i] = f(x[i], y[i]) }
            }
            return result
        }
        // One side a single element that broadcasts to the other's shape: no broadcast views.
        if b.count == 1 && b.rank <= a.rank { return a.map(BoundSecond(f: f, y: b.storage.base[b.offset])) }
        if a.count == 1 && a.rank <= b.rank { return b.map(BoundFirst(f: f, x: a.storage.base[a.offset])) }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let x = a.broadcasted(to: shape), y = b.broadcasted(to: shape)
        let result = Tensor(uninitializedShape: shape)
        let to = result.storage.base, px = x.storage.base, py = y.storage.base
        let (rs, xs, ys) = (result.strides, x.strides, y.strides)
        forEachRowChunk(shape) { chunk, row in
            // Row 0 also when the shape has no axes.
            let (ro, xo, yo) = row == 0 ? (0, x.offset, y.offset) : (row * rs[0], x.offset + row * xs[0], y.offset + row * ys[0])
            forEachOffset(chunk, rs, ro, xs, xo, ys, yo) { o, i, j in
                to[o] = f(px[i], py[j])
            }
        }
        return result
    }

    /// `f` applied to corresponding elements of three tensors, broadcast to a common shape.
    static func elementwise(_ a: Tensor, _ b: Tensor, _ c: Tensor, op: StaticString = "elementwise",
                                   _ f: (Float, Float, Float) -> Float) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(ab, c.shape) else {
            preconditionFailure("\(op): shapes \(a.shape), \(b.shape) and \(c.shape) do not broadcast")
        }
        let x = a.broadcasted(to: shape), y = b.broadcasted(to: shape), z = c.broadcasted(to: shape)
        let result = Tensor(uninitializedShape: shape)
        let to = result.storage.base, px = x.storage.base, py = y.storage.base, pz = z.storage.base
        var k = 0
        forEachOffset(shape, x.strides, x.offset, y.strides, y.offset, z.strides, z.offset) { i, j, l in
            to[k] = f(px[i], py[j], pz[l])
            k += 1
        }
        return result
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "add", Add()) }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "sub", Subtract()) }
    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "mul", Multiply()) }
    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "div", Divide()) }
    /// a + c for every element.
    public static func + (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Add(), y: b)) }
    /// a − c for every element.
    public static func - (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Subtract(), y: b)) }
    /// a·c for every element.
    public static func * (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Multiply(), y: b)) }
    /// a / c for every element.
    public static func / (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Divide(), y: b)) }
    /// c + b for every element.
    public static func + (a: Float, b: Tensor) -> Tensor { b.map(BoundFirst(f: Add(), x: a)) }
    /// c − b for every element.
    public static func - (a: Float, b: Tensor) -> Tensor { b.map(BoundFirst(f: Subtract(), x: a)) }
    /// c·b for every element.
    public static func * (a: Float, b: Tensor) -> Tensor { b.map(BoundFirst(f: Multiply(), x: a)) }
    /// c / b for every element.
    public static func / (a: Float, b: Tensor) -> Tensor { b.map(BoundFirst(f: Divide(), x: a)) }
    /// −a for every element.
    public static prefix func - (a: Tensor) -> Tensor { a.map(Negate()) }

    /// eˣ for every element.
    public func exp() -> Tensor { map { _expf($0) } }
    /// The natural logarithm of every element.
    public func log() -> Tensor { map { _logf($0) } }
    /// √x for every element.
    public func squareRoot() -> Tensor { map { $0.squareRoot() } }
    /// tanh x for every element.
    public func tanh() -> Tensor { map { _tanhf($0) } }
    /// 1 / (1 + e^(−x)), evaluated without overflow for large |x|.
    public func sigmoid() -> Tensor {
        map { x in x >= 0 ? 1 / (1 + _expf(-x)) : { let e = _expf(x); return e / (1 + e) }() }
    }
    /// max(x, 0) for every element.
    public func relu() -> Tensor { map(ReLU()) }
    /// |x| for every element.
    public func abs() -> Tensor { map { Swift.abs($0) } }
    /// −1, 0 or +1 by the sign of each element.
    public func sign() -> Tensor { map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    /// xᵖ for every element (x·x when p = 2).
    public func pow(_ exponent: Float) -> Tensor {
        if exponent == 2 { return map { $0 * $0 } }
        return map { _powf($0, exponent) }
    }

    /// True when every element is finite (no NaN or ±∞).
    public var isFinite: Bool {
        var finite = true
        let base = storage.base
        forEachOffset(shape, strides, offset) { i in if !base[i].isFinite { finite = false } }
        return finite
    }
}

// Binary elementwise ops with no principal operand are free functions (see README, "Calling ops").

/// The larger of each pair of elements, with broadcasting.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.elementwise(a, b, op: "maximum") { Swift.max($0, $1) } }

/// The smaller of each pair of elements, with broadcasting.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.elementwise(a, b, op: "minimum") { Swift.min($0, $1) } }

/// `a` where `mask` is nonzero, else `b` (all three broadcast): NumPy's `where`.
public func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    Tensor.elementwise(mask, a, b, op: "where") { m, x, y in m != 0 ? x : y }
}

// Comparisons produce masks: 1 where the relation holds, else 0 (with broadcasting).
extension Tensor {
    /// 1 where a < b, else 0 (broadcast).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "less") { $0 < $1 ? 1 : 0 } }
    /// 1 where a ≤ b, else 0 (broadcast).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "lessEqual") { $0 <= $1 ? 1 : 0 } }
    /// 1 where a > b, else 0 (broadcast).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "greater") { $0 > $1 ? 1 : 0 } }
    /// 1 where a ≥ b, else 0 (broadcast).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "greaterEqual") { $0 >= $1 ? 1 : 0 } }
    /// 1 where a = b, else 0 (broadcast).
    public static func .== (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "equal") { $0 == $1 ? 1 : 0 } }
    /// 1 where a ≠ b, else 0 (broadcast).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { elementwise(a, b, op: "notEqual") { $0 != $1 ? 1 : 0 } }
    /// 1 where an element is greater than c, else 0.
    public static func .> (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Greater(), y: b)) }
    /// 1 where an element is less than c, else 0.
    public static func .< (a: Tensor, b: Float) -> Tensor { a.map(BoundSecond(f: Less(), y: b)) }
}

// Elementwise functions as types: a loop generic over one is specialised for it, inlines it and
// vectorises, where a closure would be called once per element.

/// A function of one float.
protocol ScalarFunction { func callAsFunction(_ x: Float) -> Float }

/// A function of two floats.
protocol ScalarFunction2 { func callAsFunction(_ x: Float, _ y: Float) -> Float }

struct Add: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x + y } }
struct Subtract: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x - y } }
struct Multiply: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x * y } }
struct Divide: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x / y } }
/// 1 where x > y, else 0.
struct Greater: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x > y ? 1 : 0 } }
/// 1 where x < y, else 0.
struct Less: ScalarFunction2 { @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x < y ? 1 : 0 } }
/// −x (−0 for 0, as IEEE negation).
struct Negate: ScalarFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
struct ReLU: ScalarFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 } }

/// f(x, y) with y fixed.
struct BoundSecond<F: ScalarFunction2>: ScalarFunction {
    let f: F, y: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { f(x, y) }
}

/// f(x, y) with x fixed.
struct BoundFirst<F: ScalarFunction2>: ScalarFunction {
    let f: F, x: Float
    @inline(__always) func callAsFunction(_ y: Float) -> Float { f(x, y) }
}

/// A closure as a `ScalarFunction` (called per element: for the less frequent functions).
struct ClosureFunction: ScalarFunction {
    let body: (Float) -> Float
    func callAsFunction(_ x: Float) -> Float { body(x) }
}

struct ClosureFunction2: ScalarFunction2 {
    let body: (Float, Float) -> Float
    func callAsFunction(_ x: Float, _ y: Float) -> Float { body(x, y) }
}
