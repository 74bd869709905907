package httpapi

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/schedule"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
)

// recorder is a router that only remembers the patterns.
type recorder struct{ patterns []string }

func (r *recorder) Handle(pattern string, _ http.Handler) { r.patterns = append(r.patterns, pattern) }

// registeredRoutes returns every "METHOD /openapi/path" addRoutes registers with every optional
// part present.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	auth, _ := NewAuth(AuthOptions{Open: true})
	mon := NewMonitor(MonitorOptions{Redis: asynq.RedisClientOpt{Addr: "127.0.0.1:1"}})
	t.Cleanup(func() { mon.Close() })
	sf, err := schedule.Parse(strings.NewReader("schedules:\n  - name: payroll\n    when: last-business-day 10:00\n    source: inbox/*.csv\n"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	addRoutes(rec, Deps{Log: zerolog.Nop(), Store: batch.NewStore(rdb, 0), Auth: auth, Monitor: mon, Metrics: NewMetrics(),
		Schedules: sf, ScheduleRuns: schedule.NewHistory(rdb, 0)})
	return rec.patterns
}

// openAPIDoc is the part of openapi.yaml the tests read.
type openAPIDoc struct {
	OpenAPI    string                               `yaml:"openapi"`
	Paths      map[string]map[string]map[string]any `yaml:"paths"`
	Components map[string]map[string]any            `yaml:"components"`
}

func loadOpenAPI(t *testing.T) (openAPIDoc, any) {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var raw any
	yaml.Unmarshal(openAPI, &raw)
	return doc, raw
}

// documented turns a ServeMux pattern into the OpenAPI operations it must have: "GET /{$}" is
// GET /, a subtree pattern "/monitoring/" is the documented path under it with one parameter, and
// a pattern without a method is documented as GET.
func documented(t *testing.T, pattern string, paths map[string]map[string]map[string]any) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.TrimSuffix(path, "{$}")
	if strings.HasSuffix(path, "/") && path != "/" {
		for p := range paths {
			if rest, ok := strings.CutPrefix(p, path); ok && strings.HasPrefix(rest, "{") && strings.Count(rest, "/") == 0 {
				return strings.ToLower(method), p
			}
		}
		t.Errorf("subtree %s has no documented path under it", path)
	}
	return strings.ToLower(method), path
}

// TestOpenAPICoversRoutes: every registered route is in openapi.yaml, and openapi.yaml documents
// no route that is not registered.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, pattern := range registeredRoutes(t) {
		method, path := documented(t, pattern, doc.Paths)
		registered[method+" "+path] = true
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("route %q is not in openapi.yaml (want paths[%q].%s)", pattern, path, method)
		}
	}
	var extra []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if !registered[method+" "+path] {
				extra = append(extra, method+" "+path)
			}
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("openapi.yaml documents routes that are not registered: %v", extra)
	}
}

// TestOpenAPIRefs: every $ref points at a component that exists, and every operation has an
// operationId and answers.
func TestOpenAPIRefs(t *testing.T) {
	doc, raw := loadOpenAPI(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref, _ := x.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
					if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
						t.Errorf("$ref %q does not resolve", ref)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
	var ids []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			id, _ := op["operationId"].(string)
			if id == "" || slices.Contains(ids, id) {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
			}
			ids = append(ids, id)
			if op["responses"] == nil {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
}

// TestOpenAPIServed: GET /openapi.yaml answers the embedded document.
func TestOpenAPIServed(t *testing.T) {
	r := setup(t)
	status, hdr, body := r.do(request{method: "GET", path: "/openapi.yaml"})
	if status != http.StatusOK || string(body) != string(openAPI) || hdr.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /openapi.yaml: %d %s", status, hdr.Get("Content-Type"))
	}
}
