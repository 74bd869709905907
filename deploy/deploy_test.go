package deploy

// Static checks of the deployment files against the code: Docker cannot run in the test
// environment, so nothing here builds an image or starts a container. The checks fail when a
// command, flag or environment variable the files use is renamed or removed in the code.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // schedule files name Europe/Istanbul; do not depend on the host's zoneinfo

	"github.com/hibiken/asynq"
	"gopkg.in/yaml.v3"

	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/worker"
)

const (
	mainGo        = "../cmd/masspayout/main.go"
	cmdDir        = "../cmd/masspayout"
	composeFile   = "compose.yaml"
	envExample    = "masspayout.env.example"
	dockerfile    = "Dockerfile"
	redisConf     = "redis.conf"
	readme        = "README.md"
	k8sDir        = "k8s"
	kustomization = "k8s/kustomization.yaml"
	imageBinary   = "/usr/local/bin/masspayout"
	healthBinary  = "/usr/local/bin/healthcheck"
	// placeholderMarker marks every secret value in example files.
	placeholderMarker = "CHANGE-ME"
)

// ---- the code side: command registry, flags, variables ---------------------------------------

// registry is cmd/masspayout's commands() map: subcommand name -> the function (or variable)
// implementing it, read from the source with go/parser (package main cannot be imported).
type registry struct {
	commands map[string]string   // "worker" -> "cmdWorker"
	flags    map[string][]string // "cmdSandbox" -> flag names declared in it (and its direct callees)
	funcs    map[string]*ast.FuncDecl
	files    []*ast.File // the package's non-test files
}

func loadRegistry(t *testing.T) *registry {
	t.Helper()
	fset := token.NewFileSet()
	r := &registry{commands: map[string]string{}, flags: map[string][]string{}, funcs: map[string]*ast.FuncDecl{}}
	entries, err := os.ReadDir(cmdDir)
	if err != nil {
		t.Fatal(err)
	}
	var mainFile *ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(cmdDir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.files = append(r.files, f)
		if filepath.Join(cmdDir, name) == filepath.Clean(mainGo) {
			mainFile = f
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				r.funcs[fd.Name.Name] = fd
			}
		}
	}
	if mainFile == nil {
		t.Fatalf("%s not found", mainGo)
	}
	fd := r.funcs["commands"]
	if fd == nil {
		t.Fatalf("%s: no func commands() (the command registry)", mainGo)
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		mt, ok := cl.Type.(*ast.MapType)
		if !ok {
			return true
		}
		if k, ok := mt.Key.(*ast.Ident); !ok || k.Name != "string" {
			return true
		}
		for _, el := range cl.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			lit, ok := kv.Key.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			impl := ""
			if v, ok := kv.Value.(*ast.CompositeLit); ok && len(v.Elts) >= 2 {
				if id, ok := v.Elts[1].(*ast.Ident); ok {
					impl = id.Name
				}
			}
			r.commands[name] = impl
		}
		return false
	})
	if len(r.commands) == 0 {
		t.Fatalf("%s: found no string keys in commands()' map; has the registry changed shape?", mainGo)
	}
	for _, fd := range r.funcs {
		r.flags[fd.Name.Name] = flagNames(fd)
	}
	return r
}

// flagNames lists the flag names a function declares through the flag package's methods
// (fs.String("addr", ...), fs.DurationVar(&d, "retry-after", ...)).
func flagNames(fd *ast.FuncDecl) []string {
	if fd.Body == nil {
		return nil
	}
	var names []string
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		m := sel.Sel.Name
		idx := -1
		switch {
		case strings.HasSuffix(m, "Var"):
			idx = 1
		case slices.Contains([]string{"String", "Int", "Int64", "Uint", "Uint64", "Bool", "Duration", "Float64", "Func", "BoolFunc"}, m):
			idx = 0
		}
		if idx < 0 || len(call.Args) <= idx {
			return true
		}
		if lit, ok := call.Args[idx].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				names = append(names, s)
			}
		}
		return true
	})
	return names
}

// commandFlags is every flag the subcommand's function declares, itself or in a function of the
// package it calls directly.
func (r *registry) commandFlags(sub string) []string {
	impl := r.commands[sub]
	fd := r.funcs[impl]
	if fd == nil {
		return nil
	}
	out := slices.Clone(r.flags[impl])
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && r.funcs[id.Name] != nil && id.Name != impl {
				out = append(out, r.flags[id.Name]...)
			}
		}
		return true
	})
	return out
}

// checkCommandLine checks a container's masspayout arguments: the first one names a registered
// subcommand and every --flag is declared by it. what names the place for messages.
func (r *registry) checkCommandLine(t *testing.T, what string, args []string) string {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no masspayout command given", what)
		return ""
	}
	sub := args[0]
	if _, ok := r.commands[sub]; !ok {
		t.Errorf("%s: %q is not a masspayout command (commands() in %s has %v)", what, sub, mainGo, sortedKeys(r.commands))
		return sub
	}
	declared := r.commandFlags(sub)
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if !slices.Contains(declared, name) {
			t.Errorf("%s: masspayout %s has no flag %q (declared: %v)", what, sub, a, declared)
		}
	}
	return sub
}

func variables() map[string]bool {
	m := map[string]bool{}
	for _, v := range config.Variables() {
		m[v] = true
	}
	return m
}

func checkVariable(t *testing.T, vars map[string]bool, what, name string) {
	t.Helper()
	if !vars[name] {
		t.Errorf("%s: %s is not a masspayout environment variable (config.Variables)", what, name)
	}
}

// loadConfig runs config.Load over env, as a container with that environment would at start-up.
func loadConfig(t *testing.T, what string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%s: masspayout would refuse to start: %v", what, err)
	}
	return cfg
}

func portOf(t *testing.T, what, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: address %q: %v", what, addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s: address %q: port is not a number", what, addr)
	}
	return n
}

// ---- YAML ------------------------------------------------------------------------------------

type yamlDoc struct {
	file  string // relative to deploy/, slash-separated
	index int    // 0-based document index in the file
	v     map[string]any
}

func (d yamlDoc) String() string {
	kind, _ := d.v["kind"].(string)
	name, _ := get(d.v, "metadata", "name").(string)
	if kind != "" {
		return fmt.Sprintf("%s#%d (%s %s)", d.file, d.index, kind, name)
	}
	return fmt.Sprintf("%s#%d", d.file, d.index)
}

// loadYAML parses every .yaml/.yml file under deploy/, every document of each.
func loadYAML(t *testing.T) []yamlDoc {
	t.Helper()
	var docs []yamlDoc
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		n := 0
		for i := 0; ; i++ {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: document %d: %w", p, i, err)
			}
			if v == nil {
				continue // an empty document (a stray ---)
			}
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: document %d is a %T, not a mapping", p, i, v)
			}
			docs = append(docs, yamlDoc{file: filepath.ToSlash(p), index: i, v: m})
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s: no YAML document", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no YAML files under deploy/")
	}
	return docs
}

