package cli

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

func requestCmd(g *globals) *cobra.Command {
	return group("request", "Submit and follow requests (as a group member)",
		`  ddrctl --identity spiffe://ddr.local/group-member/acme-eu request list`,
		submitCmd(g), requestGetCmd(g), requestListCmd(g), watchCmd(g), amendCmd(g), withdrawCmd(g))
}

// submitFlags build a demand from flags.
type submitFlags struct {
	file, key                 string
	receivedAt, receivedBy    string
	channel, authorityKind    *enumFlag
	authority, country        string
	legalProcess              *enumFlag
	legalRef, issuingBody     string
	targets                   []string
	customer                  string
	categories, scopeSelector *enumFlag
	scopeDescription          string
	from, to, deadline        string
	purpose, notes            string
	emergency, imminentRisk   bool
	harm                      string
	gag                       bool
	gagRef, gagExpires        string
	citesDataProtectionLaw    bool
}

func submitCmd(g *globals) *cobra.Command {
	var f submitFlags
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Hand a demand to the Privacy Team (clause 3.1)",
		Long: `Submit hands a demand to intake the moment it arrives. The demand comes from a
YAML or JSON file (-f; "-" reads standard input) holding a DataDisclosureRequest
with the protobuf field names, or a SubmitRequest ({idempotency_key, request}),
or from flags; flags given override the file's fields.

The idempotency key makes a resubmission safe: the same key answers with the
same request id however late it comes. Without --key (and none in the file) the
key is derived from the demand's content under a secret of this user (kept in
$DDR_CONFIG_DIR, else the user's configuration directory, ddrctl/), so
submitting the same file twice from this account creates one request.`,
		Example: `  # from a file
  ddrctl request submit -f demand.yaml

  # demand.yaml:
  #   received_at: "2026-11-28T09:00:00Z"
  #   channel: CHANNEL_LETTER
  #   authority: {name: Police, kind: AUTHORITY_KIND_POLICE, country: DE}
  #   targets: [{kind: TARGET_KIND_ACCOUNT, value: acct-1}]

  # from flags (a phone call; no legal process, clause 3.2)
  ddrctl request submit --key call-2026-11-28-01 --channel phone \
    --authority "Polizei Berlin" --authority-kind police --country DE \
    --target account=acct-1 --category subscriber --purpose "missing person"`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			in, err := f.build(cmd, g.env.Stdin)
			if err != nil {
				return err
			}
			if in.IdempotencyKey == "" {
				secret, err := submitSecret(g.env.Getenv)
				if err != nil {
					return err
				}
				in.IdempotencyKey = contentKey(secret, in.GetRequest())
			}
			cl, ctx, cancel, err := dial(g, cmd, g.client)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := cl.Submit(ctx, in.GetIdempotencyKey(), in.GetRequest())
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.kv("REQUEST", res.GetRequestId(),
					"SUBMITTED", ts(res.GetSubmitTime()),
					"REPLAYED", yesno(res.GetReplayed()),
					"LATE FORWARDING", yesno(res.GetLateForwarding()))
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", `YAML or JSON file of the demand ("-": standard input)`)
	fl.StringVar(&f.key, "key", "", "idempotency key (default: derived from the demand's content)")
	fl.StringVar(&f.receivedAt, "received-at", "", "when the group member received it, RFC 3339 (default: now)")
	fl.StringVar(&f.receivedBy, "received-by", "", "the office that received it")
	f.channel = enumVar(cmd, "channel", "how it arrived", intakev1.Channel(0).Descriptor(), false)
	fl.StringVar(&f.authority, "authority", "", "requesting authority's name")
	f.authorityKind = enumVar(cmd, "authority-kind", "kind of authority", intakev1.AuthorityKind(0).Descriptor(), false)
	fl.StringVar(&f.country, "country", "", "authority's country, ISO 3166-1 alpha-2 or UNKNOWN")
	f.legalProcess = enumVar(cmd, "legal-process", "legal instrument", intakev1.LegalProcessType(0).Descriptor(), false)
	fl.StringVar(&f.legalRef, "legal-reference", "", "reference of the legal process")
	fl.StringVar(&f.issuingBody, "issuing-body", "", "body that issued the legal process")
	fl.StringArrayVar(&f.targets, "target", nil, "whom it is about, KIND=VALUE (kinds: "+strings.Join(enumChoices(intakev1.TargetKind(0).Descriptor()), "|")+"); repeatable")
	fl.StringVar(&f.customer, "customer", "", "customer id when the customer is controller (clause 4.1)")
	f.categories = enumVar(cmd, "category", "data sought; repeatable", intakev1.DataCategory(0).Descriptor(), true)
	f.scopeSelector = enumVar(cmd, "scope-selector", "how the demand selects whom it is about", intakev1.ScopeSelector(0).Descriptor(), false)
	fl.StringVar(&f.scopeDescription, "scope-description", "", "the scope in words, when no targets are named")
	fl.StringVar(&f.from, "from", "", "start of the period of data sought, RFC 3339")
	fl.StringVar(&f.to, "to", "", "end of the period of data sought, RFC 3339")
	fl.StringVar(&f.deadline, "deadline", "", "authority's deadline, RFC 3339")
	fl.StringVar(&f.purpose, "purpose", "", "stated purpose")
	fl.StringVar(&f.notes, "notes", "", "anything else that helps the Privacy Team")
	fl.BoolVar(&f.emergency, "emergency", false, "the authority claims an emergency")
	fl.BoolVar(&f.imminentRisk, "imminent-risk", false, "the authority claims an imminent risk of serious harm")
	fl.StringVar(&f.harm, "harm", "", "the harm the authority describes")
	fl.BoolVar(&f.gag, "gag", false, "a non-disclosure order comes with it")
	fl.StringVar(&f.gagRef, "gag-reference", "", "reference of the non-disclosure order")
	fl.StringVar(&f.gagExpires, "gag-expires", "", "when the non-disclosure order ends, RFC 3339")
	fl.BoolVar(&f.citesDataProtectionLaw, "cites-data-protection-law", false, "the demand cites data protection law (informational)")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	return cmd
}

