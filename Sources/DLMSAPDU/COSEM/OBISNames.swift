// Names for OBIS codes (IEC 62056-6-1 / Blue Book DLMS UA 1000-1 chapter 7 "COSEM object identification system").
//
// Rather than a long flat list, electricity codes (A = 1) are named by value group: C = quantity (7.4.2, table
// "Value group C codes – Electricity": 1..20 Σ of phases, +20 for L1, +40 for L2, +60 for L3), D = processing
// (table "Value group D codes – Electricity": 7 instantaneous, 8 time integral 1, 6 maximum 1, ...), E = tariff
// rate (0 total, 1..63 rate) or harmonic for instantaneous values, F = billing period (255 current). Abstract codes
// (A = 0) are matched on C.D with E (and B) as wildcards where the Blue Book uses them as an instance number.
// Cross-checked against Gurux's `GXDLMSConverter` OBIS descriptions and the IDIS/DSMR object lists (event logs).

extension COSEM {
    static let obisNameCache = OBISNameCache()

    static func nameOBIS(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) -> String? {
        switch a {
        case 0: return abstractName(b, c, d, e, f)
        case 1: return electricityName(b, c, d, e, f)
        default: return nil
        }
    }

    // MARK: - Abstract objects (A = 0)

    static func abstractName(_ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) -> String? {
        guard f == 255 else {
            if c == 0, d == 1 { return "Billing period counter, historical value \(f)" }
            return nil
        }
        var base: String?
        switch (c, d) {
        case (0, 0): base = "COSEM logical device identifier"
        case (0, 1):
            base = e == 0 ? "Billing period counter" : e == 1 ? "Number of available billing periods" :
                e == 2 ? "Time stamp of the most recent billing period" : nil
        case (0, 2):
            base = ["Active firmware identifier", "Active firmware version", nil, nil, nil, nil, nil, nil,
                    "Active firmware signature"][cosemSafe: Int(e)] ?? nil
        case (0, 9):
            base = e == 1 ? "Local time" : e == 2 ? "Local date" : nil
        case (1, 0): base = e == 0 ? "Clock" : "Clock \(e)"
        case (1, 1): base = "Unix time"
        case (2, 0): base = "Modem configuration"
        case (2, 1): base = "Auto connect"
        case (2, 2): base = "Auto answer"
        case (10, 0):
            switch e {
            case 0: base = "Global meter reset script table"
            case 1: base = "MDI reset / end of billing period script table"
            case 100: base = "Tariffication script table"
            case 101: base = "Activate test mode script table"
            case 102: base = "Activate normal mode script table"
            case 103: base = "Set output signals script table"
            case 104: base = "Switch optical test output script table"
            case 105: base = "Power quality measurement management script table"
            case 106: base = "Disconnector script table"
            case 107: base = "Image activation script table"
            case 108: base = "Push script table"
            default: base = "Script table \(e)"
            }
        case (11, 0): base = "Special days table"
        case (12, 0): base = "Schedule"
        case (13, 0): base = "Activity calendar"
        case (14, 0): base = "Register activation"
        case (15, 0):
            let what = ["end of billing period", "disconnect control", "image activation", "output control", "push"]
            base = "Single action schedule" + (what[cosemSafe: Int(e)].map { " (\($0))" } ?? " \(e)")
        case (16, 0): base = "Register monitor"
        case (16, 1): base = "Alarm monitor"
        case (17, 0): base = "Limiter"
        case (19, 50...59): base = "Function control"
        case (20, 0): base = e == 0 ? "IEC optical port setup" : e == 1 ? "IEC electrical port setup" : nil
        case (22, 0): base = "IEC HDLC setup"
        case (23, 0): base = "IEC twisted pair (1) setup"
        case (24, 1): base = "M-Bus client"
        case (24, 2): base = "M-Bus value \(e)"
        case (24, 3): base = "M-Bus profile generic" + (e == 0 ? "" : " \(e)")
        case (24, 4): base = "M-Bus disconnect control"
        case (24, 5): base = "M-Bus control log"
        case (24, 6): base = "M-Bus master port setup"
        case (24, 8): base = "DLMS/COSEM server M-Bus port setup"
        case (24, 9): base = "M-Bus diagnostic"
        case (94, _): base = "Country-specific object \(d).\(e)"
        case (25, 0): base = "TCP-UDP setup"
        case (25, 1): base = "IPv4 setup"
        case (25, 2): base = "MAC address setup"
        case (25, 3): base = "PPP setup"
        case (25, 4): base = "GPRS modem setup"
        case (25, 5): base = "SMTP setup"
        case (25, 6): base = "GSM diagnostic"
        case (25, 7): base = "IPv6 setup"
        case (25, 9): base = "Push setup"
        case (25, 10): base = "NTP setup"
        case (25, 11): base = "LTE monitoring"
        case (26, 0): base = "Communication port protection"
        case (40, 0): base = e == 0 ? "Current association" : "Association \(e)"
        case (41, 0): base = "SAP assignment"
        case (42, 0): base = "COSEM logical device name"
        case (43, 0): base = "Security setup \(e)"
        case (43, 1): base = "Invocation counter (security setup \(e))"
        case (43, 2): base = "Data protection"
        case (44, 0): base = "Image transfer"
        case (44, 1): base = "Image transfer status"
        case (65, 0): base = "Utility tables"
        case (96, 1):
            base = e <= 9 ? "Device ID \(Int(e) + 1)" + (e == 0 ? " (manufacturing number)" : "") :
                e == 255 ? "Device IDs" : "Device ID, E=\(e)"
        case (96, 2): base = "Configuration change counter \(e)"
        case (96, 3):
            base = e == 10 ? "Disconnect control" : e == 20 ? "Arbitrator" : "I/O control signal \(e)"
        case (96, 5): base = "Internal operating status \(e)"
        case (96, 6): base = "Battery entry \(e)"
        case (96, 7): base = "Power failure monitoring \(e)"
        case (96, 10): base = "Status register \(e)"
        case (96, 11): base = "Event code (\(eventLogName(e)))"
        case (96, 12): base = "Communication port parameter \(e)"
        case (96, 13): base = "Consumer message \(e)"
        case (96, 14): base = "Currently active tariff \(e)"
        case (96, 15): base = "Event counter \(e)"
        case (96, 50...99): base = "Manufacturer-specific object"
        case (97, 97): base = "Error register \(e)"
        case (98, 1): base = "Data of billing period, scheme 1" + (e == 0 ? "" : " (\(e))")
        case (98, 2): base = "Data of billing period, scheme 2" + (e == 0 ? "" : " (\(e))")
        case (99, 1): base = "Load profile \(e)"
        case (99, 98): base = eventLogName(e)
        case (128...199, _), (_, 128...254): base = "Manufacturer-specific object"
        default: base = nil
        }
        guard let name = base else { return nil }
        return b == 0 ? name : "\(name), channel \(b)"
    }

