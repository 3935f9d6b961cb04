package transparency

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/ddrsuite/ddr/services/platform/translog"
)

// Paths of the published site.
const (
	PathIndex       = "index.html"
	PathPublicKey   = "public-key.txt"
	PathCheckpoint  = "log/checkpoint"
	PathLeaves      = "log/leaves.txt"
	dirCheckpoints  = "log/checkpoints"
	dirKeys         = "keys"
	dirReports      = "reports"
	fileStatement   = "statement.note"
	fileInclusion   = "inclusion.json"
	rotationPattern = "keys/rotation-*.note"
)

// ReportPath is where file f of report name is published.
func ReportPath(name, f string) string { return path.Join(dirReports, name, f) }

// RotationPath is where the nth key rotation statement (from 1) is published.
func RotationPath(n int) string { return fmt.Sprintf("%s/rotation-%04d.note", dirKeys, n) }

// CheckpointPath is where the signed checkpoint of size n is published.
func CheckpointPath(n int64) string { return fmt.Sprintf("%s/%08d.note", dirCheckpoints, n) }

// Published is one leaf of the public log as the publisher keeps it: never
// changed once written, so publishing again gives the same bytes.
type Published struct {
	Statement  []byte            `json:"statement"`  // signed statement note
	Checkpoint []byte            `json:"checkpoint"` // signed checkpoint once this leaf was logged
	Files      map[string][]byte `json:"files"`      // ReportFiles
}

// State is the public log as published: its origin, its first signing
// key, the key rotations and the leaves.
type State struct {
	Origin     string
	InitialKey string
	Rotations  [][]byte
	Entries    []Published
}

// CurrentKey is the verifier key that signs new leaves and checkpoints.
func (s *State) CurrentKey() (string, error) {
	t, err := translog.NewTrust(s.InitialKey, s.Rotations...)
	if err != nil {
		return "", err
	}
	return t.Current(), nil
}

// Statements parses every leaf's statement, unchecked (the publisher
// wrote them).
func (s *State) Statements() ([]Statement, error) {
	out := make([]Statement, len(s.Entries))
	for i, e := range s.Entries {
		st, err := ParseStatement(translog.NoteText(e.Statement))
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", i, err)
		}
		out[i] = st
	}
	return out, nil
}

// Log rebuilds the tree over the leaves.
func (s *State) Log() (*translog.Log, error) {
	l := translog.NewLog()
	for _, e := range s.Entries {
		if _, err := l.Append([]byte(translog.NoteText(e.Statement))); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// IndexEntry is a row of the site's index page.
type IndexEntry struct {
	Index       int64
	Name        string
	Period      string
	Corrects    string
	CorrectedBy string
}

// IndexPage renders the index page from its rows, newest period first, and
// the checkpoint text.
type IndexPage func(rows []IndexEntry, checkpoint string) ([]byte, error)

// inclusion is the inclusion proof file of a published report.
type inclusion struct {
	Index int64            `json:"index"`
	Size  int64            `json:"size"`
	Proof tlog.RecordProof `json:"proof"`
}

// Site returns every file of the static site, by path. Everything in it
// follows from the state, so publishing the same state twice gives the
// same bytes.
func Site(s State, index IndexPage) (map[string][]byte, error) {
	key, err := s.CurrentKey()
	if err != nil {
		return nil, err
	}
	sts, err := s.Statements()
	if err != nil {
		return nil, err
	}
	l, err := s.Log()
	if err != nil {
		return nil, err
	}
	n := l.Size()
	files := map[string][]byte{PathPublicKey: []byte(key + "\n")}
	for i, r := range s.Rotations {
		files[RotationPath(i+1)] = r
	}
	rows := make([]IndexEntry, len(sts))
	var leaves strings.Builder
	for i, st := range sts {
		e := s.Entries[i]
		for _, f := range ReportFiles {
			files[ReportPath(st.Name, f)] = e.Files[f]
		}
		files[ReportPath(st.Name, fileStatement)] = e.Statement
		files[CheckpointPath(int64(i)+1)] = e.Checkpoint
		p, err := l.ProveLeaf(int64(i), n)
		if err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(inclusion{Index: int64(i), Size: n, Proof: p}, "", "  ")
		if err != nil {
			return nil, err
		}
		files[ReportPath(st.Name, fileInclusion)] = append(b, '\n')
		fmt.Fprintf(&leaves, "%d %s\n", i, st.Name)
		rows[i] = IndexEntry{Index: int64(i), Name: st.Name, Period: st.Period, Corrects: st.Corrects}
	}
	for i := range rows {
		for j := range rows {
			if rows[j].Corrects == rows[i].Name {
				rows[i].CorrectedBy = rows[j].Name
			}
		}
	}
	files[PathLeaves] = []byte(leaves.String())
	cp := ""
	if len(s.Entries) > 0 {
		files[PathCheckpoint] = s.Entries[len(s.Entries)-1].Checkpoint
		cp = translog.NoteText(s.Entries[len(s.Entries)-1].Checkpoint)
	}
	if files[PathIndex], err = index(rows, cp); err != nil {
		return nil, err
	}
	return files, nil
}
