package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// step is one fact applied to a lifecycle, at a given hour after receipt.
type step func(l *domain.Lifecycle, at time.Time) error

func fact(tr lifecycle.Trigger) step {
	return func(l *domain.Lifecycle, at time.Time) error {
		return l.Apply(domain.Fact{Trigger: tr, At: at})
	}
}

func closed(o policy.Outcome) step {
	return func(l *domain.Lifecycle, at time.Time) error {
		return l.Apply(domain.Fact{Trigger: domain.TriggerClosed, Outcome: o, At: at})
	}
}

func ask(l *domain.Lifecycle, at time.Time) error {
	return l.Apply(domain.Fact{Trigger: lifecycle.InformationAsked, At: at, Question: "Which of the two accounts?"})
}

func amend(l *domain.Lifecycle, at time.Time) error {
	return l.Amend(domain.Amendment{At: at, Information: "more"})
}

func withdraw(l *domain.Lifecycle, at time.Time) error { return l.Withdraw(at) }

var (
	opened    = fact(lifecycle.CaseOpened)
	disclose  = fact(lifecycle.DecidedDisclose)
	reject    = fact(lifecycle.DecidedReject)
	redirect  = fact(lifecycle.DecidedRedirect)
	hold      = fact(lifecycle.HoldPlaced)
	cleared   = fact(lifecycle.StepsDone)
	disclosed = fact(lifecycle.DisclosureRecorded)
)

func run(t *testing.T, steps ...step) *domain.Lifecycle {
	t.Helper()
	l := domain.NewLifecycle(now)
	for i, s := range steps {
		if err := s(l, now.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatalf("setup step %d: %v", i, err)
		}
	}
	return l
}

// The member sees platform/lifecycle's stages: a decision and the steps
// under way are "under review" to it; a hold lifting (not seen) is implied
// by the clearance that follows it.
func TestLifecycle_TimelineOfATypicalRequest(t *testing.T) {
	l := run(t, opened, amend, disclose, hold, cleared, disclosed)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	want := []domain.TimelineEntry{
		{Stage: domain.StageReceived, At: now},
		{Stage: domain.StageUnderReview, At: h(1)},
		{Stage: domain.StageAmended, At: h(2)},
		{Stage: domain.StageOnHold, At: h(4)},
		{Stage: domain.StageCleared, At: h(5)},
		{Stage: domain.StageClosed, Outcome: policy.OutcomeDisclosed, At: h(6)},
	}
	if got := l.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline:\n got %+v\nwant %+v", got, want)
	}
	if l.Stage() != domain.StageClosed || l.Outcome() != policy.OutcomeDisclosed || !l.Closed() {
		t.Errorf("stage %s outcome %s closed %v, want closed/disclosed", l.Stage(), l.Outcome(), l.Closed())
	}
}

// Issue 16 item 8: the right stage at every point, each the table's.
func TestLifecycle_MemberStageAtEveryPoint(t *testing.T) {
	tests := []struct {
		name    string
		steps   []step
		stage   domain.Stage
		outcome policy.Outcome
	}{
		{"received", nil, domain.StageReceived, ""},
		{"in review", []step{opened}, domain.StageUnderReview, ""},
		{"information requested", []step{opened, ask}, domain.StageInformationRequested, ""},
		{"information supplied", []step{opened, ask, amend}, domain.StageUnderReview, ""},
		{"decided, steps under way", []step{opened, disclose}, domain.StageUnderReview, ""},
		{"on hold", []step{opened, disclose, hold}, domain.StageOnHold, ""},
		{"cleared", []step{opened, disclose, cleared}, domain.StageCleared, ""},
		{"disclosed", []step{opened, disclose, cleared, disclosed}, domain.StageClosed, policy.OutcomeDisclosed},
		{"rejected", []step{opened, reject}, domain.StageClosed, policy.OutcomeRejected},
		{"awaiting a redirect", []step{opened, redirect}, domain.StageUnderReview, ""},
		{"redirected", []step{opened, redirect, fact(lifecycle.RedirectAgreed)}, domain.StageClosed, policy.OutcomeRedirected},
		{"redirect declined: back in review", []step{opened, redirect, fact(lifecycle.RedirectDeclined)}, domain.StageUnderReview, ""},
		{"withdrawn, not yet acknowledged", []step{opened, withdraw}, domain.StageClosed, policy.OutcomeWithdrawn},
		{"withdrawal acknowledged", []step{opened, withdraw, fact(lifecycle.WithdrawalAcknowledged)}, domain.StageClosed, policy.OutcomeWithdrawn},
		{"withdrawn after the disclosure: undoes nothing", []step{opened, disclose, cleared, disclosed, withdraw}, domain.StageClosed, policy.OutcomeDisclosed},
		{"rejection reopened by an amendment", []step{opened, reject, amend}, domain.StageUnderReview, ""},
		{"closed as challenged by the record", []step{opened, fact(lifecycle.DecidedChallenge), closed(policy.OutcomeChallenged)}, domain.StageClosed, policy.OutcomeChallenged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := run(t, tt.steps...)
			if l.Stage() != tt.stage || l.Outcome() != tt.outcome {
				t.Errorf("stage %s outcome %q, want %s %q", l.Stage(), l.Outcome(), tt.stage, tt.outcome)
			}
		})
	}
}