    /// IDIS / DSMR event log numbering (E of 0.0.99.98.E.255 and 0.0.96.11.E.255).
    static func eventLogName(_ e: UInt8) -> String {
        switch e {
        case 0: "Standard event log"
        case 1: "Fraud detection event log"
        case 2: "Disconnector control event log"
        case 3: "M-Bus event log"
        case 4: "Power quality event log"
        case 5: "Communication event log"
        default: "Event log \(e)"
        }
    }

    // MARK: - Electricity (A = 1)

    static func electricityName(_ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) -> String? {
        var name: String
        switch c {
        case 0:
            switch (d, e) {
            case (0, _): name = "Electricity ID \(Int(e) + 1)"
            case (2, 0): name = "Active firmware identifier (metrology)"
            case (2, 8): name = "Active firmware signature (metrology)"
            case (3, _): name = "Meter constant \(e)"
            case (4, _): name = "Transformer / reading factor \(e)"
            case (8, _): name = "Measurement period \(e)"
            case (9, 1): name = "Local time"
            case (9, 2): name = "Local date"
            default: return nil
            }
        case 96: name = "Electricity-related service entry \(d).\(e)"
        case 97: name = "Electricity-related error register \(d).\(e)"
        case 98: name = "Electricity data of billing period \(d).\(e)"
        case 99:
            switch d {
            case 1: name = "Load profile 1" + (e == 0 ? "" : " (\(e))")
            case 2: name = "Load profile 2" + (e == 0 ? "" : " (\(e))")
            case 97: name = "Power failure event log"
            case 98: name = eventLogName(e)
            default: name = "Electricity profile \(d).\(e)"
            }
        case 1...80:
            guard let q = quantity(c), let p = processing(d) else { return nil }
            name = q.energyLike ? "\(q.kind) \(p.energy ? "energy" : "power") \(q.direction)" : q.kind
            if let phase = q.phase { name += " \(phase)" }
            if !p.label.isEmpty { name += ", \(p.label)" }
            if d == 7 || !q.energyLike {
                switch e {
                case 0: break
                case 1...120: name += ", harmonic \(e)"
                case 124: name += ", THD"
                case 125: name += ", TDD"
                case 126: name += ", all harmonics"
                case 127: name += ", all harmonics to nominal"
                default: name += ", E=\(e)"
                }
            } else {
                switch e {
                case 0: name += ", total"
                case 1...63: name += ", tariff \(e)"
                default: name += ", E=\(e)"
                }
            }
        case 81: name = "Angle \(d).\(e)"
        case 91: name = "Neutral current" + (d == 7 ? ", instantaneous" : "")
        case 92: name = "Neutral voltage" + (d == 7 ? ", instantaneous" : "")
        case 128...199: name = "Manufacturer-specific electricity object"
        default: return nil
        }
        if b != 0 { name += ", channel \(b)" }
        if f != 255 { name += ", historical value \(f)" }
        return name
    }

