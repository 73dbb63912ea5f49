package report

import (
	"github.com/tlsscope/tlsscope/decode/fingerprint"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// Registry names, all from decode/tls's tables.
var (
	versionName = tls.VersionName
	suiteName   = tls.CipherSuiteName
	alertName   = tls.AlertName
	groupName   = tls.GroupName
	isGREASE    = tls.IsGREASE
)

// knownClient labels a JA4 with a known client from decode/fingerprint's
// sourced table ("" when unknown).
var knownClient = fingerprint.KnownClient
