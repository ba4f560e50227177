// A `qwenkit serve` process for tests, listening on a loopback port the system picks (--port 0), and a minimal
// HTTP/1.1 client over a socket (Connection: close; Content-Length or chunked bodies). Nothing talks to any other
// address; `stop()` sends SIGTERM and waits.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ServerProcess {
    let process = Process()
    let stderr = Pipe()
    private(set) var port = 0
    private(set) var log = ""

    /// Starts `qwenkit serve ARGS --port 0` and waits for its "serving … on http://127.0.0.1:PORT" line.
    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try CLI.binary())
        process.arguments = ["serve"] + arguments + ["--host", "127.0.0.1", "--port", "0"]
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = stderr.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: "http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let p = Int(digits), text[range.upperBound...].dropFirst(digits.count).first != nil {
                    port = p
                    log = text
                    return
                }
            }
        }
        process.terminate()
        throw CLITestError("the server did not start: \(String(decoding: buffer, as: UTF8.self))")
    }

    /// SIGTERM, then the exit status and everything it wrote to stderr.
    func stop() -> (status: Int32, log: String) {
        kill(process.processIdentifier, SIGTERM)
        let rest = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, log + String(decoding: rest, as: UTF8.self))
    }

    struct HTTPResponse {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, body: String? = nil) throws -> HTTPResponse {
        try Self.request(port: port, method, path, body: body.map { Array($0.utf8) })
    }

    static func request(port: Int, _ method: String, _ path: String, body: [UInt8]?) throws -> HTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLITestError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CLITestError("connect to 127.0.0.1:\(port) failed") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + (body ?? [])
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw CLITestError("send failed") }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[..<n]
        }
        return try parse(received)
    }

    static func parse(_ raw: [UInt8]) throws -> HTTPResponse {
        guard let end = (0..<max(0, raw.count - 3)).first(where: { raw[$0] == 13 && raw[$0 + 1] == 10 && raw[$0 + 2] == 13 && raw[$0 + 3] == 10 }) else {
            throw CLITestError("no HTTP header in \(String(decoding: raw, as: UTF8.self).debugDescription)")
        }
        let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(raw[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var out: [UInt8] = [], i = 0
            while i < body.count {
                guard let lineEnd = (i..<(body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                      let size = Int(String(decoding: body[i..<lineEnd], as: UTF8.self), radix: 16) else { break }
                if size == 0 { break }
                out += body[(lineEnd + 2)..<(lineEnd + 2 + size)]
                i = lineEnd + 2 + size + 2
            }
            body = out
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}
