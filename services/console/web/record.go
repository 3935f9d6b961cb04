package web

import (
	"net/http"
	"strconv"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// The record page: the sealed record of a request, its verification and
// the disposition forms.

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
