// The whole-piece shortcut's map from bytes to token id, laid out for the hot path: each slot holds
// the token's first 8 bytes and its length beside the id, so a lookup is one probe into one cache
// line. (A slot holding only an id costs three dependent cache misses: the slot, the token's offset,
// and its bytes. Profiles showed those misses as a third of encode time.) Tokens longer than 8 bytes
// compare their tail against the token table after the 8-byte match.

struct PieceTable: Sendable {
    /// Two words per slot: the first 8 bytes (little-endian, zero-padded), then id | length << 32.
    /// An empty slot has UInt64.max as its second word.
    private let slots: [UInt64]
    private let mask: Int
    let tokens: TokenTable

    /// Indexes the ids of `tokens` for which `include` is true (a lower id wins on equal bytes).
    init(tokens: TokenTable, include: (Int) -> Bool) {
        self.tokens = tokens
        var count = 0
        for id in 0..<tokens.count where include(id) { count += 1 }
        var capacity = 16
        while capacity * 3 < count * 5 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity * 2)
        for i in 0..<capacity { slots[2 * i + 1] = .max }
        let mask = capacity - 1
        for id in 0..<tokens.count where include(id) {
            let piece = tokens.tokenBytes(id)
            guard !piece.isEmpty else { continue }
            let head = PieceTable.head(piece)
            var i = Int(truncatingIfNeeded: TokenTable.hash(piece)) & mask
            var duplicate = false
            while slots[2 * i + 1] != .max {
                let other = Int(truncatingIfNeeded: slots[2 * i + 1] & 0xFFFF_FFFF)
                if tokens.tokenBytes(other).elementsEqual(piece) { duplicate = true; break }
                i = (i + 1) & mask
            }
            if !duplicate {
                slots[2 * i] = head
                slots[2 * i + 1] = UInt64(piece.count) << 32 | UInt64(id)
            }
        }
        self.slots = slots
        self.mask = mask
    }

    /// An empty table.
    init() {
        tokens = TokenTable(bytes: [], offsets: [0], indexed: nil)
        slots = [0, .max]
        mask = 0
    }

    /// The first 8 bytes of `piece`, zero-padded, as a little-endian word.
    @inline(__always)
    static func head(_ piece: UnsafeBufferPointer<UInt8>) -> UInt64 {
        if piece.count >= 8 { return UnsafeRawPointer(piece.baseAddress!).loadUnaligned(as: UInt64.self) }
        var v: UInt64 = 0
        for k in 0..<piece.count { v |= UInt64(piece[k]) << (8 * UInt64(k)) }
        return v
    }

    /// The id whose bytes equal `piece`; `hash` is `TokenTable.hash(piece)`.
    @inline(__always)
    func id(for piece: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32? {
        let n = piece.count
        let head = PieceTable.head(piece)
        return slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let meta = s[2 &* i &+ 1]
                if meta == .max { return nil }
                if meta >> 32 == UInt64(n) && s[2 &* i] == head {
                    let id = UInt32(truncatingIfNeeded: meta)
                    if n <= 8 { return id }
                    let token = tokens.tokenBytes(Int(id))
                    if bytesEqual(token.baseAddress! + 8, piece.baseAddress! + 8, n - 8) { return id }
                }
                i = (i &+ 1) & mask
            }
        }
    }

    func id(for piece: UnsafeBufferPointer<UInt8>) -> UInt32? {
        piece.isEmpty ? nil : id(for: piece, hash: TokenTable.hash(piece))
    }
}
