// Package transparency is the published form of the transparency report
// (clause 5.1) and its offline check. A published report is a leaf of a
// public, append-only log (platform/translog): its leaf is a statement
// that names the report and the SHA-256 of each of its files, signed with
// the company's transparency key, and every publication adds a signed
// checkpoint of the log. Whoever holds the public key can then check,
// with the published files alone, that no figure was changed, that no
// report was taken out of the log, and that every signature is by the key
// that was current when it was made ([VerifySite]).
//
// The package is pure: no stream, no RPC. The reporting service publishes
// through it (reporting/app) and ddrctl verifies through it.
package transparency

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Files of a published report, in the order its statement lists them.
const (
	FileJSON = "report.json"
	FileCSV  = "report.csv"
	FileHTML = "report.html"
)

// ReportFiles are the files every published report has.
var ReportFiles = []string{FileJSON, FileCSV, FileHTML}

const statementHeader = "ddr transparency report v1\n"

// Statement is the leaf of the public log for one published report: the
// report's name (its period, or the period and "-cN" for the Nth
// correction), the report it corrects, and the digest of each file.
type Statement struct {
	Name     string
	Period   string
	Corrects string            // name of the corrected report; "" for none
	SHA256   map[string]string // file name -> lowercase hex SHA-256
}

var nameRE = regexp.MustCompile(`^[0-9]{4}-H[12](-c[1-9][0-9]*)?$`)

// NewStatement makes the statement of files.
func NewStatement(name, period, corrects string, files map[string][]byte) (Statement, error) {
	s := Statement{Name: name, Period: period, Corrects: corrects, SHA256: map[string]string{}}
	for _, f := range ReportFiles {
		b, ok := files[f]
		if !ok {
			return Statement{}, fmt.Errorf("transparency: report %s has no %s", name, f)
		}
		sum := sha256.Sum256(b)
		s.SHA256[f] = hex.EncodeToString(sum[:])
	}
	return s, s.validate()
}

func (s Statement) validate() error {
	if !nameRE.MatchString(s.Name) || !strings.HasPrefix(s.Name, s.Period) || len(s.Period) != len("2026-H1") {
		return fmt.Errorf("transparency: bad report name %q of period %q", s.Name, s.Period)
	}
	if s.Corrects != "" && (!nameRE.MatchString(s.Corrects) || !strings.HasPrefix(s.Corrects, s.Period)) {
		return fmt.Errorf("transparency: report %s corrects %q, not a report of its period", s.Name, s.Corrects)
	}
	return nil
}

// Text is the statement as logged and signed.
func (s Statement) Text() []byte {
	corrects := s.Corrects
	if corrects == "" {
		corrects = "-"
	}
	b := fmt.Appendf(nil, "%sname %s\nperiod %s\ncorrects %s\n", statementHeader, s.Name, s.Period, corrects)
	for _, f := range ReportFiles {
		b = fmt.Appendf(b, "sha256 %s %s\n", s.SHA256[f], f)
	}
	return b
}

// ParseStatement reads what [Statement.Text] writes.
func ParseStatement(text string) (Statement, error) {
	rest, ok := strings.CutPrefix(text, statementHeader)
	lines := strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
	if !ok || len(lines) != 3+len(ReportFiles) {
		return Statement{}, errors.New("transparency: not a report statement")
	}
	var s Statement
	var corrects string
	for i, f := range []*string{&s.Name, &s.Period, &corrects} {
		key := []string{"name ", "period ", "corrects "}[i]
		v, ok := strings.CutPrefix(lines[i], key)
		if !ok {
			return Statement{}, fmt.Errorf("transparency: statement line %d: want %q", i+2, key)
		}
		*f = v
	}
	if corrects != "-" {
		s.Corrects = corrects
	}
	s.SHA256 = map[string]string{}
	for i, f := range ReportFiles {
		fields := strings.Fields(lines[3+i])
		if len(fields) != 3 || fields[0] != "sha256" || fields[2] != f || len(fields[1]) != 2*sha256.Size {
			return Statement{}, fmt.Errorf("transparency: statement: bad digest line for %s", f)
		}
		s.SHA256[f] = fields[1]
	}
	return s, s.validate()
}

// Check compares files with the statement and names the first that differs.
func (s Statement) Check(files map[string][]byte) error {
	for _, f := range ReportFiles {
		b, ok := files[f]
		if !ok {
			return fmt.Errorf("%w: %s/%s", ErrMissing, s.Name, f)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != s.SHA256[f] {
			return fmt.Errorf("%w: %s/%s is not the file the signed statement names", ErrChanged, s.Name, f)
		}
	}
	return nil
}

// Errors of [VerifySite]. Compare with errors.Is; the translog errors
// (translog.ErrSignature, ErrRetiredKey, ErrInconsistent) come through too.
var (
	ErrMissing   = errors.New("transparency: published file missing")
	ErrChanged   = errors.New("transparency: published file changed")
	ErrNotLogged = errors.New("transparency: report is not in the public log")
	ErrLog       = errors.New("transparency: public log does not match its checkpoint")
)

// CorrectionName is the name of the nth correction of period.
func CorrectionName(period string, n int) string { return fmt.Sprintf("%s-c%d", period, n) }
