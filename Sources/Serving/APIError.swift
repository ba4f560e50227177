import ChatTemplate
import Hummingbird

/// An error answered as OpenAI does: the status and `{"error": {"message", "type", "param", "code"}}`.
struct APIError: Error {
    let status: HTTPResponse.Status
    let message: String
    var type = "invalid_request_error"
    var param: String?
    var code: String?

    static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param)
    }

    static func busy() -> APIError {
        APIError(status: .serviceUnavailable, message: "the server is busy: every slot is working and the queue is full; retry later",
                 type: "server_error", code: "queue_full")
    }

    var body: Value {
        .dict(Value.Dictionary([("error", .dict(Value.Dictionary([
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map(Value.string) ?? .none), ("code", code.map(Value.string) ?? .none),
        ])))]))
    }

    var response: Response { jsonResponse(body, status: status) }
}

func jsonResponse(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
    var buffer = ByteBufferAllocator().buffer(capacity: 256)
    buffer.writeString(value.jsonText)
    return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
}

/// A request's JSON body, read field by field with OpenAI's checks: a wrong type or range is a 400 naming the field.
struct RequestFields {
    let fields: Value.Dictionary

    init(_ bytes: ByteBuffer) throws(APIError) {
        let value: Value
        do {
            value = try bytes.withUnsafeReadableBytes { raw in
                try Value.json(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
            }
        } catch {
            throw .invalid("the body is not valid JSON: \(error)")
        }
        guard case .dict(let d) = value else { throw .invalid("the body must be a JSON object") }
        fields = d
    }

    subscript(name: String) -> Value? {
        guard let v = fields[name], !v.isNullValue else { return nil }
        return v
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let v = self[name] else { return nil }
        guard case .int(let i) = v else { throw .invalid("'\(name)' must be an integer", param: name) }
        guard range.contains(i) else { throw .invalid("'\(name)' must be between \(range.lowerBound) and \(range.upperBound)", param: name) }
        return i
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let v = self[name] else { return nil }
        let d: Double
        switch v {
        case .int(let i): d = Double(i)
        case .float(let f): d = f
        default: throw .invalid("'\(name)' must be a number", param: name)
        }
        guard range.contains(d) else { throw .invalid("'\(name)' must be between \(range.lowerBound) and \(range.upperBound)", param: name) }
        return d
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let v = self[name] else { return nil }
        guard case .bool(let b) = v else { throw .invalid("'\(name)' must be a boolean", param: name) }
        return b
    }

    /// A string or a list of strings (`stop`).
    func strings(_ name: String, max: Int) throws(APIError) -> [String] {
        guard let v = self[name] else { return [] }
        switch v {
        case .string(let s): return s.isEmpty ? [] : [s]
        case .list(let items, _):
            guard items.count <= max else { throw .invalid("'\(name)' has more than \(max) entries", param: name) }
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw .invalid("'\(name)' must be a string or a list of strings", param: name) }
                if !s.isEmpty { out.append(s) }
            }
            return out
        default: throw .invalid("'\(name)' must be a string or a list of strings", param: name)
        }
    }
}

extension Value {
    var isNullValue: Bool { if case .none = self { return true }; return false }
}