func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func getString(v any, keys ...string) string {
	switch s := get(v, keys...).(type) {
	case string:
		return s
	case int:
		return strconv.Itoa(s)
	case bool:
		return strconv.FormatBool(s)
	}
	return ""
}

func getList(v any, keys ...string) []any {
	l, _ := get(v, keys...).([]any)
	return l
}

func getMap(v any, keys ...string) map[string]any {
	m, _ := get(v, keys...).(map[string]any)
	return m
}

func stringList(t *testing.T, what string, v any) []string {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			switch s := e.(type) {
			case string:
				out[i] = s
			case int:
				out[i] = strconv.Itoa(s)
			default:
				t.Errorf("%s: element %d is a %T, want a string", what, i, e)
			}
		}
		return out
	}
	t.Errorf("%s: is a %T, want a string or a list", what, v)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestEveryYAMLFileParses(t *testing.T) {
	docs := loadYAML(t)
	files := map[string]bool{}
	for _, d := range docs {
		files[d.file] = true
	}
	for _, want := range []string{composeFile, kustomization, "k8s/configmap.yaml", "k8s/examples/secret.yaml"} {
		if !files[want] {
			t.Errorf("%s: missing or empty", want)
		}
	}
}

// ---- Kubernetes ------------------------------------------------------------------------------

type k8sObjects struct {
	docs    []yamlDoc
	byKind  map[string]map[string]yamlDoc // kind -> name -> doc
	applied map[string]bool               // files listed in kustomization.yaml
}

func loadK8s(t *testing.T) *k8sObjects {
	t.Helper()
	o := &k8sObjects{byKind: map[string]map[string]yamlDoc{}, applied: map[string]bool{}}
	for _, d := range loadYAML(t) {
		if !strings.HasPrefix(d.file, k8sDir+"/") {
			continue
		}
		if d.file == kustomization {
			if get(d.v, "namespace") != nil {
				t.Errorf("%s: sets a namespace; the manifests are namespace-agnostic (use an overlay)", d)
			}
			for i, r := range getList(d.v, "resources") {
				rs, _ := r.(string)
				p := path.Join(k8sDir, rs)
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s: resources[%d] %q: %v", d, i, rs, err)
				}
				o.applied[p] = true
			}
			continue
		}
		kind, _ := d.v["kind"].(string)
		name := getString(d.v, "metadata", "name")
		if getString(d.v, "apiVersion") == "" || kind == "" || name == "" {
			t.Errorf("%s: want apiVersion, kind and metadata.name", d)
			continue
		}
		if get(d.v, "metadata", "namespace") != nil {
			t.Errorf("%s: names a namespace; the manifests are namespace-agnostic", d)
		}
		if o.byKind[kind] == nil {
			o.byKind[kind] = map[string]yamlDoc{}
		}
		if prev, dup := o.byKind[kind][name]; dup {
			t.Errorf("%s: %s %s is also defined in %s", d, kind, name, prev)
		}
		o.byKind[kind][name] = d
		o.docs = append(o.docs, d)
	}
	// Every manifest outside examples/ is applied; nothing in examples/ is.
	for _, d := range o.docs {
		example := strings.HasPrefix(d.file, k8sDir+"/examples/")
		if example && o.applied[d.file] {
			t.Errorf("%s: an example must not be listed in %s", d, kustomization)
		}
		if !example && !o.applied[d.file] {
			t.Errorf("%s: not listed in %s resources", d, kustomization)
		}
		if d.v["kind"] == "Secret" && !example {
			t.Errorf("%s: a Secret with values belongs in your secret store, not in the applied manifests (keep only k8s/examples/)", d)
		}
	}
	return o
}

// workload is one pod template of a Deployment (or another pod controller).
type workload struct {
	doc       yamlDoc
	pod       map[string]any // pod spec
	labels    map[string]any // pod template labels
	command   string         // the masspayout subcommand of its (single) masspayout container
	container map[string]any
}

func (o *k8sObjects) workloads() []*workload {
	var out []*workload
	for _, d := range o.docs {
		var tmpl map[string]any
		switch d.v["kind"] {
		case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
			tmpl = getMap(d.v, "spec", "template")
		case "CronJob":
			tmpl = getMap(d.v, "spec", "jobTemplate", "spec", "template")
		default:
			continue
		}
		out = append(out, &workload{doc: d, pod: getMap(tmpl, "spec"), labels: getMap(tmpl, "metadata", "labels")})
	}
	return out
}

func selects(selector, labels map[string]any) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort resolves a probe's or Service's port (a name or a number) to a containerPort.
func containerPort(c map[string]any, port any) (int, bool) {
	for _, p := range getList(c, "ports") {
		n, _ := get(p, "containerPort").(int)
		switch want := port.(type) {
		case int:
			if n == want {
				return n, true
			}
		case string:
			if getString(p, "name") == want {
				return n, true
			}
		}
	}
	return 0, false
}

