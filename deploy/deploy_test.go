package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// manifests decodes every document of the Kubernetes files strictly into
// the Kubernetes API types (k8s.io/api, decoded with sigs.k8s.io/json as the
// API server does): an unknown or misspelt field, a wrong type or an unknown
// kind fails.
func manifests(t *testing.T) []any {
	t.Helper()
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) < 2 {
		t.Fatalf("want switchboard.yaml and secret.example.yaml, found %v", files)
	}
	var out []any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			var obj any
			switch tm.APIVersion + "/" + tm.Kind {
			case "apps/v1/Deployment":
				obj = &appsv1.Deployment{}
			case "v1/Service":
				obj = &corev1.Service{}
			case "v1/Secret":
				obj = &corev1.Secret{}
			case "v1/ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "policy/v1/PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "autoscaling/v2/HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			default:
				t.Fatalf("%s document %d: unexpected kind %s %s", f, i, tm.APIVersion, tm.Kind)
			}
			// As the API server decodes: field names match case-sensitively,
			// and unknown or duplicate fields are errors.
			js, err := yaml.YAMLToJSONStrict([]byte(doc))
			if err != nil {
				t.Fatalf("%s document %d (%s): %v", f, i, tm.Kind, err)
			}
			strict, err := kjson.UnmarshalStrict(js, obj)
			if err != nil || len(strict) > 0 {
				t.Fatalf("%s document %d (%s): %v %v", f, i, tm.Kind, err, strict)
			}
			name := obj.(metav1.ObjectMetaAccessor).GetObjectMeta().GetName()
			if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
				t.Fatalf("%s %s: name %q: %v", f, tm.Kind, name, errs)
			}
			out = append(out, obj)
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func TestKubernetesManifests(t *testing.T) {
	objs := manifests(t)
	deployments := map[string]*appsv1.Deployment{}
	var secret *corev1.Secret
	var services []*corev1.Service
	var pdbs []*policyv1.PodDisruptionBudget
	var hpas []*autoscalingv2.HorizontalPodAutoscaler
	for _, o := range objs {
		switch x := o.(type) {
		case *appsv1.Deployment:
			deployments[x.Name] = x
		case *corev1.Secret:
			secret = x
		case *corev1.Service:
			services = append(services, x)
		case *policyv1.PodDisruptionBudget:
			pdbs = append(pdbs, x)
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpas = append(hpas, x)
		}
	}
	if secret == nil {
		t.Fatal("no Secret")
	}
	roles := map[string]string{}
	for name, d := range deployments {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Fatalf("%s: selector %v does not match its pods' labels %v", name, d.Spec.Selector, d.Spec.Template.Labels)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Fatalf("%s: want at least 2 replicas", name)
		}
		pod := d.Spec.Template.Spec
		if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Fatalf("%s: the pod must run as a non-root user", name)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: want one container", name)
		}
		c := pod.Containers[0]
		i := slices.Index(c.Args, "--role")
		if i < 0 || i+1 >= len(c.Args) || (c.Args[i+1] != "api" && c.Args[i+1] != "worker") {
			t.Fatalf("%s: args %v name no role", name, c.Args)
		}
		roles[c.Args[i+1]] = name
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
			!slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Fatalf("%s: want a read-only root file system, no privilege escalation and all capabilities dropped", name)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
			if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
				t.Fatalf("%s: %s request %v / limit %v: want both, request ≤ limit", name, res, req, lim)
			}
		}
		// Writable places are volumes the pod declares; /data holds files.
		vols := map[string]corev1.Volume{}
		for _, v := range pod.Volumes {
			vols[v.Name] = v
		}
		mounted := map[string]bool{}
		for _, m := range c.VolumeMounts {
			v, ok := vols[m.Name]
			if !ok {
				t.Fatalf("%s: mount %s names no volume", name, m.Name)
			}
			if v.EmptyDir != nil && !m.ReadOnly {
				mounted[m.MountPath] = true
			}
		}
		if !mounted["/data"] || !mounted["/tmp"] {
			t.Fatalf("%s: want writable emptyDir volumes at /data and /tmp, got %v", name, mounted)
		}
		// The key and the database come from the Secret, and it has them.
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		for _, n := range []string{"DATABASE_URL", "SWITCHBOARD_SECRET_KEY"} {
			e, ok := env[n]
			if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret.Name {
				t.Fatalf("%s: %s must come from Secret %s", name, n, secret.Name)
			}
			if _, ok := secret.StringData[e.ValueFrom.SecretKeyRef.Key]; !ok {
				t.Fatalf("%s: Secret %s has no key %q", name, secret.Name, e.ValueFrom.SecretKeyRef.Key)
			}
		}
		// Probes and the scraped port point at the container's port.
		if len(c.Ports) != 1 || c.Ports[0].Name == "" {
			t.Fatalf("%s: want one named port", name)
		}
		port := c.Ports[0]
		for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || (p.HTTPGet.Port.String() != port.Name && p.HTTPGet.Port.IntValue() != int(port.ContainerPort)) {
				t.Fatalf("%s: %s probe must GET the container's port", name, what)
			}
		}
		if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Fatalf("%s: readiness must ask /readyz (database) and liveness /healthz (process)", name)
		}
		ann := d.Spec.Template.Annotations
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(int(port.ContainerPort)) || ann["prometheus.io/path"] != "/metrics" {
			t.Fatalf("%s: /metrics port not annotated: %v", name, ann)
		}
	}
	if roles["api"] == "" || roles["worker"] == "" {
		t.Fatalf("want an api and a worker Deployment, got %v", roles)
	}
	api, worker := deployments[roles["api"]], deployments[roles["worker"]]
	matches := func(sel *metav1.LabelSelector, d *appsv1.Deployment) bool {
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && !s.Empty() && s.Matches(labels.Set(d.Spec.Template.Labels))
	}
	if len(services) != 1 || !labels.SelectorFromSet(services[0].Spec.Selector).Matches(labels.Set(api.Spec.Template.Labels)) ||
		labels.SelectorFromSet(services[0].Spec.Selector).Matches(labels.Set(worker.Spec.Template.Labels)) {
		t.Fatal("the Service must select the API pods and only them")
	}
	covered := map[string]bool{}
	for _, p := range pdbs {
		if p.Spec.MinAvailable == nil && p.Spec.MaxUnavailable == nil {
			t.Fatalf("PodDisruptionBudget %s sets no budget", p.Name)
		}
		for _, d := range []*appsv1.Deployment{api, worker} {
			if matches(p.Spec.Selector, d) {
				covered[d.Name] = true
			}
		}
	}
	if !covered[api.Name] || !covered[worker.Name] {
		t.Fatalf("PodDisruptionBudgets cover %v, want both Deployments", covered)
	}
	if len(hpas) != 1 {
		t.Fatalf("want one HorizontalPodAutoscaler, got %d", len(hpas))
	}
	h := hpas[0]
	if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != worker.Name {
		t.Fatalf("the autoscaler targets %s %s, want the worker Deployment", ref.Kind, ref.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas || len(h.Spec.Metrics) == 0 {
		t.Fatal("the autoscaler needs minReplicas ≥ 2, maxReplicas ≥ minReplicas and a metric")
	}
}

// composeTool finds docker compose v2 or docker-compose; under CI its absence
// fails (scripts/ensure-compose.sh installs it), elsewhere the check skips.
func composeTool(t *testing.T) []string {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no docker compose tool under CI; scripts/ensure-compose.sh installs Debian's docker-compose")
	}
	t.Skip("no docker compose or docker-compose here (install Debian's docker-compose to run this check)")
	return nil
}

