/// An opaque sRGB colour for strokes, fills and markers.
public struct Color: Sendable, Hashable {
    /// The red channel, 0–255.
    public var red: UInt8
    /// The green channel, 0–255.
    public var green: UInt8
    /// The blue channel, 0–255.
    public var blue: UInt8

    /// A colour from its 8-bit sRGB channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The colour as SVG writes it, `#rrggbb` in lower case.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for channel in [red, green, blue] {
            text.append(digits[Int(channel >> 4)])
            text.append(digits[Int(channel & 0x0F)])
        }
        return text
    }

    // The Okabe–Ito colours (Okabe & Ito, "Color Universal Design", 2008): distinguishable
    // with every common form of colour-vision deficiency.

    /// Okabe–Ito blue, `#0072b2`.
    public static let blue = Color(red: 0x00, green: 0x72, blue: 0xB2)
    /// Okabe–Ito vermillion, `#d55e00`.
    public static let vermillion = Color(red: 0xD5, green: 0x5E, blue: 0x00)
    /// Okabe–Ito bluish green, `#009e73`.
    public static let bluishGreen = Color(red: 0x00, green: 0x9E, blue: 0x73)
    /// Okabe–Ito orange, `#e69f00`.
    public static let orange = Color(red: 0xE6, green: 0x9F, blue: 0x00)
    /// Okabe–Ito reddish purple, `#cc79a7`.
    public static let reddishPurple = Color(red: 0xCC, green: 0x79, blue: 0xA7)
    /// Okabe–Ito sky blue, `#56b4e9`.
    public static let skyBlue = Color(red: 0x56, green: 0xB4, blue: 0xE9)
    /// Black, `#000000`.
    public static let black = Color(red: 0x00, green: 0x00, blue: 0x00)
    /// Okabe–Ito yellow, `#f0e442`. Faint on white, so it comes last in ``palette``.
    public static let yellow = Color(red: 0xF0, green: 0xE4, blue: 0x42)
    /// A neutral mid grey, `#7f7f7f`, for reference lines.
    public static let gray = Color(red: 0x7F, green: 0x7F, blue: 0x7F)

    /// The colours series take in turn when they name none: the Okabe–Ito palette, ordered so
    /// that the first few are the most distinct on white. Series beyond the eighth reuse it.
    public static let palette: [Color] = [
        .blue, .vermillion, .bluishGreen, .orange, .reddishPurple, .skyBlue, .black, .yellow,
    ]
}

/// How a line is stroked.
public enum LineStyle: Sendable, Hashable {
    /// An unbroken line.
    case solid
    /// Dashes about twice as long as the gaps.
    case dashed
    /// Round dots.
    case dotted
    /// Alternating dashes and dots.
    case dashDot

    /// The SVG `stroke-dasharray` for a line `width` pixels wide drawn with round caps (which
    /// add half the width at each end of every dash), or nil for a solid line.
    func dashArray(width: Double) -> [Double]? {
        switch self {
        case .solid: nil
        case .dashed: [3 * width, 3.5 * width]
        case .dotted: [0.01, 2.5 * width]
        case .dashDot: [3 * width, 2.75 * width, 0.01, 2.75 * width]
        }
    }
}

/// The shape drawn at each data point of a scatter series (or a line with markers).
/// Shapes as well as colours tell series apart, which helps in greyscale print.
public enum Marker: Sendable, Hashable {
    /// A filled disc.
    case circle
    /// A filled square.
    case square
    /// A filled triangle, point up.
    case triangle
    /// A filled square standing on a corner.
    case diamond
}

/// How an axis maps values to positions.
public enum AxisScale: Sendable, Hashable {
    /// Equal distances for equal differences.
    case linear
    /// Equal distances for equal ratios. Zero, negative and non-finite values are not drawn.
    case log10
}

/// One axis of a chart: its label, its scale and, optionally, a fixed range.
public struct Axis: Sendable, Hashable {
    /// The text drawn along the axis (rotated for the y axis). Empty for none.
    public var label: String
    /// Linear or logarithmic.
    public var scale: AxisScale
    /// The values shown, or nil to fit the data and round out to the nearest ticks. A range
    /// that cannot be shown (empty, non-finite, or not positive on a log axis) is ignored.
    public var range: ClosedRange<Double>?
    /// Ticks only at whole numbers (epochs, layers) on a linear axis.
    public var integerTicks: Bool

    /// An axis with the given label, scale and range.
    public init(label: String = "", scale: AxisScale = .linear, range: ClosedRange<Double>? = nil, integerTicks: Bool = false) {
        self.label = label
        self.scale = scale
        self.range = range
        self.integerTicks = integerTicks
    }
}

/// Where a chart draws its legend. The legend lists every distinct series name, in the order
/// the names first appear; a chart without named series has no legend.
public enum LegendPlacement: Sendable, Hashable {
    /// The first inside corner (top right, top left, bottom left, bottom right) where the legend
    /// covers no data; else outside to the right of the plot; else, when moving it outside would
    /// cost the plot more than 40% of its width, the corner where it covers the least data.
    case automatic
    /// Inside the plot, in the top right corner (outside right if it does not fit).
    case topRight
    /// Inside the plot, in the top left corner (outside right if it does not fit).
    case topLeft
    /// Inside the plot, in the bottom left corner (outside right if it does not fit).
    case bottomLeft
    /// Inside the plot, in the bottom right corner (outside right if it does not fit).
    case bottomRight
    /// To the right of the plot area, which narrows to make room.
    case outsideRight
    /// No legend.
    case hidden
}