// build reads the file (if any) and applies the flags given.
func (f *submitFlags) build(cmd *cobra.Command, stdin io.Reader) (*intakev1.SubmitRequest, error) {
	in := &intakev1.SubmitRequest{Request: &intakev1.DataDisclosureRequest{}}
	if f.file != "" {
		var err error
		if in, err = readSubmit(f.file, stdin); err != nil {
			return nil, err
		}
	}
	r := in.GetRequest()
	changed := cmd.Flags().Changed
	var perr error
	setTime := func(name, v string, set func(*timestamppb.Timestamp)) {
		if !changed(name) || perr != nil {
			return
		}
		t, err := flagTime(name, v)
		if err != nil {
			perr = err
			return
		}
		set(t)
	}
	setTime("received-at", f.receivedAt, func(t *timestamppb.Timestamp) { r.ReceivedAt = t })
	if r.ReceivedAt == nil && f.file == "" {
		r.ReceivedAt = timestamppb.Now()
	}
	if changed("received-by") {
		r.ReceivedBy = f.receivedBy
	}
	if changed("channel") {
		r.Channel = intakev1.Channel(f.channel.get())
	}
	if changed("authority") || changed("authority-kind") || changed("country") {
		if r.Authority == nil {
			r.Authority = &intakev1.Authority{}
		}
		if changed("authority") {
			r.Authority.Name = f.authority
		}
		if changed("authority-kind") {
			r.Authority.Kind = intakev1.AuthorityKind(f.authorityKind.get())
		}
		if changed("country") {
			r.Authority.Country = strings.ToUpper(f.country)
		}
	}
	if changed("legal-process") || changed("legal-reference") || changed("issuing-body") {
		if r.LegalProcess == nil {
			r.LegalProcess = &intakev1.LegalProcess{}
		}
		if changed("legal-process") {
			r.LegalProcess.Type = intakev1.LegalProcessType(f.legalProcess.get())
		}
		if changed("legal-reference") {
			r.LegalProcess.Reference = f.legalRef
		}
		if changed("issuing-body") {
			r.LegalProcess.IssuingBody = f.issuingBody
		}
	}
	for _, t := range f.targets {
		kind, value, ok := strings.Cut(t, "=")
		if !ok {
			return nil, usageErr(fmt.Errorf("--target %q: want KIND=VALUE", t))
		}
		n, err := parseEnum(intakev1.TargetKind(0).Descriptor(), kind)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--target: %w", err))
		}
		r.Targets = append(r.Targets, &intakev1.Target{Kind: intakev1.TargetKind(n), Value: value})
	}
	if changed("customer") {
		r.CustomerId = f.customer
	}
	if changed("category") {
		r.DataCategories = enumList[intakev1.DataCategory](f.categories)
	}
	if changed("scope-selector") {
		r.ScopeSelector = intakev1.ScopeSelector(f.scopeSelector.get())
	}
	if changed("scope-description") {
		r.ScopeDescription = f.scopeDescription
	}
	if changed("from") || changed("to") {
		if r.TimeRange == nil {
			r.TimeRange = &intakev1.TimeRange{}
		}
		setTime("from", f.from, func(t *timestamppb.Timestamp) { r.TimeRange.From = t })
		setTime("to", f.to, func(t *timestamppb.Timestamp) { r.TimeRange.To = t })
	}
	setTime("deadline", f.deadline, func(t *timestamppb.Timestamp) { r.Deadline = t })
	if changed("purpose") {
		r.StatedPurpose = f.purpose
	}
	if changed("notes") {
		r.Notes = f.notes
	}
	if changed("emergency") || changed("imminent-risk") || changed("harm") {
		if r.Emergency == nil {
			r.Emergency = &intakev1.Emergency{}
		}
		r.Emergency.Claimed = f.emergency || r.Emergency.Claimed
		r.Emergency.ImminentRiskOfSeriousHarm = f.imminentRisk || r.Emergency.ImminentRiskOfSeriousHarm
		if changed("harm") {
			r.Emergency.HarmDescribed = f.harm
		}
	}
	if changed("gag") || changed("gag-reference") || changed("gag-expires") {
		if r.Gag == nil {
			r.Gag = &intakev1.Gag{}
		}
		r.Gag.Present = true
		if changed("gag-reference") {
			r.Gag.Reference = f.gagRef
		}
		setTime("gag-expires", f.gagExpires, func(t *timestamppb.Timestamp) { r.Gag.ExpiresAt = t })
	}
	if changed("cites-data-protection-law") {
		r.CitesDataProtectionLaw = f.citesDataProtectionLaw
	}
	if perr != nil {
		return nil, perr
	}
	if changed("key") {
		in.IdempotencyKey = f.key
	}
	return in, nil
}

