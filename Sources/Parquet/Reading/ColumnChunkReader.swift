import QwenKitIO

/// Reads one flat column, one value per row, through the column chunks of successive row groups: page headers,
/// the chunk's dictionary page, data pages v1 and v2 (levels, then values), decompressed one page at a time.
///
/// Memory: one decompressed data page and one decoded dictionary page (its bytes and a table of its entries), in
/// buffers that grow to the largest page seen and are reused; an uncompressed page is read in place in the mapping.
/// Mapped pages of the file already read are released every `releaseStride` bytes, so that a pass over a file
/// larger than memory keeps its resident set flat.
///
/// Values: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY (RLE/bit-packed indices into the dictionary), and RLE for
/// BOOLEAN; definition levels in RLE/bit-packed form (a flat OPTIONAL column's maximum level is 1: 0 is a null).
/// Every size and index is checked before use; a problem is a `ParquetError.invalidPage` naming the page.
final class ColumnChunkReader {
    let file: ParquetFile
    let column: ParquetColumn
    private let isOptional: Bool
    private let kind: ValueKind
    private let decompressor = PageDecompressor()
    /// The decompressed data page.
    private let pageBuffer = GrowableBuffer<UInt8>()
    /// The decompressed dictionary page: BYTE_ARRAY entries point into it.
    private let dictionaryBuffer = GrowableBuffer<UInt8>()
    /// One per dictionary value: a BYTE_ARRAY's (offset << 32 | length) in `dictionaryBytes`, or a fixed-width
    /// value's bits.
    private let dictionaryEntries = GrowableBuffer<UInt64>()
    private var dictionaryBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    private var dictionaryCount = 0
    private var hasDictionary = false

    /// Mapped bytes already read are released in steps of this many.
    static let releaseStride = 4 << 20

    // The column chunk.
    private var rowGroup = 0
    private var chunk = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The file offset of `chunk[0]`.
    private var chunkStart = 0
    /// The next page header's offset in `chunk`.
    private var position = 0
    private var releasedUpTo = 0
    private var codec = ParquetCodec.uncompressed
    private var chunkValueCount = 0
    private var valuesLeftInChunk = 0
    private var sawDataPage = false

    // The current data page.
    /// Its header's file offset, for errors.
    private var pageOffset = 0
    /// Levels (rows) of the page not read yet.
    private var pageValuesLeft = 0
    private var levels = RLEHybridDecoder()
    private var encoding = ValueEncoding.plain
    /// PLAIN values.
    private var values = UnsafeRawBufferPointer(start: nil, count: 0)
    private var valuePosition = 0
    /// PLAIN booleans: the next bit in `values`.
    private var bitPosition = 0
    /// Dictionary indices, or RLE booleans.
    private var runs = RLEHybridDecoder()

    private enum ValueEncoding {
        case plain
        case dictionary
        case rleBoolean
    }

    init(file: ParquetFile, column: ParquetColumn) {
        self.file = file
        self.column = column
        self.isOptional = column.isOptional
        self.kind = column.kind
    }

    deinit {
        releaseRead(upTo: chunk.count)
    }

    // MARK: - Column chunks

    /// Why the chunk of `column` in row group `index` cannot be read, if it cannot: a codec this reader lacks, or a
    /// value count that is not the row count (a flat column has one value or null per row).
    static func check(_ file: ParquetFile, rowGroup index: Int, column: ParquetColumn) throws(ParquetError) {
        let group = file.rowGroups[index]
        let chunk = group.chunks[column.leafIndex]
        guard let codec = chunk.codec, codec.isSupported else {
            let name = chunk.codec?.name ?? "\(chunk.codecID) (not a codec the spec defines)"
            throw .unsupported(path: file.path, rowGroup: index, column: column.name,
                               feature: "codec \(name) (this reader has \(ParquetCodec.supportedNames))")
        }
        guard chunk.valueCount == group.rowCount else {
            throw .invalidRowGroup(path: file.path, rowGroup: index, column: column.name,
                                   reason: "the column chunk holds \(chunk.valueCount) values for the row group's \(group.rowCount) rows")
        }
    }

