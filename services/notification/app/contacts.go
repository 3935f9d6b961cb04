package app

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"strings"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Contacts is where notices go: each customer's contacts for the 4.1.2
// notice and each DPA's for the 4.2.1 consultation packet. It is read from
// a JSON file (see [ParseContacts]); the file is configuration, not record:
// the record keeps the recipient each notice went to.
type Contacts struct {
	// From is the sender address of every notice e-mail.
	From string `json:"from"`
	// ReplyContact is whom at the company recipients should answer; it is
	// quoted in the notice text.
	ReplyContact string `json:"reply_contact"`
	// Customers maps a customer id (as intake records it) to its contacts.
	Customers map[string]Endpoints `json:"customers"`
	// LeadDPA is the lead supervisory authority: its recorded answer lifts
	// a hold.
	LeadDPA DPA `json:"lead_dpa"`
	// OtherDPAs are also consulted.
	OtherDPAs []DPA `json:"other_dpas"`
}

// Endpoints are the addresses of one recipient.
type Endpoints struct {
	Emails   []string  `json:"emails"`
	Webhooks []Webhook `json:"webhooks"`
}

// DPA is a data protection authority and its addresses.
type DPA struct {
	Name string `json:"name"`
	Endpoints
}

// Webhook is an HTTPS endpoint that receives signed notices.
type Webhook struct {
	URL string `json:"url"`
	// Secret signs the notices (HMAC-SHA256, see adapters.SignWebhook).
	Secret string `json:"secret"`
	// SecretEnv names an environment variable holding the secret instead,
	// so the file need not hold it.
	SecretEnv string `json:"secret_env"`
}

// DomainConfig is the DPAs as the domain plans with them.
func (c Contacts) DomainConfig() domain.Config {
	cfg := domain.Config{LeadDPA: c.LeadDPA.Name}
	for _, d := range c.OtherDPAs {
		cfg.OtherDPAs = append(cfg.OtherDPAs, d.Name)
	}
	return cfg
}

// dpa returns the addresses of a DPA by name.
func (c Contacts) dpa(name string) (Endpoints, bool) {
	if c.LeadDPA.Name == name {
		return c.LeadDPA.Endpoints, true
	}
	for _, d := range c.OtherDPAs {
		if d.Name == name {
			return d.Endpoints, true
		}
	}
	return Endpoints{}, false
}

// ReadContacts reads and checks a contacts file.
func ReadContacts(path string) (Contacts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Contacts{}, fmt.Errorf("notification contacts: %w", err)
	}
	c, err := ParseContacts(b, os.Getenv)
	if err != nil {
		return Contacts{}, fmt.Errorf("notification contacts %s: %w", path, err)
	}
	return c, nil
}

// ParseContacts reads the contacts format:
//
//	{
//	  "from": "privacy@corp.example",
//	  "reply_contact": "privacy@corp.example",
//	  "customers": {
//	    "cust-42": {"emails": ["legal@cust.example"],
//	                "webhooks": [{"url": "https://cust.example/ddr", "secret_env": "CUST42_SECRET"}]}
//	  },
//	  "lead_dpa": {"name": "DPC-IE", "emails": ["consult@dpc.example"]},
//	  "other_dpas": [{"name": "CNIL", "webhooks": [{"url": "https://cnil.example/in", "secret": "..."}]}]
//	}
//
// Secrets named by secret_env are resolved with getenv.
func ParseContacts(data []byte, getenv func(string) string) (Contacts, error) {
	var c Contacts
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Contacts{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "contacts", Description: "not valid JSON: " + err.Error()})
	}
	var v ddrerr.Collector
	anyEmail := false
	check := func(field string, e *Endpoints) {
		for i, addr := range e.Emails {
			anyEmail = true
			if _, err := mail.ParseAddress(addr); err != nil {
				v.Add(fmt.Sprintf("%s.emails[%d]", field, i), "not an e-mail address")
			}
		}
		for i := range e.Webhooks {
			w := &e.Webhooks[i]
			f := fmt.Sprintf("%s.webhooks[%d]", field, i)
			if p := webhookURLProblem(w.URL); p != "" {
				v.Add(f+".url", p)
			}
			if w.SecretEnv != "" {
				w.Secret = getenv(w.SecretEnv)
			}
			if w.Secret == "" {
				v.Add(f+".secret", "required (or secret_env naming a set variable): notices are signed")
			}
		}
	}
	for id, e := range c.Customers {
		check("customers."+id, &e)
		c.Customers[id] = e
	}
	if strings.TrimSpace(c.LeadDPA.Name) == "" {
		v.Add("lead_dpa.name", "required: the lead DPA's answer lifts a hold (4.2.1)")
	}
	check("lead_dpa", &c.LeadDPA.Endpoints)
	seen := map[string]bool{c.LeadDPA.Name: true}
	for i := range c.OtherDPAs {
		d := &c.OtherDPAs[i]
		f := fmt.Sprintf("other_dpas[%d]", i)
		if strings.TrimSpace(d.Name) == "" || seen[d.Name] {
			v.Add(f+".name", "required and unique")
		}
		seen[d.Name] = true
		check(f, &d.Endpoints)
	}
	if anyEmail {
		if _, err := mail.ParseAddress(c.From); err != nil {
			v.Add("from", "required when any contact has an e-mail address")
		}
	}
	if c.ReplyContact == "" {
		c.ReplyContact = c.From
	}
	return c, v.Err()
}

// webhookURLProblem applies the rule of notices over TLS (transport.go) to
// a webhook URL as configured; "" when it passes.
func webhookURLProblem(raw string) string {
	if t, err := WebhookTarget("url", raw); err != nil || t.Check() != nil {
		return "must be an https URL (http only to a loopback address: notices leave over TLS)"
	}
	return ""
}

// CheckTransport applies the rule of notices over TLS to every webhook URL
// of contacts given as a value rather than read by [ParseContacts] (which
// checks them itself).
func (c Contacts) CheckTransport() error {
	var v ddrerr.Collector
	check := func(field string, e Endpoints) {
		for i, w := range e.Webhooks {
			if p := webhookURLProblem(w.URL); p != "" {
				v.Add(fmt.Sprintf("%s.webhooks[%d].url", field, i), p)
			}
		}
	}
	for id, e := range c.Customers {
		check("customers."+id, e)
	}
	check("lead_dpa", c.LeadDPA.Endpoints)
	for i, d := range c.OtherDPAs {
		check(fmt.Sprintf("other_dpas[%d]", i), d.Endpoints)
	}
	return v.Err()
}

// ReadDPADirectory reads the DPA directory: a JSON object from a country of
// establishment (ISO 3166-1 alpha-2) to the name of the authority competent
// for it, e.g. {"FR": "CNIL", "DE": "BfDI-DE"}. An empty path is the
// default directory (domain.DefaultDPADirectory). An unknown country code or
// an empty name stops startup: a wrong directory would leave an authority
// un-notified (2.2).
func ReadDPADirectory(path string) (domain.DPADirectory, error) {
	if path == "" {
		return domain.DefaultDPADirectory(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notification DPA directory: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("notification DPA directory %s: not a JSON object of country to authority: %w", path, err)
	}
	dir := domain.DPADirectory{}
	for c, a := range raw {
		country := policy.ParseCountry(c)
		if country == policy.CountryUnknown || strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("notification DPA directory %s: entry %q: want an ISO 3166-1 alpha-2 country and an authority name", path, c)
		}
		dir[country] = strings.TrimSpace(a)
	}
	return dir, nil
}
