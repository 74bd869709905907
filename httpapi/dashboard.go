package httpapi

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the dashboard's parsed templates, each with the layout.
type pages struct {
	list, batch, schedules, problem, approve *template.Template
	upload, repay                            *template.Template
	disp                                     display // how amounts and times are shown (UI_LOCALE)
}

var pageFuncs = template.FuncMap{
	"statusClass": statusClass,
	"paidClass":   paidClass,
	"paidLabel":   paidLabel,
}

// parsePages parses the pages; schedules says the scheduled runs page is there, for the links;
// disp formats amounts (money) and times (when).
func parsePages(schedules bool, disp display) *pages {
	parse := func(name string) *template.Template {
		return template.Must(template.New("layout.html").Funcs(pageFuncs).Funcs(navFuncs(schedules)).Funcs(disp.funcs()).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name))
	}
	return &pages{list: parse("list.html"), batch: parse("batch.html"), schedules: parse("schedules.html"), problem: parse("problem.html"), approve: parse("approve.html"),
		upload: parse("upload.html"), repay: parse("repay.html"), disp: disp}
}

// pageData is what every page template gets.
type pageData struct {
	Title   string
	User    Principal
	Refresh int // seconds between reloads; 0: none
	Body    any
}

// contentSecurityPolicy allows this origin only: no inline scripts or styles, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page, or a plain 500 when the template fails.
func render(w http.ResponseWriter, log zerolog.Logger, t *template.Template, status int, d pageData) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		log.Error().Err(err).Str("page", d.Title).Msg("dashboard page failed")
		http.Error(w, "500 internal error; the server log has the details", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderProblem shows an error as a page with its status.
func renderProblem(w http.ResponseWriter, r *http.Request, log zerolog.Logger, pg *pages, err error, back string) {
	ae := classify(err)
	if ae == nil {
		log.Error().Err(err).Str("path", r.URL.Path).Msg("dashboard request failed")
		ae = errorf(http.StatusInternalServerError, "INTERNAL", "internal error; the server log has the details, try again later")
	}
	render(w, log, pg.problem, ae.Status, pageData{
		Title: http.StatusText(ae.Status),
		User:  principalFrom(r.Context()),
		Body:  struct{ Status, Code, Message, Back string }{strconv.Itoa(ae.Status), ae.Code, ae.Message, back},
	})
}

// statusClass is the CSS class of a batch or row status: ok (paid), bad (not paid, or money
// not back), warn (needs a look: failed but refunded, unknown, awaiting approval), wait or off.
func statusClass(status string) string {
	switch status {
	case "SUCCESS", batch.StatusCompleted:
		return "ok"
	case batch.StatusFailed, "DEPOSIT_FAIL", batch.RowRejected, "INVALID", batch.RowError:
		return "bad"
	case "DEPOSIT_SUCCESS", batch.RowUnknown, batch.StatusCompletedWithErrors, batch.StatusAwaitingApproval, batch.StatusNeedsReconcile:
		return "warn"
	case "MASS_PAYOUT_CANCELED", batch.StatusCanceled, batch.StatusSubmitFailed:
		return "off"
	}
	return "wait"
}

// paidClass is the CSS class of a paid class: money still at the bank is never drawn as failed.
func paidClass(p string) string {
	switch p {
	case batch.PaidYes:
		return "ok"
	case batch.PaidNo:
		return "bad"
	case batch.PaidUnknown:
		return "warn"
	}
	return "wait"
}

// paidLabel names a paid class for people.
func paidLabel(p string) string {
	switch p {
	case batch.PaidYes:
		return "paid"
	case batch.PaidNo:
		return "not paid"
	case batch.PaidUnknown:
		return "unknown: do not pay again"
	}
	return "pending"
}

type statusLine struct {
	Status, Class string
	Rows          int
	Amounts       []currencyAmount
}

type currencyAmount struct{ Currency, Amount string }

type chart struct {
	Title  string
	Height int
	Bars   []chartBar
}

type chartBar struct {
	Label, Value, Class     string
	Y, TextY, Width, ValueX int
}

type batchBody struct {
	B                     batchResource
	Class                 string
	ChunkStates           string // chunks per state, "2 INIT, 1 UNKNOWN"
	Lines                 []statusLine
	Charts                []chart
	CanApprove, CanCancel bool
	CSRF                  string
	ReportURL             string
	// CanDiscard offers discard: the batch never reached iyzico and the user may (role approve).
	CanDiscard bool
	// CanRepay offers the repay file: some rows are not paid and the user may submit.
	CanRepay bool
	// Rows is the rows section (not paid rows with reasons, …) and the commission.
	Rows batchRows
}

// handleDashboardBatch is GET /batches/{id}: counts and amounts per status and currency with bar
// charts, the commission, the rows of one paid class (not paid by default, with reasons; see
// batchRows), the audit list, the report link and, for users allowed to, approve, cancel and
// discard. It reloads itself while the batch moves by itself, not while it awaits approval.
func handleDashboardBatch(log zerolog.Logger, store *batch.Store, pg *pages, c *csrf, refresh time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		b, err := store.Get(r.Context(), id)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		audit, err := store.AuditLog(r.Context(), id)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		p := principalFrom(r.Context())
		awaiting := b.Status == batch.StatusAwaitingApproval && !b.CancelRequested
		body := batchBody{
			B:           newBatchResource(b, audit),
			Class:       statusClass(b.Status),
			ChunkStates: batch.DescribeChunkStates(b.Chunks),
			Lines:       pg.disp.statusLines(b),
			Charts:      pg.disp.charts(b),
			CanApprove:  awaiting && p.Role.Allows(RoleApprove),
			CanCancel:   awaiting && p.Role.Allows(RoleApprove),
			CSRF:        c.token(p.Name),
			ReportURL:   "/batches/" + b.ID + "/report.csv",
			CanDiscard:  discardable(b) && p.Role.Allows(RoleApprove),
			CanRepay:    b.SubmitDone && hasNotPaid(b) && p.Role.Allows(RoleSubmit),
		}
		if body.Rows, err = pg.disp.batchRows(r.Context(), store, b, r.URL.Query()); err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		d := pageData{Title: "Batch " + b.ID, User: p, Body: body}
		if movesByItself(b) && !body.Rows.Reading {
			d.Refresh = seconds(refresh)
		}
		render(w, log, pg.batch, http.StatusOK, d)
	})
}

