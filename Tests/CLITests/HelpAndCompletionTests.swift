// --version, help text (snapshots in Tests/CLITests/Snapshots) and the committed shell completion
// scripts in Completions/. Refresh both with `make help-snapshots completions`.

import Foundation
import Testing
import TestSupport

@Suite struct HelpAndCompletionTests {
    @Test func version() throws {
        let run = try CLI.run(["--version"])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let version = run.stdoutText
        #expect(version.wholeMatch(of: /\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?\n/) != nil, "\(version.debugDescription)")
        // Every subcommand answers --version with the same line.
        #expect(try CLI.run(["encode", "--version"]).stdoutText == version)
    }

    struct HelpCase: Sendable, CustomTestStringConvertible {
        let command: [String]
        /// Options the help must list (besides --help and --version).
        let options: [String]
        var snapshot: String { "help-" + (command.isEmpty ? "qwenkit" : command.joined(separator: "-")) + ".txt" }
        var testDescription: String { (["qwenkit"] + command).joined(separator: " ") }
    }

    static let helpCases: [HelpCase] = [
        HelpCase(command: [], options: []),
        HelpCase(command: ["encode"], options: ["--tokenizer <path>", "--lines", "--jsonl <field>", "--parquet <column>", "--special <mode>", "--invalid <mode>",
                                                "--threads <n>", "--bad-records <mode>", "--max-bad-records <n>", "--format <format>", "--eod <id>", "--pack <n>", "--pack-mode <mode>", "--pad-id <id>", "--max-tokens <n>", "--truncate",
                                                "--chunk", "--shard <k/n>", "--skip-existing", "-o, --output <file>"]),
        HelpCase(command: ["decode"], options: ["--tokenizer <path>", "--format <format>", "--skip-special", "--no-newline", "--stream",
                                                "-o, --output <file>"]),
        HelpCase(command: ["count"], options: ["--tokenizer <path>", "--lines", "--jsonl <field>", "--parquet <column>", "--special <mode>", "--invalid <mode>",
                                               "--threads <n>", "--bad-records <mode>", "--max-bad-records <n>", "--json"]),
        HelpCase(command: ["merge"], options: ["-o, --output <file>"]),
        HelpCase(command: ["tokenizer"], options: []),
        HelpCase(command: ["tokenizer", "compile"], options: ["-o, --output <output>"]),
        HelpCase(command: ["tokenizer", "profile"], options: ["--tokenizer <path>", "--repeat <n>"]),
        HelpCase(command: ["inspect"], options: ["--tensors", "--tensor <glob>", "--stats", "--json", "--full", "--threads <n>"]),
        HelpCase(command: ["convert"], options: ["-o, --output <file>", "--outtype <type>", "--vocab-only", "-q, --quiet"]),
        HelpCase(command: ["quantize"], options: ["--threads <n>", "--pure", "--output-tensor-type <ggml-type>",
                                                  "--token-embedding-type <ggml-type>", "--allow-requantize", "--no-fallback", "-q, --quiet"]),
        HelpCase(command: ["edit"], options: ["-o, --output <file>", "--set <key=value>", "--set-str <key=value>", "--delete <key>",
                                              "--chat-template <file>", "--dry-run"]),
        HelpCase(command: ["diff"], options: ["--tolerance <x>", "--tensor <glob>", "--json", "--threads <n>"]),
        HelpCase(command: ["run"], options: ["-p, --prompt <text>", "--tokens <ids>", "--chat", "--system <text>", "--chat-template <file>",
                                             "-n <n>", "--temp <t>", "--min-p <p>", "--repeat-penalty <x>", "--repeat-last-n <n>",
                                             "--presence-penalty <x>", "--frequency-penalty <x>", "--stop <string>",
                                             "--top-k <k>", "--top-p <p>", "-s, --seed <n>", "--logits <file>", "--tokenizer <path>",
                                             "-t, --threads <n>", "-q, --quiet"]),
        HelpCase(command: ["verify"], options: ["--threads <n>", "--json", "--type <type>", "--max-abs-error <x>", "--min-cosine <x>",
                                                "--min-top1 <x>", "--min-top5 <x>", "--max-mean-kl <x>", "--max-kl <x>", "--worst <n>"]),
        HelpCase(command: ["imatrix"], options: ["-f, --file <text>", "-o, --output <file>", "-c, --ctx-size <n>", "--chunks <n>",
                                                 "--chunk, --from-chunk <n>", "--process-output", "--no-ppl", "--output-format <format>",
                                                 "--output-frequency, -ofreq <n>", "--save-frequency <n>", "--tokenizer <path>",
                                                 "-t, --threads <n>"]),
        HelpCase(command: ["perplexity"], options: ["-f, --file <text>", "-c, --ctx-size <n>", "--chunks <n>", "-b, --batch-size <n>",
                                                    "--kl-divergence-base <file>", "--kl-divergence", "--json", "--tokenizer <path>",
                                                    "-t, --threads <n>"]),
        HelpCase(command: ["template"], options: ["--messages <file.json>", "--tools <file.json>", "--add-generation-prompt",
                                                  "--var <name=value>", "--now <time>", "--chat-template <file>"]),
        HelpCase(command: ["chat"], options: ["--system <text>", "--chat-template <file>", "-n <n>", "-c, --ctx-size <n>",
                                              "-t, --threads <n>", "--temp <t>", "--top-k <k>", "--top-p <p>", "--min-p <p>",
                                              "--repeat-penalty <x>", "--repeat-last-n <n>", "--presence-penalty <x>",
                                              "--frequency-penalty <x>", "-s, --seed <n>", "--stop <string>", "--tokenizer <path>",
                                              "-v, --verbose"]),
        HelpCase(command: ["serve"], options: ["--host <address>", "--port <n>", "--parallel <n>", "--queue <n>", "-c, --ctx-size <n>",
                                               "-t, --threads <n>", "--alias <name>", "--chat-template <file>", "--tokenizer <path>",
                                               "--temp <t>", "-s, --seed <n>"]),
    ]

