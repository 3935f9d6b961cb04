package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Issue 18: the requester is matched to the authority directory when the
// case opens, and verified through the directory's contacts.

// VerifyScope says which requests need a confirmed verification before any
// disclosure, beyond emergency and imminent-risk ones (which always do):
// the domain's, where its two-person rule lives (verifyscope.go).
type VerifyScope = domain.VerifyScope

// The scopes. Narrowing the scope weakens a safeguard.
const (
	VerifyEmergency  = domain.VerifyEmergency
	VerifyUnverified = domain.VerifyUnverified
	VerifyAll        = domain.VerifyAll
)

// ParseVerifyScope parses a scope; empty is VerifyEmergency.
func ParseVerifyScope(s string) (VerifyScope, error) { return domain.ParseVerifyScope(s) }

// Directory is the authority directory file with the flags recorded by
// AuthorityFlagged events layered over it: a projection across requests,
// so a forgery confirmed on one request flags the next from that
// authority.
type Directory struct {
	base  *authority.Directory
	mu    sync.RWMutex
	flags []authority.Flag
	seen  map[string]bool
}

// NewDirectory layers flags over base.
func NewDirectory(base *authority.Directory) *Directory {
	return &Directory{base: base, seen: map[string]bool{}}
}

// Flag layers one AuthorityFlagged over the file; the incident id makes a
// replayed event count once.
func (d *Directory) Flag(incidentID string, f authority.Flag) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[incidentID] {
		return
	}
	d.seen[incidentID] = true
	d.flags = append(d.flags, f)
}

// Current is the directory with every flag so far.
func (d *Directory) Current() *authority.Directory {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.base.WithFlags(slices.Clone(d.flags))
}

// incidents counts security incidents opened on forged requests. Its one
// attribute says whether data had left: nothing about whom.
var incidents = telemetry.Instruments("github.com/ddrsuite/ddr/services/assessment", func(m metric.Meter) metric.Int64Counter {
	return telemetry.Counter(m, "ddr.assessment.security_incidents", "Security incidents opened on requests confirmed forged")
})

// OpenReceivedCase opens the case of a received request as OpenCase does,
// and matches the requester to the authority directory: the finding is
// appended beside CaseOpened (RequesterChecked), and an unverified
// requester raises the flag UNVERIFIED_REQUESTER with its reason.
func (a *Assessment) OpenReceivedCase(ctx context.Context, triggerID string, facts domain.RequestFacts, req authority.Requester, submitted time.Time) error {
	return a.openCase(ctx, triggerID, facts, &req, submitted)
}

// checkRequester adds the directory's finding to the events that open a
// case. The sender's address is compared, never recorded or quoted.
func (a *Assessment) checkRequester(ctx context.Context, evs []domain.Event, req authority.Requester, now time.Time) ([]domain.Event, error) {
	i, opened := -1, domain.CaseOpened{}
	for j, e := range evs {
		if o, ok := e.(domain.CaseOpened); ok {
			i, opened = j, o
			break
		}
	}
	if i < 0 {
		return evs, nil
	}
	// The scope in force now, read from the store (not the startup flag):
	// every replica opens cases under the setting the two-person rule
	// left, and a case that cannot read it does not open (it is retried).
	scope, err := a.scopeInForce(ctx)
	if err != nil {
		return nil, err
	}
	m := a.directory().Current().Match(req, now)
	chk := domain.RequesterChecked{Meta: opened.Meta, Verified: m.Verified, Reason: m.Reason, PriorForgeries: len(m.Flags)}
	if m.Entry != nil {
		chk.AuthorityID = m.Entry.ID
	}
	if len(m.Flags) > 0 {
		last := m.Flags[len(m.Flags)-1]
		reason := fmt.Sprintf("a request in the name of %s was confirmed forged on %s", chk.AuthorityID, last.At.UTC().Format(time.DateOnly))
		chk.Reason = strings.TrimPrefix(chk.Reason+"; "+reason, "; ")
		chk.Verified = false
	}
	chk.VerificationRequired = scope.Requires(chk.Verified) || len(m.Flags) > 0
	if !chk.Verified {
		opened.Flags = append(slices.Clone(opened.Flags), domain.Flag{Code: domain.FlagUnverifiedRequester, Clause: policy.Clause2_1,
			Explanation: "The requester is not verified: " + chk.Reason + ". Verify the request through a contact from the authority directory " +
				"(never one the request gives) before any emergency disclosure."})
		evs[i] = opened
	}
	out := slices.Clone(evs[:i+1])
	out = append(out, chk)
	return append(out, evs[i+1:]...), nil
}

