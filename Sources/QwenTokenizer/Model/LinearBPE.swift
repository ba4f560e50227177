// Exact byte-pair encoding in linear time: the backtracking encoder of GitHub's `bpe` crate
// (rust-gems), re-derived for merge ranks that need not equal token ids.
//
// Two facts make it work (both hold for merge-rank BPE as HF runs it, and are checked by tests):
// - Every token in a BPE result is *reachable*: BPE over its own bytes yields exactly it, and it was
//   formed inside the text by the same merges, so it has one canonical split (the last merge).
// - A sequence of reachable tokens is the BPE result of its bytes if and only if every adjacent pair
//   is *compatible*: BPE over the pair's bytes yields that same pair. So the result is the unique
//   sequence of reachable tokens with all pairs compatible.
// `isCompatible` decides a pair by walking the two canonical merge trees downwards from their roots,
// always undoing the later merge, and failing when a merge across the boundary would have come first.
// The encoder then searches left to right: the longest reachable token at the position, shorter
// prefixes of it when the pair with the previous token is incompatible, and a step back when none
// fits; a bit per position marks ends known to lead nowhere, so each position is given up at most
// once. Work is O(n · longest token) in the worst case and about one trie walk per token in practice;
// memory is the token stack and n bits.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The tables of the linear encoder, derived from a `BPEModel` on first use (tens of milliseconds for
/// Qwen2's vocabulary) and shared by all threads.
final class LinearBPE: Sendable {
    /// Trie over the bytes of the reachable tokens. Nodes 1...256 are the single bytes.
    let nodeToken: [UInt32]           // token ending at each node, or .max
    let pairNode: [UInt32]            // node of each 2-byte prefix (a << 8 | b), or 0
    let edges: [UInt64]               // (node << 8 | byte) + 1 in the high 40 bits, child in the low 24; 0 = empty
    let edgeShift: UInt64
    let edgeMask: Int
    /// The node after a whole 3-byte character from no node (a match's first character), by code point; 0 if none.
    let firstCharacterNode: [UInt32]
    /// Per token: the longest reachable token that is a proper prefix of it (.max if none), its length,
    /// its canonical split, and the order of its last merge (rank + 1; 0 for a single byte).
    let shorter: [UInt32]
    let length: [UInt8]
    let left: [UInt32]
    let right: [UInt32]
    let order: [UInt32]
    let merges: MergeTable

