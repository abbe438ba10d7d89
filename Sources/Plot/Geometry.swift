/// A position in SVG pixels (y grows downwards).
struct Point: Equatable, Sendable {
    var x: Double
    var y: Double
}

/// An axis-aligned rectangle in SVG pixels.
struct Rect: Equatable, Sendable {
    var minX: Double
    var minY: Double
    var width: Double
    var height: Double

    var maxX: Double { minX + width }
    var maxY: Double { minY + height }
    var center: Point { Point(x: minX + width / 2, y: minY + height / 2) }

    /// The rectangle grown by `amount` on every side.
    func expanded(by amount: Double) -> Rect {
        Rect(minX: minX - amount, minY: minY - amount, width: width + 2 * amount, height: height + 2 * amount)
    }

    func contains(_ point: Point) -> Bool {
        point.x >= minX && point.x <= maxX && point.y >= minY && point.y <= maxY
    }

    /// Whether a disc of radius `radius` around `center` touches the rectangle.
    func intersectsDisc(center: Point, radius: Double) -> Bool {
        let dx = center.x - min(max(center.x, minX), maxX)
        let dy = center.y - min(max(center.y, minY), maxY)
        return dx * dx + dy * dy <= radius * radius
    }
}

/// The part of a segment inside a rectangle, with whether each end was moved by clipping.
struct ClippedSegment {
    var start: Point
    var end: Point
    var startWasClipped: Bool
    var endWasClipped: Bool
}

/// Clips the segment from `start` to `end` to `rect` (Liang–Barsky). Nil when no part of the
/// segment is inside. Unclipped ends are returned exactly as given.
func clip(from start: Point, to end: Point, in rect: Rect) -> ClippedSegment? {
    let dx = end.x - start.x, dy = end.y - start.y
    var entry = 0.0, exit = 1.0
    // Each pair is (p, q) of the inequality p·t <= q for one edge.
    for (p, q) in [(-dx, start.x - rect.minX), (dx, rect.maxX - start.x), (-dy, start.y - rect.minY), (dy, rect.maxY - start.y)] {
        if p == 0 {
            if q < 0 { return nil }
        } else {
            let t = q / p
            if p < 0 {
                entry = max(entry, t)
            } else {
                exit = min(exit, t)
            }
        }
    }
    guard entry <= exit else { return nil }
    let pointAt = { (t: Double) in Point(x: start.x + t * dx, y: start.y + t * dy) }
    return ClippedSegment(
        start: entry > 0 ? pointAt(entry) : start,
        end: exit < 1 ? pointAt(exit) : end,
        startWasClipped: entry > 0,
        endWasClipped: exit < 1)
}

/// The visible pieces of a polyline clipped to `rect`. A single-point polyline yields itself
/// when inside. Points inside the rectangle are kept exactly, so a polyline that lies wholly
/// inside comes back unchanged.
func clip(polyline points: [Point], in rect: Rect) -> [[Point]] {
    if points.count == 1 { return rect.contains(points[0]) ? [points] : [] }
    var pieces: [[Point]] = [], current: [Point] = []
    func finishPiece() {
        if current.count > 1 { pieces.append(current) }
        current = []
    }
    for (start, end) in zip(points, points.dropFirst()) {
        guard let segment = clip(from: start, to: end, in: rect) else {
            finishPiece()
            continue
        }
        if segment.startWasClipped || current.isEmpty {
            finishPiece()
            current = [segment.start]
        }
        current.append(segment.end)
        if segment.endWasClipped { finishPiece() }
    }
    finishPiece()
    return pieces
}

/// A polygon clipped to `rect` (Sutherland–Hodgman; exact for a convex clip region). Empty
/// when nothing is inside.
func clip(polygon: [Point], in rect: Rect) -> [Point] {
    typealias Edge = (inside: (Point) -> Bool, crossing: (Point, Point) -> Point)
    func crossingAtX(_ x: Double) -> (Point, Point) -> Point {
        { a, b in Point(x: x, y: a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)) }
    }
    func crossingAtY(_ y: Double) -> (Point, Point) -> Point {
        { a, b in Point(x: a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y: y) }
    }
    let edges: [Edge] = [
        ({ $0.x >= rect.minX }, crossingAtX(rect.minX)),
        ({ $0.x <= rect.maxX }, crossingAtX(rect.maxX)),
        ({ $0.y >= rect.minY }, crossingAtY(rect.minY)),
        ({ $0.y <= rect.maxY }, crossingAtY(rect.maxY)),
    ]
    var output = polygon
    for edge in edges {
        guard let last = output.last else { break }
        let input = output
        output = []
        var previous = last
        for point in input {
            if edge.inside(point) {
                if !edge.inside(previous) { output.append(edge.crossing(previous, point)) }
                output.append(point)
            } else if edge.inside(previous) {
                output.append(edge.crossing(previous, point))
            }
            previous = point
        }
    }
    return output
}

/// Whether `point` lies inside `polygon` (even–odd rule).
func polygon(_ polygon: [Point], contains point: Point) -> Bool {
    var inside = false
    var previous = polygon.last ?? point
    for vertex in polygon {
        if (vertex.y > point.y) != (previous.y > point.y) {
            let crossingX = vertex.x + (point.y - vertex.y) * (previous.x - vertex.x) / (previous.y - vertex.y)
            if point.x < crossingX { inside.toggle() }
        }
        previous = vertex
    }
    return inside
}
