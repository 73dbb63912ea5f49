package report

import (
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// certRecord is the record of a certificate decode described.
func certRecord(ci facts.Certificate) CertRecord {
	r := CertRecord{
		Subject: ci.Subject, Issuer: ci.Issuer, Serial: ci.Serial,
		NotBefore: ci.NotBefore.UTC().Format(time.RFC3339), NotAfter: ci.NotAfter.UTC().Format(time.RFC3339),
		DNSNames: nonNil(ci.DNSNames), IPs: []string{},
		Key: ci.Key, Signature: ci.Signature, SHA256: ci.SHA256, SHA1: ci.SHA1,
		SelfSigned: ci.SelfSigned, IsCA: ci.IsCA,
	}
	for _, ip := range ci.IPs {
		r.IPs = append(r.IPs, ip.String())
	}
	return r
}

// commonName is the short form of a certificate subject for tables.
func commonName(c facts.Certificate) string {
	if c.SubjectCN != "" {
		return c.SubjectCN
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject
}