    /// nil when the vocabulary is too large for the packed trie (over 16M nodes) or has tokens longer
    /// than 255 bytes; the heap merge then handles long pieces.
    init?(model: BPEModel) {
        let tokens = model.tokens
        let count = tokens.count
        var reachable = [Bool](repeating: false, count: count)
        var totalBytes = 0
        for id in 0..<count {
            let b = tokens.tokenBytes(id)
            guard !b.isEmpty, model.wholePieces.id(for: b) == UInt32(id) else { continue }
            if b.count > 255 { return nil }
            reachable[id] = true
            totalBytes += b.count
        }
        // Canonical splits: the merge producing a token, when only one does; otherwise BPE decides.
        var left = [UInt32](repeating: .max, count: count)
        var right = [UInt32](repeating: .max, count: count)
        var order = [UInt32](repeating: 0, count: count)
        var producers = [UInt8](repeating: 0, count: count)
        model.merges.forEachMerge { l, r, value in
            let result = Int(UInt32(truncatingIfNeeded: value))
            guard result < count, reachable[result] else { return }
            if producers[result] < 2 { producers[result] += 1 }
            left[result] = l
            right[result] = r
            order[result] = UInt32(value >> 32) + 1
        }
        for id in 0..<count where reachable[id] {
            if tokens.tokenBytes(id).count == 1 {
                left[id] = UInt32(id); right[id] = UInt32(id); order[id] = 0
            } else if producers[id] != 1 {
                guard let (l, r) = LinearBPE.lastMerge(tokens.tokenBytes(id), model: model) else { return nil }
                let v = model.merges.lookup(l, r)
                left[id] = l; right[id] = r; order[id] = UInt32(v >> 32) + 1
            }
        }

        // The trie. Its edge table is sized from the total token bytes (an upper bound on nodes).
        var capacity = 1024
        while capacity < totalBytes * 2 { capacity <<= 1 }
        var edges = [UInt64](repeating: 0, count: capacity)
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        let mask = capacity - 1
        var nodeToken = [UInt32](repeating: .max, count: 257)
        nodeToken.reserveCapacity(totalBytes / 2)
        var pairNode = [UInt32](repeating: 0, count: 65536)
        var shorter = [UInt32](repeating: .max, count: count)
        var length = [UInt8](repeating: 0, count: count)
        for id in 0..<count where reachable[id] {
            let b = tokens.tokenBytes(id)
            length[id] = UInt8(b.count)
            var node = 1 + Int(b[0])
            for i in 1..<b.count {
                let next: Int
                if i == 1 {
                    let k = Int(b[0]) << 8 | Int(b[1])
                    if pairNode[k] == 0 {
                        nodeToken.append(.max)
                        pairNode[k] = UInt32(nodeToken.count - 1)
                    }
                    next = Int(pairNode[k])
                } else {
                    let key = UInt64(node) << 8 | UInt64(b[i])
                    var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
                    while edges[slot] != 0 && edges[slot] >> 24 != key + 1 { slot = (slot + 1) & mask }
                    if edges[slot] == 0 {
                        nodeToken.append(.max)
                        guard nodeToken.count < 1 << 24 else { return nil }
                        edges[slot] = (key + 1) << 24 | UInt64(nodeToken.count - 1)
                    }
                    next = Int(edges[slot] & 0xFF_FFFF)
                }
                node = next
            }
            nodeToken[node] = UInt32(id)
        }
        // Each token's longest proper prefix that is a token (all tokens are in the trie by now).
        for id in 0..<count where reachable[id] && length[id] > 1 {
            let b = tokens.tokenBytes(id)
            var best: UInt32 = nodeToken[1 + Int(b[0])]
            var node = Int(pairNode[Int(b[0]) << 8 | Int(b[1])])
            var i = 2
            while i < b.count {
                if nodeToken[node] != .max { best = nodeToken[node] }
                let key = UInt64(node) << 8 | UInt64(b[i])
                var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
                while edges[slot] >> 24 != key + 1 { slot = (slot + 1) & mask }
                node = Int(edges[slot] & 0xFF_FFFF)
                i += 1
            }
            shorter[id] = best
        }
        // Rehash the edges into a table sized for the nodes made (a third of the token bytes for
        // Qwen2): at load 0.64 it is 4 MB instead of 16, and the walk's probes miss cache less.
        var compact = 1024
        while compact * 2 < (nodeToken.count - 257) * 3 { compact <<= 1 }
        var packed = [UInt64](repeating: 0, count: compact)
        let compactShift = UInt64(64 - compact.trailingZeroBitCount)
        for v in edges where v != 0 {
            let key = (v >> 24) - 1
            var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> compactShift)
            while packed[slot] != 0 { slot = (slot + 1) & (compact - 1) }
            packed[slot] = v
        }
        var firstCharacterNode = [UInt32](repeating: 0, count: 0x10000)
        for cp in 0x800..<0x10000 where !(0xD800..<0xE000).contains(cp) {
            let (b0, b1, b2) = UTF8Scalar.bytes3(cp)
            let node = Int(pairNode[b0 << 8 | b1])
            guard node != 0 else { continue }
            let key = UInt64(node) << 8 | UInt64(b2)
            var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while edges[slot] != 0 && edges[slot] >> 24 != key + 1 { slot = (slot + 1) & mask }
            if edges[slot] != 0 { firstCharacterNode[cp] = UInt32(edges[slot] & 0xFF_FFFF) }
        }
        self.firstCharacterNode = firstCharacterNode
        self.nodeToken = nodeToken
        self.pairNode = pairNode
        self.edges = packed
        self.edgeShift = compactShift
        self.edgeMask = compact - 1
        self.shorter = shorter
        self.length = length
        self.left = left
        self.right = right
        self.order = order
        self.merges = model.merges
    }

    /// The last merge of BPE over `bytes` when it ends in one token (the slow, obvious way; only for
    /// tokens that more than one merge produces, which Qwen2's vocabulary has none of).
    static func lastMerge(_ bytes: UnsafeBufferPointer<UInt8>, model: BPEModel) -> (UInt32, UInt32)? {
        var ids = bytes.map { model.byteTokens[Int($0)] }
        while ids.count > 2 {
            var best = MergeTable.none, at = -1
            for i in 0..<(ids.count - 1) {
                let v = model.merges.lookup(ids[i], ids[i + 1])
                if v != MergeTable.none && (at < 0 || v >> 32 < best >> 32) { best = v; at = i }  // leftmost on ties
            }
            guard at >= 0 else { return nil }
            ids[at] = UInt32(truncatingIfNeeded: best)
            ids.remove(at: at + 1)
        }
        return ids.count == 2 ? (ids[0], ids[1]) : nil
    }

    /// The child of `node` for `byte`, or 0.
    @inline(__always)
    func child(_ node: Int, _ byte: UInt8) -> Int {
        let key = UInt64(node) << 8 | UInt64(byte)
        return edges.withUnsafeBufferPointer { e in
            var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> edgeShift)
            while true {
                let v = e[slot]
                if v >> 24 == key &+ 1 { return Int(v & 0xFF_FFFF) }
                if v == 0 { return 0 }
                slot = (slot &+ 1) & edgeMask
            }
        }
    }

    /// The longest reachable token starting at `text[pos]` and ending by `text[end]`.
    @inline(__always)
    func longestMatch(_ text: UnsafePointer<UInt8>, _ pos: Int, _ end: Int) -> UInt32 {
        var best = nodeToken[1 + Int(text[pos])]
        guard pos + 1 < end else { return best }
        var node = Int(pairNode[Int(text[pos]) << 8 | Int(text[pos + 1])])
        var i = pos + 2
        // A first character of 3 bytes: its node from a direct table instead of a probe for the third byte.
        if node != 0 && i < end && text[pos] & 0xF0 == 0xE0, case let (cp, 3)? = UTF8Scalar.decode(text + pos, 3) {
            let t = nodeToken[node]
            if t != .max { best = t }
            node = Int(firstCharacterNode[Int(cp)])
            i += 1
        }
        while node != 0 {
            let t = nodeToken[node]
            if t != .max { best = t }
            if i >= end { break }
            node = child(node, text[i])
            i += 1
        }
        return best
    }

    /// `isCompatible` through a per-thread direct-mapped cache of recent answers (natural text
    /// repeats its pairs: on CJK runs most checks hit). Entries are (a << 24 | b) << 1 | answer.
    @inline(__always)
    func isCompatible(_ a: UInt32, _ b: UInt32, cache: UnsafeMutablePointer<UInt64>) -> Bool {
        let key = UInt64(a) << 24 | UInt64(b)
        let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> (64 - BPEScratch.compatibleCacheBits))
        let entry = cache[slot]
        if entry >> 1 == key { return entry & 1 != 0 }
        let answer = isCompatible(a, b)
        cache[slot] = key << 1 | (answer ? 1 : 0)
        return answer
    }

    /// Whether BPE over the bytes of `a` then `b` (both reachable) yields exactly `[a, b]`.
    @inline(__always)
    func isCompatible(_ a: UInt32, _ b: UInt32) -> Bool {
        var t1 = a, t2 = b
        var limit = UInt32.max
        while true {
            let m = merges.lookup(t1, t2)
            if m != MergeTable.none && UInt32(truncatingIfNeeded: m >> 32) &+ 1 < limit { return false }
            let o1 = order[Int(t1)], o2 = order[Int(t2)]
            if o1 > o2 {
                // The left token's last merge came later: undo it, and only merges before it count.
                limit = o1
                t1 = right[Int(t1)]
            } else {
                if o2 == 0 { return true }  // both single bytes
                // Undo the right token's last merge; a merge across the boundary of the same order
                // would have been leftmost, so it counts too.
                limit = o2 &+ 1
                t2 = left[Int(t2)]
            }
        }
    }

    /// Encodes `piece` (at least one byte), leaving the ids in `scratch.ids`; returns their count.
    func encode(_ piece: UnsafeBufferPointer<UInt8>, scratch: BPEScratch) -> Int {
        let n = piece.count
        scratch.reserveLinear(n)
        let text = piece.baseAddress!
        let stack = scratch.ids
        let dead = scratch.deadEnds  // bit set: no encoding of the prefix ends here
        let cache = scratch.compatibleCache!  // allocated by reserveLinear above
        let words = (n + 1 + 63) >> 6
        dead.update(repeating: 0, count: words)
        var top = 0
        var pos = 0
        var token = longestMatch(text, 0, n)
        while true {
            let end = pos + Int(length[Int(token)])
            if dead[end >> 6] & (1 << UInt64(end & 63)) == 0 && (top == 0 || isCompatible(stack[top - 1], token, cache: cache)) {
                stack[top] = token
                top += 1
                pos = end
                if pos == n { return top }
                token = longestMatch(text, pos, n)
            } else if shorter[Int(token)] != .max {
                token = shorter[Int(token)]
            } else {
                // Nothing fits after the previous token: give up this position and step back.
                dead[pos >> 6] |= 1 << UInt64(pos & 63)
                top -= 1
                token = stack[top]
                pos -= Int(length[Int(token)])
            }
        }
    }
}

