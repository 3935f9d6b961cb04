package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Issue 16's must-show: a reveal of the target values (ddrctl case reveal)
// is recorded and appears in ddrctl's record output, who, when and with
// which roles, never its reason's text. The withdrawal goes through the
// member's RPC; its acknowledgement is appended as assessment writes it
// until AcknowledgeWithdrawal is merged.
func TestDdrctlRecordShowsTheRevealAndTheWithdrawal(t *testing.T) {
	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{Insecure: true}, cfg.Build)
	d := ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))

	const reason = "to check the account of Jane Canary-Reveal"
	d.until(alice, always, "case", "get", id)
	d.ok(alice, "case", "reveal", id, "--reason", reason)
	d.ok(member, "request", "withdraw", id, "--reason", "the authority withdrew by letter")

	out := d.until(alice, func(s string) bool { return strings.Contains(s, "withdrawn") }, "record", "show", id)
	var reveal string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "targets revealed") {
			reveal = line
		}
	}
	if reveal == "" || !strings.Contains(reveal, alice) || !strings.Contains(reveal, time.Now().UTC().Format("2006-01-02")) || !strings.Contains(reveal, "roles reviewer") {
		t.Errorf("the reveal is not shown with who, when and roles:\n%s", out)
	}
	if !strings.Contains(reveal, "sealed in the record") {
		t.Errorf("the reveal does not say its reason is recorded:\n%s", out)
	}
	if strings.Contains(out, "Canary") || strings.Contains(out, "letter") {
		t.Errorf("the record output shows free text:\n%s", out)
	}
	// Withdrawn, not yet acknowledged: the record stays open.
	if !strings.Contains(out, "CLOSED   no") {
		t.Errorf("closed on the withdrawal alone:\n%s", out)
	}
	// Acknowledged: closed as withdrawn, in the acknowledger's name.
	acknowledgeWithdrawal(t, p, id)
	// Reporting records the disposition in reaction to the acknowledgement.
	out = d.until(alice, func(s string) bool { return strings.Contains(s, "CLOSED   yes") && strings.Contains(s, "disposition") }, "record", "show", id)
	if !strings.Contains(out, "withdrawal acknowledged") || !strings.Contains(out, "the request closes as withdrawn") {
		t.Errorf("the acknowledgement is not shown:\n%s", out)
	}
	var disposition string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "disposition") {
			disposition = line
		}
	}
	if !strings.Contains(disposition, "withdrawn") || !strings.Contains(disposition, alice) {
		t.Errorf("the record does not close as withdrawn in the acknowledger's name:\n%s", out)
	}
}

// appendAs appends ev to the request's events as service would, through
// the event store, retrying on a conflict with the suite's own writers.
func appendAs(t *testing.T, p *runnertest.Proc, service, id string, ev eventstore.Event) {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/"+service))
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.NewStore(js)
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		h, err := store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Append(ctx, id, h.LastSeq, ev)
		if errors.Is(err, eventstore.ErrConflict) && attempt < 20 {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// acknowledgeWithdrawal is a Privacy Team member acknowledging the
// request's withdrawal, which closes and seals its record (issue 16): the
// event appended as assessment writes it, until assessment's
// AcknowledgeWithdrawal is merged (then the tests call it).
func acknowledgeWithdrawal(t *testing.T, p *runnertest.Proc, id string) {
	t.Helper()
	now := time.Now().UTC()
	appendAs(t, p, "assessment", id, eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.withdrawal_acknowledged"), RequestID: id, Service: "assessment", Name: "withdrawal_acknowledged",
		Time: now, Actor: alice,
		Payload: &assessmentv1.WithdrawalAcknowledged{RequestId: id, AcknowledgedBy: alice, AcknowledgeTime: timestamppb.New(now)},
	})
}
