// Reading what llama-perplexity printed (Fixtures/perplexity/*.txt, made by make_perplexity_fixtures.py), and the
// fixture models, tokens and quantized models the goldens were computed on.

import Conversion
import Foundation
import ModelFiles
import Perplexity
import Quantize
import Qwen2Runtime
import QwenTokenizer
import TestSupport

/// The figures of one llama-perplexity output.
struct LlamaOutput {
    /// A printed number and how many decimals it was printed with.
    struct Figure: CustomStringConvertible {
        var value: Double
        var decimals: Int
        /// One unit of its last printed digit.
        var unit: Double { pow(10, -Double(decimals)) }
        var description: String { "\(value)" }
    }

    /// `[1]662.4824,[2]…`: the running estimates.
    var running: [Double] = []
    /// `Final estimate: PPL = X +/- Y`.
    var final: (ppl: Double, error: Double)?
    /// The KL-divergence table: per chunk its ten numbers (PPL ± err, ln ratio ± err, KLD ± err, RMS Δp ± err %,
    /// same top ± err %).
    var table: [[Figure]] = []
    /// The statistics after the table, by label (`Mean PPL(Q)`, `99.9%   KLD`, `RMS Δp`): the value and, where it
    /// prints one, its uncertainty (percent figures as printed).
    var statistics: [String: [Figure]] = [:]
    var statisticLabels: [String] = []

    init(text: String) {
        var inTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("[1]") {
                running = line.split(separator: ",").map { Double($0.split(separator: "]")[1])! }
            } else if line.hasPrefix("Final estimate: PPL = ") {
                let parts = line.dropFirst("Final estimate: PPL = ".count).components(separatedBy: " +/- ")
                final = (Double(parts[0])!, Double(parts[1])!)
            } else if line.hasPrefix("chunk ") {
                inTable = true
            } else if inTable {
                let numbers = Self.numbers(line)
                if numbers.count == 11 { table.append(Array(numbers.dropFirst())) } else { inTable = false }
            }
            if let colon = line.range(of: ": "), !line.hasPrefix("Final"), !line.hasPrefix("$"), !inTable {
                let label = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)
                let values = Self.numbers(String(line[colon.upperBound...]))
                if !values.isEmpty, Self.isStatistic(label) {
                    statistics[label] = values
                    statisticLabels.append(label)
                }
            }
        }
    }

    static func isStatistic(_ label: String) -> Bool {
        label.hasPrefix("Mean") || label.hasPrefix("Cor(") || label.hasSuffix("KLD") || label.hasSuffix("Δp")
            || label.hasPrefix("RMS Δp") || label.hasPrefix("Same top p")
    }

    /// The numbers in `line` (`-nan`, `nan` and `inf` included), in order.
    static func numbers(_ line: String) -> [Figure] {
        line.replacingOccurrences(of: "%", with: " ").replacingOccurrences(of: "±", with: " ")
            .split(separator: " ").compactMap { word in
                let w = word.hasPrefix("-nan") ? "nan" : String(word)
                guard let v = Double(w) else { return nil }
                return Figure(value: v, decimals: w.split(separator: ".").dropFirst().first?.count ?? 0)
            }
    }

    init(file: String) throws {
        self.init(text: String(decoding: try readFile(fixturePath("perplexity/" + file)), as: UTF8.self))
    }
}

enum Fixture {
    static func modelPath(_ name: String) -> String { fixturePath("convert-golden/\(name).f32.gguf") }

    /// calibration.txt tokenized as llama-perplexity does (special tokens as text, no BOS for these models, the last
    /// newline dropped).
    static func tokens(_ model: String) throws -> [UInt32] {
        let tokenizer = try TokenizerSpec(gguf: try GGUFFile(path: modelPath(model))).build()
        var text = try readFile(fixturePath("imatrix/calibration.txt"))
        if text.last == 0x0A { text.removeLast() }  // as llama.cpp's -f reads it
        var ids: [UInt32] = []
        try text.withUnsafeBufferPointer { try tokenizer.makeEncoder().encode($0, special: .text, into: &ids) }
        return ids
    }

    /// The models the KL-divergence goldens ran: "f32" (the fixture itself), "q8_0", "q4_0", "q4_0-f32" (that Q4_0
    /// model requantized to F32), made here with qwenkit's quantizer (byte-identical to llama-quantize's: their
    /// SHA-256 are in Fixtures/perplexity/quantized.sha256) into `directory`.
    static func model(_ name: String, _ variant: String, in directory: String) throws -> String {
        if variant == "f32" { return modelPath(name) }
        let q4 = directory + "/\(name).q4_0.gguf"
        func make(_ input: String, _ type: QuantizeType, _ output: String, requantize: Bool = false) throws {
            guard !FileManager.default.fileExists(atPath: output) else { return }
            var options = QuantizeOptions()
            options.allowRequantize = requantize
            _ = try Quantizer.write(try QuantizePlan(path: input, type: type, options: options), to: output)
        }
        switch variant {
        case "q8_0":
            try make(modelPath(name), .q8_0, directory + "/\(name).q8_0.gguf")
            return directory + "/\(name).q8_0.gguf"
        case "q4_0":
            try make(modelPath(name), .q4_0, q4)
            return q4
        default:
            try make(modelPath(name), .q4_0, q4)
            try make(q4, .f32, directory + "/\(name).q4_0-f32.gguf", requantize: true)
            return directory + "/\(name).q4_0-f32.gguf"
        }
    }

    /// SHA-256 of a file by `sha256sum` (nil where there is none).
    static func sha256(_ path: String) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init)
    }
}
