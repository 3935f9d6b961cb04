package suite_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	assessmentadapters "github.com/ddrsuite/ddr/services/assessment/adapters"
	assessmentports "github.com/ddrsuite/ddr/services/assessment/ports"
	intakeadapters "github.com/ddrsuite/ddr/services/intake/adapters"
	notificationadapters "github.com/ddrsuite/ddr/services/notification/adapters"
	notification "github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	reportingports "github.com/ddrsuite/ddr/services/reporting/ports"
)

// A caller holding each role, by certificate.
var callerOf = map[authz.Role]string{
	authz.GroupMember: "spiffe://ddr.local/group-member/acme-eu",
	authz.Reviewer:    "spiffe://ddr.local/staff/alice",
	authz.Approver:    "spiffe://ddr.local/staff/bob",
	authz.Legal:       "spiffe://ddr.local/staff/carol",
	authz.DPA:         "spiffe://ddr.local/dpa/dpc-ie",
	authz.SRE:         "spiffe://ddr.local/sre/oncall",
	authz.Service:     "spiffe://ddr.local/service/notification",
}

// staffWithoutRoles is authenticated but holds no role.
const staffWithoutRoles = "spiffe://ddr.local/staff/mallory"

// servedMethods lists every method the process serves, as reflection
// (grpcurl) sees it, health and reflection aside.
func servedMethods(t *testing.T, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, svc := range res.GetListServicesResponse().GetService() {
		if authz.IsInfra("/" + svc.GetName() + "/") {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc.GetName()))
		if err != nil {
			t.Fatalf("served service %s: %v", svc.GetName(), err)
		}
		ms := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range ms.Len() {
			out = append(out, "/"+svc.GetName()+"/"+string(ms.Get(i).Name()))
		}
	}
	sort.Strings(out)
	return out
}

func TestPolicyTableCoversExactlyTheServedMethods(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	if got, want := authz.Methods(), servedMethods(t, p.Dial(t, callerOf[authz.SRE])); !slices.Equal(got, want) {
		t.Errorf("policy table methods\n%v\nserved methods\n%v", got, want)
	}
	for m, roles := range authz.Table {
		if len(roles) == 0 {
			t.Errorf("%s: no role may call it; remove it or decide who may", m)
		}
		// Operators get health, metrics and the dead-letter desk (metadata
		// only), never a request's content.
		if slices.Contains(roles, authz.SRE) && !strings.HasPrefix(m, "/ddr.admin.v1.AdminService/") {
			t.Errorf("%s: SRE may not call it", m)
		}
	}
}

// emptyRequest is the zero input of fullMethod; validation refuses most of
// them, which is fine: the matrix is about who gets past authorisation.
func emptyRequest(t *testing.T, fullMethod string) (in, out proto.Message) {
	t.Helper()
	svc, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		t.Fatal(err)
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method))
	it, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	ot, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return it.New().Interface(), ot.New().Interface()
}

// The whole RPC x role matrix over real mTLS calls: an allowed call gets
// past authorisation (whatever it then answers), a denied one is
// PERMISSION_DENIED. Health and reflection answer every authenticated caller.
func TestEveryRPCByEveryRoleAllowedExactlyAsThePolicyTableSays(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	roles := slices.Clone(authz.AllRoles)
	conns := map[authz.Role]*grpc.ClientConn{}
	for _, r := range roles {
		conns[r] = p.Dial(t, callerOf[r])
	}
	roleless := p.Dial(t, staffWithoutRoles)

	for _, m := range servedMethods(t, conns[authz.SRE]) {
		for _, r := range roles {
			in, out := emptyRequest(t, m)
			cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
			err := conns[r].Invoke(cctx, m, in, out)
			ccancel()
			code := status.Code(err)
			if authz.Allowed(m, r) {
				if code == codes.PermissionDenied || code == codes.Unauthenticated {
					t.Errorf("%s as %s: %v; the table allows it", m, r, err)
				}
			} else if code != codes.PermissionDenied {
				t.Errorf("%s as %s: code %v (%v), want PermissionDenied", m, r, code, err)
			}
		}
		in, out := emptyRequest(t, m)
		if err := roleless.Invoke(ctx, m, in, out); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s by staff without roles: %v, want PermissionDenied", m, err)
		}
	}

	for _, r := range append(roles, "no role") {
		conn := roleless
		if c, ok := conns[r]; ok {
			conn = c
		}
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("health check as %s: %v", r, err)
		}
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err == nil {
			err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		}
		if err == nil {
			_, err = stream.Recv()
		}
		if err != nil {
			t.Errorf("reflection as %s: %v", r, err)
		}
	}
}

func TestCallWithoutClientCertificateIsRefused(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// TLS, trusting the server, but no certificate of our own.
	_, err := healthpb.NewHealthClient(p.Dial(t, "")).Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("TLS without a client certificate: %v, want the handshake refused", err)
	}
	// Plaintext with the old development header: not even TLS.
	conn, err := grpcclient.Dial(p.Info.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = intakev1.NewIntakeServiceClient(conn).List(ctx, &intakev1.ListRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext call: %v, want refused", err)
	}
}