// contentKey derives an idempotency key from the demand itself, so that a
// resubmission of the same demand from the same account finds the first
// one. It is an HMAC under this user's secret, not a plain hash: the key
// travels to intake and may show in errors, and a plain digest of a demand
// can be undone by guessing its target (issue 14). Keyed, it says nothing
// to anyone without the secret; the same file still gives the same key.
func contentKey(secret []byte, r *intakev1.DataDisclosureRequest) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return "ddrctl-" + hex.EncodeToString(m.Sum(nil)[:16])
}

// submitSecretFile is the secret of [contentKey], in $DDR_CONFIG_DIR, else
// the user's configuration directory (ddrctl/ under it).
const submitSecretFile = "idempotency-secret" //nolint:gosec // a file name, not a credential

// submitSecret reads this user's secret for derived idempotency keys, and
// creates it (random, readable by the user only) on first use. A secret
// of its own rather than a key persisted per file: nothing to clean up,
// and an edited file gets a new key. Two machines have two secrets, so the
// same file submitted from both makes two requests: give --key for that.
func submitSecret(getenv func(string) string) ([]byte, error) {
	dir := getenv("DDR_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("no configuration directory for the idempotency secret (set DDR_CONFIG_DIR or give --key): %w", err)
		}
		dir = filepath.Join(base, "ddrctl")
	}
	path := filepath.Join(dir, submitSecretFile)
	for range 2 {
		if b, err := os.ReadFile(path); err == nil {
			k, err := hex.DecodeString(strings.TrimSpace(string(b)))
			if err != nil || len(k) != 32 {
				return nil, fmt.Errorf("%s: not a 32-byte hex secret", path)
			}
			return k, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		// Exclusive create: two first submissions at once keep one secret.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		k := make([]byte, 32)
		_, _ = rand.Read(k) // crypto/rand.Read does not fail
		_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
		if err := errors.Join(werr, f.Close()); err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, fmt.Errorf("%s: could not be read or created", path)
}

// readSubmit reads a SubmitRequest or a bare DataDisclosureRequest from a
// YAML or JSON file.
func readSubmit(path string, stdin io.Reader) (*intakev1.SubmitRequest, error) {
	var (
		data []byte
		err  error
	)
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErr(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s: not YAML or JSON: %w", path, err))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, usageErr(fmt.Errorf("%s: want an object: %w", path, err))
	}
	_, hasReq := top["request"]
	_, hasKey := top["idempotency_key"]
	_, hasKey2 := top["idempotencyKey"]
	in := &intakev1.SubmitRequest{}
	if hasReq || hasKey || hasKey2 {
		err = protojson.Unmarshal(js, in)
	} else {
		in.Request = &intakev1.DataDisclosureRequest{}
		err = protojson.Unmarshal(js, in.Request)
	}
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s: %w", path, err))
	}
	if in.Request == nil {
		in.Request = &intakev1.DataDisclosureRequest{}
	}
	return in, nil
}

