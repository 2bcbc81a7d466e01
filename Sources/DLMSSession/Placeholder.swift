import DLMSWire
