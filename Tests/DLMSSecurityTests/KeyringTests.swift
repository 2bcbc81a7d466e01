import DLMSWire
import Foundation
import Testing
@testable import DLMSSecurity

@Suite struct KeyringTests {
    /// A private temporary directory for this test run.
    static func temporaryFile(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("dlmssecurity-tests-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    let guekHex = "3D908D11D38D178CB745CDCB31631DD0"
    let akHex = "2B1E6094279374209C9F3F19BE2E4393"

    @Test func aCompleteEntryLoadsEveryField() throws {
        let ec = try #require(ECTests.cases.first)
        let json = """
            {"keys": [{"label": "meter 1", "system_title": "4D4D4D0000BC614E", "suite": 1,
              "guek": "\(guekHex)", "gbek": "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
              "ak": "\(akHex)", "kek": "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
              "dedicated": null, "password": "12345678",
              "signing_public_key": \(jsonString(ec.a.public_pem)), "signing_private_key": "\(ec.a.scalar)",
              "agreement_public_key": "\(ec.b.public_point)", "agreement_private_key": \(jsonString(ec.b.sec1_pem))},
             {"label": "fallback", "guek": "\(guekHex)"}]}
            """
        let path = try Self.temporaryFile("complete.json", json)
        let k = try Keyring.load(path: path)
        #expect(k.warnings.isEmpty)
        try #require(k.entries.count == 2)
        let e = k.entries[0]
        #expect(e.label == "meter 1" && e.systemTitle == hex("4D4D4D0000BC614E") && e.suite == 1)
        #expect(e.guek?.bytes == hex(guekHex) && e.ak?.bytes == hex(akHex))
        #expect(e.gbek?.bytes == Array(0..<16) && e.kek?.count == 32 && e.dedicated == nil)
        #expect(e.password?.bytes == Array("12345678".utf8))
        #expect(e.signingPublicKey?.uncompressedPoint == hex(ec.a.public_point))
        #expect(e.signingPrivateKey?.publicKey.uncompressedPoint == hex(ec.a.public_point))
        #expect(e.agreementPublicKey?.uncompressedPoint == hex(ec.b.public_point))
        #expect(e.agreementPrivateKey?.scalar.bytes == hex(ec.b.scalar))
        #expect(e.origin == path)
        #expect(k.entries(forSystemTitle: hex("4D4D4D0000BC614E")).map(\.label) == ["meter 1"])
        #expect(k.entries(forSystemTitle: hex("4D4D4D0000BC614F")).isEmpty)
        #expect(k.entriesWithoutSystemTitle.map(\.label) == ["fallback"])
        #expect(k.candidates(forSystemTitle: hex("4D4D4D0000BC614E")).map(\.label) == ["meter 1", "fallback"])
        // Nothing secret in any printed form.
        for text in [String(describing: e), String(reflecting: e), "\(k.entries)", String(reflecting: k)] {
            #expect(!text.uppercased().contains(guekHex) && !text.uppercased().contains(akHex))
            #expect(!text.contains("12345678") && !text.lowercased().contains(ec.a.scalar))
        }
        #expect(e.description.contains("guek gbek ak kek password signing_public_key"))
    }

    @Test func everyCaptureKeyringLoadsInBothFormats() throws {
        var checked = 0
        for c in CaptureTruthTests.captures {
            let path = guruxCaptures.appendingPathComponent(c.name + ".keyring.json").path
            // capgen-keyring/1 directly (the committed files are mode 0644 in git: warnings are expected then).
            let k = try Keyring.parse(try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
            try #require(k.entries.count == 2, "\(c.name)")
            let server = try #require(k.entries.first)
            let serverTitle = (c.party("server")["system_title"] as? String).flatMap(Hex.decode)
            #expect(server.systemTitle == serverTitle)
            #expect(server.guek == c.key("guek") && server.ak == c.key("ak") && server.dedicated == c.key("dedicated"))
            if c.name.contains("ecdsa") {
                #expect(server.signingPublicKey != nil && server.signingPrivateKey != nil)
            }
            // and the project format, as tools/keyring.py writes it
            let converted = Keyring.convertCapgen(
                try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                    as? [String: Any]))
            let data = try JSONSerialization.data(withJSONObject: converted)
            let k2 = try Keyring.parse(data, source: "converted")
            #expect(k2.entries.map(\.systemTitle) == k.entries.map(\.systemTitle))
            checked += 1
        }
        #expect(checked >= 19)
    }

    @Test func aKeyringReadableByOthersLoadsWithAWarning() throws {
        let json = "{\"keys\": [{\"guek\": \"\(guekHex)\"}]}"
        let open = try Self.temporaryFile("open.json", json, mode: 0o644)
        let k = try Keyring.load(path: open)
        #expect(k.entries.count == 1)
        #expect(k.warnings.map(\.code) == ["keyring.permissions"])
        #expect(k.warnings.first?.message.contains(open) == true)
        #expect(k.warnings.first?.message.contains("644") == true)
        let closed = try Self.temporaryFile("closed.json", json, mode: 0o600)
        #expect(try Keyring.load(path: closed).warnings.isEmpty)
        let groupOnly = try Self.temporaryFile("group.json", json, mode: 0o640)
        #expect(try Keyring.load(path: groupOnly).warnings.count == 1)
    }

    /// Each bad keyring fails with the expected code, names file/entry/field, and never echoes key hex.
    struct BadCase: Sendable, CustomTestStringConvertible {
        let name: String, json: String, code: KeyringError.Code, field: String?, index: Int?
        var testDescription: String { name }
    }

    // A secret-looking value used in the bad inputs: it must never show up in a message.
    static let secretish = "A1B2C3D4E5F60718293A4B5C6D7E8F90"

    static let badCases: [BadCase] = [
        BadCase(name: "key too short", json: #"{"keys":[{"label":"m1","guek":"A1B2C3D4E5F60718293A4B5C6D7E8F"}]}"#,
                code: .badKey, field: "guek", index: 0),
        BadCase(name: "key not hex", json: #"{"keys":[{},{"label":"m2","ak":"A1B2C3D4E5F60718293A4B5C6D7E8F9Z"}]}"#,
                code: .badKey, field: "ak", index: 1),
        BadCase(name: "key odd digits", json: #"{"keys":[{"kek":"A1B2C3D4E5F60718293A4B5C6D7E8F901"}]}"#,
                code: .badKey, field: "kek", index: 0),
        BadCase(name: "key of wrong type", json: #"{"keys":[{"dedicated":12}]}"#, code: .wrongType,
                field: "dedicated", index: 0),
        BadCase(name: "system title", json: #"{"keys":[{"system_title":"A1B2C3D4E5F60718293A4B5C6D7E8F90"}]}"#,
                code: .badSystemTitle, field: "system_title", index: 0),
        BadCase(name: "suite", json: #"{"keys":[{"suite":3,"guek":"A1B2C3D4E5F60718293A4B5C6D7E8F90"}]}"#,
                code: .badSuite, field: "suite", index: 0),
        BadCase(name: "public key", json: #"{"keys":[{"signing_public_key":"04A1B2C3D4E5F60718293A4B5C6D7E8F90"}]}"#,
                code: .badECKey, field: "signing_public_key", index: 0),
        BadCase(name: "private key",
                json: #"{"keys":[{"agreement_private_key":"A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90FF"}]}"#,
                code: .badECKey, field: "agreement_private_key", index: 0),
        BadCase(name: "entry not an object", json: #"{"keys":["A1B2C3D4E5F60718293A4B5C6D7E8F90"]}"#,
                code: .invalidEntry, field: nil, index: 0),
        BadCase(name: "no keys", json: #"{"key":[{"guek":"A1B2C3D4E5F60718293A4B5C6D7E8F90"}]}"#,
                code: .missingKeys, field: nil, index: nil),
        BadCase(name: "broken JSON", json: #"{"keys":[{"guek":"A1B2C3D4E5F60718293A4B5C6D7E8F90",]}"#,
                code: .invalidJSON, field: nil, index: nil),
        BadCase(name: "not an object", json: #"["A1B2C3D4E5F60718293A4B5C6D7E8F90"]"#, code: .invalidJSON,
                field: nil, index: nil),
    ]

    @Test(arguments: badCases) func badKeyringsFailWithoutRevealingKeyMaterial(_ bad: BadCase) throws {
        let path = try Self.temporaryFile("bad-\(bad.name.replacingOccurrences(of: " ", with: "-")).json", bad.json)
        do {
            _ = try Keyring.load(path: path)
            Issue.record("loaded")
        } catch {
            #expect(error.code == bad.code)
            #expect(error.field == bad.field)
            #expect(error.entryIndex == bad.index)
            #expect(error.file == path)
            let text = error.description
            #expect(text.contains(path))
            if let f = bad.field { #expect(text.contains("\"\(f)\"")) }
            if let i = bad.index { #expect(text.contains("entry \(i)")) }
            if bad.json.contains("\"label\":\"m1\"") { #expect(text.contains("(\"m1\")")) }
            // No 8-hex-digit run of the value anywhere in the message.
            let upper = text.uppercased()
            for start in stride(from: 0, to: Self.secretish.count - 8, by: 2) {
                let i = Self.secretish.index(Self.secretish.startIndex, offsetBy: start)
                let fragment = String(Self.secretish[i..<Self.secretish.index(i, offsetBy: 8)])
                #expect(!upper.contains(fragment), "\(text)")
            }
        }
    }

    @Test func aMissingFileIsUnreadable() {
        #expect(throws: KeyringError(.unreadable, reason: "")) {
            try Keyring.load(path: "/nonexistent/dlmsdump/keyring.json")
        }
        #expect(throws: KeyringError(.unreadable, reason: "")) { try Keyring.load(path: "/tmp") }
    }

    @Test func unknownFieldsAreWarnedAboutNotFatal() throws {
        let k = try Keyring.parse(Data(#"{"keys":[{"label":"x","guek_typo":"00","guek":"\#(guekHex)"}]}"#.utf8))
        #expect(k.entries.count == 1)
        #expect(k.warnings.map(\.code) == ["keyring.unknown-field"])
        #expect(k.warnings.first?.message.contains("guek_typo") == true)
    }

    @Test func duplicateSystemTitlesAndSuiteKeyLengthMismatchesAreWarnedAbout() throws {
        let json = #"""
            {"keys":[{"label":"a","system_title":"4D4D4D0000BC614E","suite":2,"guek":"\#(guekHex)"},
                     {"label":"b","system_title":"4D4D4D0000BC614E","suite":0,"guek":"\#(guekHex)"}]}
            """#
        let k = try Keyring.parse(Data(json.utf8), source: "dup.json")
        #expect(k.warnings.map(\.code) == ["keyring.suite-key-length", "keyring.duplicate-system-title"])
        #expect(k.warnings[0].message.contains("entry 0 (\"a\")") && k.warnings[1].message.contains("entry 1 (\"b\")"))
        #expect(k.entries(forSystemTitle: hex("4D4D4D0000BC614E")).map(\.label) == ["a", "b"])
        for w in k.warnings { #expect(!w.message.uppercased().contains(guekHex.prefix(8))) }
    }

    @Test func keyOptionsParseAndRejectBadInputWithoutEchoingIt() throws {
        let (role, entry) = try Keyring.parseKeyOption("guek=\(guekHex)")
        #expect(role == "guek" && entry.guek?.bytes == hex(guekHex) && entry.systemTitle == nil)
        #expect(try Keyring.parseKeyOption("AK = 2B1E 6094 2793 7420 9C9F 3F19 BE2E 4393").entry.ak?.bytes == hex(akHex))
        #expect(try Keyring.parseKeyOption("password=abc=def").entry.password?.bytes == Array("abc=def".utf8))
        for bad in ["guek", "gek=\(guekHex)", "guek=\(guekHex.dropLast(2))", "ak=\(guekHex)XX"] {
            do {
                _ = try Keyring.parseKeyOption(bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(!error.description.contains(String(guekHex.prefix(10))), "\(error)")
            }
        }
        let k = try Keyring.fromKeyOptions(["guek=\(guekHex)", "ak=\(akHex)"])
        #expect(k.entries.count == 1 && k.entriesWithoutSystemTitle.first?.presentKeys == ["guek", "ak"])
    }

    @Test func mergingFillsInTheSamePartyAndAppendsOthers() throws {
        let st = hex("4D4D4D0000BC614E")
        var a = KeyEntry(label: "meter", systemTitle: st)
        a.guek = SecretKey(hex(guekHex))
        var b = KeyEntry(label: "meter again", systemTitle: st)
        b.ak = SecretKey(hex(akHex))
        b.guek = SecretKey(Array(0..<16))
        var other = KeyEntry(label: "other", systemTitle: hex("0102030405060708"))
        other.kek = SecretKey(Array(0..<16))
        var k = Keyring(entries: [a])
        k.merge(Keyring(entries: [b, other], warnings: [KeyringWarning(code: "w", message: "m")]))
        #expect(k.entries.count == 2)
        #expect(k.entries[0].ak?.bytes == hex(akHex) && k.entries[0].guek?.bytes == Array(0..<16))
        #expect(k.entries[0].label == "meter again")
        #expect(k.entries[1].label == "other" && k.warnings.count == 1)
        // Command-line keys (no system title) merge into one entry.
        let cli = try Keyring.fromKeyOptions(["guek=\(guekHex)"]).merged(with: Keyring.fromKeyOptions(["ak=\(akHex)"]))
        #expect(cli.entries.count == 1 && cli.entries[0].presentKeys == ["guek", "ak"])
    }

    func jsonString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data()
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
