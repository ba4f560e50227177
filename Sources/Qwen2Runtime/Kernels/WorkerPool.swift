#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPrefetch
import Synchronization

/// A session's team of threads for its parallel regions: the matrix products and attention of every step, 100 and
/// more regions per generated token on Qwen2-0.5B, each only tens of microseconds long on two threads.
///
/// `DispatchQueue.concurrentPerform` wakes a sleeping pool thread for every region; under KVM that costs ~30 µs per
/// region (measured: two 6.7 µs halves took 43 µs, 3x the serial time), milliseconds per token. These workers spin
/// on a generation counter between regions instead, as llama.cpp's do, and block on a condition variable after
/// `spinNanoseconds` without work, so an idle session (a chat waiting for its user) costs no CPU.
final class WorkerPool {
    /// Threads in the team, the caller's included.
    let size: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// How long a worker spins after a region before it sleeps: longer than the serial work between two regions of
    /// a step (norms, RoPE, a token's sampling), short enough to be free when nothing runs.
    static let spinNanoseconds: UInt64 = 200_000
    /// How long a thread spins on a core before it spins by `sched_yield` instead: longer than a region's imbalance
    /// between threads on an idle machine. Two-thread generation with another process busy on one of the two cores
    /// fell to 16 tokens/s (one thread: 22) while the waiting thread spun through the time slice of the one it waited for.
    static let yieldNanoseconds: UInt64 = 20_000

