package authority

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

//go:embed directory.json
var embedded []byte

// Channel is a way a request reaches the company, or a way to call back.
type Channel string

// The channels.
const (
	Email  Channel = "email"
	Phone  Channel = "phone"
	Portal Channel = "portal"
	Post   Channel = "post"
)

var channels = []Channel{Email, Phone, Portal, Post}

// Contact is a channel the company verified itself: an e-mail domain, a
// phone number prefix (a switchboard), a portal host or a postal address.
type Contact struct {
	Channel Channel
	Value   string
}

// Entry is one known authority.
type Entry struct {
	ID      string
	Name    string
	Aliases []string
	Country policy.Country
	// Kind is intake's authority kind in the domain spelling ("police").
	Kind        string
	From, Until time.Time
	Source      string
	Contacts    []Contact
}

func (e Entry) inForce(at time.Time) bool { return policy.InForce(e.From, e.Until, at) }

// Flag is a fact layered over the directory file by an event: a request
// in this authority's name was confirmed forged. The entry stays (the
// authority is real); every later match carries the flag.
type Flag struct {
	AuthorityID string
	At          time.Time
	Reason      string
}

// Directory is the authority directory as of a moment, with its flags.
type Directory struct {
	entries []Entry
	flags   map[string][]Flag
}

// ErrInvalidDirectory is wrapped by every error of [Parse].
var ErrInvalidDirectory = errors.New("invalid authority directory")

// Default parses the directory embedded in the binary (an example).
func Default() (*Directory, error) { return Parse(embedded) }

// Load reads a directory file (the embedded one when path is empty). An
// invalid file is an error naming every problem: a service started with
// it stops rather than trusting senders it cannot check.
func Load(path string) (*Directory, error) {
	return policy.LoadDataFile("authority directory", path, embedded, Parse)
}

type file struct {
	Note        string `json:"note"`
	Authorities []struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Aliases  []string `json:"aliases"`
		Country  string   `json:"country"`
		Kind     string   `json:"kind"`
		From     string   `json:"from"`
		Until    string   `json:"until"`
		Source   string   `json:"source"`
		Contacts []struct {
			Channel Channel `json:"channel"`
			Value   string  `json:"value"`
		} `json:"contacts"`
	} `json:"authorities"`
}

// Kinds are the authority kinds an entry may have (intake's, spelled the
// domain's way).
var Kinds = []string{"police", "prosecutor", "court", "national_security", "regulator", "tax", "other_government"}

// Parse parses and validates a directory file.
func Parse(data []byte) (*Directory, error) {
	var f file
	if err := policy.DecodeStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDirectory, err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	d := &Directory{flags: map[string][]Flag{}}
	seen := map[string]bool{}
	for i, a := range f.Authorities {
		at := fmt.Sprintf("authorities[%d]", i)
		e := Entry{ID: a.ID, Name: strings.TrimSpace(a.Name), Aliases: a.Aliases, Kind: a.Kind, Source: a.Source}
		switch {
		case a.ID == "":
			bad("%s.id is empty", at)
		case seen[a.ID]:
			bad("%s.id %q appears twice", at, a.ID)
		}
		seen[a.ID] = true
		if e.Name == "" {
			bad("%s.name is empty", at)
		}
		if c := policy.ParseCountry(a.Country); !c.Assigned() {
			bad("%s.country %q is not an assigned ISO 3166-1 code", at, a.Country)
		} else {
			e.Country = c
		}
		if !slices.Contains(Kinds, a.Kind) {
			bad("%s.kind %q is not one of %v", at, a.Kind, Kinds)
		}
		if strings.TrimSpace(a.Source) == "" {
			bad("%s.source is empty: say how the contacts were verified", at)
		}
		var err error
		if e.From, err = time.Parse(time.DateOnly, a.From); err != nil {
			bad("%s.from %q is not YYYY-MM-DD", at, a.From)
		}
		if a.Until != "" {
			if e.Until, err = time.Parse(time.DateOnly, a.Until); err != nil || !e.Until.After(e.From) {
				bad("%s.until %q is not a date after from", at, a.Until)
			}
		}
		if len(a.Contacts) == 0 {
			bad("%s.contacts is empty: an authority nobody can call back cannot verify anything", at)
		}
		for j, c := range a.Contacts {
			if !slices.Contains(channels, c.Channel) {
				bad("%s.contacts[%d].channel %q is not one of %v", at, j, c.Channel, channels)
				continue
			}
			v, err := normalize(c.Channel, c.Value)
			if err != nil {
				bad("%s.contacts[%d].value: %v", at, j, err)
				continue
			}
			e.Contacts = append(e.Contacts, Contact{Channel: c.Channel, Value: v})
		}
		d.entries = append(d.entries, e)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidDirectory, strings.Join(problems, "; "))
	}
	return d, nil
}

// normalize spells a contact value or a sender address one way: e-mail
// domains and portal hosts lower-case ASCII (a look-alike Unicode domain
// is refused, not folded), phone numbers as their digits.
func normalize(ch Channel, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("empty")
	}
	switch ch {
	case Email:
		if i := strings.LastIndexByte(v, '@'); i >= 0 {
			v = v[i+1:]
		}
		return host(v)
	case Portal:
		if strings.Contains(v, "://") {
			u, err := url.Parse(v)
			if err != nil {
				return "", fmt.Errorf("not a URL: %w", err)
			}
			v = u.Hostname()
		}
		return host(v)
	case Phone:
		var b strings.Builder
		for _, r := range v {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		if b.Len() < 6 {
			return "", errors.New("a phone number needs at least 6 digits")
		}
		return b.String(), nil
	}
	return strings.Join(strings.Fields(v), " "), nil
}

func host(v string) (string, error) {
	v = strings.TrimSuffix(strings.ToLower(v), ".")
	for _, r := range v {
		if r > unicode.MaxASCII {
			return "", fmt.Errorf("%q is not an ASCII domain (write IDNs in their xn-- form)", v)
		}
	}
	if !strings.Contains(v, ".") {
		return "", fmt.Errorf("%q is not a domain", v)
	}
	return v, nil
}

// WithFlags returns the directory with flags layered over it.
func (d *Directory) WithFlags(flags []Flag) *Directory {
	out := &Directory{entries: d.entries, flags: map[string][]Flag{}}
	for id, fs := range d.flags {
		out.flags[id] = slices.Clone(fs)
	}
	for _, f := range flags {
		out.flags[f.AuthorityID] = append(out.flags[f.AuthorityID], f)
	}
	return out
}

// Entry returns the entry with id.
func (d *Directory) Entry(id string) (Entry, bool) {
	for _, e := range d.entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}
