#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A one-line progress display on stderr, redrawn in place with `\r`:
///
///     encode  1.23 GB / 4.56 GB  27.0%  512.3 MB/s  0:02  ETA 0:06
///
/// Shown only when stderr is a terminal (so logs and pipelines stay clean), redrawn at most 10 times a second.
/// `add(bytes:)` may be called from any thread. When disabled, `add` is an inlined test of one constant.
///
/// Named `ProgressReporter`, not `Progress`, so that it does not collide with Foundation's `Progress`.
///
/// Sendable without locks: the counters are atomics, and the right to draw is taken by a compare-and-exchange
/// on the next allowed draw time, so at most one thread draws per interval.
public final class ProgressReporter: Sendable {
    /// False when stderr is not a terminal (or when created disabled): every call is then a no-op.
    public let isEnabled: Bool
    private let total: Int64?
    private let label: String
    private let fileDescriptor: Int32
    private let startNanos: UInt64
    private let completed = Atomic<Int64>(0)
    private let nextDrawNanos = Atomic<UInt64>(0)
    private let drewSomething = Atomic<Bool>(false)

    /// Redraw interval: 10 times a second is smooth and costs nothing.
    static let intervalNanos: UInt64 = 100_000_000

    /// - Parameters:
    ///   - total: the expected byte count, if known (`ByteSource.inputSize`), for percent and ETA.
    ///   - label: a word in front of the numbers (`encode`).
    ///   - enabled: nil (the default) means "if `fileDescriptor` is a terminal".
    public init(total: Int64?, label: String = "", enabled: Bool? = nil, fileDescriptor: Int32 = 2) {
        self.isEnabled = enabled ?? (isatty(fileDescriptor) != 0)
        self.total = total
        self.label = label
        self.fileDescriptor = fileDescriptor
        self.startNanos = ProgressReporter.now()
        self.nextDrawNanos.store(startNanos &+ ProgressReporter.intervalNanos, ordering: .relaxed)
    }

    /// A reporter that never draws.
    public static func disabled() -> ProgressReporter {
        ProgressReporter(total: nil, enabled: false)
    }

    /// Counts `bytes` more as done; redraws if the interval has passed.
    @inlinable
    public func add(bytes: Int) {
        if isEnabled { record(delta: Int64(bytes)) }
    }

    /// Sets the done count (for callers that track a position, e.g. `ByteSource.inputPosition`).
    @inlinable
    public func set(completed value: Int64) {
        if isEnabled { record(absolute: value) }
    }

    /// The bytes counted so far (0 when disabled: nothing is counted then).
    public var completedBytes: Int64 { completed.load(ordering: .relaxed) }

    /// Clears the line. Call once, after the last `add`.
    public func finish() {
        guard isEnabled else { return }
        nextDrawNanos.store(.max, ordering: .relaxed)
        if drewSomething.load(ordering: .relaxed) { emit("\r\u{1B}[K") }
    }

    @usableFromInline
    func record(delta: Int64) {
        completed.add(delta, ordering: .relaxed)
        maybeDraw()
    }

    @usableFromInline
    func record(absolute: Int64) {
        completed.store(absolute, ordering: .relaxed)
        maybeDraw()
    }

    private func maybeDraw() {
        let now = ProgressReporter.now()
        let next = nextDrawNanos.load(ordering: .relaxed)
        guard now >= next else { return }
        let (won, _) = nextDrawNanos.compareExchange(
            expected: next, desired: now &+ ProgressReporter.intervalNanos, ordering: .relaxed)
        guard won else { return }
        drewSomething.store(true, ordering: .relaxed)
        let text = ProgressReporter.line(label: label, done: completed.load(ordering: .relaxed), total: total,
                                         elapsedNanos: now &- startNanos)
        emit("\r" + text + "\u{1B}[K")
    }

    private func emit(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            _ = try? writeAll(fileDescriptor, UnsafeRawBufferPointer(utf8), name: "<stderr>")
        }
    }

    private static func now() -> UInt64 { monotonicNanoseconds() }

    // MARK: - Formatting (no Foundation: fixed-point by hand)

    /// The text of the line (without `\r` and the clear-to-end escape). Public for tests and for a CLI that
    /// prints a final summary in the same format.
    public static func line(label: String, done: Int64, total: Int64?, elapsedNanos: UInt64) -> String {
        let seconds = Double(elapsedNanos) / 1e9
        var parts: [String] = []
        if !label.isEmpty { parts.append(label) }
        if let total, total > 0 {
            parts.append(formatBytes(done) + " / " + formatBytes(total))
            parts.append(fixed(100 * Double(done) / Double(total), decimals: 1) + "%")
        } else {
            parts.append(formatBytes(done))
        }
        let rate = seconds > 0 ? Double(done) / seconds : 0
        parts.append(fixed(rate / 1e6, decimals: 1) + " MB/s")
        parts.append(formatDuration(seconds))
        if let total, total > done, rate > 0 {
            parts.append("ETA " + formatDuration(Double(total - done) / rate))
        }
        return parts.joined(separator: "  ")
    }

    /// Decimal units, as `ls -h --si` and throughput figures use: 1 MB = 10^6 bytes. `1.50 kB`, `999 B`.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : fixed(value, decimals: 2) + " " + units[unit]
    }

    /// `m:ss` or `h:mm:ss`.
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(max(0, min(seconds, 1e9)).rounded(.down))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + ss }
        return "\(m):" + ss
    }

    /// `value` (clamped to 0 ... 1e15) rounded to `decimals` places, e.g. fixed(27.04, 1) = "27.0".
    public static func fixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64(max(0, min(value, 1e15)) * scale + 0.5)
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return decimals == 0 ? "\(whole)" : "\(whole).\(fraction)"
    }
}
