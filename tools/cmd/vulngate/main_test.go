package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A govulncheck JSON stream: GO-1 reached from our code, GO-2 only imported.
const stream = `{"config":{"protocol_version":"v1.0.0"}}
{"osv":{"id":"GO-1"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.0","trace":[{"module":"example.com/m","version":"v1.1.0","package":"example.com/m/p"}]}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.0","trace":[{"module":"example.com/m","version":"v1.1.0","package":"example.com/m/p","function":"F"},{"module":"ours","package":"ours/x","function":"G"}]}}
{"finding":{"osv":"GO-2","trace":[{"module":"stdlib","version":"v1.27.3","package":"net/http"}]}}
`

func verdict(t *testing.T, allowlist string, today string) (bool, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(path, []byte(allowlist), 0o600); err != nil {
		t.Fatal(err)
	}
	allowed, err := readAllowlist(path)
	if err != nil {
		t.Fatal(err)
	}
	found, err := parseFindings(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.DateOnly, today)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ok := judge(found, allowed, now, &out)
	return ok, out.String()
}

func TestReachableFindingNotListedFails(t *testing.T) {
	ok, out := verdict(t, "# none\n", "2026-12-01")
	if ok || !strings.Contains(out, "FAIL GO-1 in example.com/m@v1.1.0 (fixed in v1.2.0), reached: example.com/m/p.F") {
		t.Errorf("ok=%v, output:\n%s", ok, out)
	}
	if strings.Contains(out, "FAIL GO-2") {
		t.Errorf("a finding that is not called failed the build:\n%s", out)
	}
}

func TestListedFindingPassesUntilItsExpiry(t *testing.T) {
	list := "GO-1 example.com/m 2026-12-31 no fix yet, not reachable with our config\n"
	if ok, out := verdict(t, list, "2026-12-31"); !ok {
		t.Errorf("listed finding failed on its expiry day:\n%s", out)
	}
	if ok, out := verdict(t, list, "2027-01-01"); ok || !strings.Contains(out, "expired on 2026-12-31") {
		t.Errorf("expired entry passed, ok=%v:\n%s", ok, out)
	}
}

func TestListedForAnotherModuleFails(t *testing.T) {
	if ok, out := verdict(t, "GO-1 example.com/other 2027-01-01 wrong module\n", "2026-12-01"); ok {
		t.Errorf("an entry for another module allowed the finding:\n%s", out)
	}
}

func TestExpiredEntryFailsEvenWithoutFinding(t *testing.T) {
	ok, out := verdict(t, "GO-1 example.com/m 2027-01-01 r\nGO-9 example.com/gone 2026-01-01 fixed since\n", "2026-12-01")
	if ok || !strings.Contains(out, "GO-9 in example.com/gone expired") {
		t.Errorf("ok=%v:\n%s", ok, out)
	}
}

func TestMalformedAllowlistIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(path, []byte("GO-1 example.com/m 31.12.2026 reason\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readAllowlist(path); err == nil {
		t.Error("a date not in YYYY-MM-DD was accepted")
	}
	if err := os.WriteFile(path, []byte("GO-1 example.com/m 2026-12-31\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readAllowlist(path); err == nil {
		t.Error("an entry without a reason was accepted")
	}
}
