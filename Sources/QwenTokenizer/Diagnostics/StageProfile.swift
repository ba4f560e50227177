// Where encoding time goes: the encoder's stages run cumulatively over the same text, each pass timed,
// so the difference between two passes is one stage's cost (`qwenkit tokenizer profile`).
//   nfc     NFC's quick check, and the normalization of text that fails it
//   scan    + the pretokenizer (pieces found, nothing looked up)
//   lookup  + the whole-piece lookup (a piece that is one token is done there)
//   bpe     + cuts between characters, the piece cache and the merges (ids counted, not stored)
//   output  + the ids stored in an array (what `encode` does)
// Each pass runs `repeats` times and the fastest counts (the machine's noise only adds time). A profile of
// a small text is mostly noise: give it megabytes.

import QwenKitIO

public struct StageProfile: Sendable {
    public struct Stage: Sendable {
        public let name: String
        /// Cumulative: this pass's time for the whole text.
        public let nanoseconds: UInt64
    }
    public let bytes: Int
    /// The cumulative passes in order; each one does what the one before did and one stage more.
    public let stages: [Stage]
    /// Pieces by how they were answered (whole-text counts, one pass).
    public let pieces: Int
    public let singleBytes: Int
    public let wholeTokens: Int
    /// Pieces cut between characters that no token spans, and the parts they were cut into.
    public let cutPieces: Int
    public let parts: Int
    /// Merge loops run, for pieces or parts (the other pieces and parts that are not one token came from the
    /// piece cache).
    public let merged: Int
    public let ids: Int
}

extension TokenEncoder {
    /// Profiles encoding `text` (no added-token split: ordinary text) stage by stage.
    public func profileStages(_ text: UnsafeBufferPointer<UInt8>, repeats: Int = 3) throws(TokenizerError) -> StageProfile {
        let model = tokenizer.model
        let scratch = self.scratch
        // Tables built on first use (the character starts) are built before the clock starts; every pass
        // starts with an empty piece cache.
        _ = try count(UnsafeBufferPointer(rebasing: text[..<min(text.count, 1 << 16)]), special: .text)
        func fastest(_ body: () throws(TokenizerError) -> Void) throws(TokenizerError) -> UInt64 {
            var best = UInt64.max
            for _ in 0..<max(1, repeats) {
                scratch.clearPieceCache()
                let start = monotonicNanoseconds()
                try body()
                best = min(best, monotonicNanoseconds() &- start)
            }
            return best
        }
        var sink = 0
        let nfc = try fastest { () throws(TokenizerError) in try withNormalized(text) { sink &+= $0.count } }
        var pieces = 0
        let scan = try fastest { () throws(TokenizerError) in pieces = 0; try forEachPiece(text) { _ in pieces &+= 1 } }
        var singles = 0, whole = 0
        let lookup = try fastest { () throws(TokenizerError) in
            singles = 0; whole = 0
            try forEachPiece(text) { piece in
                if piece.count == 1 { singles &+= 1; return }
                if model.wholePieces.id(for: piece, hash: TokenTable.hash(piece)) != nil { whole &+= 1 }
            }
        }
        var counted = 0
        let before = (scratch.mergedPieces, scratch.cutPieces, scratch.parts)
        let bpe = try fastest { () throws(TokenizerError) in counted = try count(text, special: .text) }
        let passes = max(1, repeats)
        let merged = (scratch.mergedPieces &- before.0) / passes
        let cutPieces = (scratch.cutPieces &- before.1) / passes, parts = (scratch.parts &- before.2) / passes
        var ids: [UInt32] = []
        ids.reserveCapacity(counted)
        let output = try fastest { () throws(TokenizerError) in ids.removeAll(keepingCapacity: true); try encode(text, special: .text, into: &ids) }
        _ = sink
        return StageProfile(bytes: text.count,
                            stages: [.init(name: "nfc", nanoseconds: nfc), .init(name: "scan", nanoseconds: scan),
                                     .init(name: "lookup", nanoseconds: lookup), .init(name: "bpe", nanoseconds: bpe),
                                     .init(name: "output", nanoseconds: output)],
                            pieces: pieces, singleBytes: singles, wholeTokens: whole, cutPieces: cutPieces, parts: parts,
                            merged: merged, ids: ids.count)
    }
}