    /// Value group C for electricity, 1...80.
    static func quantity(_ c: UInt8) -> (kind: String, direction: String, energyLike: Bool, phase: String?)? {
        let phase: String? = switch (c - 1) / 20 {
        case 1: "L1"
        case 2: "L2"
        case 3: "L3"
        default: nil
        }
        let q = (c - 1) % 20 + 1
        switch q {
        case 1: return ("Active", "import (+A)", true, phase)
        case 2: return ("Active", "export (−A)", true, phase)
        case 3: return ("Reactive", "import (+R)", true, phase)
        case 4: return ("Reactive", "export (−R)", true, phase)
        case 5: return ("Reactive", "QI (+Ri)", true, phase)
        case 6: return ("Reactive", "QII (+Rc)", true, phase)
        case 7: return ("Reactive", "QIII (−Ri)", true, phase)
        case 8: return ("Reactive", "QIV (−Rc)", true, phase)
        case 9: return ("Apparent", "import (+VA)", true, phase)
        case 10: return ("Apparent", "export (−VA)", true, phase)
        case 11: return (phase == nil ? "Current, any phase" : "Current", "", false, phase)
        case 12: return (phase == nil ? "Voltage, any phase" : "Voltage", "", false, phase)
        case 13: return (phase == nil ? "Power factor, average" : "Power factor", "", false, phase)
        case 14: return ("Supply frequency", "", false, phase)
        case 15: return ("Active", "absolute (|+A|+|−A|)", true, phase)
        case 16: return ("Active", "net (+A − −A)", true, phase)
        case 17: return ("Active", "QI", true, phase)
        case 18: return ("Active", "QII", true, phase)
        case 19: return ("Active", "QIII", true, phase)
        case 20: return ("Active", "QIV", true, phase)
        default: return nil
        }
    }

