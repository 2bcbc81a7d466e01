import DLMSWire
import Testing
@testable import DLMSSecurity

@Suite struct SecretKeyTests {
    let keyBytes = hex("000102030405060708090A0B0C0D0E0F")

    @Test func noPrintedFormShowsTheBytes() {
        let k = SecretKey(keyBytes)
        let forms = [String(describing: k), String(reflecting: k), "\(k)", "\([k])", "\(Optional(k) as Any)"]
        for text in forms {
            #expect(!text.contains("0001020304"), "\(text)")
            #expect(!text.contains("[0, 1, 2"), "\(text)")
        }
        #expect(k.description == "SecretKey(<redacted>, 16 bytes)")
        #expect(Mirror(reflecting: k).children.isEmpty)
    }

    @Test func copiesShareTheBytesAndOutliveTheOriginal() {
        var copy: SecretKey? = nil
        do {
            let k = SecretKey(keyBytes)
            copy = k
        }
        #expect(copy?.bytes == keyBytes)
        #expect(copy?.withUnsafeBytes { Array($0) } == keyBytes)
    }

    @Test func equalityComparesContentAndLength() {
        #expect(SecretKey(keyBytes) == SecretKey(keyBytes))
        #expect(SecretKey(keyBytes) != SecretKey(Array(keyBytes.dropLast())))
        var other = keyBytes
        other[15] ^= 1
        #expect(SecretKey(keyBytes) != SecretKey(other))
        #expect(SecretKey([]).count == 0 && SecretKey([]).bytes.isEmpty && SecretKey([]) == SecretKey([]))
    }
}
