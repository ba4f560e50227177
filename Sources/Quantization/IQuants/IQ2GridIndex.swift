import ModelFiles

/// The search tables ggml's `iq2xs_init_impl(type)` builds once per grid, for the IQ2_XXS, IQ2_XS, IQ2_S and
/// IQ1_S/IQ1_M quantizers: the grid, the map from a rounded point to its grid index, and the neighbour lists of
/// the points that are not on the grid.
///
/// A point here is eight coordinates l in 0...3, keyed as `l₀ | l₁ << 2 | … | l₇ << 14` (the quantizers clamp l
/// to 0...2, so keys stay below `mapSize`). Its search value per coordinate is 2l + 1.
///
/// - `point(j)`: grid point j as eight `Int8` search values 2l + 1 (1, 3, 5), ggml's `kgrid_q2xs + j` read as
///   `int8_t *`. This is the search grid, not the dequantization grid of IQTables (for IQ1_S the values are
///   1, 3, 5 here where `iq1s_grid` holds −1, 0, 1).
/// - `map[key]`: ggml's `kmap_q2xs`: the grid index (≥ 0) when the point is on the grid, otherwise
///   −(offset + 1) where `neighbours + offset` is the point's neighbour list.
/// - a neighbour list (`neighbourList(key:)`, ggml's `kneighbors_q2xs - kmap_q2xs[key] - 1`): its length n, then n
///   grid indices: every grid point whose squared distance Σ(gridᵢ − (2lᵢ + 1))² is among the `nwant` smallest
///   distinct distances (IQ2_S 1, IQ2_XXS and IQ2_XS 2, IQ1_S/IQ1_M 3), in ggml's order: by distance, then index.
///
/// ggml sorts all grid points with `qsort` and `iq2_compare_func`, which compares (distance, index): a total
/// order over distinct pairs, so the sorted order is unique and qsort's instability cannot show. Here the same
/// order is produced without sorting: find the `nwant` smallest distinct distances, then list the indices at
/// each in increasing index order. Distances are summed from two per-half (four-coordinate) tables.
///
/// Built once per kind on first use (`static let`, thread-safe) and never freed; read-only afterwards.
final class IQ2GridIndex: @unchecked Sendable {
    /// Which of ggml's four grids (`iq2_data_index`): IQ1_S and IQ1_M share one.
    enum Kind: Sendable {
        case iq2xxs, iq2xs, iq2s, iq1s

        /// Grid points (`iq2_grid_size`).
        var gridSize: Int {
            switch self {
            case .iq2xxs: return 256
            case .iq2xs: return 512
            case .iq2s: return 1024
            case .iq1s: return 2048
            }
        }

        /// How many distinct distances a neighbour list spans (`nwant`).
        var distancesWanted: Int {
            switch self {
            case .iq2xxs, .iq2xs: return 2
            case .iq2s: return 1
            case .iq1s: return 3
            }
        }

        /// The packed grid point list of `iq2xs_init_impl` (`kgrid_2bit_256` …).
        var kgrid: [UInt16] {
            switch self {
            case .iq2xxs: return IQ2KGridTables.kgrid2Bit256
            case .iq2xs: return IQ2KGridTables.kgrid2Bit512
            case .iq2s: return IQ2KGridTables.kgrid2Bit1024
            case .iq1s: return IQ2KGridTables.kgrid1Bit2048
            }
        }
    }

    static let iq2xxs = IQ2GridIndex(.iq2xxs)
    static let iq2xs = IQ2GridIndex(.iq2xs)
    static let iq2s = IQ2GridIndex(.iq2s)
    /// IQ1_S's and IQ1_M's tables.
    static let iq1s = IQ2GridIndex(.iq1s)

    /// ggml's `kmap_size`: keys of points with every coordinate in 0...2 are below 0xAAAA + 1; the map covers two
    /// more, as ggml's does.
    static let mapSize = 43692

