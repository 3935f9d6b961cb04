package transparency

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/ddrsuite/ddr/services/platform/translog"
)

// SiteCheck is what [VerifySite] vouches for.
type SiteCheck struct {
	Checkpoint translog.Checkpoint
	Reports    []string // every report of the log, in log order
}

// VerifySite checks a published site with nothing but its files and a
// public key the verifier holds from elsewhere (anchor: any key of the
// log's chain). It checks the key chain, the latest checkpoint's
// signature, every report's signed statement (by the key current at its
// place in the log) against its files, that the leaves rebuild the
// checkpoint's tree (so no report was taken out or slipped in), that every
// published checkpoint is a prefix of it, and, when previous is not nil (a
// checkpoint the verifier kept from an earlier visit), that the log today
// extends it.
func VerifySite(site fs.FS, anchor string, previous []byte) (*SiteCheck, error) {
	rotPaths, err := fs.Glob(site, rotationPattern)
	if err != nil {
		return nil, err
	}
	slices.Sort(rotPaths)
	rots := make([][]byte, len(rotPaths))
	for i, p := range rotPaths {
		if rots[i], err = fs.ReadFile(site, p); err != nil {
			return nil, err
		}
	}
	trust, err := translog.NewTrust(anchor, rots...)
	if err != nil {
		return nil, err
	}
	cpMsg, err := read(site, PathCheckpoint)
	if err != nil {
		return nil, err
	}
	raw, err := translog.ParseCheckpoint(translog.NoteText(cpMsg))
	if err != nil {
		return nil, err
	}
	cp, err := trust.OpenCheckpoint(cpMsg, raw.Origin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PathCheckpoint, err)
	}
	names, err := leaves(site, cp.Size)
	if err != nil {
		return nil, err
	}
	l := translog.NewLog()
	seen := map[string]bool{}
	for i, name := range names {
		if err := checkReport(site, trust, name, int64(i), seen); err != nil {
			return nil, err
		}
		msg, _ := fs.ReadFile(site, ReportPath(name, fileStatement))
		if _, err := l.Append([]byte(translog.NoteText(msg))); err != nil {
			return nil, err
		}
		seen[name] = true
	}
	if root, _ := l.Root(cp.Size); root != cp.Hash {
		return nil, fmt.Errorf("%w: the published reports do not rebuild the signed tree of %d (one was removed, added or changed)", ErrLog, cp.Size)
	}
	for i, name := range names {
		if err := checkInclusion(site, cp, l, name, int64(i)); err != nil {
			return nil, err
		}
	}
	if err := checkDirs(site, seen); err != nil {
		return nil, err
	}
	if err := checkHistory(site, trust, cp, l); err != nil {
		return nil, err
	}
	if previous != nil {
		prev, err := trust.OpenCheckpoint(previous, cp.Origin)
		if err != nil {
			return nil, fmt.Errorf("previous checkpoint: %w", err)
		}
		if prev.Size > cp.Size {
			return nil, fmt.Errorf("%w: the log shrank from %d to %d", translog.ErrInconsistent, prev.Size, cp.Size)
		}
		proof, err := l.ProveConsistency(prev.Size, cp.Size)
		if err != nil {
			return nil, err
		}
		if err := translog.CheckConsistency(prev, cp, proof); err != nil {
			return nil, fmt.Errorf("previous checkpoint: %w", err)
		}
	}
	return &SiteCheck{Checkpoint: cp, Reports: names}, nil
}

func read(site fs.FS, p string) ([]byte, error) {
	b, err := fs.ReadFile(site, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrMissing, p)
	}
	return b, err
}

// leaves reads the log's list of reports: exactly n lines, "<i> <name>".
func leaves(site fs.FS, n int64) ([]string, error) {
	b, err := read(site, PathLeaves)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	if int64(len(lines)) != n {
		return nil, fmt.Errorf("%w: %s lists %d reports, the signed checkpoint %d", ErrLog, PathLeaves, len(lines), n)
	}
	names := make([]string, len(lines))
	for i, line := range lines {
		idx, name, ok := strings.Cut(line, " ")
		if j, err := strconv.Atoi(idx); !ok || err != nil || j != i || !nameRE.MatchString(name) {
			return nil, fmt.Errorf("%w: %s line %d", ErrLog, PathLeaves, i+1)
		}
		names[i] = name
	}
	return names, nil
}

func checkReport(site fs.FS, trust *translog.Trust, name string, index int64, earlier map[string]bool) error {
	msg, err := read(site, ReportPath(name, fileStatement))
	if err != nil {
		return err
	}
	text, err := trust.Open(msg, index+1)
	if err != nil {
		return fmt.Errorf("report %s statement: %w", name, err)
	}
	st, err := ParseStatement(text)
	if err != nil {
		return err
	}
	if st.Name != name {
		return fmt.Errorf("%w: leaf %d is %s, its statement says %s", ErrLog, index, name, st.Name)
	}
	if st.Corrects != "" && !earlier[st.Corrects] {
		return fmt.Errorf("%w: %s corrects %s, which is not earlier in the log", ErrLog, name, st.Corrects)
	}
	files := map[string][]byte{}
	for _, f := range ReportFiles {
		if b, err := fs.ReadFile(site, ReportPath(name, f)); err == nil {
			files[f] = b
		}
	}
	return st.Check(files)
}

func checkInclusion(site fs.FS, cp translog.Checkpoint, l *translog.Log, name string, index int64) error {
	b, err := read(site, ReportPath(name, fileInclusion))
	if err != nil {
		return err
	}
	var inc inclusion
	if err := json.Unmarshal(b, &inc); err != nil || inc.Index != index || inc.Size != cp.Size {
		return fmt.Errorf("%w: %s: not the proof of leaf %d in the tree of %d", ErrLog, ReportPath(name, fileInclusion), index, cp.Size)
	}
	leaf, err := l.LeafHash(index)
	if err != nil {
		return err
	}
	return translog.CheckInclusion(cp, index, leaf, inc.Proof)
}

// checkDirs refuses a published report that is not a leaf of the log.
func checkDirs(site fs.FS, logged map[string]bool) error {
	ents, err := fs.ReadDir(site, dirReports)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !logged[e.Name()] {
			return fmt.Errorf("%w: %s", ErrNotLogged, e.Name())
		}
	}
	return nil
}

// checkHistory checks every published checkpoint: signed by the key of its
// size, and a prefix of today's tree.
func checkHistory(site fs.FS, trust *translog.Trust, cp translog.Checkpoint, l *translog.Log) error {
	paths, err := fs.Glob(site, dirCheckpoints+"/*.note")
	if err != nil {
		return err
	}
	for _, p := range paths {
		msg, err := fs.ReadFile(site, p)
		if err != nil {
			return err
		}
		old, err := trust.OpenCheckpoint(msg, cp.Origin)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if old.Size > cp.Size {
			return fmt.Errorf("%w: %s is of a larger tree than the latest checkpoint", translog.ErrInconsistent, p)
		}
		proof, err := l.ProveConsistency(old.Size, cp.Size)
		if err != nil {
			return err
		}
		if err := translog.CheckConsistency(old, cp, proof); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