func TestKubernetesManifests(t *testing.T) {
	reg := loadRegistry(t)
	vars := variables()
	o := loadK8s(t)

	// ConfigMaps and Secrets loaded with envFrom: every key is a masspayout variable, and
	// together they make a configuration masspayout accepts.
	env := map[string]string{}
	envSources := map[string]bool{}
	for _, w := range o.workloads() {
		for _, c := range getList(w.pod, "containers") {
			for _, ef := range getList(c, "envFrom") {
				for _, kind := range []string{"configMapRef", "secretRef"} {
					if name := getString(ef, kind, "name"); name != "" {
						envSources[kind+"/"+name] = true
					}
				}
			}
		}
	}
	if len(envSources) == 0 {
		t.Fatal("no workload loads its configuration with envFrom")
	}
	for _, src := range sortedKeys(envSources) {
		kind, name, _ := strings.Cut(src, "/")
		k8sKind := map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"}[kind]
		d, ok := o.byKind[k8sKind][name]
		if !ok {
			t.Errorf("envFrom %s %q: no such %s in deploy/k8s (examples included)", kind, name, k8sKind)
			continue
		}
		if k8sKind == "Secret" && get(d.v, "data") != nil {
			t.Errorf("%s: use stringData with %s placeholders, not base64 data", d, placeholderMarker)
		}
		for _, field := range []string{"data", "stringData"} {
			for k, v := range getMap(d.v, field) {
				checkVariable(t, vars, d.String(), k)
				s, ok := v.(string)
				if !ok {
					t.Errorf("%s: %s.%s is a %T; quote it: ConfigMap and Secret values are strings", d, field, k, v)
				}
				if k8sKind == "Secret" && k != "UI_USERNAME" && !strings.Contains(s, placeholderMarker) {
					t.Errorf("%s: %s must be a placeholder containing %s in an example", d, k, placeholderMarker)
				}
				env[k] = s
			}
		}
	}
	cfg := loadConfig(t, "ConfigMap + Secret example", env)
	httpPort := portOf(t, "HTTP_ADDR", cfg.HTTPAddr)
	metricsPort := portOf(t, "METRICS_ADDR", cfg.MetricsAddr)
	if cfg.BuiltinSandbox() {
		t.Error("ConfigMap: IYZICO_BASE_URL is unset, so every pod would run its own in-process sandbox")
	}

	// Workloads: one masspayout container each, a registered command, the same image, locked down.
	byCommand := map[string][]*workload{}
	image := ""
	for _, w := range o.workloads() {
		cs := getList(w.pod, "containers")
		if len(cs) != 1 {
			t.Errorf("%s: want exactly one container, got %d", w.doc, len(cs))
			continue
		}
		c, _ := cs[0].(map[string]any)
		w.container = c
		what := w.doc.String()
		img := getString(c, "image")
		if image == "" {
			image = img
		} else if img != image {
			t.Errorf("%s: image %q, other workloads use %q: one image for every component", what, img, image)
		}
		if cmd := stringList(t, what+" command", get(c, "command")); cmd != nil && !slices.Equal(cmd, []string{imageBinary}) {
			t.Errorf("%s: command %v: leave it unset (the image's ENTRYPOINT is %s) and pass the subcommand in args", what, cmd, imageBinary)
		}
		w.command = reg.checkCommandLine(t, what, stringList(t, what+" args", get(c, "args")))
		byCommand[w.command] = append(byCommand[w.command], w)

		for _, e := range getList(c, "env") {
			checkVariable(t, vars, what+" env", getString(e, "name"))
		}
		for _, ef := range getList(c, "envFrom") {
			if getString(ef, "prefix") != "" {
				t.Errorf("%s: envFrom with a prefix renames the variables", what)
			}
		}
		checkProbes(t, what, c)
		checkSecurity(t, what, w.pod, c)
		checkResources(t, what, c)
		checkVolumes(t, o, what, w.pod, c, cfg)
	}
	for _, want := range []string{"serve", "worker", "scheduler"} {
		if len(byCommand[want]) != 1 {
			t.Errorf("want exactly one workload running masspayout %s, got %d", want, len(byCommand[want]))
		}
	}
	if t.Failed() {
		return
	}
	api, wk, sched := byCommand["serve"][0], byCommand["worker"][0], byCommand["scheduler"][0]

	// The API: both probes, listening where HTTP_ADDR says.
	if get(api.container, "livenessProbe") == nil || get(api.container, "readinessProbe") == nil {
		t.Errorf("%s: the API needs a liveness (/healthz) and a readiness (/readyz) probe", api.doc)
	}
	if _, ok := containerPort(api.container, httpPort); !ok {
		t.Errorf("%s: no containerPort %d (HTTP_ADDR %s)", api.doc, httpPort, cfg.HTTPAddr)
	}

	// The worker: metrics port, grace period above the asynq shutdown timeout, autoscaled.
	if _, ok := containerPort(wk.container, metricsPort); !ok {
		t.Errorf("%s: no containerPort %d (METRICS_ADDR %s)", wk.doc, metricsPort, cfg.MetricsAddr)
	}
	grace, ok := get(wk.pod, "terminationGracePeriodSeconds").(int)
	shutdown := workerShutdown(cfg)
	if !ok || time.Duration(grace)*time.Second <= shutdown {
		t.Errorf("%s: terminationGracePeriodSeconds %v must exceed the worker's shutdown timeout 4×IYZICO_TIMEOUT+5s = %s", wk.doc, get(wk.pod, "terminationGracePeriodSeconds"), shutdown)
	}
	checkHPA(t, o, wk)

	// The scheduler: two replicas (safe: runs are deduplicated), its schedule mounted and valid.
	if r, _ := get(sched.doc.v, "spec", "replicas").(int); r != 2 {
		t.Errorf("%s: replicas %d, want 2 (runs are deduplicated by task ID, so the second one only removes a single point of failure)", sched.doc, r)
	}
	checkScheduleMount(t, o, sched, cfg)

	checkServices(t, o, httpPort, metricsPort)
	checkPDBs(t, o)
}

func checkProbes(t *testing.T, what string, c map[string]any) {
	t.Helper()
	want := map[string][]string{
		"livenessProbe":  {"/healthz"},
		"readinessProbe": {"/readyz"},
		"startupProbe":   {"/healthz", "/readyz"},
	}
	for kind, paths := range want {
		p := getMap(c, kind)
		if p == nil {
			continue
		}
		hg := getMap(p, "httpGet")
		if hg == nil {
			t.Errorf("%s: %s is not an httpGet probe", what, kind)
			continue
		}
		if !slices.Contains(paths, getString(hg, "path")) {
			t.Errorf("%s: %s path %q, want %s", what, kind, getString(hg, "path"), strings.Join(paths, " or "))
		}
		if _, ok := containerPort(c, get(hg, "port")); !ok {
			t.Errorf("%s: %s port %v is not one of the container's ports", what, kind, get(hg, "port"))
		}
	}
}

func checkSecurity(t *testing.T, what string, pod, c map[string]any) {
	t.Helper()
	if get(pod, "securityContext", "runAsNonRoot") != true && get(c, "securityContext", "runAsNonRoot") != true {
		t.Errorf("%s: runAsNonRoot must be true", what)
	}
	for _, sc := range []map[string]any{getMap(pod, "securityContext"), getMap(c, "securityContext")} {
		if u, ok := get(sc, "runAsUser").(int); ok && u == 0 {
			t.Errorf("%s: runAsUser 0", what)
		}
	}
	sc := getMap(c, "securityContext")
	if get(sc, "readOnlyRootFilesystem") != true {
		t.Errorf("%s: readOnlyRootFilesystem must be true", what)
	}
	if get(sc, "allowPrivilegeEscalation") != false {
		t.Errorf("%s: allowPrivilegeEscalation must be false", what)
	}
	if get(sc, "privileged") == true {
		t.Errorf("%s: privileged", what)
	}
	if !slices.Contains(stringList(t, what+" capabilities.drop", get(sc, "capabilities", "drop")), "ALL") {
		t.Errorf("%s: capabilities.drop must contain ALL", what)
	}
	if add := getList(sc, "capabilities", "add"); len(add) > 0 {
		t.Errorf("%s: adds capabilities %v", what, add)
	}
}

func checkResources(t *testing.T, what string, c map[string]any) {
	t.Helper()
	for _, kind := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			if getString(c, "resources", kind, res) == "" {
				t.Errorf("%s: resources.%s.%s is not set", what, kind, res)
			}
		}
	}
}

