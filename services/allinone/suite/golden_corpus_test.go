package suite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The golden corpus: the DDR stream and the data-key bucket as the suite
// wrote them on the day it was made (testdata/golden, see its README).
// Events are forever, so every later binary must still read every one of
// them. This file holds the corpus format and its loader, shared by the
// generator (golden_generate_test.go) and the check (golden_test.go).

const goldenDir = "testdata/golden"

// goldenDirs lists every corpus under testdata: the first day's
// (testdata/golden) and the ones added beside it when a change brought
// new event types or fields (testdata/golden-2, golden-3, ...: the next
// free number, the day and commit in its README). A directory is a
// corpus when it holds messages.json.
func goldenDirs(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob("testdata/golden*/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, f := range found {
		dirs = append(dirs, filepath.Dir(f))
	}
	if !slices.Contains(dirs, goldenDir) {
		t.Fatalf("the first corpus %s is missing (found %v)", goldenDir, dirs)
	}
	return dirs
}

// goldenMessage is one message of the DDR stream exactly as stored.
type goldenMessage struct {
	Sequence uint64              `json:"sequence"`
	Time     time.Time           `json:"time"`
	Subject  string              `json:"subject"`
	Headers  map[string][]string `json:"headers"`
	// Data is the payload, base64 in the JSON.
	Data []byte `json:"data"`
}

// goldenKey is one entry of the data-key bucket (a wrapped data key or an
// erasure tombstone), keyed by request id.
type goldenKey struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

type goldenCorpus struct {
	Messages []goldenMessage
	DataKeys []goldenKey
	// KEK is the corpus's own key-encryption key (base64 text), made for
	// the corpus and used nowhere else.
	KEK string
}

func readGolden(t *testing.T, dir string) goldenCorpus {
	t.Helper()
	var c goldenCorpus
	for name, v := range map[string]any{"messages.json": &c.Messages, "data_keys.json": &c.DataKeys} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	c.KEK = string(b)
	if len(c.Messages) == 0 {
		t.Fatal("the golden corpus holds no message")
	}
	return c
}

func writeGolden(t *testing.T, dir string, c goldenCorpus) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"messages.json": c.Messages, "data_keys.json": c.DataKeys} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "kek"), []byte(c.KEK), 0o644); err != nil {
		t.Fatal(err)
	}
}

// placeKEK puts the corpus's KEK where the test process looks for it, so
// the process's own EnsureKEKFile keeps it.
func placeKEK(t *testing.T, dataDir, kek string) {
	t.Helper()
	if _, err := keys.ParseKEK(kek); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, "pki", runner.KEKFileName)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(kek), 0o600); err != nil {
		t.Fatal(err)
	}
}

// directGetHeaders are added by JetStream to a message it hands out by
// sequence; they describe the read, not the stored message.
var directGetHeaders = []string{"Nats-Stream", "Nats-Sequence", "Nats-Subject", "Nats-Time-Stamp", "Nats-Num-Pending", "Nats-Last-Sequence"}

// exportStore reads every message of the DDR stream and every entry of the
// data-key bucket from a running process.
func exportStore(t *testing.T, p *runnertest.Proc) goldenCorpus {
	t.Helper()
	ctx := context.Background()
	var c goldenCorpus
	for _, m := range storedMessages(t, p) {
		h := nats.Header{}
		for k, v := range m.Header {
			if !slices.Contains(directGetHeaders, k) {
				h[k] = v
			}
		}
		c.Messages = append(c.Messages, goldenMessage{
			Sequence: m.Sequence, Time: m.Time.UTC(), Subject: m.Subject, Headers: h, Data: m.Data,
		})
	}
	kjs, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/intake"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := kjs.KeyValue(ctx, keys.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	// The bucket's keys are request ids, one per key kind: the subject
	// key under the id, the record key under "<id>.record" (keys.Record);
	// the service users may get keys, not list them.
	for _, id := range requestIDs(t, c) {
		for _, key := range []string{id, id + ".record"} {
			e, err := kv.Get(ctx, key)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			c.DataKeys = append(c.DataKeys, goldenKey{Key: key, Value: e.Value()})
		}
	}
	return c
}

