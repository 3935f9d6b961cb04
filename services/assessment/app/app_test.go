package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	ddrpolicy "github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// newStore is the real event store on an embedded JetStream.
func newStore(t testing.TB) *eventstore.Store {
	t.Helper()
	env := natstest.Start(t)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return eventstore.NewStore(env.JS)
}

// count is the number of events of payload type T in the request's record.
func count[T proto.Message](t *testing.T, store *eventstore.Store, id string) int {
	t.Helper()
	h, err := store.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range h.Events {
		if _, ok := ev.Payload.(T); ok {
			n++
		}
	}
	return n
}

const (
	alice = "spiffe://ddr.test/staff/alice"
	bob   = "spiffe://ddr.test/staff/bob"
)

// carol approves with the legal role too: a disclosure on an imminent risk
// the authority did not claim needs a legal approver, and she confirms the
// challenge outcome.
var carol = ddrpolicy.Person{ID: "spiffe://ddr.test/staff/carol", Roles: []ddrpolicy.Role{ddrpolicy.RoleApprover, ddrpolicy.RoleLegal}}

func approver(id string) ddrpolicy.Person {
	return ddrpolicy.Person{ID: id, Roles: []ddrpolicy.Role{ddrpolicy.RoleApprover}}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func notAdequateUnlessIE(country string, _ time.Time) (bool, string) {
	if country == "IE" {
		return true, "EEA"
	}
	return false, "not on the list"
}

// richRequest sets every fact the rules read.
func richRequest(id string) *intakev1.RequestReceived {
	return &intakev1.RequestReceived{
		RequestId:      id,
		SubmitTime:     timestamppb.New(t0.Add(-time.Hour)),
		LateForwarding: true,
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:    timestamppb.New(t0.Add(-50 * time.Hour)),
			Authority:     &intakev1.Authority{Kind: intakev1.AuthorityKind_AUTHORITY_KIND_NATIONAL_SECURITY, Country: "US"},
			LegalProcess:  &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY},
			Targets:       []*intakev1.Target{{Ref: "t1", Value: "x"}, {Ref: "t2", Value: "y"}, {Ref: "t3", Value: "z"}},
			ScopeSelector: intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_TENANT,
			CustomerId:    "cust-7",
			DataCategories: []intakev1.DataCategory{
				intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_CONTENT,
			},
			TimeRange: &intakev1.TimeRange{From: timestamppb.New(t0.AddDate(0, -2, 0)), To: timestamppb.New(t0)},
			Emergency: &intakev1.Emergency{Claimed: true, ImminentRiskOfSeriousHarm: true},
			Gag:       &intakev1.Gag{Present: true, Reference: "NSL-1", ExpiresAt: timestamppb.New(t0.AddDate(1, 0, 0))},
			Deadline:  timestamppb.New(t0.Add(48 * time.Hour)),
		},
	}
}

func policy() domain.Config {
	cfg := domain.DefaultConfig()
	hours := 48
	cfg.Overlays = []domain.Overlay{{
		Name: "us-extra", Jurisdictions: []string{"US"}, CustomerNoticeHours: &hours, ExtraApprovals: 1,
		RequiredFactors: []domain.Factor{domain.FactorValidity}, RequiredCounsel: []domain.CounselKind{domain.CounselOutside},
	}}
	return cfg
}