// checkVolumes: every mount has a volume, RESULTS_DIR and /tmp are writable emptyDirs (the root
// file system is read-only), claims and ConfigMaps mounted exist.
func checkVolumes(t *testing.T, o *k8sObjects, what string, pod, c map[string]any, cfg *config.Config) {
	t.Helper()
	vols := map[string]map[string]any{}
	for _, v := range getList(pod, "volumes") {
		vols[getString(v, "name")], _ = v.(map[string]any)
	}
	mounts := map[string]string{} // mountPath -> volume name
	for _, m := range getList(c, "volumeMounts") {
		name, mp := getString(m, "name"), getString(m, "mountPath")
		if vols[name] == nil {
			t.Errorf("%s: volumeMount %q has no volume", what, name)
		}
		mounts[mp] = name
	}
	for _, dir := range []string{cfg.ResultsDir, "/tmp"} {
		name, ok := mounts[dir]
		if !ok {
			t.Errorf("%s: nothing mounted at %s (the root file system is read-only)", what, dir)
			continue
		}
		if get(vols[name], "emptyDir") == nil {
			t.Errorf("%s: %s should be an emptyDir", what, dir)
		}
	}
	for name, v := range vols {
		if claim := getString(v, "persistentVolumeClaim", "claimName"); claim != "" && o.byKind["PersistentVolumeClaim"][claim].v == nil {
			t.Errorf("%s: volume %s: no PersistentVolumeClaim %q", what, name, claim)
		}
		if cm := getString(v, "configMap", "name"); cm != "" && o.byKind["ConfigMap"][cm].v == nil {
			t.Errorf("%s: volume %s: no ConfigMap %q", what, name, cm)
		}
	}
}

func checkHPA(t *testing.T, o *k8sObjects, wk *workload) {
	t.Helper()
	var found int
	for _, h := range o.byKind["HorizontalPodAutoscaler"] {
		ref := getMap(h.v, "spec", "scaleTargetRef")
		target := o.byKind[getString(ref, "kind")][getString(ref, "name")]
		if target.v == nil {
			t.Errorf("%s: scaleTargetRef %v does not exist", h, ref)
			continue
		}
		if target.file != wk.doc.file || target.index != wk.doc.index {
			continue
		}
		found++
		minR, _ := get(h.v, "spec", "minReplicas").(int)
		maxR, _ := get(h.v, "spec", "maxReplicas").(int)
		if minR < 2 || maxR < minR {
			t.Errorf("%s: minReplicas %d, maxReplicas %d: want 2 <= min <= max", h, minR, maxR)
		}
		if get(wk.doc.v, "spec", "replicas") != nil {
			t.Errorf("%s: sets spec.replicas while %s scales it: every apply would reset the autoscaler's choice", wk.doc, h)
		}
	}
	if found != 1 {
		t.Errorf("%s: want one HorizontalPodAutoscaler, got %d", wk.doc, found)
	}
}

func checkScheduleMount(t *testing.T, o *k8sObjects, sched *workload, cfg *config.Config) {
	t.Helper()
	dir, file := path.Split(cfg.ScheduleFile)
	dir = strings.TrimSuffix(dir, "/")
	var text string
	var writable []string
	for _, m := range getList(sched.container, "volumeMounts") {
		mp, name := getString(m, "mountPath"), getString(m, "name")
		if get(m, "readOnly") != true {
			writable = append(writable, mp)
		}
		if mp != dir {
			continue
		}
		for _, v := range getList(sched.pod, "volumes") {
			if getString(v, "name") != name {
				continue
			}
			cm := o.byKind["ConfigMap"][getString(v, "configMap", "name")]
			text = getString(cm.v, "data", file)
			if text == "" {
				t.Errorf("%s: SCHEDULE_FILE %s: ConfigMap %q has no key %q", sched.doc, cfg.ScheduleFile, getString(v, "configMap", "name"), file)
			}
		}
	}
	if text == "" {
		t.Errorf("%s: SCHEDULE_FILE %s is not mounted from a ConfigMap", sched.doc, cfg.ScheduleFile)
		return
	}
	f, err := schedule.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatalf("%s: the mounted schedule file is invalid: %v", sched.doc, err)
	}
	checkSources(t, sched.doc.String(), f, writable)
}

// checkSources: every schedule's source directory lies on a writable mount (the scheduler moves
// submitted files to processed/ next to it).
func checkSources(t *testing.T, what string, f *schedule.File, writable []string) {
	t.Helper()
	if len(f.Schedules) == 0 {
		t.Errorf("%s: the schedule file has no schedules", what)
	}
	for _, s := range f.Schedules {
		// The scheduler moves submitted files to processed/ next to the inbox: the source
		// directory's parent must be writable.
		parent := path.Dir(path.Dir(s.Source))
		ok := false
		for _, mp := range writable {
			ok = ok || parent == mp || strings.HasPrefix(parent, strings.TrimSuffix(mp, "/")+"/")
		}
		if !ok {
			t.Errorf("%s: schedule %s reads %s, but %s is not on a writable mount (%v)", what, s.Name, s.Source, parent, writable)
		}
	}
}

func checkServices(t *testing.T, o *k8sObjects, httpPort, metricsPort int) {
	t.Helper()
	scraped := map[string]int{} // command -> annotated scrape port
	for _, s := range o.byKind["Service"] {
		sel := getMap(s.v, "spec", "selector")
		var target *workload
		for _, w := range o.workloads() {
			if selects(sel, w.labels) {
				if target != nil {
					t.Errorf("%s: selects the pods of both %s and %s", s, target.doc, w.doc)
				}
				target = w
			}
		}
		if target == nil {
			t.Errorf("%s: selector %v matches no workload", s, sel)
			continue
		}
		c := getMap(getList(target.pod, "containers")[0])
		var ports []int
		for _, p := range getList(s.v, "spec", "ports") {
			tp := get(p, "targetPort")
			if tp == nil {
				tp = get(p, "port")
			}
			n, ok := containerPort(c, tp)
			if !ok {
				t.Errorf("%s: targetPort %v is not a port of %s", s, tp, target.doc)
			}
			ports = append(ports, n)
		}
		ann := getMap(s.v, "metadata", "annotations")
		if getString(ann, "prometheus.io/scrape") != "true" {
			continue
		}
		p, err := strconv.Atoi(getString(ann, "prometheus.io/port"))
		if err != nil || !slices.Contains(ports, p) {
			t.Errorf("%s: prometheus.io/port %q is not one of its ports %v", s, getString(ann, "prometheus.io/port"), ports)
		}
		if getString(ann, "prometheus.io/path") != "/metrics" {
			t.Errorf("%s: prometheus.io/path %q, want /metrics", s, getString(ann, "prometheus.io/path"))
		}
		if args := stringList(t, s.String(), get(c, "args")); len(args) > 0 {
			scraped[args[0]] = p
		}
	}
	if scraped["serve"] != httpPort {
		t.Errorf("no Service annotated for scraping the API's /metrics on port %d (HTTP_ADDR)", httpPort)
	}
	if scraped["worker"] != metricsPort {
		t.Errorf("no Service annotated for scraping the workers' /metrics on port %d (METRICS_ADDR)", metricsPort)
	}
}

