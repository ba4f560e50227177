// The search tables of ggml's 3-bit IQ quantizers (`iq3xs_init_impl`), the neighbour search
// (`iq3_find_best_neighbour`), and the per-32-weight scale search both quantizers run. IQ3_XXS searches a grid of
// 256 points, IQ3_S one of 512; a point is four levels 2l + 1 (l in 0...7) of a 32-weight group's magnitudes.

/// ggml's `iq3_data[gindex]` for one grid size: the grid, the map from any four levels to their grid point or to
/// their neighbour list, and the neighbour lists. Built once per process on first use (`xxs`, `s`: Swift runs a
/// `static let` initializer exactly once, thread-safely, as ggml's `ggml_quantize_init` does under its mutex).
///
/// The tables are allocated in `init` and never written or freed afterwards, so the quantizers read them through
/// plain pointers (no bounds checks, no retains in the search loops) and sharing them between threads is safe.
final class IQ3GridIndex: @unchecked Sendable {
    /// IQ3_XXS's 256-point grid; neighbours within the two nearest distances.
    static let xxs = IQ3GridIndex(kgrid: IQ3KGridTables.kgrid256, nearestDistances: 2)
    /// IQ3_S's 512-point grid; neighbours within the three nearest distances.
    static let s = IQ3GridIndex(kgrid: IQ3KGridTables.kgrid512, nearestDistances: 3)

    /// ggml's `kmap_size`: every combination of four 3-bit levels.
    static let mapSize = 4096

    /// Number of grid points.
    let gridSize: Int
    /// [gridSize × 4] ggml's `kgrid_q3xs`, each point's four values 2l + 1 (ggml keeps them as the bytes of a uint32).
    let points: UnsafePointer<UInt8>
    /// [4096] ggml's `kmap_q3xs`, indexed by `l0 | l1 << 3 | l2 << 6 | l3 << 9`: the grid index of that point, or,
    /// for a point not on the grid, −(offset + 1) with `offset` where its list starts in `neighbours`.
    let map: UnsafePointer<Int32>
    /// ggml's `kneighbors_q3xs`: per off-grid point, a count n followed by n grid indices.
    let neighbours: UnsafePointer<UInt16>

    /// ggml's `iq3xs_init_impl(grid_size)`. For each of the 4096 level combinations not on the grid, ggml computes
    /// the squared distance of every grid point, sorts (distance, index) pairs with `qsort` and
    /// `iq3_compare_func` (by distance, then index: a total order, so qsort's instability cannot show), and keeps
    /// the points of the `nearestDistances` smallest distinct distances. Here the same list is collected without
    /// the sort: the nearest distinct distances first, then for each of them in increasing order the grid indices
    /// at that distance in increasing order — the sorted array's prefix, element for element.
    private init(kgrid: [UInt16], nearestDistances nwant: Int) {
        let gridSize = kgrid.count
        self.gridSize = gridSize
        let points = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * gridSize)
        for k in 0..<gridSize {
            for i in 0..<4 {
                let l = (Int(kgrid[k]) >> (3 * i)) & 7
                points[4 * k + i] = UInt8(2 * l + 1)
            }
        }
        let mapSize = Self.mapSize
        let map = UnsafeMutablePointer<Int32>.allocate(capacity: mapSize)
        map.initialize(repeating: -1, count: mapSize)
        for k in 0..<gridSize {
            var index = 0
            for i in 0..<4 { index |= ((Int(points[4 * k + i]) - 1) / 2) << (3 * i) }
            map[index] = Int32(k)
        }

        var lists: [UInt16] = []
        var dist2 = [Int](repeating: 0, count: gridSize)
        var nearest = [Int]()
        for i in 0..<mapSize where map[i] < 0 {
            for j in 0..<gridSize {
                var d2 = 0
                for k in 0..<4 {
                    let diff = Int(points[4 * j + k]) - (2 * ((i >> (3 * k)) & 7) + 1)
                    d2 += diff * diff
                }
                dist2[j] = d2
            }
            // The nwant smallest distinct distances, ascending.
            nearest.removeAll(keepingCapacity: true)
            for d2 in dist2 where !nearest.contains(d2) {
                if nearest.count < nwant {
                    nearest.append(d2)
                    nearest.sort()
                } else if d2 < nearest[nwant - 1] {
                    nearest[nwant - 1] = d2
                    nearest.sort()
                }
            }
            map[i] = -Int32(lists.count + 1)
            let start = lists.count
            lists.append(0)
            for d2 in nearest {
                for j in 0..<gridSize where dist2[j] == d2 { lists.append(UInt16(j)) }
            }
            lists[start] = UInt16(lists.count - start - 1)
        }
        let neighbours = UnsafeMutablePointer<UInt16>.allocate(capacity: lists.count)
        neighbours.initialize(from: lists, count: lists.count)

