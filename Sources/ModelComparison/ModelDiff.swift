#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ModelFiles
import ModelInspection
import QwenKitIO

/// Two models compared tensor by tensor, and (both GGUF) key by key.
///
/// Each tensor pair gets one status. A tensor only in one model, a shape mismatch, a tensor that cannot be
/// assembled (experts missing) or read (a type without a dequantizer here), and a tensor whose max abs error is
/// over the tolerance all fail the comparison; a changed element type alone does not (an F32 conversion of a BF16
/// checkpoint is equal to it). Metadata differences are reported and never fail it: they are expected whenever
/// the files differ in type (`general.file_type`).
///
/// Results are sorted worst first: tensors missing from one side, then shape mismatches, tensors that cannot be
/// assembled, and tensors that cannot be compared, then the compared ones by max abs error, largest first, ties
/// by RMSE, then in A's order. Max abs error is the sort key because it is what the tolerance is held against, so
/// the tensors over the tolerance are always the first compared ones.
public struct ModelDiff: @unchecked Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case onlyInA = "only_in_a"
        case onlyInB = "only_in_b"
        case shapeMismatch = "shape_mismatch"
        /// One side's tensor cannot be assembled (experts missing or unlike, a name two tensors map to).
        case invalid
        /// The values cannot be compared: no dequantizer for a type, and the types differ.
        case unsupported
        case overTolerance = "over_tolerance"
        case withinTolerance = "within_tolerance"
        case equal

        /// Whether a tensor with this status fails the comparison.
        public var fails: Bool { self != .equal && self != .withinTolerance }
    }

    /// One pair's outcome.
    public struct TensorResult: @unchecked Sendable {
        /// The name both sides go by (under `.hfToGGUF`, the GGUF name).
        public let name: String
        public let a: ComparedTensor?
        public let b: ComparedTensor?
        public let status: Status
        /// The figures, when values were compared as floats.
        public let metrics: DifferenceMetrics?
        /// What kept the values from being compared, or how they were compared instead.
        public let note: String?

        /// The element types differ (as named: a safetensors F32 and a GGUF F32 are the same).
        public var typeChanged: Bool {
            guard let a, let b else { return false }
            return a.type.name != b.type.name
        }
    }

    /// What will be compared, decided from the headers alone: the pairs and the bytes they will read.
    public struct Plan: @unchecked Sendable {
        public let a: InspectedModel
        public let b: InspectedModel
        public let mapping: NameMapping
        public let tolerance: Double
        /// The pairs the filter kept, A's order then B's.
        public let pairs: [(a: ComparedTensor?, b: ComparedTensor?)]
        /// Pairs before the filter.
        public let unfilteredCount: Int
        /// HF tensors `convert` leaves out (rotary caches), of A and of B, left out here too.
        public let ignored: (a: [String], b: [String])

        /// `tolerance`: the largest max abs error a tensor may have and still pass (0 passes only equal tensors).
        /// `patterns`: keep only pairs whose name, or a stored name on either side, matches one of these globs.
        public init(_ a: InspectedModel, _ b: InspectedModel, tolerance: Double = 0, patterns: [String] = []) {
            self.a = a
            self.b = b
            self.tolerance = tolerance
            mapping = NameMapping(a, b)
            let ca = TensorMatcher.compared(a, mapping: mapping), cb = TensorMatcher.compared(b, mapping: mapping)
            ignored = (ca.ignored, cb.ignored)
            let all = TensorMatcher.pairs(ca.tensors, cb.tensors)
            unfilteredCount = all.count
            guard !patterns.isEmpty else { pairs = all; return }
            pairs = all.filter { pair in
                let names = [pair.a, pair.b].compactMap { $0 }.flatMap { [$0.name] + $0.storedNames }
                return names.contains { name in patterns.contains { globMatches($0, name) } }
            }
        }

        /// Bytes the value comparison reads (both sides of every pair present in both, shapes equal).
        public var bytesToRead: Int {
            pairs.reduce(0) { total, pair in
                guard let a = pair.a, let b = pair.b, a.shape == b.shape else { return total }
                return total + a.byteCount + b.byteCount
            }
        }
    }

    public let plan: Plan
    /// Worst first (see the type's comment).
    public let tensors: [TensorResult]
    /// The metadata comparison, when both models are GGUF files.
    public let metadata: MetadataDiff?

    public var a: InspectedModel { plan.a }
    public var b: InspectedModel { plan.b }
    public var tolerance: Double { plan.tolerance }

    /// True when no tensor fails (see `Status.fails`).
    public var passed: Bool { !tensors.contains { $0.status.fails } }

    /// How many tensors have `status`.
    public func count(_ status: Status) -> Int { tensors.reduce(0) { $0 + ($1.status == status ? 1 : 0) } }

    /// Compares `plan`'s pairs on `threads` threads; `progress` counts the bytes read.
    public init(_ plan: Plan, threads: Int = 1, progress: ProgressReporter = .disabled()) {
        self.plan = plan
        if case .gguf(let fa) = plan.a.source, case .gguf(let fb) = plan.b.source {
            metadata = MetadataDiff(fa.metadata, fb.metadata)
        } else {
            metadata = nil
        }

        // Decide each pair's fate from its headers; the float comparisons run together afterwards.
        enum Pending {
            case done(Status, note: String?)
            case bytes(Bool, note: String)
            case values(job: Int)
        }
        var pending: [Pending] = []
        var jobs: [(a: RowReader, b: RowReader)] = []
        for pair in plan.pairs {
            guard let a = pair.a, let b = pair.b else {
                let only = pair.a ?? pair.b!
                if let problem = only.problem {
                    pending.append(.done(.invalid, note: (pair.a != nil ? "a: " : "b: ") + problem))
                } else {
                    pending.append(.done(pair.a != nil ? .onlyInA : .onlyInB, note: nil))
                }
                continue
            }
            if a.problem != nil || b.problem != nil {
                let notes = [a.problem.map { "a: " + $0 }, b.problem.map { "b: " + $0 }].compactMap { $0 }
                pending.append(.done(.invalid, note: notes.joined(separator: "; ")))
                continue
            }
            guard a.shape == b.shape else {
                pending.append(.done(.shapeMismatch, note: nil))
                continue
            }
            do throws(RowReader.Unsupported) {
                let ra = try RowReader(a), rb = try RowReader(b)
                pending.append(.values(job: jobs.count))
                jobs.append((ra, rb))
            } catch {
                if a.type.name == b.type.name && a.byteCount == b.byteCount {
                    pending.append(.bytes(Self.bytesEqual(a.parts, b.parts), note: "compared byte for byte: \(error.reason)"))
                } else {
                    pending.append(.done(.unsupported, note: error.reason))
                }
            }
        }
        let metrics = TensorComparator.compare(jobs, threads: threads, progress: progress)

        var results: [TensorResult] = []
        for (pair, fate) in zip(plan.pairs, pending) {
            let name = (pair.a ?? pair.b!).name
            switch fate {
            case .done(let status, let note):
                results.append(TensorResult(name: name, a: pair.a, b: pair.b, status: status, metrics: nil, note: note))
            case .bytes(let equal, let note):
                results.append(TensorResult(name: name, a: pair.a, b: pair.b, status: equal ? .equal : .overTolerance,
                                            metrics: nil, note: note))
            case .values(let job):
                let m = metrics[job]
                let status: Status = m.effectiveMaxAbsError > plan.tolerance ? .overTolerance
                    : (m.isExact ? .equal : .withinTolerance)
                results.append(TensorResult(name: name, a: pair.a, b: pair.b, status: status, metrics: m, note: nil))
            }
        }
        tensors = Self.worstFirst(results)
    }

    /// Sorted as the type's comment says; stable, so ties keep A's order.
    static func worstFirst(_ results: [TensorResult]) -> [TensorResult] {
        func rank(_ s: Status) -> Int {
            switch s {
            case .onlyInA: return 0
            case .onlyInB: return 1
            case .shapeMismatch: return 2
            case .invalid: return 3
            case .unsupported: return 4
            case .overTolerance, .withinTolerance, .equal: return 5
            }
        }
        /// Byte-compared pairs have no figures: unequal bytes rank as an infinite error, equal ones as none.
        func keys(_ r: TensorResult) -> (Double, Double) {
            if let m = r.metrics { return (m.effectiveMaxAbsError, m.rmse) }
            return r.status == .equal ? (0, 0) : (.infinity, .infinity)
        }
        return results.enumerated().sorted { x, y in
            let (rx, ry) = (rank(x.element.status), rank(y.element.status))
            if rx != ry { return rx < ry }
            if rx == 5 {
                let (kx, ky) = (keys(x.element), keys(y.element))
                if kx.0 != ky.0 { return kx.0 > ky.0 }
                if kx.1 != ky.1 { return kx.1 > ky.1 }
            }
            return x.offset < y.offset
        }.map(\.element)
    }

    /// Whether the parts of both sides, each laid end to end, hold the same bytes.
    static func bytesEqual(_ a: [InspectedModel.Tensor], _ b: [InspectedModel.Tensor]) -> Bool {
        if a.count == b.count && zip(a, b).allSatisfy({ $0.data.count == $1.data.count }) {
            return zip(a, b).allSatisfy { x, y in
                x.data.isEmpty || memcmp(x.data.baseAddress!, y.data.baseAddress!, x.data.count) == 0
            }
        }
        return a.lazy.flatMap { $0.data }.elementsEqual(b.lazy.flatMap { $0.data })
    }
}
