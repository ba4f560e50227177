// What IQ1_S and IQ1_M share, from ggml-quants.c: the 2048-point ternary grid (ggml's `iq1s_grid`, each point eight
// values in {−1, 0, 1} stored as int8 bytes of a UInt64), the shift ±IQ1S_DELTA added to every value of a group,
// the sort that orders a block's values before the exhaustive split search (glibc's qsort, a stable merge sort),
// and the nearest-grid-point search for a pattern that is not on the grid (`iq1_find_best_neighbour2`).
//
// The quantizers index the grid through ggml's `iq2xs_init_impl` tables for the IQ1 grid (IQ2GridIndex): there a
// point's values are stored as 2·l + 1 (1, 3, 5) and read back as the index l = (value − 1)/2 into the three
// shifted levels `x_p` or `x_m`.

/// ggml's `IQ1S_DELTA` (equal to `IQ1M_DELTA`): every value of an 8-group is shifted by ±delta.
let iq1Delta: Float = 0.125

/// The three levels of a group shifted up (`x_p`) and down (`x_m`): −1, 0, 1 plus or minus delta.
let iq1LevelsPlus: (Float, Float, Float) = (-1 + iq1Delta, iq1Delta, 1 + iq1Delta)
let iq1LevelsMinus: (Float, Float, Float) = (-1 - iq1Delta, -iq1Delta, 1 - iq1Delta)

@inline(__always)
func iq1Level(_ levels: (Float, Float, Float), _ l: Int) -> Float {
    l == 0 ? levels.0 : l == 1 ? levels.1 : levels.2
}

/// ggml's refit of a block's scale once some group's pattern was moved onto the grid: Σ w·q·x / Σ w·q² over the
/// block's groups, q the chosen point's level (`levels(k)` of group k), kept only where both sums are positive.
@inline(__always)
func iq1RefitScale(_ scale: Float, blockSize: Int, index: UnsafePointer<Int32>, weight: UnsafePointer<Float>,
                   _ xb: UnsafePointer<Float>, levels: (Int) -> (Float, Float, Float)) -> Float {
    let tables = IQ2GridIndex.iq1s
    var sumqx: Float = 0, sumq2: Float = 0
    for k in 0..<blockSize / 8 {
        let xx = levels(k)
        let pg = tables.point(Int(index[k]))
        for j in 0..<8 {
            let w = weight[8 * k + j]
            let q = iq1Level(xx, Int(pg[j] - 1) / 2)
            sumqx += w * q * xb[8 * k + j]
            sumq2 += w * q * q
        }
    }
    return sumqx > 0 && sumq2 > 0 ? sumqx / sumq2 : scale
}

/// C's `MAX(a, b)`, `a > b ? a : b`: with a NaN operand it returns `b`, unlike Swift's `max`.
@inline(__always)
func cMax(_ a: Float, _ b: Float) -> Float { a > b ? a : b }

public enum IQ1Grid {
    /// Points of the grid (`NGRID_IQ1S`).
    public static let count = 2048

    /// ggml's `iq1s_grid` for the dequantizers and kernels: point p's value j is the int8 byte j of `points[p]`.
    /// Held for the process's life so the hot loops (here and the runtime's kernels) index it without bounds checks.
    nonisolated(unsafe) public static let points: UnsafePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        p.initialize(from: IQTables.iq1sGrid, count: count)
        return UnsafePointer(p)
    }()

    /// Value `j` (0..<8) of grid point `index`: −1, 0 or 1.
    @inline(__always)
    static func value(_ index: Int, _ j: Int) -> Int8 {
        Int8(truncatingIfNeeded: points[index] &>> UInt64(8 * j))
    }
}

/// glibc's `qsort` on ggml's `pairs` array (a float value and, in the next float's bytes, its index) with
/// `iq1_sort_helper` (`l < r ? -1 : l > r ? 1 : 0`): for arrays this small glibc runs `msort_with_tmp`, a top-down
/// merge sort that splits at n/2, sorts the left half first, and on a merge takes the left element unless the
/// comparison says it is greater. That is stable, and written out here step by step so values that compare equal
/// (ties, −0 and +0, NaN, which compares equal to everything) come out in ggml's order.
/// `values`/`order` are sorted together; `tmpValues`/`tmpOrder` are scratch of the same length.
func iq1MergeSort(
    _ values: UnsafeMutablePointer<Float>, _ order: UnsafeMutablePointer<Int32>, _ n: Int,
    _ tmpValues: UnsafeMutablePointer<Float>, _ tmpOrder: UnsafeMutablePointer<Int32>
) {
    if n <= 1 { return }
    var n1 = n / 2
    var n2 = n - n1
    iq1MergeSort(values, order, n1, tmpValues, tmpOrder)
    iq1MergeSort(values + n1, order + n1, n2, tmpValues, tmpOrder)
    var b1 = 0, b2 = n1, t = 0
    while n1 > 0 && n2 > 0 {
        if !(values[b1] > values[b2]) {  // cmp(b1, b2) <= 0
            tmpValues[t] = values[b1]
            tmpOrder[t] = order[b1]
            b1 += 1
            n1 -= 1
        } else {
            tmpValues[t] = values[b2]
            tmpOrder[t] = order[b2]
            b2 += 1
            n2 -= 1
        }
        t += 1
    }
    while n1 > 0 {  // the left run's rest; the right run's rest is already in place
        tmpValues[t] = values[b1]
        tmpOrder[t] = order[b1]
        t += 1
        b1 += 1
        n1 -= 1
    }
    for i in 0..<t {
        values[i] = tmpValues[i]
        order[i] = tmpOrder[i]
    }
}