func checkPDBs(t *testing.T, o *k8sObjects) {
	t.Helper()
	covered := map[*workload]bool{}
	ws := o.workloads()
	for _, p := range o.byKind["PodDisruptionBudget"] {
		sel := getMap(p.v, "spec", "selector", "matchLabels")
		n := 0
		for _, w := range ws {
			if !selects(sel, w.labels) {
				continue
			}
			n++
			covered[w] = true
			// A budget that can never be met blocks every node drain.
			replicas, ok := get(w.doc.v, "spec", "replicas").(int)
			if !ok {
				replicas = 2 // the HPA's minReplicas, checked in checkHPA
			}
			if minA, ok := get(p.v, "spec", "minAvailable").(int); ok && minA >= replicas {
				t.Errorf("%s: minAvailable %d with %d replicas blocks node drains", p, minA, replicas)
			}
			if maxU, ok := get(p.v, "spec", "maxUnavailable").(int); ok && maxU < 1 {
				t.Errorf("%s: maxUnavailable %d blocks node drains", p, maxU)
			}
		}
		if n == 0 {
			t.Errorf("%s: selector %v matches no workload", p, sel)
		}
	}
	for _, w := range ws {
		if !covered[w] {
			t.Errorf("%s: no PodDisruptionBudget", w.doc)
		}
	}
}

// ---- compose ---------------------------------------------------------------------------------

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate resolves compose's ${VAR}, ${VAR:-default} and ${VAR:?error} the way an operator's
// shell would with every required variable set: defaults are used, required ones get a placeholder.
func interpolate(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		sub := interpolation.FindStringSubmatch(m)
		if strings.HasSuffix(sub[2], "-") {
			return sub[3]
		}
		return "placeholder" + strings.ToLower(sub[1])
	})
}

func readEnvFile(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) {
			t.Errorf("%s:%d: want NAME=value without spaces around =", p, n)
			continue
		}
		if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `'`) {
			t.Errorf("%s:%d: %s: leave values unquoted", p, n, k)
		}
		if _, dup := env[k]; dup {
			t.Errorf("%s:%d: %s is set twice", p, n, k)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// composeEnv is a service's environment: list or map form.
func composeEnv(t *testing.T, what string, v any) map[string]string {
	t.Helper()
	env := map[string]string{}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, val := range x {
			env[k] = fmt.Sprint(val)
		}
	case []any:
		for _, e := range x {
			k, val, _ := strings.Cut(fmt.Sprint(e), "=")
			env[k] = val
		}
	default:
		t.Errorf("%s: environment is a %T", what, v)
	}
	return env
}

// mountsOf returns a service's volume mounts: container path -> (source, read-only).
type mount struct {
	source   string
	readOnly bool
}

func mountsOf(t *testing.T, what string, svc map[string]any) map[string]mount {
	t.Helper()
	out := map[string]mount{}
	for _, v := range getList(svc, "volumes") {
		s, ok := v.(string)
		if !ok {
			t.Errorf("%s: use the short volume syntax SOURCE:TARGET[:ro]", what)
			continue
		}
		parts := strings.Split(s, ":")
		if len(parts) < 2 {
			t.Errorf("%s: volume %q has no target", what, s)
			continue
		}
		out[parts[1]] = mount{source: parts[0], readOnly: len(parts) > 2 && strings.Contains(parts[2], "ro")}
	}
	return out
}

