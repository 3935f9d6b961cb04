package web

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// The transparency report page: the report of a half-year, its export and
// its publication.

var periodRE = regexp.MustCompile(`^[0-9]{4}-H[12]$`)

// periods are the last four finished half-years, newest first.
func periods(now time.Time) []string {
	y, h := now.UTC().Year(), 1
	if now.UTC().Month() > time.June {
		h = 2
	}
	var out []string
	for range 4 {
		// step back to the half-year before (y, h)
		if h == 1 {
			y, h = y-1, 2
		} else {
			h = 1
		}
		out = append(out, fmt.Sprintf("%d-H%d", y, h))
	}
	return out
}

type reportData struct {
	Period  string
	Periods []string
	Report  *reportingv1.TransparencyReport
}

func (c *Console) period(r *http.Request) string {
	p := r.FormValue("period")
	if periodRE.MatchString(p) {
		return p
	}
	return periods(c.now())[0]
}

func (c *Console) reportPage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showReport(w, r, ss, nil, "")
}

func (c *Console) showReport(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal, notice string) {
	p := c.period(r)
	ctx, cancel := c.call(r, ss)
	defer cancel()
	d := &reportData{Period: p, Periods: periods(c.now())}
	res, err := c.reporting.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: p, Format: reportingv1.ReportFormat_REPORT_FORMAT_JSON})
	if err != nil {
		refused = describe(err)
	} else {
		d.Report = res.GetReport()
	}
	v := c.view(ss, "Transparency report "+p, "report", d)
	v.Refusal, v.Notice = refused, notice
	code := http.StatusOK
	if refused != nil {
		code = httpStatus(err)
		if err == nil {
			code = http.StatusConflict
		}
	}
	c.render(w, r, code, "report", v)
}

// reportView serves the report's own HTML (what is published, with its
// charts) for the report page's frame. It carries its own styles, so it
// gets a policy of its own: no script at all, inline styles, sandboxed,
// framed only by the console.
func (c *Console) reportView(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx, cancel := c.call(r, ss)
	defer cancel()
	res, err := c.reporting.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: c.period(r), Format: reportingv1.ReportFormat_REPORT_FORMAT_HTML})
	if err != nil {
		c.failed(w, r, ss, "Transparency report", err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox")
	h.Del("X-Frame-Options")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(res.GetReport().GetContent())
}

func (c *Console) reportExport(w http.ResponseWriter, r *http.Request, ss *session) {
	format, ext := reportingv1.ReportFormat_REPORT_FORMAT_JSON, "json"
	if r.FormValue("format") == "csv" {
		format, ext = reportingv1.ReportFormat_REPORT_FORMAT_CSV, "csv"
	}
	p := c.period(r)
	ctx, cancel := c.call(r, ss)
	defer cancel()
	res, err := c.reporting.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: p, Format: format})
	if err != nil {
		c.failed(w, r, ss, "Transparency report", err)
		return
	}
	ct := res.GetReport().GetContentType()
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="transparency-%s.%s"`, p, ext))
	_, _ = w.Write(res.GetReport().GetContent())
}

func (c *Console) publish(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx, cancel := c.call(r, ss)
	defer cancel()
	res, err := c.reporting.PublishTransparencyReport(ctx, &reportingv1.PublishTransparencyReportRequest{Period: c.period(r), Correction: r.PostForm.Get("correction") == "on"})
	if err != nil {
		c.showReport(w, r, ss, describe(err), "")
		return
	}
	_ = res
	c.showReport(w, r, ss, nil, "Published.")
}
