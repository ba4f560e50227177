import Testing
import TestSupport
@testable import Qwen2Runtime

@Suite struct SamplerTests {
    @Test func greedyPicksTheLowestIdAmongEqualMaxima() {
        let logits: [Float] = [0.5, 2, -1, 2, 1.5]
        var s = Sampler()
        #expect(logits.withUnsafeBufferPointer { s.sample($0) } == 1)
    }
}
