package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

var (
	staff = auth.Identity{URI: "spiffe://ddr.test/staff/privacy-officer", Kind: auth.KindStaff, Name: "privacy-officer"}
	// counsel is a second legal person: a restriction takes two (5.1).
	counsel = auth.Identity{URI: "spiffe://ddr.test/staff/counsel", Kind: auth.KindStaff, Name: "counsel"}
	member  = auth.Identity{URI: "spiffe://ddr.test/group-member/zd-eu", Kind: auth.KindGroupMember, Name: "zd-eu"}
	dpaIE   = auth.Identity{URI: "spiffe://ddr.test/dpa/dpc-ie", Kind: auth.KindDPA, Name: "dpc-ie"}
	dpaFR   = auth.Identity{URI: "spiffe://ddr.test/dpa/cnil", Kind: auth.KindDPA, Name: "cnil"}
)

// env is reporting running as a process would host it: a real embedded
// JetStream, the component started (seal reactor, report projection), and
// gRPC on a 127.0.0.1 socket.
type env struct {
	deps    runner.Deps
	js      jetstream.JetStream
	store   *eventstore.Store
	comp    *service.Component
	staff   reportingv1.ReportingServiceClient
	member  reportingv1.ReportingServiceClient
	counsel reportingv1.ReportingServiceClient
	dpa     reportingv1.ReportingServiceClient
	dpaFR   reportingv1.ReportingServiceClient
}

// roles is who holds which role in these tests: the privacy officer holds
// every staff role, counsel is legal only. The authorization policy puts
// them in the context, where the two-person rules read them.
var roles = authz.Staff{staff.URI: {authz.Reviewer, authz.Approver, authz.Legal}, counsel.URI: {authz.Legal}}

func start(t testing.TB, cfg service.Config) *env {
	t.Helper()
	n := natstest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := eventstore.EnsureStreams(ctx, n.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	store := eventstore.NewStore(n.JS, eventstore.WithLogger(logger))
	fp, err := keys.NewFingerprinter(bytes.Repeat([]byte{7}, keys.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	deps := runner.Deps{NC: n.Conn, JS: n.JS, Store: store, Logger: logger, Replicas: 1, Fingerprints: fp}
	comp, err := service.New(ctx, deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := authz.New("ddr.test", roles)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{Logger: logger, ServiceNames: comp.GRPCServiceNames(), DevIdentityHeader: true, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	comp.RegisterGRPC(srv.GRPC())
	if err := comp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		comp.Stop()
	})
	client := func(id auth.Identity) reportingv1.ReportingServiceClient {
		conn, err := grpcclient.Dial(lis.Addr().String(), grpcclient.WithDevIdentity(id))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return reportingv1.NewReportingServiceClient(conn)
	}
	return &env{deps: deps, js: n.JS, store: store, comp: comp, staff: client(staff), member: client(member), counsel: client(counsel), dpa: client(dpaIE), dpaFR: client(dpaFR)}
}

// append writes events of other services as they would: through the event
// store, with the optimistic check.
func (e *env) append(t testing.TB, id string, evs ...eventstore.Event) uint64 {
	t.Helper()
	// Reporting's own reactors append to the same request (its seal, say)
	// while a test writes: like every writer, retry on a conflict with a
	// fresh load. Event ids are fixed, so a retried event is written once.
	for attempt := 0; ; attempt++ {
		h, err := e.store.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := e.store.Append(context.Background(), id, h.LastSeq, evs...)
		if errors.Is(err, eventstore.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
}

// publishAll writes events with asynchronous publishes, for volume: the
// envelope is the event store's own (eventstore.ToMsg), only the per-event
// round trip is skipped. It returns the last stream sequence.
func publishAll(t testing.TB, js jetstream.JetStream, evs func(yield func(eventstore.Event) bool)) uint64 {
	t.Helper()
	ctx := context.Background()
	var futures []jetstream.PubAckFuture
	var last uint64
	settle := func() {
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(5 * time.Minute):
			t.Fatal("async publishes did not complete")
		}
		for _, f := range futures {
			select {
			case ack := <-f.Ok():
				last = max(last, ack.Sequence)
			case err := <-f.Err():
				t.Fatalf("publish %s: %v", f.Msg().Subject, err)
			}
		}
		futures = futures[:0]
	}
	for ev := range evs {
		msg, err := eventstore.ToMsg(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		for {
			f, err := js.PublishMsgAsync(msg)
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				settle()
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			futures = append(futures, f)
			break
		}
		if len(futures) >= 2000 {
			settle()
		}
	}
	settle()
	return last
}

// Events of the other services, as they write them.

func received(id string, at time.Time, process intakev1.LegalProcessType, country string, targets int, emergency, gag bool) eventstore.Event {
	req := &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(at),
		Channel:    intakev1.Channel_CHANNEL_PORTAL,
		Authority:  &intakev1.Authority{Name: "Authority", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: country},
		Emergency:  &intakev1.Emergency{Claimed: emergency},
		Gag:        &intakev1.Gag{Present: gag},
	}
	if process != intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_UNSPECIFIED {
		req.LegalProcess = &intakev1.LegalProcess{Type: process}
	}
	for i := range targets {
		req.Targets = append(req.Targets, &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: fmt.Sprintf("account-%d", i), Ref: fmt.Sprintf("t%d", i+1)})
	}
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "intake.received"), RequestID: id, Service: "intake", Name: "received",
		Time: at.Add(time.Hour), Actor: member.URI,
		Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: member.URI, Request: req, SubmitTime: timestamppb.New(at.Add(time.Hour))},
	}
}

