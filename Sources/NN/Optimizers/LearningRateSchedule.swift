#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The learning rate as a function of the step (or epoch) count, starting at 0.
///
/// A schedule is a value, not a stateful object: set `optimizer.learningRate =
/// schedule.learningRate(at: step)` before each step (or epoch). With `optimizer.stepCount` as
/// the step, training resumed from a saved optimizer state continues the schedule where it was.
/// The rates equal those PyTorch's stateful schedulers give after `step` calls of
/// `scheduler.step()`; they are computed in `Double` and rounded once.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate in force at `step` (≥ 0).
    func learningRate(at step: Int) -> Float
}

/// Multiplies the rate by γ at each milestone, as `torch.optim.lr_scheduler.MultiStepLR`:
///
///     lr(t) = base · γᵏ,   k = the number of milestones ≤ t
///
/// A milestone listed twice counts twice (as in PyTorch).
public struct MultiStepSchedule: LearningRateSchedule {
    /// The initial learning rate.
    public let base: Float
    /// The steps at which the rate is multiplied by γ.
    public let milestones: [Int]
    /// γ, the factor at each milestone; 0.1 by default.
    public let gamma: Float

    /// `MultiStepLR(optimizer, milestones, gamma)` for an optimizer whose initial rate is `base`.
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base
        self.milestones = milestones
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "MultiStepSchedule: negative step \(step)")
        let passed = milestones.count { $0 <= step }
        return Float(Double(base) * pow(Double(gamma), Double(passed)))
    }
}

/// Cosine annealing from `base` down to `minimum` over `totalSteps`, as
/// `torch.optim.lr_scheduler.CosineAnnealingLR` (its closed form, without restarts):
///
///     lr(t) = minimum + (base − minimum) · (1 + cos(π·t / totalSteps)) / 2
///
/// As in PyTorch, the cosine goes on past `totalSteps`: the rate rises again towards `base`,
/// which it reaches at 2·`totalSteps`. Set `totalSteps` to the length of training.
public struct CosineSchedule: LearningRateSchedule {
    /// The rate at step 0 (and again at 2·`totalSteps`).
    public let base: Float
    /// T_max: the step at which the rate reaches `minimum`.
    public let totalSteps: Int
    /// η_min, the lowest rate; 0 by default.
    public let minimum: Float

    /// - Precondition: `totalSteps` > 0.
    public init(base: Float, totalSteps: Int, minimum: Float = 0) {
        precondition(totalSteps > 0, "CosineSchedule: totalSteps must be positive, got \(totalSteps)")
        self.base = base
        self.totalSteps = totalSteps
        self.minimum = minimum
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "CosineSchedule: negative step \(step)")
        let (base, minimum) = (Double(self.base), Double(self.minimum))
        return Float(minimum + (base - minimum) * (1 + cos(Double.pi * Double(step) / Double(totalSteps))) / 2)
    }
}

/// A linear warm-up in front of another schedule, as PyTorch's `LinearLR(start_factor: s,
/// total_iters: n)` followed by the other scheduler in a `SequentialLR` with milestone n.
/// With b = `schedule.learningRate(at: 0)`:
///
///     lr(t) = b · (s + (1 − s) · t / n)           for t < n
///     lr(t) = schedule.learningRate(at: t − n)    for t ≥ n
///
/// so the rate ramps from s·b to b, and the wrapped schedule then starts from its step 0.
public struct LinearWarmup<Schedule: LearningRateSchedule>: LearningRateSchedule {
    /// The schedule that follows the warm-up, from its own step 0.
    public let schedule: Schedule
    /// n, the length of the warm-up (`total_iters`).
    public let steps: Int
    /// s: the warm-up starts at s·b (`start_factor`).
    public let startFactor: Float

    /// - Precondition: `steps` ≥ 0 and `startFactor` in (0, 1] (as PyTorch's `LinearLR`).
    public init(_ schedule: Schedule, steps: Int, startFactor: Float) {
        precondition(steps >= 0, "LinearWarmup: negative warm-up length \(steps)")
        precondition(startFactor > 0 && startFactor <= 1, "LinearWarmup: startFactor must be in (0, 1], got \(startFactor)")
        self.schedule = schedule
        self.steps = steps
        self.startFactor = startFactor
    }

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "LinearWarmup: negative step \(step)")
        guard step < steps else { return schedule.learningRate(at: step - steps) }
        let start = Double(startFactor)
        return Float(Double(schedule.learningRate(at: 0)) * (start + (1 - start) * Double(step) / Double(steps)))
    }
}
