package web

import (
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

// The plan's actions (issue 23): what a reviewer or legal does on the plan
// page so that a whole review needs no ddrctl. A proposal lifts nothing:
// it waits in "Awaiting a second person" for someone else's confirmation.

// planNotices are the plan actions whose success the plan page confirms.
var planNotices = map[string]string{
	"confirm":   "Confirmed.",
	"dpa":       "The DPA's answer is recorded; it counts once a second person confirms it.",
	"exemption": "Exemption proposed; nothing is lifted until a second person confirms it.",
	"lift-hold": "The hold is lifted.",
	"redirect":  "The authority's answer to the redirect is recorded.",
	"dispatch":  "Manual dispatch recorded; it counts as sent once a second person confirms it.",
}

// planAct runs one action on a plan (see actOn).
func (c *Console) planAct(w http.ResponseWriter, r *http.Request, ss *session, what string, f func(ctx ctxT, id string) error) {
	c.actOn("/plans/", func(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal) {
		c.showPlan(w, r, ss, refused, "")
	})(w, r, ss, what, f)
}

// dateForm reads a date input (YYYY-MM-DD, as the browser sends it), read
// as midnight UTC; nil when empty or not a date.
func dateForm(r *http.Request, name string) *timestamppb.Timestamp {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(r.PostForm.Get(name)), time.UTC)
	if err != nil {
		return nil
	}
	return timestamppb.New(t)
}

// planActions are the plan page's forms.
func (c *Console) planActions() {
	no := c.notification
	c.register("/plans/{id}/", c.planAct, []formAction{
		{"dpa-outcome", "dpa", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, no.ProposeConsultationOutcome, &notificationv1.ProposeConsultationOutcomeRequest{
				RequestId: id, Authority: strings.TrimSpace(r.PostForm.Get("authority")),
				Outcome: notificationv1.ConsultationOutcome(enumForm(r, "outcome")),
				Summary: r.PostForm.Get("summary"), ReplyReference: strings.TrimSpace(r.PostForm.Get("reply_reference")),
				ReplyTime: dateForm(r, "reply_date"),
			})
		}},
		{"exemption", "exemption", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, no.ProposeExemption, &notificationv1.ProposeExemptionRequest{
				RequestId: id, Step: notificationv1.StepKind(enumForm(r, "step")),
				// The service names the reasons PROHIBITED and IMMINENT_RISK.
				Reason: r.PostForm.Get("reason"), Basis: r.PostForm.Get("basis"),
				EvidenceReference: r.PostForm.Get("evidence"), Statute: r.PostForm.Get("statute"),
				WhyNoticeDefeats: r.PostForm.Get("why"), CustomerRef: strings.TrimSpace(r.PostForm.Get("customer")),
			})
		}},
		{"lift-hold", "lift-hold", func(_ *http.Request, ctx ctxT, id string) error {
			return send(ctx, no.LiftHold, &notificationv1.LiftHoldRequest{RequestId: id})
		}},
		{"redirect", "redirect", func(r *http.Request, ctx ctxT, id string) error {
			// customer empty: the request's one controller customer.
			req := &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome(enumForm(r, "outcome"))}
			req.Support, req.CustomerRef = r.PostForm.Get("support"), strings.TrimSpace(r.PostForm.Get("customer"))
			return send(ctx, no.RecordRedirectOutcome, req)
		}},
		{"dispatch", "dispatch", func(r *http.Request, ctx ctxT, id string) error {
			req := &notificationv1.ProposeManualDispatchRequest{
				RequestId: id, Authority: strings.TrimSpace(r.PostForm.Get("authority")),
				Means: notificationv1.DispatchMeans(enumForm(r, "means")), Reference: strings.TrimSpace(r.PostForm.Get("reference")),
				SentTime: dateForm(r, "sent"),
			}
			if req.SentTime == nil {
				req.SentTime = nowPB(c.now())
			}
			if r.PostForm.Get("what") == "outcome" {
				// The notice telling a consulted DPA how the request
				// ended (clause 5.1), not the consultation packet.
				req.Step = notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME
			}
			return send(ctx, no.ProposeManualDispatch, req)
		}},
	})
}