// parseTime accepts RFC 3339, a date (midnight UTC), or "now".
// flagTime is parseTime of the flag name's value v; a bad one is a usage
// error naming the flag.
func flagTime(name, v string) (*timestamppb.Timestamp, error) {
	t, err := parseTime(v)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--%s: %w", name, err))
	}
	return t, nil
}

// optionalTime is flagTime of a flag that may be left out: nil then.
func optionalTime(name, v string) (*timestamppb.Timestamp, error) {
	if v == "" {
		return nil, nil
	}
	return flagTime(name, v)
}

func parseTime(s string) (*timestamppb.Timestamp, error) {
	if s == "now" {
		return timestamppb.Now(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return timestamppb.New(t), nil
		}
	}
	return nil, fmt.Errorf("%q is not an RFC 3339 time or a date", s)
}

func requestGetCmd(g *globals) *cobra.Command {
	return idCmd("get", "Show one of your requests and its stage timeline",
		`  ddrctl request get 0193c0de-7c1a-7000-8000-000000000000 -o yaml`,
		calling(g, g.client, func(ctx context.Context, cl *client.Client, _ *cobra.Command, a []string) error {
			r, err := cl.Get(ctx, a[0])
			if err != nil {
				return err
			}
			return g.print(r, func(t *tw) { requestTable(t, r) })
		}))
}

func requestTable(t *tw, r *intakev1.Request) {
	c := r.GetContent()
	t.kv("REQUEST", r.GetRequestId(),
		"GROUP MEMBER", r.GetGroupMember(),
		"STAGE", enumName(r.GetStage()),
		"OUTCOME", enumName(r.GetOutcome()),
		"AUTHORITY", fmt.Sprintf("%s (%s, %s)", c.GetAuthority().GetName(), enumName(c.GetAuthority().GetKind()), orDash(c.GetAuthority().GetCountry())),
		"CHANNEL", enumName(c.GetChannel()),
		"CUSTOMER", orDash(c.GetCustomerId()),
		"TARGETS", fmt.Sprint(len(c.GetTargets())),
		"RECEIVED", ts(c.GetReceivedAt()),
		"SUBMITTED", ts(r.GetSubmitTime()),
		"LATE FORWARDING", yesno(r.GetLateForwarding()),
		"AMENDMENTS", fmt.Sprint(len(r.GetAmendments())))
	// The Privacy Team's open question (issue 16): the member answers it
	// with request amend.
	if q := r.GetInformationRequest(); q.GetQuestion() != "" {
		t.kv("QUESTION", q.GetQuestion(), "ASKED", ts(q.GetAskTime()), "ANSWER WITH", "ddrctl request amend "+r.GetRequestId()+" --info ...")
	}
	if cs := c.GetCustomers(); len(cs) > 0 {
		t.section("CUSTOMERS", "CUSTOMER", "ROLE", "ESTABLISHMENT")
		for _, cu := range cs {
			t.row(cu.GetCustomerId(), enumName(cu.GetRole()), orDash(cu.GetEstablishment()))
		}
	}
	t.section("TIMELINE", "STAGE", "TIME")
	for _, e := range r.GetTimeline() {
		t.row(enumName(e.GetStage()), ts(e.GetTime()))
	}
}

func requestListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List your requests, newest first",
		Example: `  ddrctl request list -o json | jq -r '.requests[].request_id'`,
		Args:    args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			cl, ctx, cancel, err := dial(g, cmd, g.client)
			if err != nil {
				return err
			}
			defer cancel()
			rs, err := cl.List(ctx)
			if err != nil {
				return err
			}
			return g.print(&intakev1.ListResponse{Requests: rs}, func(t *tw) {
				t.row("REQUEST", "STAGE", "OUTCOME", "AUTHORITY", "COUNTRY", "RECEIVED")
				for _, r := range rs {
					a := r.GetContent().GetAuthority()
					t.row(r.GetRequestId(), enumName(r.GetStage()), enumName(r.GetOutcome()), a.GetName(), orDash(a.GetCountry()), ts(r.GetContent().GetReceivedAt()))
				}
			})
		}),
	}
}