func TestCompose(t *testing.T) {
	reg := loadRegistry(t)
	vars := variables()
	var c map[string]any
	for _, d := range loadYAML(t) {
		if d.file == composeFile {
			if c != nil {
				t.Fatalf("%s: more than one document", composeFile)
			}
			c = d.v
		}
	}
	services := getMap(c, "services")
	for _, want := range []string{"redis", "serve", "worker", "scheduler", "sandbox"} {
		if services[want] == nil {
			t.Errorf("%s: no service %q", composeFile, want)
		}
	}
	if t.Failed() {
		return
	}
	exampleEnv := readEnvFile(t, envExample)
	for _, k := range sortedKeys(exampleEnv) {
		checkVariable(t, vars, envExample, k)
	}
	for _, k := range []string{"API_TOKENS", "UI_PASSWORD", "CALLBACK_SECRET"} {
		if !strings.Contains(exampleEnv[k], placeholderMarker) {
			t.Errorf("%s: %s must be a %s placeholder", envExample, k, placeholderMarker)
		}
	}

	// Redis: redis:7 with deploy/redis.conf, a password from the environment, not published.
	redis := getMap(services, "redis")
	if img := getString(redis, "image"); img != "redis:7" && !strings.HasPrefix(img, "redis:7.") && !strings.HasPrefix(img, "redis:7-") {
		t.Errorf("redis: image %q, want redis:7", img)
	}
	redisCmd := stringList(t, "redis command", get(redis, "command"))
	confMount := ""
	for target, m := range mountsOf(t, "redis", redis) {
		if filepath.Clean(m.source) == redisConf {
			confMount = target
			if !m.readOnly {
				t.Errorf("redis: mount %s read-only", redisConf)
			}
		}
	}
	if confMount == "" || len(redisCmd) < 2 || redisCmd[0] != "redis-server" || redisCmd[1] != confMount {
		t.Errorf("redis: command %v: want redis-server %s (./%s mounted there)", redisCmd, confMount, redisConf)
	}
	if i := slices.Index(redisCmd, "--requirepass"); i < 0 || i+1 >= len(redisCmd) || !interpolation.MatchString(redisCmd[i+1]) {
		t.Errorf("redis: command %v: want --requirepass ${REDIS_PASSWORD...} from the environment", redisCmd)
	}
	if get(redis, "ports") != nil {
		t.Error("redis: publishes a port; only the compose network should reach it")
	}
	if get(redis, "healthcheck", "test") == nil {
		t.Error("redis: no healthcheck")
	}

	// The masspayout services: one image and build, registered commands, variables only.
	var image, build string
	cfgs := map[string]*config.Config{}
	commandOf := map[string]string{}
	for _, name := range sortedKeys(services) {
		if name == "redis" {
			continue
		}
		svc := getMap(services, name)
		what := composeFile + " " + name
		img, b := getString(svc, "image"), fmt.Sprint(get(svc, "build"))
		if image == "" {
			image, build = img, b
		} else if img != image || b != build {
			t.Errorf("%s: image %q / build %s differ from the other services' %q / %s", what, img, b, image, build)
		}
		if df := getString(svc, "build", "dockerfile"); path.Join(getString(svc, "build", "context"), df) != "../deploy/Dockerfile" {
			t.Errorf("%s: build %s/%s, want context .. and dockerfile deploy/Dockerfile", what, getString(svc, "build", "context"), df)
		}
		if ep := get(svc, "entrypoint"); ep != nil {
			t.Errorf("%s: entrypoint %v: keep the image's (masspayout)", what, ep)
		}
		args := stringList(t, what+" command", get(svc, "command"))
		commandOf[name] = reg.checkCommandLine(t, what, args)

		if ef := stringList(t, what+" env_file", get(svc, "env_file")); !slices.Equal(ef, []string{strings.TrimSuffix(envExample, ".example")}) {
			t.Errorf("%s: env_file %v, want [%s] (a copy of %s)", what, ef, strings.TrimSuffix(envExample, ".example"), envExample)
		}
		env := map[string]string{}
		for k, v := range exampleEnv {
			env[k] = v
		}
		for k, v := range composeEnv(t, what, get(svc, "environment")) {
			checkVariable(t, vars, what+" environment", k)
			env[k] = interpolate(v)
		}
		cfgs[name] = loadConfig(t, what, env)

		if get(svc, "read_only") != true {
			t.Errorf("%s: read_only: true (the image needs only its volumes and /tmp)", what)
		}
		if !slices.Contains(stringList(t, what+" tmpfs", get(svc, "tmpfs")), "/tmp") {
			t.Errorf("%s: no tmpfs on /tmp", what)
		}
		if !slices.Contains(stringList(t, what+" cap_drop", get(svc, "cap_drop")), "ALL") {
			t.Errorf("%s: cap_drop must contain ALL", what)
		}
		if get(svc, "user") != nil {
			t.Errorf("%s: user %v: the image's non-root USER applies", what, get(svc, "user"))
		}
	}
	for name, cmd := range commandOf {
		if name != cmd {
			t.Errorf("%s: service %s runs masspayout %s: name each service for its command", composeFile, name, cmd)
		}
	}
	if t.Failed() {
		return
	}

	// The sandbox listens on all interfaces, and the others' IYZICO_BASE_URL points at it.
	sandboxArgs := stringList(t, "sandbox command", get(services, "sandbox", "command"))
	addr := ""
	for i, a := range sandboxArgs {
		if (a == "--addr" || a == "-addr") && i+1 < len(sandboxArgs) {
			addr = sandboxArgs[i+1]
		} else if v, ok := strings.CutPrefix(a, "--addr="); ok {
			addr = v
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "0.0.0.0" {
		t.Fatalf("sandbox: --addr %q, want 0.0.0.0:PORT", addr)
	}
	for _, name := range []string{"serve", "worker", "scheduler"} {
		if got, want := cfgs[name].IyzicoBaseURL, "http://sandbox:"+port; got != want {
			t.Errorf("%s: IYZICO_BASE_URL %q, want %q (the sandbox service)", name, got, want)
		}
		if cfgs[name].EmbeddedRedis() {
			t.Errorf("%s: REDIS_URL unset: it would use an embedded Redis", name)
		} else if u, err := url.Parse(cfgs[name].RedisURL.Reveal()); err != nil || u.Hostname() != "redis" {
			t.Errorf("%s: REDIS_URL does not point at the redis service", name)
		} else if _, ok := u.User.Password(); !ok {
			t.Errorf("%s: REDIS_URL has no password; redis runs with --requirepass", name)
		}
	}

	// Healthchecks: serve on /readyz (or /healthz) at HTTP_ADDR's port, the worker on its
	// METRICS_ADDR listener, the sandbox on its own port; all with the image's healthcheck binary.
	wantHealth := map[string]struct {
		port  int
		paths []string
	}{
		"serve":   {portOf(t, "serve HTTP_ADDR", cfgs["serve"].HTTPAddr), []string{"/readyz", "/healthz"}},
		"worker":  {portOf(t, "worker METRICS_ADDR", cfgs["worker"].MetricsAddr), []string{"/metrics"}},
		"sandbox": {portOf(t, "sandbox --addr", addr), []string{"/sandbox/stats"}},
	}
	for name, want := range wantHealth {
		test := stringList(t, name+" healthcheck", get(services, name, "healthcheck", "test"))
		if len(test) != 3 || test[0] != "CMD" || test[1] != healthBinary {
			t.Errorf("%s: healthcheck %v, want [CMD %s URL]", name, test, healthBinary)
			continue
		}
		u, err := url.Parse(test[2])
		if err != nil || u.Hostname() != "127.0.0.1" || u.Port() != strconv.Itoa(want.port) || !slices.Contains(want.paths, u.Path) {
			t.Errorf("%s: healthcheck URL %q, want http://127.0.0.1:%d%s", name, test[2], want.port, want.paths[0])
		}
	}
	httpPort := portOf(t, "HTTP_ADDR", cfgs["serve"].HTTPAddr)
	published := false
	for _, p := range stringList(t, "serve ports", get(services, "serve", "ports")) {
		published = published || strings.HasSuffix(p, ":"+strconv.Itoa(httpPort))
	}
	if !published {
		t.Errorf("serve: HTTP_ADDR port %d is not published", httpPort)
	}

	// Workers: at least two, and a stop grace period above the asynq shutdown timeout.
	worker := getMap(services, "worker")
	if r, _ := get(worker, "deploy", "replicas").(int); r < 2 {
		t.Errorf("worker: deploy.replicas %d, want 2 or more", r)
	}
	grace, err := time.ParseDuration(getString(worker, "stop_grace_period"))
	if shutdown := workerShutdown(cfgs["worker"]); err != nil || grace <= shutdown {
		t.Errorf("worker: stop_grace_period %q must exceed 4×IYZICO_TIMEOUT+5s = %s (compose's default is 10s)", getString(worker, "stop_grace_period"), shutdown)
	}

	// Volumes: reports on a named volume at RESULTS_DIR; the scheduler's file and inbox.
	topVolumes := getMap(c, "volumes")
	for _, name := range []string{"serve", "worker"} {
		m, ok := mountsOf(t, name, getMap(services, name))[cfgs[name].ResultsDir]
		if _, named := topVolumes[m.source]; !ok || !named || m.readOnly {
			t.Errorf("%s: RESULTS_DIR %s is not a writable named volume", name, cfgs[name].ResultsDir)
		}
	}
	schedMounts := mountsOf(t, "scheduler", getMap(services, "scheduler"))
	sm, ok := schedMounts[cfgs["scheduler"].ScheduleFile]
	if !ok {
		t.Fatalf("scheduler: nothing mounted at SCHEDULE_FILE %s", cfgs["scheduler"].ScheduleFile)
	}
	f, err := schedule.Load(sm.source)
	if err != nil {
		t.Fatalf("scheduler: %s: %v", sm.source, err)
	}
	var writable []string
	for target, m := range schedMounts {
		if !m.readOnly {
			writable = append(writable, target)
		}
	}
	checkSources(t, "scheduler", f, writable)
}

// ---- redis.conf ------------------------------------------------------------------------------

func TestRedisConf(t *testing.T) {
	data, err := os.ReadFile(redisConf)
	if err != nil {
		t.Fatal(err)
	}
	directives := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		directives[strings.ToLower(f[0])] = append(directives[strings.ToLower(f[0])], strings.Join(f[1:], " "))
	}
	for k, want := range map[string]string{
		"appendonly":       "yes",
		"appendfsync":      "everysec",
		"maxmemory-policy": "noeviction",
		"protected-mode":   "yes",
	} {
		if got := directives[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s %v, want %s", redisConf, k, got, want)
		}
	}
	if _, ok := directives["requirepass"]; ok {
		t.Errorf("%s: requirepass is set in the file; pass it from the environment instead", redisConf)
	}
	for _, l := range directives["user"] {
		if strings.Contains(l, "nopass") {
			t.Errorf("%s: user %s: nopass", redisConf, l)
		}
	}
}

// No setting under deploy/ turns Redis authentication off (comments and docs may talk about it).
func TestNoPasswordlessRedis(t *testing.T) {
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "#") {
				continue
			}
			if strings.Contains(line, "nopass") || regexp.MustCompile(`protected-mode\W+no\b`).MatchString(line) {
				t.Errorf("%s:%d: %s: Redis without a password", p, i+1, line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ---- Dockerfile ------------------------------------------------------------------------------

type instruction struct {
	line int
	cmd  string // upper case
	args string
}

// parseDockerfile splits the Dockerfile into instructions (continuations joined, comments and
// parser directives dropped) and stages (at each FROM).
func parseDockerfile(t *testing.T) [][]instruction {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		cur.Reset()
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		} else if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before FROM", dockerfile, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a multi-stage build", dockerfile, len(stages))
	}
	return stages
}

