package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// yamlOptions writes every string double-quoted with JSON's escapes (see
// Marshal).
func yamlOptions() []yaml.EncodeOption {
	return []yaml.EncodeOption{yaml.IndentSequence(true), yaml.CustomMarshaler[string](func(s string) ([]byte, error) { return json.Marshal(s) })}
}

// Merge returns the policy file base with add's suppressions appended to
// its suppress list (one is started at the end when it has none), every
// other setting, reason and comment kept: what tlsscope baseline writes
// over an existing policy. The result is checked with Parse, so a base
// that does not read back as a policy is refused rather than rewritten.
func Merge(base []byte, add []Suppression) (out []byte, err error) {
	if _, err := Parse(base); err != nil {
		return nil, err
	}
	if len(add) == 0 {
		return base, nil
	}
	defer func() { // the YAML library may panic on odd documents (see Parse)
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("merging into the policy: the YAML library failed (%v)", r)
		}
	}()
	f, err := parser.ParseBytes(base, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	path, err := yaml.PathString("$.suppress")
	if err != nil {
		return nil, err
	}
	var existing []Suppression
	err = path.Read(bytes.NewReader(base), &existing)
	if yaml.IsNotFoundNodeError(err) {
		// No suppress list: start one after the rest of the file.
		tail, err := yaml.MarshalWithOptions(struct {
			Suppress []Suppression `yaml:"suppress"`
		}{add}, yamlOptions()...)
		if err != nil {
			return nil, err
		}
		out = bytes.TrimRight(base, "\n")
		if len(out) > 0 {
			out = append(out, '\n')
		}
		return checked(append(out, tail...), len(add))
	}
	if err != nil {
		return nil, err
	}
	seq, err := yaml.MarshalWithOptions(add, yamlOptions()...)
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 { // "suppress: []" or a bare "suppress:"
		if err := path.ReplaceWithReader(f, bytes.NewReader(seq)); err != nil {
			return nil, err
		}
	} else if err := path.MergeFromReader(f, bytes.NewReader(seq)); err != nil {
		return nil, err
	}
	return checked(append(bytes.TrimRight([]byte(f.String()), "\n"), '\n'), len(existing)+len(add))
}

// checked makes sure a merged policy reads back with n suppressions.
func checked(b []byte, n int) ([]byte, error) {
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("merging into the policy: %w", err)
	}
	if len(p.Suppress) != n {
		return nil, fmt.Errorf("merging into the policy: %d suppressions read back, want %d", len(p.Suppress), n)
	}
	return b, nil
}

// BaselineFile is the policy file tlsscope baseline writes: a baseline of
// fs (Baseline), on its own or, when base names a policy file, merged
// into it (Merge); and what it holds, for the line the command prints
// ("2 suppressions", "1 new suppression, merged into policy.yaml").
func BaselineFile(base string, fs []facts.Finding, today time.Time) (b []byte, summary string, err error) {
	p := Baseline(fs, today)
	n := len(p.Suppress)
	noun := "suppressions"
	if n == 1 {
		noun = "suppression"
	}
	if base == "" {
		b, err = p.Marshal()
		return b, fmt.Sprintf("%d %s", n, noun), err
	}
	if b, err = os.ReadFile(base); err == nil {
		b, err = Merge(b, p.Suppress)
	}
	if err != nil {
		return nil, "", fmt.Errorf("merging into %s: %w", base, err)
	}
	return b, fmt.Sprintf("%d new %s, merged into %s", n, noun, base), nil
}
