package cleartext

import (
	"regexp"
	"strconv"
)

// Card numbers: 13-19 digits, optionally grouped by single spaces or
// dashes. Candidates must pass the Luhn check (ISO/IEC 7812-1 annex B) and
// start with a prefix an issuer uses, so that order numbers and timestamps
// are not reported.
var cardRe = regexp.MustCompile(`(?:^|[^0-9A-Za-z_.\-])((?:\d[ \-]?){12,18}\d)(?:$|[^0-9A-Za-z_\-])`)

// cardIssuer names the scheme of a card number by its IIN prefix, or "".
// Ranges: Visa 4; Mastercard 51-55 and 2221-2720; American Express 34, 37;
// Discover 6011, 644-649, 65; JCB 3528-3589; Diners Club 300-305, 36, 38;
// UnionPay 62.
func cardIssuer(d string) string {
	n := len(d)
	p := func(k int) int {
		v, _ := strconv.Atoi(d[:k])
		return v
	}
	switch {
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p(2) >= 51 && p(2) <= 55 || p(4) >= 2221 && p(4) <= 2720) && n == 16:
		return "mastercard"
	case (p(2) == 34 || p(2) == 37) && n == 15:
		return "amex"
	case (p(4) == 6011 || p(3) >= 644 && p(3) <= 649 || p(2) == 65) && n >= 16:
		return "discover"
	case p(4) >= 3528 && p(4) <= 3589 && n >= 16:
		return "jcb"
	case (p(3) >= 300 && p(3) <= 305 || p(2) == 36 || p(2) == 38) && n >= 14:
		return "diners"
	case p(2) == 62 && n >= 16:
		return "unionpay"
	}
	return ""
}

// luhn reports whether a digit string passes the Luhn check.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

type cardMatch struct{ issuer, text string }

// findCards returns the card numbers among the first maxCards candidates
// in the first maxScan bytes of text (both enforced here); more says
// there were other candidates.
func findCards(text string) (out []cardMatch, more bool) {
	if len(text) > maxScan {
		text, more = text[:maxScan], true
	}
	ms := cardRe.FindAllStringSubmatch(text, maxCards+1)
	if len(ms) > maxCards {
		ms, more = ms[:maxCards], true
	}
	for _, m := range ms {
		raw := m[1]
		d := digitsOnly(raw)
		if len(d) < 13 || len(d) > 19 || !luhn(d) || allSame(d) {
			continue
		}
		if is := cardIssuer(d); is != "" {
			out = append(out, cardMatch{is, raw})
		}
	}
	return out, more
}

func allSame(d string) bool {
	for i := 1; i < len(d); i++ {
		if d[i] != d[0] {
			return false
		}
	}
	return true
}

var emailRe = regexp.MustCompile(`(?:^|[^A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.){1,8}[A-Za-z]{2,24})\b`)

// findEmails returns up to maxMatches e-mail addresses in the first
// maxScan bytes of text (both enforced here); more says there were others.
func findEmails(text string) (out []string, more bool) {
	if len(text) > maxScan {
		text, more = text[:maxScan], true
	}
	ms := emailRe.FindAllStringSubmatch(text, maxMatches+1)
	if len(ms) > maxMatches {
		ms, more = ms[:maxMatches], true
	}
	for _, m := range ms {
		out = append(out, m[1])
	}
	return out, more
}

// US Social Security numbers written AAA-GG-SSSS. The SSA never issues
// area 000, 666 or 900-999, group 00 or serial 0000
// (https://www.ssa.gov/employer/randomization.html); those are skipped.
var ssnRe = regexp.MustCompile(`(?:^|[^0-9A-Za-z\-])(\d{3})-(\d{2})-(\d{4})(?:$|[^0-9A-Za-z\-])`)

// findSSNs returns the SSNs among the first maxMatches candidates in the
// first maxScan bytes of text (both enforced here); more says there were
// other candidates.
func findSSNs(text string) (out []string, more bool) {
	if len(text) > maxScan {
		text, more = text[:maxScan], true
	}
	ms := ssnRe.FindAllStringSubmatch(text, maxMatches+1)
	if len(ms) > maxMatches {
		ms, more = ms[:maxMatches], true
	}
	for _, m := range ms {
		area, group, serial := m[1], m[2], m[3]
		if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
			continue
		}
		out = append(out, area+"-"+group+"-"+serial)
	}
	return out, more
}
