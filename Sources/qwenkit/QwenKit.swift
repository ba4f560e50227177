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
              qwenkit help encode
            """,
        version: qwenkitVersion,
        subcommands: [EncodeCommand.self, DecodeCommand.self, CountCommand.self, TokenizerCommand.self,
                      InspectCommand.self, EditCommand.self, ConvertCommand.self, QuantizeCommand.self, DiffCommand.self, RunCommand.self,
                      VerifyCommand.self]
    )

    /// Parses, runs, and turns every error into one line on stderr and a non-zero exit: 1, and 64 for usage
    /// errors; a command that `AnswersWithExitStatus` exits 2 for both. A closed stdout (`| head`) ends the program
    /// quietly with status 0, as ripgrep does.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        var commandType: ParsableCommand.Type = subcommand(named: CommandLine.arguments.dropFirst().first)
        let answers = { commandType is AnswersWithExitStatus.Type }
        do {
            var command = try parseAsRoot()
            commandType = type(of: command)
            try command.run()
        } catch let error as IOError {
            if case .brokenPipe = error { exitProcess(0) }
            printError(error.description)
            exitProcess(answers() ? 2 : 1)
        } catch let error as ValidationError {
            // A flag found wrong only while running (it needed the tokenizer) reads like the ones
            // validate() rejects: the message, the subcommand's usage, status 64 (2 for `verify`).
            let name = commandType.configuration.commandName ?? ""
            printError(raw: "Error: \(error.message)\nUsage: \(QwenKit.usageString(for: commandType))\n"
                + "  See 'qwenkit \(name) --help' for more information.\n")
            exitProcess(answers() ? 2 : ExitCode.validationFailure.rawValue)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CustomStringConvertible & Error {
            if isArgumentParserError(error) { exitParsing(error, answers: answers()) }
            printError(error.description)
            exitProcess(answers() ? 2 : 1)
        } catch {
            exitParsing(error, answers: answers())
        }
    }

    /// ArgumentParser's own exit (help, version, usage errors), with usage errors as status 2 for `answers`.
    private static func exitParsing(_ error: Error, answers: Bool) -> Never {
        guard answers, exitCode(for: error) == .validationFailure else { exit(withError: error) }
        printError(raw: fullMessage(for: error) + "\n")
        exitProcess(2)
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
