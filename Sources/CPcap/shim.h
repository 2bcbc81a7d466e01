#ifndef DLMSDUMP_CPCAP_SHIM_H
#define DLMSDUMP_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
