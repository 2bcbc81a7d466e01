#!/usr/bin/env python3
"""Short-name APDUs and Gurux's STANDARD_XML for them (gurux-dlms 1.0.203 GXDLMSTranslator), for
XMLTranslatorSNTests. The first two APDUs are what GXDLMSClient(useLogicalNameReferencing=False) sends for
read(...) and write(...) of a Data object with short name 0xFA00 (without the wrapper header); the others are
responses and reports Gurux's translator reads. Regenerate: python3 gurux-sn.py > gurux-sn.jsonl"""
import json
from gurux_dlms import GXDLMSClient, GXDLMSTranslator, GXByteBuffer
from gurux_dlms.enums import InterfaceType, TranslatorOutputType, DataType
from gurux_dlms.objects import GXDLMSData

c = GXDLMSClient(False)
c.interfaceType = InterfaceType.WRAPPER
d = GXDLMSData("0.0.96.1.0.255")
d.shortName = 0xFA00
apdus = [GXByteBuffer.hex(c.read(d, 2)[0], False)[16:]]
d.value = 5
d.setDataType(2, DataType.UINT8)
apdus.append(GXByteBuffer.hex(c.write(d, 2)[0], False)[16:])
apdus += ["0C0100060000000A", "0C02010B0000", "0D02000103", "18000102FA00011105",
          "050202123404123801020406000000010600000002120001120000"]
t = GXDLMSTranslator(TranslatorOutputType.STANDARD_XML)
for h in apdus:
    print(json.dumps({"apdu_hex": h.replace(" ", "").lower(), "xml": t.pduToXml(GXByteBuffer.hexToBytes(h))}))
