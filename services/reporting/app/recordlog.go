package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// Keyer makes keyed digests (platform/keys.Fingerprinter): the record
// log's blinding values and the pseudonyms of actors, under a key kept
// like the KEK, so that neither can be recomputed by guessing.
type Keyer interface {
	Fingerprint(purpose string, parts ...[]byte) string
}

const (
	purposeBlind = "reporting.record-log.blind/v1"
	purposeActor = "reporting.dpa-actor/v1"
)

type recordLeaf struct {
	index int64
	seal  transparency.SealProof
}

// RecordLog is the record log (transparency.RecordLeaf) and each
// request's DPA remit, a read model folded from the stream: the leaves
// from RecordSealed events in stream order, the remit from what puts a DPA
// in touch with a request (clause 5.1):
//
//   - notified: a NoticeDelivered of a DPA packet or outcome notice names
//     the authority in its unsealed dpa field (the recipient is sealed;
//     deliveries recorded before issue 21 lack the field and count only
//     through the facts below);
//   - notified by hand: a ManualDispatchProposed once its lift is
//     confirmed (LiftConfirmed), as notification counts it;
//   - consulted on: DpaConsulted of old, a ConsultationOutcomeProposed
//     once confirmed, a DpaObjected;
//   - opened to it by staff: DpaAccessGranted.
//
// Rebuilt from the
// stream at every start, the log is the same tree as long as the stream is
// the same; a rewritten seal gives another tree, which the checkpoints
// DPAs hold show (consistency fails).
type RecordLog struct {
	mu     sync.RWMutex
	keyer  Keyer
	log    *translog.Log
	leaves map[string][]recordLeaf
	remit  map[string]map[string]bool // request -> DPA identity names
	// lifts are the DPAs named by proposals that count once confirmed:
	// request -> lift id -> authority.
	lifts map[string]map[string]string
}

// NewRecordLog returns an empty record log; keyer nil disables it (no
// leaves, every DPA read refused).
func NewRecordLog(keyer Keyer) *RecordLog {
	return &RecordLog{keyer: keyer, log: translog.NewLog(), leaves: map[string][]recordLeaf{}, remit: map[string]map[string]bool{}, lifts: map[string]map[string]string{}}
}

// Apply folds one event in; it implements projection.Apply.
func (r *RecordLog) Apply(ev eventstore.Event) error {
	switch p := ev.Payload.(type) {
	case *reportingv1.RecordSealed:
		if r.keyer == nil {
			return nil
		}
		blind, err := base64.RawURLEncoding.DecodeString(r.keyer.Fingerprint(purposeBlind, []byte(ev.RequestID), []byte(strconv.FormatUint(ev.Sequence, 10))))
		if err != nil {
			return err
		}
		s := transparency.SealProof{EntryCount: int(p.GetEntryCount()), LastSeq: p.GetLastSequence(), Head: p.GetHeadHash(), Blind: blind}
		r.mu.Lock()
		defer r.mu.Unlock()
		i, err := r.log.Append(transparency.RecordLeaf(s.Blind, s.Head, s.EntryCount, s.LastSeq))
		if err != nil {
			return err
		}
		s.LeafIndex = i
		r.leaves[ev.RequestID] = append(r.leaves[ev.RequestID], recordLeaf{index: i, seal: s})
	case *notificationv1.DpaConsulted:
		r.open(ev.RequestID, p.GetConsultation().GetAuthority())
	case *notificationv1.NoticeDelivered:
		if !p.GetDelivery().GetFailed() {
			r.open(ev.RequestID, p.GetDelivery().GetDpa())
		}
	case *notificationv1.ManualDispatchProposed:
		r.propose(ev.RequestID, p.GetLift().GetId(), p.GetDispatch().GetAuthority())
	case *notificationv1.ConsultationOutcomeProposed:
		r.propose(ev.RequestID, p.GetLift().GetId(), p.GetConsultation().GetAuthority())
	case *notificationv1.LiftConfirmed:
		r.mu.RLock()
		dpa := r.lifts[ev.RequestID][p.GetLiftId()]
		r.mu.RUnlock()
		r.open(ev.RequestID, dpa)
	case *notificationv1.DpaObjected:
		r.open(ev.RequestID, p.GetDpa())
	case *reportingv1.DpaAccessGranted:
		r.open(ev.RequestID, p.GetDpa())
	}
	return nil
}