// execForm parses a JSON-array (exec form) argument list.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var v []any
	if err := yaml.Unmarshal([]byte(in.args), &v); err != nil || !strings.HasPrefix(in.args, "[") {
		t.Errorf("%s:%d: %s %s: use the exec (JSON array) form", dockerfile, in.line, in.cmd, in.args)
		return nil
	}
	return stringList(t, in.cmd, v)
}

func TestDockerfile(t *testing.T) {
	reg := loadRegistry(t)
	vars := variables()
	stages := parseDockerfile(t)
	build, final := stages[0], stages[len(stages)-1]
	// from is a stage's base image: FROM [--platform=...] IMAGE [AS NAME].
	from := func(st []instruction) string {
		f := slices.DeleteFunc(strings.Fields(st[0].args), func(s string) bool { return strings.HasPrefix(s, "--") })
		if len(f) == 3 && strings.EqualFold(f[1], "AS") {
			return f[0]
		}
		if len(f) != 1 {
			t.Fatalf("%s:%d: FROM %s", dockerfile, st[0].line, st[0].args)
		}
		return f[0]
	}

	// Build stage: golang:1.26 (not older than go.mod), static, trimmed, version stamped.
	buildImage := from(build)
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(goMod))
	if m == nil {
		t.Fatal("go.mod: no go directive")
	}
	if want := "golang:" + m[1] + "." + m[2]; buildImage != want && !strings.HasPrefix(buildImage, want+"-") && !strings.HasPrefix(buildImage, want+".") {
		t.Errorf("%s: build stage FROM %s, want %s (go.mod says go %s.%s)", dockerfile, buildImage, want, m[1], m[2])
	}
	var buildRun string
	hasVersionArg := false
	for _, in := range build {
		switch in.cmd {
		case "RUN":
			if strings.Contains(in.args, "./cmd/masspayout") {
				buildRun = in.args
			}
		case "ARG":
			hasVersionArg = hasVersionArg || strings.HasPrefix(in.args, "VERSION")
		}
	}
	if buildRun == "" {
		t.Fatalf("%s: the build stage does not build ./cmd/masspayout", dockerfile)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X main.version=$VERSION"} {
		if !strings.Contains(buildRun, want) {
			t.Errorf("%s: the build of ./cmd/masspayout lacks %q", dockerfile, want)
		}
	}
	if !hasVersionArg {
		t.Errorf("%s: no ARG VERSION in the build stage", dockerfile)
	}
	checkVersionVar(t, reg)
	if !strings.Contains(buildRun, "./deploy/healthcheck") {
		t.Errorf("%s: the build stage does not build ./deploy/healthcheck (the compose healthchecks run it)", dockerfile)
	}

	// Runtime stage: static base with CA certificates and zoneinfo, non-root, volume, ports.
	base := from(final)
	copies := ""
	env := map[string]string{}
	var user, entrypoint, cmd []string
	var volumes, exposed []string
	for _, in := range final {
		switch in.cmd {
		case "COPY":
			copies += in.args + "\n"
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Errorf("%s:%d: ENV %s: use NAME=value", dockerfile, in.line, in.args)
				}
				checkVariable(t, vars, dockerfile+" ENV", k)
				env[k] = v
			}
		case "USER":
			user = strings.Fields(in.args)
		case "ENTRYPOINT":
			entrypoint = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		case "VOLUME":
			volumes = append(volumes, execForm(t, in)...)
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		}
	}
	switch {
	case strings.HasPrefix(base, "gcr.io/distroless/static"):
		// ships ca-certificates, /usr/share/zoneinfo and the nonroot user
	case base == "scratch":
		for _, want := range []string{"/usr/share/zoneinfo", "ca-certificates"} {
			if !strings.Contains(copies, want) {
				t.Errorf("%s: FROM scratch without %s", dockerfile, want)
			}
		}
	default:
		t.Errorf("%s: runtime stage FROM %s, want gcr.io/distroless/static* or scratch", dockerfile, base)
	}
	if len(user) != 1 {
		t.Errorf("%s: the runtime stage sets no USER", dockerfile)
	} else if u, _, _ := strings.Cut(user[0], ":"); u == "0" || u == "root" {
		t.Errorf("%s: USER %s is root", dockerfile, user[0])
	} else if _, err := strconv.Atoi(u); err != nil {
		t.Errorf("%s: USER %s: use a numeric UID so runAsNonRoot can verify it", dockerfile, user[0])
	}
	for _, bin := range []string{imageBinary, healthBinary} {
		if !strings.Contains(copies, " "+bin+"\n") {
			t.Errorf("%s: the runtime stage does not COPY %s", dockerfile, bin)
		}
	}
	if !slices.Equal(entrypoint, []string{imageBinary}) {
		t.Errorf("%s: ENTRYPOINT %v, want [%s]", dockerfile, entrypoint, imageBinary)
	}
	reg.checkCommandLine(t, dockerfile+" CMD", cmd)
	cfg := loadConfig(t, dockerfile+" ENV", env)
	if !slices.Contains(volumes, cfg.ResultsDir) || !filepath.IsAbs(cfg.ResultsDir) {
		t.Errorf("%s: VOLUME %v does not hold RESULTS_DIR %s", dockerfile, volumes, cfg.ResultsDir)
	}
	for _, addr := range []string{cfg.HTTPAddr, cfg.MetricsAddr} {
		host, p, _ := net.SplitHostPort(addr)
		if host != "0.0.0.0" {
			t.Errorf("%s: %s listens on %s only: unreachable from outside the container", dockerfile, addr, host)
		}
		if !slices.Contains(exposed, p) {
			t.Errorf("%s: EXPOSE %v lacks %s (from %s)", dockerfile, exposed, p, addr)
		}
	}
	for _, want := range []string{"8080", "9090"} {
		if !slices.Contains(exposed, want) {
			t.Errorf("%s: EXPOSE %v lacks %s", dockerfile, exposed, want)
		}
	}
}

