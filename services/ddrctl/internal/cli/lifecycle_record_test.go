package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Issue 16's must-show: a reveal of the target values (ddrctl case reveal)
// is recorded and appears in ddrctl's record output, who, when and with
// which roles, never its reason's text. The withdrawal goes through the
// member's RPC, its acknowledgement through ddrctl case ack-withdrawal.
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

// acknowledgeWithdrawal is a Privacy Team member (alice) acknowledging
// the request's withdrawal through assessment's AcknowledgeWithdrawal,
// which closes and seals its record (issue 16). Until the case has read the
// withdrawal it is refused, so it is asked again.
func acknowledgeWithdrawal(t *testing.T, p *runnertest.Proc, id string) {
	t.Helper()
	d := ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}
	d.until(alice, always, "case", "ack-withdrawal", id)
}
