// Package natsacl is who may do what on NATS: one user per service, named
// by the SPIFFE URI in its client certificate, allowed to publish only its
// own events and to touch only its own consumers and buckets. A bug or a
// compromise in one service then cannot write another's facts into the
// record, steal another's work or read its keys. The embedded server uses
// these users directly; a separate server gets the same from [Users].
package natsacl

import (
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
)

// Service is what one service does on NATS.
type Service struct {
	// Name is the service, as in its subjects ddr.req.*.<Name>.> and its
	// identity spiffe://<trust-domain>/service/<Name>.
	Name string
	// Durables are its durable consumers on the DDR stream.
	Durables []string
	// Buckets are the KV buckets it owns (creates, reads, writes).
	Buckets []string
	// ReadBuckets are buckets it only reads.
	ReadBuckets []string
	// WriteBuckets are buckets made by someone else that it writes.
	WriteBuckets []string
	// EraseBuckets are buckets whose old revisions it overwrites on disk
	// (secure delete): intake erases data keys for legal.
	EraseBuckets []string
	// OpensPersonalData: the service may read the data keys and so open the
	// personal data sealed in events (both kinds). Sealing needs the keys
	// too, so such a service also creates them (WriteBuckets holds the
	// data-key bucket). A service without it sees events sealed.
	OpensPersonalData bool
}

// Buckets and streams managed by the process rather than a service.
const (
	eventStream = eventstore.StreamName
	dlqStream   = eventstore.DLQStreamName
	dataKeys    = keys.Bucket
)

// Services is the table: every service of the suite and what it may touch.
// The consumer and bucket names are the services' own constants;
// services/allinone's tests check that they agree.
//
// Who opens personal data: intake (staff read their requests back, with
// targets and free text), assessment (it reviews the request: customer ids,
// scope, the reviewers' own text) and notification (it notifies contacts
// and customers named in the request). Reporting does not: its record and
// reports are built from the sealed events as they are (the hash chain
// digests the sealed bytes), so it never needs whom a request is about.
var Services = []Service{
	{Name: "intake", Buckets: []string{"ddr_intake_idempotency"}, WriteBuckets: []string{dataKeys}, EraseBuckets: []string{dataKeys}, OpensPersonalData: true},
	{Name: "assessment", Durables: []string{"assessment-open-case"}, Buckets: []string{"ddr_assessment_settings"}, WriteBuckets: []string{dataKeys}, OpensPersonalData: true},
	{Name: "notification", Durables: []string{"notification-plan"}, Buckets: []string{"ddr_notification_delivery_leases"}, WriteBuckets: []string{dataKeys}, OpensPersonalData: true},
	{Name: "reporting", Durables: []string{"reporting-seal"}, Buckets: []string{"ddr_reporting_transparency"}},
}

// OpensPersonalData reports whether service may open sealed personal data.
func OpensPersonalData(service string) bool {
	for _, s := range Services {
		if s.Name == service {
			return s.OpensPersonalData
		}
	}
	return false
}

// Admin is the process that creates the streams and the data-key bucket
// and serves the dead-letter desk: the all-in-one
// (spiffe://<trust-domain>/service/ddr).
const Admin = "ddr"

// InboxPrefix is the reply-subject prefix a user must use (nats.go
// CustomInboxPrefix); users cannot subscribe to each other's replies.
func InboxPrefix(user string) string { return "_INBOX." + user }

// URI is the identity of a service (or the admin process).
func URI(trustDomain, service string) string {
	return "spiffe://" + trustDomain + "/service/" + service
}

// sre names an operator, who may look at stream and consumer state, never
// at messages.
func sre(trustDomain, name string) string { return "spiffe://" + trustDomain + "/sre/" + name }

func api(format string, a ...any) string { return "$JS.API." + fmt.Sprintf(format, a...) }

// bucketRead lets a reader get keys and watch the bucket through ordered
// consumers (the keyring's cache of data keys learns of erasures so): a
// watch shows nothing a get of every key would not.
func bucketRead(b string) []string {
	return []string{
		api("STREAM.INFO.KV_%s", b),
		api("DIRECT.GET.KV_%s", b), api("DIRECT.GET.KV_%s.>", b),
		api("STREAM.MSG.GET.KV_%s", b),
		api("CONSUMER.CREATE.KV_%s.*", b), api("CONSUMER.CREATE.KV_%s.*.>", b),
		api("CONSUMER.MSG.NEXT.KV_%s.*", b), api("CONSUMER.INFO.KV_%s.*", b),
		api("CONSUMER.DELETE.KV_%s.*", b),
	}
}

