import DLMSWire

/// IEC 62056-5-3 standard XML representation of APDUs (namespace `http://www.dlms.com/COSEMpdu`).
public enum DLMSXML {
    public static let namespace = "http://www.dlms.com/COSEMpdu"
}
