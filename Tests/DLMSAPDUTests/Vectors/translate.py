#!/usr/bin/env python3
"""Cross-checks the hand-built APDU vectors of APDUVectorTests.swift with an independent implementation:
Gurux's translator (gurux-dlms 1.0.203 for Python, `GXDLMSTranslator(TranslatorOutputType.STANDARD_XML).pduToXml`).
Run: python3 translate.py > gurux-translations.txt  (the output is committed; tests do not need Python)."""
from gurux_dlms import GXDLMSTranslator, GXByteBuffer
from gurux_dlms.enums import TranslatorOutputType

VECTORS = [
    ("sn-read-request", "0502 02FA00 04FA08 02 0204 0600000001 060000000A 120001 120000"),
    ("sn-read-response", "0C02 00 0906 0000010000FF 01 04"),
    ("sn-write-request", "0601 02FA08 01 120005"),
    ("sn-write-response", "0D02 00 0103"),
    ("sn-unconfirmed-write-request", "1601 02FA08 01 1105"),
    ("sn-information-report-request", "18 00 01 02FA08 01 1105"),
    ("exception-response", "D8 01 02"),
    ("exception-response-ic", "D8 02 06 00000123"),
    ("confirmed-service-error", "0E 05 05 02"),
    ("event-notification-request", "C2 00 0008 0000010000FF 02 090C07E80301FF0C000000000000"),
    ("access-request", "D9 40000001 00 02 01 0008 0000010000FF 02 03 0046 0000600300FF 01 02 00 00"),
    ("access-response", "DA 40000001 00 00 02 090C07E80301FF0C000000000000 00 02 01 00 03 00"),
    ("get-request-next", "C002C100000002"),
    ("set-request-with-list", "C104C102 0001 0000600101FF 02 00 0001 0000600102FF 02 00 02 1200 05 1200 06"),
    ("set-response-with-list", "C505C1 02 00 03"),
    ("action-request-with-list", "C303C1 02 0046 0000600300FF 01 0046 0000600300FF 02 02 0F00 0F00"),
    ("action-response-with-list", "C703C1 02 00 00 00 01 01 0B"),
    ("action-request-with-first-pblock", "C304C1 0046 0000600300FF 01 00 00000001 03 0F0000"),
    ("action-response-with-pblock", "C702C1 01 00000001 03 0F0000"),
    ("action-response-next-pblock", "C704C1 00000001"),
    ("action-request-next-pblock", "C302C1 00000001"),
    ("get-response-with-list-error", "C403C1 02 01 04 00 1200FF"),
    ("get-response-normal-error", "C401C1 01 04"),
    ("general-block-transfer", "E0 C1 0002 0001 03 C401C1"),
]

if __name__ == "__main__":
    t = GXDLMSTranslator(TranslatorOutputType.STANDARD_XML)
    for name, h in VECTORS:
        try:
            xml = t.pduToXml(GXByteBuffer(h.replace(" ", "")))
        except Exception as e:  # the translator does not support every APDU
            xml = f"translator error: {type(e).__name__}: {e}"
        print(f"== {name}: {h}\n{xml.strip()}\n")
