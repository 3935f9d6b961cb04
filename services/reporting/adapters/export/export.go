// Package export renders a transparency report for publication: a CSV of
// every figure and a self-contained HTML page with charts. Rendering is
// presentation, not policy, so it lives here and not in the domain, which
// owns the report model and its canonical JSON (domain.WriteJSON).
package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// Format is a rendering of a report.
type Format int

// The formats a report is rendered in.
const (
	JSON Format = iota
	CSV
	HTML
)

// Render writes rep in f and returns the bytes and their MIME type.
func Render(rep *domain.Report, f Format) ([]byte, string, error) {
	var (
		buf bytes.Buffer
		ct  string
		err error
	)
	switch f {
	case JSON:
		ct, err = "application/json", domain.WriteJSON(&buf, rep)
	case CSV:
		ct, err = "text/csv; charset=utf-8", WriteCSV(&buf, rep)
	case HTML:
		ct, err = "text/html; charset=utf-8", WriteHTML(&buf, rep)
	default:
		return nil, "", fmt.Errorf("export: unknown format %d", f)
	}
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), ct, nil
}

// WriteCSV writes one row per published figure: dimension, key, value. The
// value is a count, a band ("0-249") for national security, or for the
// "report" and "digest" rows a setting or a digest.
func WriteCSV(w io.Writer, r *domain.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"dimension", "key", "value"}); err != nil {
		return err
	}
	for _, f := range r.Figures() {
		if err := cw.Write([]string{f.Dimension, f.Key, f.Value}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Chart geometry, in SVG user units.
const (
	chartLabelWidth = 220
	chartBarMax     = 380
	chartRowHeight  = 26
	chartBarHeight  = 18
)

type htmlBar struct {
	Label       string
	Count       int
	Y, TextY, W int
	TextX       int
}

type htmlChart struct {
	ID, Title, Desc string
	Height          int
	Bars            []htmlBar
}

type htmlView struct {
	Title, PeriodRange, Generated string
	R                             *domain.Report
	Totals                        []domain.KeyCount
	Charts                        []htmlChart
	NSRequests, NSAccounts        string
	NSAvailable                   string
}

func chart(id, title string, kc []domain.KeyCount, label func(string) string) htmlChart {
	c := htmlChart{ID: id, Title: title, Height: max(1, len(kc)) * chartRowHeight}
	peak, total := 0, 0
	for _, k := range kc {
		peak = max(peak, k.Count)
		total += k.Count
	}
	c.Desc = fmt.Sprintf("Bar chart of %d requests in %d categories; the table below gives the same figures.", total, len(kc))
	for i, k := range kc {
		w := 0
		if peak > 0 {
			w = k.Count * chartBarMax / peak
		}
		y := i * chartRowHeight
		c.Bars = append(c.Bars, htmlBar{
			Label: label(k.Key), Count: k.Count, Y: y + (chartRowHeight-chartBarHeight)/2,
			TextY: y + chartRowHeight/2 + 5, W: w, TextX: chartLabelWidth + w + 6,
		})
	}
	return c
}

func processLabel(k string) string {
	switch k {
	case "none":
		return "No legal process"
	case "mlat_request":
		return "MLAT request"
	}
	s := strings.ReplaceAll(k, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func outcomeLabel(k string) string {
	var o domain.Outcome
	if o.UnmarshalText([]byte(k)) != nil {
		return k
	}
	return o.Label()
}

// WriteHTML writes a self-contained page (no scripts, fonts or images from
// elsewhere) to publish on the company website: figures, an inline SVG bar
// chart per breakdown with a table of the same figures for screen readers
// and for copying, the national security bands, the notes and the digest.
func WriteHTML(w io.Writer, r *domain.Report) error {
	v := htmlView{
		Title: "Transparency report: government data requests, " + r.Period.String(),
		PeriodRange: r.Period.Start().Format("2 January 2006") + " – " +
			r.Period.End().AddDate(0, 0, -1).Format("2 January 2006"),
		Generated: r.GeneratedAt.UTC().Format(time.DateOnly),
		R:         r,
		Totals: []domain.KeyCount{
			{Key: "Requests received", Count: r.Totals.Requests},
			{Key: "Accounts specified", Count: r.Totals.AccountsSpecified},
			{Key: "Emergency requests", Count: r.Totals.Emergency},
			{Key: "Customers notified", Count: r.Totals.CustomersNotified},
			{Key: "Data protection authority consultations", Count: r.Totals.DPAConsultations},
			{Key: "Requests under a non-disclosure (gag) order", Count: r.Totals.UnderGag},
		},
		Charts: []htmlChart{
			chart("by-outcome", "Requests by outcome", r.ByOutcome, outcomeLabel),
			chart("by-legal-process", "Requests by type of legal process", r.ByLegalProcess, processLabel),
			chart("by-country", "Requests by country of the requesting authority", r.ByCountry, func(k string) string { return k }),
		},
		NSAvailable: r.NationalSecurity.AvailableFrom.UTC().Format("2 January 2006"),
	}
	if b := r.NationalSecurity.Requests; b != nil {
		v.NSRequests = strconv.Itoa(b.From) + "–" + strconv.Itoa(b.To)
	}
	if b := r.NationalSecurity.AccountsSpecified; b != nil {
		v.NSAccounts = strconv.Itoa(b.From) + "–" + strconv.Itoa(b.To)
	}
	return reportPage.Execute(w, v)
}

var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:860px;padding:1.5rem;color:#1b1b1b;background:#fff;line-height:1.5}
h1{font-size:1.7rem;margin-bottom:.2rem}
h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:50%}
th,td{padding:.25rem .75rem;border-bottom:1px solid #e3e3e3;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
svg{max-width:100%;height:auto;display:block}
.bar{fill:#1f5fa8}
.lbl{font-size:13px;fill:#1b1b1b}
.cnt{font-size:13px;fill:#1b1b1b;font-weight:600}
.meta{color:#555}
code{word-break:break-all}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="meta">Requests from law enforcement and other government authorities received {{.PeriodRange}} (UTC). Generated {{.Generated}}.</p>

<section aria-labelledby="totals">
<h2 id="totals">Summary</h2>
<table>
<caption>Figures for {{.R.Period}}</caption>
<thead><tr><th scope="col">Measure</th><th scope="col">Count</th></tr></thead>
<tbody>
{{- range .Totals}}
<tr><th scope="row">{{.Key}}</th><td class="n">{{.Count}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{range .Charts}}
<section aria-labelledby="{{.ID}}">
<h2 id="{{.ID}}">{{.Title}}</h2>
<svg role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc" viewBox="0 0 680 {{.Height}}" width="680" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{- range .Bars}}
<text class="lbl" x="0" y="{{.TextY}}">{{.Label}}</text>
<rect class="bar" x="220" y="{{.Y}}" width="{{.W}}" height="18"></rect>
<text class="cnt" x="{{.TextX}}" y="{{.TextY}}">{{.Count}}</text>
{{- end}}
</svg>
<table>
<caption>{{.Title}} (table)</caption>
<thead><tr><th scope="col">Category</th><th scope="col">Requests</th></tr></thead>
<tbody>
{{- range .Bars}}
<tr><th scope="row">{{.Label}}</th><td class="n">{{.Count}}</td></tr>
{{- else}}
<tr><td colspan="2">No requests</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{end}}
<section aria-labelledby="national-security">
<h2 id="national-security">National security process</h2>
{{- if eq .R.NationalSecurity.Status "reported"}}
<table>
<caption>Reported in bands of {{.R.Config.BandWidth}}</caption>
<thead><tr><th scope="col">Measure</th><th scope="col">Band</th></tr></thead>
<tbody>
<tr><th scope="row">Requests</th><td class="n">{{.NSRequests}}</td></tr>
<tr><th scope="row">Accounts specified</th><td class="n">{{.NSAccounts}}</td></tr>
</tbody>
</table>
{{- else}}
<p>Not yet reportable: figures for this period may be published from {{.NSAvailable}}.</p>
{{- end}}
</section>

<section aria-labelledby="notes">
<h2 id="notes">Notes</h2>
<ul>
{{- range .R.Notes}}
<li>{{.}}</li>
{{- end}}
</ul>
</section>

<section aria-labelledby="digest">
<h2 id="digest">Verification</h2>
<p>This report commits to the {{.R.Digest.Leaves}} requests it counts with a Merkle tree ({{.R.Digest.Algorithm}}).
Root: <code>{{.R.Digest.MerkleRoot}}</code>.
{{- with .R.NationalSecurity.MerkleRoot}} National security root: <code>{{.}}</code>.{{end}}
Built from the record up to stream sequence {{.R.RecordSequence}}.
Data protection authorities may ask for the record and inclusion proofs to check these figures.</p>
</section>
</main>
</body>
</html>
`))
