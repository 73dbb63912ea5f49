package report

import (
	"encoding/json"
	"io"
)

// Document is the json format: the same records as ndjson, grouped.
type Document struct {
	Tool     string            `json:"tool"`
	Version  string            `json:"version"`
	Captures []CaptureDocument `json:"captures"`
	Findings []FindingRecord   `json:"findings"` // every capture's, most severe first
	Summary  SummaryRecord     `json:"summary"`
}

// CaptureDocument is one capture in the json format.
type CaptureDocument struct {
	Name        string             `json:"name"`
	Connections []ConnectionRecord `json:"connections"`
	HTTP        []HTTPRecord       `json:"http"`
	Anomalies   []AnomalyRecord    `json:"anomalies"`
	Summary     SummaryRecord      `json:"summary"`
}

// NewDocument builds the json document of r.
func NewDocument(r *Result, opt Options) Document {
	d := Document{Tool: toolName(r), Version: r.Version, Captures: []CaptureDocument{}, Findings: []FindingRecord{}}
	for _, c := range r.Captures {
		cd := CaptureDocument{Name: c.Name, Connections: []ConnectionRecord{}, HTTP: []HTTPRecord{}, Anomalies: []AnomalyRecord{}}
		idx := byConn(c.Findings)
		for _, conn := range c.Connections {
			cd.Connections = append(cd.Connections, NewConnectionRecord(conn, idx[conn.ID], opt))
			for _, m := range conn.HTTP {
				cd.HTTP = append(cd.HTTP, NewHTTPRecord(conn, m))
			}
		}
		for _, a := range c.Anomalies {
			cd.Anomalies = append(cd.Anomalies, NewAnomalyRecord(a))
		}
		cd.Summary = CaptureSummary(c)
		d.Captures = append(d.Captures, cd)
	}
	for _, f := range r.Findings() {
		d.Findings = append(d.Findings, NewFindingRecord(f))
	}
	d.Summary = TotalSummary(r)
	return d
}

// WriteJSON writes r as one indented JSON document.
func WriteJSON(w io.Writer, r *Result, opt Options) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(r, opt))
}