    /// Starts reading the column's chunk in row group `index` (checked with `check`).
    func start(rowGroup index: Int) throws(ParquetError) {
        try Self.check(file, rowGroup: index, column: column)
        releaseRead(upTo: chunk.count)
        let info = file.rowGroups[index].chunks[column.leafIndex]
        rowGroup = index
        chunk = UnsafeRawBufferPointer(rebasing: file.bytes[info.byteRange])
        chunkStart = info.byteRange.lowerBound
        position = 0
        releasedUpTo = 0
        codec = info.codec ?? .uncompressed
        chunkValueCount = info.valueCount
        valuesLeftInChunk = info.valueCount
        sawDataPage = false
        hasDictionary = false
        dictionaryCount = 0
        pageValuesLeft = 0
    }

    /// Drops the mapped pages of `chunk[releasedUpTo..<end]` from the resident set.
    private func releaseRead(upTo end: Int) {
        guard end > releasedUpTo else { return }
        MappedFile.releaseResidentPages(UnsafeRawBufferPointer(rebasing: chunk[releasedUpTo..<end]))
        releasedUpTo = end
    }

    // MARK: - Values

    /// The next row's BYTE_ARRAY value (nil for a null), valid until the next call or the next `start`.
    @inline(__always)
    func nextByteArray() throws(ParquetError) -> UnsafeBufferPointer<UInt8>? {
        if pageValuesLeft == 0 { try loadDataPage() }
        pageValuesLeft -= 1
        if isOptional {
            let level: UInt32
            do { level = try levels.next() } catch { throw pageError("definition levels: " + error.reason) }
            if level == 0 { return nil }
        }
        return try byteArrayValue()
    }

    /// The next row's value, for a column whose values render as JSON (not binary, not `.unsupported`).
    func nextValue() throws(ParquetError) -> ParquetValue {
        if pageValuesLeft == 0 { try loadDataPage() }
        pageValuesLeft -= 1
        if isOptional {
            let level: UInt32
            do { level = try levels.next() } catch { throw pageError("definition levels: " + error.reason) }
            if level == 0 { return .null }
        }
        switch kind {
        case .string:
            return .string(try byteArrayValue())
        case .boolean:
            return .boolean(try booleanValue())
        case .int32(let isSigned):
            let bits = UInt32(truncatingIfNeeded: try fixedValue(width: 4))
            return isSigned ? .int(Int64(Int32(bitPattern: bits))) : .unsignedInt(UInt64(bits))
        case .int64(let isSigned):
            let bits = try fixedValue(width: 8)
            return isSigned ? .int(Int64(bitPattern: bits)) : .unsignedInt(bits)
        case .float:
            let bits = UInt32(truncatingIfNeeded: try fixedValue(width: 4))
            return .float(Float(bitPattern: bits))
        case .double:
            let bits = try fixedValue(width: 8)
            return .double(Double(bitPattern: bits))
        case .binary:
            throw .unreadableColumn(path: file.path, column: column.name, reason: ValueKind.binaryReason)
        case .unsupported(let reason):
            throw .unreadableColumn(path: file.path, column: column.name, reason: reason)
        }
    }

