package domain

import "time"

// Request is a Data Disclosure Request as the receiving group member hands
// it over. Field names follow the wording of the intake issue so that the
// gRPC layer can map its messages field by field; the violation paths of
// [Request.Validate] are the proto-style snake_case names given in the
// comments.
//
// A zero [time.Time] means "not given" wherever a time is optional.
type Request struct {
	GroupMember string    // group_member: the legal entity that received the demand
	ReceivedAt  time.Time // received_at: when the group member received it (clause 3.1)
	Channel     Channel   // channel
	ReceivedBy  string    // received_by: the office or function that received it

	Authority    Authority    // authority
	LegalProcess LegalProcess // legal_process: optional as a whole (clause 3.2)

	// CitesDataProtectionLaw is informational only: no rule depends on it
	// (clause 3.2). Proto: cites_data_protection_law.
	CitesDataProtectionLaw bool

	Targets          []Target      // targets: who or what data is sought about
	ScopeDescription string        // scope_description: when the demand names no individual targets (bulk demands)
	ScopeSelector    ScopeSelector // scope_selector: how the demand selects whom it is about
	// CustomerID is the business customer whose data is sought when the
	// company processes it on the customer's behalf (the customer is then
	// controller, clause 4.1). Proto: customer_id.
	CustomerID     string
	DataCategories []DataCategory // data_categories
	TimeRange      TimeRange      // time_range: period of the data sought
	StatedPurpose  string         // stated_purpose
	Emergency      Emergency      // emergency
	Gag            Gag            // gag: non-disclosure order
	Deadline       time.Time      // deadline: the authority's deadline; zero means none
	Attachments    []Attachment   // attachments: by reference, never the bytes
	Notes          string         // notes
	// SenderAddress is where the demand came from on its channel (e-mail
	// address, calling number, portal host), checked against the authority
	// directory. An officer's own address: personal data.
	SenderAddress string // sender_address
	// CustomerEstablishment is the ISO country of the establishment of
	// the customer named in CustomerID: its DPA is competent too (2.2).
	CustomerEstablishment string // customer_establishment
	// Customers are every business customer the demand concerns, each
	// with its role and establishment (issue 16). The one-customer form
	// above (CustomerID, CustomerEstablishment) is the older way to name
	// one: a request uses one form or the other; see [Request.AllCustomers].
	Customers []Customer // customers

	// IdempotencyKey is chosen by the group member; a retry with the same key
	// gets the same request. Empty means no deduplication. It is not part of
	// the [Request.Fingerprint]. Proto: idempotency_key.
	IdempotencyKey string
}

// Authority is the Requesting Authority (clause 1.1: law enforcement or any
// other government authority).
type Authority struct {
	Name        string        // authority.name
	Kind        AuthorityKind // authority.kind
	Country     string        // authority.country: ISO 3166-1 alpha-2 or [CountryUnknown]
	Subdivision string        // authority.subdivision: free text, e.g. a state or province
}

// LegalProcess is the instrument the demand is made under, if any. The zero
// value means no legal process (clause 3.2).
type LegalProcess struct {
	Type        LegalProcessType // legal_process.type; empty counts as [LegalProcessNone]
	Reference   string           // legal_process.reference
	IssuingBody string           // legal_process.issuing_body
	Date        time.Time        // legal_process.date
	// EnforcingAuthorityNotified: for a European Production Order, the
	// issuing authority notified the enforcing authority (e-Evidence Art. 8).
	EnforcingAuthorityNotified bool // legal_process.enforcing_authority_notified
}

// Target is one account, user or identifier data is sought about. Its Value
// is personal data: it must never reach logs, span attributes or metrics.
type Target struct {
	Kind  TargetKind // targets[i].kind
	Value string     // targets[i].value
}

// TimeRange is the period of the data sought; either end may be open.
type TimeRange struct {
	From time.Time // time_range.from
	To   time.Time // time_range.to
}

// Emergency records an emergency the authority claims (clause 2.1's
// imminent risk of serious harm is judged later, by assessment).
type Emergency struct {
	Claimed       bool   // emergency.claimed
	HarmDescribed string // emergency.harm_described: required when Claimed
	// ImminentRisk: the authority claims an imminent risk of serious harm
	// (clause 2.1). Proto: emergency.imminent_risk_of_serious_harm.
	ImminentRisk bool
}

// Gag is a non-disclosure order the authority claims to attach.
type Gag struct {
	Present   bool      // gag.present
	Reference string    // gag.reference
	ExpiresAt time.Time // gag.expires_at; zero means no expiry given
}

// Attachment points at a document held elsewhere; events carry the
// reference and the digest, never the bytes.
type Attachment struct {
	URI       string // attachments[i].uri
	SHA256    string // attachments[i].sha256: 64 hex digits
	MediaType string // attachments[i].media_type: optional, e.g. application/pdf
}

// Channel is how the demand reached the group member. Oral channels are as
// valid as written ones (clause 3.2).
type Channel string

