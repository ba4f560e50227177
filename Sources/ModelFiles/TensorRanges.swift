/// Checks that no two non-empty byte ranges of a file's tensors overlap (both formats require it):
/// sorts by start and compares each range with the one before it.
func checkNoOverlap(_ ranges: [(name: String, range: Range<Int>)], path: String) throws(ModelFileError) {
    let ordered = ranges.filter { !$0.range.isEmpty }
        .sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
    for (previous, next) in zip(ordered, ordered.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
        throw .overlappingTensors(path: path, tensor: next.name, other: previous.name,
                                  begin: next.range.lowerBound, otherEnd: previous.range.upperBound)
    }
}
