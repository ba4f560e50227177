import ArgumentParser
import QwenKitIO

/// Every exit status qwenkit ends with, in one table (README's "Exit status" section says the same in prose).
///
/// | status | meaning |
/// |---|---|
/// | 0 | success (`diff`: the models agree; `verify`: within the thresholds) |
/// | 1 | the command failed: an input it cannot use, an I/O error (`diff`, `verify`: the answer is no) |
/// | 2 | a usage error in any command: an unknown flag, a value out of range (`diff`, `verify`: also an input they cannot use) |
/// | 3 | `encode --truncate` cut a document |
/// | 128 + n | ended by signal n after removing its temporary files: 129 SIGHUP, 130 SIGINT, 143 SIGTERM |
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
    case truncated = 3

    /// For commands to throw: ends the process with this status (after the root command's cleanup).
    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// A command whose exit status is its answer, as cmp's and diff(1)'s: 0 yes, 1 no, 2 trouble. Its runtime
/// errors (an input it cannot use) exit `ExitStatus.usage` (2) rather than `failure` (1), which means "no".
protocol AnswersWithExitStatus {}
