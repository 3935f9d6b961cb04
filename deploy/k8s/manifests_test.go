package k8s_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	certv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ddrsuite/ddr/deploy/k8s"
)

// services are the four ddr services, each a Deployment.
var services = map[string]string{
	"intake":       "ddr.intake.v1.IntakeService",
	"assessment":   "ddr.assessment.v1.AssessmentService",
	"notification": "ddr.notification.v1.NotificationService",
	"reporting":    "ddr.reporting.v1.ReportingService",
}

// operatorSecrets are made by the operator (deploy/README.md), not by the
// manifests: the keys every replica shares, the CA, notification's
// contacts (in production).
var operatorSecrets = []string{"ddr-keys", "ddr-ca", "notification-contacts"}

// types are the kinds the manifests may hold, each decoded into its Go
// type; any other kind fails the test.
var types = map[string]func() any{
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"batch/v1/Job":                            func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"cert-manager.io/v1/Certificate":          func() any { return &certv1.Certificate{} },
	"cert-manager.io/v1/Issuer":               func() any { return &certv1.Issuer{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// build runs kustomize on dir of fs and decodes every object strictly:
// an unknown field or kind is an error.
func build(fs filesys.FileSystem, dir string) ([]any, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		return nil, err
	}
	var objs []any
	for _, r := range m.Resources() {
		key := r.GetApiVersion() + "/" + r.GetKind()
		mk, ok := types[key]
		if !ok {
			return nil, fmt.Errorf("%s %s: a kind the check does not know", key, r.GetName())
		}
		b, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		o := mk()
		if err := yaml.UnmarshalStrict(b, o); err != nil {
			return nil, fmt.Errorf("%s %s: %w", key, r.GetName(), err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func all[T any](objs []any) []T {
	var out []T
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// workload is a pod template and what owns it.
type workload struct {
	kind, name string
	replicas   *int32
	pod        corev1.PodTemplateSpec
	probes     bool // long-running: readiness and liveness required
}

func workloads(objs []any) []workload {
	var out []workload
	for _, d := range all[*appsv1.Deployment](objs) {
		out = append(out, workload{"Deployment", d.Name, d.Spec.Replicas, d.Spec.Template, true})
	}
	for _, s := range all[*appsv1.StatefulSet](objs) {
		out = append(out, workload{"StatefulSet", s.Name, s.Spec.Replicas, s.Spec.Template, true})
	}
	for _, j := range all[*batchv1.Job](objs) {
		out = append(out, workload{"Job", j.Name, nil, j.Spec.Template, false})
	}
	return out
}

// check returns every rule the objects break.
func check(objs []any) []string {
	var bad []string
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	pdbs := all[*policyv1.PodDisruptionBudget](objs)
	accounts := map[string]bool{}
	for _, sa := range all[*corev1.ServiceAccount](objs) {
		accounts[sa.Name] = true
	}
	configMaps, secrets := map[string]bool{}, map[string]bool{}
	for _, c := range all[*corev1.ConfigMap](objs) {
		configMaps[c.Name] = true
	}
	for _, s := range all[*corev1.Secret](objs) {
		secrets[s.Name] = true
	}
	certs := map[string]*certv1.Certificate{} // by secret name
	for _, c := range all[*certv1.Certificate](objs) {
		certs[c.Spec.SecretName] = c
		secrets[c.Spec.SecretName] = true
	}
	for _, s := range operatorSecrets {
		secrets[s] = true
	}
	for _, w := range workloads(objs) {
		id := w.kind + " " + w.name
		checkPod(id, w, fail)
		if w.kind == "Job" {
			continue
		}
		if w.replicas == nil || *w.replicas < 2 {
			fail("%s: fewer than 2 replicas", id)
		}
		podLabels := labels.Set(w.pod.Labels)
		n := 0
		for _, p := range pdbs {
			sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			if err == nil && sel.Matches(podLabels) {
				n++
			}
		}
		if n != 1 {
			fail("%s: %d PodDisruptionBudgets select its pods, want 1", id, n)
		}
		if sa := w.pod.Spec.ServiceAccountName; sa == "" || !accounts[sa] {
			fail("%s: service account %q is not in the manifests", id, sa)
		}
		for _, v := range w.pod.Spec.Volumes {
			checkVolume(id, v, configMaps, secrets, fail)
		}
	}
	deployments := map[string]*appsv1.Deployment{}
	for _, d := range all[*appsv1.Deployment](objs) {
		deployments[d.Name] = d
	}
	hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, h := range all[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		if _, ok := deployments[h.Spec.ScaleTargetRef.Name]; !ok || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			fail("HorizontalPodAutoscaler %s scales %s %s, which is not in the manifests", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		hpas[h.Spec.ScaleTargetRef.Name] = h
	}
	for name, grpcService := range services {
		d, ok := deployments[name]
		if !ok {
			fail("no Deployment %s", name)
			continue
		}
		if h := hpas[name]; h == nil || h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
			fail("Deployment %s: no HorizontalPodAutoscaler keeping 2 replicas or more", name)
		}
		checkService(name, grpcService, d, certs, fail)
	}
	if !slices.ContainsFunc(all[*networkingv1.NetworkPolicy](objs), func(p *networkingv1.NetworkPolicy) bool {
		return len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			len(p.Spec.Ingress)+len(p.Spec.Egress) == 0 && len(p.Spec.PolicyTypes) == 2
	}) {
		fail("no default-deny NetworkPolicy (ingress and egress)")
	}
	if len(all[*monitoringv1.ServiceMonitor](objs)) == 0 || len(all[*monitoringv1.PrometheusRule](objs)) == 0 {
		fail("no ServiceMonitor or no PrometheusRule")
	}
	return bad
}

func checkPod(id string, w workload, fail func(string, ...any)) {
	ps := w.pod.Spec
	sc := ps.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		fail("%s: the pod does not run as a non-root user", id)
	}
	if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail("%s: no RuntimeDefault seccomp profile", id)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		fail("%s: mounts a service account token it has no use for", id)
	}
	for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
		cid := id + " container " + c.Name
		if tag := imageTag(c.Image); tag == "" || tag == "latest" {
			fail("%s: image %q has no pinned tag", cid, c.Image)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			fail("%s: no CPU and memory requests and memory limit", cid)
		}
		csc := c.SecurityContext
		if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
			csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
			csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
			fail("%s: must not escalate, must have a read-only root and drop every capability", cid)
		}
		if csc != nil && csc.RunAsUser != nil && *csc.RunAsUser == 0 {
			fail("%s: runs as root", cid)
		}
		if w.probes && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
			fail("%s: no readiness or no liveness probe", cid)
		}
	}
}

// imageTag is the tag or digest of an image reference, "" if it has none.
func imageTag(image string) string {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		return digest
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return tag
	}
	return ""
}

func checkVolume(id string, v corev1.Volume, configMaps, secrets map[string]bool, fail func(string, ...any)) {
	var cms, ss []string
	switch {
	case v.ConfigMap != nil:
		cms = append(cms, v.ConfigMap.Name)
	case v.Secret != nil:
		ss = append(ss, v.Secret.SecretName)
	case v.Projected != nil:
		for _, s := range v.Projected.Sources {
			if s.ConfigMap != nil {
				cms = append(cms, s.ConfigMap.Name)
			}
			if s.Secret != nil {
				ss = append(ss, s.Secret.Name)
			}
		}
	}
	for _, n := range cms {
		if !configMaps[n] {
			fail("%s: volume %s mounts ConfigMap %s, which is not in the manifests", id, v.Name, n)
		}
	}
	for _, n := range ss {
		if !secrets[n] {
			fail("%s: volume %s mounts Secret %s, which nothing makes", id, v.Name, n)
		}
	}
}

// checkService checks a ddr service's Deployment: the gRPC health probes
// on the plaintext --health-addr port (the mTLS port asks for a client
// certificate), its certificate's identity, and the key files mounted so
// the key-file check passes (0400, or 0440 with the process's group).
func checkService(name, grpcService string, d *appsv1.Deployment, certs map[string]*certv1.Certificate, fail func(string, ...any)) {
	id := "Deployment " + name
	ps := d.Spec.Template.Spec
	if len(ps.Containers) != 1 {
		fail("%s: %d containers, want 1", id, len(ps.Containers))
		return
	}
	c := ps.Containers[0]
	var healthPort int32
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--health-addr="); ok {
			_, _ = fmt.Sscanf(v[strings.LastIndex(v, ":")+1:], "%d", &healthPort)
		}
	}
	if healthPort == 0 {
		fail("%s: no --health-addr for the probes", id)
	}
	for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.GRPC == nil || p.GRPC.Port != healthPort {
			fail("%s: the %s probe is not a gRPC health check on the health port %d", id, what, healthPort)
		}
	}
	if p := c.ReadinessProbe; p != nil && p.GRPC != nil && (p.GRPC.Service == nil || *p.GRPC.Service != grpcService) {
		fail("%s: readiness asks for the health of %v, want %s", id, p.GRPC.Service, grpcService)
	}
	wantURI := "spiffe://ddr.local/service/" + name
	var certOK, keysOK bool
	for _, v := range ps.Volumes {
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if cert := certs[secretName(s)]; cert != nil && slices.Equal(cert.Spec.URIs, []string{wantURI}) {
					certOK = true
				}
			}
		}
		if v.Secret != nil && v.Secret.SecretName == "ddr-keys" {
			keysOK = keyMode(v.Secret.DefaultMode, ps.SecurityContext)
		}
	}
	if !certOK {
		fail("%s: mounts no certificate with the URI SAN %s", id, wantURI)
	}
	if !keysOK {
		fail("%s: the ddr-keys secret is not mounted 0400, or 0440 with fsGroup the process's group", id)
	}
}