// The question shows while information is requested, and only then.
func TestLifecycle_QuestionOnlyWhileInformationRequested(t *testing.T) {
	l := run(t, opened, ask)
	if q := l.Question(); q == nil || q.Text != "Which of the two accounts?" || !q.At.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("Question = %+v", q)
	}
	if err := amend(l, now.Add(3*time.Hour)); err != nil {
		t.Fatalf("the member answers with an amendment: %v", err)
	}
	if q := l.Question(); q != nil {
		t.Errorf("question still shown after the answer: %+v", q)
	}
}

func TestLifecycle_Refusals(t *testing.T) {
	tests := []struct {
		name      string
		setup     []step
		do        step
		wantErr   error
		wantStage domain.Stage
	}{
		{"amend after withdrawal", []step{withdraw}, amend, domain.ErrWithdrawn, domain.StageClosed},
		{"amend after a redirect", []step{opened, redirect, fact(lifecycle.RedirectAgreed)}, amend, domain.ErrClosed, domain.StageClosed},
		{"withdraw twice", []step{withdraw}, withdraw, domain.ErrWithdrawn, domain.StageClosed},
		{"withdraw after a rejection", []step{opened, reject}, withdraw, domain.ErrClosed, domain.StageClosed},
		{"any fact after close", []step{opened, reject}, fact(lifecycle.HoldPlaced), domain.ErrClosed, domain.StageClosed},
		{"close again otherwise", []step{opened, reject}, closed(policy.OutcomeDisclosed), domain.ErrClosed, domain.StageClosed},
		{"review after withdrawal", []step{withdraw}, opened, domain.ErrClosed, domain.StageClosed},
		{"decide before review", nil, disclose, domain.ErrStageChange, domain.StageReceived},
		{"clear before decision", []step{opened}, cleared, domain.ErrStageChange, domain.StageUnderReview},
		{"close without outcome", nil, closed(""), domain.ErrStageChange, domain.StageReceived},
		{"close with unknown outcome", nil, closed("shrugged"), domain.ErrStageChange, domain.StageReceived},
		{"outcome on another fact", nil, func(l *domain.Lifecycle, at time.Time) error {
			return l.Apply(domain.Fact{Trigger: lifecycle.CaseOpened, Outcome: policy.OutcomeRejected, At: at})
		}, domain.ErrStageChange, domain.StageReceived},
		{"withdrawal reported as another service's fact", nil, fact(lifecycle.WithdrawalReported), domain.ErrStageChange, domain.StageReceived},
		{"unknown trigger", nil, fact("deliberating"), domain.ErrStageChange, domain.StageReceived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := run(t, tt.setup...)
			before := l.Timeline()
			err := tt.do(l, now.Add(100*time.Hour))
			switch {
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			case !errors.Is(err, ddrerr.ErrFailedPrecondition):
				t.Fatalf("error %v does not match ddrerr.ErrFailedPrecondition", err)
			case !slices.Equal(l.Timeline(), before):
				t.Errorf("refused change still altered the timeline: %+v", l.Timeline())
			}
			if l.Stage() != tt.wantStage {
				t.Errorf("stage = %s, want %s", l.Stage(), tt.wantStage)
			}
		})
	}
}