// importStore writes the corpus into the process's fresh store: each
// message published as the service its subject names (the only user NATS
// lets publish there), with the stored headers and payload bytes; each
// data key put back into the bucket.
func importStore(t *testing.T, p *runnertest.Proc, c goldenCorpus) {
	t.Helper()
	ctx := context.Background()
	pubs := map[string]jetstream.JetStream{}
	for _, m := range c.Messages {
		_, service, _, err := eventstore.ParseSubject(m.Subject)
		if err != nil {
			t.Fatalf("message %d: %v", m.Sequence, err)
		}
		js, ok := pubs[service]
		if !ok {
			js, err = jetstream.New(p.NATS(t, "spiffe://ddr.local/service/"+service))
			if err != nil {
				t.Fatal(err)
			}
			pubs[service] = js
		}
		msg := &nats.Msg{Subject: m.Subject, Header: nats.Header(m.Headers), Data: m.Data}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatalf("message %d (%s): %v", m.Sequence, m.Subject, err)
		}
	}
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/intake"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, keys.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.DataKeys {
		if _, err := kv.Put(ctx, k.Key, k.Value); err != nil {
			t.Fatal(err)
		}
	}
}

// eventTypes lists every event message the contract declares: the
// messages of proto/ddr/ marked with the (ddr.options.v1.event) option,
// in whichever file (events.proto, clock_events.proto,
// verification_events.proto, ...).
func eventTypes(t *testing.T) []string {
	t.Helper()
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(fd.Path(), "ddr/") {
			return true
		}
		for i := range fd.Messages().Len() {
			md := fd.Messages().Get(i)
			if proto.HasExtension(md.Options(), optionsv1.E_Event) {
				out = append(out, string(md.FullName()))
			}
		}
		return true
	})
	slices.Sort(out)
	if len(out) < 20 {
		t.Fatalf("only %d event types registered; are the gen packages linked?", len(out))
	}
	return out
}

// Linked so that eventTypes sees every service's events.
var (
	_ = intakev1.File_ddr_intake_v1_events_proto
	_ = assessmentv1.File_ddr_assessment_v1_events_proto
	_ = notificationv1.File_ddr_notification_v1_events_proto
	_ = reportingv1.File_ddr_reporting_v1_events_proto
)

// typesIn counts the corpus's messages per ce-type.
func typesIn(c goldenCorpus) map[string]int {
	n := map[string]int{}
	for _, m := range c.Messages {
		n[nats.Header(m.Headers).Get(eventstore.HeaderType)]++
	}
	return n
}

// requestIDs lists the corpus's request ids, in order of first appearance.
func requestIDs(t *testing.T, c goldenCorpus) []string {
	t.Helper()
	var ids []string
	for _, m := range c.Messages {
		id, _, _, err := eventstore.ParseSubject(m.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// dlqCount is how many dead letters the process holds.
func dlqCount(t *testing.T, p *runnertest.Proc) uint64 {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/sre/oncall"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), eventstore.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// caughtUp reports an error until every durable consumer of the DDR stream
// has handled every message (nothing pending, nothing awaiting its ack).
func caughtUp(p *runnertest.Proc, t *testing.T) func() error {
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/sre/oncall"))
	if err != nil {
		t.Fatal(err)
	}
	return func() error {
		ctx := context.Background()
		for _, d := range []string{"assessment-open-case", "notification-plan", "reporting-seal"} {
			c, err := js.Consumer(ctx, eventstore.StreamName, d)
			if err != nil {
				return fmt.Errorf("consumer %s: %w", d, err)
			}
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return fmt.Errorf("consumer %s: %d pending, %d awaiting ack", d, info.NumPending, info.NumAckPending)
			}
		}
		return nil
	}
}
