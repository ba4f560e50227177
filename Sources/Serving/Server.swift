import ChatTemplate
import Dispatch
import Hummingbird
import Logging
import ModelFiles
import Qwen2Runtime
import QwenKitIO
import QwenTokenizer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the server serves: the model, its tokenizer, chat template and end tokens, the name clients use for it,
/// and the sampling a request gets for what it leaves out.
public struct ServedModel: @unchecked Sendable {
    public let model: Qwen2Model
    public let tokenizer: Tokenizer
    public let template: ModelChatTemplate?
    public let endTokens: Set<UInt32>
    public let name: String
    public let defaults: SamplingOptions

    public init(model: Qwen2Model, tokenizer: Tokenizer, template: ModelChatTemplate?, endTokens: Set<UInt32>, name: String,
                defaults: SamplingOptions) {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.endTokens = endTokens
        self.name = name
        self.defaults = defaults
    }
}

public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Sequences generated at once, each in a slot with its own KV cache.
    public var parallel = 1
    /// Requests waiting for a slot before the server answers 503.
    public var queueLimit = 64
    /// Positions each slot's KV cache holds.
    public var contextSize: Int
    /// Worker threads of every forward step (a prompt's, or the slots' batched decoding).
    public var threads = 1
    public var maxBodyBytes = 32 << 20

    public init(contextSize: Int) { self.contextSize = contextSize }
}

/// A slot: one session of the server's group and its generator, used by one request at a time; the scheduler's
/// thread runs its model work.
final class Slot: @unchecked Sendable {
    let index: Int
    let session: InferenceSession
    let generator: Generator

    init(index: Int, session: InferenceSession) {
        self.index = index
        self.session = session
        generator = Generator(session: session)
    }
}

/// The free slots, and the requests waiting for one (at most `limit`; past it a request is refused).
actor SlotPool {
    private var free: [Slot]
    private var waiting: [CheckedContinuation<Slot, Never>] = []
    private let limit: Int

    init(_ slots: [Slot], limit: Int) {
        free = slots.reversed()
        self.limit = limit
    }

    func acquire() async -> Slot? {
        if let slot = free.popLast() { return slot }
        guard waiting.count < limit else { return nil }
        return await withCheckedContinuation { waiting.append($0) }
    }

    func release(_ slot: Slot) {
        if waiting.isEmpty { free.append(slot) } else { waiting.removeFirst().resume(returning: slot) }
    }
}

/// Set when a client goes away, read by the generation between tokens.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// An OpenAI-compatible HTTP server over the runtime (`qwenkit serve`).
public final class Server: Sendable {
    let served: ServedModel
    let configuration: ServerConfiguration
    let pool: SlotPool
    let scheduler: Scheduler
    /// Response ids. In a class of its own: an Atomic stored in Server itself crashes the 6.3 compiler's release
    /// build of this initializer (an ownership error in CopyPropagation on the Atomic's drop_deinit).
    private let counter = Counter()
    let started = Int(time(nil))

    public init(model: ServedModel, configuration: ServerConfiguration) throws {
        served = model
        self.configuration = configuration
        let group = try SessionGroup(model: model.model, count: max(1, configuration.parallel), capacity: configuration.contextSize,
                                     threads: configuration.threads)
        pool = SlotPool(group.sessions.enumerated().map { Slot(index: $0, session: $1) }, limit: configuration.queueLimit)
        scheduler = Scheduler(group: group)
    }

