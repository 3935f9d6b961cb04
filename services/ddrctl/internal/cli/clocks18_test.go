package cli

import (
	"strings"
	"testing"
)

// Issue 18 by ddrctl: a request's deadlines are listed with their source
// and counting rule; the review deadline is counted on the Privacy Team's
// calendar; a request that is no EPOC has no enforcing authority to wait
// for.
func TestDdrctlCaseDeadlines(t *testing.T) {
	d := startInsecure(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))
	d.until(alice, always, "case", "get", id)
	out := d.ok(alice, "case", "deadlines", id)
	for _, want := range []string{"DEADLINE", "review", "business_days on privacy-team", "Government Data Request Policy 3.1", "pending"} {
		if !strings.Contains(out, want) {
			t.Fatalf("case deadlines lacks %q:\n%s", want, out)
		}
	}
	if r := d.as(alice, "case", "confirm-enforcing", id); r.code != ExitRefused || !strings.Contains(r.stderr, "2.1") {
		t.Fatalf("confirm-enforcing on a request without the wait: exit %d, want %d\n%s", r.code, ExitRefused, r.stderr)
	}
	if r := d.as(alice, "case", "deadline-met", id, "no-such-deadline"); r.code != ExitNotFound {
		t.Fatalf("deadline-met of an unknown deadline: exit %d, want %d\n%s", r.code, ExitNotFound, r.stderr)
	}
}
