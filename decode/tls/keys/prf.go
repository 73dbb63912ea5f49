package keys

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"hash"
)

// Labels of the TLS 1.0-1.2 PRF (RFC 5246, 8.1 and 6.3; RFC 7627, 4).
const (
	labelMasterSecret         = "master secret"
	labelExtendedMasterSecret = "extended master secret"
	labelKeyExpansion         = "key expansion"
)

// pHash is P_hash (RFC 5246, 5): HMAC_hash(secret, A(i) + seed) for
// A(0) = seed, A(i) = HMAC_hash(secret, A(i-1)), concatenated and cut to
// len(out) bytes, XORed into out (so that TLS 1.0's PRF can XOR P_MD5 and
// P_SHA-1 into one buffer; TLS 1.2 passes a zeroed out).
func pHash(h func() hash.Hash, secret []byte, out []byte, seed ...[]byte) {
	mac := hmac.New(h, secret)
	for _, s := range seed {
		mac.Write(s)
	}
	a := mac.Sum(nil) // A(1)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		for _, s := range seed {
			mac.Write(s)
		}
		b := mac.Sum(nil)
		n := min(len(b), len(out))
		for i := range n {
			out[i] ^= b[i]
		}
		out = out[n:]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0]) // A(i+1)
	}
}

// prf12 is the TLS 1.2 PRF (RFC 5246, 5): P_hash(secret, label + seed),
// with the suite's PRF hash (SHA-256, or SHA-384 for *_SHA384 suites).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	out := make([]byte, n)
	pHash(h, secret, out, []byte(label), seed)
	return out
}

// prf10 is the TLS 1.0 and 1.1 PRF (RFC 2246 and RFC 4346, 5): the
// secret's two halves (sharing the middle byte when its length is odd)
// key P_MD5 and P_SHA-1, whose outputs are XORed.
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	out := make([]byte, n)
	half := (len(secret) + 1) / 2
	pHash(md5.New, secret[:half], out, []byte(label), seed)
	pHash(sha1.New, secret[len(secret)-half:], out, []byte(label), seed)
	return out
}
