import Testing
import TestSupport
@testable import QwenKitIO

/// `--shard K/N`: every record in exactly one shard, in order, whatever the file sizes and line lengths.
@Suite struct InputShardsTests {
    /// Random files of lines (empty lines, long lines, CRLF, a last line without its newline, empty files); for every
    /// N up to 9 the shards' bytes, concatenated in order, are the files' bytes, and each shard starts with a whole line.
    @Test func shardsPartitionTheRecords() throws {
        var random = SplitMix64(seed: 7)
        try withTemporaryDirectory { dir in
            for trial in 0..<12 {
                var files: [[UInt8]] = []
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    var bytes: [UInt8] = []
                    for _ in 0..<Int.random(in: 0...30, using: &random) {
                        let length = Int.random(in: 0...(trial % 3 == 0 ? 400 : 12), using: &random)
                        bytes += (0..<length).map { _ in UInt8.random(in: 0x61...0x7A, using: &random) }
                        if Bool.random(using: &random) && !bytes.isEmpty { bytes.append(0x0D) }
                        bytes.append(0x0A)
                    }
                    if Bool.random(using: &random) { bytes += [0x78, 0x79] }  // no final newline
                    files.append(bytes)
                }
                var inputs: [InputShards.Input] = []
                for (i, bytes) in files.enumerated() {
                    try writeFile("\(dir)/f\(i)", bytes)
                    inputs.append(InputShards.Input(path: "\(dir)/f\(i)", size: Int64(bytes.count), splittable: true))
                }
                for n in 1...9 {
                    var joined: [[UInt8]] = files.map { _ in [] }
                    for k in 0..<n {
                        for (input, part) in InputShards.plan(inputs, shard: k, of: n) {
                            let source: any ByteSource
                            switch part {
                            case .whole: source = try FileDescriptorSource(path: inputs[input].path)
                            case .records(let begin, let end):
                                source = try RecordRangeSource(path: inputs[input].path, begin: begin, end: end, label: "shard \(k)/\(n)")
                            }
                            let start = source.startOffset
                            let bytes = try source.readToEnd()
                            #expect(Int(start) == joined[input].count, "trial \(trial), \(k)/\(n), file \(input)")
                            #expect(bytes.isEmpty || start == 0 || files[input][Int(start) - 1] == 0x0A)
                            joined[input] += bytes
                        }
                    }
                    #expect(joined == files, "trial \(trial), N = \(n)")
                }
            }
        }
    }

    /// Unsplittable inputs (compressed, one document each) go whole to the shard holding their first byte; an empty
    /// last file goes to the last shard.
    @Test func unsplittableInputsGoWhole() {
        let inputs = [InputShards.Input(path: "a", size: 100, splittable: false), InputShards.Input(path: "b", size: 10, splittable: false),
                      InputShards.Input(path: "c", size: 0, splittable: false)]
        let shards = (0..<3).map { k in InputShards.plan(inputs, shard: k, of: 3).map(\.input) }
        #expect(shards == [[0], [], [1, 2]])
        #expect(InputShards.plan([InputShards.Input(path: "a", size: 10, splittable: true)], shard: 1, of: 2).map(\.part)
            == [.records(begin: 5, end: 10)])
        #expect(InputShards.boundExact(Int64.max, 3, 4) == Int64.max / 4 * 3 + 2)
    }

    @Test func partsNameTheirFirstByte() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/x", "aaaa\nbbbb\ncccc\n")
            let source = try RecordRangeSource(path: "\(dir)/x", begin: 3, end: 12, label: "shard 1/3")
            #expect(source.name == "\(dir)/x (shard 1/3, lines counted from byte 5)")
            #expect(try source.readToEnd() == Array("bbbb\ncccc\n".utf8))
        }
    }
}
