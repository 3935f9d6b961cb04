package cli

import (
	"strings"
	"testing"
)

// Issue 16 item 4 by ddrctl (clause 3.3): the reviewer reads the whole
// request with its amendments, targets sealed; the reveal needs a reason,
// is the Privacy Team's only, and shows in `ddrctl record get`; legal
// records a withdrawal the authority told it of, which the member sees.
func TestClause3_3_DdrctlShowsTheWholeRequestAndRecordsEachReveal(t *testing.T) {
	d := startInsecure(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))
	d.ok(member, "request", "amend", id, "--info", "the order's second page follows")

	out := d.ok(alice, "case", "request", id)
	for _, want := range []string{"Staatsanwaltschaft Berlin (prosecutor, DE)", "court_order AG Tiergarten 351 Gs 42/26", "fraud investigation",
		"TARGETS (1, sealed)", "t1   account", "the order's second page follows"} {
		if !strings.Contains(out, want) {
			t.Errorf("case request lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "acct-981") {
		t.Errorf("case request shows a target value:\n%s", out)
	}

	if r := d.as(alice, "case", "reveal", id, "--reason", " "); r.code != ExitInvalid || !strings.Contains(r.stderr, "reason:") {
		t.Errorf("reveal without a reason: exit %d, %s; want %d on reason", r.code, r.stderr, ExitInvalid)
	}
	if r := d.as(member, "case", "reveal", id, "--reason", "curious"); r.code != ExitDenied {
		t.Errorf("a group member revealing: exit %d, want %d", r.code, ExitDenied)
	}
	if out := d.ok(alice, "case", "reveal", id, "--reason", "check the account exists"); !strings.Contains(out, "acct-981") {
		t.Errorf("reveal shows:\n%s", out)
	}
	if out := d.ok(bob, "case", "request", id); !strings.Contains(out, "spiffe://ddr.local/staff/alice") || !strings.Contains(out, "check the account exists") {
		t.Errorf("case request does not list the reveal:\n%s", out)
	}
	d.until(alice, func(s string) bool { return strings.Contains(s, "ddr.intake.v1.TargetsRevealed") }, "record", "get", id)

	d.ok(carol, "case", "record-withdrawal", id, "--reason", "prosecutor phoned: order revoked")
	if out := d.ok(member, "request", "get", id); !strings.Contains(out, "closed") || !strings.Contains(out, "withdrawn") {
		t.Errorf("the member sees:\n%s", out)
	}
	if out := d.ok(alice, "case", "request", id); !strings.Contains(out, "recorded by spiffe://ddr.local/staff/carol") {
		t.Errorf("case request does not show who recorded the withdrawal:\n%s", out)
	}
}
