package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

type ctxT = context.Context

func nowPB(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// record

type recordData struct {
	Record    *reportingv1.Record
	Verify    *reportingv1.VerifyRecordResponse
	VerifyErr *refusal
	// The choices of the disposition forms.
	Categories, Means, Outcomes []option
}

// recordNotices are the record actions whose success the record page
// confirms.
var recordNotices = map[string]string{
	"disclosure": "What was disclosed is recorded.",
	"outcome":    "How the request ended is recorded.",
}

func (c *Console) recordPage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showRecord(w, r, ss, nil)
}

func (c *Console) showRecord(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	res, err := c.reporting.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
	if err != nil {
		c.failed(w, r, ss, "Record", err)
		return
	}
	d := &recordData{
		Record:     res.GetRecord(),
		Categories: options(reportingv1.DataCategory(0).Descriptor()),
		Means:      options(reportingv1.DeliveryMeans(0).Descriptor()),
		Outcomes:   options(reportingv1.TerminalOutcome(0).Descriptor()),
	}
	if v, err := c.reporting.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id}); err != nil {
		d.VerifyErr = describe(err)
	} else {
		d.Verify = v
	}
	v := c.view(ss, "Record "+id, "queue", d)
	v.Refusal = refused
	if done := r.URL.Query().Get("done"); refused == nil && recordNotices[done] != "" {
		v.Notice, v.Done = recordNotices[done], done
	}
	c.renderPage(w, r, "record", v)
}

// recordAct runs one action on a record (see actOn).
func (c *Console) recordAct(w http.ResponseWriter, r *http.Request, ss *session, what string, f func(ctx ctxT, id string) error) {
	c.actOn("/records/", c.showRecord)(w, r, ss, what, f)
}

// recordActions are the record page's forms: the disposition, either
// what was finally handed over (accepted only once the request was
// cleared, clauses 2.1 and 2.2) or the terminal outcome when nothing was.
func (c *Console) recordActions() {
	c.register("/records/{id}/", c.recordAct, []formAction{
		{"disclosure", "disclosure", func(r *http.Request, ctx ctxT, id string) error {
			d := &reportingv1.Disclosure{Means: reportingv1.DeliveryMeans(enumForm(r, "means")), DiscloseTime: dateForm(r, "disclosed")}
			if d.DiscloseTime == nil {
				d.DiscloseTime = nowPB(c.now())
			}
			if n, err := strconv.ParseInt(r.PostForm.Get("accounts"), 10, 32); err == nil {
				d.Accounts = int32(n)
			}
			for _, v := range r.PostForm["category"] {
				if n, err := strconv.ParseInt(v, 10, 32); err == nil {
					d.Categories = append(d.Categories, reportingv1.DataCategory(n))
				}
			}
			return send(ctx, c.reporting.RecordDisposition, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: d}})
		}},
		{"outcome", "outcome", func(r *http.Request, ctx ctxT, id string) error {
			kind := &reportingv1.RecordDispositionRequest_Outcome{Outcome: reportingv1.TerminalOutcome(enumForm(r, "outcome"))}
			return send(ctx, c.reporting.RecordDisposition, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: kind})
		}},
	})
}

// report

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

// intake by hand

type intakeData struct {
	Key         string
	Channels    []option
	Authorities []option
	Processes   []option
	TargetKinds []option
	Categories  []option
	Submitted   string
}

func (c *Console) intakeData() *intakeData {
	return &intakeData{
		// A fresh idempotency key per form: sending the same form twice
		// (a double click, a reload) makes one request (clause 3.1).
		Key:         randomID()[:32],
		Channels:    options(intakev1.Channel(0).Descriptor()),
		Authorities: options(intakev1.AuthorityKind(0).Descriptor()),
		Processes:   options(intakev1.LegalProcessType(0).Descriptor()),
		TargetKinds: options(intakev1.TargetKind(0).Descriptor()),
		Categories:  options(intakev1.DataCategory(0).Descriptor()),
	}
}

