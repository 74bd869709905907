package httpapi

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/masspayout/masspayout/schedule"
	"github.com/rs/zerolog"
)

// ScheduleRuns is where the dashboard reads what scheduled runs did, newest first;
// *schedule.History is one. The dashboard only reads it.
type ScheduleRuns interface {
	Recent(ctx context.Context, name string, n int) ([]schedule.Record, error)
}

// scheduleRunsShown is how many of each schedule's last runs the page shows.
const scheduleRunsShown = 10

type schedulesBody struct {
	Timezone  string
	Schedules []scheduleView
}

type scheduleView struct {
	Name, When, Source string
	// Next is the next run, its period and the batch ID it will submit under; empty when the
	// rule fires no more.
	Next, NextPeriod, NextBatch string
	Runs                        []runView
}

type runView struct {
	At, Due, Period, Outcome, Class, Trigger, Message string
	Batches                                           []batchLink
}

type batchLink struct{ ID, URL string }

// handleDashboardSchedules is GET /schedules: every schedule of the schedule file with its next
// run and its last recorded runs, the runs' batches linked to their pages. Times are in the file's
// time zone. It only reads.
func handleDashboardSchedules(log zerolog.Logger, f *schedule.File, runs ScheduleRuns, pg *pages) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := scheduleViews(r.Context(), f, runs, time.Now())
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		render(w, log, pg.schedules, http.StatusOK, pageData{Title: "Scheduled runs", User: principalFrom(r.Context()), Body: body})
	})
}

func scheduleViews(ctx context.Context, f *schedule.File, runs ScheduleRuns, now time.Time) (schedulesBody, error) {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.In(f.Location).Format("2006-01-02 15:04 -07:00")
	}
	body := schedulesBody{Timezone: f.Timezone}
	for _, s := range f.Schedules {
		v := scheduleView{Name: s.Name, When: s.When, Source: s.Source}
		if next := s.Next(now, 1); len(next) == 1 {
			v.Next, v.NextPeriod, v.NextBatch = at(next[0].At), next[0].Period, s.BatchID(next[0])
		}
		recs, err := runs.Recent(ctx, s.Name, scheduleRunsShown)
		if err != nil {
			return body, err
		}
		for _, rec := range recs {
			rv := runView{
				At: at(rec.At), Due: at(rec.Due), Period: rec.Period, Outcome: string(rec.Outcome),
				Class: outcomeClass(rec), Trigger: rec.Trigger, Message: rec.Message,
			}
			if rec.Retrying {
				rv.Outcome += " (retrying)"
			}
			for _, id := range rec.Batches {
				rv.Batches = append(rv.Batches, batchLink{ID: id, URL: "/batches/" + url.PathEscape(id)})
			}
			v.Runs = append(v.Runs, rv)
		}
		body.Schedules = append(body.Schedules, v)
	}
	return body, nil
}

// outcomeClass is the CSS class of a run's outcome, as statusClass is a batch's.
func outcomeClass(r schedule.Record) string {
	switch {
	case r.Retrying:
		return "warn"
	case r.Outcome == schedule.OutcomeSubmitted:
		return "ok"
	case r.Outcome == schedule.OutcomeAlreadySubmitted:
		return "off"
	case r.Outcome == schedule.OutcomeMissed, r.Outcome == schedule.OutcomeFailed:
		return "bad"
	}
	return "wait"
}

// navFuncs are the layout's navigation switches.
func navFuncs(schedules bool) template.FuncMap {
	return template.FuncMap{"hasSchedules": func() bool { return schedules }}
}