// Channels.
const (
	ChannelLetter   Channel = "letter"
	ChannelEmail    Channel = "email"
	ChannelPortal   Channel = "portal"
	ChannelFax      Channel = "fax"
	ChannelPhone    Channel = "phone"
	ChannelInPerson Channel = "in_person"
	ChannelOther    Channel = "other"
)

// Channels lists every known channel.
func Channels() []Channel {
	return []Channel{ChannelLetter, ChannelEmail, ChannelPortal, ChannelFax, ChannelPhone, ChannelInPerson, ChannelOther}
}

// AuthorityKind is the kind of government body making the demand. Every
// kind is accepted (clause 1.1); OtherGovernment catches the rest.
type AuthorityKind string

// Authority kinds.
const (
	AuthorityPolice           AuthorityKind = "police"
	AuthorityProsecutor       AuthorityKind = "prosecutor"
	AuthorityCourt            AuthorityKind = "court"
	AuthorityNationalSecurity AuthorityKind = "national_security"
	AuthorityRegulator        AuthorityKind = "regulator"
	AuthorityTax              AuthorityKind = "tax"
	AuthorityOtherGovernment  AuthorityKind = "other_government"
)

// AuthorityKinds lists every known authority kind.
func AuthorityKinds() []AuthorityKind {
	return []AuthorityKind{AuthorityPolice, AuthorityProsecutor, AuthorityCourt, AuthorityNationalSecurity, AuthorityRegulator, AuthorityTax, AuthorityOtherGovernment}
}

// LegalProcessType is the kind of instrument behind the demand.
type LegalProcessType string

// Legal process types. The empty value means the same as LegalProcessNone.
const (
	LegalProcessNone                  LegalProcessType = "none" // none or informal
	LegalProcessSubpoena              LegalProcessType = "subpoena"
	LegalProcessCourtOrder            LegalProcessType = "court_order"
	LegalProcessSearchWarrant         LegalProcessType = "search_warrant"
	LegalProcessProductionOrder       LegalProcessType = "production_order"
	LegalProcessEmergencyRequest      LegalProcessType = "emergency_request"
	LegalProcessNationalSecurityOrder LegalProcessType = "national_security_letter" // NSL or FISA order
	LegalProcessMLATRequest           LegalProcessType = "mlat_request"
	LegalProcessOther                 LegalProcessType = "other"
	// Regulation (EU) 2023/1543 (e-Evidence) orders.
	LegalProcessEuropeanProductionOrder   LegalProcessType = "european_production_order"
	LegalProcessEuropeanPreservationOrder LegalProcessType = "european_preservation_order"
)

// LegalProcessTypes lists every known legal process type.
func LegalProcessTypes() []LegalProcessType {
	return []LegalProcessType{LegalProcessNone, LegalProcessSubpoena, LegalProcessCourtOrder, LegalProcessSearchWarrant, LegalProcessProductionOrder, LegalProcessEmergencyRequest, LegalProcessNationalSecurityOrder, LegalProcessMLATRequest, LegalProcessOther, LegalProcessEuropeanProductionOrder, LegalProcessEuropeanPreservationOrder}
}

// TargetKind says what a target's value identifies.
type TargetKind string

// Target kinds.
const (
	TargetAccount   TargetKind = "account"
	TargetUser      TargetKind = "user"
	TargetEmail     TargetKind = "email_address"
	TargetPhone     TargetKind = "phone_number"
	TargetIPAddress TargetKind = "ip_address"
	TargetOther     TargetKind = "other"
)

// TargetKinds lists every known target kind.
func TargetKinds() []TargetKind {
	return []TargetKind{TargetAccount, TargetUser, TargetEmail, TargetPhone, TargetIPAddress, TargetOther}
}

// DataCategory is a category of data sought.
type DataCategory string

// Data categories.
const (
	DataSubscriber DataCategory = "subscriber"
	DataTraffic    DataCategory = "traffic" // traffic data and other metadata
	DataContent    DataCategory = "content"
	DataOther      DataCategory = "other"
)

// DataCategories lists every known data category.
func DataCategories() []DataCategory {
	return []DataCategory{DataSubscriber, DataTraffic, DataContent, DataOther}
}

func known[T comparable](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}

// ScopeSelector says how a demand selects whom it is about. Whole-tenant and
// whole-service selectors are how bulk demands (clause 6.1) usually arrive;
// empty means not stated.
type ScopeSelector string

// Scope selectors.
const (
	ScopeNamedTargets ScopeSelector = "named_targets"
	ScopeWholeTenant  ScopeSelector = "whole_tenant"
	ScopeWholeService ScopeSelector = "whole_service"
	ScopeDescribed    ScopeSelector = "described"
)

// ScopeSelectors lists every known scope selector.
func ScopeSelectors() []ScopeSelector {
	return []ScopeSelector{ScopeNamedTargets, ScopeWholeTenant, ScopeWholeService, ScopeDescribed}
}