// checkVersionVar: -X main.version only works while cmd/masspayout has a package-level string
// variable named version (the linker ignores unknown names silently).
func checkVersionVar(t *testing.T, reg *registry) {
	t.Helper()
	for _, f := range reg.files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != "version" {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return
					}
					if len(vs.Values) > i {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return
						}
					}
				}
			}
		}
	}
	t.Errorf("%s: no package-level `var version = \"...\"`: -X main.version would stamp nothing", cmdDir)
}

// ---- README: the documented REDIS_URL forms are what asynq and config accept -------------------

func TestReadmeRedisURLs(t *testing.T) {
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	cases := []struct {
		uri   string
		check func(asynq.RedisConnOpt) error
	}{
		{"redis://:PASSWORD@redis:6379/0", func(o asynq.RedisConnOpt) error {
			c, ok := o.(asynq.RedisClientOpt)
			if !ok || c.Addr != "redis:6379" || c.Password != "PASSWORD" || c.DB != 0 || c.TLSConfig != nil {
				return fmt.Errorf("got %#v", o)
			}
			return nil
		}},
		{"rediss://:PASSWORD@redis.example.com:6380/2", func(o asynq.RedisConnOpt) error {
			c, ok := o.(asynq.RedisClientOpt)
			if !ok || c.Addr != "redis.example.com:6380" || c.DB != 2 || c.TLSConfig == nil || c.TLSConfig.ServerName != "redis.example.com" {
				return fmt.Errorf("got %#v", o)
			}
			return nil
		}},
		// The user name is dropped: the connection authenticates as Redis' default user.
		{"redis://masspayout:PASSWORD@redis:6379/0", func(o asynq.RedisConnOpt) error {
			c, ok := o.(asynq.RedisClientOpt)
			if !ok || c.Username != "" || c.Password != "PASSWORD" {
				return fmt.Errorf("got %#v", o)
			}
			return nil
		}},
		{"redis-sentinel://:SENTINEL_PASSWORD@sentinel-0:26379,sentinel-1:26379,sentinel-2:26379?master=mymaster", func(o asynq.RedisConnOpt) error {
			c, ok := o.(asynq.RedisFailoverClientOpt)
			if !ok || c.MasterName != "mymaster" || !slices.Equal(c.SentinelAddrs, []string{"sentinel-0:26379", "sentinel-1:26379", "sentinel-2:26379"}) ||
				c.SentinelPassword != "SENTINEL_PASSWORD" || c.Password != "" || c.DB != 0 || c.TLSConfig != nil {
				return fmt.Errorf("got %#v", o)
			}
			return nil
		}},
		// Without a password: Sentinels that do not require one.
		{"redis-sentinel://sentinel-0:26379,sentinel-1:26379,sentinel-2:26379?master=mymaster", func(o asynq.RedisConnOpt) error {
			c, ok := o.(asynq.RedisFailoverClientOpt)
			if !ok || c.MasterName != "mymaster" || len(c.SentinelAddrs) != 3 || c.SentinelPassword != "" {
				return fmt.Errorf("got %#v", o)
			}
			return nil
		}},
	}
	for _, c := range cases {
		if !strings.Contains(text, c.uri) {
			t.Errorf("%s does not document %s", readme, c.uri)
		}
		o, err := asynq.ParseRedisURI(c.uri)
		if err != nil {
			t.Errorf("asynq.ParseRedisURI(%q): %v", c.uri, err)
			continue
		}
		if err := c.check(o); err != nil {
			t.Errorf("asynq.ParseRedisURI(%q) is not what %s says: %v", c.uri, readme, err)
		}
		if _, err := config.Load(func(k string) string {
			if k == "REDIS_URL" {
				return c.uri
			}
			return ""
		}); err != nil {
			t.Errorf("config.Load refuses REDIS_URL=%s: %v", c.uri, err)
		}
	}
}

// ---- Probe (the healthcheck binary) -----------------------------------------------------------

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			io.WriteString(w, "ok")
		case "/readyz":
			http.Error(w, "redis down", http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := RunProbe(ctx, []string{srv.URL + "/healthz"}); err != nil {
		t.Errorf("healthy endpoint: %v", err)
	}
	for _, p := range []string{"/readyz", "/moved", "/missing"} {
		if err := RunProbe(ctx, []string{srv.URL + p}); err == nil {
			t.Errorf("%s: want an error", p)
		}
	}
	start := time.Now()
	if err := RunProbe(ctx, []string{srv.URL + "/slow", "100ms"}); err == nil {
		t.Error("/slow: want a timeout")
	} else if time.Since(start) > 3*time.Second {
		t.Errorf("/slow: the timeout was not applied (%s)", time.Since(start))
	}
	for _, args := range [][]string{nil, {"a", "b", "c"}, {srv.URL, "soon"}, {srv.URL, "-1s"}} {
		if err := RunProbe(ctx, args); !errors.Is(err, ErrProbeUsage) {
			t.Errorf("RunProbe(%q): %v, want ErrProbeUsage", args, err)
		}
	}
	for _, u := range []string{"127.0.0.1:8080/healthz", "ftp://127.0.0.1/", "http:///healthz"} {
		if err := Probe(ctx, u); err == nil {
			t.Errorf("Probe(%q): want an error", u)
		}
	}
	// A closed port fails quickly.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/healthz"
	l.Close()
	if err := Probe(ctx, closed); err == nil {
		t.Error("closed port: want an error")
	}
}

// workerShutdown is worker.ServerConfig's ShutdownTimeout for cfg: the longest step (the pipeline's
// StepDeadline, 4 × IYZICO_TIMEOUT) plus 5s.
func workerShutdown(cfg *config.Config) time.Duration {
	p := worker.Pipeline{CallTimeout: cfg.IyzicoTimeout}
	return p.StepDeadline() + 5*time.Second
}
