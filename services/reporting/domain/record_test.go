package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// storedRecord is how a record might sit in a file or another store: a copy
// that someone could edit.
type storedRecord struct {
	Entries []domain.Entry
	Hashes  []domain.Digest
}

func sampleChain(t *testing.T, n int) *domain.Chain {
	t.Helper()
	var c domain.Chain
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	events := []string{"intake.v1.RequestReceived", "assessment.v1.CaseOpened", "assessment.v1.AssessmentDecided", "notification.v1.CustomerNotified", "notification.v1.RequestCleared"}
	for i := range n {
		payload := fmt.Sprintf(`{"subject_email":"alice%d@example.com","account":"acct-%d"}`, i, i)
		_, err := c.Append(domain.Entry{
			Seq:           uint64(10 + 3*i),
			Subject:       "ddr.req.r-1." + events[i%len(events)],
			Type:          "ddr." + events[i%len(events)],
			EventID:       fmt.Sprintf("ev-%d", i),
			Actor:         "spiffe://ddr.local/staff/privacy-officer",
			Time:          base.Add(time.Duration(i) * time.Hour),
			PayloadDigest: domain.PayloadDigest([]byte(payload)),
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	return &c
}

func store(t *testing.T, c *domain.Chain) []byte {
	t.Helper()
	b, err := json.Marshal(storedRecord{Entries: c.Entries(), Hashes: c.Hashes()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func load(t *testing.T, b []byte) storedRecord {
	t.Helper()
	var s storedRecord
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClause4_2_2_StoredRecordVerifies(t *testing.T) {
	c := sampleChain(t, 5)
	s := load(t, store(t, c))
	if err := domain.Verify(s.Entries, s.Hashes); err != nil {
		t.Fatalf("untouched record: %v", err)
	}
	if c.Head() != s.Hashes[4] {
		t.Fatal("head is not the hash of the last entry")
	}
	if err := domain.Verify(nil, nil); err != nil {
		t.Fatalf("empty record: %v", err)
	}
}

func TestClause4_2_2_TamperedRecordNamesTheBreak(t *testing.T) {
	for idx := range 5 {
		t.Run(fmt.Sprint(idx), func(t *testing.T) {
			s := load(t, store(t, sampleChain(t, 5)))
			s.Entries[idx].Actor = "spiffe://ddr.local/staff/someone-else"
			s = load(t, mustJSON(t, s)) // the edit is made to the stored copy
			err := domain.Verify(s.Entries, s.Hashes)
			var br *domain.ChainBreakError
			if !errors.As(err, &br) || !errors.Is(err, domain.ErrChainBroken) {
				t.Fatalf("want a ChainBreakError, got %v", err)
			}
			if br.Index != idx || br.Seq != s.Entries[idx].Seq {
				t.Fatalf("break at index %d seq %d, want index %d seq %d", br.Index, br.Seq, idx, s.Entries[idx].Seq)
			}
			if br.Found != s.Hashes[idx] || br.Expected == br.Found {
				t.Fatalf("expected/found not reported: %+v", br)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("index %d", idx)) {
				t.Fatalf("message does not name the index: %v", err)
			}
		})
	}
}

func TestRecord_EveryFieldIsCovered(t *testing.T) {
	edits := map[string]func(*domain.Entry){
		"seq":            func(e *domain.Entry) { e.Seq++ },
		"subject":        func(e *domain.Entry) { e.Subject += "x" },
		"type":           func(e *domain.Entry) { e.Type += "x" },
		"event_id":       func(e *domain.Entry) { e.EventID += "x" },
		"actor":          func(e *domain.Entry) { e.Actor = "" },
		"time":           func(e *domain.Entry) { e.Time = e.Time.Add(time.Nanosecond) },
		"payload_digest": func(e *domain.Entry) { e.PayloadDigest[31] ^= 1 },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			c := sampleChain(t, 3)
			entries, hashes := c.Entries(), c.Hashes()
			edit(&entries[1])
			var br *domain.ChainBreakError
			if err := domain.Verify(entries, hashes); !errors.As(err, &br) || br.Index != 1 {
				t.Fatalf("want break at 1, got %v", err)
			}
		})
	}
}

func TestRecord_DroppedReorderedOrExtraEntriesBreak(t *testing.T) {
	c := sampleChain(t, 4)
	e, h := c.Entries(), c.Hashes()
	cases := []struct {
		name    string
		entries []domain.Entry
		hashes  []domain.Digest
		index   int
	}{
		{"dropped entry", append(append([]domain.Entry{}, e[:1]...), e[2:]...), append(append([]domain.Digest{}, h[:1]...), h[2:]...), 1},
		{"swapped entries", []domain.Entry{e[0], e[2], e[1], e[3]}, h, 1},
		{"missing hash", e, h[:3], 3},
		{"extra hash", e[:3], h, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var br *domain.ChainBreakError
			if err := domain.Verify(tc.entries, tc.hashes); !errors.As(err, &br) || br.Index != tc.index {
				t.Fatalf("want break at %d, got %v", tc.index, err)
			}
		})
	}
}

func TestRecord_AppendKeepsStreamOrderAndRequiredFields(t *testing.T) {
	c := sampleChain(t, 2)
	last := c.Entries()[1]
	next := last
	next.EventID = "ev-again"
	if _, err := c.Append(next); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("same seq appended: %v", err)
	}
	var ve *ddrerr.ValidationError
	if _, err := c.Append(domain.Entry{}); !errors.As(err, &ve) || len(ve.Violations) != 5 {
		t.Fatalf("empty entry: %v", err)
	}
	if c.Len() != 2 {
		t.Fatalf("refused entries were kept: len %d", c.Len())
	}
}

func TestRecord_HoldsNoPayloadInClear(t *testing.T) {
	b := store(t, sampleChain(t, 5))
	for _, s := range []string{"alice", "example.com", "acct-"} {
		if strings.Contains(string(b), s) {
			t.Fatalf("stored record contains %q", s)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