// A redelivered fact, or assessment's reopening after the amendment the
// view already showed in review, changes nothing.
func TestLifecycle_RepeatedFactsChangeNothing(t *testing.T) {
	l := run(t, opened, ask, amend)
	before := l.Timeline()
	if err := l.Apply(domain.Fact{Trigger: lifecycle.Amended, At: now.Add(10 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Timeline(), before) || l.Stage() != domain.StageUnderReview {
		t.Errorf("reopening again moved the view: %s %+v", l.Stage(), l.Timeline())
	}
	c := run(t, opened, reject)
	if err := c.Apply(domain.Fact{Trigger: domain.TriggerClosed, Outcome: policy.OutcomeRejected, At: now.Add(10 * time.Hour)}); err != nil {
		t.Errorf("the rejection recorded again: %v", err)
	}
}

func TestLifecycle_CanAmendAndCanWithdrawAgreeWithCommands(t *testing.T) {
	open := run(t, opened)
	if open.CanAmend() != nil || open.CanWithdraw() != nil {
		t.Errorf("open request: CanAmend %v, CanWithdraw %v", open.CanAmend(), open.CanWithdraw())
	}
	done := run(t, opened, redirect, fact(lifecycle.RedirectAgreed))
	if !errors.Is(done.CanAmend(), domain.ErrClosed) || !errors.Is(done.CanWithdraw(), domain.ErrClosed) {
		t.Errorf("closed request: CanAmend %v, CanWithdraw %v", done.CanAmend(), done.CanWithdraw())
	}
}

func TestLifecycle_AmendmentsAddAndNeverReplace(t *testing.T) {
	l := domain.NewLifecycle(now)
	first := domain.Amendment{At: now.Add(time.Hour), Information: "case number corrected"}
	second := domain.Amendment{At: now.Add(2 * time.Hour), Attachments: validRequest().Attachments}
	for _, a := range []domain.Amendment{first, second} {
		if err := l.Amend(a); err != nil {
			t.Fatal(err)
		}
	}
	got := l.Amendments()
	if !reflect.DeepEqual(got, []domain.Amendment{first, second}) {
		t.Fatalf("Amendments = %+v, want both in order", got)
	}
	got[0].Information = "rewritten"
	second.Attachments[0].URI = "s3://elsewhere"
	if a := l.Amendments(); a[0].Information != "case number corrected" || a[1].Attachments[0].URI == "s3://elsewhere" {
		t.Error("a recorded amendment changed after the fact")
	}
	if l.Stage() != domain.StageReceived {
		t.Errorf("amending moved the stage to %s", l.Stage())
	}
}

// The group member's view shows stage and time, nothing of the Privacy
// Team's deliberations: neither the timeline nor a reported stage change has
// room for more.
func TestLifecycle_TimelineCarriesNoDeliberation(t *testing.T) {
	for typ, want := range map[reflect.Type][]string{
		reflect.TypeFor[domain.TimelineEntry](): {"Stage", "Outcome", "At"},
		// The question is the one thing the Privacy Team says to the member.
		reflect.TypeFor[domain.Fact](): {"Trigger", "At", "Outcome", "Question"},
	} {
		var names []string
		for f := range typ.Fields() {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s has fields %v, want only %v", typ.Name(), names, want)
		}
	}
}

func TestAmendment_Validate(t *testing.T) {
	tests := []struct {
		name string
		a    domain.Amendment
		want []ddrerr.FieldViolation
	}{
		{"information only", domain.Amendment{Information: "the authority called back"}, nil},
		{"attachment only", domain.Amendment{Attachments: validRequest().Attachments}, nil},
		{"empty", domain.Amendment{Information: "  "}, []ddrerr.FieldViolation{fv("information", "information or at least one attachment is required")}},
		{"bad attachment", domain.Amendment{Attachments: []domain.Attachment{{URI: "https://x.example/a", SHA256: "abc"}}},
			[]ddrerr.FieldViolation{fv("attachments[0].sha256", "must be 64 hexadecimal digits")}},
		{"information too long", domain.Amendment{Information: string(make([]byte, domain.DefaultMaxTextLen+1))},
			[]ddrerr.FieldViolation{fv("information", "must be at most 10000 characters")}},
		{"information not UTF-8", domain.Amendment{Information: "\xc3"},
			[]ddrerr.FieldViolation{fv("information", "must be valid UTF-8")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertViolations(t, tt.a.Validate(domain.Limits{}), tt.want)
		})
	}
}

// New amendments stop at the limit; recorded ones past it still fold.
func TestLifecycle_AmendmentsCappedForNewOnesOnly(t *testing.T) {
	limits := domain.Limits{MaxAmendments: 2}
	l := domain.NewLifecycle(now)
	for i := range 2 {
		if err := l.CanAmendWithin(limits); err != nil {
			t.Fatalf("amendment %d: %v", i+1, err)
		}
		if err := amend(l, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	err := l.CanAmendWithin(limits)
	if !errors.Is(err, domain.ErrTooManyAmendments) || !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Errorf("third amendment: %v, want ErrTooManyAmendments (a failed precondition)", err)
	}
	if err := amend(l, now.Add(2*time.Hour)); err != nil {
		t.Errorf("folding a recorded third amendment: %v", err)
	}
	if n := len(l.Amendments()); n != 3 {
		t.Errorf("%d amendments folded, want 3", n)
	}
	if err := domain.NewLifecycle(now).CanAmendWithin(domain.Limits{}); err != nil {
		t.Errorf("default limit, no amendments yet: %v", err)
	}
}

// Clause 4.1.2: a rejection, which an amendment could reopen, stays closed
// once its targets are erased: a new amendment is refused with the rule,
// and the request stays where it was.
func TestClause4_1_2_ErasedRejectionCannotBeAmended(t *testing.T) {
	l := run(t, opened, reject)
	if err := l.CanAmendWithin(domain.Limits{}); err != nil {
		t.Fatalf("a rejection can be amended before the erasure: %v", err)
	}
	l.Erased()
	err := l.CanAmendWithin(domain.Limits{})
	var pv *ddrerr.PolicyViolation
	if !errors.Is(err, domain.ErrTargetsErased) || !errors.As(err, &pv) || pv.Clause != string(policy.Clause4_1_2) || pv.Rule != "TARGETS_ERASED" {
		t.Fatalf("amending an erased rejection: %v, want ErrTargetsErased (4.1.2 TARGETS_ERASED)", err)
	}
	if l.State() != lifecycle.Rejected || !l.Closed() {
		t.Errorf("after the refused amendment: %s, closed %v", l.State(), l.Closed())
	}
}
