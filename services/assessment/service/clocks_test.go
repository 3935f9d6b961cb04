package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

func (e *env) clocks(uri string) assessmentv1.ClocksServiceClient {
	return assessmentv1.NewClocksServiceClient(e.dial(uri))
}

func deadlineOf(t *testing.T, ds []*assessmentv1.DeadlineView, id string) *assessmentv1.DeadlineView {
	t.Helper()
	for _, d := range ds {
		if d.GetDeadline().GetId() == id {
			return d
		}
	}
	t.Fatalf("no deadline %q", id)
	return nil
}

// An EPOC over gRPC: its deadlines are set when the case opens, the queue
// shows the nearest, and once the clock passes the 10 days the sweep
// records the transmission deadline overdue, once.
func TestArt10_Regulation2023_1543_EPOCDeadlineIsSetAndRecordedOverdueOnceOverGRPC(t *testing.T) {
	cfg := defaults(t)
	cfg.OverdueInterval = 5 * time.Millisecond
	e := start(t, cfg)
	a, cl := e.as(alice), e.clocks(alice)
	ctx := context.Background()
	req := narrowRequest(e.clock.Now().Add(-time.Hour))
	req.Authority.Country = "DE"
	req.LegalProcess = &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_EUROPEAN_PRODUCTION_ORDER, EnforcingAuthorityNotified: true}
	id := e.receive(req)
	opened := e.openCase(a, id)

	ds := ok(cl.ListDeadlines(ctx, &assessmentv1.ListDeadlinesRequest{RequestId: id}))(t)
	tr := deadlineOf(t, ds.GetDeadlines(), deadline.EPOCTransmitID)
	if src := tr.GetDeadline().GetRule().GetSource(); !strings.Contains(src, "Art. 10(3)") {
		t.Fatalf("transmission deadline source %q", src)
	}
	wait := deadlineOf(t, ds.GetDeadlines(), deadline.EPOCEnforcingWaitID)
	if wait.GetDeadline().GetKind() != assessmentv1.DeadlineKind_DEADLINE_KIND_NOT_BEFORE || wait.GetStatus() != assessmentv1.DeadlineStatus_DEADLINE_STATUS_PENDING {
		t.Fatalf("waiting period %v", wait)
	}
	review := deadlineOf(t, ds.GetDeadlines(), "review")
	if !review.GetDeadline().GetDueTime().AsTime().Equal(opened.GetReviewDueTime().AsTime()) || review.GetDeadline().GetRule().GetCalendar() != "privacy-team" {
		t.Fatalf("review deadline %v, case's %v", review, opened.GetReviewDueTime())
	}
	// The command's events are appended one by one: a read between
	// CaseOpened and DeadlinesSet sees no clock yet, so wait for it.
	testkit.Eventually(t, "the case shows its nearest deadline", func() bool {
		opened = ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
		return opened.GetNextDeadline() != nil
	})
	if n := opened.GetNextDeadline(); n.GetDeadline().GetId() != "review" {
		t.Fatalf("the case shows its nearest deadline: %v", n)
	}

	// The confirmation is recorded once; the transmission deadline is
	// still owed.
	ok(cl.RecordEnforcingAuthorityConfirmation(ctx, &assessmentv1.RecordEnforcingAuthorityConfirmationRequest{RequestId: id}))(t)
	_, err := cl.RecordEnforcingAuthorityConfirmation(ctx, &assessmentv1.RecordEnforcingAuthorityConfirmationRequest{RequestId: id})
	wantClause(t, err, "2.1", "DEADLINE_NOT_OPEN")
	if len(eventsOf[*assessmentv1.DeadlinesSet](e, id)) != 1 || len(eventsOf[*assessmentv1.DeadlineMet](e, id)) != 1 {
		t.Fatal("want one DeadlinesSet and one DeadlineMet")
	}

	e.clock.Set(tr.GetDeadline().GetDueTime().AsTime().Add(time.Minute))
	testkit.Eventually(t, "the transmission deadline recorded overdue", func() bool {
		for _, o := range eventsOf[*assessmentv1.DeadlineOverdue](e, id) {
			if o.GetDeadlineId() == deadline.EPOCTransmitID {
				return true
			}
		}
		return false
	})
	testkit.Eventually(t, "the queue shows it overdue", func() bool {
		l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{}))(t)
		return len(l.GetCases()) == 1 && l.GetCases()[0].GetNextDeadline().GetStatus() == assessmentv1.DeadlineStatus_DEADLINE_STATUS_OVERDUE
	})
	e.clock.Advance(time.Hour) // more sweeps over the same due time
	testkit.Eventually(t, "the sweep settled", func() bool {
		l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{}))(t)
		return len(l.GetCases()) == 1 && l.GetCases()[0].GetVersion() == lastSeq(t, e, id)
	})
	n := 0
	for _, o := range eventsOf[*assessmentv1.DeadlineOverdue](e, id) {
		if o.GetDeadlineId() == deadline.EPOCTransmitID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d DeadlineOverdue events for the transmission deadline, want 1", n)
	}

	// A member cannot read the clocks; an unknown request is NOT_FOUND.
	if _, err := e.clocks(member).ListDeadlines(ctx, &assessmentv1.ListDeadlinesRequest{RequestId: id}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("member: %v", err)
	}
	if _, err := cl.ListDeadlines(ctx, &assessmentv1.ListDeadlinesRequest{RequestId: "0197a000-0000-7000-8000-000000000000"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown request: %v", err)
	}
}

func lastSeq(t *testing.T, e *env, id string) uint64 {
	t.Helper()
	h, err := e.store.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return h.LastSeq
}

// The calendars file is validated at load: an invalid one stops startup
// with an error naming the file's problems.
func TestInvalidCalendarsFileStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calendars.json")
	bad := `{"calendars": [{"name": "privacy-team", "zone": "Europe/Nowhere", "source": "", "covers": {"from": 2026, "until": 2026},
  "holidays": [{"date": "2026-13-01", "name": "no such day"}]}]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaults(t)
	cfg.Calendars = path
	err := runner.Run(context.Background(), runnerConfig(t), quiet, build(cfg))
	if !errors.Is(err, deadline.ErrInvalidCalendars) {
		t.Fatalf("startup with an invalid calendars file: %v, want ErrInvalidCalendars", err)
	}
	for _, want := range []string{"--assessment-calendars", "zone", "source is empty", "2026-13-01"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}

	// A valid file without the calendars the clocks count on is refused too.
	if err := os.WriteFile(path, []byte(`{"calendars": [{"name": "DE", "zone": "Europe/Berlin", "source": "test", "covers": {"from": 2026, "until": 2026}, "holidays": []}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err = runner.Run(context.Background(), runnerConfig(t), quiet, build(cfg))
	if !errors.Is(err, deadline.ErrInvalidCalendars) || !strings.Contains(err.Error(), "privacy-team") {
		t.Fatalf("startup without the privacy-team calendar: %v", err)
	}
}
