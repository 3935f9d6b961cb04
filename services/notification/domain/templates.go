package domain

import (
	"strings"
	"text/template"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// RequestSummary is what a notice says about a request. It deliberately has
// no field for the people or accounts the request targets: only the notice
// to a customer that controls the data may name them (see [CustomerNotice]),
// and a type without the field cannot leak it into any other template.
type RequestSummary struct {
	RequestID        string
	RequestingBody   string // the authority's name
	AuthorityKind    string // police, court, prosecutor, ...
	AuthorityCountry string
	ReceivedAt       time.Time
	LegalBasis       string   // the legal process or basis the authority relies on
	DataRequested    []string // data categories, not data
	TimeRange        string
	TargetCount      int
	Deadline         time.Time // zero: none given
}

// CustomerNotice is the 4.1.2 notice: "the details of the Data Disclosure
// Request". The customer is the controller of the data, so it is told whose
// data is sought: it needs that to judge the request, to challenge it, and
// to answer its own data subjects. No other recipient is owed identifiers:
// a DPA judges the lawfulness and scope of the request, which needs the
// categories and the count, and giving it names would be a further
// disclosure of personal data the consultation does not need (data
// minimisation, GDPR art. 5(1)(c)).
type CustomerNotice struct {
	Customer Customer
	Request  RequestSummary
	Targets  []string // identifiers of the accounts or users sought
	Contact  string   // whom at the company to answer
}

// DPAPacket is the packet that notifies and consults a DPA (2.2): the data
// requested, the requesting body and the legal basis, and, when the
// authority's country is not adequate, that the request is held (4.2.1).
type DPAPacket struct {
	DPA          string
	Request      RequestSummary
	Adequacy     policy.Adequacy
	HoldPlacedAt time.Time
	Contact      string
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "none given"
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join": strings.Join,
}

var customerNoticeTmpl = template.Must(template.New("customer").Funcs(funcs).Option("missingkey=error").Parse(`
{{- define "subject"}}Notice of a government data disclosure request ({{.Request.RequestID}}){{end}}
{{- define "body"}}Dear customer {{.Customer.ID}},

We have received a request from a government authority to disclose personal
data that we process on your behalf and for which you are the controller.
Under our Government Data Request Policy (clause 4.1.2) we tell you before we
disclose any personal data.

Request reference:  {{.Request.RequestID}}
Requesting body:    {{.Request.RequestingBody}}{{with .Request.AuthorityKind}} ({{.}}){{end}}
Country:            {{.Request.AuthorityCountry}}
Received:           {{date .Request.ReceivedAt}}
Legal basis:        {{.Request.LegalBasis}}
Data requested:     {{join .Request.DataRequested ", "}}
{{- with .Request.TimeRange}}
Time range:         {{.}}{{end}}
Authority deadline: {{date .Request.Deadline}}
Accounts or users concerned ({{len .Targets}}):
{{- range .Targets}}
  - {{.}}{{end}}

You may wish to respond to the authority yourself or to seek legal advice.
Please contact {{.Contact}} quoting the request reference.
{{end}}`))

var dpaPacketTmpl = template.Must(template.New("dpa").Funcs(funcs).Option("missingkey=error").Parse(`
{{- define "subject"}}Consultation on a government data disclosure request ({{.Request.RequestID}}){{end}}
{{- define "body"}}To {{.DPA}},

{{if .HoldPlacedAt.IsZero -}}
Under our Binding Corporate Rules and Government Data Request Policy (clause
2.2) we notify and consult you about the request below before we disclose
any personal data.
{{- else -}}
Under our Binding Corporate Rules and Government Data Request Policy (clause
4.2.1) we have put the request below on hold and consult you before deciding
whether to disclose any personal data.
{{- end}}

Request reference:  {{.Request.RequestID}}
Requesting body:    {{.Request.RequestingBody}}{{with .Request.AuthorityKind}} ({{.}}){{end}}
Country:            {{.Request.AuthorityCountry}}
Adequacy:           {{.Adequacy.Reason}}
Received:           {{date .Request.ReceivedAt}}
Legal basis:        {{.Request.LegalBasis}}
Data requested:     {{join .Request.DataRequested ", "}}
{{- with .Request.TimeRange}}
Time range:         {{.}}{{end}}
Number of accounts or users concerned: {{.Request.TargetCount}}
Authority deadline: {{date .Request.Deadline}}
{{- if not .HoldPlacedAt.IsZero}}
On hold since:      {{date .HoldPlacedAt}}{{end}}

Please send your view to {{.Contact}} quoting the request reference.
{{end}}`))

// DPAOutcome tells a consulted DPA how the request ended (outcome.go). It
// has no [RequestSummary]: the DPA has the packet, and the reference finds
// it; the notice adds only the end and its date, nothing about people.
type DPAOutcome struct {
	DPA       string
	RequestID string
	End       policy.Outcome
	EndedAt   time.Time
	Contact   string
}

// endWords says an end in words for the outcome notice.
var endWords = map[policy.Outcome]string{
	policy.OutcomeDisclosed:   "we disclosed data in response to it, within the scope decided after the notices and consultation",
	policy.OutcomeNoDataFound: "we found no data to disclose, and disclosed none",
	policy.OutcomeRejected:    "we refused it: no data was disclosed",
	policy.OutcomeChallenged:  "we challenged it and it ended there: no data was disclosed",
	policy.OutcomeRedirected:  "the requesting authority agreed to address the customer directly: we disclosed no data",
	policy.OutcomeWithdrawn:   "the requesting authority withdrew it",
}

var dpaOutcomeTmpl = template.Must(template.New("dpa-outcome").Funcs(funcs).Option("missingkey=error").Parse(`
{{- define "subject"}}Outcome of a government data disclosure request ({{.RequestID}}){{end}}
{{- define "body"}}To {{.DPA}},

We notified and consulted you about the request below (Government Data
Request Policy, clause 2.2). It has now ended: {{.Words}}.

Request reference:  {{.RequestID}}
Outcome:            {{.End}}
Ended:              {{date .EndedAt}}

Please contact {{.Contact}} quoting the request reference.
{{end}}`))

// RenderDPAOutcome renders the outcome notice.
func RenderDPAOutcome(o DPAOutcome) (subject, body string, err error) {
	words, ok := endWords[o.End]
	if !ok {
		return "", "", ddrerr.Invalid(ddrerr.FieldViolation{Field: "request_end", Description: "must name how the request ended"})
	}
	return render(dpaOutcomeTmpl, struct {
		DPAOutcome
		Words string
	}{o, words})
}

// RenderCustomerNotice renders the 4.1.2 notice. It refuses a customer that
// is not the controller: no customer notice is owed then, and the
// identifiers it carries would go to someone not entitled to them.
func RenderCustomerNotice(n CustomerNotice) (subject, body string, err error) {
	if !n.Customer.Controller {
		return "", "", ddrerr.Policy(policy.Clause4_1_2, "NO_CUSTOMER_NOTICE", "the customer is not the controller of the data sought")
	}
	return render(customerNoticeTmpl, n)
}

// RenderDPAPacket renders the DPA packet (2.2, and 4.2.1 when held).
func RenderDPAPacket(p DPAPacket) (subject, body string, err error) {
	return render(dpaPacketTmpl, p)
}

func render(t *template.Template, data any) (string, string, error) {
	var s, b strings.Builder
	if err := t.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", err
	}
	if err := t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", err
	}
	return s.String(), b.String(), nil
}
