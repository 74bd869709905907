// Package schedule decides when scheduled payroll runs happen: a business-day
// calendar for Türkiye (weekends, fixed public holidays, Ramazan and Kurban
// Bayramı, half-day eves), the YAML schedule file read by `masspayout
// scheduler`, and the pure functions that turn both into run times and batch
// IDs.
//
// The calendar, the file and the run functions are pure: no clock is read, no
// file is touched except by Load, nothing is stored. Two types hold state:
// Scheduler, the loop that enqueues a schedule:run task for each run as it falls
// due (its clock is injected), and History, the run records kept in Redis.
//
// # Business days and business time
//
// A business day is a Monday to Friday that is not a public holiday. A
// half-day eve (arife: the day before Ramazan and Kurban Bayramı, and
// 28 October) is a business day until noon: local times before 12:00 are
// business time, 12:00 and later are not. A rule such as
// "last-business-day 14:00" therefore skips an arife and runs on the
// business day before it, while "last-business-day 10:00" runs on the arife.
//
// # Schedule file
//
// A YAML mapping (see Parse, and examples/schedule.yaml for a commented
// sample):
//
//	timezone: Europe/Istanbul        # default Europe/Istanbul
//	holidays: [2026-12-31]           # extra full-day holidays, YYYY-MM-DD
//	business_day_end: "18:00"        # default 18:00; see File.EndOfBusinessDay
//	schedules:
//	  - name: payroll                # required, [A-Za-z0-9._-]{1,64}, unique
//	    when: last-business-day 10:00
//	    source: /srv/inbox/payroll-*.csv
//	    purpose: SALARY
//	    chunk_size: 500
//	    decimal_comma: false
//	    callback_url: https://hr.example.com/hook
//	    batch_id: "{name}-{period}"  # {name}, {period} (YYYY-MM), {date} (YYYY-MM-DD)
//
// # When
//
//   - "last-business-day HH:MM": the last day of the month on which HH:MM is
//     business time. Same as "business-day -1 HH:MM".
//   - "business-day N HH:MM": the N-th such day of the month, N from 1 to 23,
//     or -1 to -23 counting from the end. Only days on which HH:MM is business
//     time count, so an arife counts for a 10:00 run and not for a 14:00 one.
//     A month with fewer such days has no run.
//   - "day N HH:MM": calendar day N (1 to 31) whatever the calendar says; a
//     day the month lacks is clamped to its last day, so "day 31" runs on
//     30 April and on 28 or 29 February. N from -1 to -31 counts from the
//     end: "day -1" is the last day of every month.
//   - a 5-field cron spec "MIN HOUR DOM MON DOW" with *, lists, ranges,
//     steps and month and weekday names; when both DOM and DOW are
//     restricted a day matches either (Vixie cron). Cron specs ignore the
//     calendar, and may run many times a month.
//
// The period a run pays for (Run.Period, YYYY-MM) is the month of the rule's
// day for the month-based rules, and the month of the run time for cron
// specs; two cron runs in one month share a period.
//
// # Time zones
//
// Every date is a civil date in the file's time zone (default
// Europe/Istanbul), and every run time is built with that *time.Location, so
// it prints with the zone's offset (+03:00 for Türkiye). No offset is
// hard-coded. Loading a zone needs the IANA time zone database on the host or
// the time/tzdata package linked into the binary.
package schedule
