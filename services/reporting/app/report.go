package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// ReportSubjects are the events the report's read model folds: all of
// them, because each request's facts carry the head of its whole chain.
var ReportSubjects = []string{eventstore.AllEvents}

type reqState struct {
	id string
	recordState
}

// Reports is the read model of the transparency report: per request, the
// fold of its events and the head of its hash chain (recordState, fed by
// platform/projection with decoded events), and the stream sequence they
// are complete up to.
type Reports struct {
	mu      sync.RWMutex
	index   map[string]int
	reqs    []reqState
	lastSeq uint64
}

// NewReports returns an empty read model.
func NewReports() *Reports { return &Reports{index: make(map[string]int)} }

// Apply folds one event in; it implements projection.Apply.
func (r *Reports) Apply(ev eventstore.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[ev.RequestID]
	if !ok {
		i = len(r.reqs)
		r.index[ev.RequestID] = i
		r.reqs = append(r.reqs, reqState{id: ev.RequestID})
	}
	if err := r.reqs[i].apply(ev); err != nil {
		return err
	}
	r.lastSeq = ev.Sequence
	return nil
}

// SealDue reports whether the record of requestID, as the read model has
// folded it (up to LastApplied of its projection), is closed and does not
// end with a seal: what [Reporting.Seal] would append one for.
func (r *Reports) SealDue(requestID string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	i, ok := r.index[requestID]
	if !ok {
		return false
	}
	s := &r.reqs[i].recordState
	return s.fold.Terminal() && !s.lastSealed
}

// Facts returns the facts of every request received in p, and the stream
// sequence they are complete up to, taken together.
func (r *Reports) Facts(p domain.Period) ([]domain.ReportFacts, uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return collect(r.reqs, p), r.lastSeq
}

// collect takes the facts of every request, counts each demand once
// (domain.CountDemandsOnce: linked requests are counted together, across
// periods too) and keeps those received in p.
func collect(reqs []reqState, p domain.Period) []domain.ReportFacts {
	all := make([]domain.ReportFacts, 0, len(reqs))
	var links map[string][]string
	for i := range reqs {
		s := &reqs[i]
		if f, ok := s.fold.Facts(s.id, s.head); ok {
			all = append(all, f)
		}
		if l := s.fold.Links(); len(l) > 0 {
			if links == nil {
				links = map[string][]string{}
			}
			links[s.id] = l
		}
	}
	all = domain.CountDemandsOnce(all, links)
	out := make([]domain.ReportFacts, 0, len(all)/2)
	for _, f := range all {
		if p.Contains(f.ReceivedAt) {
			out = append(out, f)
		}
	}
	return out
}

var errStop = errors.New("stop")

// FactsFromRecord folds the facts of every request received in p straight
// from the stored messages, up to stream sequence upTo (0: all of it), and
// returns the last sequence folded. This is the independent path a report
// verification takes: stored bytes hashed, only the payloads the fold
// needs decoded.
func (a *Reporting) FactsFromRecord(ctx context.Context, p domain.Period, upTo uint64) ([]domain.ReportFacts, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ScanTimeout)
	defer cancel()
	index := make(map[string]int)
	var (
		reqs []reqState
		last uint64
	)
	err := a.stream.ScanAll(ctx, func(m eventstore.RawMsg) error {
		if upTo > 0 && m.Sequence > upTo {
			return errStop
		}
		e, err := entryOf(m)
		if err != nil {
			return err
		}
		id, svc, name, err := eventstore.ParseSubject(m.Subject)
		if err != nil {
			return err
		}
		i, ok := index[id]
		if !ok {
			i = len(reqs)
			index[id] = i
			reqs = append(reqs, reqState{id: id})
		}
		s := &reqs[i]
		s.head = domain.EntryHash(s.head, e)
		name = svc + "." + name
		var payload proto.Message
		if needsPayload(name) {
			if ev, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence); err == nil {
				payload = ev.Payload
			}
		}
		apply(&s.fold, name, e.Time, payload)
		last = m.Sequence
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, 0, fmt.Errorf("reading the record: %w", err)
	}
	return collect(reqs, p), last, nil
}

// Report builds the report of p from the read model, as of now.
func (a *Reporting) Report(r *Reports, p domain.Period) (*domain.Report, error) {
	facts, seq := r.Facts(p)
	rep, err := domain.BuildReport(facts, p, a.cfg.Report, a.cfg.Now().UTC())
	if err != nil {
		return nil, err
	}
	rep.RecordSequence = seq
	return rep, nil
}

// ReportCheck is the result of verifying a published report.
type ReportCheck struct {
	// Mismatch is nil when every figure and digest is reproduced.
	Mismatch *domain.ReportMismatchError
	// Root is the Merkle root recomputed from the record.
	Root domain.Digest
}

// VerifyReport reads a report's JSON export and recomputes it from the
// record, folded up to the sequence the report says it was built from.
func (a *Reporting) VerifyReport(ctx context.Context, reportJSON []byte) (ReportCheck, error) {
	rep, err := domain.ReadJSON(bytes.NewReader(reportJSON))
	if err != nil {
		return ReportCheck{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "report_json", Description: err.Error()})
	}
	if !rep.Period.Valid() {
		return ReportCheck{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "report_json", Description: "period is missing or invalid"})
	}
	facts, _, err := a.FactsFromRecord(ctx, rep.Period, rep.RecordSequence)
	if err != nil {
		return ReportCheck{}, err
	}
	want, err := domain.BuildReport(facts, rep.Period, rep.Config, rep.GeneratedAt)
	if err != nil {
		return ReportCheck{}, err
	}
	check := ReportCheck{Root: want.Digest.MerkleRoot}
	var mm *domain.ReportMismatchError
	if err := domain.VerifyReport(rep, facts); errors.As(err, &mm) {
		check.Mismatch = mm
	} else if err != nil {
		return ReportCheck{}, err
	}
	return check, nil
}