// decided is the effective decision as assessment writes it: a disclosure
// of refs targets carries the scope it discloses in its requirements, here
// every data category intake knows, so the categories approve every one of
// reporting's but what "other" would be.
func decided(id string, at time.Time, kind assessmentv1.DecisionKind, refs int) eventstore.Event {
	scope := &assessmentv1.Scope{}
	for i := range refs {
		scope.TargetRefs = append(scope.TargetRefs, fmt.Sprintf("t%d", i+1))
	}
	p := &assessmentv1.AssessmentDecided{RequestId: id, Decision: &assessmentv1.Decision{DecisionId: "d1", Kind: kind, Scope: scope, DecideTime: timestamppb.New(at), DecidedBy: proposer.URI}}
	if kind == assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE {
		p.Requirements = &assessmentv1.NotificationRequirements{DecisionProposer: proposer.URI, Scope: &assessmentv1.Scope{
			TargetRefs: scope.GetTargetRefs(), TargetCount: int32(refs),
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_TRAFFIC, intakev1.DataCategory_DATA_CATEGORY_CONTENT},
		}}
	}
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.decided"), RequestID: id, Service: "assessment", Name: "decided", Time: at,
		Actor: staff.URI, Payload: p,
	}
}

// proposer proposed the decisions: barred from confirming a restriction.
var proposer = auth.Identity{URI: "spiffe://ddr.test/staff/reviewer", Kind: auth.KindStaff, Name: "reviewer"}

// cleared is notification's clearance as written before adequacy was
// judged with it: not judged again at the disclosure date.
func cleared(id string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.cleared"), RequestID: id, Service: "notification", Name: "cleared", Time: at,
		Payload: &notificationv1.RequestCleared{RequestId: id, DecisionId: "d1", ClearTime: timestamppb.New(at)},
	}
}

func redirected(id string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.redirected"), RequestID: id, Service: "notification", Name: "redirected", Time: at,
		Payload: &notificationv1.RequestRedirected{RequestId: id, RedirectTime: timestamppb.New(at)},
	}
}

func withdrawn(id string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "intake.withdrawn"), RequestID: id, Service: "intake", Name: "withdrawn", Time: at, Actor: member.URI,
		Payload: &intakev1.RequestWithdrawn{RequestId: id, WithdrawTime: timestamppb.New(at)},
	}
}