func newApp(t testing.TB, store app.Store, now func() time.Time) *app.Assessment {
	t.Helper()
	a, err := app.New(app.Config{Policy: policy(), Adequacy: notAdequateUnlessIE, Now: now}, store)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// The record is the truth: a case replayed from the wire events must be the
// case the domain built from the same commands, facts, rules, review and
// decision alike.
func TestCaseFoldsBackFromTheRecordExactly(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	a := newApp(t, store, func() time.Time { return t0 })
	rr := richRequest("req-1")
	// A requester the directory verifies, so the flags are the domain's
	// own; the imminent-risk disclosure still needs its call back (2.1).
	fbi := authority.Requester{Name: "FBI", Country: "US", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "agent@fbi.gov"}}
	if err := a.OpenReceivedCase(ctx, "ev-1", codec.FactsFromReceived(rr), fbi, time.Time{}); err != nil {
		t.Fatal(err)
	}
	consulted := t0.Add(-time.Hour)
	must(a.Claim(ctx, alice, "req-1", ""))(t)
	var factors []app.FactorInput
	for _, f := range domain.AllFactors() {
		factors = append(factors, app.FactorInput{Factor: f, Assessment: "assessed " + string(f)})
	}
	must(a.RecordFactors(ctx, alice, "req-1", factors, "weighed"))(t)
	must(a.RecordCounsel(ctx, alice, "req-1", app.Consultation{
		Kind: domain.CounselOutside, Counsel: "Firm LLP", ConsultedAt: consulted, Summary: "valid",
	}))(t)
	must(a.ConsiderChallenge(ctx, alice, "req-1", true, "warranted: the order is overbroad"))(t)
	must(a.ProposeChallengeOutcome(ctx, alice, "req-1", domain.ChallengeDismissed, "the court upheld the order", "court ref 12"))(t)
	must(a.ConfirmChallengeOutcome(ctx, carol, "req-1"))(t)
	must(a.JustifyImminentRisk(ctx, alice, "req-1", "the threat is credible"))(t)
	narrowing := &domain.Narrowing{TargetIDs: []string{"t2"}, DataCategories: []string{"subscriber"}, TimeRange: domain.TimeRange{From: t0.AddDate(0, -1, 0), To: t0}}
	must(a.Decide(ctx, alice, "req-1", domain.Decision{Kind: ddrpolicy.DecisionDisclose, Basis: domain.BasisImminentRisk, Narrowing: narrowing}, 0))(t)
	if _, err := a.RecordVerification(ctx, carol.ID, "req-1", "email:fbi.gov", domain.VerificationConfirmed, "confirmed by the field office"); err != nil {
		t.Fatal(err)
	}
	must(a.Approve(ctx, approver(bob), "req-1", pendingID(t, a)))(t)

	// The same commands on the domain directly.
	facts := codec.FactsFromReceived(rr)
	facts.CountryAdequate, _ = notAdequateUnlessIE(facts.AuthorityCountry, facts.ReceivedAt)
	want := &domain.Case{}
	step := func(evs []domain.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want.Apply(e)
		}
	}
	step(want.Open(facts, policy(), "", t0))
	want.Apply(domain.RequesterChecked{Meta: domain.Meta{At: t0}, AuthorityID: "us-fbi", Verified: true})
	step(want.Claim(alice, t0))
	for _, f := range domain.AllFactors() {
		step(want.RecordFactor(f, "assessed "+string(f), alice, t0))
	}
	step(want.WeighRights("weighed", alice, t0))
	step(want.RecordCounselNamed(domain.CounselOutside, "Firm LLP", consulted, "valid", alice, t0))
	step(want.ConsiderChallenge(true, "warranted: the order is overbroad", alice, t0))
	step(want.ProposeChallengeOutcome(domain.ChallengeDismissed, "the court upheld the order", "court ref 12", alice, t0))
	step(want.ConfirmChallengeOutcome(carol, t0))
	step(want.JustifyImminentRisk("the threat is credible", alice, t0))
	step(want.Decide(domain.Decision{Kind: ddrpolicy.DecisionDisclose, Basis: domain.BasisImminentRisk, Narrowing: narrowing}, alice, t0))
	step(want.RecordVerification(domain.VerificationInput{AuthorityID: "us-fbi", ChannelID: "email:fbi.gov", Channel: "email", Outcome: domain.VerificationConfirmed, Note: "confirmed by the field office"}, carol.ID, t0))
	step(want.ApproveAs(approver(bob), t0))
	if want.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("the overlay's extra approval did not hold the domain case: %s", want.Status())
	}
	must(a.Approve(ctx, carol, "req-1", pendingID(t, a)))(t)
	step(want.ApproveAs(carol, t0))

	h, _ := store.Load(ctx, "req-1")
	got, err := app.Fold(h)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(domain.Decision{}, "ID")}
	for name, pair := range map[string][2]any{
		"status":       {got.Case.Status(), want.Status()},
		"facts":        {got.Case.Facts(), want.Facts()},
		"flags":        {got.Case.Flags(), want.Flags()},
		"rules":        {got.Case.Rules(), want.Rules()},
		"review":       {got.Case.Review(), want.Review()},
		"decided":      {got.Case.Decided(), want.Decided()},
		"reviewDue":    {got.Case.ReviewDue(), want.ReviewDue()},
		"assignee":     {got.Case.Assignee(), want.Assignee()},
		"verification": {got.Case.Verification(), want.Verification()},
	} {
		if d := cmp.Diff(pair[1], pair[0], opts); d != "" {
			t.Errorf("%s folded from the record differs (-domain +record):\n%s", name, d)
		}
	}
	if n := count[*assessmentv1.DecisionApproved](t, store, "req-1"); n != 1 {
		t.Errorf("%d DecisionApproved events, want 1: the approval that completes four eyes is in AssessmentDecided", n)
	}
}