/// ggml `iq1_find_best_neighbour2`: for an 8-group whose pattern is not on the grid, the point of its neighbour
/// list `list` (count, then grid indices; `IQ2GridIndex.neighbourList`) with the smallest weighted squared error
/// `Σ w·(scale·level − x)²`, the first one on ties, where a point's coordinate v (1, 3, 5) picks `levels[(v − 1)/2]`.
/// Writes the chosen point's level indices to `L` and returns its grid index.
///
/// When no neighbour has an error below FLT_MAX (infinite or NaN errors) ggml searches the whole grid, indexing
/// `xval` with the grid index instead of the value index (a read past the group, beyond the row for most points),
/// and then asserts. Neither can be mirrored: the whole-grid pass here reads the group's own values, and when it
/// too finds nothing the list's first point is taken (ggml has aborted by then; any bytes do, but no trap).
func iq1FindBestNeighbour2(
    _ tables: IQ2GridIndex, _ list: UnsafePointer<UInt16>, _ xval: UnsafePointer<Float>,
    _ weight: UnsafePointer<Float>, _ scale: Float, _ levels: (Float, Float, Float), _ L: UnsafeMutablePointer<Int8>
) -> Int {
    let numNeighbours = Int(list[0])
    var bestScore = Float.greatestFiniteMagnitude
    var gridIndex = -1
    // The term w·(scale·q − x)² of value i depends only on i and the point's coordinate (1, 3 or 5), so the three
    // rows of terms are computed once in lanes (the same float operations) and each neighbour's sum adds its eight
    // terms in the reference's order: the same d2 (this search was half of IQ1_S's time).
    withUnsafeTemporaryAllocation(of: FloatLanes.self, capacity: 8) { terms in
        let terms = terms.baseAddress!
        let x = UnsafeRawPointer(xval).loadUnaligned(as: FloatLanes.self)
        let w = UnsafeRawPointer(weight).loadUnaligned(as: FloatLanes.self)
        for v in 0..<8 {  // coordinate v (only 1, 3 and 5 occur) is level (v − 1)/2
            let diff = FloatLanes(repeating: scale * iq1Level(levels, Swift.max(0, v - 1) / 2)) - x
            terms[v] = w * diff * diff
        }
        let term = UnsafeRawPointer(terms).assumingMemoryBound(to: Float.self)  // term[8·v + i]
        for j in stride(from: 1, through: numNeighbours, by: 1) {
            let pg = tables.point(Int(list[j]))
            var d2: Float = 0
            for i in 0..<8 { d2 += term[8 * Int(pg[i] & 7) + i] }
            if d2 < bestScore {
                bestScore = d2
                gridIndex = Int(list[j])
            }
        }
    }
    if gridIndex < 0 {
        for point in 0..<tables.gridSize {
            let pg = tables.point(point)
            var d2: Float = 0
            for j in 0..<8 {
                let w = weight[j]
                let q = iq1Level(levels, Int(pg[j] - 1) / 2)
                let diff = scale * q - xval[j]
                d2 += w * diff * diff
            }
            if d2 < bestScore {
                bestScore = d2
                gridIndex = point
            }
        }
    }
    if gridIndex < 0 { gridIndex = Int(list[1]) }
    let pg = tables.point(gridIndex)
    for i in 0..<8 { L[i] = (pg[i] - 1) / 2 }
    return gridIndex
}

/// The per-call scratch of the IQ1 quantizers (ggml's stack arrays in `quantize_iq1_s`/`_m`), sized for IQ1_S's
/// 32-value sub-blocks (IQ1_M uses the first 16 of each, and 16 scales and shifts).
struct IQ1Scratch {
    let scales: UnsafeMutablePointer<Float>     // [16] per sub-block scale
    let weight: UnsafeMutablePointer<Float>     // [32] per-value weights of one sub-block
    let sumx: UnsafeMutablePointer<Float>       // [34] prefix sums of weight·x in sorted order (IQ1_S: 33; IQ1_M: 2 × 17)
    let sumw: UnsafeMutablePointer<Float>       // [34] prefix sums of weight in sorted order (the same)
    let values: UnsafeMutablePointer<Float>     // [32] the sub-block's values, sorted ascending
    let tmpValues: UnsafeMutablePointer<Float>  // [32] the merge sort's scratch
    let order: UnsafeMutablePointer<Int32>      // [32] the sorted values' positions (ggml's idx)
    let tmpOrder: UnsafeMutablePointer<Int32>   // [32]
    let index: UnsafeMutablePointer<Int32>      // [4] grid index of each 8-group
    let L: UnsafeMutablePointer<Int8>           // [32] level index 0...2 of each value
    let shifts: UnsafeMutablePointer<Int8>      // [16] per sub-block shift (IQ1_S ±1, IQ1_M 0...3)
}

func withIQ1Scratch(_ body: (IQ1Scratch) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 + 32 + 34 + 34 + 32 + 32) { floats in
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32 + 32 + 4) { ints in
            withUnsafeTemporaryAllocation(of: Int8.self, capacity: 32 + 16) { bytes in
                let f = floats.baseAddress!, i = ints.baseAddress!, b = bytes.baseAddress!
                body(IQ1Scratch(
                    scales: f, weight: f + 16, sumx: f + 48, sumw: f + 82, values: f + 116, tmpValues: f + 148,
                    order: i, tmpOrder: i + 32, index: i + 64, L: b, shifts: b + 32))
            }
        }
    }
}
