import Foundation

/// Reads the golden files under Fixtures/ (made by Fixtures/scripts/*.py with the reference tools).
enum Golden {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relative: String) -> URL { root.appendingPathComponent("Fixtures").appendingPathComponent(relative) }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let ids: [UInt32]
        let nfc: String
        var testDescription: String { name }
    }

    static func lines(_ relative: String) -> [[String: Any]] {
        let data = try! Data(contentsOf: url(relative))
        return data.split(separator: 0x0A).map { try! JSONSerialization.jsonObject(with: $0) as! [String: Any] }
    }

    static func cases(_ relative: String) -> [Case] {
        lines(relative).map {
            Case(name: $0["name"] as! String, text: $0["text"] as! String,
                 ids: ($0["ids"] as! [NSNumber]).map { $0.uint32Value }, nfc: $0["nfc"] as! String)
        }
    }

    static let handWritten = cases("tokenizer-golden/cases.jsonl")
    static let random = cases("tokenizer-golden/random.jsonl")
}

import Testing
import TestSupport
