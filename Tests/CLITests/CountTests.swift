// `qwenkit count` on a small fixed input whose numbers are known exactly.

import Foundation
import Testing
import TestSupport

@Suite struct CountTests {
    /// Three golden texts, one per line: "english/hello world" (4 ids, 13 bytes, 13 characters),
    /// "special/cjk around" (3 ids, 16 bytes, 12 characters) and "emoji/flags" (8 ids, 32 bytes,
    /// 8 characters), plus three newlines: 64 bytes and 36 characters in all.
    static let input = "Hello, world!\n你<|im_end|>好\n🇺🇸🇯🇵🇨🇳🇩🇪\n"

    /// As lines: 4 + 3 + 8 = 15 tokens, 64 / 15 = 4.267 bytes per token.
    @Test func linesTable() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/small.txt"
            try writeFile(path, Self.input)
            let run = try CLI.run(["count", "--lines", path])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(run.stdoutText == """
                tokens  bytes  chars  bytes/token  input
                    15     64     36        4.267  \(path)

                """)
        }
    }

    /// As one document the newlines are tokens too: HF gives 17 ids for the whole string
    /// ([9707, 11, 1879, 4894, 56568, 151645, 52801, 198, 145526, …, 145336, 198]; "!\n" is one token).
    @Test func wholeDocumentJSON() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/small.txt"
            try writeFile(path, Self.input)
            let run = try CLI.run(["count", "--json", path])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            let counts = #""tokens":17,"bytes":64,"characters":36,"documents":1,"bytes_per_token":3.765"#
            #expect(run.stdoutText == #"{"inputs":[{"name":"\#(path)","#  + counts + #"}],"total":{"# + counts + "}}\n")
        }
    }

    /// Several inputs: one object (or row) per input in order, stdin named `<stdin>`, and the total.
    /// The JSON shape: {"inputs": [{"name", "tokens", "bytes", "characters", "documents",
    /// "bytes_per_token"}], "total": {the same without "name"}}.
    @Test func severalInputsJSONShapeAndTable() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/we\"ird.txt"
            try writeFile(path, Self.input)
            let run = try CLI.run(["count", "--lines", "--json", path, "-"], stdin: .text("ab\ncd\n"))
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
            #expect(run.stdout.last == 0x0A && outputLines(run.stdout).count == 1, "one JSON document on one line")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
            #expect(Set(object.keys) == ["inputs", "total"])
            let inputs = try #require(object["inputs"] as? [[String: Any]])
            let total = try #require(object["total"] as? [String: Any])
            #expect(inputs.count == 2)
            let keys: Set<String> = ["tokens", "bytes", "characters", "documents", "bytes_per_token"]
            for input in inputs { #expect(Set(input.keys) == keys.union(["name"])) }
            #expect(Set(total.keys) == keys)
            func ints(_ o: [String: Any]) -> [Int] { ["tokens", "bytes", "characters", "documents"].map { (o[$0] as? NSNumber)?.intValue ?? -1 } }
            #expect(inputs[0]["name"] as? String == path)
            #expect(ints(inputs[0]) == [15, 64, 36, 3])
            #expect((inputs[0]["bytes_per_token"] as? NSNumber)?.doubleValue == 4.267)
            #expect(inputs[1]["name"] as? String == "<stdin>")
            #expect(ints(inputs[1]) == [2, 6, 6, 2])  // "ab" = 370, "cd" = 4385
            #expect((inputs[1]["bytes_per_token"] as? NSNumber)?.doubleValue == 3.0)
            #expect(ints(total) == [17, 70, 42, 5])
            #expect((total["bytes_per_token"] as? NSNumber)?.doubleValue == 4.118)  // 70 / 17

            let table = try CLI.run(["count", "--lines", path, "-"], stdin: .text("ab\ncd\n"))
            #expect(table.stdoutText == """
                tokens  bytes  chars  bytes/token  input
                    15     64     36        4.267  \(path)
                     2      6      6          3.0  <stdin>
                    17     70     42        4.118  total

                """)
        }
    }

    /// An empty input has no tokens: bytes per token is null in JSON and "-" in the table.
    @Test func emptyInput() throws {
        let json = try CLI.run(["count", "--json"], stdin: .text(""))
        #expect(json.status == 0, "\(json)")
        let counts = #""tokens":0,"bytes":0,"characters":0,"documents":1,"bytes_per_token":null"#
        #expect(json.stdoutText == #"{"inputs":[{"name":"<stdin>","# + counts + #"}],"total":{"# + counts + "}}\n")
        let table = try CLI.run(["count"], stdin: .text(""))
        #expect(table.stdoutText == "tokens  bytes  chars  bytes/token  input\n     0      0      0            -  <stdin>\n")
    }

    /// With --jsonl, "characters" counts the tokenized field's text but "bytes" counts the whole
    /// JSONL line (other members, quotes and escapes included), so bytes per token is not the
    /// text's compression. Both should measure the same text: here "abc" is 3 bytes, 3 characters, 1 token.
    @Test func jsonlCountsMeasureTheTokenizedText() throws {
        let run = try CLI.run(["count", "--json", "--jsonl", "text"], stdin: .text(#"{"text":"abc","meta":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"# + "\n"))
        #expect(run.status == 0, "\(run)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
        let input = try #require((object["inputs"] as? [[String: Any]])?.first)
        #expect((input["tokens"] as? NSNumber)?.intValue == 1)
        #expect((input["characters"] as? NSNumber)?.intValue == 3)
        #expect((input["bytes"] as? NSNumber)?.intValue == 3)
    }
}
