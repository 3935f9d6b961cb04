package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Issue 18 by ddrctl alone: an emergency from a sender the directory does
// not verify is approved only after "case verify" records a confirmed call
// back through a contact "case verify-contacts" lists from the directory.
func TestClause2_1_DdrctlVerifiesTheRequesterThroughTheDirectory(t *testing.T) {
	d := startInsecure(t)
	b, err := os.ReadFile(writeDemand(t))
	if err != nil {
		t.Fatal(err)
	}
	emergency := strings.NewReplacer(
		"idempotency_key: letter-2026-0042", "idempotency_key: email-2026-0099",
		"channel: CHANNEL_LETTER", "channel: CHANNEL_EMAIL\n  sender_address: garda.detective@gmail.com\n  emergency: {claimed: true, imminent_risk_of_serious_harm: true, harm_described: threat to life}",
		"name: Staatsanwaltschaft Berlin", "name: An Garda Síochána",
		"kind: AUTHORITY_KIND_PROSECUTOR", "kind: AUTHORITY_KIND_POLICE",
		"country: DE", "country: IE",
	).Replace(string(b))
	path := filepath.Join(t.TempDir(), "emergency.yaml")
	if err := os.WriteFile(path, []byte(emergency), 0o600); err != nil {
		t.Fatal(err)
	}
	id := requestID(t, d.ok(member, "request", "submit", "-f", path, "-o", "json"))
	if out := d.until(alice, always, "case", "get", id); !strings.Contains(out, "unverified_requester") || strings.Contains(out, "detective") {
		t.Fatalf("case get: want the unverified_requester flag, never the sender's address:\n%s", out)
	}
	d.ok(alice, "case", "claim", id)
	d.ok(alice, "case", "factors", id, "--all", "assessed", "--rights", "a life at risk; one account")
	d.ok(alice, "case", "challenge", id, "--reasoning", "no grounds")
	d.ok(alice, "case", "decide", id, "--kind", "disclose", "--basis", "imminent-risk-of-serious-harm")
	if r := d.as(bob, "case", "approve", id); r.code != ExitRefused || !strings.Contains(r.stderr, "2.1") {
		t.Fatalf("approval before the call back: exit %d, want %d with clause 2.1\n%s", r.code, ExitRefused, r.stderr)
	}
	contacts := d.ok(bob, "case", "verify-contacts", id)
	phone := regexp.MustCompile(`phone:[0-9]+`).FindString(contacts)
	_, listed, _ := strings.Cut(contacts, "CONTACTS")
	if !strings.Contains(contacts, "ie-garda") || phone == "" || strings.Contains(listed, "gmail") {
		t.Fatalf("verify-contacts: want the Garda's directory contacts:\n%s", contacts)
	}
	if r := d.as(bob, "case", "verify", id, "--channel", "email:gmail.com", "--outcome", "confirmed"); r.code != ExitInvalid {
		t.Errorf("a channel not in the directory: exit %d, want %d\n%s", r.code, ExitInvalid, r.stderr)
	}
	if out := d.ok(bob, "case", "verify", id, "--channel", phone, "--outcome", "confirmed", "--note", "duty sergeant confirmed"); !strings.Contains(out, "confirmed") {
		t.Fatalf("case verify:\n%s", out)
	}
	if out := d.ok(bob, "case", "approve", id); !strings.Contains(out, "decided") {
		t.Fatalf("approval after the call back:\n%s", out)
	}
}

// The verification scope by ddrctl alone, under the two-person rule: alice
// widens at once; her narrowing waits, she cannot confirm it, bob does; the
// history shows every setting.
func TestClause2_1_DdrctlNarrowsTheVerificationScopeOnlyWithASecondPerson(t *testing.T) {
	d := startInsecure(t)
	if out := d.ok(alice, "case", "verify-scope"); !strings.Contains(out, "emergency") || !strings.Contains(out, "initial") {
		t.Fatalf("verify-scope: want the flag's emergency as the initial value:\n%s", out)
	}
	if out := d.ok(alice, "case", "verify-scope", "set", "--scope", "all", "--reason", "sector warning"); !regexp.MustCompile(`IN FORCE NOW\s+yes`).MatchString(out) {
		t.Fatalf("a widening by one person: want it in force now:\n%s", out)
	}
	var p struct {
		Pending struct {
			ProposalID string `json:"proposal_id"`
		} `json:"pending"`
	}
	out := d.ok(alice, "case", "verify-scope", "set", "--scope", "emergency", "--reason", "warning over", "-o", "json")
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Pending.ProposalID == "" {
		t.Fatalf("a narrowing: want a pending proposal: %v\n%s", err, out)
	}
	if out := d.ok(bob, "case", "verify-scope"); !regexp.MustCompile(`SCOPE IN FORCE\s+all`).MatchString(out) || !strings.Contains(out, p.Pending.ProposalID) {
		t.Fatalf("before the confirmation: want all in force and the proposal pending:\n%s", out)
	}
	if r := d.as(alice, "case", "verify-scope", "confirm", "--proposal", p.Pending.ProposalID); r.code != ExitDenied {
		t.Fatalf("alice confirming her own narrowing: exit %d, want %d\n%s", r.code, ExitDenied, r.stderr)
	}
	if out := d.ok(bob, "case", "verify-scope", "confirm", "--proposal", p.Pending.ProposalID); !regexp.MustCompile(`SCOPE IN FORCE\s+emergency`).MatchString(out) || !strings.Contains(out, bob) {
		t.Fatalf("bob's confirmation: want emergency in force, confirmed by bob:\n%s", out)
	}
	if r := d.as(carol, "case", "verify-scope", "confirm", "--proposal", p.Pending.ProposalID); r.code != ExitNotFound {
		t.Errorf("confirming again: exit %d, want %d\n%s", r.code, ExitNotFound, r.stderr)
	}
	_, hist, _ := strings.Cut(d.ok(alice, "case", "verify-scope"), "HISTORY")
	if n := len(regexp.MustCompile(`(?m)^(emergency|unverified|all)\s`).FindAllString(hist, -1)); n != 3 {
		t.Errorf("history: want 3 settings (initial, widened, narrowed), got %d:\n%s", n, hist)
	}
}