func noticeDelivered(id string, at time.Time, step notificationv1.StepKind) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.notice_delivered", step.String()), RequestID: id, Service: "notification", Name: "notice_delivered", Time: at,
		Payload: &notificationv1.NoticeDelivered{RequestId: id, Delivery: &notificationv1.Delivery{Step: step, DeliveryId: "n-" + step.String(), DeliveryTime: timestamppb.New(at)}},
	}
}

func dpaConsulted(id string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.dpa_consulted"), RequestID: id, Service: "notification", Name: "dpa_consulted", Time: at,
		Payload: &notificationv1.DpaConsulted{RequestId: id},
	}
}

// dispositionEvent is reporting's own event written directly, for volume
// (the RPC path is tested on its own).
func dispositionEvent(id string, at time.Time, d *reportingv1.Disposition) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "reporting.disposition_recorded"), RequestID: id, Service: "reporting", Name: "disposition_recorded", Time: at, Actor: staff.URI,
		Payload: &reportingv1.DispositionRecorded{RequestId: id, Disposition: d},
	}
}

// restrictionConfirmed is a restriction proposed by the privacy officer
// and confirmed by counsel, as the RPCs write them (two legal people, 5.1).
func restrictionConfirmed(id string, at time.Time, r reportingv1.ReportingRestriction) []eventstore.Event {
	lift := &commonv1.Lift{Id: "restriction/" + r.String(), Clause: "5.1", What: "the report restriction", EvidenceReference: "order 12/2026",
		RecordedBy: staff.URI, RecordTime: timestamppb.New(at), ConfirmRoles: []string{"legal"}}
	return []eventstore.Event{{
		ID: eventstore.DerivedID(id, "reporting.restriction_proposed"), RequestID: id, Service: "reporting", Name: "restriction_proposed", Time: at, Actor: staff.URI,
		Payload: &reportingv1.RestrictionProposed{RequestId: id, Restriction: r, LegalReference: "order 12/2026", Lift: lift},
	}, {
		ID: eventstore.DerivedID(id, "reporting.restriction_confirmed"), RequestID: id, Service: "reporting", Name: "restriction_confirmed", Time: at, Actor: counsel.URI,
		Payload: &reportingv1.RestrictionConfirmed{RequestId: id, ConfirmedBy: counsel.URI, Roles: []string{"legal"}, ConfirmTime: timestamppb.New(at)},
	}}
}

// restrictionEvent is a restriction one person set before issue 15: it
// never keeps a request out alone.
func restrictionEvent(id string, at time.Time, r reportingv1.ReportingRestriction) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "reporting.restriction_set"), RequestID: id, Service: "reporting", Name: "restriction_set", Time: at, Actor: staff.URI,
		Payload: &reportingv1.ReportingRestrictionSet{RequestId: id, Restriction: r, SetTime: timestamppb.New(at)},
	}
}

// Generated half-years. Each request's ground truth is kept so the test
// can count on its own, without the code under test.

type path uint8

const (
	pathOpen path = iota
	pathRejected
	pathChallenged
	pathRedirected
	pathWithdrawn
	pathClearedNoDisposition
	pathContent
	pathNonContent
	pathNoData
	numPaths
)

type genReq struct {
	id                   string
	at                   time.Time
	process              intakev1.LegalProcessType
	country              string
	targets              int
	emergency, gag       bool
	path                 path
	customerNotice       bool
	dpaPacket, dpaAnswer bool
	// dpaNotice22: the packet went out on the 2.2 notice step (since issue
	// 15) rather than the 4.2.1 hold's; both count as the DPA consulted.
	dpaNotice22 bool
	excluded    bool
	// legacyExcluded: one person set an exclusion before issue 15; it
	// counts nowhere less (the request is still counted).
	legacyExcluded bool
}

