package web

import (
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

// The case's further actions (issue 23): assigning, asking, withdrawals,
// the challenge's outcome, fact corrections and the imminent-risk
// justification, so that a whole review needs no ddrctl. Each goes through
// act: success back to the case page, a refusal shown on it.

func init() {
	for k, v := range map[string]string{
		"assign":             "The case is assigned.",
		"ask":                "The question is sent to the group member; their amendment sends the case back to review.",
		"withdrawal":         "The withdrawal is recorded.",
		"ack-withdrawal":     "The withdrawal is acknowledged.",
		"challenge-outcome":  "The challenge's outcome is recorded; it counts once a second (legal) person confirms it.",
		"confirm-outcome":    "The challenge's outcome is confirmed.",
		"correction":         "The correction is recorded (a weakening one waits for a second person).",
		"confirm-correction": "The correction is confirmed.",
		"justify":            "The imminent risk's justification is recorded.",
	} {
		doneNotices[k] = v
	}
}

// send makes one call of a generated client method, keeping only its error:
// the page is read afresh after the redirect.
func send[Req, Res any](ctx ctxT, call func(ctxT, Req, ...grpc.CallOption) (Res, error), req Req) error {
	_, err := call(ctx, req)
	return err
}

// caseActions are the case page's further forms.
func (c *Console) caseActions() {
	as := c.assessment
	c.register("/cases/{id}/", c.act, []formAction{
		{"assign", "assign", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.ClaimCase, &assessmentv1.ClaimCaseRequest{RequestId: id, Assignee: strings.TrimSpace(r.PostForm.Get("assignee"))})
		}},
		{"ask", "ask", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.RequestInformation, &assessmentv1.RequestInformationRequest{RequestId: id, Question: r.PostForm.Get("question")})
		}},
		{"withdrawal", "withdrawal", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, c.intake.RecordWithdrawal, &intakev1.RecordWithdrawalRequest{RequestId: id, Reason: r.PostForm.Get("reason")})
		}},
		{"ack-withdrawal", "ack-withdrawal", func(_ *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.AcknowledgeWithdrawal, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id})
		}},
		{"challenge-outcome", "challenge-outcome", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.ProposeChallengeOutcome, &assessmentv1.ProposeChallengeOutcomeRequest{
				RequestId: id, Outcome: assessmentv1.ChallengeOutcome(enumForm(r, "outcome")),
				Basis: r.PostForm.Get("basis"), EvidenceReference: strings.TrimSpace(r.PostForm.Get("reference")),
			})
		}},
		{"confirm-outcome", "confirm-outcome", func(_ *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.ConfirmChallengeOutcome, &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: id})
		}},
		{"correct", "correction", func(r *http.Request, ctx ctxT, id string) error {
			fc, err := factCorrection(r)
			if err != nil {
				return err
			}
			return send(ctx, as.ProposeFactCorrection, &assessmentv1.ProposeFactCorrectionRequest{
				RequestId: id, Correction: fc, Reason: r.PostForm.Get("reason"), EvidenceReference: strings.TrimSpace(r.PostForm.Get("evidence")),
			})
		}},
		{"confirm-correction", "confirm-correction", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.ConfirmFactCorrection, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: id, CorrectionId: r.PostForm.Get("correction")})
		}},
		{"justify", "justify", func(r *http.Request, ctx ctxT, id string) error {
			return send(ctx, as.JustifyImminentRisk, &assessmentv1.JustifyImminentRiskRequest{RequestId: id, Justification: r.PostForm.Get("justification")})
		}},
	})
}

// formAction is one form's route (under its page), the action named in
// ?done=, and the call the form makes.
type formAction struct {
	path, what string
	call       func(r *http.Request, ctx ctxT, id string) error
}

// register routes each form's POST through its page's act (the case's or
// the plan's): success back to the page, a refusal shown on it.
func (c *Console) register(under string, act actFunc, forms []formAction) {
	for _, a := range forms {
		c.mux.HandleFunc("POST "+under+a.path, c.authed(func(w http.ResponseWriter, r *http.Request, ss *session) {
			act(w, r, ss, a.what, func(ctx ctxT, id string) error { return a.call(r, ctx, id) })
		}))
	}
}

// triState reads a select of "unchanged", "yes" and "no": nil when
// unchanged.
func triState(r *http.Request, name string) *bool {
	switch r.PostForm.Get(name) {
	case "yes":
		b := true
		return &b
	case "no":
		b := false
		return &b
	}
	return nil
}

// notAccepted is the console's own INVALID_ARGUMENT for a form it cannot
// read, shown like a service's.
func notAccepted(format string, a ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, a...))
}

// factCorrection reads the correction form: only what is filled in is
// corrected, as ddrctl case correct does with its flags.
func factCorrection(r *http.Request) (*assessmentv1.FactCorrection, error) {
	f := r.PostForm
	out := &assessmentv1.FactCorrection{
		EmergencyClaimed:    triState(r, "emergency"),
		ImminentRiskClaimed: triState(r, "imminent_risk"),
	}
	if cc := strings.ToUpper(strings.TrimSpace(f.Get("country"))); cc != "" {
		out.AuthorityCountry = &cc
	}
	switch f.Get("prohibition") {
	case "none":
		out.Prohibition = &assessmentv1.Prohibition{}
	case "present":
		out.Prohibition = &assessmentv1.Prohibition{Present: true, Reference: strings.TrimSpace(f.Get("prohibition_reference"))}
		out.Prohibition.ExpiresAt = dateForm(r, "prohibition_expires")
	}
	lines := strings.TrimSpace(f.Get("customers"))
	switch {
	case f.Get("no_customers") == "on" && lines != "":
		return nil, notAccepted("give the customers or say there are none, not both")
	case f.Get("no_customers") == "on":
		out.Customers = &assessmentv1.CustomerList{}
	case lines != "":
		out.Customers = &assessmentv1.CustomerList{}
		for line := range strings.Lines(lines) {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			// The spelling ddrctl's --customer takes.
			cu, err := client.ParseCustomer(line)
			if err != nil {
				return nil, notAccepted("a customer line: %v", err)
			}
			out.Customers.Customers = append(out.Customers.Customers, cu)
		}
	}
	if out.Customers == nil && out.Prohibition == nil && out.AuthorityCountry == nil && out.EmergencyClaimed == nil && out.ImminentRiskClaimed == nil {
		return nil, notAccepted("say what to correct: the customers, the prohibition, the country, the emergency or the imminent-risk claim")
	}
	return out, nil
}
