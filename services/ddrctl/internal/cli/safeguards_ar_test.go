package cli

import (
	"strings"
	"testing"
)

// Issue 15 by ddrctl alone: a warranted challenge's outcome is recorded by
// one person and confirmed by a second, legal one; a report restriction is
// proposed by one legal person and never confirmed by the same one.
func TestDdrctlTwoPersonChallengeOutcomeAndReportRestriction(t *testing.T) {
	const carol = "spiffe://ddr.local/staff/carol" // legal in the development roles
	d := startInsecure(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))
	d.until(alice, always, "case", "get", id)
	d.ok(alice, "case", "claim", id)
	d.ok(alice, "case", "factors", id, "--all", "assessed with the court order", "--rights", "proportionate")
	d.ok(alice, "case", "challenge", id, "--warranted", "--reasoning", "overbroad; counsel will challenge")
	if r := d.as(alice, "case", "decide", id, "--kind", "disclose", "--basis", "compelling-legal-obligation"); r.code != ExitRefused || !strings.Contains(r.stderr, "3.3") {
		t.Fatalf("disclosure with the challenge unresolved: exit %d, want %d with clause 3.3\n%s", r.code, ExitRefused, r.stderr)
	}
	d.ok(alice, "case", "challenge-outcome", id, "--outcome", "dismissed", "--basis", "the court upheld the order", "--reference", "KG Berlin 7/26")
	if r := d.as(alice, "case", "confirm-outcome", id); r.code != ExitDenied {
		t.Fatalf("a reviewer confirming: exit %d, want %d\n%s", r.code, ExitDenied, r.stderr)
	}
	if out := d.ok(carol, "case", "confirm-outcome", id); !strings.Contains(out, "CONFIRMED BY") || !strings.Contains(out, carol) {
		t.Fatalf("case after confirmation:\n%s", out)
	}
	d.ok(alice, "case", "decide", id, "--kind", "disclose", "--basis", "compelling-legal-obligation")

	if r := d.as(carol, "record", "restrict", id, "--restriction", "excluded-by-court-order"); r.code != ExitInvalid {
		t.Fatalf("a restriction without its legal reference: exit %d, want %d\n%s", r.code, ExitInvalid, r.stderr)
	}
	if out := d.ok(carol, "record", "restrict", id, "--restriction", "excluded-by-court-order", "--reference", "LG Berlin 1/26"); !strings.Contains(out, "LG Berlin 1/26") {
		t.Fatalf("proposed restriction:\n%s", out)
	}
	if r := d.as(carol, "record", "confirm-restriction", id); r.code != ExitRefused || !strings.Contains(r.stderr, "5.1") {
		t.Fatalf("the proposer confirming: exit %d, want %d with clause 5.1\n%s", r.code, ExitRefused, r.stderr)
	}
	d.ok(carol, "record", "restrict", id, "--restriction", "none")
}
