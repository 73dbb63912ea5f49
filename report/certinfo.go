package report

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
)

// certInfo is what the formats print about a certificate.
type certInfo struct {
	Subject, Issuer, Serial string
	NotBefore, NotAfter     string // RFC 3339
	DNSNames                []string
	Key, Signature, SHA256  string
}

func describeCert(c *x509.Certificate) certInfo {
	sum := sha256.Sum256(c.Raw)
	ci := certInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC().Format("2006-01-02T15:04:05Z07:00"),
		NotAfter:  c.NotAfter.UTC().Format("2006-01-02T15:04:05Z07:00"),
		DNSNames:  c.DNSNames,
		Signature: c.SignatureAlgorithm.String(),
		SHA256:    hex.EncodeToString(sum[:]),
		Key:       keyName(c),
	}
	if c.SerialNumber != nil {
		ci.Serial = fmt.Sprintf("%x", c.SerialNumber)
	}
	if ci.DNSNames == nil {
		ci.DNSNames = []string{}
	}
	return ci
}

func keyName(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// commonName is the short form of a certificate subject for tables.
func commonName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject.String()
}