// propose remembers the DPA a proposal names until its lift is confirmed.
func (r *RecordLog) propose(requestID, liftID, dpa string) {
	if liftID == "" || dpa == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lifts[requestID] == nil {
		r.lifts[requestID] = map[string]string{}
	}
	r.lifts[requestID][liftID] = dpa
}

// open puts the request in the DPA's remit. Consultations name the DPA as
// the contacts file does ("DPC-IE"), identities in lower case ("dpc-ie").
func (r *RecordLog) open(requestID, dpa string) {
	if dpa == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remit[requestID] == nil {
		r.remit[requestID] = map[string]bool{}
	}
	r.remit[requestID][strings.ToLower(dpa)] = true
}

// InRemit reports whether the DPA named dpa may read the request's copy.
func (r *RecordLog) InRemit(requestID, dpa string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.remit[requestID][strings.ToLower(dpa)]
}

// Checkpoints keeps the largest record-log tree handed to a DPA (an
// adapter over the transparency bucket), so that the service itself
// notices, before signing anything, a record log that no longer extends
// it: the stream it is rebuilt from was rewritten.
type Checkpoints interface {
	// Last returns the largest tree handed out; ok is false before the first.
	Last(ctx context.Context) (c translog.Checkpoint, ok bool, err error)
	// Put records c as the largest tree handed out.
	Put(ctx context.Context, c translog.Checkpoint) error
}

// DPA serves data protection authorities within their remit (clause 5.1).
type DPA struct {
	app    *Reporting
	log    *RecordLog
	signer *translog.Signer
	origin string
	given  Checkpoints
	mu     sync.Mutex // one checkpoint at a time, so Put only grows
}

// NewDPA returns the DPA queries over the record log, signing its
// checkpoints with signer under origin (the record log's) and keeping the
// largest handed out in given (nil: not kept).
func NewDPA(a *Reporting, log *RecordLog, signer *translog.Signer, origin string, given Checkpoints) *DPA {
	return &DPA{app: a, log: log, signer: signer, origin: origin, given: given}
}

// ErrRecordRewritten is returned instead of a checkpoint when the record
// log no longer extends one already given to DPAs.
var ErrRecordRewritten = errors.New("the record log does not extend the checkpoint given to DPAs: the record was rewritten")

// checkpoint signs the record log's tree of n leaves, once it is checked
// to extend every tree handed out before.
func (d *DPA) checkpoint(ctx context.Context, n int64) ([]byte, error) {
	if d.signer == nil || d.log.keyer == nil {
		return nil, fmt.Errorf("%w: the record log needs the transparency signing key and the fingerprint key", ddrerr.ErrFailedPrecondition)
	}
	root, err := d.log.log.Root(n)
	if err != nil {
		return nil, err
	}
	cp := translog.Checkpoint{Origin: d.origin, Size: n, Hash: root}
	if d.given != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		last, ok, err := d.given.Last(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			if last.Size > n {
				return nil, fmt.Errorf("%w: %d leaves given, %d now", ErrRecordRewritten, last.Size, n)
			}
			proof, err := d.log.log.ProveConsistency(last.Size, n)
			if err != nil {
				return nil, err
			}
			if err := translog.CheckConsistency(last, cp, proof); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrRecordRewritten, err)
			}
		}
		if !ok || n > last.Size {
			if err := d.given.Put(ctx, cp); err != nil {
				return nil, err
			}
		}
	}
	return d.signer.SignCheckpoint(cp)
}

