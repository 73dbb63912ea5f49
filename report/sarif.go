package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// SARIF 2.1.0 (OASIS), the subset code-scanning uploaders read: one rule per
// finding id, one result per finding located at the capture file and, as a
// logical location, the connection.

const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool      sarifTool       `json:"tool"`
	Artifacts []sarifArtifact `json:"artifacts"`
	Results   []sarifResult   `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Severity   string `json:"severity"`
	Connection uint64 `json:"connection"`
	Client     string `json:"client"`
	Server     string `json:"server"`
	SNI        string `json:"sni"`
	Evidence   string `json:"evidence"`
	Time       string `json:"time"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

// sarifRegion: a capture has no lines, but code-scanning uploaders expect
// a region with a startLine; line 1 anchors the alert on the file.
type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SARIFLevel maps a severity to a SARIF level.
func SARIFLevel(s facts.Severity) string {
	switch {
	case s >= facts.High:
		return "error"
	case s == facts.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub code scanning ranks
// security results by (critical >= 9.0, high >= 7.0, medium >= 4.0).
func securitySeverity(s facts.Severity) string {
	return [...]string{"0.0", "2.0", "5.0", "7.5", "9.5"}[min(int(s), 4)]
}

// ConnectionLabel names a connection as "client -> server (sni)".
func ConnectionLabel(client, server, sni string) string {
	l := client + " -> " + server
	if sni != "" {
		l += " (" + sni + ")"
	}
	return l
}

// artifactURI turns a capture name into a URI: relative (to the working
// directory, where code-scanning uploaders resolve paths in the
// repository) when it can be, a file: URI otherwise.
func artifactURI(name string) string {
	if filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, name); err == nil && !strings.HasPrefix(rel, "..") {
				name = rel
			}
		}
	}
	p := filepath.ToSlash(name)
	if filepath.IsAbs(name) {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).EscapedPath()
}

// WriteSARIF writes a SARIF 2.1.0 log with one run.
func WriteSARIF(w io.Writer, r *Result, _ Options) error {
	fs := r.Findings()
	driver := sarifDriver{Name: toolName(r), Version: r.Version, InformationURI: "https://github.com/tlsscope/tlsscope", Rules: []sarifRule{}}
	ruleIndex := map[string]int{}
	for i := range fs {
		f := &fs[i]
		if _, ok := ruleIndex[f.ID]; ok {
			continue
		}
		ru := r.rule(f.ID, f)
		ruleIndex[f.ID] = len(driver.Rules)
		title := ru.Title
		if title == "" {
			title = ru.ID
		}
		help := ru.Help
		if help == "" {
			help = title
		}
		md := help
		if ru.Reference != "" {
			help += "\n\nReference: " + ru.Reference
			md += "\n\nReference: " + ru.Reference
		}
		sr := sarifRule{
			ID: ru.ID, Name: ruleName(ru.ID),
			ShortDescription:     sarifText{Text: title},
			FullDescription:      sarifText{Text: help},
			Help:                 sarifText{Text: help, Markdown: md},
			DefaultConfiguration: sarifConfig{Level: SARIFLevel(ru.Severity)},
			Properties:           sarifRuleProps{Tags: []string{"security", "tls"}, SecuritySeverity: securitySeverity(ru.Severity), Precision: "high"},
		}
		if u, err := url.Parse(ru.Reference); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			sr.HelpURI = ru.Reference
		}
		driver.Rules = append(driver.Rules, sr)
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Artifacts: []sarifArtifact{}, Results: []sarifResult{}}
	artIndex := map[string]int{}
	for _, c := range r.Captures {
		artIndex[c.Name] = len(run.Artifacts)
		run.Artifacts = append(run.Artifacts, sarifArtifact{Location: sarifArtifactLocation{URI: artifactURI(c.Name)}})
	}
	for _, f := range fs {
		client, server := facts.Endpoint(f.Client), facts.Endpoint(f.Server)
		loc := sarifLocation{
			PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: artifactURI(f.Capture)}, Region: sarifRegion{StartLine: 1}},
			LogicalLocations: []sarifLogical{},
		}
		if i, ok := artIndex[f.Capture]; ok {
			loc.PhysicalLocation.ArtifactLocation.Index = &i
		}
		if server != "" {
			label := ConnectionLabel(client, server, f.SNI)
			loc.LogicalLocations = append(loc.LogicalLocations, sarifLogical{
				Name: label, FullyQualifiedName: fmt.Sprintf("%s#%d: %s", f.Capture, f.ConnID, label), Kind: "connection",
			})
		}
		msg := f.Message
		if f.Evidence != "" {
			msg += " (" + f.Evidence + ")"
		}
		if server != "" {
			msg += " on " + ConnectionLabel(client, server, f.SNI)
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.ID, RuleIndex: ruleIndex[f.ID], Level: SARIFLevel(f.Severity),
			Message:             sarifText{Text: msg},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"tlsscopeFinding/v1": f.Fingerprint()},
			Properties: sarifResultProps{
				Severity: f.Severity.String(), Connection: f.ConnID, Client: client, Server: server,
				SNI: f.SNI, Evidence: f.Evidence, Time: ts(f.Time),
			},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// ruleName turns "cert-expired" into "CertExpired", SARIF's name style.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