func (c *Console) intakePage(w http.ResponseWriter, r *http.Request, ss *session) {
	d := c.intakeData()
	if id := r.URL.Query().Get("submitted"); id != "" {
		r.SetPathValue("id", id)
		if id, ok := requestID(r); ok {
			d.Submitted = id
		}
	}
	c.render(w, r, http.StatusOK, "intake", c.view(ss, "Record a demand", "intake", d))
}

func (c *Console) submit(w http.ResponseWriter, r *http.Request, ss *session) {
	f := r.PostForm
	req := &intakev1.DataDisclosureRequest{
		ReceivedAt: nowPB(c.now()),
		Channel:    intakev1.Channel(enumForm(r, "channel")),
		ReceivedBy: ss.name,
		Authority: &intakev1.Authority{
			Name:    f.Get("authority_name"),
			Kind:    intakev1.AuthorityKind(enumForm(r, "authority_kind")),
			Country: strings.ToUpper(strings.TrimSpace(f.Get("authority_country"))),
		},
		StatedPurpose: f.Get("purpose"),
		Notes:         f.Get("notes"),
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", f.Get("received_at"), time.UTC); err == nil {
		req.ReceivedAt = nowPB(t)
	}
	if lp := intakev1.LegalProcessType(enumForm(r, "process_type")); lp != 0 {
		req.LegalProcess = &intakev1.LegalProcess{Type: lp, Reference: f.Get("process_reference")}
	}
	kind := intakev1.TargetKind(enumForm(r, "target_kind"))
	for line := range strings.Lines(f.Get("targets")) {
		if v := strings.TrimSpace(line); v != "" {
			req.Targets = append(req.Targets, &intakev1.Target{Kind: kind, Value: v})
		}
	}
	for _, s := range f["category"] {
		var n int32
		if _, err := fmt.Sscan(s, &n); err == nil {
			req.DataCategories = append(req.DataCategories, intakev1.DataCategory(n))
		}
	}
	if f.Get("emergency") == "on" {
		req.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: f.Get("harm")}
	}
	ctx, cancel := c.call(r, ss)
	defer cancel()
	res, err := c.intake.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: f.Get("key"), Request: req})
	if err != nil {
		c.log.Info("submit refused", "code", httpStatus(err))
		d := c.intakeData()
		d.Key = f.Get("key") // the same demand, tried again, stays one request
		v := c.view(ss, "Record a demand", "intake", d)
		v.Refusal = describe(err)
		c.render(w, r, httpStatus(err), "intake", v)
		return
	}
	http.Redirect(w, r, "/intake?submitted="+res.GetRequestId(), http.StatusSeeOther)
}

// case file

// export writes the whole case as one JSON file for legal: the request
// with its amendments, the case with its decisions, the plan, the record
// and its verification, each as the service answered (or the refusal).
func (c *Console) export(w http.ResponseWriter, r *http.Request, ss *session) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	type part struct {
		name string
		get  func() (proto.Message, error)
	}
	parts := []part{
		{"request", func() (proto.Message, error) {
			return c.intake.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
		}},
		{"case", func() (proto.Message, error) {
			return c.assessment.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		}},
		{"plan", func() (proto.Message, error) {
			return c.notification.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		}},
		{"record", func() (proto.Message, error) {
			return c.reporting.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		}},
		{"verification", func() (proto.Message, error) {
			return c.reporting.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
		}},
	}
	file := map[string]any{
		"request_id":  id,
		"exported_at": c.now().UTC().Format(time.RFC3339),
		"exported_by": ss.name,
	}
	for _, p := range parts {
		m, err := p.get()
		if err != nil {
			if p.name == "request" && httpStatus(err) == http.StatusNotFound {
				c.failed(w, r, ss, "Case file", err)
				return
			}
			file[p.name] = map[string]any{"unavailable": describe(err)}
			continue
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			c.renderError(w, r, http.StatusInternalServerError, "The case file could not be written.")
			return
		}
		file[p.name] = json.RawMessage(b)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		c.renderError(w, r, http.StatusInternalServerError, "The case file could not be written.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="case-%s.json"`, id))
	_, _ = buf.WriteTo(w)
}
