// Where a long text can be cut so that tokenizing the two parts separately gives exactly the ids of
// tokenizing it whole. A cut at p is safe when (1) some pretokenizer match ends at p whatever follows,
// (2) the text after p starts a fresh match whatever precedes, (3) NFC cannot combine across p, and
// (4) no added token's text spans p. Three patterns have all four properties for Qwen2's regex:
//
//   letter | ' ' letter        "word word": the letter run `\p{L}+` ends at the space (not a letter); the
//                              space then starts `[^\r\n\p{L}\p{N}]?\p{L}+`. (ASCII letters only.)
//   '\n' | letter              every alternative that can take a newline (`[\r\n]*`, `\s*[\r\n]+`) is
//                              greedy over newlines and stops at the letter, and the letter's own match
//                              cannot take a preceding newline (its optional prefix excludes \r and \n).
//   CJK | CJK-punct CJK        "中文，中文": as the first rule, with full-width punctuation as the prefix.
//   number | number            `\p{N}` takes one character at a time, and nothing else can start at one:
//                              digits of any script ('٣', '３'), superscripts, fractions, numerals. (The
//                              second must pass NFC's quick check: none of them composes with what precedes.)
//
//   ideograph | ideograph      "中文": no pretokenizer boundary, but a cut no token spans (`CharacterSplits`), so
//                              the piece's BPE is its two parts' BPE.
//
// None of these characters takes part in canonical composition with what precedes it. The rules are
// tied to the Qwen2 pattern; for any other pattern no cut is made (the document is encoded whole).
// A test encodes the golden corpus cut at every safe place and compares with encoding it whole.
//
// Text with none of these for a long stretch is one long run of a kind the pretokenizer keeps in one
// piece: whitespace, letters of any script, or punctuation, symbols and emoji. `lastRunCut`
// cuts such a run in its middle; both parts stay whole pieces, and the encoder makes the ids at the
// cut exact afterwards (`LinearBPE.join`), so memory stays bounded on a single pretoken of any size.

import QwenKitIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SafeSplitFinder: Sendable {
    let enabled: Bool
    let addedTokens: [[UInt8]]

    /// Cuts inside runs are made only when no added token is itself such a run (it would be split
    /// out of the run, ending the piece there).
    let runCutsAllowed: Bool

    /// Invalid UTF-8 is replaced by U+FFFD before encoding (`--invalid replace`), so runs of it may be cut
    /// too (else the first invalid byte ends the run anyway).
    let replacesInvalid: Bool

    /// Where pieces may be cut between CJK ideographs (`CharacterSplits`, built on the first such cut tried).
    let model: BPEModel

    init(tokenizer: Tokenizer, replacesInvalid: Bool = false) {
        self.replacesInvalid = replacesInvalid
        model = tokenizer.model
        enabled = tokenizer.usesQwen2Scanner
        addedTokens = tokenizer.addedTokens.map(\.content).filter { $0.count > 1 }
        runCutsAllowed = tokenizer.addedTokens.allSatisfy { token in
            token.content.withUnsafeBufferPointer { t in
                var i = t.count
                var kind: RunKind? = nil
                while i > 0 {
                    let (k, start) = SafeSplitFinder.character(before: i, in: t)
                    guard let k, kind == nil || kind == k else { return true }
                    kind = k
                    i = start
                }
                return t.isEmpty
            }
        }
    }

    /// A cut inside a piece: where, where the piece starts, and the piece's ids up to the cut.
    struct RunCut {
        var cut: Int
        var pieceStart: Int
        var ids: [UInt32]
    }

    /// Kinds of character whose runs the Qwen2 pattern keeps in one piece, and that do not start a
    /// different match when a run is cut between two of them: whitespace (Oniguruma's \s), letters
    /// (\p{L}, any script) and the rest but numbers (`[^\s\p{L}\p{N}]`: punctuation, symbols, emoji).
    /// (A whitespace run with a newline is one `\s*[\r\n]+` piece up to its last newline, from any point
    /// before it.) NFC is checked on the whole piece (`lastRunCut`).
    enum RunKind { case space, letter, punctuation }

    /// The kind of an ASCII character, from the scanner's classes: whitespace is \t through \r and the
    /// space, and control characters are "other", like punctuation.
    @inline(__always)
    static func kind(ofASCII b: UInt8) -> RunKind? {
        kind(flags: UnicodeClasses.flags(UInt32(b), UnicodeClasses.table))
    }

    @inline(__always)
    static func kind(flags: UInt8) -> RunKind? {
        if flags & UnicodeClasses.space != 0 { return .space }
        if flags & UnicodeClasses.letter != 0 { return .letter }
        return flags & UnicodeClasses.number != 0 ? nil : .punctuation
    }

    /// The kind of the character starting at `start` and its length (nil kind: a number, a control
    /// character, or no valid UTF-8 there; length 1 then).
    @inline(__always)
    static func character(at start: Int, in t: UnsafeBufferPointer<UInt8>) -> (RunKind?, Int) {
        let b = t[start]
        if b < 0x80 { return (kind(ofASCII: b), 1) }
        guard let (scalar, n) = UTF8Scalar.decode(t.baseAddress! + start, t.count - start) else { return (nil, 1) }
        return (kind(flags: UnicodeClasses.flags(scalar, UnicodeClasses.table)), n)
    }

    /// Whether the character starting at `start` (`end`: ending at) is a number, `\p{N}` as the scanner
    /// has it: an ASCII digit, or a multi-byte one such as '٣', '３' or '²'.
    @inline(__always)
    static func isNumber(at start: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        let b = t[start]
        if b < 0x80 { return b >= 0x30 && b <= 0x39 }
        guard let (scalar, _) = UTF8Scalar.decode(t.baseAddress! + start, t.count - start) else { return false }
        return UnicodeClasses.flags(scalar, UnicodeClasses.table) & UnicodeClasses.number != 0
    }

    @inline(__always)
    static func isNumber(before end: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = end - 1
        while start > 0 && end - start < 4 && t[start] & 0xC0 == 0x80 { start -= 1 }
        guard isNumber(at: start, in: t) else { return false }
        return UTF8Scalar.decode(t.baseAddress! + start, t.count - start).map { start + $0.1 == end } == true
    }

    /// The kind of the character ending at `end` and where it starts (nil kind: none of them).
    @inline(__always)
    static func character(before end: Int, in t: UnsafeBufferPointer<UInt8>) -> (RunKind?, Int) {
        var start = end - 1
        while start > 0 && end - start < 4 && t[start] & 0xC0 == 0x80 { start -= 1 }
        let (kind, n) = character(at: start, in: t)
        return start + n == end ? (kind, start) : (nil, end - 1)
    }

    /// A cut inside the piece that the text ends in, when that piece is a long run of one kind: the
    /// last place, at least `margin` bytes from both ends of the piece within `text` and not before
    /// `notBefore`, where BPE over the piece so far puts a token boundary between two characters of
    /// the run. Encoding the piece from its start (or from the previous such cut) finds the
    /// boundaries: BPE depends on where a piece starts (a run of spaces is cut into 128-space tokens
    /// counted from its start), hardly ever on where it ends, and the join that follows checks that.
    /// The ids of the piece up to the cut come along (BPE over them again would give the same), so
    /// the unit's encoder need not repeat the work. nil when there is no such piece or place.
    ///
    /// Text that NFC changes there (a run of letters with combining marks, "e\u{301}e\u{301}…") is
    /// searched in its NFC form, which is what the encoder pretokenizes: the buffer up to its last stable
    /// boundary is normalized piece by piece between stable boundaries, and the cut and the piece's start
    /// must be such boundaries, so that both units normalize as the whole would (`BoundaryMap`).
    func lastRunCut(in text: UnsafeBufferPointer<UInt8>, notBefore: Int, margin: Int, model: BPEModel,
                    scratch: BPEScratch) -> RunCut? {
        guard enabled, runCutsAllowed, text.count >= 4 * margin else { return nil }
        var end = text.count - 4  // the last character may be incomplete: end before it
        while end > 0 && text[end] & 0xC0 == 0x80 { end -= 1 }
        let head = UnsafeBufferPointer(rebasing: text[..<end])
        // The text as the encoder will see it, when that differs: with U+FFFD in place of each invalid
        // sequence, or in NFC.
        let (seen, map): ([UInt8], BoundaryMap)
        if UTF8Validation.firstInvalidOffset(UnsafeRawBufferPointer(head)) != nil {
            guard replacesInvalid else { return nil }
            (seen, map) = BoundaryMap.replacingInvalid(head)
        } else {
            let nfc = NFCNormalizer()
            if nfc.firstUnstableOffset(UnsafeBufferPointer(rebasing: text[(end - 2 * margin)..<end])) == nil {
                return runCut(in: text, end: end, notBefore: notBefore, margin: margin, model: model, scratch: scratch, raw: text, map: nil)
            }
            let stable = SafeSplitFinder.stableBoundary(atOrBefore: end, in: text)
            if stable >= 4 * margin {
                (seen, map) = BoundaryMap.normalize(UnsafeBufferPointer(rebasing: text[..<stable]))
            } else {
                guard let marks = SafeSplitFinder.markRun(text, end: end, margin: margin) else { return nil }
                (seen, map) = marks
            }
        }
        return seen.withUnsafeBufferPointer { t in
            runCut(in: t, end: t.count, notBefore: map.normalized(ofRaw: notBefore), margin: margin, model: model,
                   scratch: scratch, raw: text, map: map)
        }
    }

    /// The last place at or before `offset` (a character's start) where NFC splits `text` (0 if none).
    static func stableBoundary(atOrBefore offset: Int, in text: UnsafeBufferPointer<UInt8>) -> Int {
        let nfc = NFCNormalizer()
        var p = offset
        while p > 0 && !nfc.isStableBoundary(text, at: p) {
            p -= 1
            while p > 0 && text[p] & 0xC0 == 0x80 { p -= 1 }
        }
        return p
    }

    /// The text ends in a long run of one combining mark repeated (no stable boundary in it): NFC may
    /// compose the first few marks with the character before the run, and leaves the rest alone (the
    /// first mark that stays blocks every later one: it has the same combining class, and canonical
    /// ordering keeps marks of one class in order). The NFC form of the text up to the first mark that
    /// stays, then the run as it is; every mark from there on is a boundary. nil when the run is short,
    /// or the mark is not NFC by itself, or more than 8 marks compose.
    static func markRun(_ text: UnsafeBufferPointer<UInt8>, end: Int, margin: Int) -> ([UInt8], BoundaryMap)? {
        let nfc = NFCNormalizer()
        var start = end - 1
        while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
        let width = end - start
        guard width > 1 else { return nil }
        let mark = UnsafeBufferPointer(rebasing: text[start..<end])
        var single: [UInt8] = []
        nfc.normalize(mark, into: &single)
        guard single.elementsEqual(mark) else { return nil }
        var run = start
        while run >= width && bytesEqual(text.baseAddress! + run - width, mark.baseAddress!, width) { run -= width }
        guard end - run >= 4 * margin else { return nil }
        let base = stableBoundary(atOrBefore: run, in: text)
        for composed in 0..<8 {
            let stays = run + composed * width
            var out: [UInt8] = []
            nfc.normalize(UnsafeBufferPointer(rebasing: text[base..<(stays + width)]), into: &out)
            guard out.count >= width, out.suffix(width).elementsEqual(mark) else { continue }
            var (normalized, map) = BoundaryMap.normalize(UnsafeBufferPointer(rebasing: text[..<stays]))
            let shift = normalized.count - stays
            normalized.append(contentsOf: text[stays..<end])
            var q = stays + width
            while q <= end {
                map.append(raw: q, normalized: q + shift)
                q += width
            }
            return (normalized, map)
        }
        return nil
    }

    /// `lastRunCut` in `text[..<end]`, which is `raw` or, with `map`, the NFC form of its beginning.
    private func runCut(in text: UnsafeBufferPointer<UInt8>, end: Int, notBefore: Int, margin: Int, model: BPEModel,
                        scratch: BPEScratch, raw: UnsafeBufferPointer<UInt8>, map: BoundaryMap?) -> RunCut? {
        guard end >= 2 * margin else { return nil }
        // Cheap test first: the last 2 * margin bytes are one kind.
        var i = end
        let (kindAtEnd, _) = SafeSplitFinder.character(before: end, in: text)
        guard let kind = kindAtEnd else { return nil }
        while i > end - 2 * margin {
            let (k, start) = SafeSplitFinder.character(before: i, in: text)
            if k != kind { return nil }
            i = start
        }
        // The piece over that stretch. Pieces the scanner ends before the text does are final (its
        // decisions look one character ahead at most), and more text can only make this one longer: it
        // either reaches the end, or is a whitespace run's `\s*[\r\n]+` up to its last newline so far.
        let head = UnsafeBufferPointer(rebasing: text[..<end])  // valid UTF-8 (checked or made so by the caller)
        var found = (start: -1, stop: -1)
        Qwen2Scanner().forEachPiece(head) { start, stop in
            if start <= end - 2 * margin && stop > end - 2 * margin { found = (start, stop) }
        }
        let pieceStart = found.start, pieceEnd = found.stop
        guard pieceStart >= 0, pieceEnd >= end - margin, pieceEnd - pieceStart >= 2 * margin else { return nil }
        // Where the piece starts in the raw text (the unit before the cut encodes the text before it).
        guard let rawPieceStart = map.map({ $0.raw(ofNormalized: pieceStart) }) ?? pieceStart else { return nil }
        let piece = UnsafeBufferPointer(rebasing: text[pieceStart..<pieceEnd])
        // Every character of the piece must pass NFC's quick check (combining class 0, NFC_QC Yes):
        // then none composes with the one before it, inside the piece or at its start, and cutting
        // anywhere in it leaves normalization alone.
        // (With a map made by NFC, the cut and the piece's start are boundaries where NFC is known to split.)
        guard map?.splitsNFC == true || NFCNormalizer().firstUnstableOffset(piece) == nil, let linear = scratch.linearTables(model) else { return nil }
        let count = model.encodeInWindows(piece, linear: linear, scratch: scratch)
        var boundary = pieceStart
        var best: (cut: Int, raw: Int, ids: Int)? = nil
        for k in 0..<count {
            boundary += Int(linear.length[Int(scratch.ids[k])])
            if boundary > pieceEnd - margin { break }
            guard boundary >= notBefore, boundary - pieceStart >= margin,
                  SafeSplitFinder.character(before: boundary, in: text).0 == kind else { continue }
            // The characters on both sides of the cut, and the one after, are of the run's kind.
            let (after, width) = SafeSplitFinder.character(at: boundary, in: text)
            guard after == kind, SafeSplitFinder.character(at: boundary + width, in: text).0 == kind else { continue }
            guard let rawCut = map.map({ $0.raw(ofNormalized: boundary) }) ?? boundary else { continue }
            best = (boundary, rawCut, k + 1)
        }
        // The encoder splits added tokens out before pretokenizing: none may touch the piece (one
        // made of a prefix character and letters could sit inside it).
        guard let best, !insideAddedToken(raw, rawPieceStart), !insideAddedToken(raw, best.raw),
              !containsAddedToken(UnsafeBufferPointer(rebasing: raw[rawPieceStart..<best.raw])) else { return nil }
        return RunCut(cut: best.raw, pieceStart: rawPieceStart, ids: Array(UnsafeBufferPointer(start: scratch.ids, count: best.ids)))
    }

    /// The largest safe cut p with `notBefore <= p <= text.count - 4`, or nil.
    func lastSafeCut(in text: UnsafeBufferPointer<UInt8>, notBefore: Int) -> Int? {
        guard enabled, text.count >= 8 else { return nil }
        var p = text.count - 4
        let low = max(notBefore, 3)
        while p >= low {
            if isSafeCut(text, p) && !insideAddedToken(text, p) { return p }
            p -= 1
        }
        return nil
    }

    @inline(__always)
    func isSafeCut(_ t: UnsafeBufferPointer<UInt8>, _ p: Int) -> Bool {
        let b = t[p]
        if b == 0x20 {
            return isASCIILetter(t[p - 1]) && isASCIILetter(t[p + 1])
        }
        if isASCIILetter(b) {
            return t[p - 1] == 0x0A
        }
        if b >= 0x30 && b <= 0x39 {
            return SafeSplitFinder.isNumber(before: p, in: t)
        }
        // U+4000-U+9FFF (CJK ideographs) and U+B000-U+DFFF (most Hangul syllables, surrogates) hold neither
        // the punctuation below nor a number: the common case in CJK text, answered without decoding.
        // (U+A000-U+AFFF has digits: Vai, Bamum, Meetei Mayek...)
        // Between two CJK ideographs that no token spans (`CharacterSplits`): the run's piece is cut in two, and its
        // BPE is the BPE of the two parts. Both sides scan as letter runs; ideographs are NFC starters that compose
        // with nothing.
        if b >= 0xE4 && b <= 0xE9 && p >= 3 && p + 3 <= t.count {
            let a = scalar3(t, p - 3), c = scalar3(t, p)
            if a >= 0x4E00 && a <= 0x9FFF && c >= 0x4E00 && c <= 0x9FFF,
               let splits = model.splits, splits.probe.safeCut(a, c, lead: b) {
                return true
            }
        }
        if (b >= 0xE4 && b <= 0xE9) || (b >= 0xEB && b <= 0xED) { return false }
        // Full-width punctuation between two CJK ideographs or Hangul syllables (3 bytes each).
        if b >= 0xE3 && b <= 0xEF && p >= 3 && p + 6 <= t.count
            && isCJKPunctuation(scalar3(t, p)) && isCJKLetter(scalar3(t, p - 3)) && isCJKLetter(scalar3(t, p + 3)) {
            return true
        }
        // A number of any script after one: NFC must not reach back across the cut (the number at p
        // is a starter that composes with nothing before it).
        return b >= 0xC2 && SafeSplitFinder.isNumber(at: p, in: t) && SafeSplitFinder.isNumber(before: p, in: t)
            && NFCNormalizer().isStableBoundary(t, at: p)
    }

    @inline(__always) private func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    @inline(__always) private func scalar3(_ t: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        let a = t[i], b = t[i + 1], c = t[i + 2]
        guard a & 0xF0 == 0xE0, b & 0xC0 == 0x80, c & 0xC0 == 0x80 else { return 0 }
        return UInt32(a & 0x0F) << 12 | UInt32(b & 0x3F) << 6 | UInt32(c & 0x3F)
    }

    @inline(__always) private func isCJKLetter(_ s: UInt32) -> Bool {
        (s >= 0x4E00 && s <= 0x9FFF) || (s >= 0xAC00 && s <= 0xD7A3)
    }

    @inline(__always) private func isCJKPunctuation(_ s: UInt32) -> Bool {
        switch s {
        case 0x3001, 0x3002, 0xFF0C, 0xFF01, 0xFF1F, 0xFF1A, 0xFF1B: return true
        default: return false
        }
    }

    private func containsAddedToken(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = t.baseAddress else { return false }
        return addedTokens.contains { token in
            var at = 0
            while at + token.count <= t.count {
                // memchr to each occurrence of the first byte, then compare.
                guard let hit = memchr(base + at, Int32(token[0]), t.count - token.count + 1 - at) else { return false }
                at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if SafeSplitFinder.occurs(token, at: at, in: t) { return true }
                at += 1
            }
            return false
        }
    }

    /// Whether `token` is in `t` at `s` (false when it would run past the end).
    @inline(__always)
    private static func occurs(_ token: [UInt8], at s: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        s + token.count <= t.count && token.withUnsafeBufferPointer { bytesEqual(t.baseAddress! + s, $0.baseAddress!, token.count) }
    }

    private func insideAddedToken(_ t: UnsafeBufferPointer<UInt8>, _ p: Int) -> Bool {
        for token in addedTokens {
            let lowStart = max(0, p - token.count + 1)
            var s = lowStart
            while s < p {
                if SafeSplitFinder.occurs(token, at: s, in: t) { return true }
                s += 1
            }
        }
        return false
    }
}

