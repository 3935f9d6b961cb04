package cli

import (
	"regexp"
	"strings"
	"testing"
)

// Issue 16 by ddrctl alone: the reviewer asks the member a question and the
// member's amendment sends the case back to review; a correction that
// weakens a step waits for a second person; two requests are linked as one
// demand; a withdrawal is acknowledged by one Privacy Team member.
func TestDdrctlCaseLifecycle(t *testing.T) {
	d := startInsecure(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))
	// The same demand sent to a second group member: another key.
	other := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "--key", "letter-2026-0042-b", "-o", "json"))
	d.until(alice, always, "case", "get", id)
	d.until(alice, always, "case", "get", other)
	d.ok(alice, "case", "claim", id)
	d.ok(alice, "case", "factors", id, "--all", "assessed with the court order", "--rights", "proportionate")

	if r := d.as(alice, "case", "ask", id); r.code != ExitUsage {
		t.Fatalf("ask without a question: exit %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
	if out := d.ok(alice, "case", "ask", id, "--question", "Which period does the order cover?"); !strings.Contains(out, "information_requested") || !strings.Contains(out, "Which period") {
		t.Fatalf("case after the question:\n%s", out)
	}
	d.ok(member, "request", "amend", id, "--info", "January to March")
	d.until(alice, func(s string) bool { return strings.Contains(s, `"REOPEN_TRIGGER_INFORMATION_SUPPLIED"`) }, "case", "get", id, "-o", "json")

	out := d.ok(alice, "case", "correct", id, "--imminent-risk=true", "--reason", "the authority's letter claims a risk to life")
	m := regexp.MustCompile(`CORRECTION\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "2.1") {
		t.Fatalf("a weakening correction:\n%s", out)
	}
	if r := d.as(alice, "case", "confirm-correction", id, "--correction", m[1]); r.code != ExitDenied {
		t.Fatalf("the reviewer who proposed it confirming: exit %d, want %d\n%s", r.code, ExitDenied, r.stderr)
	}
	if out := d.ok(bob, "case", "confirm-correction", id, "--correction", m[1]); !strings.Contains(out, "imminent_risk_claimed") || !strings.Contains(out, bob) {
		t.Fatalf("case after the confirmation:\n%s", out)
	}

	if r := d.as(alice, "case", "link", id, "--to", id, "--reason", "same"); r.code != ExitInvalid {
		t.Fatalf("a case linked to itself: exit %d, want %d\n%s", r.code, ExitInvalid, r.stderr)
	}
	if out := d.ok(alice, "case", "link", id, "--to", other, "--reason", "same warrant"); !strings.Contains(out, "LINKED") || !strings.Contains(out, other) {
		t.Fatalf("case after the link:\n%s", out)
	}

	if r := d.as(bob, "case", "ack-withdrawal", id); r.code != ExitRefused {
		t.Fatalf("acknowledging nothing: exit %d, want %d\n%s", r.code, ExitRefused, r.stderr)
	}
	d.ok(member, "request", "withdraw", id, "--reason", "withdrawn by letter")
	if out := d.ok(bob, "case", "ack-withdrawal", id); !strings.Contains(out, "withdrawn") || !strings.Contains(out, "WITHDRAWAL ACKNOWLEDGED BY") {
		t.Fatalf("case after the acknowledgement:\n%s", out)
	}
}