extension LinearBPE {
    /// Makes the ids exact where one piece was cut in two and each part encoded on its own:
    /// `left[..<left.count]` ends with the first part's ids, `right` starts with the second's.
    /// By the pairwise property the concatenation is exact when the two ids at the cut are
    /// compatible (almost always at a cut inside a long run). Otherwise a window of ids around the
    /// cut, up to `maxWindow` bytes on each side, is encoded again as one piece, and accepted when
    /// its first and last ids are compatible with their new neighbours. `leftFloor` and
    /// `rightCeiling` bound the ids that belong to the cut piece's document; at least one id on each
    /// side stays. The new ids go to the end of `left`. Returns how many ids were removed from the
    /// start of `right`, or nil when no window up to `maxWindow` joins them (not seen; the caller
    /// reports it).
    func join(left: inout [UInt32], leftFloor: Int, right: inout [UInt32], rightCeiling: Int,
              tokens: TokenTable, maxWindow: Int, scratch: BPEScratch) -> Int? {
        guard left.count > leftFloor, rightCeiling > 0, rightCeiling <= right.count else { return 0 }
        if isCompatible(left[left.count - 1], right[0]) { return 0 }
        var window = 256
        var bytes: [UInt8] = []
        while window <= maxWindow {
            // The last ids before the cut and the first after it, up to `window` bytes each (at
            // least one id each, where one can be spared).
            var k = left.count, used = 0
            while k > leftFloor + 1 && (k == left.count || used + Int(length[Int(left[k - 1])]) <= window) {
                k -= 1
                used += Int(length[Int(left[k])])
            }
            var h = 0
            used = 0
            while h < rightCeiling - 1 && (h == 0 || used + Int(length[Int(right[h])]) <= window) {
                used += Int(length[Int(right[h])])
                h += 1
            }
            if k == left.count && h == 0 { return nil }
            bytes.removeAll(keepingCapacity: true)
            for id in left[k...] { bytes.append(contentsOf: tokens.tokenBytes(Int(id))) }
            for id in right[..<h] { bytes.append(contentsOf: tokens.tokenBytes(Int(id))) }
            let m = bytes.withUnsafeBufferPointer { encode($0, scratch: scratch) }
            let ids = scratch.ids
            if isCompatible(left[k - 1], ids[0]) && isCompatible(ids[m - 1], right[h]) {
                left.replaceSubrange(k..., with: UnsafeBufferPointer(start: ids, count: m))
                right.removeFirst(h)
                return h
            }
            window *= 2
        }
        return nil
    }
}
