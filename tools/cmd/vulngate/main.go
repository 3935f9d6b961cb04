// Command vulngate runs govulncheck and turns its findings into a CI verdict
// against an allowlist with expiry dates.
//
// govulncheck alone fails on every finding, including ones no release fixes
// yet; a blanket exception would then hide the next one. The allowlist names
// each accepted finding (OSV id and vulnerable module), says why, and expires,
// so an accepted risk is looked at again. The build fails on a finding that is
// not listed and on a listed entry past its expiry date, whether or not it
// still matches; an entry that matches nothing is reported so it gets removed.
//
// Only findings whose vulnerable function is reachable from our code fail the
// build, as in govulncheck's own exit code; the imported-but-not-called ones
// are counted and printed so they stay visible.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

func main() {
	govulncheck := flag.String("govulncheck", "govulncheck", "govulncheck `binary`")
	db := flag.String("db", "", "vulnerability database `dir` (built offline by indexdb)")
	allow := flag.String("allow", "", "allowlist `file`")
	dir := flag.String("C", "", "run govulncheck in `dir` (a module of the workspace: it needs a go.mod)")
	today := flag.String("today", "", "date to judge expiry against, YYYY-MM-DD (default: today, UTC)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: vulngate -db DIR -allow FILE [-govulncheck BIN] [-C DIR] PATTERN...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *db == "" || *allow == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	now := time.Now().UTC()
	if *today != "" {
		t, err := time.Parse(time.DateOnly, *today)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulngate: -today:", err)
			os.Exit(2)
		}
		now = t
	}
	ok, err := run(*govulncheck, *dir, *db, *allow, now, flag.Args(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(govulncheck, dir, db, allowFile string, now time.Time, patterns []string, out io.Writer) (bool, error) {
	allowed, err := readAllowlist(allowFile)
	if err != nil {
		return false, err
	}
	var stdout bytes.Buffer
	cmd := exec.Command(govulncheck, append([]string{"-db", "file://" + db, "-format", "json"}, patterns...)...)
	cmd.Dir = dir
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return false, fmt.Errorf("govulncheck: %w", err)
	}
	found, err := parseFindings(&stdout)
	if err != nil {
		return false, err
	}
	return judge(found, allowed, now, out), nil
}

// entry is one line of the allowlist.
type entry struct {
	id, module, reason string
	expires            time.Time
	line               int
}

// readAllowlist reads lines of "ID MODULE YYYY-MM-DD reason…"; blank lines
// and lines starting with # are skipped. The entry is valid up to and
// including its expiry date.
func readAllowlist(path string) ([]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []entry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 {
			return nil, fmt.Errorf("%s:%d: want ID MODULE EXPIRY REASON…", path, n)
		}
		exp, err := time.Parse(time.DateOnly, fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: expiry: %w", path, n, err)
		}
		entries = append(entries, entry{
			id: fields[0], module: fields[1], expires: exp, line: n,
			reason: strings.Join(fields[3:], " "),
		})
	}
	return entries, sc.Err()
}

// finding is one vulnerability as govulncheck reports it, folded over its
// traces: the vulnerable module, whether any trace reaches a vulnerable
// function, and where from.
type finding struct {
	id, module, version, fixed string
	called                     bool
	symbols                    map[string]bool
}

// The parts of govulncheck's JSON stream (golang.org/x/vuln/internal/govulncheck)
// that matter here. The stream is a sequence of objects, each with one field set.
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
		} `json:"trace"`
	} `json:"finding"`
}

func parseFindings(r io.Reader) (map[string]*finding, error) {
	found := map[string]*finding{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return found, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck output: %w", err)
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		vuln := m.Finding.Trace[0]
		key := m.Finding.OSV + " " + vuln.Module
		f := found[key]
		if f == nil {
			f = &finding{id: m.Finding.OSV, module: vuln.Module, version: vuln.Version, fixed: m.Finding.FixedVersion, symbols: map[string]bool{}}
			found[key] = f
		}
		if vuln.Function != "" {
			f.called = true
			sym := vuln.Function
			if vuln.Receiver != "" {
				sym = vuln.Receiver + "." + sym
			}
			f.symbols[vuln.Package+"."+sym] = true
		}
	}
}

func judge(found map[string]*finding, allowed []entry, now time.Time, out io.Writer) bool {
	ok := true
	used := make([]bool, len(allowed))
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	notCalled := 0
	for _, k := range keys {
		f := found[k]
		fix := "no fixed version"
		if f.fixed != "" {
			fix = "fixed in " + f.fixed
		}
		if !f.called {
			notCalled++
			fmt.Fprintf(out, "not called: %s in %s@%s (%s)\n", f.id, f.module, f.version, fix)
			continue
		}
		syms := make([]string, 0, len(f.symbols))
		for s := range f.symbols {
			syms = append(syms, s)
		}
		sort.Strings(syms)
		i := matchAllowed(allowed, f)
		if i < 0 {
			ok = false
			fmt.Fprintf(out, "FAIL %s in %s@%s (%s), reached: %s\n", f.id, f.module, f.version, fix, strings.Join(syms, ", "))
			continue
		}
		used[i] = true
		fmt.Fprintf(out, "allowed %s in %s@%s (%s) until %s: %s\n", f.id, f.module, f.version, fix, allowed[i].expires.Format(time.DateOnly), allowed[i].reason)
	}
	for i, e := range allowed {
		if now.After(e.expires) {
			ok = false
			fmt.Fprintf(out, "FAIL allowlist line %d: %s in %s expired on %s; fix it or renew the entry with a reason\n", e.line, e.id, e.module, e.expires.Format(time.DateOnly))
		} else if !used[i] {
			fmt.Fprintf(out, "note: allowlist line %d (%s in %s) matches no finding; remove it\n", e.line, e.id, e.module)
		}
	}
	fmt.Fprintf(out, "govulncheck: %d reachable, %d more in imported code or required modules but not called\n", len(keys)-notCalled, notCalled)
	return ok
}

func matchAllowed(allowed []entry, f *finding) int {
	for i, e := range allowed {
		if e.id == f.id && e.module == f.module {
			return i
		}
	}
	return -1
}
