package export

import (
	"bytes"
	"html/template"

	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// ReportFiles renders a report as it is published: its JSON, CSV and HTML
// (with the charts), under the names transparency.ReportFiles lists.
func ReportFiles(rep *domain.Report) (map[string][]byte, error) {
	out := make(map[string][]byte, 3)
	for name, f := range map[string]Format{transparency.FileJSON: JSON, transparency.FileCSV: CSV, transparency.FileHTML: HTML} {
		b, _, err := Render(rep, f)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

type indexView struct {
	Rows       []transparency.IndexEntry
	Checkpoint string
	Files      []string
}

// IndexPage renders the site's index: every published report, newest
// first, with its files, what it corrects or is corrected by, and how to
// check it. It implements transparency.IndexPage.
func IndexPage(rows []transparency.IndexEntry, checkpoint string) ([]byte, error) {
	v := indexView{Checkpoint: checkpoint, Files: transparency.ReportFiles}
	for i := len(rows) - 1; i >= 0; i-- {
		v.Rows = append(v.Rows, rows[i])
	}
	var b bytes.Buffer
	if err := indexPage.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Transparency reports</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:860px;padding:1.5rem;color:#1b1b1b;background:#fff;line-height:1.5}
h1{font-size:1.7rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{padding:.35rem .75rem;border-bottom:1px solid #e3e3e3;text-align:left}
.note{color:#555}
pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}
</style>
</head>
<body>
<main>
<h1>Transparency reports</h1>
<p>Every six months we report the requests for data we received from law enforcement and other government authorities, as limited by applicable law or court order. A published report is never changed: a correction is published as a new report that names the one it corrects.</p>
<table>
<caption>Published reports, newest first</caption>
<thead><tr><th scope="col">Report</th><th scope="col">Period</th><th scope="col">Files</th><th scope="col">Status</th></tr></thead>
<tbody>
{{- range .Rows}}
{{- $name := .Name}}
<tr><th scope="row"><a href="reports/{{.Name}}/report.html">{{.Name}}</a></th><td>{{.Period}}</td><td>{{range $.Files}}<a href="reports/{{$name}}/{{.}}">{{.}}</a> {{end}}<a href="reports/{{.Name}}/statement.note">signature</a></td><td>{{if .CorrectedBy}}corrected by <a href="reports/{{.CorrectedBy}}/report.html">{{.CorrectedBy}}</a>{{else}}current{{end}}{{if .Corrects}}; corrects <a href="reports/{{.Corrects}}/report.html">{{.Corrects}}</a>{{end}}</td></tr>
{{- else}}
<tr><td colspan="4">No report is published yet.</td></tr>
{{- end}}
</tbody>
</table>
<h2>Checking these reports</h2>
<p class="note">Each report's files are named, with their SHA-256, in a statement signed with our key (<a href="public-key.txt">public-key.txt</a>; earlier keys hand over in <code>keys/</code>). Every statement is a leaf of an append-only log (<a href="log/leaves.txt">log/leaves.txt</a>) whose signed checkpoint is below; keep it, and a later visit proves that no report was removed or changed since. <code>ddrctl verify site DIR --key public-key.txt</code> checks all of it offline.</p>
<pre>{{.Checkpoint}}</pre>
</main>
</body>
</html>
`))