/// Text in NFC with the offsets where it and the original agree: NFC is applied piece by piece between the
/// original's stable boundaries (a starter that composes with nothing before it), where NFC(a + b) is
/// NFC(a) + NFC(b), so each such boundary has an offset in both. Only those offsets can be mapped.
struct BoundaryMap {
    /// Offsets of the boundaries, increasing: in the original, and in the NFC form.
    private(set) var raw: [Int32] = []
    private(set) var normalized: [Int32] = []
    /// The boundaries are places where NFC splits (not so for `replacingInvalid`'s).
    private(set) var splitsNFC = true

    /// `text` with U+FFFD for each invalid sequence (as `UTF8Validation.replacingInvalid`), and a boundary
    /// before each sequence, valid or not. (The "normalized" offsets are then those in the replaced text.)
    static func replacingInvalid(_ text: UnsafeBufferPointer<UInt8>) -> ([UInt8], BoundaryMap) {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var map = BoundaryMap()
        map.splitsNFC = false
        map.append(raw: 0, normalized: 0)
        let bytes = UnsafeRawBufferPointer(text)
        var i = 0
        while i < text.count {
            let (valid, length) = UTF8Reference.sequence(at: i, in: bytes)
            if valid {
                out.append(contentsOf: text[i..<(i + length)])
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
            i += length
            map.append(raw: i, normalized: out.count)
        }
        return (out, map)
    }

    /// The NFC form of `text` (valid UTF-8) and its boundaries.
    static func normalize(_ text: UnsafeBufferPointer<UInt8>) -> ([UInt8], BoundaryMap) {
        let nfc = NFCNormalizer()
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var map = BoundaryMap()
        map.append(raw: 0, normalized: 0)
        var segment = 0
        var i = 0
        while i < text.count {
            i += 1
            while i < text.count && text[i] & 0xC0 == 0x80 { i += 1 }
            if i == text.count || nfc.isStableBoundary(text, at: i) {
                nfc.normalize(UnsafeBufferPointer(rebasing: text[segment..<i]), into: &out)
                map.append(raw: i, normalized: out.count)
                segment = i
            }
        }
        return (out, map)
    }

    /// Adds a boundary after the last one.
    mutating func append(raw r: Int, normalized n: Int) {
        raw.append(Int32(r))
        normalized.append(Int32(n))
    }

    /// The original's offset of the boundary at `offset` in the NFC form; nil when none is there.
    func raw(ofNormalized offset: Int) -> Int? {
        var low = 0, high = normalized.count
        while low < high {
            let mid = (low + high) / 2
            if Int(normalized[mid]) < offset { low = mid + 1 } else { high = mid }
        }
        return low < normalized.count && Int(normalized[low]) == offset ? Int(raw[low]) : nil
    }

    /// The NFC form's offset of the first boundary at or after `offset` in the original.
    func normalized(ofRaw offset: Int) -> Int {
        var low = 0, high = raw.count
        while low < high {
            let mid = (low + high) / 2
            if Int(raw[mid]) < offset { low = mid + 1 } else { high = mid }
        }
        return low < raw.count ? Int(normalized[low]) : Int(normalized.last ?? 0)
    }
}