func bucketWrite(b string) []string { return []string{"$KV." + b + ".>"} }

func bucketOwn(b string) []string {
	return append([]string{api("STREAM.CREATE.KV_%s", b), api("STREAM.UPDATE.KV_%s", b)},
		append(bucketRead(b), bucketWrite(b)...)...)
}

// Permissions returns the permissions of service s.
func Permissions(s Service) *server.Permissions {
	pub := []string{
		eventstore.ServicePattern(s.Name),
		api("INFO"), // account limits, read before creating a bucket
		api("STREAM.INFO.%s", eventStream), api("STREAM.INFO.%s", dlqStream),
		api("DIRECT.GET.%s", eventStream), api("DIRECT.GET.%s.>", eventStream),
		api("STREAM.MSG.GET.%s", eventStream),
		// Projections read through ordered consumers with generated names.
		api("CONSUMER.CREATE.%s.*", eventStream), api("CONSUMER.CREATE.%s.*.>", eventStream),
		api("CONSUMER.MSG.NEXT.%s.*", eventStream), api("CONSUMER.INFO.%s.*", eventStream),
		api("CONSUMER.DELETE.%s.*", eventStream),
	}
	sub := []string{InboxPrefix(s.Name) + ".>"}
	for _, d := range s.Durables {
		pub = append(pub, "$JS.ACK."+eventStream+"."+d+".>", eventstore.DLQSubject(d))
		sub = append(sub, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+eventStream+"."+d)
	}
	for _, b := range s.Buckets {
		pub = append(pub, bucketOwn(b)...)
	}
	for _, b := range s.ReadBuckets {
		pub = append(pub, bucketRead(b)...)
	}
	for _, b := range s.WriteBuckets {
		pub = append(pub, append(bucketRead(b), bucketWrite(b)...)...)
	}
	for _, b := range s.EraseBuckets {
		pub = append(pub, api("STREAM.MSG.DELETE.KV_%s", b))
	}
	// Another service's durables are not this one's to create, pull, or
	// delete; no durable is deleted by a service at all.
	var deny []string
	for _, o := range Services {
		for _, d := range o.Durables {
			deny = append(deny, api("CONSUMER.DELETE.%s.%s", eventStream, d))
			if o.Name == s.Name {
				continue
			}
			deny = append(deny,
				api("CONSUMER.CREATE.%s.%s", eventStream, d), api("CONSUMER.CREATE.%s.%s.>", eventStream, d),
				api("CONSUMER.MSG.NEXT.%s.%s", eventStream, d))
		}
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: deny},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
}

func adminPermissions() *server.Permissions {
	pub := []string{api("INFO")}
	for _, st := range []string{eventStream, dlqStream, "KV_" + dataKeys} {
		pub = append(pub, api("STREAM.CREATE.%s", st), api("STREAM.UPDATE.%s", st), api("STREAM.INFO.%s", st))
	}
	// The process's admin service lists dead letters and reads the events
	// a replay re-drives (the reactors then write as their own services).
	for _, st := range []string{eventStream, dlqStream} {
		pub = append(pub, api("DIRECT.GET.%s", st), api("DIRECT.GET.%s.>", st), api("STREAM.MSG.GET.%s", st))
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(Admin) + ".>"}},
	}
}

// srePermissions allow state, not content: stream and consumer info only.
func srePermissions() *server.Permissions {
	var denyInbox []string
	for _, s := range Services {
		denyInbox = append(denyInbox, InboxPrefix(s.Name)+".>")
	}
	denyInbox = append(denyInbox, InboxPrefix(Admin)+".>")
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			api("INFO"), api("STREAM.NAMES"), api("STREAM.LIST"), api("STREAM.INFO.*"),
			api("CONSUMER.NAMES.*"), api("CONSUMER.LIST.*"), api("CONSUMER.INFO.*.*"),
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}, Deny: denyInbox},
	}
}

// Users are the NATS users of trustDomain, for a server that maps client
// certificates to users (verify_and_map): every service, the admin process
// and the given SRE names.
func Users(trustDomain string, sreNames ...string) []*server.User {
	var out []*server.User
	for _, s := range Services {
		out = append(out, &server.User{Username: URI(trustDomain, s.Name), Permissions: Permissions(s)})
	}
	out = append(out, &server.User{Username: URI(trustDomain, Admin), Permissions: adminPermissions()})
	for _, n := range sreNames {
		out = append(out, &server.User{Username: sre(trustDomain, n), Permissions: srePermissions()})
	}
	return out
}

// Known reports whether service has a user.
func Known(service string) bool {
	return service == Admin || slices.ContainsFunc(Services, func(s Service) bool { return s.Name == service })
}
