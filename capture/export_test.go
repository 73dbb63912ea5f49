package capture

// PcapgoRecords switches uncompressed pcap files to reading their records
// through pcapgo (see pcapgoRecords) until the returned func is called.
func PcapgoRecords() (restore func()) {
	pcapgoRecords = true
	return func() { pcapgoRecords = false }
}