    let kind: Kind
    let gridSize: Int
    /// `gridSize × 8` search values, point j at `8j` (ggml's `kgrid_q2xs`).
    let gridValues: UnsafePointer<Int8>
    /// `mapSize` entries (ggml's `kmap_q2xs`).
    let map: UnsafePointer<Int32>
    /// The neighbour lists laid end to end in key order (ggml's `kneighbors_q2xs`).
    let neighbours: UnsafePointer<UInt16>
    /// Entries in `neighbours` (each off-grid key's count plus its indices).
    let neighboursCount: Int

    /// Grid point j's eight search values.
    @inline(__always)
    func point(_ j: Int) -> UnsafePointer<Int8> { gridValues + 8 * j }

    /// Grid point j as ggml's `uint64_t` (coordinate i in byte i).
    func gridWord(_ j: Int) -> UInt64 {
        var word: UInt64 = 0
        for i in 0..<8 { word |= UInt64(UInt8(bitPattern: gridValues[8 * j + i])) << (8 * i) }
        return word
    }

    /// The neighbour list of an off-grid key (`map[key] < 0`): the count, then the grid indices.
    @inline(__always)
    func neighbourList(key: Int) -> UnsafePointer<UInt16> { neighbours + Int(-map[key] - 1) }

    private init(_ kind: Kind) {
        self.kind = kind
        let gridSize = kind.gridSize
        self.gridSize = gridSize
        let kgrid = kind.kgrid

        let grid = UnsafeMutablePointer<Int8>.allocate(capacity: 8 * gridSize)
        for k in 0..<gridSize {
            for i in 0..<8 {
                let l = Int(kgrid[k] >> (2 * i)) & 3
                grid[8 * k + i] = Int8(2 * l + 1)
            }
        }

        let mapSize = Self.mapSize
        let map = UnsafeMutablePointer<Int32>.allocate(capacity: mapSize)
        map.initialize(repeating: -1, count: mapSize)
        for j in 0..<gridSize {
            var index = 0
            for k in 0..<8 { index |= ((Int(grid[8 * j + k]) - 1) / 2) << (2 * k) }
            map[index] = Int32(j)
        }

        // half[h][b × gridSize + j]: the squared distance over coordinates 4h..<4h + 4 between grid point j and the
        // point whose key has byte b there.
        let halves = UnsafeMutablePointer<UInt16>.allocate(capacity: 2 * 256 * gridSize)
        defer { halves.deallocate() }
        for h in 0..<2 {
            for b in 0..<256 {
                let row = halves + (h * 256 + b) * gridSize
                for j in 0..<gridSize {
                    var d2 = 0
                    for k in 0..<4 {
                        let pos = 2 * ((b >> (2 * k)) & 3) + 1
                        let diff = Int(grid[8 * j + 4 * h + k]) - pos
                        d2 += diff * diff
                    }
                    row[j] = UInt16(d2)
                }
            }
        }

        let nwant = kind.distancesWanted
        var lists: [UInt16] = []
        lists.reserveCapacity(mapSize * 8)
        let dist2 = UnsafeMutablePointer<UInt16>.allocate(capacity: gridSize)
        defer { dist2.deallocate() }
        let candidates = UnsafeMutablePointer<UInt16>.allocate(capacity: gridSize)
        defer { candidates.deallocate() }
        let unset = UInt16.max
        for i in 0..<mapSize where map[i] < 0 {
            let lo = halves + (i & 0xFF) * gridSize
            let hi = halves + (256 + (i >> 8)) * gridSize

            // The distances, and the nwant smallest distinct ones s0 < s1 < s2 (unset beyond what the grid has);
            // `limit` is the largest wanted one so far, so most points are passed over after one comparison.
            var (s0, s1, s2) = (unset, unset, unset)
            var limit = unset
            for j in 0..<gridSize {
                let d = lo[j] &+ hi[j]
                dist2[j] = d
                if d > limit || d == s0 || d == s1 || d == s2 { continue }
                if d < s0 {
                    (s0, s1, s2) = (d, s0, s1)
                } else if d < s1 {
                    (s1, s2) = (d, s1)
                } else {
                    s2 = d
                }
                limit = nwant == 1 ? s0 : nwant == 2 ? s1 : s2
            }

            // The points within the limit in index order, then listed by distance (a stable pass per distance).
            var count = 0
            for j in 0..<gridSize where dist2[j] <= limit {
                candidates[count] = UInt16(j)
                count += 1
            }
            map[i] = -Int32(lists.count + 1)
            lists.append(UInt16(count))
            for d in [s0, s1, s2].prefix(nwant) where d != unset {
                for c in 0..<count where dist2[Int(candidates[c])] == d { lists.append(candidates[c]) }
            }
        }

        let neighbours = UnsafeMutablePointer<UInt16>.allocate(capacity: lists.count)
        neighbours.initialize(from: lists, count: lists.count)
        self.gridValues = UnsafePointer(grid)
        self.map = UnsafePointer(map)
        self.neighbours = UnsafePointer(neighbours)
        self.neighboursCount = lists.count
    }

