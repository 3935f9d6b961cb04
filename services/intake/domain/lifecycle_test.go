package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// step is one fact applied to a lifecycle, at a given hour after receipt.
type step func(l *domain.Lifecycle, at time.Time) error

func stage(s domain.Stage) step {
	return func(l *domain.Lifecycle, at time.Time) error {
		return l.ApplyStageChange(domain.StageChange{Stage: s, At: at})
	}
}

func closed(o domain.Outcome) step {
	return func(l *domain.Lifecycle, at time.Time) error {
		return l.ApplyStageChange(domain.StageChange{Stage: domain.StageClosed, Outcome: o, At: at})
	}
}

func amend(l *domain.Lifecycle, at time.Time) error {
	return l.Amend(domain.Amendment{At: at, Information: "more"})
}

func withdraw(l *domain.Lifecycle, at time.Time) error { return l.Withdraw(at) }

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

func TestLifecycle_TimelineOfATypicalRequest(t *testing.T) {
	l := run(t,
		stage(domain.StageUnderReview),
		amend,
		stage(domain.StageDecided),
		stage(domain.StageOnHold),
		stage(domain.StageCleared),
		closed(domain.OutcomeDisclosed),
	)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	want := []domain.TimelineEntry{
		{Stage: domain.StageReceived, At: now},
		{Stage: domain.StageUnderReview, At: h(1)},
		{Stage: domain.StageAmended, At: h(2)},
		{Stage: domain.StageDecided, At: h(3)},
		{Stage: domain.StageOnHold, At: h(4)},
		{Stage: domain.StageCleared, At: h(5)},
		{Stage: domain.StageClosed, Outcome: domain.OutcomeDisclosed, At: h(6)},
	}
	if got := l.Timeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline:\n got %+v\nwant %+v", got, want)
	}
	if l.Stage() != domain.StageClosed || l.Outcome() != domain.OutcomeDisclosed || !l.Closed() {
		t.Errorf("stage %s outcome %s closed %v, want closed/disclosed", l.Stage(), l.Outcome(), l.Closed())
	}
}