    /// Value group D for electricity: the label and whether the value is an energy (a time integral).
    static func processing(_ d: UInt8) -> (label: String, energy: Bool)? {
        switch d {
        case 0: ("billing period average", false)
        case 1: ("cumulative minimum 1", false)
        case 2: ("cumulative maximum demand 1", false)
        case 3: ("minimum 1", false)
        case 4: ("current average demand 1", false)
        case 5: ("last average demand 1", false)
        case 6: ("maximum demand 1", false)
        case 7: ("instantaneous", false)
        case 8: ("", true)
        case 9: ("time integral 2", true)
        case 10: ("time integral 3", true)
        case 11: ("cumulative minimum 2", false)
        case 12: ("cumulative maximum demand 2", false)
        case 13: ("minimum 2", false)
        case 14: ("current average demand 2", false)
        case 15: ("last average demand 2", false)
        case 16: ("maximum demand 2", false)
        case 17: ("time integral 7", true)
        case 18: ("time integral 8", true)
        case 19: ("time integral 9", true)
        case 20: ("time integral 10", true)
        case 21: ("cumulative minimum 3", false)
        case 22: ("cumulative maximum demand 3", false)
        case 23: ("minimum 3", false)
        case 24: ("current average demand 3", false)
        case 25: ("last average demand 3", false)
        case 26: ("maximum demand 3", false)
        case 27: ("current average 5", false)
        case 28: ("current average 6", false)
        case 29: ("time integral 5", true)
        case 30: ("time integral 6", true)
        case 31: ("under limit threshold", false)
        case 32: ("under limit occurrence counter", false)
        case 33: ("under limit duration", false)
        case 34: ("under limit magnitude", false)
        case 35: ("over limit threshold", false)
        case 36: ("over limit occurrence counter", false)
        case 37: ("over limit duration", false)
        case 38: ("over limit magnitude", false)
        case 39: ("missing threshold", false)
        case 40: ("missing occurrence counter", false)
        case 41: ("missing duration", false)
        case 42: ("missing magnitude", false)
        case 55: ("test average", false)
        case 58: ("time integral 4", true)
        default: nil
        }
    }
}

/// The names of the codes that dominate real traffic (abstract objects with small instance numbers, electricity
/// quantities with the usual processing and tariffs 0...4, current values, channel 0), built once from the value
/// groups: an APDU decoder asks for the same few logical names over and over, and building a name costs a few
/// hundred nanoseconds. Other codes are named on each call. Immutable after its lazy, thread-safe initialisation.
struct OBISNameCache: Sendable {
    let names: [UInt64: String]

    init() {
        var names: [UInt64: String] = [:]
        func add(_ a: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8) {
            let code = UInt64(a) << 40 | UInt64(c) << 24 | UInt64(d) << 16 | UInt64(e) << 8 | 0xFF
            if let n = COSEM.nameOBIS(a, 0, c, d, e, 255) { names[code] = n }
        }
        let abstractC: [UInt8] = [0, 1, 2] + Array(10...26) + Array(40...44) + [65, 96, 97, 98, 99]
        for c in abstractC {
            for d in Array(0...15) + [97, 98] { for e in 0...10 { add(0, c, UInt8(d), UInt8(e)) } }
        }
        for e: UInt8 in [100, 101, 102, 103, 104, 105, 106, 107, 108] { add(0, 10, 0, e) }
        for c in 1...80 { for d: UInt8 in [2, 4, 5, 6, 7, 8, 9] { for e in 0...4 { add(1, UInt8(c), d, UInt8(e)) } } }
        for (d, e): (UInt8, UInt8) in [(2, 0), (2, 8), (9, 1), (9, 2)] { add(1, 0, d, e) }
        for d: UInt8 in [1, 2, 97, 98] { for e in 0...5 { add(1, 99, d, UInt8(e)) } }
        self.names = names
    }

    func name(_ code: UInt64) -> String? {
        if let hit = names[code] { return hit }
        let b = { (shift: UInt64) in UInt8(truncatingIfNeeded: code >> shift) }
        return COSEM.nameOBIS(b(40), b(32), b(24), b(16), b(8), b(0))
    }
}

private extension Array {
    subscript(cosemSafe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