func (a *Assessment) directory() *Directory {
	if a.cfg.Directory != nil {
		return a.cfg.Directory
	}
	return defaultDirectory
}

// defaultDirectory serves an Assessment configured without a directory
// (tests): the embedded example file, which is valid by its own test.
var defaultDirectory = func() *Directory {
	d, err := authority.Default()
	if err != nil {
		panic(err)
	}
	return NewDirectory(d)
}()

// Contacts is the directory's answer for a request: the authority it
// names and the contacts to verify it through.
type Contacts struct {
	Entry    *authority.Entry
	Contacts []authority.Contact
	State    *CaseState
}

// ChannelID names a directory contact: stable across reorderings of the
// file, and from the directory only.
func ChannelID(c authority.Contact) string { return string(c.Channel) + ":" + c.Value }

// VerificationContacts returns the verified contacts of the authority the
// request names, from the directory (never from the request).
func (a *Assessment) VerificationContacts(ctx context.Context, requestID string) (Contacts, error) {
	st, err := a.Get(ctx, requestID)
	if err != nil {
		return Contacts{}, err
	}
	e, err := a.entryOf(st)
	if err != nil {
		return Contacts{State: st}, err
	}
	return Contacts{Entry: e, Contacts: e.Callback(), State: st}, nil
}

func (a *Assessment) entryOf(st *CaseState) (*authority.Entry, error) {
	v := st.Case.Verification()
	if v.AuthorityID != "" {
		if e, ok := a.directory().Current().Entry(v.AuthorityID); ok {
			return &e, nil
		}
	}
	return nil, ddrerr.Policy(policy.Clause2_1, domain.RuleRequesterNotVerified,
		"the authority directory knows no authority the request names: there is no verified contact to call back; add the authority to the directory file from an official source")
}

// Verified is what RecordVerification did.
type Verified struct {
	State *CaseState
	// IncidentID is set when the verification found a forgery.
	IncidentID    string
	AuthorityID   string
	DataDisclosed bool
}

// RecordVerification records a call back through the directory contact
// channelID. FORGED flags the authority and opens a security incident (and
// a personal-data breach with its deadlines when data had already left).
func (a *Assessment) RecordVerification(ctx context.Context, actor, requestID, channelID string, o domain.VerificationOutcome, note string) (Verified, error) {
	var out Verified
	inc, err := uuid.NewV7()
	if err != nil {
		return out, err
	}
	st, err := a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		e, err := a.entryOf(st)
		if err != nil {
			return nil, err
		}
		in := domain.VerificationInput{AuthorityID: e.ID, ChannelID: channelID, Outcome: o, Note: note, IncidentID: "INC-" + inc.String()}
		i := slices.IndexFunc(e.Contacts, func(k authority.Contact) bool { return ChannelID(k) == channelID })
		if i < 0 {
			return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "channel_id", Description: "not a contact of the authority in the directory: use one GetVerificationContacts returns"})
		}
		in.Channel = string(e.Contacts[i].Channel)
		evs, err := st.Case.RecordVerification(in, actor, c.Now)
		for _, ev := range evs {
			if s, ok := ev.(domain.SecurityIncidentOpened); ok {
				out.IncidentID, out.AuthorityID, out.DataDisclosed = s.IncidentID, s.AuthorityID, s.DataDisclosed
			}
		}
		return evs, err
	})
	if err != nil {
		return Verified{}, err
	}
	out.State = st
	if out.IncidentID != "" {
		a.directory().Flag(out.IncidentID, authority.Flag{AuthorityID: out.AuthorityID, At: a.cfg.Now().UTC(), Reason: "confirmed forged"})
		incidents().Add(ctx, 1, metric.WithAttributes(attribute.Bool("ddr.data_disclosed", out.DataDisclosed)))
	}
	return out, nil
}