// RecordProof gives the DPA dpa the copy of a request in its remit, with
// the record-log proofs of its seals, and records the read in the request's
// record. A request outside its remit is ErrNotFound, as an unknown one
// is: the answer does not tell a DPA that a request exists.
func (d *DPA) RecordProof(ctx context.Context, dpa auth.Identity, requestID string) (transparency.RecordProof, error) {
	if !d.log.InRemit(requestID, dpa.Name) {
		return transparency.RecordProof{}, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	rec, err := d.app.LoadRecord(ctx, requestID)
	if err != nil {
		return transparency.RecordProof{}, err
	}
	d.log.mu.RLock()
	n := d.log.log.Size()
	leaves := append([]recordLeaf(nil), d.log.leaves[requestID]...)
	d.log.mu.RUnlock()
	cp, err := d.checkpoint(ctx, n)
	if err != nil {
		return transparency.RecordProof{}, err
	}
	out := transparency.RecordProof{RequestID: requestID, Checkpoint: cp}
	for i, e := range rec.Entries {
		out.Entries = append(out.Entries, transparency.ProofEntry{
			Seq: e.Seq, Type: e.Type, Time: e.Time, Actor: d.pseudonym(dpa.Name, e.Actor),
			PayloadDigest: append([]byte(nil), e.PayloadDigest[:]...), ChainHash: append([]byte(nil), rec.Hashes[i][:]...),
		})
	}
	for _, l := range leaves {
		s := l.seal
		if s.Inclusion, err = d.log.log.ProveLeaf(l.index, n); err != nil {
			return transparency.RecordProof{}, err
		}
		out.Seals = append(out.Seals, s)
	}
	if err := d.recordRead(ctx, dpa, requestID, n); err != nil {
		return transparency.RecordProof{}, err
	}
	return out, nil
}

// pseudonym shows an actor as its role and a pseudonym keyed per DPA (two
// DPAs cannot match theirs); a service is named, it is no person.
func (d *DPA) pseudonym(dpa, actor string) string {
	id, err := auth.ParseSPIFFE(actor)
	switch {
	case actor == "":
		return ""
	case err != nil:
		return "unknown:" + d.log.keyer.Fingerprint(purposeActor, []byte(dpa), []byte(actor))[:12]
	case id.Kind == auth.KindService:
		return "service:" + id.Name
	}
	return id.Kind + ":" + d.log.keyer.Fingerprint(purposeActor, []byte(dpa), []byte(actor))[:12]
}

// recordRead appends DpaRecordRead: every DPA read is in the record.
func (d *DPA) recordRead(ctx context.Context, dpa auth.Identity, requestID string, size int64) error {
	_, err := command.Run(ctx, d.app.store, records, command.NewCall(requestID, dpa.URI, d.app.cfg.Now()), func(_ *recordState, c command.Call) ([]eventstore.Event, error) {
		return []eventstore.Event{{ID: c.EventID("reporting.dpa_record_read"), Payload: &reportingv1.DpaRecordRead{
			RequestId: requestID, Dpa: dpa.Name, CheckpointSize: size, ReadTime: protoconv.Timestamp(c.Now),
		}}}, nil
	})
	return err
}

// Consistency proves the record log today extends its tree of oldSize
// leaves, and returns the current signed checkpoint.
func (d *DPA) Consistency(ctx context.Context, oldSize int64) ([]byte, tlog.TreeProof, error) {
	n := d.log.log.Size()
	if oldSize > n {
		return nil, nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "old_size", Description: fmt.Sprintf("the record log has %d leaves", n)})
	}
	cp, err := d.checkpoint(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	p, err := d.log.log.ProveConsistency(oldSize, n)
	if err != nil {
		return nil, nil, err
	}
	return cp, p, nil
}

// OpenToDPA opens a request's copy to a DPA, with a reason, recorded by
// actor (staff).
func (d *DPA) OpenToDPA(ctx context.Context, actor, requestID, dpa, reason string) (*reportingv1.DpaAccessGranted, error) {
	var out *reportingv1.DpaAccessGranted
	_, err := command.Run(ctx, d.app.store, records, command.NewCall(requestID, actor, d.app.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
			return nil, err
		}
		out = &reportingv1.DpaAccessGranted{RequestId: requestID, Dpa: dpa, Reason: reason, GrantedBy: c.Actor, GrantTime: protoconv.Timestamp(c.Now)}
		return []eventstore.Event{{ID: c.EventID("reporting.dpa_access_granted"), Payload: out}}, nil
	})
	return out, err
}
