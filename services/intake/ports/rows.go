package ports

import (
	"context"
	"sync"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
)

// rowCacheSize bounds the List rows kept rendered: a row is a request's
// proto, about 2-3 KiB with its timeline, so some 10 MiB at most.
const rowCacheSize = 4096

// rowCache keeps List rows rendered, so that a page does not rebuild and
// convert fifty views at every call (that was most of a List's cost once
// opening the targets had become cheap, see platform/keys). A row is kept
// with the version of its view (app.Index.Page) and used only while the
// view is at that version.
//
// A row keeps its targets sealed, as the view holds them: they are opened
// at every call, through the keyring, so a shredded key shows at the next
// List, on every replica, the moment its keyring knows (its own erasure at
// once, another's when its watch delivers the tombstone), with nothing to
// invalidate here. So the cache holds nothing a memory dump of the process
// would not find in the view it renders: the same fields, the targets
// still sealed (opened values live only for the call that returns them).
type rowCache struct {
	mu   sync.Mutex
	size int
	rows map[string]row
}

type row struct {
	version uint64
	// msg is the row as rendered, targets sealed; shared by the calls
	// that return it, so never changed once kept.
	msg *intakev1.Request
	// targets are the request's targets, sealed, for opening; nil when
	// none is sealed (msg is served as it is).
	targets []keptTarget
	// erased marks, instead of a row, the version at which the request's
	// view forgot its erased values (see forget).
	erased bool
}

// keptTarget is a target of a kept row, its kind rendered once.
type keptTarget struct {
	app.Target
	kind intakev1.TargetKind
}

func newRowCache(size int) *rowCache {
	return &rowCache{size: size, rows: map[string]row{}}
}

// forget drops the kept row of a request whose view folded its erasure at
// seq, and keeps in its place a marker of that version, without a row, so
// that a rendering read before the erasure and put after this call is not
// kept: a row holds the personal values the view has forgotten.
func (c *rowCache) forget(id string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.rows[id]; ok && old.version >= seq {
		return // rendered after the erasure
	}
	c.rows[id] = row{version: seq, erased: true}
}

// get returns the kept rows of the page's requests that are still at their
// version; the others are missing from the result.
func (c *rowCache) get(page []app.Row) map[string]row {
	out := make(map[string]row, len(page))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range page {
		if r, ok := c.rows[p.ID]; ok && !r.erased && r.version == p.Version {
			out[p.ID] = r
		}
	}
	return out
}

// put keeps r under id unless a newer version is kept already (or the
// marker of an erasure at its version or later, see forget). Past the
// bound an arbitrary row goes (map order): rows are cheap to render again,
// and a page's rows come back at its next call.
func (c *rowCache) put(id string, r row) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.rows[id]; ok && (old.version > r.version || old.version == r.version && !old.erased) {
		return
	}
	for k := range c.rows {
		if len(c.rows) < c.size {
			break
		}
		delete(c.rows, k)
	}
	c.rows[id] = r
}

// len is how many rows are kept.
func (c *rowCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rows)
}

// listRows returns the page's requests as their member reads them,
// targets opened.
func (s *Server) listRows(ctx context.Context, member string, page []app.Row) ([]*intakev1.Request, error) {
	kept := s.rows.get(page)
	out := make([]*intakev1.Request, 0, len(page))
	for _, p := range page {
		r, ok := kept[p.ID]
		if !ok {
			view, version, found := s.list.Versioned(member, p.ID)
			if !found {
				continue // cannot happen: a member's request stays in its list
			}
			r = row{version: version, msg: requestProto(view)}
			if sealed(view.Targets) {
				for _, t := range view.Targets {
					r.targets = append(r.targets, keptTarget{Target: t, kind: targetKindProto(t.Kind)})
				}
			}
			s.rows.put(p.ID, r)
		}
		m, err := s.opened(ctx, p.ID, r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// opened is the kept row r with its targets opened: the row itself when
// none is sealed, else a copy sharing all but the targets with it.
func (s *Server) opened(ctx context.Context, requestID string, r row) (*intakev1.Request, error) {
	if r.targets == nil {
		return r.msg, nil
	}
	ts := make([]*intakev1.Target, 0, len(r.targets))
	for _, kt := range r.targets {
		t, err := s.app.OpenTarget(ctx, requestID, kt.Target)
		if err != nil {
			return nil, err
		}
		ts = append(ts, &intakev1.Target{Kind: kt.kind, Value: t.Value, Ref: t.Ref, SealedValue: t.Sealed, Erased: t.Erased})
	}
	m := copyRequest(r.msg)
	m.Content = copyDemand(r.msg.GetContent())
	m.Content.Targets = ts
	return m, nil
}

// sealed reports whether any of ts is sealed.
func sealed(ts []app.Target) bool {
	for _, t := range ts {
		if len(t.Sealed) > 0 {
			return true
		}
	}
	return false
}

// copyRequest and copyDemand are a new message with m's fields, sharing
// their values (nested messages, lists) with m: a kept row never changes,
// and the copy's own fields are set, never changed in place. By hand, as
// reflection (protoreflect Range and Set) cost more than the rest of a
// List; TestRowCopiesCarryEveryField fails when a field is added to the
// messages and not here.
func copyRequest(m *intakev1.Request) *intakev1.Request {
	return &intakev1.Request{
		RequestId:          m.RequestId,
		GroupMember:        m.GroupMember,
		Content:            m.Content,
		Amendments:         m.Amendments,
		SubmitTime:         m.SubmitTime,
		ForwardingDelay:    m.ForwardingDelay,
		LateForwarding:     m.LateForwarding,
		Stage:              m.Stage,
		Outcome:            m.Outcome,
		Timeline:           m.Timeline,
		InformationRequest: m.InformationRequest,
	}
}

func copyDemand(m *intakev1.DataDisclosureRequest) *intakev1.DataDisclosureRequest {
	if m == nil {
		return &intakev1.DataDisclosureRequest{}
	}
	return &intakev1.DataDisclosureRequest{
		ReceivedAt:             m.ReceivedAt,
		Channel:                m.Channel,
		ReceivedBy:             m.ReceivedBy,
		Authority:              m.Authority,
		LegalProcess:           m.LegalProcess,
		CitesDataProtectionLaw: m.CitesDataProtectionLaw,
		Targets:                m.Targets,
		ScopeDescription:       m.ScopeDescription,
		ScopeSelector:          m.ScopeSelector,
		CustomerId:             m.CustomerId,
		DataCategories:         m.DataCategories,
		TimeRange:              m.TimeRange,
		StatedPurpose:          m.StatedPurpose,
		Emergency:              m.Emergency,
		Gag:                    m.Gag,
		Deadline:               m.Deadline,
		Attachments:            m.Attachments,
		Notes:                  m.Notes,
		SenderAddress:          m.SenderAddress,
		CustomerEstablishment:  m.CustomerEstablishment,
		Customers:              m.Customers,
	}
}
