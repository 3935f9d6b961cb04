package authority_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func dir(t *testing.T) *authority.Directory {
	t.Helper()
	d, err := authority.Default()
	if err != nil {
		t.Fatalf("embedded directory: %v", err)
	}
	return d
}

func bka(ch authority.Channel, addr string) authority.Requester {
	return authority.Requester{Name: "Bundeskriminalamt", Country: "DE", Kind: "police", Sender: authority.Sender{Channel: ch, Address: addr}}
}

// 2.1 / issue 18: a requester is verified only when the directory knows
// the authority and the request came through a channel the company
// verified itself. Look-alike domains, unknown authorities, a kind that
// does not match and letters are unverified, each with its reason, and
// no reason quotes the officer's own address (personal data).
func TestClause2_1_UnverifiedRequesterIsFlaggedWithItsReason(t *testing.T) {
	d := dir(t)
	for _, c := range []struct {
		name     string
		r        authority.Requester
		verified bool
		reason   string
	}{
		{"subdomain of a verified domain", bka(authority.Email, "k.mueller@cyber.bka.bund.de"), true, ""},
		{"alias and case", authority.Requester{Name: "bka", Country: "DE", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "K.Mueller@BKA.BUND.DE"}}, true, ""},
		{"switchboard number", bka(authority.Phone, "+49 (611) 550-1234"), true, ""},
		{"verified domain as a prefix of another", bka(authority.Email, "k.mueller@bka.bund.de.example.net"), false, "email domain is not a known email domain of de-bka"},
		{"look-alike without the dot", bka(authority.Email, "k.mueller@evilbka.bund.de"), false, "not a known email domain"},
		{"Cyrillic look-alike", bka(authority.Email, "k.mueller@bka.bund.d\u0435"), false, "not a plain ASCII domain"},
		{"free mail", bka(authority.Email, "bka.ermittler@gmail.com"), false, "email domain is not a known"},
		{"unknown number", bka(authority.Phone, "+49 30 1234567"), false, "not one of de-bka's known numbers"},
		{"a letter", bka(authority.Post, "Thaerstr. 11, Wiesbaden"), false, "calling back"},
		{"nothing recorded", bka("", ""), false, "was not recorded"},
		{"wrong country", authority.Requester{Name: "Bundeskriminalamt", Country: "AT", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "k.mueller@bka.bund.de"}}, false, "no authority of that name in country AT"},
		{"wrong kind", authority.Requester{Name: "BKA", Country: "DE", Kind: "court", Sender: authority.Sender{Channel: authority.Email, Address: "k.mueller@bka.bund.de"}}, false, "kind police, the request says court"},
	} {
		got := d.Match(c.r, now)
		if got.Verified != c.verified || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s: verified=%v reason=%q, want verified=%v reason containing %q", c.name, got.Verified, got.Reason, c.verified, c.reason)
		}
		if at := strings.IndexByte(c.r.Sender.Address, '@'); at > 0 && strings.Contains(got.Reason, c.r.Sender.Address[:at]) {
			t.Errorf("%s: the reason %q quotes the officer's address", c.name, got.Reason)
		}
	}
}

// Verification calls back through the directory's contacts, phone first,
// whatever the request gave; a known authority with a bad sender still
// yields its entry, so there is someone to call.
func TestClause2_1_CallbackContactsComeFromTheDirectory(t *testing.T) {
	got := dir(t).Match(bka(authority.Email, "someone@gmail.com"), now)
	if got.Entry == nil || got.Entry.ID != "de-bka" {
		t.Fatalf("entry = %+v, want de-bka", got.Entry)
	}
	cb := got.Entry.Callback()
	if len(cb) == 0 || cb[0].Channel != authority.Phone || cb[0].Value != "49611550" {
		t.Errorf("callback = %+v, want the directory's switchboard first", cb)
	}
}

// A confirmed forgery in an authority's name is a flag layered over the
// file: later matches carry it, the entry itself is unchanged.
func TestForgedRequestFlagIsLayeredOverTheDirectory(t *testing.T) {
	base := dir(t)
	flagged := base.WithFlags([]authority.Flag{{AuthorityID: "de-bka", At: now, Reason: "forged emergency request confirmed by callback"}})
	if got := flagged.Match(bka(authority.Email, "a@bka.bund.de"), now); len(got.Flags) != 1 || !got.Verified {
		t.Errorf("flagged match = %+v, want verified with one flag", got)
	}
	if got := base.Match(bka(authority.Email, "a@bka.bund.de"), now); len(got.Flags) != 0 {
		t.Errorf("the base directory changed: %+v", got.Flags)
	}
}

// The directory file is validated at load: an invalid file names every
// problem, so startup stops with a clear error.
func TestDirectoryFileIsValidated(t *testing.T) {
	bad := `{"authorities":[
	  {"id":"x","name":"","country":"QQ","kind":"army","from":"2026-02-30","source":"","contacts":[{"channel":"fax","value":"1"},{"channel":"email","value":"bäd.de"}]},
	  {"id":"x","name":"Y","country":"DE","kind":"police","from":"2026-01-01","until":"2025-01-01","source":"s","contacts":[]}]}`
	_, err := authority.Parse([]byte(bad))
	if !errors.Is(err, authority.ErrInvalidDirectory) {
		t.Fatalf("Parse(bad) = %v, want ErrInvalidDirectory", err)
	}
	for _, want := range []string{"name is empty", `"QQ"`, `"army"`, "2026-02-30", "source is empty", `"fax"`, "not an ASCII domain", `"x" appears twice`, "until", "contacts is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if _, err := authority.Parse([]byte(`{"authorities":[],"x":1}`)); !errors.Is(err, authority.ErrInvalidDirectory) {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := authority.Load(t.TempDir() + "/missing.json"); err == nil {
		t.Error("a missing file loaded")
	}
}

// An entry applies from its date: before it, the authority is unknown.
func TestEntryAppliesFromItsDate(t *testing.T) {
	d, err := authority.Parse([]byte(`{"authorities":[{"id":"n","name":"New Agency","country":"IE","kind":"regulator","from":"2027-01-01","source":"s","contacts":[{"channel":"email","value":"new.ie"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := authority.Requester{Name: "New Agency", Country: policy.Country("IE"), Kind: "regulator", Sender: authority.Sender{Channel: authority.Email, Address: "a@new.ie"}}
	if got := d.Match(r, now); got.Entry != nil {
		t.Errorf("matched before the entry applies: %+v", got)
	}
	if got := d.Match(r, now.AddDate(1, 0, 0)); !got.Verified {
		t.Errorf("not verified once in force: %+v", got)
	}
}
