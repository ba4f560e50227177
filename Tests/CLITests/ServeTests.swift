// `qwenkit serve` driven over HTTP on a loopback port: each endpoint's answer against the CLI's own (which the
// goldens pin to transformers), log-probabilities against the logits of `run --logits`, streaming, bad requests,
// and a clean stop on SIGTERM.

import ChatTemplate
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct ServeTests {
    static let model = CLI.repositoryPath("Fixtures/convert-golden/q2-untied.f32.gguf")
    static let greedy = #""temperature": 0, "repeat_penalty": 1"#

    static func json(_ text: String) throws -> Value.Dictionary {
        guard case .dict(let d) = try Value.json(text) else { throw CLITestError("not an object: \(text)") }
        return d
    }

    static func string(_ v: Value?) -> String? { if case .string(let s)? = v { return s }; return nil }

    @Test func endpointsAnswerAsTheCLIDoes() throws {
        let server = try ServerProcess([Self.model, "-t", "1"])
        defer { _ = server.stop() }
        let health = try server.request("GET", "/health")
        #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
        let models = try server.request("GET", "/v1/models")
        #expect(models.status == 200 && models.text.contains(#""id":"q2-untied.f32.gguf","object":"model""#), "\(models.text)")

        // tokenize / detokenize: the tokenizer encode uses.
        let tokenized = try server.request("POST", "/tokenize", body: #"{"content": "Hello, world!"}"#)
        let encoded = try CLI.run(["encode", "--tokenizer", CLI.repositoryPath("Fixtures/checkpoints/q2-untied")], stdin: .text("Hello, world!"))
        let ids = encoded.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: ",")
        #expect(tokenized.text == #"{"tokens":["# + ids + "]}", "\(tokenized.text)")
        let detokenized = try server.request("POST", "/detokenize", body: #"{"tokens": ["# + ids + "]}")
        #expect(detokenized.text == #"{"content":"Hello, world!"}"#)

        // Greedy completion from token ids: transformers' tokens (RunTests.transformersGreedy), as text.
        let completion = try server.request("POST", "/v1/completions",
                                            body: #"{"prompt": [257, 294, 268, 266, 33], "max_tokens": 4, "#  + Self.greedy + "}")
        let c = try Self.json(completion.text)
        guard case .list(let choices, _)? = c["choices"], case .dict(let choice)? = choices.first else { throw CLITestError(completion.text) }
        let decoded = try CLI.run(["decode", "--tokenizer", CLI.repositoryPath("Fixtures/checkpoints/q2-untied"), "--no-newline"],
                                  stdin: .text("204 51 184 17\n"))
        #expect(Self.string(choice["text"]) == decoded.stdoutText, "\(completion.text)")
        #expect(Self.string(choice["finish_reason"]) == "length")
        #expect(c["usage"]?.jsonText == #"{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}"#)
        #expect(Self.string(c["object"]) == "text_completion")

        // Chat: the model's template, as run --chat renders it.
        let chat = try server.request("POST", "/v1/chat/completions",
                                      body: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "# + Self.greedy + "}")
        let run = try CLI.run(["run", Self.model, "--chat", "--prompt", "Hi", "-n", "6", "-q", "--temp", "0", "--repeat-penalty", "1"])
        let answer = try Self.json(chat.text)
        guard case .list(let chatChoices, _)? = answer["choices"], case .dict(let first)? = chatChoices.first,
              case .dict(let message)? = first["message"] else { throw CLITestError(chat.text) }
        #expect(Self.string(message["content"]).map { $0 + "\n" } == run.stdoutText, "\(chat.text)\n\(run)")
        #expect(Self.string(message["role"]) == "assistant" && Self.string(answer["object"]) == "chat.completion")

        // The same streamed: role first, the text in pieces, the finish reason, [DONE].
        let streamed = try server.request("POST", "/v1/chat/completions",
                                          body: #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "stream": true, "# + Self.greedy + "}")
        #expect(streamed.headers["content-type"] == "text/event-stream")
        let events = streamed.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        var content = ""
        for event in events.dropLast() {
            let chunk = try Self.json(String(event.dropFirst("data: ".count)))
            guard case .list(let cs, _)? = chunk["choices"], case .dict(let ch)? = cs.first, case .dict(let delta)? = ch["delta"] else {
                throw CLITestError(event)
            }
            content += Self.string(delta["content"]) ?? ""
            #expect(Self.string(chunk["object"]) == "chat.completion.chunk")
        }
        #expect(content == Self.string(message["content"]))
        #expect(events.first?.contains(#""delta":{"role":"assistant","content":""}"#) == true)
        #expect(events.dropLast().last?.contains(#""finish_reason":"length""#) == true)

        let (status, log) = server.stop()
        #expect(status == 0, "\(log)")
        let requests = log.split(separator: "\n").filter { $0.hasPrefix("GET ") || $0.hasPrefix("POST ") }
        #expect(requests.count == 7 && requests.allSatisfy { $0.contains(" 200 ") }, "\(log)")
    }

    /// echo with max_tokens 0 (lm-eval's loglikelihood requests): each prompt token's log-probability is the
    /// log-softmax of `run --logits`'s previous row at that token, the top alternatives the row's largest.
    @Test func promptLogprobsAreTheLogSoftmaxOfTheLogits() throws {
        let prompt: [UInt32] = [257, 294, 268, 266, 33]
        let rows = try withTemporaryDirectory { dir -> [[Float]] in
            let run = try CLI.run(["run", Self.model, "--tokens", prompt.map(String.init).joined(separator: ","), "-n", "0", "-q",
                                   "--logits", dir + "/l.safetensors"])
            #expect(run.status == 0, "\(run)")
            let header = try safetensorsHeader(dir + "/l.safetensors")
            let logits = try #require(header["logits"] as? [String: Any])
            let offsets = try #require(logits["data_offsets"] as? [Int]), shape = try #require(logits["shape"] as? [Int])
            let bytes = try readFile(dir + "/l.safetensors")
            let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let data = Array(bytes[(8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])])
            let floats = stride(from: 0, to: data.count, by: 4).map {
                Float(bitPattern: UInt32(data[$0]) | UInt32(data[$0 + 1]) << 8 | UInt32(data[$0 + 2]) << 16 | UInt32(data[$0 + 3]) << 24)
            }
            return (0..<shape[0]).map { Array(floats[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
        }
        let server = try ServerProcess([Self.model, "-t", "1"])
        defer { _ = server.stop() }
        let response = try server.request("POST", "/v1/completions", body: #"{"prompt": [257, 294, 268, 266, 33], "max_tokens": 0, "echo": true, "logprobs": 3, "temperature": 0}"#)
        let c = try Self.json(response.text)
        guard case .list(let choices, _)? = c["choices"], case .dict(let choice)? = choices.first, case .dict(let lp)? = choice["logprobs"],
              case .list(let values, _)? = lp["token_logprobs"], case .list(let tops, _)? = lp["top_logprobs"] else {
            throw CLITestError(response.text)
        }
        #expect(values.count == 5 && values.first?.jsonText == "null" && tops.first?.jsonText == "null")
        for i in 1..<prompt.count {
            let row = rows[i - 1].map(Double.init)
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            guard case .float(let got) = values[i] else { Issue.record("position \(i): \(values[i])"); continue }
            #expect(abs(got - (row[Int(prompt[i])] - lse)) < 1e-5, "position \(i)")
            guard case .dict(let top) = tops[i] else { Issue.record("top \(i)"); continue }
            let best = row.max()! - lse
            #expect(top.entries.contains { if case .float(let v) = $0.value { return abs(v - best) < 1e-5 }; return false }, "top \(i)")
        }
        #expect(Self.string(choice["finish_reason"]) == "length")
    }

    @Test func badRequestsGet400AndTheServerStaysUp() throws {
        let server = try ServerProcess([Self.model, "-t", "1", "-c", "16"])
        defer { _ = server.stop() }
        func expect400(_ path: String, _ body: String, message: String, param: String?, code: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try server.request("POST", path, body: body)
            let expected = Value.dict(Value.Dictionary([("error", .dict(Value.Dictionary([
                ("message", .string(message)), ("type", .string("invalid_request_error")),
                ("param", param.map(Value.string) ?? .none), ("code", code.map(Value.string) ?? .none)])))]))
            #expect(r.status == 400 && r.text == expected.jsonText, "\(r.status) \(r.text)", sourceLocation: sourceLocation)
        }
        try expect400("/v1/completions", "{bad", message: "the body is not valid JSON: invalid JSON at byte 1: expected '\"', found 'b'", param: nil)
        try expect400("/v1/completions", "[1]", message: "the body must be a JSON object", param: nil)
        try expect400("/v1/completions", #"{"max_tokens": 1}"#, message: "'prompt' is required", param: "prompt")
        try expect400("/v1/completions", #"{"prompt": 5}"#,
                      message: "'prompt' must be a string, a list of strings, a list of token ids or a list of such lists", param: "prompt")
        try expect400("/v1/completions", #"{"prompt": [1, 999]}"#,
                      message: "token id 999 is out of range: the model's vocabulary has 320 tokens", param: "prompt")
        try expect400("/v1/completions", #"{"prompt": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]}"#,
                      message: "the prompt has 17 tokens, past the context of 16", param: "prompt", code: "context_length_exceeded")
        try expect400("/v1/completions", #"{"prompt": [1], "temperature": "hot"}"#, message: "'temperature' must be a number", param: "temperature")
        try expect400("/v1/completions", #"{"prompt": [1], "max_tokens": -1}"#, message: "'max_tokens' must be between 0 and 2147483647", param: "max_tokens")
        try expect400("/v1/completions", #"{"prompt": [1], "stop": 3}"#, message: "'stop' must be a string or a list of strings", param: "stop")
        try expect400("/v1/chat/completions", #"{"messages": []}"#, message: "'messages' must be a non-empty list", param: "messages")
        try expect400("/v1/chat/completions", #"{"messages": [{"content": "x"}]}"#,
                      message: "messages[0] must be an object with a string 'role'", param: "messages")
        try expect400("/detokenize", #"{"tokens": "x"}"#, message: "'tokens' must be a list of token ids", param: "tokens")
        #expect(try server.request("GET", "/nowhere").status == 404)
        #expect(try server.request("GET", "/health").status == 200)
        let (status, _) = server.stop()
        #expect(status == 0)
    }
}

extension ServeTests {
    /// A slot keeps its cache between requests and evaluates only what a new prompt adds: a prompt that extends the
    /// previous one, the same prompt again, and a different one answer as fresh runs do.
    @Test func promptPrefixesAreReused() throws {
        let server = try ServerProcess([Self.model, "-t", "1"])
        defer { _ = server.stop() }
        func complete(_ ids: [Int]) throws -> String? {
            let r = try server.request("POST", "/v1/completions", body: #"{"prompt": \#(ids), "max_tokens": 5, "# + Self.greedy + "}")
            guard case .list(let choices, _)? = try Self.json(r.text)["choices"], case .dict(let c)? = choices.first else { return nil }
            return Self.string(c["text"])
        }
        func run(_ ids: [Int]) throws -> String {
            let r = try CLI.run(["run", Self.model, "--tokens", ids.map(String.init).joined(separator: ","), "-n", "5", "-q",
                                 "--temp", "0", "--repeat-penalty", "1"])
            return String(r.stdoutText.dropLast())
        }
        let base = [257, 294, 268, 266, 33], longer = base + [40, 41, 42], other = [12, 13, 14]
        for prompt in [base, longer, longer, base, other, longer] {
            #expect(try complete(prompt) == run(prompt), "\(prompt)")
        }
    }
}

extension ServeTests {
    /// One slot and no queue: a request while the slot works gets 503 with OpenAI's error object, and the server
    /// answers again once the slot is free.
    @Test func aFullQueueAnswers503() throws {
        let server = try ServerProcess([Self.model, "-t", "1", "--parallel", "1", "--queue", "0"])
        defer { _ = server.stop() }
        let port = server.port
        let long = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var first: ServerProcess.HTTPResponse?
        // The long request may reach the server after a probe and be refused itself; it retries until it holds the
        // slot, so a probe's 503 (the probes are sequential) always means the long one is running.
        Thread.detachNewThread {
            for _ in 0..<100 {
                first = try? ServerProcess.request(port: port, "POST", "/v1/completions",
                                                   body: Array(#"{"prompt": [257, 294], "max_tokens": 500, "ignore_eos": true, "temperature": 0}"#.utf8))
                if first?.status != 503 { break }
                usleep(2_000)
            }
            long.signal()
        }
        var refused: ServerProcess.HTTPResponse?
        for _ in 0..<400 {
            usleep(5_000)
            let r = try server.request("POST", "/v1/completions", body: #"{"prompt": [1], "max_tokens": 1}"#)
            if r.status == 503 { refused = r; break }
        }
        long.wait()
        #expect(refused?.text == #"{"error":{"message":"the server is busy: every slot is working and the queue is full; retry later","type":"server_error","param":null,"code":"queue_full"}}"#,
                "\(refused.map { "\($0.status) \($0.text)" } ?? "never refused")")
        #expect(first?.status == 200 && first?.text.contains(#""completion_tokens":500"#) == true, "\(first?.text ?? "")")
        #expect(try server.request("POST", "/v1/completions", body: #"{"prompt": [1], "max_tokens": 1}"#).status == 200)
    }
}

extension ServeTests {
    /// --parallel 4 and four requests at once (three completions of different prompts and lengths, one streamed
    /// chat): the slots' tokens are decoded in batched steps, slots leave the batch as their budgets run out, and
    /// every answer is what `run` gives for its prompt alone.
    @Test func concurrentRequestsAnswerAsAlone() throws {
        let server = try ServerProcess([Self.model, "-t", "2", "--parallel", "4"])
        defer { _ = server.stop() }
        let port = server.port
        let prompts = [[257, 294, 268, 266, 33], [12, 13, 14], [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]]
        let lengths = [48, 64, 24]
        let bodies = zip(prompts, lengths).map { #"{"prompt": \#($0), "max_tokens": \#($1), "# + Self.greedy + "}" }
            + [#"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 40, "stream": true, "# + Self.greedy + "}"]
        nonisolated(unsafe) var responses = [ServerProcess.HTTPResponse?](repeating: nil, count: bodies.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: bodies.count) { i in
            let r = try? ServerProcess.request(port: port, "POST", i < prompts.count ? "/v1/completions" : "/v1/chat/completions",
                                               body: Array(bodies[i].utf8))
            lock.withLock { responses[i] = r }
        }
        for (i, prompt) in prompts.enumerated() {
            let r = try #require(responses[i])
            guard case .list(let choices, _)? = try Self.json(r.text)["choices"], case .dict(let c)? = choices.first else {
                Issue.record("\(r.status) \(r.text)")
                continue
            }
            let run = try CLI.run(["run", Self.model, "--tokens", prompt.map(String.init).joined(separator: ","), "-n", "\(lengths[i])", "-q",
                                   "--temp", "0", "--repeat-penalty", "1"])
            #expect(Self.string(c["text"]).map { $0 + "\n" } == run.stdoutText, "prompt \(i)")
        }
        let streamed = try #require(responses[3])
        var content = ""
        for event in streamed.text.components(separatedBy: "\n\n").filter({ !$0.isEmpty && $0 != "data: [DONE]" }) {
            guard case .list(let cs, _)? = try Self.json(String(event.dropFirst("data: ".count)))["choices"], case .dict(let ch)? = cs.first,
                  case .dict(let delta)? = ch["delta"] else { throw CLITestError(event) }
            content += Self.string(delta["content"]) ?? ""
        }
        let run = try CLI.run(["run", Self.model, "--chat", "--prompt", "Hi", "-n", "40", "-q", "--temp", "0", "--repeat-penalty", "1"])
        #expect(content + "\n" == run.stdoutText)
        #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))
    }
}

extension ServeTests {
    /// The `data:` events of a server-sent event stream, parsed; checks it ends with [DONE].
    static func events(_ r: ServerProcess.HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Value.Dictionary] {
        #expect(r.status == 200 && r.headers["content-type"] == "text/event-stream", "\(r.status) \(r.text)", sourceLocation: sourceLocation)
        let events = r.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]", sourceLocation: sourceLocation)
        return try events.dropLast().map { try json(String($0.dropFirst("data: ".count))) }
    }

    /// stream on /v1/completions: OpenAI's text_completion chunks whose texts join to the unstreamed answer, per
    /// prompt (choice index) with echo, a finish reason each; stream_options.include_usage adds a last chunk with the
    /// usage and no choices (and "usage": null in the others), on both endpoints.
    @Test func streamedCompletionsAndUsage() throws {
        let server = try ServerProcess([Self.model, "-t", "1"])
        defer { _ = server.stop() }
        let plain = try Self.json(try server.request("POST", "/v1/completions",
                                                     body: #"{"prompt": [[257, 294, 268, 266, 33], [12, 13, 14]], "max_tokens": 6, "echo": true, "# + Self.greedy + "}").text)
        guard case .list(let choices, _)? = plain["choices"] else { throw CLITestError("\(plain)") }
        let chunks = try Self.events(try server.request("POST", "/v1/completions", body:
            #"{"prompt": [[257, 294, 268, 266, 33], [12, 13, 14]], "max_tokens": 6, "echo": true, "stream": true, "stream_options": {"include_usage": true}, "# + Self.greedy + "}"))
        var texts = ["", ""], finishes: [String] = []
        for chunk in chunks.dropLast() {
            #expect(Self.string(chunk["object"]) == "text_completion" && chunk["usage"]?.jsonText == "null", "\(chunk)")
            guard case .list(let cs, _)? = chunk["choices"], cs.count == 1, case .dict(let c)? = cs.first,
                  case .int(let index)? = c["index"] else { throw CLITestError("\(chunk)") }
            texts[index] += Self.string(c["text"]) ?? ""
            if let finish = Self.string(c["finish_reason"]) { finishes.append("\(index) \(finish)") }
        }
        for (i, choice) in choices.enumerated() {
            guard case .dict(let c) = choice else { continue }
            #expect(texts[i] == Self.string(c["text"]), "choice \(i)")
        }
        #expect(finishes == ["0 length", "1 length"])
        #expect(chunks.last?["choices"]?.jsonText == "[]")
        #expect(chunks.last?["usage"]?.jsonText == #"{"prompt_tokens":8,"completion_tokens":12,"total_tokens":20}"#)

        // Without stream_options: no usage field at all.
        let bare = try Self.events(try server.request("POST", "/v1/completions", body: #"{"prompt": [1, 2], "max_tokens": 2, "stream": true}"#))
        #expect(bare.allSatisfy { $0["usage"] == nil } && bare.count >= 2)

        let chat = try Self.events(try server.request("POST", "/v1/chat/completions", body:
            #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "stream": true, "stream_options": {"include_usage": true}, "# + Self.greedy + "}"))
        #expect(chat.dropLast().allSatisfy { $0["usage"]?.jsonText == "null" && Self.string($0["object"]) == "chat.completion.chunk" })
        #expect(chat.last?["choices"]?.jsonText == "[]")
        guard case .dict(let usage)? = chat.last?["usage"] else { throw CLITestError("\(chat)") }
        #expect(usage["completion_tokens"]?.jsonText == "4")

        for (body, message, param) in [
            (#"{"prompt": [1], "stream_options": {"include_usage": true}}"#, "'stream_options' is only allowed when 'stream' is true", "stream_options"),
            (#"{"prompt": [1], "stream": true, "stream_options": 3}"#, "'stream_options' must be an object", "stream_options"),
            (#"{"prompt": [1], "stream": true, "stream_options": {"include_usage": "yes"}}"#, "'stream_options.include_usage' must be a boolean", "stream_options"),
            (#"{"prompt": [1], "stream": true, "logprobs": 2}"#, "'logprobs' is not supported with 'stream'", "logprobs"),
        ] {
            let r = try server.request("POST", "/v1/completions", body: body)
            #expect(r.status == 400 && r.text == #"{"error":{"message":"\#(message)","type":"invalid_request_error","param":"\#(param)","code":null}}"#, "\(r.text)")
        }
    }

    /// GET /v1/models/{id}: the model object for the served name (percent-decoded), 404 with OpenAI's error for another.
    @Test func modelByID() throws {
        let server = try ServerProcess([Self.model, "-t", "1", "--alias", "qwen/tiny model"])
        defer { _ = server.stop() }
        for path in ["/v1/models/qwen/tiny%20model", "/v1/models/qwen%2Ftiny%20model"] {
            let r = try server.request("GET", path)
            let object = try Self.json(r.text)
            #expect(r.status == 200 && Self.string(object["id"]) == "qwen/tiny model" && Self.string(object["object"]) == "model", "\(path): \(r.text)")
        }
        let models = try server.request("GET", "/v1/models")
        #expect(models.text.contains(#""id":"qwen/tiny model""#))
        let missing = try server.request("GET", "/v1/models/gpt-4")
        #expect(missing.status == 404 && missing.text == #"{"error":{"message":"the model 'gpt-4' does not exist; this server serves 'qwen/tiny model'","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#,
                "\(missing.text)")
        let malformed = try server.request("GET", "/v1/models/%zz")
        #expect(malformed.status == 404 && malformed.text.contains("the model '%zz' does not exist"), "\(malformed.text)")
    }
}
