package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

const (
	member = "spiffe://ddr.local/group-member/acme-eu"
	alice  = "spiffe://ddr.local/staff/alice"
	bob    = "spiffe://ddr.local/staff/bob"
	carol  = "spiffe://ddr.local/staff/carol" // legal
)

// ddrctl runs the command tree in-process against one suite.
type ddrctl struct {
	t     *testing.T
	flags []string
	// config is DDR_CONFIG_DIR, where the idempotency secret lives.
	config string
}

type result struct {
	stdout, stderr string
	code           int
}

func (d ddrctl) as(who string, args ...string) result {
	d.t.Helper()
	var out, errb bytes.Buffer
	all := append(append([]string{}, d.flags...), args...)
	if who != "" {
		all = append([]string{"--identity", who}, all...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Main(ctx, all, Env{
		Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Getenv: func(k string) string {
			if k == "DDR_CONFIG_DIR" {
				return d.config
			}
			return ""
		},
		PollInterval: 20 * time.Millisecond,
	})
	return result{out.String(), errb.String(), code}
}

// ok runs args and fails the test unless they exit 0.
func (d ddrctl) ok(who string, args ...string) string {
	d.t.Helper()
	r := d.as(who, args...)
	if r.code != 0 {
		d.t.Fatalf("ddrctl %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// until runs args until they exit 0 and cond holds for their output: the
// suite's reactions to events are asynchronous.
func (d ddrctl) until(who string, cond func(string) bool, args ...string) string {
	d.t.Helper()
	var out string
	testkit.EventuallyNoErrorWithin(d.t, 3*testkit.Patience, func() error {
		r := d.as(who, args...)
		if r.code == 0 && cond(r.stdout) {
			out = r.stdout
			return nil
		}
		return fmt.Errorf("ddrctl %v never got there: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	})
	return out
}

func always(string) bool { return true }

func startInsecure(t *testing.T) ddrctl {
	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{Insecure: true}, cfg.Build)
	return ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}
}

// writeDemand fills testdata/demand.yaml with recent times.
func writeDemand(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/demand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	b = []byte(strings.NewReplacer(
		"RECEIVED_AT", `"`+now.Add(-time.Hour).Format(time.RFC3339)+`"`,
		"PERIOD_FROM", `"`+now.AddDate(0, -3, 0).Format(time.RFC3339)+`"`,
		"PERIOD_TO", `"`+now.AddDate(0, 0, -1).Format(time.RFC3339)+`"`,
	).Replace(string(b)))
	path := filepath.Join(t.TempDir(), "demand.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func requestID(t *testing.T, jsonOut string) string {
	t.Helper()
	var v struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &v); err != nil || v.RequestID == "" {
		t.Fatalf("no request_id in %q: %v", jsonOut, err)
	}
	return v.RequestID
}

// A request through the whole suite by ddrctl alone, as a group member and
// two reviewers would type it; the tables people read are pinned by golden
// files.
func TestDdrctlWorksARequestFromSubmissionToItsRecord(t *testing.T) {
	d := startInsecure(t)
	demand := writeDemand(t)
	g := goldens{t: t}

	g.check("request_submit", d.ok(member, "request", "submit", "-f", demand))
	g.check("request_submit_again", d.ok(member, "request", "submit", "-f", demand))
	id := requestID(t, d.ok(member, "request", "submit", "-f", demand, "-o", "json"))

	d.until(alice, always, "case", "get", id)
	g.check("request_list", d.until(member, func(s string) bool { return strings.Contains(s, "under_review") }, "request", "list"))
	g.check("case_queue", d.ok(alice, "case", "queue"))

	d.ok(alice, "case", "claim", id)
	d.ok(alice, "case", "factors", id, "--factor", "nature=criminal investigation of fraud", "--all", "assessed with the court order", "--rights", "one subscriber record; proportionate")
	d.ok(alice, "case", "challenge", id, "--reasoning", "valid court order; no grounds")
	d.ok(alice, "case", "decide", id, "--kind", "disclose", "--basis", "compelling-legal-obligation")
	d.ok(bob, "case", "approve", id)
	g.check("case_get", d.ok(alice, "case", "get", id))

	// 2.2: the lead DPA is notified of every disclosure. It has no address
	// in this suite, so its packet goes by portal: recorded by one person,
	// counted once a second person confirms it.
	d.until(alice, always, "plan", "get", id)
	var proposed struct {
		LiftID string `json:"lift_id"`
	}
	if err := json.Unmarshal([]byte(d.ok(bob, "plan", "dispatch", id, "--authority", "DPC-IE", "--means", "portal", "--reference", "PORTAL-7", "-o", "json")), &proposed); err != nil || proposed.LiftID == "" {
		t.Fatalf("plan dispatch: no lift_id (%v)", err)
	}
	if r := d.as(bob, "plan", "confirm", id, "--lift", proposed.LiftID); r.code != ExitRefused {
		t.Errorf("the recorder confirming the dispatch: exit %d, want %d (refused)", r.code, ExitRefused)
	}
	d.ok(carol, "plan", "confirm", id, "--lift", proposed.LiftID)

	g.check("request_watch", d.ok(member, "request", "watch", id))
	g.check("plan_get", d.until(alice, func(s string) bool { return strings.Contains(s, "cleared") }, "plan", "get", id))
	g.check("record_get", d.until(alice, func(s string) bool { return strings.Contains(s, "RecordSealed") }, "record", "get", id))
	g.check("record_verify", d.ok(alice, "record", "verify", id))

	yamlOut := d.ok(member, "request", "get", id, "-o", "yaml")
	if !strings.Contains(yamlOut, "stage: STAGE_CLEARED") || !strings.Contains(yamlOut, "request_id: "+id) {
		t.Errorf("request get -o yaml:\n%s", yamlOut)
	}
}

// Scripts branch on the exit code; people read the reason on stderr.
func TestDdrctlExitCodesSayWhatWentWrong(t *testing.T) {
	d := startInsecure(t)
	demand := writeDemand(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", demand, "-o", "json"))
	d.until(alice, always, "case", "get", id)
	d.ok(alice, "case", "claim", id)

	tests := map[string]struct {
		who  string
		args []string
		code int
	}{
		// Clause 3.3: no decision before the review.
		"policy_refusal": {alice, []string{"case", "decide", id, "--kind", "disclose", "--basis", "compelling-legal-obligation"}, ExitRefused},
		"invalid_argument": {member, []string{"request", "submit", "--key", "bad-1", "--channel", "letter",
			"--authority", "Police", "--authority-kind", "police", "--country", "Germany", "--received-at", "2999-01-01T00:00:00Z"}, ExitInvalid},
		"not_found":       {member, []string{"request", "get", "01890000-0000-7000-8000-000000000000"}, ExitNotFound},
		"unauthenticated": {"", []string{"request", "list"}, ExitDenied},
		"permission":      {member, []string{"case", "queue"}, ExitDenied},
		"usage_args":      {alice, []string{"case", "decide"}, ExitUsage},
		"usage_flag":      {alice, []string{"case", "decide", id}, ExitUsage},
		"usage_enum":      {alice, []string{"case", "decide", id, "--kind", "publish"}, ExitUsage},
		"usage_command":   {alice, []string{"case", "bogus"}, ExitUsage},
		"usage_time":      {alice, []string{"plan", "check", id, "--at", "yesterday"}, ExitUsage},
		"usage_identity":  {"alice", []string{"case", "queue"}, ExitUsage},
		"unavailable":     {alice, []string{"--addr", "127.0.0.1:1", "--timeout", "2s", "case", "queue"}, ExitUnavailable},
	}
	g := goldens{t: t}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := d.as(tc.who, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			switch name {
			case "policy_refusal", "invalid_argument", "not_found":
				g.t = t
				g.check("exit_"+name, r.stderr)
			}
		})
	}
}

// A group member adds to a request and records its withdrawal; the request
// ends withdrawn and a second withdrawal is refused.
func TestDdrctlAmendsAndWithdrawsARequest(t *testing.T) {
	d := startInsecure(t)
	id := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "-o", "json"))

	d.ok(member, "request", "amend", id, "--info", "the authority narrowed the period to March",
		"--attachment", "https://dms.example/doc/77,"+strings.Repeat("ab", 32)+",application/pdf")
	d.ok(member, "request", "withdraw", id, "--reason", "withdrawn by letter")
	got := d.until(member, func(s string) bool { return strings.Contains(s, "withdrawn") }, "request", "get", id)
	if !strings.Contains(got, "AMENDMENTS       1") {
		t.Errorf("request get after amend and withdraw:\n%s", got)
	}
	if r := d.as(member, "request", "withdraw", id); r.code != ExitRefused {
		t.Errorf("second withdraw: exit %d, want %d\n%s", r.code, ExitRefused, r.stderr)
	}
}

// mTLS: with a client certificate the certificate is the identity; the
// development PKI's files are found from --pki-dir and --identity.
func TestDdrctlSpeaksMTLSWithAClientCertificate(t *testing.T) {
	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{}, cfg.Build)
	d := ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}
	demand := writeDemand(t)

	withPKI := append([]string{"--pki-dir", string(p.PKI)}, "request", "submit", "-f", demand, "-o", "json")
	id := requestID(t, d.ok(member, withPKI...))

	cert, key := p.PKI.Cert("group-member/acme-eu")
	got := d.ok("", "--tls-ca", p.PKI.CACert(), "--tls-cert", cert, "--tls-key", key, "request", "get", id)
	if !strings.Contains(got, id) {
		t.Errorf("request get over mTLS:\n%s", got)
	}
	// A plaintext client with only the dev header gets nowhere.
	if r := d.as(member, "request", "get", id, "--timeout", "2s"); r.code == 0 {
		t.Errorf("plaintext call to an mTLS suite succeeded:\n%s", r.stdout)
	}
}

// goldens compares masked output with testdata/<name>.golden.
type goldens struct{ t *testing.T }

func (g goldens) check(name, got string) {
	g.t.Helper()
	got = mask(got)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			g.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		g.t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		g.t.Errorf("%s differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	hashRE = regexp.MustCompile(`\b[0-9a-f]{16}\b`)
	seqRE  = regexp.MustCompile(`(?m)^\d+(\s{2,}ddr\.)`)
	colsRE = regexp.MustCompile(`\s{2,}`)
	// Who clears is whoever removes the last blocker first: the second
	// person confirming it, or the delivery worker sweeping the plan a
	// moment later. Both are right; the record names the one that won.
	clearerRE = regexp.MustCompile(`(ddr\.notification\.v1\.RequestCleared\s+)\S+`)
)

// mask replaces what differs between runs (ids, times, hashes, stream
// sequences) and re-aligns the columns, so that the goldens pin the layout
// and the content people read.
func mask(s string) string {
	ids := map[string]string{}
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("<id%d>", len(ids)+1)
		}
		return ids[id]
	})
	s = timeRE.ReplaceAllString(s, "<time>")
	s = hashRE.ReplaceAllString(s, "<hash>")
	s = seqRE.ReplaceAllString(s, "<seq>$1")
	s = clearerRE.ReplaceAllString(s, "${1}<clearer>")
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		nl := strings.HasSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\n")
		cells := colsRE.Split(strings.TrimRight(line, " "), -1)
		if len(cells) > 1 {
			line = strings.Join(cells, "\t")
		}
		fmt.Fprint(tw, line)
		if nl {
			fmt.Fprintln(tw)
		}
	}
	_ = tw.Flush()
	return b.String()
}
