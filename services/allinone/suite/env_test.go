package suite_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// envOptions is what a test's suite differs in; the zero value is the
// development staff with the lead DPA reachable (see startEnv).
type envOptions struct {
	// staff: nil is the development staff (runnertest.DevStaff).
	staff authz.Staff
	// contacts: nil is the lead DPA (DPC-IE) taking packets by a webhook
	// on loopback that accepts each one.
	contacts     *app.Contacts
	adequacyFile string
	// configure adjusts the suite's configuration further.
	configure func(*suite.Config)
}

// startEnv is the one starter of the suite tests that set staff and
// contacts (issue 15's safeguards, issue 18's verification and clocks). By
// default the lead DPA is reachable, because a disclosure is cleared only
// once the competent DPA was notified (2.2), which notification does on
// its own when the delivery is accepted. The context bounds the test.
func startEnv(t *testing.T, o envOptions) (*runnertest.Proc, context.Context) {
	t.Helper()
	if o.contacts == nil {
		dpa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(dpa.Close)
		o.contacts = &app.Contacts{From: "privacy@ddr.example", ReplyContact: "privacy@ddr.example",
			LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: dpa.URL + "/in", Secret: "test-secret"}}}}}
	}
	cfg := suite.DefaultConfig()
	cfg.Notification.Contacts = o.contacts
	if o.configure != nil {
		o.configure(&cfg)
	}
	p := runnertest.Start(t, runnertest.Options{Staff: o.staff, AdequacyFile: o.adequacyFile}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return p, ctx
}
