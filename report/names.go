package report

import (
	"github.com/tlsscope/tlsscope/decode/fingerprint"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Registry names, all from decode/tls's tables.
var (
	versionName = tls.VersionName
	suiteName   = cipherSuiteName
	alertName   = tls.AlertName
	groupName   = tls.GroupName
	isGREASE    = tls.IsGREASE
)

// knownClient labels a JA4 with a known client from decode/fingerprint's
// sourced table ("" when unknown).
var knownClient = fingerprint.KnownClient

// suiteNames indexes decode/tls's suite table by id: a connection record
// names every suite the client offered, and a map lookup costs a fraction
// of the table's binary search.
var suiteNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, s := range tls.CipherSuites() {
		m[s.ID] = s.Name
	}
	return m
}()

// cipherSuiteName is tls.CipherSuiteName.
func cipherSuiteName(id uint16) string {
	if n, ok := suiteNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}
