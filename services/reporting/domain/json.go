package domain

import (
	"encoding/json"
	"fmt"
	"io"
)

// Exports carry only what a Report holds: counts, bands, dates and digests.
// Dimension keys are codes checked by [ReportFacts.Validate], so no free text
// from a request can reach a published page. JSON is the report's canonical
// form (an authority checks a published report by reading it back with
// [ReadJSON]); the CSV and HTML renderings live in reporting/adapters/export.
// WriteJSON writes the report as indented JSON with stable field names.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a report written by [WriteJSON], e.g. by an authority that
// wants to check a published report with [VerifyReport].
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	return &r, nil
}

// Figure is one published figure: a dimension ("total", "country", ...), a
// key within it and the value as published (a count, a band such as
// "0-249", a setting or a digest).
type Figure struct{ Dimension, Key, Value string }

// Figures lists every published figure in a stable order, the rows of a
// tabular export; [VerifyReport] compares the same list.
func (r *Report) Figures() []Figure {
	rows := r.rows()
	out := make([]Figure, len(rows))
	for i, row := range rows {
		out[i] = Figure{row.dimension, row.key, row.value}
	}
	return out
}
