package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

const sre = "spiffe://ddr.local/sre/oncall"

// A poison event (a type no service knows) on a subject a reactor consumes
// is dead-lettered; ddrctl lists it for SRE, and a replay of an event that
// is still undecodable is refused rather than silently dropped.
func TestDdrctlListsDeadLettersAndRefusesReplayingAPoisonEvent(t *testing.T) {
	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{Insecure: true}, cfg.Build)
	d := ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}

	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/intake"))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	msg := nats.NewMsg(eventstore.Subject(id, "intake", "received"))
	msg.Header.Set("ce-id", id)
	msg.Header.Set("ce-type", "ddr.intake.v1.NoSuchEvent")
	msg.Header.Set("ce-source", "ddr/intake")
	msg.Header.Set("ce-specversion", "1.0")
	msg.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
	msg.Data = []byte{0xff, 0x00}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}

	// Every reactor that reads the subject dead-letters it on its own:
	// assessment's case opening, and reporting's seal reactor, which reads
	// every event. This test replays assessment's.
	const consumer = "assessment-open-case"
	out := d.until(sre, func(s string) bool { return deadLetterOf(t, s, id, consumer) != "" }, "dlq", "list", "-o", "json")
	seq := deadLetterOf(t, out, id, consumer)
	if table := d.ok(sre, "dlq", "list", "--consumer", consumer); !strings.Contains(table, id) || !strings.Contains(table, "ddr.intake.v1.NoSuchEvent") {
		t.Errorf("dlq list table lacks the dead letter:\n%s", table)
	}
	if r := d.as(sre, "dlq", "replay", consumer, seq); r.code != ExitRefused {
		t.Errorf("replaying an undecodable event: exit %d, want %d\n%s%s", r.code, ExitRefused, r.stdout, r.stderr)
	}
	// Dead letters are for SRE: a reviewer is denied.
	if r := d.as(alice, "dlq", "list"); r.code != ExitDenied {
		t.Errorf("dlq list as a reviewer: exit %d, want %d", r.code, ExitDenied)
	}
}

// deadLetterOf returns the sequence of the dead letter of request id by
// consumer in the JSON of `dlq list -o json`, or "" when it is not listed.
func deadLetterOf(t *testing.T, out, id, consumer string) string {
	t.Helper()
	var listed struct {
		DeadLetters []struct {
			Sequence  string `json:"sequence"`
			Consumer  string `json:"consumer"`
			RequestID string `json:"request_id"`
		} `json:"dead_letters"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("dlq list -o json: %v\n%s", err, out)
	}
	for _, dl := range listed.DeadLetters {
		if dl.RequestID == id && dl.Consumer == consumer {
			return dl.Sequence
		}
	}
	return ""
}
