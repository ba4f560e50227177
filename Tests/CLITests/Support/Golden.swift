// The Hugging Face golden data (Fixtures/tokenizer-golden, see its README) as the CLI tests use it.

import Foundation
import Testing
import TestSupport

enum Golden {
    struct Case: Decodable, Sendable {
        let name: String
        let text: String
        let ids: [UInt32]
        let nfc: String
    }

    struct DecodeCase: Decodable, Sendable {
        let name: String
        let ids: [UInt32]
        let text: String
        let text_skip_special: String
    }

    static func path(_ file: String) -> String { CLI.repositoryPath("Fixtures/tokenizer-golden/\(file)") }

    static let casesPath = path("cases.jsonl")
    static let randomPath = path("random.jsonl")
    static let decodePath = path("decode.jsonl")

    static func load<T: Decodable>(_ path: String, as type: T.Type) -> [T] {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).map { line in
            do { return try decoder.decode(T.self, from: Data(line)) } catch {
                fatalError("\(path): cannot read a golden line: \(error)")
            }
        }
    }

    /// cases.jsonl (hand-written) then random.jsonl, in file order: what `encode cases.jsonl random.jsonl` sees.
    static let handWritten: [Case] = load(casesPath, as: Case.self)
    static let random: [Case] = load(randomPath, as: Case.self)
    static let all: [Case] = handWritten + random
    static let decodeCases: [DecodeCase] = load(decodePath, as: DecodeCase.self)

    /// Cases that qwenkit is known to get wrong, by name (see `KnownIssues`). Tests that need every
    /// document right (the whole-document and round-trip tests) leave these out; the per-document
    /// golden tests check them under `withKnownIssue`.
    static let clean: [Case] = all.filter { !KnownIssues.goldenMismatches.contains($0.name) }
}

/// Behaviour that is wrong in qwenkit today, each with its repro. Tests expect the right behaviour
/// and wrap the failing check in `withKnownIssue`; when a fix lands the test fails once more,
/// saying to remove the entry here.
enum KnownIssues {
    /// Golden case names whose ids qwenkit is known to get wrong (none today). While an entry is
    /// here, the per-document golden tests record its difference as a known issue and report when
    /// it starts to match; the whole-document and round-trip tests leave it out.
    static let goldenMismatches: Set<String> = []
    static let goldenMismatchComment: Comment = "a golden case listed in KnownIssues.goldenMismatches"
}

/// Compares documents qwenkit produced with the goldens one by one. A document of a known-bad
/// case that differs is recorded as a known issue; one that now matches is reported so the entry
/// can go; any other difference fails (the first few are shown with their first differing id).
func expectDocuments(_ actual: [[UInt32]], match cases: [Golden.Case], _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == cases.count, "\(what): \(actual.count) documents, expected \(cases.count)", sourceLocation: sourceLocation)
    var unexpected = 0
    for (i, c) in cases.enumerated() where i < actual.count {
        let known = KnownIssues.goldenMismatches.contains(c.name)
        if actual[i] == c.ids {
            if known {
                Issue.record("\(what): \(c.name) now matches HF; remove it from KnownIssues.goldenMismatches", sourceLocation: sourceLocation)
            }
            continue
        }
        let message = "\(what): document \(i) (\(c.name)): \(describeFirstDifference(expected: c.ids, actual: actual[i]))"
        if known {
            withKnownIssue(KnownIssues.goldenMismatchComment) { Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation) }
        } else {
            unexpected += 1
            if unexpected <= 8 { Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation) }
        }
    }
    #expect(unexpected == 0, "\(what): \(unexpected) documents differ from Hugging Face", sourceLocation: sourceLocation)
}

/// Outputs of the golden runs that several tests read (each is made once per test process).
enum GoldenRuns {
    /// `qwenkit encode --jsonl text cases.jsonl random.jsonl` (text format).
    static let text: Result<RunResult, Error> = Result {
        try CLI.run(["encode", "--jsonl", "text", Golden.casesPath, Golden.randomPath])
    }
    /// The same with `--format jsonl`.
    static let jsonl: Result<RunResult, Error> = Result {
        try CLI.run(["encode", "--jsonl", "text", "--format", "jsonl", Golden.casesPath, Golden.randomPath])
    }
}
