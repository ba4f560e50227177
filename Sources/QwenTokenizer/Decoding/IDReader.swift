// Parses token ids in the formats `qwenkit encode` writes, streaming: text (decimal ids separated by
// spaces, commas or brackets, so a pasted Python list works; one document per line), JSONL (an "ids"
// array per line) or u32 (little-endian, one document).

import QwenKitIO

/// The formats `decode` reads (encode's outputs, less the one for people).
public enum IDInputFormat: String, Sendable, CaseIterable {
    case text, jsonl, u32
}

public final class IDReader {
    public enum Event {
        case id(UInt32, describe: () -> String)
        case endDocument
        /// The input paused (a read returned); in stream mode the caller flushes.
        case flush
    }

    let format: IDInputFormat
    let stream: Bool

    public init(format: IDInputFormat, stream: Bool) {
        self.format = format
        self.stream = stream
    }

    public func read(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        switch format {
        case .u32: try readU32(source, handle)
        case .jsonl: try readJSONL(source, handle)
        case .text: try readText(source, handle)
        }
    }

    private func nextBlock(_ source: any ByteSource, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        stream ? try source.read(into: buffer) : try source.readFull(into: buffer)
    }

    private func readU32(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var carry = 0
        var position: Int64 = 0
        while true {
            let n = try nextBlock(source, UnsafeMutableRawBufferPointer(rebasing: buffer[carry...]))
            if n == 0 { break }
            let total = carry + n
            let whole = total / 4
            for k in 0..<whole {
                let id = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))
                let at = position
                try handle(.id(id, describe: { "position \(at) of \(source.name)" }))
                position += 1
            }
            carry = total - whole * 4
            if carry > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[(whole * 4)..<total])) }
            if stream { try handle(.flush) }
        }
        if carry != 0 {
            throw CorpusError("\(source.name): ends with \(carry) stray byte\(carry == 1 ? "" : "s") (a u32 stream is a multiple of 4 bytes long)")
        }
        try handle(.endDocument)
    }

    private func readText(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var value: UInt64 = 0
        var digits = 0
        var line = 1
        var position = 0  // index of the id within its line
        var lineHasContent = false
        func endNumber() throws {
            guard digits > 0 else { return }
            guard value <= UInt64(UInt32.max) else {
                throw CorpusError("\(source.name): line \(line): \(value) is not a token id (too large)")
            }
            let l = line, p = position
            try handle(.id(UInt32(value), describe: { "position \(p) of line \(l) of \(source.name)" }))
            position += 1
            value = 0
            digits = 0
        }
        while true {
            let n = try nextBlock(source, buffer)
            if n == 0 { break }
            for i in 0..<n {
                let b = buffer[i]
                switch b {
                case 0x30...0x39:
                    value = value &* 10 &+ UInt64(b - 0x30)
                    digits += 1
                    lineHasContent = true
                    if digits > 12 { throw CorpusError("\(source.name): line \(line): a number of more than 12 digits is not a token id") }
                case 0x20, 0x09, 0x0D, 0x2C, 0x5B, 0x5D:  // also "[1, 2, 3]" as Python prints a list
                    try endNumber()
                case 0x0A:
                    try endNumber()
                    try handle(.endDocument)
                    line += 1
                    position = 0
                    lineHasContent = false
                default:
                    var shown = String(UnicodeScalar(b))
                    if b < 0x20 || b >= 0x7F { shown = "byte 0x" + String(b, radix: 16, uppercase: true) }
                    throw CorpusError("\(source.name): line \(line): '\(shown)' is not part of a token id (expected decimal ids separated by spaces or commas)")
                }
            }
            if stream { try handle(.flush) }
        }
        try endNumber()
        if lineHasContent { try handle(.endDocument) }
    }

    private func readJSONL(_ source: any ByteSource, _ handle: (Event) throws -> Void) throws {
        var pending: [UInt8] = []
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        var line = 0
        var key: [UInt8] = []
        func parseLine(_ bytes: ArraySlice<UInt8>) throws {
            line += 1
            var text = bytes
            if text.last == 0x0D { text = text.dropLast() }
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            try Array(text).withUnsafeBufferPointer { b in
                var s = JSONScanner(b)
                var found = false
                do {
                    try s.beginObject()
                    var first = true
                    while try s.nextKey(&key, first: &first) {
                        guard !found && key == Array("ids".utf8) else { try s.skipValue(); continue }
                        found = true
                        try s.beginArray()
                        var firstID = true
                        var position = 0
                        while try s.nextElement(first: &firstID) {
                            let v = try s.readInteger()
                            guard v >= 0 && v <= Int64(UInt32.max) else { throw s.error("\(v) is not a token id") }
                            let l = line, p = position
                            try handle(.id(UInt32(v), describe: { "position \(p) of line \(l) of \(source.name)" }))
                            position += 1
                        }
                    }
                    guard s.atEnd() else { throw s.error("unexpected data after the JSON object") }
                } catch let error as JSONError {
                    throw CorpusError("\(source.name): line \(line): \(error)")
                }
                guard found else { throw CorpusError("\(source.name): line \(line): no \"ids\" field") }
                try handle(.endDocument)
            }
        }
        while true {
            let n = try nextBlock(source, block)
            if n == 0 { break }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[0..<n]))
            var start = pending.startIndex
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                try parseLine(pending[start..<nl])
                start = nl + 1
            }
            pending.removeFirst(start)
            if stream { try handle(.flush) }
        }
        if !pending.isEmpty { try parseLine(pending[...]) }
    }
}