    func nextID(_ prefix: String) -> String { "\(prefix)-\(counter.value.add(1, ordering: .relaxed).newValue)" }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets running requests finish and returns.
    /// `listening` gets the bound address (with --port 0, the port the system chose); `log` one line per request.
    public func run(listening: @escaping @Sendable (String, Int) -> Void, log: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        router.add(middleware: RequestLog(log: log))
        let server = self
        router.get("/health") { _, _ in jsonResponse(.dict(Value.Dictionary([("status", .string("ok"))]))) }
        router.get("/v1/models") { _, _ in server.models() }
        router.get("/v1/models/**") { _, context in
            await server.answer { try server.model(id: context.parameters.getCatchAll().joined(separator: "/")) }
        }
        router.post("/v1/completions") { request, context in await server.answer { try await server.completions(request, context) } }
        router.post("/v1/chat/completions") { request, context in
            await server.answer { try await server.chatCompletions(request, context) }
        }
        router.post("/tokenize") { request, context in await server.answer { try await server.tokenize(request, context) } }
        router.post("/detokenize") { request, context in await server.answer { try await server.detokenize(request, context) } }
        var logger = Logger(label: "qwenkit.serve")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "qwenkit"),
            onServerRunning: { channel in
                listening(channel.localAddress?.ipAddress ?? server.configuration.host, channel.localAddress?.port ?? server.configuration.port)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The response of `body`, or the error it threw as OpenAI's error object.
    func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(status: .internalServerError, message: "\(error)", type: "server_error").response
        }
    }

    func body(_ request: Request) async throws -> RequestFields {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            throw APIError(status: .contentTooLarge, message: "the body is larger than \(configuration.maxBodyBytes) bytes")
        }
        return try RequestFields(bytes)
    }

    /// The served model as OpenAI's model object.
    var modelObject: Value {
        .dict(Value.Dictionary([
            ("id", .string(served.name)), ("object", .string("model")), ("created", .int(started)), ("owned_by", .string("qwenkit")),
        ]))
    }

    func models() -> Response {
        jsonResponse(.dict(Value.Dictionary([("object", .string("list")), ("data", .list([modelObject]))])))
    }

    /// GET /v1/models/{id} (the id percent-decoded; it may hold slashes): the model object, or 404 as OpenAI answers
    /// an unknown model.
    func model(id raw: String) throws(APIError) -> Response {
        let id = percentDecoded(raw)
        guard id == served.name else {
            throw APIError(status: .notFound, message: "the model '\(id ?? raw)' does not exist; this server serves '\(served.name)'",
                           param: "model", code: "model_not_found")
        }
        return jsonResponse(modelObject)
    }

    func tokenize(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let f = try await body(request)
        guard case .string(let text)? = f["content"] else { throw APIError.invalid("'content' must be a string", param: "content") }
        let ids = try encode(text)
        return jsonResponse(.dict(Value.Dictionary([("tokens", .list(ids.map { .int(Int($0)) }))])))
    }

    func detokenize(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let f = try await body(request)
        guard let ids = try tokenIDs(f["tokens"] ?? .list([]), param: "tokens") else {
            throw APIError.invalid("'tokens' must be a list of token ids", param: "tokens")
        }
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenBytes(id)) }
        return jsonResponse(.dict(Value.Dictionary([("content", .string(String(decoding: bytes, as: UTF8.self)))])))
    }

    func encode(_ text: String) throws -> [UInt32] {
        var ids: [UInt32] = []
        let encoder = served.tokenizer.makeEncoder()
        try Array(text.utf8).withUnsafeBufferPointer { try encoder.encode($0, special: .parse, into: &ids) }
        return ids
    }

    /// A token's text bytes (none for ids the tokenizer lacks).
    func tokenBytes(_ id: UInt32) -> UnsafeBufferPointer<UInt8> {
        served.tokenizer.hasToken(id) ? served.tokenizer.bytes(of: id) : UnsafeBufferPointer(start: nil, count: 0)
    }

    /// A list of ints as token ids, each inside the model's vocabulary; nil when `value` is not a list of ints.
    func tokenIDs(_ value: Value, param: String) throws(APIError) -> [UInt32]? {
        guard case .list(let items, _) = value else { return nil }
        var ids: [UInt32] = []
        for item in items {
            guard case .int(let i) = item else { return nil }
            guard i >= 0 && i < served.model.shape.vocabSize else {
                throw .invalid("token id \(i) is out of range: the model's vocabulary has \(served.model.shape.vocabSize) tokens", param: param)
            }
            ids.append(UInt32(i))
        }
        return ids
    }

    /// The request's sampling over the server's defaults (OpenAI's names and llama.cpp's).
    func sampling(_ f: RequestFields) throws(APIError) -> SamplingOptions {
        var o = served.defaults
        if let v = try f.number("temperature", in: 0...100) { o.temperature = Float(v) }
        if let v = try f.number("top_p", in: 0...1) { o.topP = v == 0 ? Float.leastNonzeroMagnitude : Float(v) }
        if let v = try f.int("top_k", in: 0...Int(Int32.max)) { o.topK = v }
        if let v = try f.number("min_p", in: 0...1) { o.minP = Float(v) }
        if let v = try f.number("presence_penalty", in: -2...2) { o.presencePenalty = Float(v) }
        if let v = try f.number("frequency_penalty", in: -2...2) { o.frequencyPenalty = Float(v) }
        if let v = try f.number("repeat_penalty", in: 0.0001...100) { o.repeatPenalty = Float(v) }
        if let v = try f.int("repeat_last_n", in: -1...Int(Int32.max)) { o.repeatLastN = v }
        if let v = try f.int("seed", in: Int.min...Int.max) { o.seed = UInt64(bitPattern: Int64(v)) }
        if let n = try f.int("n", in: 1...Int.max), n != 1 { throw .invalid("only n = 1 is supported", param: "n") }
        return o
    }

    var capacity: Int { configuration.contextSize }
}

/// `text` with each %XX replaced by its byte; nil when an escape is malformed or the bytes are not UTF-8.
func percentDecoded(_ text: String) -> String? {
    var bytes: [UInt8] = []
    var i = text.utf8.startIndex
    let utf8 = text.utf8
    while i < utf8.endIndex {
        let c = utf8[i]
        guard c == UInt8(ascii: "%") else {
            bytes.append(c)
            i = utf8.index(after: i)
            continue
        }
        let hex = utf8[utf8.index(after: i)...].prefix(2)
        guard hex.count == 2, let byte = UInt8(String(decoding: hex, as: UTF8.self), radix: 16) else { return nil }
        bytes.append(byte)
        i = utf8.index(i, offsetBy: 3)
    }
    return String(validating: bytes, as: UTF8.self)
}

/// One line per request on stderr: method, path, status, time.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    let log: @Sendable (String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = monotonicNanoseconds()
        let method = request.method.rawValue, path = request.uri.path
        do {
            let response = try await next(request, context)
            log("\(method) \(path) \(response.status.code) \(ProgressReporter.fixed(Double(monotonicNanoseconds() - start) * 1e-6, decimals: 1)) ms")
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log("\(method) \(path) \(status) \(ProgressReporter.fixed(Double(monotonicNanoseconds() - start) * 1e-6, decimals: 1)) ms")
            throw error
        }
    }
}