func TestLifecycle_Transitions(t *testing.T) {
	tests := []struct {
		name      string
		setup     []step
		do        step
		wantErr   error // nil: allowed
		wantStage domain.Stage
	}{
		// Allowed.
		{"review after receipt", nil, stage(domain.StageUnderReview), nil, domain.StageUnderReview},
		{"decide after review", []step{stage(domain.StageUnderReview)}, stage(domain.StageDecided), nil, domain.StageDecided},
		{"hold after decision", []step{stage(domain.StageUnderReview), stage(domain.StageDecided)}, stage(domain.StageOnHold), nil, domain.StageOnHold},
		{"clear after hold", []step{stage(domain.StageUnderReview), stage(domain.StageDecided), stage(domain.StageOnHold)}, stage(domain.StageCleared), nil, domain.StageCleared},
		{"back under review after a decision", []step{stage(domain.StageUnderReview), stage(domain.StageDecided), amend}, stage(domain.StageUnderReview), nil, domain.StageUnderReview},
		{"close straight after receipt", nil, closed(domain.OutcomeNoData), nil, domain.StageClosed},
		{"close as redirected", []step{stage(domain.StageUnderReview), stage(domain.StageDecided)}, closed(domain.OutcomeRedirected), nil, domain.StageClosed},
		{"same stage again is a no-op", []step{stage(domain.StageUnderReview)}, stage(domain.StageUnderReview), nil, domain.StageUnderReview},
		{"amend while received", nil, amend, nil, domain.StageReceived},
		{"amend while on hold", []step{stage(domain.StageUnderReview), stage(domain.StageDecided), stage(domain.StageOnHold)}, amend, nil, domain.StageOnHold},
		{"withdraw while under review", []step{stage(domain.StageUnderReview)}, withdraw, nil, domain.StageWithdrawn},
		{"close after withdrawal", []step{withdraw}, closed(domain.OutcomeWithdrawn), nil, domain.StageClosed},

		// Refused.
		{"amend after withdrawal", []step{withdraw}, amend, domain.ErrWithdrawn, domain.StageWithdrawn},
		{"amend after close", []step{closed(domain.OutcomeRejected)}, amend, domain.ErrClosed, domain.StageClosed},
		{"withdraw twice", []step{withdraw}, withdraw, domain.ErrWithdrawn, domain.StageWithdrawn},
		{"withdraw after close", []step{closed(domain.OutcomeChallenged)}, withdraw, domain.ErrClosed, domain.StageClosed},
		{"withdraw after withdrawn and closed", []step{withdraw, closed(domain.OutcomeWithdrawn)}, withdraw, domain.ErrClosed, domain.StageClosed},
		{"any stage after close", []step{closed(domain.OutcomeRejected)}, stage(domain.StageUnderReview), domain.ErrClosed, domain.StageClosed},
		{"close twice", []step{closed(domain.OutcomeRejected)}, closed(domain.OutcomeDisclosed), domain.ErrClosed, domain.StageClosed},
		{"review after withdrawal", []step{withdraw}, stage(domain.StageUnderReview), domain.ErrWithdrawn, domain.StageWithdrawn},
		{"decide before review", nil, stage(domain.StageDecided), domain.ErrStageChange, domain.StageReceived},
		{"clear before decision", []step{stage(domain.StageUnderReview), stage(domain.StageOnHold)}, stage(domain.StageCleared), domain.ErrStageChange, domain.StageOnHold},
		{"close without outcome", nil, closed(""), domain.ErrStageChange, domain.StageReceived},
		{"close with unknown outcome", nil, closed("shrugged"), domain.ErrStageChange, domain.StageReceived},
		{"outcome on a stage other than closed", nil, func(l *domain.Lifecycle, at time.Time) error {
			return l.ApplyStageChange(domain.StageChange{Stage: domain.StageUnderReview, Outcome: domain.OutcomeRejected, At: at})
		}, domain.ErrStageChange, domain.StageReceived},
		{"received reported by another service", nil, stage(domain.StageReceived), domain.ErrStageChange, domain.StageReceived},
		{"withdrawn reported as a stage", nil, stage(domain.StageWithdrawn), domain.ErrStageChange, domain.StageReceived},
		{"amended reported as a stage", nil, stage(domain.StageAmended), domain.ErrStageChange, domain.StageReceived},
		{"unknown stage", nil, stage("deliberating"), domain.ErrStageChange, domain.StageReceived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := run(t, tt.setup...)
			before := l.Timeline()
			err := tt.do(l, now.Add(100*time.Hour))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			case tt.wantErr != nil && !errors.Is(err, ddrerr.ErrFailedPrecondition):
				t.Fatalf("error %v does not match ddrerr.ErrFailedPrecondition", err)
			case tt.wantErr != nil && !slices.Equal(l.Timeline(), before):
				t.Errorf("refused change still altered the timeline: %+v", l.Timeline())
			}
			if l.Stage() != tt.wantStage {
				t.Errorf("stage = %s, want %s", l.Stage(), tt.wantStage)
			}
		})
	}
}

func TestLifecycle_CanAmendAndCanWithdrawAgreeWithCommands(t *testing.T) {
	open := run(t, stage(domain.StageUnderReview))
	if open.CanAmend() != nil || open.CanWithdraw() != nil {
		t.Errorf("open request: CanAmend %v, CanWithdraw %v", open.CanAmend(), open.CanWithdraw())
	}
	done := run(t, closed(domain.OutcomeRejected))
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
	for _, typ := range []reflect.Type{reflect.TypeFor[domain.TimelineEntry](), reflect.TypeFor[domain.StageChange]()} {
		var names []string
		for f := range typ.Fields() {
			names = append(names, f.Name)
		}
		if want := []string{"Stage", "Outcome", "At"}; !slices.Equal(names, want) {
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
