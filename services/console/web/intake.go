package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

// Intake by hand: the Privacy Team records a demand that reached it
// directly.

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
