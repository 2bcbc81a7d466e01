import Testing
import DLMSWire

@Suite struct CRC16Tests {
    /// CRC-16/X.25 check value of "123456789" is 0x906E (the catalogue of parametrised CRC algorithms).
    @Test func checkValue() {
        #expect(CRC16.x25(Array("123456789".utf8)) == 0x906E)
    }

    /// The four-bytes-at-a-time path agrees with the bit-by-bit definition (reflected 0x8408, init and final XOR
    /// 0xFFFF) for every length from 0 to 64 and every alignment of the slice.
    @Test func slicingByFourMatchesTheBitwiseDefinition() {
        func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt16 {
            var crc: UInt16 = 0xFFFF
            for b in bytes {
                crc ^= UInt16(b)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x8408 : crc >> 1 }
            }
            return crc ^ 0xFFFF
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let data: [UInt8] = (0..<80).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for start in 0..<4 {
            for length in 0...64 {
                let slice = data[start..<(start + length)]
                #expect(CRC16.x25(slice) == bitwise(slice), "start \(start) length \(length)")
                #expect(CRC16.x25(Array(slice)) == bitwise(slice))
            }
        }
    }

    /// A SNRM frame from ../shared/captures/gurux/hdlc-none.pcap (Gurux client): 7E A0 07 03 21 93 0F 01 7E,
    /// HCS over format..control = 0x010F... here the FCS of a frame without information field covers the same bytes.
    @Test func gurux_RR_frame_fcs() throws {
        // 7ea00703217113c57e from hdlc-none truth (RR): FCS bytes 13 C5 (LSB first) over A0 07 03 21 71.
        let body: [UInt8] = [0xA0, 0x07, 0x03, 0x21, 0x71]
        #expect(CRC16.x25(body) == 0xC513)
    }
}

@Suite struct ByteReaderTests {
    @Test func readsAreTotal() {
        var r = ByteReader([0x01, 0x02, 0x03])
        #expect(r.readUInt16() == 0x0102)
        #expect(r.readUInt16() == nil)
        #expect(r.offset == 2)
        #expect(r.readUInt8() == 0x03)
        #expect(r.readUInt8() == nil)
    }

    @Test func axdrLengthForms() {
        var r = ByteReader([0x05, 0x81, 0x80, 0x82, 0x01, 0x00, 0x83])
        #expect(r.readAXDRLength() == 5)
        #expect(r.readAXDRLength() == 0x80)
        #expect(r.readAXDRLength() == 0x100)
        #expect(r.readAXDRLength() == nil)
        #expect(r.remaining == 1)
    }

    @Test func offsetsAreRelativeToTheSlice() {
        let whole: [UInt8] = [9, 9, 9, 1, 2]
        var r = ByteReader(whole[3...])
        #expect(r.offset == 0)
        _ = r.readUInt8()
        #expect(r.offset == 1)
        #expect(r.index == 4)
    }

    @Test func timestampFormatsRFC3339() {
        #expect(Timestamp(seconds: 1_709_294_400, micros: 42).rfc3339 == "2024-03-01T12:00:00.000042Z")
        #expect(Timestamp(seconds: 0, micros: 0).rfc3339 == "1970-01-01T00:00:00.000000Z")
    }
}