func watchCmd(g *globals) *cobra.Command {
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "watch REQUEST_ID",
		Short: "Print a request's stage changes until it is cleared or closed",
		Long: `Watch polls the request and prints each new stage of its timeline. It ends
when the request is cleared, closed or withdrawn, or on ctrl-c (exit 130).
--timeout does not apply; each poll is bounded by it.`,
		Example: `  ddrctl request watch 0193c0de-7c1a-7000-8000-000000000000 --interval 2s`,
		Args:    args(1, "REQUEST_ID"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			if g.env.PollInterval > 0 && !cmd.Flags().Changed("interval") {
				interval = g.env.PollInterval
			}
			return g.watch(cmd.Context(), cl, a[0], interval)
		}),
	}
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to ask")
	return cmd
}

func (g *globals) watch(ctx context.Context, cl *client.Client, id string, interval time.Duration) error {
	shown := 0
	t := newTW(g.env.Stdout)
	if g.output == "table" {
		t.row("STAGE", "TIME")
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		r, err := cl.Get(cctx, id)
		cancel()
		if err != nil {
			return err
		}
		for _, e := range r.GetTimeline()[min(shown, len(r.GetTimeline())):] {
			if g.output == "table" {
				t.row(enumName(e.GetStage()), ts(e.GetTime()))
				// Flush per line: a person is watching.
				if err := t.Flush(); err != nil {
					return err
				}
				continue
			}
			b, err := marshal(e, g.output == "yaml")
			if err != nil {
				return err
			}
			if g.output == "yaml" {
				b = append([]byte("---\n"), b...)
			}
			if _, err := g.env.Stdout.Write(b); err != nil {
				return err
			}
		}
		shown = len(r.GetTimeline())
		if s := r.GetStage(); s == intakev1.Stage_STAGE_CLEARED || client.Terminal(s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errInterrupted
		case <-time.After(interval):
		}
	}
}

func amendCmd(g *globals) *cobra.Command {
	var info string
	var attachments []string
	cmd := idCmd("amend", "Add information or attachments to a request",
		`  ddrctl request amend 0193c0de-... --info "the authority narrowed the period to March"
  ddrctl request amend 0193c0de-... --attachment https://dms.example/doc/77,<sha256>,application/pdf`,
		run(func(cmd *cobra.Command, a []string) error {
			req := &intakev1.AmendRequest{RequestId: a[0], Information: info}
			for _, s := range attachments {
				parts := strings.SplitN(s, ",", 3)
				if len(parts) != 3 {
					return usageErr(fmt.Errorf("--attachment %q: want URI,SHA256,MEDIA_TYPE", s))
				}
				req.Attachments = append(req.Attachments, &intakev1.Attachment{Uri: parts[0], Sha256: parts[1], MediaType: parts[2]})
			}
			cl, ctx, cancel, err := dial(g, cmd, g.client)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := intakev1.NewIntakeServiceClient(cl.Conn()).Amend(ctx, req)
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.kv("AMENDMENT", res.GetAmendment().GetAmendmentId(), "AMENDED", ts(res.GetAmendment().GetAmendTime()))
			})
		}))
	cmd.Flags().StringVar(&info, "info", "", "information to add")
	cmd.Flags().StringArrayVar(&attachments, "attachment", nil, "attachment URI,SHA256,MEDIA_TYPE; repeatable")
	return cmd
}

func withdrawCmd(g *globals) *cobra.Command {
	var reason string
	cmd := idCmd("withdraw", "Record that the authority withdrew its demand",
		`  ddrctl request withdraw 0193c0de-... --reason "authority withdrew by letter of 2026-11-30"`,
		calling(g, g.client, func(ctx context.Context, cl *client.Client, _ *cobra.Command, a []string) error {
			res, err := intakev1.NewIntakeServiceClient(cl.Conn()).Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: a[0], Reason: reason})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) { t.kv("WITHDRAWN", ts(res.GetWithdrawTime())) })
		}))
	cmd.Flags().StringVar(&reason, "reason", "", "why, as the authority said")
	return cmd
}