    static let snapshotDirectory = CLI.repositoryPath("Tests/CLITests/Snapshots")

    /// `qwenkit help CMD` and `qwenkit CMD --help` print the same text, equal to the committed
    /// snapshot, with the usage line, an example, and every option.
    @Test(arguments: helpCases)
    func helpText(_ help: HelpCase) throws {
        let viaHelp = try CLI.run(["help"] + help.command)
        let viaFlag = try CLI.run(help.command + ["--help"])
        #expect(viaHelp.status == 0 && viaHelp.stderr.isEmpty, "\(viaHelp)")
        #expect(viaFlag.status == 0 && viaFlag.stderrText == "", "\(viaFlag)")
        #expect(viaHelp.stdoutText == viaFlag.stdoutText)
        let text = viaFlag.stdoutText

        let snapshotPath = Self.snapshotDirectory + "/" + help.snapshot
        let snapshot = (try? readFile(snapshotPath)).map { String(decoding: $0, as: UTF8.self) }
        #expect(snapshot == text, "\(help.snapshot) differs from `\(help.testDescription) --help`; if the change is intended run `make help-snapshots`")

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("OVERVIEW: ") == true)
        #expect(lines.contains { $0.hasPrefix("USAGE: " + (["qwenkit"] + help.command).joined(separator: " ")) })
        for option in help.options + ["--version", "-h, --help"] {
            #expect(lines.contains { $0.hasPrefix("  " + option + " ") || $0 == "  " + option }, "\(help.testDescription) --help does not list \(option)")
        }
        #expect(text.contains("Example"), "no example in \(help.testDescription) --help")
        // Each indented example line runs qwenkit.
        let examples = lines.drop { !$0.hasPrefix("Example") }.dropFirst().prefix { !$0.isEmpty }.filter { $0.hasPrefix("  ") }
        #expect(examples.allSatisfy { $0.contains("qwenkit ") }, "\(Array(examples))")
    }

    /// decode's --format accepts text, jsonl and u32, but its help offers "pieces" too (which it
    /// then rejects with a usage error).
    @Test func decodeHelpOffersOnlyInputFormats() throws {
        let text = try CLI.run(["decode", "--help"]).stdoutText
        #expect(text.contains("--format <format>"))
        #expect(!text.contains("pieces"), "decode --help mentions pieces")
    }

    /// Completions/qwenkit.bash, Completions/_qwenkit (zsh) and Completions/qwenkit.fish are what the
    /// binary generates now.
    @Test(arguments: [("bash", "qwenkit.bash"), ("zsh", "_qwenkit"), ("fish", "qwenkit.fish")])
    func completionScriptsAreCurrent(shell: String, file: String) throws {
        let run = try CLI.run(["--generate-completion-script", shell])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        #expect(run.stdout.count > 1000 && run.stdoutText.contains("encode") && run.stdoutText.contains("--max-tokens"))
        let path = CLI.repositoryPath("Completions/" + file)
        let committed = try? readFile(path)
        #expect(committed != nil, "Completions/\(file) is missing; run `make completions`")
        if let committed {
            // Compared as a Bool so that a failure prints the message, not two scripts' bytes.
            let current = committed == run.stdout
            #expect(current, "Completions/\(file) is out of date; run `make completions` and commit the result. \(describeFirstDifference(expected: committed, actual: run.stdout))")
        }
    }
}