// handleDashboardAction is a dashboard form post (approve or cancel): do runs the action; then the
// browser goes back to the batch page (303), or sees the error with its status.
func handleDashboardAction(log zerolog.Logger, pg *pages, do func(*http.Request) (batchResource, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := do(r)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/batches/"+r.PathValue("id"))
			return
		}
		log.Info().Str("batch", res.ID).Str("who", principalFrom(r.Context()).Name).Str("path", r.URL.Path).Msg("dashboard action")
		http.Redirect(w, r, "/batches/"+res.ID, http.StatusSeeOther)
	})
}

// cancelForm adapts the API's cancel to handleDashboardAction.
func cancelForm(store *batch.Store, q batch.Enqueuer, topts tasks.Options) func(*http.Request) (batchResource, error) {
	return func(r *http.Request) (batchResource, error) { return cancel(r, store, q, topts) }
}

func seconds(d time.Duration) int {
	if d <= 0 {
		d = 5 * time.Second
	}
	return max(int(d/time.Second), 1)
}

func (d display) statusLines(b *batch.Batch) []statusLine {
	var out []statusLine
	for _, st := range batch.StatusesOf(b.Counts) {
		l := statusLine{Status: st, Class: statusClass(st), Rows: b.Counts[st]}
		for _, cur := range sortedKeys(b.Amounts[st]) {
			l.Amounts = append(l.Amounts, currencyAmount{cur, d.amount(b.Amounts[st][cur], cur)})
		}
		out = append(out, l)
	}
	return out
}

// Chart geometry, in SVG user units.
const (
	barHeight = 18
	barGap    = 8
	barMaxW   = 360
)

// charts draws rows per status, then one chart of amounts per status for each currency. Bar
// widths come from exact decimal ratios.
func (d display) charts(b *batch.Batch) []chart {
	statuses := batch.StatusesOf(b.Counts)
	rows := chart{Title: "Rows per status"}
	maxRows := 0
	for _, st := range statuses {
		maxRows = max(maxRows, b.Counts[st])
	}
	for _, st := range statuses {
		rows.add(st, strconv.Itoa(b.Counts[st]), scale(decimal.NewFromInt(int64(b.Counts[st])), decimal.NewFromInt(int64(maxRows))))
	}
	out := []chart{rows}
	byCur := map[string]map[string]decimal.Decimal{}
	for st, m := range b.Amounts {
		for cur, a := range m {
			if byCur[cur] == nil {
				byCur[cur] = map[string]decimal.Decimal{}
			}
			byCur[cur][st] = a
		}
	}
	for _, cur := range sortedKeys(byCur) {
		c := chart{Title: "Amount per status, " + cur}
		top := decimal.Zero
		for _, a := range byCur[cur] {
			if a.GreaterThan(top) {
				top = a
			}
		}
		for _, st := range statuses {
			if a, ok := byCur[cur][st]; ok {
				c.add(st, d.amount(a, cur), scale(a, top))
			}
		}
		out = append(out, c)
	}
	return out
}

func (c *chart) add(status, value string, width int) {
	y := len(c.Bars) * (barHeight + barGap)
	c.Bars = append(c.Bars, chartBar{Label: status, Value: value, Class: statusClass(status), Y: y, TextY: y + barHeight - 5, Width: width, ValueX: 190 + width + 8})
	c.Height = y + barHeight
}

// scale is v's bar width when top fills barMaxW; a non-zero v gets at least 1.
func scale(v, top decimal.Decimal) int {
	if !top.IsPositive() || !v.IsPositive() {
		return 0
	}
	return max(int(v.Mul(decimal.NewFromInt(barMaxW)).Div(top).IntPart()), 1)
}

// handleStatic serves the dashboard's embedded assets under /static/.
func handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsh := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsh.ServeHTTP(w, r)
	})
}
