package authority

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Sender is how a request reached the company, as intake recorded it: the
// channel and the address it came from (an e-mail address, a calling
// number, a portal host). An officer's address is personal data: it is
// compared here, and never quoted in a reason, nor is its domain.
type Sender struct {
	Channel Channel
	Address string
}

// Requester is what a request says about who is asking.
type Requester struct {
	Name    string
	Country policy.Country
	Kind    string
	Sender  Sender
}

// Result is the directory's finding about a requester.
type Result struct {
	// Entry is the authority the request names, when the directory knows
	// it (even if the sender does not check out: the entry's contacts are
	// then the ones to verify through).
	Entry *Entry
	// Verified: the entry is known and the sender used one of its
	// verified channels.
	Verified bool
	// Reason says why the requester is not verified, for the flag.
	Reason string
	// Flags are earlier forged requests made in this authority's name.
	Flags []Flag
}

// Match finds the authority a request names and checks its sender
// against the channels the company verified itself.
func (d *Directory) Match(r Requester, at time.Time) Result {
	name := fold(r.Name)
	var named []Entry
	for _, e := range d.entries {
		if !e.inForce(at) || e.Country != r.Country {
			continue
		}
		if fold(e.Name) == name || slices.ContainsFunc(e.Aliases, func(a string) bool { return fold(a) == name }) {
			named = append(named, e)
		}
	}
	if len(named) == 0 {
		return Result{Reason: fmt.Sprintf("no authority of that name in country %s is in the directory", r.Country)}
	}
	if i := slices.IndexFunc(named, func(e Entry) bool { return e.Kind == r.Kind }); i > 0 {
		named[0] = named[i]
	}
	e := named[0]
	res := Result{Entry: &e, Flags: d.flags[e.ID]}
	if e.Kind != r.Kind {
		res.Reason = fmt.Sprintf("the directory knows %s as kind %s, the request says %s", e.ID, e.Kind, r.Kind)
		return res
	}
	res.Verified, res.Reason = e.sentThrough(r.Sender)
	return res
}

// sentThrough checks a sender against the entry's verified channels.
func (e Entry) sentThrough(s Sender) (bool, string) {
	if s.Channel == "" || strings.TrimSpace(s.Address) == "" {
		return false, "how the request arrived was not recorded"
	}
	if s.Channel == Post {
		return false, "a letter's sender cannot be checked; verify by calling back"
	}
	got, err := normalize(s.Channel, s.Address)
	if err != nil {
		return false, fmt.Sprintf("the sender's %s address is not usable: it is not a plain ASCII domain or number", s.Channel)
	}
	for _, c := range e.Contacts {
		if c.Channel != s.Channel {
			continue
		}
		switch s.Channel {
		case Email, Portal:
			if got == c.Value || strings.HasSuffix(got, "."+c.Value) {
				return true, ""
			}
		case Phone:
			// A listed number is a switchboard prefix. Caller ID can be
			// spoofed: a match verifies the channel, not the caller, so an
			// emergency still needs a call back.
			if strings.HasPrefix(got, c.Value) {
				return true, ""
			}
		}
	}
	if s.Channel == Email || s.Channel == Portal {
		// The domain itself stays out of the reason: a personal domain
		// names its owner, and the reason is stored in clear (a flag's
		// explanation). Reviewers read the address in the sealed request.
		return false, fmt.Sprintf("the sender's %s domain is not a known %s domain of %s", s.Channel, s.Channel, e.ID)
	}
	return false, fmt.Sprintf("the sender's %s is not one of %s's known numbers", s.Channel, e.ID)
}

// Callback lists the contacts to verify a request through, taken from the
// directory and never from the request: phone first (a person answers),
// then portal, e-mail and post.
func (e Entry) Callback() []Contact {
	out := slices.Clone(e.Contacts)
	rank := map[Channel]int{Phone: 0, Portal: 1, Email: 2, Post: 3}
	slices.SortStableFunc(out, func(a, b Contact) int { return rank[a.Channel] - rank[b.Channel] })
	return out
}

// fold compares names: case, accents left as written, runs of spaces and
// surrounding punctuation ignored.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.Trim(s, " .,;:")), " "))
}
