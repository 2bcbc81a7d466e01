// swift-tools-version:6.0
import PackageDescription

// Layered as in ../shared/STYLE.md §8: C shims → wire primitives → capture → transport → APDU → security →
// session → render → analyzer → the thin `dlmsdump` executable. Everything below the executable is a library so
// the tests and the benchmark drive the same code.
// Release builds drop the run-time exclusivity checks (debug builds and the tests keep them): the analyzer's hot
// loop mutates state held by classes, and each such access cost a swift_beginAccess/endAccess pair (3.6 % of the
// benchmark's instructions). Bounds and overflow checks stay on: input is untrusted.
let releaseFlags: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "dlmsdump",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dlmsdump", targets: ["dlmsdump"]),
        .executable(name: "dlmsbench", targets: ["DLMSBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CLibcrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "DLMSWire", swiftSettings: releaseFlags),
        .target(name: "DLMSCapture", dependencies: ["DLMSWire", "CPcap"], swiftSettings: releaseFlags),
        .target(name: "DLMSTransport", dependencies: ["DLMSWire"], swiftSettings: releaseFlags),
        .target(name: "DLMSAPDU", dependencies: ["DLMSWire"], swiftSettings: releaseFlags),
        .target(name: "DLMSSecurity", dependencies: ["DLMSWire", "CLibcrypto"], swiftSettings: releaseFlags),
        .target(name: "DLMSSession", dependencies: ["DLMSWire", "DLMSTransport", "DLMSAPDU", "DLMSSecurity", "CLibcrypto"], swiftSettings: releaseFlags),
        .target(name: "DLMSRender", dependencies: ["DLMSWire", "DLMSAPDU", "DLMSSession"], swiftSettings: releaseFlags),
        // Security-log anomalies and audit reports: rules over the session's records.
        .target(name: "DLMSAnomaly", dependencies: ["DLMSWire", "DLMSAPDU", "DLMSSession"], swiftSettings: releaseFlags),
        // IEC 62056-5-3 standard XML: APDU bytes → XML and XML → APDU bytes (the `encode` command).
        .target(name: "DLMSXML", dependencies: ["DLMSWire", "DLMSAPDU", "DLMSSecurity"], swiftSettings: releaseFlags),
        .target(name: "DLMSAnalyzer",
                dependencies: ["DLMSWire", "DLMSCapture", "DLMSTransport", "DLMSAPDU", "DLMSSecurity",
                               "DLMSSession", "DLMSRender", "DLMSXML", "DLMSAnomaly"],
                swiftSettings: releaseFlags),
        .executableTarget(name: "dlmsdump", dependencies: [
            "DLMSAnalyzer", "DLMSCapture", "DLMSSession", "DLMSSecurity", "DLMSXML", "DLMSWire", "DLMSRender",
            "DLMSAnomaly",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: releaseFlags),
        .executableTarget(name: "DLMSBench", dependencies: ["DLMSAnalyzer", "DLMSCapture"], swiftSettings: releaseFlags),
        .testTarget(name: "DLMSWireTests", dependencies: ["DLMSWire"]),
        .testTarget(name: "DLMSCaptureTests", dependencies: ["DLMSCapture", "DLMSWire"]),
        .testTarget(name: "DLMSTransportTests", dependencies: ["DLMSTransport", "DLMSWire"]),
        .testTarget(name: "DLMSAPDUTests", dependencies: ["DLMSAPDU", "DLMSWire"], exclude: ["Vectors"]),
        .testTarget(name: "DLMSSecurityTests", dependencies: ["DLMSSecurity", "DLMSWire"], exclude: ["Vectors"]),
        .testTarget(name: "DLMSAnomalyTests", dependencies: ["DLMSAnomaly", "DLMSAnalyzer", "DLMSRender", "DLMSSession"]),
        .testTarget(name: "DLMSXMLTests", dependencies: ["DLMSXML", "DLMSAPDU", "DLMSWire"], exclude: ["Vectors"]),
        .testTarget(name: "DLMSSessionTests", dependencies: ["DLMSSession", "DLMSAPDU", "DLMSSecurity", "DLMSWire"],
                    exclude: ["Vectors"]),
        .testTarget(name: "DLMSAnalyzerTests", dependencies: ["DLMSAnalyzer", "DLMSRender", "DLMSSession"],
                    exclude: ["MeterFrames"]),
    ],
    swiftLanguageModes: [.v6]
)
