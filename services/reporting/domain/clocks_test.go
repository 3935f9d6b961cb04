package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// An EPOC whose issuing authority notified the enforcing authority (Art. 8
// of Regulation 2023/1543), received at `received`: the data may not be
// transmitted before the end of the 10 days unless the enforcing authority
// confirms earlier (Art. 10(3)).
func epocClocks(t *testing.T) (*domain.Clocks, time.Time) {
	t.Helper()
	cals, err := deadline.DefaultCalendars()
	if err != nil {
		t.Fatal(err)
	}
	recv := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	ds, err := deadline.EPOC{Received: recv, EnforcingNotified: true}.Deadlines(cals)
	if err != nil {
		t.Fatal(err)
	}
	var c domain.Clocks
	c.SetDeadlines(ds, recv)
	for _, d := range ds {
		if d.ID == deadline.EPOCEnforcingWaitID {
			return &c, d.At
		}
	}
	t.Fatal("no enforcing authority's waiting period")
	return nil, time.Time{}
}

func TestArt8_Regulation2023_1543_DisclosureBeforeTheEndOfTheTenDaysIsRefusedUnlessConfirmed(t *testing.T) {
	c, end := epocClocks(t)
	s := clearedState()
	s.ReceivedAt, s.ClearedAt, s.Clocks = end.Add(-10*24*time.Hour), end.Add(-9*24*time.Hour), c
	d := disclosure()
	d.Date = end.Add(-time.Hour)
	_, err := domain.RecordDisclosure(s, d)
	wantPolicy(t, err, "2.1", domain.RuleTransmissionNotYetPermitted)
	if msg := err.Error(); !strings.Contains(msg, "Art. 8 of Regulation 2023/1543") || !strings.Contains(msg, end.Format(time.RFC3339)) {
		t.Fatalf("the refusal must name the article and when transmission is permitted: %s", msg)
	}

	// At the end of the 10 days it is permitted.
	d.Date = end
	if _, err := domain.RecordDisclosure(s, d); err != nil {
		t.Fatalf("at the end of the 10 days: %v", err)
	}

	// Earlier, once the enforcing authority confirmed it raises no ground
	// for refusal.
	c.MeetDeadline(deadline.EPOCEnforcingWaitID, end.Add(-2*time.Hour))
	d.Date = end.Add(-time.Hour)
	if _, err := domain.RecordDisclosure(s, d); err != nil {
		t.Fatalf("after the enforcing authority's confirmation: %v", err)
	}
}

func TestArt8_Regulation2023_1543_RequestsWithoutAWaitingPeriodAreNotHeld(t *testing.T) {
	if err := domain.CheckTransmission(nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	var c domain.Clocks
	if err := domain.CheckTransmission(&c, time.Now()); err != nil {
		t.Fatal(err)
	}
}