func TestGroupMemberAskingForAnotherMembersRequestGetsNotFound(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eu := intakev1.NewIntakeServiceClient(p.Dial(t, "spiffe://ddr.local/group-member/acme-eu"))
	us := intakev1.NewIntakeServiceClient(p.Dial(t, "spiffe://ddr.local/group-member/acme-us"))
	res, err := eu.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "k1", Request: secRequest("acct-1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Get(ctx, &intakev1.GetRequest{RequestId: res.GetRequestId()}); status.Code(err) != codes.NotFound {
		t.Errorf("another member's Get: %v, want NotFound", err)
	}
	if _, err := us.Amend(ctx, &intakev1.AmendRequest{RequestId: res.GetRequestId(), Information: "x"}); status.Code(err) != codes.NotFound {
		t.Errorf("another member's Amend: %v, want NotFound", err)
	}
}

func secRequest(target string) *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Channel:    intakev1.Channel_CHANNEL_PORTAL,
		Authority:  &intakev1.Authority{Name: "Garda", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "IE"},
		Targets:    []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: target}},
	}
}

// The NATS users of the table and the services' own names agree.
func TestNATSTableNamesTheServicesConsumersAndBuckets(t *testing.T) {
	durables := map[string][]string{}
	buckets := map[string][]string{}
	for _, s := range natsacl.Services {
		durables[s.Name] = s.Durables
		buckets[s.Name] = append(slices.Clone(s.Buckets), append(s.ReadBuckets, s.WriteBuckets...)...)
	}
	for _, c := range []struct{ svc, durable string }{
		{"assessment", assessmentports.OpenCaseConsumer}, {"notification", notification.PlanConsumer}, {"reporting", reportingports.SealConsumer},
	} {
		if !slices.Contains(durables[c.svc], c.durable) {
			t.Errorf("natsacl: %s lacks its durable %s", c.svc, c.durable)
		}
	}
	for _, c := range []struct{ svc, bucket string }{
		{"intake", intakeadapters.IdempotencyBucket}, {"intake", keys.Bucket},
		{"notification", notificationadapters.LeaseBucket}, {"notification", keys.Bucket},
		{"assessment", assessmentadapters.SettingsBucket},
	} {
		if !slices.Contains(buckets[c.svc], c.bucket) {
			t.Errorf("natsacl: %s lacks its bucket %s", c.svc, c.bucket)
		}
	}
}

func TestNATSServicePublishingOutsideItsSubjectsIsRefused(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/intake"))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	// A refused publish gets no acknowledgement: the wait times out.
	publish := func(m *nats.Msg) error {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := js.PublishMsg(pctx, m)
		return err
	}
	forge := func(svc, name string) error {
		// The store refuses to write a type under another subject, so the
		// forgery is made by hand: intake's event, put on svc's subject.
		m, err := eventstore.ToMsg(ctx, eventstore.Event{RequestID: id, Payload: &intakev1.RequestWithdrawn{RequestId: id, Reason: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		m.Subject = eventstore.Subject(id, svc, name)
		m.Header.Set(eventstore.HeaderSource, "ddr/"+svc)
		return publish(m)
	}
	// Its own subject: accepted (the refusal below is about permissions).
	if err := forge("intake", "withdrawn"); err != nil {
		t.Fatalf("intake publishing its own event: %v", err)
	}
	for _, target := range [][2]string{{"assessment", "decided"}, {"notification", "cleared"}, {"reporting", "sealed"}} {
		if err := forge(target[0], target[1]); err == nil {
			t.Errorf("intake published ddr.req.%s.%s.%s; want it refused", id, target[0], target[1])
		}
	}
	if err := publish(&nats.Msg{Subject: "ddr.dlq.reporting-seal", Data: []byte("x")}); err == nil {
		t.Error("intake published into reporting's dead letters")
	}

	// Nothing but the own event reached the record.
	reader, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := eventstore.NewStore(reader).Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The other services react to the withdrawal in their own names (since
	// issue 16 notification records that it stopped every step); none of
	// the forged subjects is in the record.
	for _, ev := range h.Events {
		for _, target := range [][2]string{{"assessment", "decided"}, {"notification", "cleared"}, {"reporting", "sealed"}} {
			if ev.Subject == eventstore.Subject(id, target[0], target[1]) {
				t.Errorf("record of %s holds %s, forged by intake", id, ev.Subject)
			}
		}
		if _, own := ev.Payload.(*intakev1.RequestWithdrawn); own && ev.Service != "intake" {
			t.Errorf("record of %s holds intake's event under %s", id, ev.Subject)
		}
	}

	// Another service's consumer and the data keys are out of reach.
	if c, err := js.Consumer(ctx, eventstore.StreamName, assessmentports.OpenCaseConsumer); err == nil {
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		b, ferr := c.Fetch(1, jetstream.FetchContext(fctx))
		if ferr == nil {
			for range b.Messages() {
			}
			ferr = b.Error() // a refused pull is never answered
		}
		cancel()
		if ferr == nil {
			t.Error("intake pulled from assessment's durable consumer")
		}
	}
	// Reporting is not entitled to personal data (natsacl): its record
	// works on the sealed bytes, so its user cannot reach the data keys.
	rep, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	kctx, kcancel := context.WithTimeout(ctx, 3*time.Second)
	defer kcancel()
	if _, err := rep.KeyValue(kctx, keys.Bucket); err == nil {
		t.Error("reporting opened the data-key bucket")
	}
	// An operator sees stream state, not messages.
	ops, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/sre/oncall"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ops.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatalf("SRE stream info: %v", err)
	}
	gctx, gcancel := context.WithTimeout(ctx, 3*time.Second)
	defer gcancel()
	if _, err := s.GetMsg(gctx, 1); err == nil {
		t.Error("SRE read a message of the record")
	}
}
