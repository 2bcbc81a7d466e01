import Testing
import DLMSWire

@Suite struct CRC16Tests {
    /// CRC-16/X.25 check value of "123456789" is 0x906E (the catalogue of parametrised CRC algorithms).
    @Test func checkValue() {
        #expect(CRC16.x25(Array("123456789".utf8)) == 0x906E)
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