func pendingID(t *testing.T, a *app.Assessment) string {
	t.Helper()
	id := must(a.Get(context.Background(), "req-1"))(t).PendingDecisionID()
	if id == "" {
		t.Fatal("no decision pending")
	}
	return id
}

func TestConcurrentOpenCaseOpensOneCase(t *testing.T) {
	store := newStore(t)
	a := newApp(t, store, func() time.Time { return t0 })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := a.OpenCase(context.Background(), "ev-1", codec.FactsFromReceived(richRequest("req-1")), time.Time{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := count[*assessmentv1.CaseOpened](t, store, "req-1"); n != 1 {
		t.Fatalf("%d CaseOpened events, want 1", n)
	}
}

func TestWithdrawnBeforeOpeningGetsNoCase(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	a := newApp(t, store, func() time.Time { return t0 })
	if _, err := store.Append(ctx, "req-1", 0, eventstore.Event{Payload: &intakev1.RequestWithdrawn{RequestId: "req-1", WithdrawTime: timestamppb.New(t0)}}); err != nil {
		t.Fatal(err)
	}
	if err := a.OpenCase(ctx, "ev-1", codec.FactsFromReceived(richRequest("req-1")), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := count[*assessmentv1.CaseOpened](t, store, "req-1"); n != 0 {
		t.Fatalf("a withdrawn request got a case (%d CaseOpened)", n)
	}
	// No case, yet no dead end: one Privacy Team member acknowledges the
	// withdrawal, on the request, and it closes as withdrawn (issue 16).
	if _, err := a.AcknowledgeWithdrawal(ctx, "spiffe://ddr.local/staff/alice", "req-1"); err != nil {
		t.Fatalf("acknowledging the withdrawal of a request without a case: %v", err)
	}
	if n := count[*assessmentv1.WithdrawalAcknowledged](t, store, "req-1"); n != 1 {
		t.Fatalf("%d WithdrawalAcknowledged on the request, want 1", n)
	}
	if _, err := a.AcknowledgeWithdrawal(ctx, "spiffe://ddr.local/staff/alice", "req-2"); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Fatalf("acknowledging on a request that does not exist: %v, want not found", err)
	}
}

func TestOverdueRecordedOnce(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	clock := testkit.NewClock(t0)
	a := newApp(t, store, clock.Now)
	if err := a.OpenCase(ctx, "ev-1", codec.FactsFromReceived(richRequest("req-1")), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if o := must(a.MarkOverdue(ctx, "req-1"))(t); o.Recorded {
		t.Fatal("marked overdue before its deadline")
	}
	clock.Set(t0.Add(2 * time.Hour)) // the emergency deadline is one hour
	for i := range 3 {
		o := must(a.MarkOverdue(ctx, "req-1"))(t)
		if o.Recorded != (i == 0) || !o.Urgent {
			t.Fatalf("round %d: %+v, want only the first round to record, and the case urgent", i, o)
		}
	}
	if n := count[*assessmentv1.CaseOverdue](t, store, "req-1"); n != 1 {
		t.Fatalf("%d CaseOverdue events, want 1", n)
	}
}