func secretName(s corev1.VolumeProjection) string {
	if s.Secret == nil {
		return ""
	}
	return s.Secret.Name
}

func keyMode(mode *int32, sc *corev1.PodSecurityContext) bool {
	switch {
	case mode == nil:
		return false // the default, 0644, is world-readable
	case *mode == 0o400:
		return true
	case *mode == 0o440:
		return sc != nil && sc.FSGroup != nil && sc.RunAsGroup != nil && *sc.FSGroup == *sc.RunAsGroup
	}
	return false
}

func overlays(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("overlays/*")
	if err != nil || len(dirs) < 2 {
		t.Fatalf("overlays: %v %v", dirs, err)
	}
	return dirs
}

// Every overlay builds with kustomize, every object decodes strictly into
// its Kubernetes (or cert-manager, prometheus-operator) Go type, and the
// deployment rules hold.
func TestOverlaysBuildDecodeStrictlyAndKeepTheRules(t *testing.T) {
	for _, dir := range overlays(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs, err := build(filesys.MakeFsOnDisk(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range check(objs) {
				t.Error(b)
			}
		})
	}
}

// The checks catch what they look for: a Deployment of one replica on a
// latest image, with no probes, PDB, limits or non-root user.
func TestCheckCatchesABadDeployment(t *testing.T) {
	fs := filesys.MakeFsInMemory()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fs.WriteFile("/bad/kustomization.yaml", []byte("resources: [deploy.yaml]\n")))
	must(fs.WriteFile("/bad/deploy.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: intake}
spec:
  replicas: 1
  selector: {matchLabels: {app: intake}}
  template:
    metadata: {labels: {app: intake}}
    spec:
      containers: [{name: intake, image: ddr/intake:latest}]
`)))
	objs, err := build(fs, "/bad")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(check(objs), "\n")
	for _, want := range []string{"fewer than 2 replicas", "no pinned tag", "non-root", "no readiness", "0 PodDisruptionBudgets", "no CPU and memory", "no HorizontalPodAutoscaler", "no --health-addr", "default-deny"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it said:\n%s", want, got)
		}
	}
	must(fs.WriteFile("/bad/deploy.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 2, replica: 3}\n")))
	if _, err := build(fs, "/bad"); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("an unknown field decoded without error: %v", err)
	}
}

// The alert rules pass Prometheus's own rule-file checks (what promtool
// check rules does: YAML, PromQL of every expression, templates of every
// annotation), both the source file and the PrometheusRule a cluster gets.
func TestAlertRulesParseWithPrometheus(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	logger := slog.New(slog.DiscardHandler)
	src, err := os.ReadFile(k8s.AlertsFile)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(src, false, model.UTF8Validation, p, logger)
	for _, e := range errs {
		t.Errorf("%s: %v", k8s.AlertsFile, e)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if _, err := p.ParseExpr(r.Expr); err != nil {
				t.Errorf("%s: %v", r.Alert, err)
			}
			n++
		}
	}
	for _, dir := range overlays(t) {
		objs, err := build(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range all[*monitoringv1.PrometheusRule](objs) {
			b, err := yaml.Marshal(pr.Spec)
			if err != nil {
				t.Fatal(err)
			}
			got, errs := rulefmt.Parse(b, false, model.UTF8Validation, p, logger)
			for _, e := range errs {
				t.Errorf("%s PrometheusRule %s: %v", dir, pr.Name, e)
			}
			m := 0
			for _, g := range got.Groups {
				m += len(g.Rules)
			}
			if m != n {
				t.Errorf("%s PrometheusRule %s has %d rules, alerts.yml %d", dir, pr.Name, m, n)
			}
		}
	}
}

// The generated files are what the code renders now (`make k8s`).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	alerts, err := os.ReadFile(k8s.AlertsFile)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := k8s.PrometheusRule(alerts)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{k8s.NATSConfigFile: k8s.NATSNode().Config(), k8s.PrometheusRuleFile: string(rule)} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is not what the code renders: run make k8s", file)
		}
	}
}
