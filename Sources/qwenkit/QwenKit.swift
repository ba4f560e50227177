import ArgumentParser
import QwenKitIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct QwenKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qwenkit",
        abstract: "Tokenize, convert, quantize, inspect and verify Qwen2 models.",
        discussion: """
            Examples:
              echo 'Hello, world!' | qwenkit encode
              qwenkit count --lines corpus.txt
              qwenkit convert ./Qwen2-0.5B-Instruct -o qwen2-0.5b-instruct.gguf
              qwenkit quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M
              qwenkit inspect model.gguf
              qwenkit diff ./Qwen2-0.5B model-q8_0.gguf --tolerance 0.05
              qwenkit edit model.gguf -o fixed.gguf --chat-template template.jinja
              qwenkit diff ./Qwen2-0.5B model.gguf
              qwenkit run model.gguf --prompt 'The capital of France is' -n 16
              qwenkit verify model-q4_k_m.gguf goldens/*.safetensors
              qwenkit imatrix model-f16.gguf -f calibration.txt -o imatrix.gguf
              qwenkit perplexity model-q4_k_m.gguf -f wiki.test.raw
              qwenkit template model.gguf --messages chat.json --add-generation-prompt
              qwenkit chat qwen2-0.5b-instruct-q8_0.gguf --system 'Answer briefly.'
              qwenkit serve model.gguf --port 8080
              qwenkit help encode
            """,
        version: qwenkitVersion,
        subcommands: [EncodeCommand.self, DecodeCommand.self, CountCommand.self, MergeCommand.self, TokenizerCommand.self,
                      InspectCommand.self, EditCommand.self, ConvertCommand.self, QuantizeCommand.self, DiffCommand.self, RunCommand.self,
                      VerifyCommand.self, ImatrixCommand.self, PerplexityCommand.self, TemplateCommand.self,
                      ChatCommand.self, ServeCommand.self]
    )

    /// Parses, runs, and turns every error into one line on stderr and a non-zero exit from `ExitStatus`: 1 for a
    /// failure, 2 for a usage error in any command (and for any error of a command that `AnswersWithExitStatus`). A
    /// closed stdout (`| head`) ends the program quietly with status 0, as ripgrep does. Every way out removes the
    /// command's temporary files; SIGINT, SIGTERM and SIGHUP do too (`TemporaryFiles`), then exit 128 + the signal.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        TemporaryFiles.installSignalHandlers()
        var commandType: ParsableCommand.Type = subcommand(named: CommandLine.arguments.dropFirst().first)
        let answers = { commandType is AnswersWithExitStatus.Type }
        do {
            checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot()
            commandType = type(of: command)
            if let writer = command as? WritesOutputs {
                for path in writer.outputPaths { try OutputGuard.claim(path) }  // held for the whole command
            }
            try command.run()
        } catch let error as IOError {
            if case .brokenPipe = error { exitProcess(.success) }
            printError(error.description)
            exitProcess(answers() ? .usage : .failure)
        } catch let error as ValidationError {
            // A flag found wrong only while running (it needed the tokenizer) reads like the ones
            // validate() rejects: the message, the subcommand's usage, the usage status.
            let name = commandType.configuration.commandName ?? ""
            printError(raw: "Error: \(error.message)\nUsage: \(QwenKit.usageString(for: commandType))\n"
                + "  See 'qwenkit \(name) --help' for more information.\n")
            exitProcess(.usage)
        } catch let error as ExitCode {
            exitProcess(error.rawValue)
        } catch let error as CustomStringConvertible & Error {
            if isArgumentParserError(error) { exitParsing(error) }
            printError(error.description)
            exitProcess(answers() ? .usage : .failure)
        } catch {
            exitParsing(error)
        }
        TemporaryFiles.removeAll()
    }

    /// ArgumentParser's own exits: help and version (status 0, on stdout) as it prints them; usage errors with its
    /// message on stderr and `ExitStatus.usage`.
    private static func exitParsing(_ error: Error) -> Never {
        let code = exitCode(for: error)
        guard code == .validationFailure else {
            TemporaryFiles.removeAll()
            exit(withError: error)
        }
        printError(raw: fullMessage(for: error) + "\n")
        exitProcess(.usage)
    }

    /// `qwenkit help TOPIC…` must name a command: ArgumentParser prints the root help for an unknown one and exits 0,
    /// which would hide a typo in a script. Ends the process with the usage status for an unknown topic.
    private static func checkHelpTopic(_ arguments: [String]) {
        guard arguments.first == "help" else { return }
        var command: ParsableCommand.Type = QwenKit.self
        var path = "qwenkit"
        for topic in arguments.dropFirst() where !topic.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard let next = subcommands.first(where: { $0._commandName == topic }) else {
                let known = subcommands.map { $0._commandName }.joined(separator: ", ")
                printError(raw: "Error: \(path) has no command '\(topic)'"
                    + (known.isEmpty ? "\n" : " (its commands: \(known))\n"))
                exitProcess(.usage)
            }
            command = next
            path += " " + topic
        }
    }

    /// The subcommand the first argument names (QwenKit itself for anything else): known before parsing, so
    /// that a usage error of a command that `AnswersWithExitStatus` gets its status.
    private static func subcommand(named name: String?) -> ParsableCommand.Type {
        configuration.subcommands.first { $0.configuration.commandName == name } ?? QwenKit.self
    }

    private static func isArgumentParserError(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }
}

let qwenkitVersion = "0.1.0"