        self.points = UnsafePointer(points)
        self.map = UnsafePointer(map)
        self.neighbours = UnsafePointer(neighbours)
    }

    /// The grid points of `index`, as ggml reads `(const int8_t *)(kgrid_q3xs + index)`.
    @inline(__always)
    func point(_ index: Int) -> UnsafePointer<UInt8> { points + 4 * index }

    /// The neighbour list (count first) of level combination `u`, which `map[u] < 0` says is off the grid.
    @inline(__always)
    func neighbourList(_ u: Int) -> UnsafePointer<UInt16> { neighbours + Int(-map[u] - 1) }

    /// ggml's `iq3_find_best_neighbour`: among the neighbours of an off-grid point, the one closest to the four
    /// magnitudes `xval` at `scale` (weighted squared distance, first on ties); writes its levels to `L`.
    ///
    /// ggml asserts that some neighbour is closer than FLT_MAX, which fails (an abort) when every distance is
    /// infinite or NaN, as inputs near 1e30 make them. Here the first neighbour is taken instead: such blocks get
    /// some valid bytes rather than a crash.
    @inline(__always)
    func findBestNeighbour(
        _ list: UnsafePointer<UInt16>, _ xval: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ scale: Float,
        _ L: UnsafeMutablePointer<Int8>
    ) -> Int {
        let count = Int(list[0])
        var bestD2 = Float.greatestFiniteMagnitude
        var gridIndex = -1
        for j in stride(from: 1, through: count, by: 1) {
            let pg = point(Int(list[j]))
            var d2: Float = 0
            for i in 0..<4 {
                let q = Float(pg[i])
                let diff = scale * q - xval[i]
                d2 += weight[i] * diff * diff
            }
            if d2 < bestD2 {
                bestD2 = d2
                gridIndex = Int(list[j])
            }
        }
        if gridIndex < 0 { gridIndex = Int(list[1]) }
        let pg = point(gridIndex)
        for i in 0..<4 { L[i] = Int8((Int(pg[i]) - 1) / 2) }
        return gridIndex
    }

    /// The scale search of one 32-weight group, common to `quantize_row_iq3_xxs_impl` and
    /// `quantize_row_iq3_s_impl`: for `steps` × 2 + 1 trial scales around `max / 15`, round the magnitudes to
    /// levels, move off-grid quadruples to their best neighbour, and keep the levels with the best weighted fit
    /// (sumqx² / sumq2); then requantize the quadruples still off the grid at the best scale and refit the scale.
    /// Leaves the levels in `s.L` and returns the scale (negative only if the refit makes it so).
    ///
    /// The two callers differ in three places, passed in: IQ3_XXS tries 31 scales (`steps` 15), starts with every
    /// quadruple counted as on the grid and requantizes only the off-grid ones; IQ3_S tries 19 (`steps` 9),
    /// starts with none on the grid (so a group whose fit never improves is requantized at `max / 15`) and
    /// requantizes all eight quadruples.
    @inline(__always)
    func searchGroupScale(max: Float, steps: Int, initiallyOnGrid: Bool, requantizeOnGrid: Bool,
                          _ s: IQ3GroupScratch) -> Float {
        let (xval, weight, waux, L, Laux) = (s.xval, s.weight, s.waux, s.L, s.Laux)
        let (isOnGrid, isOnGridAux) = (s.isOnGrid, s.isOnGridAux)
        let kMaxQ = 8
        var best: Float = 0
        var scale = max / Float(2 * kMaxQ - 1)
        for k in 0..<8 { isOnGrid[k] = initiallyOnGrid }
        for step in -steps...steps {
            let id = (Float(2 * kMaxQ - 1) + Float(step) * 0.2) / max
            let thisScale = 1 / id
            for k in 0..<8 {
                for i in 0..<4 {
                    let l = nearestInt(0.5 * (id * xval[4 * k + i] - 1))
                    Laux[4 * k + i] = Int8(clamp(l, 0, kMaxQ - 1))
                }
                var u = 0
                for i in 0..<4 { u |= Int(Laux[4 * k + i]) << (3 * i) }
                isOnGridAux[k] = true
                if map[u] < 0 {
                    isOnGridAux[k] = false
                    _ = findBestNeighbour(neighbourList(u), xval + 4 * k, waux + 4 * k, thisScale, Laux + 4 * k)
                }
            }
            var sumqx: Float = 0
            var sumq2: Float = 0
            for i in 0..<32 {
                let w = weight[i]
                let q = Float(2 * Int(Laux[i]) + 1)
                sumqx += w * xval[i] * q
                sumq2 += w * q * q
            }
            if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                scale = sumqx / sumq2
                best = scale * sumqx
                for i in 0..<32 { L[i] = Laux[i] }
                for k in 0..<8 { isOnGrid[k] = isOnGridAux[k] }
            }
        }
        var notOnGrid = 0
        for k in 0..<8 where !isOnGrid[k] { notOnGrid += 1 }
        if notOnGrid > 0 && scale > 0 {
            let id = 1 / scale
            for k in 0..<8 {
                if !requantizeOnGrid && isOnGrid[k] { continue }
                var u = 0
                for i in 0..<4 {
                    let l = nearestInt(0.5 * (id * xval[4 * k + i] - 1))
                    u |= clamp(l, 0, kMaxQ - 1) << (3 * i)
                }
                var gridIndex = Int(map[u])
                if gridIndex < 0 {
                    gridIndex = findBestNeighbour(neighbourList(u), xval + 4 * k, waux + 4 * k, scale, L + 4 * k)
                }
                let pg = point(gridIndex)
                for i in 0..<4 { L[4 * k + i] = Int8((Int(pg[i]) - 1) / 2) }
            }
            var sumqx: Float = 0
            var sumq2: Float = 0
            for i in 0..<32 {
                let w = weight[i]
                let q = Float(2 * Int(L[i]) + 1)
                sumqx += w * xval[i] * q
                sumq2 += w * q * q
            }
            if sumq2 > 0 { scale = sumqx / sumq2 }
        }
        return scale
    }

    /// The grid index of the four levels `L[0..<4]`. They are always a grid point here (the search only keeps
    /// levels read from the grid or found on it); ggml aborts if not, this returns the map's negative entry, which
    /// the packers truncate like any other.
    @inline(__always)
    func gridIndex(of L: UnsafePointer<Int8>) -> Int {
        var u = 0
        for i in 0..<4 { u |= Int(L[i]) << (3 * i) }
        return Int(map[u])
    }
}