var countries = []string{"US", "DE", "FR", "BR", "IN", "GB", "UNKNOWN"}

// genRequests makes n requests received between from and to.
func genRequests(seed uint64, n int, from, to time.Time) []genReq {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	span := int64(to.Sub(from))
	out := make([]genReq, n)
	for i := range out {
		g := genReq{
			id:             fmt.Sprintf("r%07d", i),
			at:             from.Add(time.Duration(r.Int64N(span))).UTC().Truncate(time.Microsecond),
			process:        intakev1.LegalProcessType(r.IntN(10)), // 0 (none given) .. 9, national security included
			country:        countries[r.IntN(len(countries))],
			targets:        r.IntN(4),
			emergency:      r.IntN(10) == 0,
			gag:            r.IntN(6) == 0,
			path:           path(r.IntN(int(numPaths))),
			customerNotice: r.IntN(3) == 0,
			dpaPacket:      r.IntN(5) == 0,
			dpaNotice22:    r.IntN(2) == 0,
			dpaAnswer:      r.IntN(7) == 0,
			excluded:       r.IntN(40) == 0,
			legacyExcluded: r.IntN(40) == 0,
		}
		out[i] = g
	}
	return out
}

// events yields every event of the generated requests, request by request.
func events(reqs []genReq) func(yield func(eventstore.Event) bool) {
	return func(yield func(eventstore.Event) bool) {
		for _, g := range reqs {
			if !yieldAll(yield, g.events()) {
				return
			}
		}
	}
}

func yieldAll(yield func(eventstore.Event) bool, evs []eventstore.Event) bool {
	for _, ev := range evs {
		if !yield(ev) {
			return false
		}
	}
	return true
}

func (g genReq) events() []eventstore.Event {
	t := g.at.Add(24 * time.Hour)
	evs := []eventstore.Event{received(g.id, g.at, g.process, g.country, g.targets, g.emergency, g.gag)}
	if g.legacyExcluded {
		evs = append(evs, restrictionEvent(g.id, t, reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER))
	}
	if g.excluded {
		evs = append(evs, restrictionConfirmed(g.id, t, reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER)...)
	}
	if g.customerNotice {
		evs = append(evs, noticeDelivered(g.id, t, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER))
	}
	if g.dpaPacket {
		step := notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA
		if g.dpaNotice22 {
			step = notificationv1.StepKind_STEP_KIND_NOTIFY_DPA
		}
		evs = append(evs, noticeDelivered(g.id, t, step))
	}
	if g.dpaAnswer {
		evs = append(evs, dpaConsulted(g.id, t))
	}
	switch g.path {
	case pathRejected:
		evs = append(evs, decided(g.id, t, assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	case pathChallenged:
		evs = append(evs, decided(g.id, t, assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE, 0))
	case pathRedirected:
		evs = append(evs, decided(g.id, t, assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER, 0), redirected(g.id, t))
	case pathWithdrawn:
		evs = append(evs, withdrawn(g.id, t))
	case pathClearedNoDisposition, pathContent, pathNonContent, pathNoData:
		evs = append(evs, decided(g.id, t, assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, g.targets), cleared(g.id, t))
	}
	d := &reportingv1.Disposition{RecordTime: timestamppb.New(t), RecordedBy: staff.URI}
	switch g.path {
	case pathContent:
		d.Kind = &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{
			Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER, reportingv1.DataCategory_DATA_CATEGORY_CONTENT},
			Accounts:   1, DiscloseTime: timestamppb.New(t), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
		}}
	case pathNonContent:
		d.Kind = &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{
			Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_ACCESS_LOGS},
			Accounts:   1, DiscloseTime: timestamppb.New(t), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_ENCRYPTED_EMAIL,
		}}
	case pathNoData:
		d.Kind = &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_NO_DATA_FOUND}
	default:
		return evs
	}
	return append(evs, dispositionEvent(g.id, t, d))
}