    deinit {
        gridValues.deallocate()
        map.deallocate()
        neighbours.deallocate()
    }

    /// The tables for a quantizer of `type` (IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M), nil for any other type.
    static func forType(_ type: GGMLType) -> IQ2GridIndex? {
        switch type {
        case .iq2_XXS: return iq2xxs
        case .iq2_XS: return iq2xs
        case .iq2_S: return iq2s
        case .iq1_S, .iq1_M: return iq1s
        default: return nil
        }
    }

    /// ggml `iq2_find_best_neighbour`: among the grid points of `list` (a neighbour list), the one nearest to the
    /// eight values `xval` at `scale` by the weighted squared error Σ wᵢ(scale·gridᵢ − xᵢ)² (the first of equals);
    /// writes its coordinates l = (gridᵢ − 1)/2 to `L` and returns its index.
    ///
    /// ggml asserts that some distance was below FLT_MAX, which fails when every one is inf or NaN (inputs near
    /// Float.greatestFiniteMagnitude); this takes the list's first point then, so such rows give bytes, not a trap.
    func findBestNeighbour(
        _ list: UnsafePointer<UInt16>, _ xval: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ scale: Float, _ L: UnsafeMutablePointer<Int8>
    ) -> Int {
        let count = Int(list[0])
        var bestD2 = Float.greatestFiniteMagnitude
        var gridIndex = -1
        // Each term wᵢ(scale·q − xᵢ)² depends only on i and the coordinate q (0...7), so the terms are computed
        // once, eight i at a time in lanes (the same float operations), and each neighbour's sum adds its eight
        // terms in the reference's order: the same d2, without a per-neighbour conversion and three multiplies per
        // value (this search was two thirds of IQ2_XS's time).
        withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 8) { terms in
            let terms = terms.baseAddress!
            let x = UnsafeRawPointer(xval).loadUnaligned(as: FloatLanes.self)
            let w = UnsafeRawPointer(weight).loadUnaligned(as: FloatLanes.self)
            for q in 0..<8 {
                let diff = FloatLanes(repeating: scale * Float(q)) - x
                terms[q] = w * diff * diff
            }
            let term = UnsafeRawPointer(terms).assumingMemoryBound(to: Float.self)  // term[8·q + i]
            for j in 1...count {
                let pg = point(Int(list[j]))
                var d2: Float = 0
                for i in 0..<8 { d2 += term[8 * Int(pg[i] & 7) + i] }
                if d2 < bestD2 {
                    bestD2 = d2
                    gridIndex = Int(list[j])
                }
            }
        }
        if gridIndex < 0 { gridIndex = Int(list[1]) }  // ggml: GGML_ASSERT(grid_index >= 0)
        let pg = point(gridIndex)
        for i in 0..<8 { L[i] = (pg[i] - 1) / 2 }
        return gridIndex
    }
}
