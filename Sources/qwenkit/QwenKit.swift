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
              qwenkit help encode
            """,
        version: qwenkitVersion,
        subcommands: [EncodeCommand.self, DecodeCommand.self, CountCommand.self, TokenizerCommand.self,
                      InspectCommand.self, EditCommand.self, ConvertCommand.self, QuantizeCommand.self, DiffCommand.self, RunCommand.self]
    )

    /// Parses, runs, and turns every error into one line on stderr and a non-zero exit. A closed
    /// stdout (`| head`) ends the program quietly with status 0, as ripgrep does.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        var commandType: ParsableCommand.Type = QwenKit.self
        do {
            var command = try parseAsRoot()
            commandType = type(of: command)
            try command.run()
        } catch let error as IOError {
            if case .brokenPipe = error { exitProcess(0) }
            printError(error.description)
            exitProcess(1)
        } catch let error as ValidationError {
            // A flag found wrong only while running (it needed the tokenizer) reads like the ones
            // validate() rejects: the message, the subcommand's usage, status 64.
            let name = commandType.configuration.commandName ?? ""
            printError(raw: "Error: \(error.message)\nUsage: \(QwenKit.usageString(for: commandType))\n"
                + "  See 'qwenkit \(name) --help' for more information.\n")
            exitProcess(ExitCode.validationFailure.rawValue)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CustomStringConvertible & Error {
            if isArgumentParserError(error) { exit(withError: error) }
            printError(error.description)
            exitProcess(1)
        } catch {
            exit(withError: error)
        }
    }

    private static func isArgumentParserError(_ error: Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }
}

let qwenkitVersion = "0.1.0"
