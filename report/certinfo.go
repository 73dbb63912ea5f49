package report

import (
	"crypto/x509"
	"time"

	"github.com/tlsscope/tlsscope/decode/certs"
)

// certRecord describes a certificate with decode/certs.
func certRecord(c *x509.Certificate) CertRecord {
	ci := certs.Describe(c)
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
func commonName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return certs.Describe(c).Subject
}
