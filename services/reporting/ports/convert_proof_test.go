package ports

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

func TestConvert_RecordProofRoundTrips(t *testing.T) {
	p := transparency.RecordProof{
		RequestID: "req-1",
		Entries: []transparency.ProofEntry{
			{Seq: 3, Type: "ddr.intake.v1.RequestReceived", Time: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Actor: "group-member:abc", PayloadDigest: bytes.Repeat([]byte{1}, 32), ChainHash: bytes.Repeat([]byte{2}, 32)},
			{Seq: 9, Type: "ddr.reporting.v1.RecordSealed", Time: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), Actor: "service:reporting", PayloadDigest: bytes.Repeat([]byte{3}, 32), ChainHash: bytes.Repeat([]byte{4}, 32)},
		},
		Seals: []transparency.SealProof{{
			EntryCount: 1, LastSeq: 3, Head: bytes.Repeat([]byte{2}, 32), Blind: bytes.Repeat([]byte{5}, 32), LeafIndex: 7,
			Inclusion: []tlog.Hash{{1}, {2}, {3}},
		}},
		Checkpoint: []byte("o\n8\nAAAA\n\n— k sig\n"),
	}
	if back := RecordProofFromProto(RecordProofToProto(p)); !reflect.DeepEqual(back, p) {
		t.Fatalf("read back as\n%+v\nwant\n%+v", back, p)
	}
}