    init(size: Int) {
        self.size = max(size, 1)
        shared = Shared()
        for index in 1..<self.size {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, index: index)).toOpaque()
            var thread = pthread_t()
            guard pthread_create(&thread, nil, { raw in
                Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue().loop()
                return nil
            }, context) == 0 else {
                // Without another thread the regions still complete: the caller takes every share.
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                break
            }
            threads.append(thread)
        }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body(share, thread)` for every share in 0..<`shares`, each once, and returns when all have returned;
    /// `thread` (0..<size, the caller 0) tells a share which per-thread scratch is its own. The caller's thread takes
    /// shares too, and each share goes to whichever thread is free first. The shares write disjoint parts of shared
    /// buffers (rows or heads), which is why `body` need not be `@Sendable`.
    func run(shares: Int, _ body: (_ share: Int, _ thread: Int) -> Void) {
        if shares <= 1 || threads.isEmpty {
            for share in 0..<shares { body(share, 0) }
            return
        }
        run(Work(count: shares, granule: 1, minimum: 1, parts: 0)) { range, thread in
            for share in range { body(share, thread) }
        }
    }

    /// Runs `body` on ranges that tile 0..<`count`, each once, and returns when all have returned. Ranges are handed
    /// out as threads come free, largest first: each is 1/(2 × size) of what is left, rounded up to a multiple of
    /// `granule` and at least `minimum` (a multiple of `granule`), so a thread that starts late or runs slower (another
    /// process on its core, a slower half of the rows) ends its last range within about one minimum range of the
    /// others, for about 2 × size × log(count / minimum) claims per region.
    func run(items count: Int, granule: Int, minimum: Int, _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
        if count <= minimum || threads.isEmpty {
            if count > 0 { body(0..<count, 0) }
            return
        }
        run(Work(count: count, granule: granule, minimum: max(minimum, granule), parts: 2 * size), body)
    }

    private func run(_ work: Work, _ body: (Range<Int>, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            shared.start(work, remaining: threads.count, body)
            shared.takeRanges(body, thread: 0)
            shared.waitForWorkers()
        }
    }

    /// How a region's items are cut into ranges: fixed ranges of `minimum` when `parts` is 0, else 1/`parts` of what is
    /// left, rounded up to `granule`, at least `minimum`.
    struct Work {
        let count: Int
        let granule: Int
        let minimum: Int
        let parts: Int
    }

    private final class WorkerContext {
        let shared: Shared
        let index: Int
        init(shared: Shared, index: Int) {
            self.shared = shared
            self.index = index
        }
        func loop() { shared.work(as: index) }
    }

    /// The state the caller and its workers share: a region's body and the counters that start and finish it.
    private final class Shared: @unchecked Sendable {
        /// Incremented to start a region; a worker runs each generation once.
        private let generation = Atomic<Int>(0)
        /// Workers that have not yet finished the current region.
        private let remaining = Atomic<Int>(0)
        /// Workers blocked on `wake` (or about to be): a new region must broadcast.
        private let sleepers = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let wake: UnsafeMutablePointer<pthread_cond_t>
        // Written by the caller before `generation` is released, read by workers after acquiring it.
        private nonisolated(unsafe) var body: ((Range<Int>, Int) -> Void)?
        private nonisolated(unsafe) var work = Work(count: 0, granule: 1, minimum: 1, parts: 0)
        /// The first item of the current region not yet taken: ranges go to whichever thread is free first, so a worker
        /// that wakes late (or whose core is busy with another process) leaves its part to the others.
        private let next = Atomic<Int>(0)

        init() {
            mutex = .allocate(capacity: 1)
            wake = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(wake, nil)
        }

        deinit {
            pthread_cond_destroy(wake)
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            wake.deallocate()
        }

        func start(_ work: Work, remaining workers: Int, _ body: @escaping (Range<Int>, Int) -> Void) {
            self.body = body
            self.work = work
            next.store(0, ordering: .relaxed)
            remaining.store(workers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            broadcastIfSleeping()
        }

        func waitForWorkers() {
            var spins = 0
            var spinStart: UInt64 = 0
            while remaining.load(ordering: .acquiring) > 0 {
                qwenkit_cpu_relax()
                spins &+= 1
                if spins == 64 { spinStart = now() }
                // A worker still on its share after `yieldNanoseconds` may be waiting for this core (another process
                // holds the other): give it the core instead of spinning through the time slice.
                if spins > 64 && spins & 15 == 0 && now() &- spinStart > WorkerPool.yieldNanoseconds { sched_yield() }
            }
            body = nil
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            broadcastIfSleeping()
        }

        func takeRanges(_ body: (Range<Int>, Int) -> Void, thread: Int) {
            while let range = claim() { body(range, thread) }
        }

        /// The next range of the current region, or nil when every item is taken. Relaxed: the region's inputs are
        /// published by `generation` and its outputs by `remaining`.
        private func claim() -> Range<Int>? {
            let work = self.work
            var first = next.load(ordering: .relaxed)
            while first < work.count {
                let left = work.count - first
                var n = work.minimum
                if work.parts > 0 {
                    let part = (left / work.parts + work.granule - 1) / work.granule * work.granule
                    n = max(n, part)
                }
                n = min(n, left)
                let (exchanged, original) = next.compareExchange(expected: first, desired: first + n,
                                                                 ordering: .relaxed)
                if exchanged { return first..<(first + n) }
                first = original
            }
            return nil
        }

        private func broadcastIfSleeping() {
            // A worker counts itself a sleeper and then re-reads `generation` under the mutex before it waits; both
            // sequentially consistent, so either it sees the new generation or this sees it sleeping.
            guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }

        func work(as index: Int) {
            // Generation 0 is before the first region: a thread that starts late still runs every region.
            var seen = 0
            while true {
                var current = generation.load(ordering: .acquiring)
                if current == seen {
                    let spinStart = now()
                    var spins = 0
                    while current == seen {
                        qwenkit_cpu_relax()
                        spins &+= 1
                        // Past `yieldNanoseconds`, spin by yielding: with a core taken by another process, the caller's
                        // serial work between regions needs this one.
                        if spins & 63 == 0 && now() &- spinStart > WorkerPool.yieldNanoseconds { sched_yield() }
                        if spins & 63 == 0, now() &- spinStart > WorkerPool.spinNanoseconds {
                            pthread_mutex_lock(mutex)
                            sleepers.add(1, ordering: .sequentiallyConsistent)
                            while generation.load(ordering: .sequentiallyConsistent) == seen {
                                pthread_cond_wait(wake, mutex)
                            }
                            sleepers.subtract(1, ordering: .sequentiallyConsistent)
                            pthread_mutex_unlock(mutex)
                        }
                        current = generation.load(ordering: .acquiring)
                    }
                }
                seen = current
                if stopping.load(ordering: .acquiring) { return }
                if let body { takeRanges(body, thread: index) }
                remaining.subtract(1, ordering: .releasing)
            }
        }

        private func now() -> UInt64 {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
        }
    }
}
