package api_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The README's claims a newcomer trips over: the API-key example builds the binary before it
// runs it, validation is the collection route, and every /api/v1 route the README names in full
// is one the server serves (its OpenAPI document).
func TestConsoleReadmeTellsTheTruth(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)

	start := strings.Index(readme, "## Example: big orders to a receiver")
	if start < 0 {
		t.Fatal("README has no API-key example")
	}
	example := readme[start:]
	example = example[:strings.Index(example[3:], "\n## ")+3]
	build, use := strings.Index(example, "make build"), strings.Index(example, "./bin/switchboard")
	if build < 0 || use < 0 || build > use {
		t.Fatalf("the example runs ./bin/switchboard (at %d) before `make build` (at %d) has built it", use, build)
	}
	if strings.Contains(example, "make run &") {
		t.Fatal("the example backgrounds `make run` and then runs the binary it may not have built yet")
	}
	if strings.Contains(readme, "POST …/validate") || !strings.Contains(readme, "POST /workflows/validate") {
		t.Fatal("README must name the validation route as POST /workflows/validate")
	}

	b := setup(t, store.SQLite)
	doc := b.do(t, "GET", "/api/openapi.json", "", "")
	paths, _ := doc.body["paths"].(map[string]any)
	if doc.status != 200 || len(paths) == 0 {
		t.Fatalf("openapi: %d", doc.status)
	}
	// Full routes in backticks, such as `POST /workflows/validate` or `GET /runs/count`.
	re := regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE)(?:/[A-Z]+)* (/[a-z0-9_/{}-]+)")
	found := 0
	for _, m := range re.FindAllStringSubmatch(readme, -1) {
		p := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(strings.TrimPrefix(m[2], "/api/v1"), "{x}")
		if outsideAPI(p) {
			continue
		}
		ok := false
		for known := range paths {
			if regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(strings.TrimPrefix(known, "/api/v1"), "{x}") == p {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("README names %s %s, which the API does not serve", m[1], m[2])
		}
		found++
	}
	if found < 10 {
		t.Fatalf("found only %d routes in the README; the pattern is broken", found)
	}
}

// outsideAPI: routes the README names that are not under /api/v1 (probes, metrics, public URLs).
func outsideAPI(p string) bool {
	for _, root := range []string{"/metrics", "/healthz", "/readyz", "/hooks", "/forms", "/api/openapi.json"} {
		if strings.HasPrefix(p, root) {
			return true
		}
	}
	return false
}
