@testable import Tape

/// Independent Double-precision loops for the convolution and pooling kernels.
enum Reference {
    static func conv2d(_ x: Tensor, _ w: Tensor, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
                       groups: Int) -> [Double] {
        let (n, h, wd) = (x.shape[0], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ho = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let wo = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let og = o / groups
        var out: [Double] = []
        for b in 0..<n { for oc in 0..<o { for oy in 0..<ho { for ox in 0..<wo {
            var total = 0.0
            let g = oc / og
            for ic in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                let y = oy * stride.0 - padding.0 + i * dilation.0, xx = ox * stride.1 - padding.1 + j * dilation.1
                if y >= 0 && y < h && xx >= 0 && xx < wd {
                    total += Double(x[element: [b, g * cg + ic, y, xx]]) * Double(w[element: [oc, ic, i, j]])
                }
            } } }
            out.append(total)
        } } } }
        return out
    }

    /// ∂x and ∂w of Σ dy·conv2d(x, w) for no dilation, one group: the loops of `conv2d` with the
    /// accumulation moved onto the inputs.
    static func conv2dAdjoints(_ x: Tensor, _ w: Tensor, _ dy: Tensor, stride: (Int, Int) = (1, 1),
                               padding: (Int, Int)) -> (input: [Double], filter: [Double]) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (ho, wo) = (dy.shape[2], dy.shape[3])
        let xs = x.scalars.map(Double.init), ws = w.scalars.map(Double.init), dys = dy.scalars.map(Double.init)
        var dx = [Double](repeating: 0, count: xs.count), dw = [Double](repeating: 0, count: ws.count)
        for b in 0..<n { for oc in 0..<o { for oy in 0..<ho { for ox in 0..<wo {
            let g = dys[((b * o + oc) * ho + oy) * wo + ox]
            for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let y = oy * stride.0 - padding.0 + i, xx = ox * stride.1 - padding.1 + j
                guard y >= 0 && y < h && xx >= 0 && xx < wd else { continue }
                let xi = ((b * c + ic) * h + y) * wd + xx, wi = ((oc * c + ic) * kh + i) * kw + j
                dx[xi] += ws[wi] * g
                dw[wi] += xs[xi] * g
            } } }
        } } } }
        return (dx, dw)
    }

    static func pool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), max: Bool) -> [Double] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, wo = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var out: [Double] = []
        for b in 0..<n { for ch in 0..<c { for oy in 0..<ho { for ox in 0..<wo {
            var total = 0.0, best = -Double.infinity
            for i in 0..<kernel.0 { for j in 0..<kernel.1 {
                let y = oy * stride.0 - padding.0 + i, xx = ox * stride.1 - padding.1 + j
                guard y >= 0 && y < h && xx >= 0 && xx < w else { continue }
                let v = Double(x[element: [b, ch, y, xx]])
                total += v
                best = Swift.max(best, v)
            } }
            out.append(max ? best : total / Double(kernel.0 * kernel.1))
        } } } }
        return out
    }
}