    @inline(__always)
    private func byteArrayValue() throws(ParquetError) -> UnsafeBufferPointer<UInt8> {
        switch encoding {
        case .plain:
            let left = values.count - valuePosition
            guard left >= 4 else { throw pageError("the values end inside a BYTE_ARRAY length") }
            let base = values.baseAddress.unsafelyUnwrapped
            let length = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: valuePosition, as: UInt32.self)))
            guard length <= left - 4 else {
                throw pageError("a BYTE_ARRAY value of \(length) bytes runs past the end of the page (\(left - 4) bytes left)")
            }
            let start = valuePosition + 4
            valuePosition = start + length
            return UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: length)
        case .dictionary:
            let index = try dictionaryIndex()
            let entry = dictionaryEntries.pointer[index]
            let base = dictionaryBytes.baseAddress.unsafelyUnwrapped + Int(entry >> 32)
            return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: Int(entry & 0xFFFF_FFFF))
        case .rleBoolean:
            throw pageError("RLE values in a BYTE_ARRAY column")
        }
    }

    /// The next dictionary index, checked against the dictionary's size.
    @inline(__always)
    private func dictionaryIndex() throws(ParquetError) -> Int {
        let index: Int
        do { index = Int(try runs.next()) } catch { throw pageError("dictionary indices: " + error.reason) }
        guard index < dictionaryCount else {
            throw pageError("dictionary index \(index) is past the dictionary's \(dictionaryCount) values")
        }
        return index
    }

    /// The next INT32, INT64, FLOAT or DOUBLE as its bits (zero-extended).
    private func fixedValue(width: Int) throws(ParquetError) -> UInt64 {
        switch encoding {
        case .plain:
            guard values.count - valuePosition >= width else {
                throw pageError("the values end inside a \(column.physicalType.name) value")
            }
            let base = values.baseAddress.unsafelyUnwrapped
            let bits = width == 4
                ? UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: valuePosition, as: UInt32.self)))
                : UInt64(littleEndian: base.loadUnaligned(fromByteOffset: valuePosition, as: UInt64.self))
            valuePosition += width
            return bits
        case .dictionary:
            let index = try dictionaryIndex()
            return dictionaryEntries.pointer[index]
        case .rleBoolean:
            throw pageError("RLE values in a \(column.physicalType.name) column")
        }
    }

    private func booleanValue() throws(ParquetError) -> Bool {
        switch encoding {
        case .plain:
            let byte = bitPosition >> 3
            guard byte < values.count else { throw pageError("the values end inside the BOOLEAN bits") }
            let bit = values[byte] >> UInt8(bitPosition & 7) & 1
            bitPosition += 1
            return bit == 1
        case .rleBoolean:
            do { return try runs.next() == 1 } catch { throw pageError("RLE booleans: " + error.reason) }
        case .dictionary:
            throw pageError("dictionary-encoded BOOLEAN values")
        }
    }

    // MARK: - Pages

    /// Reads page headers until a data page with values: a dictionary page on the way is decoded, index pages and
    /// pages of types the spec does not define are skipped (their size is known).
    private func loadDataPage() throws(ParquetError) {
        while true {
            guard valuesLeftInChunk > 0 else {
                throw .invalidRowGroup(path: file.path, rowGroup: rowGroup, column: column.name,
                                       reason: "more rows than the column chunk's \(chunkValueCount) values")
            }
            guard position < chunk.count else {
                throw pageError("the column chunk ends after \(chunkValueCount - valuesLeftInChunk) of its \(chunkValueCount) values",
                                at: chunkStart + position)
            }
            if position - releasedUpTo >= Self.releaseStride { releaseRead(upTo: position) }
            let headerOffset = chunkStart + position
            pageOffset = headerOffset
            var reader = ThriftCompactReader(chunk, position: position)
            let header: PageHeader
            do { header = try PageHeader.decode(&reader) } catch {
                throw pageError("page header: " + error.reason, at: chunkStart + error.offset)
            }
            let bodyStart = reader.position
            let compressedSize = Int(header.compressedSize)
            guard compressedSize <= chunk.count - bodyStart else {
                throw pageError("page header claims \(compressedSize) bytes, past the end of the column chunk "
                    + "(\(chunk.count - bodyStart) bytes left)")
            }
            let pageSize = max(Int(header.uncompressedSize), codec == .uncompressed ? compressedSize : 0)
            guard pageSize <= file.limits.maximumPageBytes else {
                throw pageError("page of \(pageSize) bytes (uncompressed) is above the limit of \(file.limits.maximumPageBytes)")
            }
            let body = UnsafeRawBufferPointer(rebasing: chunk[bodyStart..<(bodyStart + compressedSize)])
            position = bodyStart + compressedSize
            switch ParquetPageType(rawValue: header.type) {
            case .dictionaryPage:
                try loadDictionary(header, body)
            case .dataPage:
                if try startDataPage(header, body) { return }
            case .dataPageV2:
                if try startDataPageV2(header, body) { return }
            case .indexPage, nil:
                continue
            }
        }
    }

    /// The page's bytes after decompression: `body` itself when the chunk is uncompressed, else `size` bytes in
    /// `buffer`.
    private func decompress(_ body: UnsafeRawBufferPointer, size: Int,
                            into buffer: GrowableBuffer<UInt8>) throws(ParquetError) -> UnsafeRawBufferPointer {
        if codec == .uncompressed { return body }
        let output = UnsafeMutableRawBufferPointer(buffer.reserve(size))
        do { try decompressor.decompress(codec, body, into: output) } catch { throw pageError(error.reason) }
        return UnsafeRawBufferPointer(output)
    }

    /// The page's value count, checked against the chunk.
    private func pageValueCount(_ count: Int32) throws(ParquetError) -> Int {
        guard Int(count) <= valuesLeftInChunk else {
            throw pageError("page holds \(count) values, but the column chunk has \(valuesLeftInChunk) left")
        }
        return Int(count)
    }

    /// DATA_PAGE: the levels and values are all inside the compressed body, each level run prefixed by its length.
    private func startDataPage(_ header: PageHeader, _ body: UnsafeRawBufferPointer) throws(ParquetError) -> Bool {
        guard let page = header.dataPage else { throw pageError("DATA_PAGE without a data_page_header") }
        let count = try pageValueCount(page.valueCount)
        if count == 0 { return false }
        let data = try decompress(body, size: Int(header.uncompressedSize), into: pageBuffer)
        var valuesStart = 0
        if isOptional {
            guard page.definitionLevelEncoding == ParquetEncoding.rle.rawValue else {
                throw unsupported("\(ParquetEncoding.name(of: page.definitionLevelEncoding)) definition levels "
                    + "(this reader has RLE)")
            }
            guard data.count >= 4 else { throw pageError("the page ends inside the definition levels' length") }
            let length = Int(UInt32(littleEndian: data.loadUnaligned(as: UInt32.self)))
            guard length <= data.count - 4 else {
                throw pageError("definition levels of \(length) bytes run past the end of the page (\(data.count - 4) bytes left)")
            }
            levels = RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[4..<(4 + length)]), bitWidth: 1)
            valuesStart = 4 + length
        }
        try startValues(page.encoding, UnsafeRawBufferPointer(rebasing: data[valuesStart...]))
        beginPage(count)
        return true
    }

    /// DATA_PAGE_V2: repetition and definition levels first, uncompressed and without length prefixes, then the
    /// values, compressed unless `is_compressed` is false.
    private func startDataPageV2(_ header: PageHeader, _ body: UnsafeRawBufferPointer) throws(ParquetError) -> Bool {
        guard let page = header.dataPageV2 else { throw pageError("DATA_PAGE_V2 without a data_page_header_v2") }
        let count = try pageValueCount(page.valueCount)
        if count == 0 { return false }
        let repetitionLength = Int(page.repetitionLevelsByteLength)
        let definitionLength = Int(page.definitionLevelsByteLength)
        let levelsLength = repetitionLength + definitionLength
        guard levelsLength <= body.count, levelsLength <= Int(header.uncompressedSize) else {
            throw pageError("levels of \(levelsLength) bytes in a page of \(body.count) (\(header.uncompressedSize) uncompressed)")
        }
        if isOptional {
            levels = RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: body[repetitionLength..<levelsLength]), bitWidth: 1)
        }
        let valueBody = UnsafeRawBufferPointer(rebasing: body[levelsLength...])
        let data = page.isCompressed
            ? try decompress(valueBody, size: Int(header.uncompressedSize) - levelsLength, into: pageBuffer)
            : valueBody
        try startValues(page.encoding, data)
        beginPage(count)
        return true
    }

    private func beginPage(_ count: Int) {
        pageValuesLeft = count
        valuesLeftInChunk -= count
        sawDataPage = true
    }

    /// Sets up the decoding of a data page's values, `data` (after the levels).
    private func startValues(_ encodingID: Int32, _ data: UnsafeRawBufferPointer) throws(ParquetError) {
        switch ParquetEncoding(rawValue: encodingID) {
        case .plain:
            encoding = .plain
            values = data
            valuePosition = 0
            bitPosition = 0
        case .plainDictionary, .rleDictionary:
            guard hasDictionary else { throw pageError("a dictionary-encoded data page, but the column chunk has no dictionary page") }
            // One byte of bit width, then the indices to the end of the page. (A page of nulls may hold nothing.)
            let bitWidth = data.isEmpty ? 0 : Int(data[0])
            guard bitWidth <= 32 else { throw pageError("dictionary indices of bit width \(bitWidth) (at most 32)") }
            encoding = .dictionary
            runs = RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[min(1, data.count)...]), bitWidth: bitWidth)
        case .rle where column.physicalType == .boolean:
            guard data.count >= 4 else { throw pageError("the page ends inside the RLE booleans' length") }
            let length = Int(UInt32(littleEndian: data.loadUnaligned(as: UInt32.self)))
            guard length <= data.count - 4 else {
                throw pageError("RLE booleans of \(length) bytes run past the end of the page (\(data.count - 4) bytes left)")
            }
            encoding = .rleBoolean
            runs = RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[4..<(4 + length)]), bitWidth: 1)
        default:
            throw unsupported("\(ParquetEncoding.name(of: encodingID)) encoding of \(column.physicalType.name) values "
                + "(this reader has PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, and RLE for BOOLEAN)")
        }
    }

    /// DICTIONARY_PAGE: PLAIN values, at most one per chunk, before its data pages.
    private func loadDictionary(_ header: PageHeader, _ body: UnsafeRawBufferPointer) throws(ParquetError) {
        guard let page = header.dictionaryPage else { throw pageError("DICTIONARY_PAGE without a dictionary_page_header") }
        guard !sawDataPage else { throw pageError("a dictionary page after a data page") }
        guard !hasDictionary else { throw pageError("a second dictionary page") }
        guard page.encoding == ParquetEncoding.plain.rawValue || page.encoding == ParquetEncoding.plainDictionary.rawValue else {
            throw unsupported("\(ParquetEncoding.name(of: page.encoding)) encoding of a dictionary page (this reader has PLAIN)")
        }
        let data = try decompress(body, size: Int(header.uncompressedSize), into: dictionaryBuffer)
        let count = Int(page.valueCount)
        switch column.physicalType {
        case .byteArray:
            // Every value takes at least its 4-byte length: this bounds the table before it is allocated.
            guard count <= data.count / 4 else {
                throw pageError("dictionary page claims \(count) values in \(data.count) bytes")
            }
            let entries = dictionaryEntries.reserve(count)
            var offset = 0
            for i in 0..<count {
                guard data.count - offset >= 4 else { throw pageError("the dictionary ends inside value \(i)'s length") }
                let length = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                guard length <= data.count - offset - 4 else {
                    throw pageError("dictionary value \(i) of \(length) bytes runs past the end of the page")
                }
                entries[i] = UInt64(offset + 4) << 32 | UInt64(length)
                offset += 4 + length
            }
        case .int32, .float, .int64, .double:
            let width = column.physicalType.plainWidth ?? 8
            guard count <= data.count / width else {
                throw pageError("dictionary page claims \(count) \(column.physicalType.name) values in \(data.count) bytes")
            }
            let entries = dictionaryEntries.reserve(count)
            for i in 0..<count {
                entries[i] = width == 4
                    ? UInt64(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    : UInt64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            }
        default:
            throw unsupported("a dictionary page for a \(column.physicalType.name) column")
        }
        dictionaryBytes = data
        dictionaryCount = count
        hasDictionary = true
    }

    // MARK: - Errors

    private func pageError(_ reason: String, at offset: Int? = nil) -> ParquetError {
        .invalidPage(path: file.path, rowGroup: rowGroup, column: column.name, offset: offset ?? pageOffset, reason: reason)
    }

    private func unsupported(_ feature: String) -> ParquetError {
        .unsupported(path: file.path, rowGroup: rowGroup, column: column.name, feature: feature)
    }
}

/// A buffer that grows to the largest size asked for and is reused; its contents do not survive a `reserve`.
final class GrowableBuffer<Element> {
    private(set) var pointer = UnsafeMutablePointer<Element>.allocate(capacity: 0)
    private var capacity = 0

    deinit { pointer.deallocate() }

    /// Room for `count` elements (uninitialized memory of a trivial type).
    func reserve(_ count: Int) -> UnsafeMutableBufferPointer<Element> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}
