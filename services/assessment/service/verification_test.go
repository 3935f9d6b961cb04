package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// Issue 18: the authority directory is validated at load; an invalid file
// stops the service before it serves, with an error naming the problems.
func TestInvalidAuthorityDirectoryStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.json")
	bad := `{"authorities":[{"id":"x","name":"","country":"QQ","kind":"police","from":"2026-01-01","source":"s","contacts":[{"channel":"email","value":"x.example"}]}]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaults(t)
	cfg.Verification.AuthorityFile = path
	rc := runnerConfig(t)
	rc.Ready = func(runner.Info) { t.Error("assessment started with an invalid authority directory") }
	err := runner.Run(context.Background(), rc, quiet, build(cfg))
	if !errors.Is(err, authority.ErrInvalidDirectory) {
		t.Fatalf("run = %v, want ErrInvalidDirectory", err)
	}
	for _, want := range []string{"name is empty", `"QQ"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

func (e *env) verifier(uri string) assessmentv1.VerificationServiceClient {
	return assessmentv1.NewVerificationServiceClient(e.dial(uri))
}

// emergencyFromGmail is an emergency demand in the Garda's name sent from a
// free-mail address: the directory does not verify it.
func emergencyFromGmail(e *env) *intakev1.DataDisclosureRequest {
	r := narrowRequest(e.clock.Now())
	r.Authority.Name = "An Garda Síochána"
	r.Channel = intakev1.Channel_CHANNEL_EMAIL
	r.SenderAddress = "garda.detective@gmail.com"
	r.Emergency = &intakev1.Emergency{Claimed: true, ImminentRiskOfSeriousHarm: true, HarmDescribed: "threat to life"}
	r.CustomerId = ""
	return r
}

// 2.1 / issue 18 over gRPC: the case shows the flag with its reason (the
// domain, never the officer's address); the contacts come from the
// directory; the approval waits for a confirmed verification.
func TestClause2_1_UnverifiedEmergencyWaitsForTheDirectoryCallBack(t *testing.T) {
	e := start(t, defaults(t))
	ctx := context.Background()
	id := e.receive(emergencyFromGmail(e))
	c := e.review(e.as(alice), id)
	i := slices.IndexFunc(c.GetFlags(), func(f *assessmentv1.Flag) bool {
		return f.GetCode() == assessmentv1.FlagCode_FLAG_CODE_UNVERIFIED_REQUESTER
	})
	if i < 0 {
		t.Fatalf("flags %v: no UNVERIFIED_REQUESTER", c.GetFlags())
	}
	if f := c.GetFlags()[i]; f.GetClause() != "2.1" || !strings.Contains(f.GetExplanation(), "email domain is not a known") ||
		strings.Contains(f.GetExplanation(), "detective") || strings.Contains(f.GetExplanation(), "gmail.com") {
		t.Errorf("flag %v: want clause 2.1 and the reason, never the address nor its domain", f)
	}
	d := ok(e.as(alice).Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}}))(t)
	decision := d.GetCase().GetDecision().GetDecisionId()
	_, err := e.as(bob).ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decision})
	wantClause(t, err, "2.1", domain.RuleRequesterNotVerified)

	v := e.verifier(bob)
	contacts := ok(v.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id}))(t)
	if contacts.GetAuthorityId() != "ie-garda" || len(contacts.GetContacts()) == 0 || contacts.GetContacts()[0].GetChannel() != "phone" {
		t.Fatalf("contacts %v: want the Garda's directory contacts, phone first", contacts)
	}
	for _, k := range contacts.GetContacts() {
		if strings.Contains(k.GetValue(), "gmail") {
			t.Errorf("contact %v comes from the request", k)
		}
	}
	_, err = v.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: "email:gmail.com", Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("a channel not in the directory: %v, want INVALID_ARGUMENT", err)
	}
	ok(v.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: contacts.GetContacts()[0].GetChannelId(),
		Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_UNREACHABLE, Note: "no answer at the switchboard"}))(t)
	_, err = e.as(bob).ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decision})
	wantClause(t, err, "2.1", domain.RuleRequesterNotVerified)
	r := ok(v.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: contacts.GetContacts()[0].GetChannelId(),
		Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED, Note: "duty sergeant confirmed"}))(t)
	if r.GetVerification().GetOutcome() != assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED || r.GetVerification().GetVerifiedBy() != bob {
		t.Errorf("verification %v", r.GetVerification())
	}
	a := ok(e.as(bob).ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decision}))(t)
	if a.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("status %s after the confirmed verification", a.GetCase().GetStatus())
	}
}

// 2.1: forged lapses the pending disclosure, leaves only a reject, records
// the incident, and flags the authority for its next request.
func TestClause2_1_ForgedRequestFlagsTheAuthorityForItsNextRequest(t *testing.T) {
	e := start(t, defaults(t))
	ctx := context.Background()
	id := e.receive(emergencyFromGmail(e))
	e.review(e.as(alice), id)
	ok(e.as(alice).Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}}))(t)
	r := ok(e.verifier(bob).RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: "phone:35316660000",
		Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_FORGED}))(t)
	if r.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW || r.GetVerification().GetIncidentId() == "" {
		t.Fatalf("after forged: status %s verification %v", r.GetCase().GetStatus(), r.GetVerification())
	}
	if n := len(eventsOf[*assessmentv1.SecurityIncidentOpened](e, id)); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	_, err := e.as(alice).Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}})
	wantClause(t, err, "2.1", domain.RuleRequesterForged)
	ok(e.as(alice).Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "forged"}))(t)

	// The next request in the Garda's name, from its own domain, is
	// flagged and needs a call back before any disclosure.
	next := narrowRequest(e.clock.Now())
	next.Authority.Name, next.Channel, next.SenderAddress = "Garda", intakev1.Channel_CHANNEL_EMAIL, "someone@garda.ie"
	id2 := e.receive(next)
	c := e.openCase(e.as(alice), id2)
	if !slices.ContainsFunc(c.GetFlags(), func(f *assessmentv1.Flag) bool {
		return f.GetCode() == assessmentv1.FlagCode_FLAG_CODE_UNVERIFIED_REQUESTER && strings.Contains(f.GetExplanation(), "confirmed forged")
	}) {
		t.Errorf("flags %v: the flagged authority's next request is not flagged", c.GetFlags())
	}
	chk := eventsOf[*assessmentv1.RequesterChecked](e, id2)
	if len(chk) != 1 || !chk[0].GetVerificationRequired() || chk[0].GetPriorForgeries() != 1 {
		t.Errorf("check %v: want verification required after one forgery", chk)
	}
}