func compose(t *testing.T, tool []string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(tool[0], append(append(tool[1:], "--project-directory", "..", "-f", "../docker-compose.yml"), args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

func TestComposeFile(t *testing.T) {
	tool := composeTool(t)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") && !strings.HasPrefix(kv, "POSTGRES_") {
			base = append(base, kv)
		}
	}
	// An empty env file, so a developer's .env plays no part.
	empty := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the shared key the file refuses to start anything.
	if _, err := compose(t, tool, base, "--env-file", empty, "config", "-q"); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
		t.Fatalf("compose config without SWITCHBOARD_SECRET_KEY: %v, want a refusal naming it", err)
	}
	key := "c2NhbGUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4="
	out, err := compose(t, tool, append(base, "SWITCHBOARD_SECRET_KEY="+key), "--env-file", empty, "config")
	if err != nil {
		t.Fatalf("compose config: %v", err)
	}
	var cfg struct {
		Services map[string]struct {
			Image       string            `json:"image"`
			Command     []string          `json:"command"`
			Environment map[string]string `json:"environment"`
			Restart     string            `json:"restart"`
			ReadOnly    bool              `json:"read_only"`
			Healthcheck *struct {
				Test []string `json:"test"`
			} `json:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `json:"condition"`
			} `json:"depends_on"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("reading compose config output: %v\n%s", err, out)
	}
	count := map[string]int{}
	for name, s := range cfg.Services {
		if s.Restart == "" || s.Restart == "no" {
			t.Fatalf("service %s has no restart policy", name)
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Fatalf("service %s has no health check", name)
		}
		if name == "postgres" {
			continue
		}
		i := slices.Index(s.Command, "--role")
		if i < 0 || i+1 >= len(s.Command) {
			t.Fatalf("service %s: command %v names no role", name, s.Command)
		}
		count[s.Command[i+1]]++
		if s.Environment["SWITCHBOARD_SECRET_KEY"] != key {
			t.Fatalf("service %s does not get the shared SWITCHBOARD_SECRET_KEY", name)
		}
		if !strings.HasPrefix(s.Environment["DATABASE_URL"], "postgres://") || s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Fatalf("service %s must use PostgreSQL and wait for it to be healthy", name)
		}
		if !s.ReadOnly || !slices.Contains(s.Healthcheck.Test, "healthcheck") {
			t.Fatalf("service %s: want a read-only root file system and the binary's own health check", name)
		}
	}
	if count["api"] != 2 || count["worker"] != 2 {
		t.Fatalf("services by role %v, want 2 api and 2 worker", count)
	}
}

// The image is built as the user the manifests run as, with /data owned by it.
func TestDockerfileRunsAsTheManifestsUser(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{"USER 65532:65532", "--chown=65532:65532 /out/data /data", `HEALTHCHECK`, `"/switchboard", "healthcheck"`} {
		if !strings.Contains(s, want) {
			t.Fatalf("Dockerfile lacks %q", want)
		}
	}
}