/// One 32-weight group's working arrays, shared by the IQ3 quantizers (ggml's locals of the same names), allocated
/// once per call on the stack.
struct IQ3GroupScratch {
    let weight: UnsafeMutablePointer<Float>     // [32] importance of each weight
    let xval: UnsafeMutablePointer<Float>       // [32] magnitudes (signs taken out)
    let waux: UnsafeMutablePointer<Float>       // [32] √weight, the neighbour search's weights
    let L: UnsafeMutablePointer<Int8>           // [32] chosen levels 0...7
    let Laux: UnsafeMutablePointer<Int8>        // [32] a trial scale's levels
    let isOnGrid: UnsafeMutablePointer<Bool>    // [8] per quadruple of L: its rounding was on the grid
    let isOnGridAux: UnsafeMutablePointer<Bool> // [8] the same for Laux
    let scales: UnsafeMutablePointer<Float>     // [8] per group of a super-block, the fitted scale
    let blockSigns: UnsafeMutablePointer<UInt8> // [4] per 8-group of a group, its sign bits
}

func withIQ3GroupScratch(_ body: (IQ3GroupScratch) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * 32 + 8) { floats in
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: 2 * 32) { levels in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: 2 * 8) { flags in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4) { signs in
                    let f = floats.baseAddress!, l = levels.baseAddress!, b = flags.baseAddress!
                    body(IQ3GroupScratch(weight: f, xval: f + 32, waux: f + 64, L: l, Laux: l + 32,
                                         isOnGrid: b, isOnGridAux: b + 8, scales: f + 96,
                                         blockSigns: signs.baseAddress!))
                }
            }
        }
    }
}

/// `MAX(a, b)` as ggml's macro evaluates it, `a > b ? a : b` (a NaN `a` gives `b`); Swift's `max` orders NaN
/// differently.
@inline(__always)
func macroMax(_ a: Float, _ b: Float) -> Float { a > b ? a : b }

/// The dequantization grids of IQ3_XXS and IQ3_S (ggml's `iq3xxs_grid`, `iq3s_grid`: four byte values per entry,
/// element j in byte j) as pointers that live for the whole process, for the runtime's fused kernels, which read
/// them in their inner loops without Swift arrays' bounds checks.
public enum IQ3DecodeGrids {
    /// `iq3xxs_grid`, 256 entries (byte values 4 ... 62).
    nonisolated(unsafe) public static let xxs: UnsafePointer<UInt32> = permanentCopy(IQTables.iq3xxsGrid)
    /// `iq3s_grid`, 512 entries (byte values 1 ... 15).
    nonisolated(unsafe) public static let s: UnsafePointer<UInt32> = permanentCopy(IQTables.iq3sGrid)

    private static func permanentCopy(_ table: [UInt32]) -> UnsafePointer<UInt32> {
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: table.count)
        p.initialize(from: table, count: table.count)
        return UnsafePointer(p)
    }
}
