package ports

import (
	"golang.org/x/mod/sumdb/tlog"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/adapters/export"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// The conversions between reporting's RPC messages and its app and domain
// types. Messages that are also event payloads (a disclosure, a
// disposition, a restriction) go through the app's event codec
// (app/events.go), so each message is converted in one place.

// recordToProto renders a record. It carries digests, never payloads.
func recordToProto(r *app.Record) *reportingv1.Record {
	out := &reportingv1.Record{RequestId: r.RequestID, Closed: r.Fold.Terminal()}
	for i, e := range r.Entries {
		out.Entries = append(out.Entries, &reportingv1.RecordEntry{
			Sequence: e.Seq, Subject: e.Subject, EventType: e.Type, EventId: e.EventID, Actor: e.Actor,
			EventTime: protoconv.Timestamp(e.Time), PayloadDigest: e.PayloadDigest[:], EntryHash: r.Hashes[i][:],
		})
	}
	h := r.Head()
	out.HeadHash = h[:]
	for _, f := range r.Timeline.Facts() {
		out.Timeline = append(out.Timeline, factToProto(f))
	}
	return out
}

var factKinds = map[domain.FactKind]reportingv1.RecordFactKind{
	domain.FactDecided:                reportingv1.RecordFactKind_RECORD_FACT_KIND_DECIDED,
	domain.FactReopened:               reportingv1.RecordFactKind_RECORD_FACT_KIND_REOPENED,
	domain.FactInformationRequested:   reportingv1.RecordFactKind_RECORD_FACT_KIND_INFORMATION_REQUESTED,
	domain.FactWithdrawn:              reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWN,
	domain.FactWithdrawalAcknowledged: reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWAL_ACKNOWLEDGED,
	domain.FactLinked:                 reportingv1.RecordFactKind_RECORD_FACT_KIND_LINKED,
	domain.FactTargetsRevealed:        reportingv1.RecordFactKind_RECORD_FACT_KIND_TARGETS_REVEALED,
	domain.FactStepsStopped:           reportingv1.RecordFactKind_RECORD_FACT_KIND_STEPS_STOPPED,
	domain.FactDPAObjected:            reportingv1.RecordFactKind_RECORD_FACT_KIND_DPA_OBJECTED,
	domain.FactCleared:                reportingv1.RecordFactKind_RECORD_FACT_KIND_CLEARED,
	domain.FactDisposition:            reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION,
}

// factToProto renders one step of the timeline; it holds no personal data.
func factToProto(f domain.Fact) *reportingv1.RecordFact {
	return &reportingv1.RecordFact{
		Sequence: f.Seq, Kind: factKinds[f.Kind], Time: protoconv.Timestamp(f.At), By: f.By,
		DecisionId: f.DecisionID, Detail: f.Detail, Superseded: f.Superseded, Trigger: f.Trigger, Reason: f.Reason,
		SealedText: f.SealedText, LinkedRequestId: f.LinkedRequestID, Roles: f.Roles, Steps: f.Steps, Dpa: f.DPA,
		AfterDisclosure: f.AfterDisclosure,
	}
}

// recordFromProto reads a stored copy of a record, to be verified: its
// entries, the hashes it states for them and the head it states.
func recordFromProto(cp *reportingv1.Record) *app.Record {
	out := &app.Record{
		RequestID:  cp.GetRequestId(),
		Entries:    make([]domain.Entry, len(cp.GetEntries())),
		Hashes:     make([]domain.Digest, len(cp.GetEntries())),
		StatedHead: app.DigestOf(cp.GetHeadHash()),
	}
	for i, e := range cp.GetEntries() {
		out.Entries[i] = domain.Entry{
			Seq: e.GetSequence(), Subject: e.GetSubject(), Type: e.GetEventType(), EventID: e.GetEventId(),
			Actor: e.GetActor(), Time: protoconv.Time(e.GetEventTime()), PayloadDigest: app.DigestOf(e.GetPayloadDigest()),
		}
		out.Hashes[i] = app.DigestOf(e.GetEntryHash())
	}
	return out
}

// verificationToProto is the answer of VerifyRecord.
func verificationToProto(v app.Verification) *reportingv1.VerifyRecordResponse {
	out := &reportingv1.VerifyRecordResponse{Valid: v.Break == nil, EntriesChecked: int32(v.EntriesChecked), FirstBreakIndex: -1, SealsChecked: int32(v.SealsChecked)}
	if b := v.Break; b != nil {
		out.FirstBreakIndex, out.FirstBreakSequence, out.Detail = int32(b.Index), b.Seq, b.Error()
	}
	return out
}

// exportFormats are the renderings a caller may ask for.
var exportFormats = map[reportingv1.ReportFormat]export.Format{
	reportingv1.ReportFormat_REPORT_FORMAT_JSON: export.JSON,
	reportingv1.ReportFormat_REPORT_FORMAT_CSV:  export.CSV,
	reportingv1.ReportFormat_REPORT_FORMAT_HTML: export.HTML,
}

// RecordProofToProto renders a DPA's record copy with its proofs.
func RecordProofToProto(p transparency.RecordProof) *reportingv1.GetRecordProofResponse {
	out := &reportingv1.GetRecordProofResponse{RequestId: p.RequestID, Checkpoint: p.Checkpoint}
	for _, e := range p.Entries {
		out.Entries = append(out.Entries, &reportingv1.RecordProofEntry{
			Sequence: e.Seq, Type: e.Type, Time: protoconv.Timestamp(e.Time), Actor: e.Actor, PayloadDigest: e.PayloadDigest, ChainHash: e.ChainHash,
		})
	}
	for _, s := range p.Seals {
		out.Seals = append(out.Seals, &reportingv1.RecordSealProof{
			EntryCount: int32(s.EntryCount), LastSequence: s.LastSeq, HeadHash: s.Head, Blind: s.Blind, LeafIndex: s.LeafIndex, Inclusion: hashesToProto(s.Inclusion),
		})
	}
	return out
}

// RecordProofFromProto is the inverse of RecordProofToProto, for the
// offline verifier reading what a DPA was given.
func RecordProofFromProto(p *reportingv1.GetRecordProofResponse) transparency.RecordProof {
	out := transparency.RecordProof{RequestID: p.GetRequestId(), Checkpoint: p.GetCheckpoint()}
	for _, e := range p.GetEntries() {
		out.Entries = append(out.Entries, transparency.ProofEntry{
			Seq: e.GetSequence(), Type: e.GetType(), Time: protoconv.Time(e.GetTime()), Actor: e.GetActor(), PayloadDigest: e.GetPayloadDigest(), ChainHash: e.GetChainHash(),
		})
	}
	for _, s := range p.GetSeals() {
		out.Seals = append(out.Seals, transparency.SealProof{
			EntryCount: int(s.GetEntryCount()), LastSeq: s.GetLastSequence(), Head: s.GetHeadHash(), Blind: s.GetBlind(), LeafIndex: s.GetLeafIndex(), Inclusion: HashesFromProto(s.GetInclusion()),
		})
	}
	return out
}

func hashesToProto(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = append([]byte(nil), h[:]...)
	}
	return out
}

// HashesFromProto reads tlog hashes (a proof) from their wire bytes; a
// short one is zero-padded and then fails the proof check.
func HashesFromProto(bs [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(bs))
	for i, b := range bs {
		copy(out[i][:], b)
	}
	return out
}
