import Testing

@testable import Quantization

/// `IQ2GridIndex` against ggml's own `iq2xs_init_impl` tables: the counts, a FNV-1a hash of every neighbour list
/// (count, then indices, off-grid keys in key order) and of the grid words, and a few lists spelled out. The values
/// were printed by a C program that includes ggml-quants.c (ggml 0.25.3) and reads `iq2_data` after
/// `iq2xs_init_impl(type)`.
@Suite struct IQ2GridIndexTests {
    struct Expected: Sendable, CustomStringConvertible {
        let kind: IQ2GridIndex.Kind
        let offGrid: Int
        let totalNeighbours: Int
        let maxListLength: Int
        let listHash: UInt64
        let gridHash: UInt64
        let lastGridWord: UInt64
        /// key → (offset in `neighbours`, count, the first up to 12 indices)
        let lists: [(key: Int, offset: Int, count: Int, first: [UInt16])]
        var description: String { "\(kind)" }
    }

    static let expected: [Expected] = [
        Expected(kind: .iq2xxs, offGrid: 43436, totalNeighbours: 373964, maxListLength: 150,
                 listHash: 4350443204524409575, gridHash: 14912070926266042141, lastGridWord: 0x0505050301010301,
                 lists: [(1, 0, 34, [0, 1, 2, 5, 11, 21, 32, 72, 132, 6, 12, 13]), (3, 35, 3, [1, 38, 46]),
                         (43691, 417375, 24, [85, 96, 98, 123, 153, 186, 187, 201, 207, 226, 239, 245])]),
        Expected(kind: .iq2xs, offGrid: 43180, totalNeighbours: 508542, maxListLength: 292,
                 listHash: 2756124333493106149, gridHash: 1941556452426920341, lastGridWord: 0x0505050505050505,
                 lists: [(1, 0, 86, [0, 1, 2, 5, 13, 31, 66, 133, 254, 6, 7, 14]),
                         (3, 87, 22, [1, 7, 15, 18, 33, 36, 43, 68, 71, 77, 88, 135]), (43691, 551719, 2, [511, 509])]),
        Expected(kind: .iq2s, offGrid: 42668, totalNeighbours: 166432, maxListLength: 70,
                 listHash: 18348886545744785682, gridHash: 9824983436461814793, lastGridWord: 0x0505050505050505,
                 lists: [(1, 0, 9, [0, 1, 2, 5, 13, 34, 81, 206, 471]), (3, 10, 1, [1]), (43691, 209098, 1, [1023])]),
        Expected(kind: .iq1s, offGrid: 41644, totalNeighbours: 1333695, maxListLength: 205,
                 listHash: 12960019997829616811, gridHash: 11542284501802811763, lastGridWord: 0x0505050505050505,
                 lists: [(1, 0, 29, [0, 1, 2, 5, 6, 11, 12, 26, 27, 33, 73, 77]),
                         (3, 30, 31, [1, 14, 29, 34, 36, 75, 89, 220, 223, 264, 297, 631]),
                         (43691, 1375316, 22, [2047, 1367, 1426, 1427, 1992, 1200, 1207, 1366, 1401, 1419, 1769, 1796])]),
    ]

    static func index(_ kind: IQ2GridIndex.Kind) -> IQ2GridIndex {
        switch kind {
        case .iq2xxs: return .iq2xxs
        case .iq2xs: return .iq2xs
        case .iq2s: return .iq2s
        case .iq1s: return .iq1s
        }
    }

    @Test(arguments: expected)
    func matchesGGMLTables(_ e: Expected) {
        let t = Self.index(e.kind)
        let fnvOffset: UInt64 = 1469598103934665603, fnvPrime: UInt64 = 1099511628211
        var onGrid = 0, offGrid = 0, total = 0, maxList = 0
        var hash = fnvOffset
        for key in 0..<IQ2GridIndex.mapSize {
            if t.map[key] >= 0 {
                onGrid += 1
                continue
            }
            offGrid += 1
            let list = t.neighbourList(key: key)
            let n = Int(list[0])
            total += n
            maxList = max(maxList, n)
            for j in 0...n { hash = (hash ^ UInt64(list[j])) &* fnvPrime }
        }
        var gridHash = fnvOffset
        for j in 0..<t.gridSize { gridHash = (gridHash ^ t.gridWord(j)) &* fnvPrime }

        #expect(onGrid == t.gridSize)
        #expect(offGrid == e.offGrid)
        #expect(total == e.totalNeighbours)
        #expect(t.neighboursCount == total + offGrid)
        #expect(maxList == e.maxListLength)
        #expect(hash == e.listHash)
        #expect(gridHash == e.gridHash)
        #expect(t.gridWord(0) == 0x0101010101010101)
        #expect(t.gridWord(t.gridSize - 1) == e.lastGridWord)
        for (key, offset, count, first) in e.lists {
            #expect(Int(-t.map[key] - 1) == offset)
            let list = t.neighbourList(key: key)
            #expect(Int(list[0]) == count)
            #expect((1...first.count).map { list[$0] } == first)
        }
        for j in 0..<t.gridSize {  // every grid point maps back to itself
            var key = 0
            for i in 0..<8 { key |= ((Int(t.point(j)[i]) - 1) / 2) << (2 * i) }
            #expect(t.map[key] == Int32(j))
        }
    }
}
