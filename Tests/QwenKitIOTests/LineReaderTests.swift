import Foundation
import Testing
import TestSupport
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source that hands out at most `step` bytes per read, as a terminal or a slow pipe does.
private final class TrickleSource: ByteSource {
    let name = "<trickle>"
    let bytes: [UInt8]
    let step: Int
    var position = 0
    init(_ text: String, step: Int) {
        bytes = Array(text.utf8)
        self.step = step
    }
    var inputPosition: Int64 { Int64(position) }
    var inputSize: Int64? { nil }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        let n = min(step, buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { all in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[position..<(position + n)])) }
        position += n
        return n
    }
}

@Suite("interactive lines and interrupts")
struct LineReaderTests {
    static func lines(_ reader: LineReader) throws -> [LineReader.Line] {
        var all: [LineReader.Line] = []
        while let line = try reader.next() { all.append(line) }
        return all
    }

    static func text(_ s: String) -> LineReader.Line { .text(Array(s.utf8)) }

    @Test("lines however the reads split them; the last may lack its newline; a long line is skipped, not kept")
    func linesAcrossReads() throws {
        let input = "one\n\ntwo\r\n" + String(repeating: "x", count: 20) + "\nthree\n" + String(repeating: "y", count: 11) + "\nend"
        for step in [1, 2, 3, 7, 1 << 16] {
            let all = try Self.lines(LineReader(source: TrickleSource(input, step: step), maxLineBytes: 10))
            #expect(all == [Self.text("one"), Self.text(""), Self.text("two\r"), .overlong(bytes: 20), Self.text("three"),
                            .overlong(bytes: 11), Self.text("end")], "reads of \(step)")
        }
        #expect(try Self.lines(LineReader(source: TrickleSource("", step: 4), maxLineBytes: 10)).isEmpty)
        #expect(try Self.lines(LineReader(source: TrickleSource(String(repeating: "z", count: 30), step: 4), maxLineBytes: 10))
            == [.overlong(bytes: 30)])
        #expect(try Self.lines(LineReader(source: TrickleSource("exactly10!\n", step: 3), maxLineBytes: 10)) == [Self.text("exactly10!")])
    }

    @Test("a line is answered as soon as it arrives, without waiting for more input")
    func lineFromAnOpenPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let reader = LineReader(source: try FileDescriptorSource(fileDescriptor: fds[0], name: "<pipe>", ownsDescriptor: false),
                                maxLineBytes: 1 << 20)
        _ = "first\nsec".withCString { write(fds[1], $0, 9) }
        #expect(try reader.next() == Self.text("first"))
        _ = "ond\n".withCString { write(fds[1], $0, 4) }
        #expect(try reader.next() == Self.text("second"))
    }

    @Test("SIGINT inside InterruptRequest.catching raises the flag instead of ending the process")
    func interruptRaisesTheFlag() {
        InterruptRequest.catching {
            #expect(!InterruptRequest.requested)
            // To the process, not this thread (which may block SIGINT): another thread may take it, a moment later.
            kill(getpid(), SIGINT)
            var waited = 0
            while !InterruptRequest.requested && waited < 1000 {
                usleep(1000)
                waited += 1
            }
            #expect(InterruptRequest.requested)
        }
        InterruptRequest.catching { #expect(!InterruptRequest.requested, "each catching starts clear") }
    }
}
