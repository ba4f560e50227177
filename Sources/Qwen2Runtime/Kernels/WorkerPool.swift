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
        if shares <= 1 || threads.isEmpty || shares > Int(UInt32.max) {
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
        // (Items are counted in 32 bits: see Shared.)
        if count <= minimum || threads.isEmpty || count > Int(UInt32.max) {
            if count > 0 { body(0..<count, 0) }
            return
        }
        run(Work(count: count, granule: granule, minimum: max(minimum, granule), parts: 2 * size), body)
    }

    private func run(_ work: Work, _ body: (Range<Int>, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { pointer in
                let generation = shared.start(work, body: UnsafeRawPointer(pointer))
                shared.takeRanges(generation, thread: 0)
                shared.waitUntilDone(work.count)
            }
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

    /// The state the caller and its workers share: the current region's generation, parameters and body, and the
    /// counters that hand out and finish its items.
    ///
    /// A region ends when all its items are done, whoever did them: the caller does not wait for a worker that took
    /// none. (Before, every worker checked in at the end of every region; with another process on a worker's core the
    /// caller waited at each of the 121 regions of a token for that worker to be scheduled, ~45 µs each, though the
    /// caller had done all the items itself.) So a worker may come to a region late, after the caller has started the
    /// next one and is rewriting the parameters: a claim is therefore a compare-and-swap of `state`, which holds the
    /// generation beside the next item, and only a claim that succeeds lets a thread use what it read. The caller
    /// closes a region (an odd generation, where nothing can be claimed) before it writes the next one's parameters
    /// with release, and workers read them with acquire: a worker that read a new parameter sees the closed generation
    /// and its claim fails. A successful claim keeps its region open until the range is done, so the body it points to
    /// (the caller's closure, on the caller's stack) is alive while it runs.
    private final class Shared: @unchecked Sendable {
        /// The current region's generation (high 32 bits; even while open, odd while the caller sets up the next one)
        /// and the first of its items not yet taken (low 32 bits).
        private let state = Atomic<UInt64>(0)
        /// Items of the current region done.
        private let done = Atomic<Int>(0)
        /// The current region: a pointer to its body (a `Body`), its item count and how they are cut (`Work`).
        private let body = Atomic<UnsafeRawPointer?>(nil)
        private let count = Atomic<Int>(0), granule = Atomic<Int>(1), minimum = Atomic<Int>(1), parts = Atomic<Int>(0)
        /// Workers blocked on `wake` (or about to be): a new region must broadcast.
        private let sleepers = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let wake: UnsafeMutablePointer<pthread_cond_t>

        typealias Body = (Range<Int>, Int) -> Void

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

        /// Opens a region of `work` with `body` (a pointer to a `Body` that stays valid until `waitUntilDone`
        /// returns) and returns its generation.
        func start(_ work: Work, body pointer: UnsafeRawPointer) -> UInt64 {
            // Generations count modulo 2^32 (a server may run more than 2^31 regions).
            let closed = ((state.load(ordering: .relaxed) >> 32) + 1) & 0xFFFF_FFFF
            state.store(closed << 32, ordering: .sequentiallyConsistent)
            count.store(work.count, ordering: .releasing)
            granule.store(work.granule, ordering: .releasing)
            minimum.store(work.minimum, ordering: .releasing)
            parts.store(work.parts, ordering: .releasing)
            body.store(pointer, ordering: .releasing)
            done.store(0, ordering: .relaxed)
            let open = (closed + 1) & 0xFFFF_FFFF
            state.store(open << 32, ordering: .sequentiallyConsistent)
            broadcastIfSleeping()
            return open
        }

        func waitUntilDone(_ count: Int) {
            var spins = 0
            var spinStart: UInt64 = 0
            while done.load(ordering: .acquiring) < count {
                qwenkit_cpu_relax()
                spins &+= 1
                if spins == 64 { spinStart = now() }
                // A worker still on its range after `yieldNanoseconds` may be waiting for this core (another process
                // holds the other): give it the core instead of spinning through the time slice.
                if spins > 64 && spins & 15 == 0 && now() &- spinStart > WorkerPool.yieldNanoseconds { sched_yield() }
            }
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            // An empty region wakes the workers, which then see `stopping`.
            let next = (((state.load(ordering: .relaxed) >> 32) | 1) + 1) & 0xFFFF_FFFF
            state.store(next << 32, ordering: .sequentiallyConsistent)
            broadcastIfSleeping()
        }

        /// Takes ranges of region `generation` and runs its body on them until none is left (or the region is over).
        func takeRanges(_ generation: UInt64, thread: Int) {
            guard var range = claim(generation) else { return }
            // The body is read once per region, after a claim has succeeded: every read of the closure retains its
            // context, and both threads retaining and releasing it for every range (10-20 ranges per region, 121 regions
            // per generated token on Qwen2-0.5B) passed its cache line between the cores. Each range is counted done only
            // once the next is claimed, and the last after this copy is gone, so the region (and the context) outlives
            // the copy: the caller's withoutActuallyEscaping checks that nothing holds its closure when it returns.
            do {
                let run = body.load(ordering: .acquiring)!.assumingMemoryBound(to: Body.self).pointee
                while true {
                    run(range, thread)
                    guard let next = claim(generation) else { break }
                    done.add(range.count, ordering: .releasing)
                    range = next
                }
            }
            done.add(range.count, ordering: .releasing)
        }

        /// The next range of region `generation`, or nil when its items are all taken or it is no longer the current
        /// region.
        private func claim(_ generation: UInt64) -> Range<Int>? {
            var current = state.load(ordering: .acquiring)
            while current >> 32 == generation {
                let first = Int(current & 0xFFFF_FFFF)
                // Read with acquire: if these are already the next region's, `state` has moved on and the exchange fails.
                let count = self.count.load(ordering: .acquiring)
                guard first < count else { return nil }
                let granule = self.granule.load(ordering: .acquiring), parts = self.parts.load(ordering: .acquiring)
                var n = self.minimum.load(ordering: .acquiring)
                if parts > 0 { n = max(n, ((count - first) / parts + granule - 1) / granule * granule) }
                n = min(n, count - first)
                let (exchanged, original) = state.compareExchange(expected: current, desired: current + UInt64(n),
                                                                  ordering: .acquiringAndReleasing)
                if exchanged { return first..<(first + n) }
                current = original
            }
            return nil
        }

        private func broadcastIfSleeping() {
            // A worker counts itself a sleeper and then re-reads `state` under the mutex before it waits; both
            // sequentially consistent, so either it sees the new generation or this sees it sleeping.
            guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }

        /// The generation of an open region other than `seen`, or nil. (Sequentially consistent for the sleepers'
        /// handshake; on x86 that load is the same instruction as an acquiring one.)
        @inline(__always)
        private func newRegion(after seen: UInt64) -> UInt64? {
            let generation = state.load(ordering: .sequentiallyConsistent) >> 32
            return generation != seen && generation & 1 == 0 ? generation : nil
        }

        func work(as index: Int) {
            // Generation 0 is before the first region: a thread that starts late still sees the current one.
            var seen: UInt64 = 0
            while true {
                var current = newRegion(after: seen)
                if current == nil {
                    let spinStart = now()
                    var spins = 0
                    while current == nil {
                        qwenkit_cpu_relax()
                        spins &+= 1
                        // Past `yieldNanoseconds`, spin by yielding: with a core taken by another process, the caller's
                        // serial work between regions needs this one.
                        if spins & 63 == 0 && now() &- spinStart > WorkerPool.yieldNanoseconds { sched_yield() }
                        if spins & 63 == 0, now() &- spinStart > WorkerPool.spinNanoseconds {
                            pthread_mutex_lock(mutex)
                            sleepers.add(1, ordering: .sequentiallyConsistent)
                            while newRegion(after: seen) == nil {
                                pthread_cond_wait(wake, mutex)
                            }
                            sleepers.subtract(1, ordering: .sequentiallyConsistent)
                            pthread_mutex_unlock(mutex)
                        }
                        current = newRegion(after: seen)
                    }
                }
                seen = current!
                if stopping.load(ordering: .acquiring) { return }
                takeRanges(seen, thread: index)
            }
        }

        private func now() -> UInt64 {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
        }
    }
}
